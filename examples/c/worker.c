/*
 * A Starfleet-style worker in C: locate the Starfleet secret the way every front door does
 * (STARFLEET_SECRET_ID / STARFLEET_SECRET_REGION, else the Starfleet configuration named by
 * STARFLEET_CONFIG), read STARFLEET.SlackToken (or the key path given as the first argument)
 * and confirm it without printing it.
 *
 *   cc -std=c11 examples/c/worker.c $(pkg-config --cflags --libs starfleet_secrets) -o worker
 *
 * `worker --version` prints the header and library versions and exits.
 * Exit status: 0 on success, 1 with "c worker: CODE: message" on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "starfleet_secrets.h"

static int fail(void) {
    char message[1024];
    starfleet_secrets_last_error_message(message, sizeof message, NULL);
    fprintf(stderr, "c worker: %s\n", message);
    return 1;
}

/* A number from the stats JSON, e.g. "fetches" (a JSON parser is overkill here). */
static long stat_number(const char *stats, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(stats, pattern);
    long n = -1;
    if (at) {
        sscanf(at + strlen(pattern), "%ld", &n);
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("c worker: header %s, library %s (ABI %u)\n", STARFLEET_SECRETS_VERSION_STRING,
               starfleet_secrets_version(), (unsigned)starfleet_secrets_abi_version());
        return starfleet_secrets_abi_version() == STARFLEET_SECRETS_ABI_VERSION ? 0 : 1;
    }
    const char *path = argc > 1 ? argv[1] : "STARFLEET.SlackToken";

    starfleet_secrets_manager *secrets = NULL;
    if (starfleet_secrets_manager_new_default(&secrets) != STARFLEET_SECRETS_RESULT_OK) {
        return fail();
    }
    char *token = NULL;
    size_t token_len = 0;
    if (starfleet_secrets_manager_get_string(secrets, path, &token, &token_len) !=
        STARFLEET_SECRETS_RESULT_OK) {
        int status = fail();
        starfleet_secrets_manager_free(secrets);
        return status;
    }
    /* Use the token here (e.g. an Authorization header); never print it. */
    starfleet_secrets_string_free(token); /* zeroized, then freed */

    char *stats = NULL;
    long fetches = -1;
    char version[128] = "?";
    if (starfleet_secrets_manager_stats_json(secrets, &stats, NULL) == STARFLEET_SECRETS_RESULT_OK) {
        fetches = stat_number(stats, "fetches");
        const char *at = strstr(stats, "\"version_id\":\"");
        if (at) {
            sscanf(at + strlen("\"version_id\":\""), "%127[^\"]", version);
        }
        starfleet_secrets_string_free(stats);
    }
    printf("c worker: read %s (%zu bytes, value redacted; version %s, %ld fetch)\n", path, token_len,
           version, fetches);
    starfleet_secrets_manager_free(secrets);
    return 0;
}
