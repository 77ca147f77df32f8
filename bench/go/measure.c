/*
 * Cold-start sampler for bench/go: runs each program RUNS times, interleaved, and prints
 * one line per run: "NAME<TAB>wall_ms<TAB>peak_rss_kib<TAB>user_cpu_ms<TAB>system_cpu_ms".
 *
 *     measure RUNS NAME=PROGRAM[ VAR=VALUE...] [NAME=PROGRAM ...]
 *
 * A spec may add environment assignments after the program, separated by spaces, set in the
 * child just before exec (e.g. the endpoint, so one run interleaves HTTPS and HTTP).
 *
 * Wall time is fork() to wait4() on CLOCK_MONOTONIC; peak RSS is the child's ru_maxrss
 * from wait4(), as are the child's user and system CPU times. A small C launcher matters for the RSS: Linux carries the pre-exec
 * high-water mark of the forked child into ru_maxrss, so a large launcher (a Python
 * interpreter) would put a floor of its own size under every measurement. This one's floor
 * is about 1 MiB (see the /bin/true row of the results). One unmeasured warm-up run per
 * program first.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double tv_ms(struct timeval tv) {
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/* Run "PROGRAM[ VAR=VALUE...]" once. */
static int run(const char *spec, double *wall_ms, long *rss_kib, double *user_ms, double *sys_ms) {
    double started = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        char *copy = strdup(spec);
        char *program = strtok(copy, " ");
        for (char *assignment = strtok(NULL, " "); assignment; assignment = strtok(NULL, " ")) {
            putenv(assignment);
        }
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(program, program, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) {
        return -1;
    }
    *wall_ms = now_ms() - started;
    *rss_kib = usage.ru_maxrss;
    *user_ms = tv_ms(usage.ru_utime);
    *sys_ms = tv_ms(usage.ru_stime);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s RUNS NAME=PROGRAM...\n", argv[0]);
        return 2;
    }
    int runs = atoi(argv[1]);
    int n = argc - 2;
    double wall, user, sys;
    long rss;
    for (int i = 0; i < n; i++) {
        const char *program = strchr(argv[2 + i], '=') + 1;
        if (run(program, &wall, &rss, &user, &sys) != 0) {
            fprintf(stderr, "%s failed\n", program);
            return 1;
        }
    }
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < n; i++) {
            char *spec = argv[2 + i];
            char *eq = strchr(spec, '=');
            if (run(eq + 1, &wall, &rss, &user, &sys) != 0) {
                fprintf(stderr, "%s failed\n", eq + 1);
                return 1;
            }
            printf("%.*s\t%.3f\t%ld\t%.3f\t%.3f\n", (int)(eq - spec), spec, wall, rss, user, sys);
        }
    }
    return 0;
}
