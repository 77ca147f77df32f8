/*
 * How much stack a warm read takes, on the release library (scripts/test-dist runs it against
 * the unpacked C SDK): a hit must not carry a fetch's frame.
 *
 * Why: the future of an SDK call is tens of KB and sits in the frame of whichever function
 * builds it. At the release profile's opt-level "z" the compiler inlined the code that builds
 * one (the blocking access's miss, the refresh-ahead spawn) into the hit, so every warm read
 * set up that frame, and probed it page by page (bench/overhead/RESULTS.md, "Fifth round").
 * Debug builds inline nothing, so only a release build can show it.
 *
 * The reads run on a thread whose stack (1 MiB) is filled with a pattern first; the bytes the
 * pattern no longer holds afterwards are the most the reads used (plus the thread's own start,
 * and its TLS, which glibc puts at the top of a given stack). The bound is PTHREAD_STACK_MIN
 * (16 KiB), the smallest stack a thread can be given. Measured: 6-8 KB with the fix, 20.5 KB
 * without it.
 *
 * Usage: warm_read_stack FILE   (FILE: the Starfleet secret as JSON, read through `file:`)
 * Prints the bytes used per getter; exits 1 if a read fails or one uses more than the bound.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_attr_setstack under -std=c11 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starfleet_secrets.h>

#define STACK_BYTES (1u << 20)
#define BOUND 16384u
#define PATTERN 0xA5
#define READS 100

static struct starfleet_secrets_manager *manager;

/* READS warm reads through the dotted-path getter (`arg` NULL, 0) or the key-array one (1). */
static void *reads(void *arg) {
    static const char *const keys[] = {"STARFLEET", "SlackToken"};
    for (int i = 0; i < READS; i++) {
        char *value = NULL;
        starfleet_secrets_result r =
            arg == NULL ? starfleet_secrets_manager_get_string(manager, "STARFLEET.SlackToken", &value, NULL)
                        : starfleet_secrets_manager_get_string_path(manager, keys, 2, &value, NULL);
        starfleet_secrets_string_free(value);
        if (r != STARFLEET_SECRETS_RESULT_OK) {
            return (void *)(uintptr_t)1;
        }
    }
    return NULL;
}

/* The stack the reads used on a fresh thread, or 0 if they failed. */
static size_t stack_used(int by_keys) {
    unsigned char *stack = aligned_alloc(4096, STACK_BYTES);
    if (stack == NULL) {
        return 0;
    }
    memset(stack, PATTERN, STACK_BYTES);
    pthread_attr_t attr;
    pthread_t thread;
    void *failed = (void *)(uintptr_t)1;
    if (pthread_attr_init(&attr) == 0 && pthread_attr_setstack(&attr, stack, STACK_BYTES) == 0 &&
        pthread_create(&thread, &attr, reads, (void *)(uintptr_t)by_keys) == 0) {
        pthread_join(thread, &failed);
    }
    size_t untouched = 0;
    while (untouched < STACK_BYTES && stack[untouched] == PATTERN) {
        untouched++;
    }
    free(stack);
    return failed == NULL ? STACK_BYTES - untouched : 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    char source[4096];
    snprintf(source, sizeof source, "file:%s", argv[1]);
    struct starfleet_secrets_options *options = NULL;
    char *value = NULL;
    if (starfleet_secrets_options_new(&options) != STARFLEET_SECRETS_RESULT_OK ||
        starfleet_secrets_options_set_source(options, source) != STARFLEET_SECRETS_RESULT_OK ||
        starfleet_secrets_manager_new(options, &manager) != STARFLEET_SECRETS_RESULT_OK ||
        starfleet_secrets_manager_get_string(manager, "STARFLEET.SlackToken", &value, NULL) != STARFLEET_SECRETS_RESULT_OK) {
        fprintf(stderr, "warm_read_stack: the first read failed\n");
        return 1;
    }
    starfleet_secrets_string_free(value);
    starfleet_secrets_options_free(options);
    int status = 0;
    const char *const getters[] = {"get_string", "get_string_path"};
    for (int by_keys = 0; by_keys < 2; by_keys++) {
        size_t used = stack_used(by_keys);
        printf("%s: %zu bytes of stack for a warm read (bound %u)\n", getters[by_keys], used, BOUND);
        if (used == 0 || used > BOUND) {
            status = 1;
        }
    }
    starfleet_secrets_manager_free(manager);
    return status;
}
