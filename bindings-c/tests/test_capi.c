/*
 * C tests of libstarfleet_secrets against the harness (moto behind the fault proxy).
 *
 * Built only from the C SDK (header and shared library, through pkg-config); run by
 * scripts/test-c-go under valgrind inside scripts/with-harness, against the development SDK
 * it lays out in target/<triple>/debug/c-sdk:
 *
 *     cc -std=c11 -Wall -Wextra -Werror -pedantic bindings-c/tests/test_capi.c bindings-c/tests/harness_client.c \
 *        $(pkg-config --cflags --libs starfleet_secrets) -lpthread -lm -o target/c-tests/test_capi
 *
 * Every secret is created by this program (names start with a per-run prefix) so runs never
 * interfere. Cases that need another environment (default location, missing credentials,
 * fork) run in a child process: this program re-executed with `--child MODE`.
 *
 * Exit status 0 when every case passed; the last line is "N passed, N failed".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "starfleet_secrets.h"
#include "harness_client.h"

extern char **environ;

#define REGION "us-east-2"
#define SENTINEL ((char *)0x5a5a5a5a)

/* ---------------------------------------------------------------- tiny test framework */

static int g_case_failures;
static char g_prefix[64];
static char g_self[4096];

static void check_failed(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    g_case_failures++;
}

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            check_failed(__FILE__, __LINE__, "%s", #cond);                                 \
        }                                                                                  \
    } while (0)

#define CHECK_STR(actual, expected)                                                        \
    do {                                                                                   \
        const char *a_ = (actual), *e_ = (expected);                                       \
        if (!a_ || strcmp(a_, e_) != 0) {                                                  \
            check_failed(__FILE__, __LINE__, "%s == \"%s\" (got \"%s\")", #actual, e_,     \
                         a_ ? a_ : "(null)");                                              \
        }                                                                                  \
    } while (0)

/* The last error message of this thread, in a per-thread buffer. */
static const char *last_message(void) {
    static _Thread_local char buf[1024];
    size_t n = 0;
    starfleet_secrets_last_error_message(buf, sizeof buf, &n);
    return buf;
}

#define CHECK_RESULT(call, expected)                                                       \
    do {                                                                                   \
        starfleet_secrets_result r_ = (call);                                              \
        if (r_ != (expected)) {                                                            \
            check_failed(__FILE__, __LINE__, "%s returned %s, expected %s (%s)", #call,    \
                         starfleet_secrets_result_name(r_),                                \
                         starfleet_secrets_result_name(expected), last_message());         \
        }                                                                                  \
    } while (0)

#define OK STARFLEET_SECRETS_RESULT_OK

static void secret_name(char out[128], const char *what) {
    snprintf(out, 128, "%s-%s", g_prefix, what);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A manager for `name` in REGION; `ttl` may be NULL. NULL on failure (reported). */
static starfleet_secrets_manager *manager_for(const char *name, const char *ttl) {
    starfleet_secrets_options *opts = NULL;
    starfleet_secrets_manager *m = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    if (ttl) {
        CHECK_RESULT(starfleet_secrets_options_set_ttl(opts, ttl), OK);
    }
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    return m;
}

/* Write `text` to the file at `path` (replacing it), checked. */
static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* get_string into a fresh string (NULL on failure; the result is in *result). */
static char *get_string(const starfleet_secrets_manager *m, const char *path,
                        starfleet_secrets_result *result) {
    char *s = NULL;
    *result = starfleet_secrets_manager_get_string(m, path, &s, NULL);
    return s;
}

static const char *const STARFLEET_DOC =
    "{\"STARFLEET\": {\"SlackToken\": \"xoxb-c-0001\"},"
    " \"GitHubSyncWorker\": {\"my.org\": \"-----BEGIN KEY-----\\nk\\n-----END KEY-----\"},"
    " \"Nul\": \"a\\u0000b\", \"Num\": 5, \"Empty\": {}}";

/* ---------------------------------------------------------------- cases */

static void test_version_macros_match_the_library(void) {
    char from_parts[64];
    snprintf(from_parts, sizeof from_parts, "%d.%d.%d", STARFLEET_SECRETS_VERSION_MAJOR,
             STARFLEET_SECRETS_VERSION_MINOR, STARFLEET_SECRETS_VERSION_PATCH);
    CHECK_STR(from_parts, STARFLEET_SECRETS_VERSION_STRING);
    CHECK_STR(starfleet_secrets_version(), STARFLEET_SECRETS_VERSION_STRING);
    CHECK(starfleet_secrets_abi_version() == STARFLEET_SECRETS_ABI_VERSION);
    CHECK_STR(starfleet_secrets_result_name(STARFLEET_SECRETS_RESULT_OK), "OK");
    CHECK_STR(starfleet_secrets_result_name(STARFLEET_SECRETS_RESULT_SECRET_NOT_FOUND),
              "SECRET_NOT_FOUND");
    CHECK_STR(starfleet_secrets_result_name(14), "INTERNAL");
    CHECK_STR(starfleet_secrets_result_name(999), "UNKNOWN");
    /* The stable numbers every language shares. */
    CHECK(STARFLEET_SECRETS_RESULT_CONFIG_MISSING == 1 && STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND == 12 &&
          STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT == 13 && STARFLEET_SECRETS_RESULT_INTERNAL == 14);
}

static void test_happy_path(void) {
    char name[128], vid[64];
    secret_name(name, "happy");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, vid) == 0);
    starfleet_secrets_manager *m = manager_for(name, NULL);

    char *id = NULL, *region = NULL;
    CHECK_RESULT(starfleet_secrets_manager_location(m, &id, &region), OK);
    CHECK_STR(id, name);
    CHECK_STR(region, REGION);
    starfleet_secrets_string_free(id);
    starfleet_secrets_string_free(region);

    char *s = NULL;
    size_t len = 0;
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "STARFLEET.SlackToken", &s, &len), OK);
    CHECK_STR(s, "xoxb-c-0001");
    CHECK(len == strlen("xoxb-c-0001"));
    starfleet_secrets_string_free(s);

    /* A literal dot: escaped in the dotted spelling, or as separate keys. */
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "GitHubSyncWorker.my\\.org", &s, NULL), OK);
    CHECK_STR(s, "-----BEGIN KEY-----\nk\n-----END KEY-----");
    starfleet_secrets_string_free(s);
    const char *keys[] = {"GitHubSyncWorker", "my.org"};
    CHECK_RESULT(starfleet_secrets_manager_get_string_path(m, keys, 2, &s, NULL), OK);
    CHECK_STR(s, "-----BEGIN KEY-----\nk\n-----END KEY-----");
    starfleet_secrets_string_free(s);
    const char *one[] = {"STARFLEET.SlackToken"};
    CHECK_RESULT(starfleet_secrets_manager_get_string_path(m, one, 1, &s, NULL), OK);
    CHECK_STR(s, "xoxb-c-0001");
    starfleet_secrets_string_free(s);

    /* A value holding a NUL byte comes back whole, with its length. */
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "Nul", &s, &len), OK);
    CHECK(len == 3 && memcmp(s, "a\0b", 4) == 0);
    starfleet_secrets_string_free(s);

    CHECK_RESULT(starfleet_secrets_manager_get_json(m, "Num", &s, &len), OK);
    CHECK_STR(s, "5");
    CHECK(len == 1);
    starfleet_secrets_string_free(s);
    CHECK_RESULT(starfleet_secrets_manager_get_json(m, "STARFLEET", &s, NULL), OK);
    CHECK_STR(s, "{\"SlackToken\":\"xoxb-c-0001\"}");
    starfleet_secrets_string_free(s);
    const char *empty[] = {"Empty"};
    CHECK_RESULT(starfleet_secrets_manager_get_json_path(m, empty, 1, &s, NULL), OK);
    CHECK_STR(s, "{}");
    starfleet_secrets_string_free(s);

    CHECK_RESULT(starfleet_secrets_manager_get_document_json(m, &s, &len), OK);
    CHECK(s && s[0] == '{' && len == strlen(s)); /* NUL inside a value is escaped in JSON */
    CHECK(s && strstr(s, "\"SlackToken\":\"xoxb-c-0001\""));
    CHECK(s && strstr(s, "\"Num\":5"));
    starfleet_secrets_string_free(s);

    char *stats = NULL;
    CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
    CHECK(stats && strstr(stats, "\"fetches\":1"));
    CHECK(stats && strstr(stats, "\"failures\":0"));
    char want_vid[128];
    snprintf(want_vid, sizeof want_vid, "\"version_id\":\"%s\"", vid);
    CHECK(stats && strstr(stats, want_vid));
    starfleet_secrets_string_free(stats);

    CHECK(harness_get_count(name) == 1);
    starfleet_secrets_manager_free(m);
}

static void test_ttl_refresh_and_invalidate(void) {
    char name[128];
    secret_name(name, "ttl");
    CHECK(moto_create_string(REGION, name, "{\"v\": \"one\"}", NULL) == 0);
    starfleet_secrets_result r;

    /* TTL 0: every access fetches. */
    starfleet_secrets_manager *m = manager_for(name, "0");
    for (int i = 0; i < 3; i++) {
        char *s = get_string(m, "v", &r);
        CHECK(r == OK);
        starfleet_secrets_string_free(s);
    }
    CHECK(harness_get_count(name) == 3);
    starfleet_secrets_manager_free(m);

    /* TTL never: the first value stays until refresh() or invalidate(). */
    m = manager_for(name, "never");
    char *s = get_string(m, "v", &r);
    CHECK_STR(s, "one");
    starfleet_secrets_string_free(s);
    CHECK(moto_put_string(REGION, name, "{\"v\": \"two\"}", NULL) == 0);
    s = get_string(m, "v", &r);
    CHECK_STR(s, "one");
    starfleet_secrets_string_free(s);
    CHECK(harness_get_count(name) == 4);
    CHECK_RESULT(starfleet_secrets_manager_refresh(m), OK);
    s = get_string(m, "v", &r);
    CHECK_STR(s, "two");
    starfleet_secrets_string_free(s);
    CHECK(harness_get_count(name) == 5);
    CHECK_RESULT(starfleet_secrets_manager_invalidate(m), OK);
    s = get_string(m, "v", &r);
    CHECK_STR(s, "two");
    starfleet_secrets_string_free(s);
    CHECK(harness_get_count(name) == 6);
    starfleet_secrets_manager_free(m);

    /* Seconds as a number. */
    starfleet_secrets_options *opts = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    CHECK_RESULT(starfleet_secrets_options_set_ttl_seconds(opts, 300.0), OK);
    CHECK_RESULT(starfleet_secrets_options_set_timeout_seconds(opts, 5.0), OK);
    CHECK_RESULT(starfleet_secrets_options_set_max_stale_seconds(opts, 0.0), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    for (int i = 0; i < 3; i++) {
        s = get_string(m, "v", &r);
        CHECK_STR(s, "two");
        starfleet_secrets_string_free(s);
    }
    CHECK(harness_get_count(name) == 7);
    starfleet_secrets_manager_free(m);
}

static starfleet_secrets_manager *versioned(const char *name, const char *stage, const char *id) {
    starfleet_secrets_options *opts = NULL;
    starfleet_secrets_manager *m = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    if (stage) {
        CHECK_RESULT(starfleet_secrets_options_set_version_stage(opts, stage), OK);
    }
    if (id) {
        CHECK_RESULT(starfleet_secrets_options_set_version_id(opts, id), OK);
    }
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    return m;
}

static void test_version_stage_and_id(void) {
    char name[128], v1[64], v2[64];
    secret_name(name, "versions");
    CHECK(moto_create_string(REGION, name, "{\"v\": \"one\"}", v1) == 0);
    CHECK(moto_put_string(REGION, name, "{\"v\": \"two\"}", v2) == 0);
    struct {
        const char *stage, *id, *want;
        starfleet_secrets_result result;
    } cases[] = {
        {NULL, NULL, "two", OK},
        {"AWSCURRENT", NULL, "two", OK},
        {"AWSPREVIOUS", NULL, "one", OK},
        {NULL, v1, "one", OK},
        {NULL, v2, "two", OK},
        {"NOPE", NULL, NULL, STARFLEET_SECRETS_RESULT_SECRET_NOT_FOUND},
        {"AWSCURRENT", v1, NULL, STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        starfleet_secrets_manager *m = versioned(name, cases[i].stage, cases[i].id);
        char *s = SENTINEL;
        CHECK_RESULT(starfleet_secrets_manager_get_string(m, "v", &s, NULL), cases[i].result);
        if (cases[i].want) {
            CHECK_STR(s, cases[i].want);
            starfleet_secrets_string_free(s);
        } else {
            CHECK(s == SENTINEL);
        }
        starfleet_secrets_manager_free(m);
    }
}

static void test_binary_secrets(void) {
    char name[128];
    secret_name(name, "binary");
    static const unsigned char want[] = {0x00, 0x9f, 0x92, 0x96, 0xff, 0x01};
    CHECK(moto_create_binary(REGION, name, "AJ+Slv8B", NULL) == 0);
    starfleet_secrets_manager *m = manager_for(name, NULL);
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK_RESULT(starfleet_secrets_manager_get_binary(m, &bytes, &len), OK);
    CHECK(len == sizeof want && bytes && memcmp(bytes, want, len) == 0);
    starfleet_secrets_bytes_free(bytes);

    char *s = SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "a", &s, NULL),
                 STARFLEET_SECRETS_RESULT_SECRET_FORMAT);
    CHECK(strstr(last_message(), "SecretBinary") != NULL);
    CHECK_RESULT(starfleet_secrets_manager_get_document_json(m, &s, NULL),
                 STARFLEET_SECRETS_RESULT_SECRET_FORMAT);
    CHECK(s == SENTINEL);
    starfleet_secrets_manager_free(m);

    /* ...and bytes from a JSON secret are a format error too. */
    secret_name(name, "binary-json");
    CHECK(moto_create_string(REGION, name, "{}", NULL) == 0);
    m = manager_for(name, NULL);
    bytes = (uint8_t *)SENTINEL;
    len = 77;
    CHECK_RESULT(starfleet_secrets_manager_get_binary(m, &bytes, &len),
                 STARFLEET_SECRETS_RESULT_SECRET_FORMAT);
    CHECK(bytes == (uint8_t *)SENTINEL && len == 77);
    /* An empty document is a valid, cached value. */
    CHECK_RESULT(starfleet_secrets_manager_get_document_json(m, &s, NULL), OK);
    CHECK_STR(s, "{}");
    starfleet_secrets_string_free(s);
    starfleet_secrets_manager_free(m);
}

/* One access that must fail with `want`; the message must name `must_contain`. */
static void expect_failure(const starfleet_secrets_manager *m, const char *path,
                           starfleet_secrets_result want, const char *must_contain) {
    char *s = SENTINEL;
    size_t len = 4242;
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, path, &s, &len), want);
    CHECK(s == SENTINEL && len == 4242);
    CHECK(starfleet_secrets_last_error_code() == want);
    const char *msg = last_message();
    CHECK(strncmp(msg, starfleet_secrets_result_name(want), strlen(starfleet_secrets_result_name(want))) == 0);
    if (must_contain && !strstr(msg, must_contain)) {
        check_failed(__FILE__, __LINE__, "message \"%s\" should name \"%s\"", msg, must_contain);
    }
    if (strstr(msg, "xoxb-c-")) {
        check_failed(__FILE__, __LINE__, "message \"%s\" shows a secret value", msg);
    }
}

static void test_aws_errors_from_the_proxy(void) {
    struct {
        const char *what, *action, *extra, *aws_code;
        starfleet_secrets_result want;
    } cases[] = {
        {"denied", "error", "\"status\": 400, \"code\": \"AccessDeniedException\"", "AccessDeniedException",
         STARFLEET_SECRETS_RESULT_ACCESS_DENIED},
        {"kms", "error", "\"status\": 400, \"code\": \"DecryptionFailure\"", "DecryptionFailure",
         STARFLEET_SECRETS_RESULT_DECRYPTION_FAILED},
        {"throttled", "throttle", NULL, "ThrottlingException", STARFLEET_SECRETS_RESULT_THROTTLED},
        {"unavailable", "error", "\"status\": 503, \"code\": \"ServiceUnavailable\"", "ServiceUnavailable",
         STARFLEET_SECRETS_RESULT_SERVICE},
        {"badcreds", "error", "\"status\": 400, \"code\": \"UnrecognizedClientException\"",
         "UnrecognizedClientException", STARFLEET_SECRETS_RESULT_CREDENTIALS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[128];
        secret_name(name, cases[i].what);
        CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
        CHECK(harness_add_fault(name, cases[i].action, 0, cases[i].extra) == 0);
        starfleet_secrets_manager *m = manager_for(name, NULL);
        expect_failure(m, "STARFLEET.SlackToken", cases[i].want, name);
        CHECK(strstr(last_message(), cases[i].aws_code) != NULL);
        char *stats = NULL;
        CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
        char want[96];
        snprintf(want, sizeof want, "\"last_error\":\"%s\"", starfleet_secrets_result_name(cases[i].want));
        CHECK(stats && strstr(stats, want));
        starfleet_secrets_string_free(stats);
        CHECK(harness_clear_faults(name) == 0);
        starfleet_secrets_manager_free(m);
    }
}

static void test_missing_secret_key_and_format(void) {
    char name[128];
    secret_name(name, "absent");
    starfleet_secrets_manager *m = manager_for(name, NULL);
    expect_failure(m, "STARFLEET.SlackToken", STARFLEET_SECRETS_RESULT_SECRET_NOT_FOUND, name);
    CHECK(strstr(last_message(), REGION) != NULL);
    starfleet_secrets_manager_free(m);

    secret_name(name, "keys");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
    m = manager_for(name, NULL);
    expect_failure(m, "STARFLEET.Missing", STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND, "STARFLEET.Missing");
    expect_failure(m, "STARFLEET.SlackToken.deeper", STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND,
                   "STARFLEET.SlackToken is a string");
    expect_failure(m, "Num", STARFLEET_SECRETS_RESULT_SECRET_FORMAT, "a number, not a string");
    expect_failure(m, "STARFLEET", STARFLEET_SECRETS_RESULT_SECRET_FORMAT, "an object");
    char *s = SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_get_json(m, "Nope", &s, NULL),
                 STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND);
    CHECK(s == SENTINEL);
    starfleet_secrets_manager_free(m);

    secret_name(name, "array");
    CHECK(moto_create_string(REGION, name, "[\"xoxb-c-array\"]", NULL) == 0);
    m = manager_for(name, NULL);
    expect_failure(m, "a", STARFLEET_SECRETS_RESULT_SECRET_FORMAT, "an array, not a JSON object");
    starfleet_secrets_manager_free(m);
}

static void test_timeout_and_network(void) {
    char name[128];
    secret_name(name, "hang");
    CHECK(moto_create_string(REGION, name, "{}", NULL) == 0);
    CHECK(harness_add_fault(name, "hang", 0, "\"hang_ms\": 30000") == 0);
    starfleet_secrets_options *opts = NULL;
    starfleet_secrets_manager *m = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    CHECK_RESULT(starfleet_secrets_options_set_timeout_seconds(opts, 1.0), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    double started = now_s();
    expect_failure(m, "x", STARFLEET_SECRETS_RESULT_TIMEOUT, name);
    double took = now_s() - started;
    /* 1 s deadline (+1 s hard-deadline slack); generous for valgrind's slowdown. */
    if (took > 15.0) {
        check_failed(__FILE__, __LINE__, "timeout took %.1fs", took);
    }
    CHECK(harness_clear_faults(name) == 0);
    starfleet_secrets_manager_free(m);

    /* A closed port: connection refused. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    socklen_t addr_len = sizeof addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &addr_len) == 0);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(addr.sin_port));
    CHECK_RESULT(starfleet_secrets_options_set_endpoint_url(opts, url), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, "AnySecret"), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    expect_failure(m, "x", STARFLEET_SECRETS_RESULT_NETWORK, "AnySecret");
    starfleet_secrets_manager_free(m);
}

/* The _try_ getters answer what needs no fetch and never wait: a runtime (Go) parks its
 * waiting callers and runs one starfleet_secrets_manager_load() instead of blocking a thread
 * per caller. */
static void test_try_getters_never_wait(void) {
    char name[128];
    secret_name(name, "try");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
    CHECK(harness_add_fault(name, "hang", 0, "\"hang_ms\": 30000") == 0);
    starfleet_secrets_options *opts = NULL;
    starfleet_secrets_manager *m = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    CHECK_RESULT(starfleet_secrets_options_set_timeout_seconds(opts, 1.0), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    const char *keys[] = {"STARFLEET.SlackToken"};
    char *out = SENTINEL;
    size_t len = 7;
    bool ready = true;

    /* Cold cache, hung endpoint: "not ready" at once, nothing written, no request made. */
    double started = now_s();
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path(m, 0.0, keys, 1, &out, &len, &ready), OK);
    CHECK(!ready && out == SENTINEL && len == 7);
    ready = true;
    CHECK_RESULT(starfleet_secrets_manager_try_get_document_json(m, 0.0, &out, &len, &ready), OK);
    CHECK(!ready && out == SENTINEL);
    CHECK(now_s() - started < 1.0);
    CHECK(harness_get_count(name) == 0);
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path(m, 0.0, keys, 1, &out, &len, NULL), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);

    /* The load fails; while its retry pause runs the try getters answer that failure. */
    CHECK_RESULT(starfleet_secrets_manager_load(m), STARFLEET_SECRETS_RESULT_TIMEOUT);
    ready = false;
    CHECK_RESULT(starfleet_secrets_manager_try_get_json_path(m, 0.0, keys, 1, &out, &len, &ready), STARFLEET_SECRETS_RESULT_TIMEOUT);
    CHECK(out == SENTINEL);

    /* The endpoint recovers: after a load the try getters answer from the cache. */
    CHECK(harness_clear_faults(name) == 0);
    sleep_s(1.1); /* past the 1 s retry pause */
    CHECK_RESULT(starfleet_secrets_manager_load(m), OK);
    long calls = harness_get_count(name);
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path(m, 0.0, keys, 1, &out, &len, &ready), OK);
    CHECK(ready && out != SENTINEL && len == strlen("xoxb-c-0001") && strcmp(out, "xoxb-c-0001") == 0);
    starfleet_secrets_string_free(out);
    out = SENTINEL;
    ready = false;
    CHECK_RESULT(starfleet_secrets_manager_try_get_json_path(m, 0.0, keys, 1, &out, &len, &ready), OK);
    CHECK(ready && out != SENTINEL && strcmp(out, "\"xoxb-c-0001\"") == 0);
    starfleet_secrets_string_free(out);
    out = SENTINEL;
    ready = false;
    CHECK_RESULT(starfleet_secrets_manager_try_get_document_json(m, 0.0, &out, &len, &ready), OK);
    CHECK(ready && out != SENTINEL && out[0] == '{');
    starfleet_secrets_string_free(out);
    uint8_t *bytes = (uint8_t *)SENTINEL;
    ready = false;
    CHECK_RESULT(starfleet_secrets_manager_try_get_binary(m, 0.0, &bytes, &len, &ready), STARFLEET_SECRETS_RESULT_SECRET_FORMAT);
    CHECK(bytes == (uint8_t *)SENTINEL);
    CHECK(harness_get_count(name) == calls);
    CHECK_RESULT(starfleet_secrets_manager_try_get_document_json(m, -1.0, &out, &len, &ready),
                 STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    starfleet_secrets_manager_free(m);

    /* TTL 0 keeps nothing fresh: only fetched_within lets a load's value answer its waiters. */
    m = manager_for(name, "0");
    CHECK_RESULT(starfleet_secrets_manager_load(m), OK);
    out = SENTINEL;
    ready = true;
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path(m, 0.0, keys, 1, &out, &len, &ready), OK);
    CHECK(!ready && out == SENTINEL);
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path(m, 60.0, keys, 1, &out, &len, &ready), OK);
    CHECK(ready && out != SENTINEL && strcmp(out, "xoxb-c-0001") == 0);
    if (ready && out != SENTINEL) {
        starfleet_secrets_string_free(out);
    }
    starfleet_secrets_manager_free(m);
}

/* The reusable try getter: how long its answer stays the manager's fresh value, and the hits a
 * binding answered itself (ABI 7). */
static void test_reusable_answers(void) {
    char name[128];
    secret_name(name, "reuse");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
    const char *keys[] = {"STARFLEET.SlackToken"};
    char *out = SENTINEL;
    size_t len = 0;
    bool ready = false;
    double reuse_for = -1.0;

    /* TTL 300 s (jitter shortens it, never lengthens): fresh for at most 300 s from the call. */
    starfleet_secrets_manager *m = manager_for(name, "300");
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path_reusable(m, 0.0, keys, 1, &out, &len, &ready, &reuse_for), OK);
    CHECK(!ready && out == SENTINEL && reuse_for == -1.0); /* cold: nothing written */
    CHECK_RESULT(starfleet_secrets_manager_load(m), OK);
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path_reusable(m, 0.0, keys, 1, &out, &len, &ready, &reuse_for), OK);
    CHECK(ready && out != SENTINEL && strcmp(out, "xoxb-c-0001") == 0);
    CHECK(reuse_for > 200.0 && reuse_for <= 300.0);
    if (ready && out != SENTINEL) {
        starfleet_secrets_string_free(out);
    }
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path_reusable(m, 0.0, keys, 1, &out, &len, &ready, NULL),
                 STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    /* Hits the caller answered itself show in the stats (one counted by the library above). */
    CHECK_RESULT(starfleet_secrets_manager_record_hits(m, 3), OK);
    CHECK_RESULT(starfleet_secrets_manager_record_hits(NULL, 3), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    char *stats = NULL;
    CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
    CHECK(stats && strstr(stats, "\"hits\":4"));
    starfleet_secrets_string_free(stats);
    starfleet_secrets_manager_free(m);

    /* TTL never: held for good. */
    m = manager_for(name, "never");
    CHECK_RESULT(starfleet_secrets_manager_load(m), OK);
    out = SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path_reusable(m, 0.0, keys, 1, &out, &len, &ready, &reuse_for), OK);
    CHECK(ready && isinf(reuse_for) && reuse_for > 0);
    if (ready && out != SENTINEL) {
        starfleet_secrets_string_free(out);
    }
    starfleet_secrets_manager_free(m);

    /* TTL 0: a value a load fetched answers its waiter (fetched_within) but is never reused. */
    m = manager_for(name, "0");
    CHECK_RESULT(starfleet_secrets_manager_load(m), OK);
    out = SENTINEL;
    reuse_for = -1.0;
    CHECK_RESULT(starfleet_secrets_manager_try_get_string_path_reusable(m, 60.0, keys, 1, &out, &len, &ready, &reuse_for), OK);
    CHECK(ready && out != SENTINEL && reuse_for == 0.0);
    if (ready && out != SENTINEL) {
        starfleet_secrets_string_free(out);
    }
    starfleet_secrets_manager_free(m);
}

static void test_configuration_errors(void) {
    starfleet_secrets_options *opts = NULL;
    starfleet_secrets_manager *m = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_config_yaml(
                     opts, "inline.yaml",
                     "STARFLEET:\n  SecretsManager:\n    SecretId: X\n    SecretRegion: Ohio\n"),
                 OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    expect_failure(m, "x", STARFLEET_SECRETS_RESULT_CONFIG_INVALID, "inline.yaml");
    CHECK(strstr(last_message(), "SecretRegion") != NULL);
    char *id = SENTINEL, *region = SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_location(m, &id, &region), STARFLEET_SECRETS_RESULT_CONFIG_INVALID);
    CHECK(id == SENTINEL && region == SENTINEL);
    starfleet_secrets_manager_free(m);

    /* A fallback region that is not a region: CONFIG_INVALID on first use, naming it and the
     * argument (the setter itself takes any list: names are checked where the region's are). */
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, "X"), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, "us-east-2"), OK);
    CHECK_RESULT(starfleet_secrets_options_set_fallback_regions(opts, NULL),
                 STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_options_set_fallback_regions(opts, "us-west-2, Oregon"), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    expect_failure(m, "x", STARFLEET_SECRETS_RESULT_CONFIG_INVALID, "Oregon");
    CHECK(strstr(last_message(), "fallback_regions") != NULL);
    starfleet_secrets_manager_free(m);
    /* "" sets none: the location resolves. */
    CHECK_RESULT(starfleet_secrets_options_set_fallback_regions(opts, ""), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    id = region = NULL;
    CHECK_RESULT(starfleet_secrets_manager_location(m, &id, &region), OK);
    starfleet_secrets_string_free(id);
    starfleet_secrets_string_free(region);
    starfleet_secrets_manager_free(m);

    /* A file with a YAML syntax error: the message gives the file and line. */
    char dir[] = "/tmp/starfleet-c-config-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[256];
    snprintf(file, sizeof file, "%s/broken.yaml", dir);
    write_text(file, "STARFLEET:\n  SecretsManager: [unclosed\n");
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_config_path(opts, file), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    expect_failure(m, "x", STARFLEET_SECRETS_RESULT_CONFIG_INVALID, "broken.yaml");
    starfleet_secrets_manager_free(m);
    unlink(file);
    rmdir(dir);
}

static void test_mounted_source(void) {
    /* A secret the platform mounts as a file: the setter, the value, a rewrite seen at the
     * next refresh, and a missing file typed and named. No AWS call is made. */
    char dir[] = "/tmp/starfleet-c-mounted-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[256], source[300];
    snprintf(file, sizeof file, "%s/app.json", dir);
    snprintf(source, sizeof source, "file:%s", file);
    write_text(file, "{\"STARFLEET\": {\"SlackToken\": \"xoxb-c-mounted-1\"}}");
    starfleet_secrets_options *opts = NULL;
    starfleet_secrets_manager *m = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_source(opts, NULL), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_options_set_source(opts, source), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_result r;
    char *s = get_string(m, "STARFLEET.SlackToken", &r);
    CHECK_RESULT(r, OK);
    CHECK(s && strcmp(s, "xoxb-c-mounted-1") == 0);
    starfleet_secrets_string_free(s);
    write_text(file, "{\"STARFLEET\": {\"SlackToken\": \"xoxb-c-mounted-2\"}}");
    CHECK_RESULT(starfleet_secrets_manager_refresh(m), OK);
    s = get_string(m, "STARFLEET.SlackToken", &r);
    CHECK_RESULT(r, OK);
    CHECK(s && strcmp(s, "xoxb-c-mounted-2") == 0);
    starfleet_secrets_string_free(s);
    starfleet_secrets_manager_free(m);
    unlink(file);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    expect_failure(m, "STARFLEET.SlackToken", STARFLEET_SECRETS_RESULT_SECRET_NOT_FOUND, "app.json");
    starfleet_secrets_manager_free(m);
    rmdir(dir);
}

static void test_invalid_arguments(void) {
    const starfleet_secrets_result INVALID = STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT;
    starfleet_secrets_options *opts = (starfleet_secrets_options *)SENTINEL;
    CHECK_RESULT(starfleet_secrets_options_new(NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(NULL, "x"), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, NULL), INVALID);
    CHECK(strstr(last_message(), "secret_id is NULL") != NULL);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, "bad\xff"), INVALID);
    CHECK(strstr(last_message(), "not valid UTF-8") != NULL);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, "\xc3\x28"), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_config_path(opts, NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_config_yaml(opts, "n", NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_config_yaml(opts, NULL, "a: b"), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_ttl(opts, "soon"), INVALID);
    CHECK(strstr(last_message(), "soon") != NULL);
    CHECK_RESULT(starfleet_secrets_options_set_ttl(opts, "-1"), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_ttl(opts, NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_ttl_seconds(opts, -1.0), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_ttl_seconds(opts, NAN), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_timeout_seconds(opts, INFINITY), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_max_stale_seconds(opts, -0.5), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_version_stage(opts, NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_version_id(opts, "\xff"), INVALID);
    CHECK_RESULT(starfleet_secrets_options_set_endpoint_url(opts, NULL), INVALID);

    starfleet_secrets_manager *m = (starfleet_secrets_manager *)SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_new(NULL, &m), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_new_default(NULL), INVALID);
    CHECK(m == (starfleet_secrets_manager *)SENTINEL);

    /* A timeout of zero is refused when the settings are resolved. */
    char name[128];
    secret_name(name, "invalid");
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    CHECK_RESULT(starfleet_secrets_options_set_timeout_seconds(opts, 0.0), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    expect_failure(m, "x", INVALID, "timeout");
    starfleet_secrets_manager_free(m);
    CHECK_RESULT(starfleet_secrets_options_set_timeout_seconds(opts, 5.0), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);

    /* Every getter: NULL manager, NULL out, bad paths; nothing written, nothing fetched. */
    char *s = SENTINEL;
    size_t len = 99;
    uint8_t *b = (uint8_t *)SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_get_string(NULL, "a", &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, NULL, &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "a", NULL, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "\xff\xfe", &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "", &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "a..b", &s, &len), INVALID);
    CHECK(strstr(last_message(), "empty segment") != NULL);
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "a\\x", &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_string_path(m, NULL, 0, &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_string_path(m, NULL, 2, &s, &len), INVALID);
    const char *bad_keys[] = {"ok", NULL};
    CHECK_RESULT(starfleet_secrets_manager_get_string_path(m, bad_keys, 2, &s, &len), INVALID);
    const char *bad_utf8[] = {"ok", "\xff"};
    CHECK_RESULT(starfleet_secrets_manager_get_json_path(m, bad_utf8, 2, &s, &len), INVALID);
    CHECK(strstr(last_message(), "keys[1]") != NULL);
    CHECK_RESULT(starfleet_secrets_manager_get_json(m, NULL, &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_json(NULL, "a", &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_document_json(NULL, &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_document_json(m, NULL, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_binary(m, &b, NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_binary(m, NULL, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_get_binary(NULL, &b, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_stats_json(NULL, &s, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_stats_json(m, NULL, &len), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_refresh(NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_invalidate(NULL), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_location(NULL, &s, &s), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_location(m, NULL, &s), INVALID);
    CHECK_RESULT(starfleet_secrets_manager_location(m, &s, NULL), INVALID);
    CHECK(s == SENTINEL && len == 99 && b == (uint8_t *)SENTINEL);
    CHECK_RESULT(starfleet_secrets_last_error_message(NULL, 8, NULL), INVALID);
    /* None of that reached the API. */
    CHECK(harness_get_count(name) == 0);

    /* The free functions accept NULL. */
    starfleet_secrets_manager_free(NULL);
    starfleet_secrets_options_free(NULL);
    starfleet_secrets_string_free(NULL);
    starfleet_secrets_bytes_free(NULL);
    starfleet_secrets_manager_free(m);

    /* Messages are sized and truncated safely. */
    CHECK_RESULT(starfleet_secrets_options_set_ttl(NULL, "1"), INVALID);
    size_t full = 0;
    CHECK_RESULT(starfleet_secrets_last_error_message(NULL, 0, &full), OK);
    char small[8];
    size_t n = 0;
    CHECK_RESULT(starfleet_secrets_last_error_message(small, sizeof small, &n), OK);
    CHECK(n == full && full > 8 && strlen(small) == 7 && strncmp(small, "INVALID", 7) == 0);
    /* A success clears the last error. */
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK(starfleet_secrets_last_error_code() == OK);
    CHECK_STR(last_message(), "");
    starfleet_secrets_options_free(opts);
}

static void test_stale_if_error(void) {
    char name[128];
    secret_name(name, "stale");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
    starfleet_secrets_manager *m = manager_for(name, "0.3");
    starfleet_secrets_result r;
    char *s = get_string(m, "STARFLEET.SlackToken", &r);
    CHECK_STR(s, "xoxb-c-0001");
    starfleet_secrets_string_free(s);
    CHECK(harness_add_fault(name, "error", 0, "\"status\": 500") == 0);
    sleep_s(0.5);
    s = get_string(m, "STARFLEET.SlackToken", &r);
    CHECK(r == OK);
    CHECK_STR(s, "xoxb-c-0001");
    starfleet_secrets_string_free(s);
    char *stats = NULL;
    CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
    CHECK(stats && strstr(stats, "\"stale_served\":1") && strstr(stats, "\"last_error\":\"SERVICE\""));
    starfleet_secrets_string_free(stats);
    /* An explicit refresh reports the failure and keeps the value. */
    CHECK_RESULT(starfleet_secrets_manager_refresh(m), STARFLEET_SECRETS_RESULT_SERVICE);
    CHECK(harness_clear_faults(name) == 0);
    CHECK_RESULT(starfleet_secrets_manager_refresh(m), OK);
    starfleet_secrets_manager_free(m);
}

/* Refresh-ahead through the C options (the timing is tested in Rust, Python, Node and Go:
 * this suite runs under valgrind): a read past the refresh point answers from the cache and
 * a background refresh follows; bad fractions are INVALID_ARGUMENT. */
static void test_refresh_ahead_and_jitter(void) {
    char name[128];
    secret_name(name, "ahead");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
    starfleet_secrets_options *opts = NULL;
    starfleet_secrets_manager *m = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_refresh_ahead(opts, 1.0), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_options_set_refresh_ahead(opts, -0.5), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_options_set_expiry_jitter(opts, 2.5), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_options_set_refresh_ahead(NULL, 0.5), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    CHECK_RESULT(starfleet_secrets_options_set_ttl(opts, "30"), OK);
    CHECK_RESULT(starfleet_secrets_options_set_refresh_ahead(opts, 0.01), OK);
    CHECK_RESULT(starfleet_secrets_options_set_expiry_jitter(opts, 0.0), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    starfleet_secrets_result r;
    char *s = get_string(m, "STARFLEET.SlackToken", &r);
    CHECK_STR(s, "xoxb-c-0001");
    starfleet_secrets_string_free(s);
    sleep_s(0.5); /* past 1% of 30 s */
    s = get_string(m, "STARFLEET.SlackToken", &r); /* answered from the cache; starts the refresh */
    CHECK_STR(s, "xoxb-c-0001");
    starfleet_secrets_string_free(s);
    char *stats = NULL;
    int refreshed = 0;
    for (int i = 0; i < 300 && !refreshed; i++) {
        CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
        refreshed = stats && strstr(stats, "\"refreshes_ahead\":1") && strstr(stats, "\"fetches\":2");
        starfleet_secrets_string_free(stats);
        if (!refreshed) {
            sleep_s(0.1);
        }
    }
    CHECK(refreshed);
    starfleet_secrets_manager_free(m);
}

/* ---------------------------------------------------------------- leak canary */

/* The whole last error message (not cut to a fixed buffer) must not hold the canary. */
static void check_message_has_no_canary(const char *what, const char *canary) {
    size_t n = 0;
    CHECK_RESULT(starfleet_secrets_last_error_message(NULL, 0, &n), OK);
    char *msg = malloc(n + 1);
    if (!msg) {
        check_failed(__FILE__, __LINE__, "out of memory");
        return;
    }
    CHECK_RESULT(starfleet_secrets_last_error_message(msg, n + 1, NULL), OK);
    CHECK(n > 0 && strlen(msg) == n);
    if (strstr(msg, canary)) {
        check_failed(__FILE__, __LINE__, "%s: the message shows the canary", what);
    }
    free(msg);
}

/* One failing call: the expected result, nothing written, and no canary in the message. */
#define EXPECT_NO_CANARY(call, out, expected, canary)                                      \
    do {                                                                                   \
        CHECK_RESULT(call, expected);                                                      \
        CHECK((out) == SENTINEL);                                                          \
        check_message_has_no_canary(#call, canary);                                        \
    } while (0)

static void test_canary_never_in_error_messages(void) {
    /* A canary no other run uses: CANARY- and 24 random hex digits. */
    unsigned char raw[12] = {0};
    FILE *urandom = fopen("/dev/urandom", "rb");
    CHECK(urandom != NULL);
    if (urandom) {
        CHECK(fread(raw, 1, sizeof raw, urandom) == sizeof raw);
        fclose(urandom);
    }
    char canary[64] = "CANARY-";
    for (size_t i = 0; i < sizeof raw; i++) {
        snprintf(canary + 7 + 2 * i, 3, "%02x", raw[i]);
    }
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"STARFLEET\": {\"SlackToken\": \"%s\", \"Nested\": {\"k\": \"%s\"}}, \"N\": 1}",
             canary, canary);

    char name[128];
    secret_name(name, "canary");
    CHECK(moto_create_string(REGION, name, doc, NULL) == 0);
    starfleet_secrets_manager *m = manager_for(name, NULL);
    char *s = NULL;
    size_t len = 0;
    CHECK_RESULT(starfleet_secrets_manager_get_string(m, "STARFLEET.SlackToken", &s, &len), OK);
    CHECK_STR(s, canary);
    CHECK(len == strlen(canary));
    starfleet_secrets_string_free(s);

    const starfleet_secrets_result KEY = STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND;
    const starfleet_secrets_result FORMAT = STARFLEET_SECRETS_RESULT_SECRET_FORMAT;
    s = SENTINEL;
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_string(m, "STARFLEET.Missing", &s, NULL), s, KEY, canary);
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_string(m, "STARFLEET.SlackToken.deeper", &s, NULL), s, KEY,
                     canary);
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_json(m, "STARFLEET.Nested.k.deeper", &s, NULL), s, KEY,
                     canary);
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_string(m, "STARFLEET.Nested", &s, NULL), s, FORMAT, canary);
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_string(m, "N", &s, NULL), s, FORMAT, canary);
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_string(m, "STARFLEET..SlackToken", &s, NULL), s,
                     STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT, canary);
    uint8_t *bytes = (uint8_t *)SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_get_binary(m, &bytes, &len), FORMAT);
    CHECK(bytes == (uint8_t *)SENTINEL);
    check_message_has_no_canary("get_binary", canary);
    char *stats = NULL;
    CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
    CHECK(stats && !strstr(stats, canary));
    starfleet_secrets_string_free(stats);
    starfleet_secrets_manager_free(m);

    /* Documents that are not a JSON object: malformed JSON, and a JSON string. */
    char text[256];
    secret_name(name, "canary-malformed");
    snprintf(text, sizeof text, "{\"k\": \"%s\" oops", canary);
    CHECK(moto_create_string(REGION, name, text, NULL) == 0);
    m = manager_for(name, NULL);
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_document_json(m, &s, NULL), s, FORMAT, canary);
    starfleet_secrets_manager_free(m);
    secret_name(name, "canary-string");
    snprintf(text, sizeof text, "\"%s\"", canary);
    CHECK(moto_create_string(REGION, name, text, NULL) == 0);
    m = manager_for(name, NULL);
    EXPECT_NO_CANARY(starfleet_secrets_manager_get_string(m, "k", &s, NULL), s, FORMAT, canary);
    starfleet_secrets_manager_free(m);
}

/* ---------------------------------------------------------------- threads */

typedef struct {
    const starfleet_secrets_manager *manager;
    pthread_barrier_t *barrier;
    int index;
    int ok;
} thread_arg;

/* ---------------------------------------------------------------- on_change */

/* What one subscription's callback saw. */
typedef struct {
    starfleet_secrets_manager *m;
    starfleet_secrets_subscription *self; /* cancelled from inside the callback when set */
    int calls;
    char old_version[8][64];
    char new_version[8][64];
    pthread_t thread[8];
    int reenter;       /* read and refresh the manager from inside the callback */
    char reread[32];   /* what that read returned */
    starfleet_secrets_result refreshed;
    int leaked;        /* a value (the canary) appeared in the arguments */
} change_log;

#define ONCHANGE_CANARY "canary-onchange-c"

static void record_change(const char *old_version_or_null, const char *new_version, void *user_data) {
    change_log *log = user_data;
    int i = log->calls++;
    if (i < 8) {
        snprintf(log->old_version[i], 64, "%s", old_version_or_null ? old_version_or_null : "(null)");
        snprintf(log->new_version[i], 64, "%s", new_version);
        log->thread[i] = pthread_self();
    }
    log->leaked |= strstr(new_version, ONCHANGE_CANARY) != NULL ||
                   (old_version_or_null && strstr(old_version_or_null, ONCHANGE_CANARY) != NULL);
    if (log->reenter) {
        starfleet_secrets_result r;
        char *s = get_string(log->m, "v", &r);
        snprintf(log->reread, sizeof log->reread, "%s", s ? s : "(failed)");
        starfleet_secrets_string_free(s);
        log->refreshed = starfleet_secrets_manager_refresh(log->m);
    }
    if (log->self) {
        starfleet_secrets_subscription_cancel(log->self); /* returns at once from inside */
        log->self = NULL;
    }
}

/* Put `{"v": value, "c": canary}` as a new version and refresh; the new VersionId in `version`. */
static void put_and_refresh(starfleet_secrets_manager *m, const char *name, const char *value,
                            char version[64]) {
    char doc[128];
    snprintf(doc, sizeof doc, "{\"v\": \"%s\", \"c\": \"" ONCHANGE_CANARY "\"}", value);
    CHECK(moto_put_string(REGION, name, doc, version) == 0);
    CHECK_RESULT(starfleet_secrets_manager_refresh(m), OK);
}

static void test_on_change(void) {
    char name[128], v1[64], v2[64], v3[64], v[64];
    secret_name(name, "on-change");
    CHECK(moto_create_string(REGION, name, "{\"v\": \"one\", \"c\": \"" ONCHANGE_CANARY "\"}", v1) == 0);
    starfleet_secrets_manager *m = manager_for(name, "never");
    change_log log = {.m = m};
    starfleet_secrets_subscription *sub = (starfleet_secrets_subscription *)SENTINEL;
    CHECK_RESULT(starfleet_secrets_manager_on_change(m, NULL, &log, &sub), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK(sub == (starfleet_secrets_subscription *)SENTINEL);
    CHECK_RESULT(starfleet_secrets_manager_on_change(NULL, record_change, &log, &sub), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_manager_on_change(m, record_change, &log, NULL), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_manager_on_change(m, record_change, &log, &sub), OK);

    /* The first load: no old version, on this thread, inside the call. */
    starfleet_secrets_result r;
    starfleet_secrets_string_free(get_string(m, "v", &r));
    CHECK(r == OK);
    CHECK(log.calls == 1);
    CHECK_STR(log.old_version[0], "(null)");
    CHECK_STR(log.new_version[0], v1);
    CHECK(pthread_equal(log.thread[0], pthread_self()));
    /* The same version again is no change. */
    CHECK_RESULT(starfleet_secrets_manager_refresh(m), OK);
    CHECK_RESULT(starfleet_secrets_manager_invalidate(m), OK);
    CHECK_RESULT(starfleet_secrets_manager_load(m), OK);
    CHECK(log.calls == 1);

    put_and_refresh(m, name, "two", v2);
    CHECK(log.calls == 2);
    CHECK_STR(log.old_version[1], v1);
    CHECK_STR(log.new_version[1], v2);

    /* Back into the manager from inside the callback: the new value, and a refresh. */
    log.reenter = 1;
    put_and_refresh(m, name, "three", v3);
    CHECK(log.calls == 3);
    CHECK_STR(log.new_version[2], v3);
    CHECK_STR(log.reread, "three");
    CHECK(log.refreshed == OK);
    log.reenter = 0;

    /* Cancelled: no more calls. */
    starfleet_secrets_subscription_cancel(sub);
    starfleet_secrets_subscription_cancel(NULL);
    put_and_refresh(m, name, "four", v);
    CHECK(log.calls == 3);

    /* Cancelled from inside its own call: that call is the last. */
    change_log once = {.m = m};
    starfleet_secrets_subscription *sub2 = NULL;
    CHECK_RESULT(starfleet_secrets_manager_on_change(m, record_change, &once, &sub2), OK);
    once.self = sub2;
    put_and_refresh(m, name, "five", v);
    put_and_refresh(m, name, "six", v);
    CHECK(once.calls == 1);
    CHECK(!log.leaked && !once.leaked);
    starfleet_secrets_manager_free(m);
}

static void *reader(void *p) {
    thread_arg *arg = p;
    pthread_barrier_wait(arg->barrier);
    char *s = NULL;
    starfleet_secrets_result r = starfleet_secrets_manager_get_string(arg->manager, "STARFLEET.SlackToken", &s, NULL);
    arg->ok = r == OK && s && strcmp(s, "xoxb-c-0001") == 0;
    starfleet_secrets_string_free(s);
    /* The last error is per thread: odd threads fail, and each sees its own failure. */
    if (arg->index % 2) {
        r = starfleet_secrets_manager_get_string(arg->manager, "STARFLEET.Nope", &s, NULL);
        arg->ok = arg->ok && r == STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND;
    }
    pthread_barrier_wait(arg->barrier);
    starfleet_secrets_result mine = starfleet_secrets_last_error_code();
    arg->ok = arg->ok && mine == (arg->index % 2 ? STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND : OK);
    if (arg->index % 2) {
        arg->ok = arg->ok && strstr(last_message(), "STARFLEET.Nope") != NULL;
    }
    return NULL;
}

static void test_sixteen_threads_on_a_cold_cache_make_one_call(void) {
    enum { THREADS = 16 };
    char name[128];
    secret_name(name, "threads");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
    /* Slow the first call down so every thread arrives while it is in flight. */
    CHECK(harness_add_fault(name, "delay", 1, "\"delay_ms\": 500") == 0);
    starfleet_secrets_manager *m = manager_for(name, NULL);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_t threads[THREADS];
    thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (thread_arg){m, &barrier, i, 0};
        CHECK(pthread_create(&threads[i], NULL, reader, &args[i]) == 0);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        ok += args[i].ok;
    }
    pthread_barrier_destroy(&barrier);
    CHECK(ok == THREADS);
    CHECK(harness_get_count(name) == 1);
    char *stats = NULL;
    CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
    CHECK(stats && strstr(stats, "\"fetches\":1"));
    starfleet_secrets_string_free(stats);
    starfleet_secrets_manager_free(m);
}

/* ---------------------------------------------------------------- child processes */

/* Run this program as `--child mode` with the environment minus `drop` plus `add`. Returns
 * the child's exit status (or -1). The child runs without valgrind (trace-children=no). */
static int run_child(const char *mode, const char *const *drop, const char *const *add) {
    size_t n = 0;
    while (environ[n]) {
        n++;
    }
    size_t extra = 0;
    while (add && add[extra]) {
        extra++;
    }
    char **env = calloc(n + extra + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int dropped = 0;
        for (const char *const *d = drop; d && *d; d++) {
            size_t len = strlen(*d);
            if (strncmp(environ[i], *d, len) == 0 && environ[i][len] == '=') {
                dropped = 1;
            }
        }
        /* Anything the child is given explicitly replaces the inherited value. */
        for (const char *const *a = add; a && *a; a++) {
            const char *eq = strchr(*a, '=');
            if (eq && strncmp(environ[i], *a, (size_t)(eq - *a + 1)) == 0) {
                dropped = 1;
            }
        }
        if (!dropped) {
            env[k++] = environ[i];
        }
    }
    for (size_t i = 0; i < extra; i++) {
        env[k++] = (char *)add[i];
    }
    env[k] = NULL;
    char *argv[] = {g_self, "--child", (char *)mode, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, g_self, NULL, NULL, argv, env);
    free(env);
    if (rc != 0) {
        fprintf(stderr, "    cannot spawn %s: %s\n", g_self, strerror(rc));
        return -1;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    /* Killed by a signal: 128 + its number, as a shell reports it. */
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Child: the default manager reads STARFLEET.SlackToken; exit status = the result. */
static int child_default(void) {
    starfleet_secrets_manager *m = NULL;
    starfleet_secrets_result r = starfleet_secrets_manager_new_default(&m);
    char *s = NULL;
    if (r == OK) {
        r = starfleet_secrets_manager_get_string(m, "STARFLEET.SlackToken", &s, NULL);
    }
    if (r == OK) {
        r = strcmp(s, "xoxb-c-0001") == 0 ? OK : STARFLEET_SECRETS_RESULT_INTERNAL;
    } else {
        printf("      child (an expected result): %s\n", last_message());
    }
    starfleet_secrets_string_free(s);
    starfleet_secrets_manager_free(m);
    return (int)r;
}

/* Child: use a manager, fork, and read again in the grandchild (a new runtime there). */
static int child_fork(void) {
    starfleet_secrets_manager *m = NULL;
    char *s = NULL;
    starfleet_secrets_result r = starfleet_secrets_manager_new_default(&m);
    if (r == OK) {
        r = starfleet_secrets_manager_get_string(m, "STARFLEET.SlackToken", &s, NULL);
        starfleet_secrets_string_free(s);
    }
    if (r != OK) {
        return (int)r;
    }
    pid_t pid = fork();
    if (pid == 0) {
        starfleet_secrets_manager_invalidate(m);
        r = starfleet_secrets_manager_refresh(m);
        if (r != OK) {
            printf("      grandchild: %s\n", last_message());
        }
        _exit((int)r);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return 100;
    }
    starfleet_secrets_manager_free(m);
    return WEXITSTATUS(status);
}

/* Child: free one string twice, as a buggy caller would. With glibc's malloc (the child
 * runs without valgrind), the second free must abort, as free() itself aborts on a double
 * free: the library must not have wiped the allocator's marker inside the freed block.
 * Returning at all means the double free went unnoticed (silent heap corruption). */
static int child_double_free(void) {
    starfleet_secrets_options *o = NULL;
    starfleet_secrets_manager *m = NULL;
    char *id = NULL, *region = NULL;
    if (starfleet_secrets_options_new(&o) != OK ||
        starfleet_secrets_options_set_secret_id(o, "double-free") != OK ||
        starfleet_secrets_options_set_region(o, REGION) != OK ||
        starfleet_secrets_manager_new(o, &m) != OK ||
        starfleet_secrets_manager_location(m, &id, &region) != OK) {
        return 2;
    }
    starfleet_secrets_string_free(region);
    starfleet_secrets_string_free(id);
    starfleet_secrets_string_free(id); /* the bug under test */
    return 0;
}

static void test_double_free_aborts(void) {
    CHECK(run_child("double-free", NULL, NULL) == 128 + SIGABRT);
}

static void test_default_location_and_process_environment(void) {
    char name[128];
    secret_name(name, "default");
    CHECK(moto_create_string(REGION, name, STARFLEET_DOC, NULL) == 0);
    char dir[] = "/tmp/starfleet-c-default-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[256];
    snprintf(file, sizeof file, "%s/00-starfleet.yaml", dir);
    FILE *f = fopen(file, "w");
    if (f) {
        fprintf(f, "STARFLEET:\n  SecretsManager:\n    SecretId: %s\n    SecretRegion: %s\n", name, REGION);
        fclose(f);
    }
    char config_var[300], id_var[200];
    snprintf(config_var, sizeof config_var, "STARFLEET_CONFIG=%s", dir);
    snprintf(id_var, sizeof id_var, "STARFLEET_SECRET_ID=%s", name);
    const char *starfleet_vars[] = {"STARFLEET_CONFIG", "STARFLEET_SECRET_ID", "STARFLEET_SECRET_REGION",
                                    "STARFLEET_SECRETS_TTL", "STARFLEET_SECRETS_TIMEOUT",
                                    "STARFLEET_SECRETS_MAX_STALE", NULL};

    /* The resolved default location: STARFLEET_CONFIG names a directory of YAML. */
    const char *with_config[] = {config_var, NULL};
    CHECK(run_child("default", starfleet_vars, with_config) == OK);
    CHECK(run_child("fork", starfleet_vars, with_config) == OK);
    /* Nothing anywhere: CONFIG_MISSING. */
    CHECK(run_child("default", starfleet_vars, NULL) == STARFLEET_SECRETS_RESULT_CONFIG_MISSING);
    /* A bad TTL in the environment: CONFIG_INVALID. */
    const char *bad_ttl[] = {config_var, "STARFLEET_SECRETS_TTL=soon", NULL};
    CHECK(run_child("default", starfleet_vars, bad_ttl) == STARFLEET_SECRETS_RESULT_CONFIG_INVALID);
    /* No AWS credentials anywhere: CREDENTIALS. */
    const char *no_creds[] = {"STARFLEET_CONFIG", "STARFLEET_SECRETS_TTL", "AWS_ACCESS_KEY_ID",
                              "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", NULL};
    const char *location[] = {id_var, "STARFLEET_SECRET_REGION=" REGION, NULL};
    CHECK(run_child("default", no_creds, location) == STARFLEET_SECRETS_RESULT_CREDENTIALS);
    CHECK(run_child("default", NULL, location) == OK);
    unlink(file);
    rmdir(dir);
}

/* ---------------------------------------------------------------- snapshot / restore */

/* A value fetched before the snapshot is fetched again (once) after the restore, whatever
 * its TTL; with zeroize_before_snapshot, before_snapshot wipes it and the next get fetches. */
static void test_snapshot_and_restore(void) {
    char name[128];
    secret_name(name, "snap");
    CHECK(moto_create_string(REGION, name, "{\"v\": \"one\"}", NULL) == 0);
    starfleet_secrets_result r;
    starfleet_secrets_manager *m = manager_for(name, "never");
    char *s = get_string(m, "v", &r);
    CHECK_STR(s, "one");
    starfleet_secrets_string_free(s);
    CHECK(moto_put_string(REGION, name, "{\"v\": \"two\"}", NULL) == 0);
    CHECK_RESULT(starfleet_secrets_manager_before_snapshot(m), OK);
    s = get_string(m, "v", &r);
    CHECK_STR(s, "one"); /* without zeroize the value stays */
    starfleet_secrets_string_free(s);
    CHECK(harness_get_count(name) == 1);
    CHECK_RESULT(starfleet_secrets_manager_after_restore(m), OK);
    for (int i = 0; i < 3; i++) {
        s = get_string(m, "v", &r);
        CHECK_STR(s, "two");
        starfleet_secrets_string_free(s);
    }
    CHECK(harness_get_count(name) == 2);
    char *stats = NULL;
    CHECK_RESULT(starfleet_secrets_manager_stats_json(m, &stats, NULL), OK);
    CHECK(stats && strstr(stats, "\"restores\":1"));
    starfleet_secrets_string_free(stats);
    starfleet_secrets_manager_free(m);

    starfleet_secrets_options *opts = NULL;
    CHECK_RESULT(starfleet_secrets_options_new(&opts), OK);
    CHECK_RESULT(starfleet_secrets_options_set_secret_id(opts, name), OK);
    CHECK_RESULT(starfleet_secrets_options_set_region(opts, REGION), OK);
    CHECK_RESULT(starfleet_secrets_options_set_zeroize_before_snapshot(opts, true), OK);
    CHECK_RESULT(starfleet_secrets_manager_new(opts, &m), OK);
    starfleet_secrets_options_free(opts);
    s = get_string(m, "v", &r);
    CHECK_STR(s, "two");
    starfleet_secrets_string_free(s);
    CHECK(harness_get_count(name) == 3);
    CHECK_RESULT(starfleet_secrets_manager_before_snapshot(m), OK);
    s = get_string(m, "v", &r);
    CHECK_STR(s, "two");
    starfleet_secrets_string_free(s);
    CHECK(harness_get_count(name) == 4); /* wiped: the next get fetched */
    starfleet_secrets_manager_free(m);

    CHECK_RESULT(starfleet_secrets_manager_before_snapshot(NULL), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(starfleet_secrets_manager_after_restore(NULL), STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT);
}

/* ---------------------------------------------------------------- main */

typedef struct {
    const char *name;
    void (*run)(void);
} test_case;

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--child") == 0) {
        if (strcmp(argv[2], "fork") == 0) {
            return child_fork();
        }
        if (strcmp(argv[2], "double-free") == 0) {
            return child_double_free();
        }
        return child_default();
    }
    if (!realpath(argv[0], g_self)) {
        perror("realpath");
        return 2;
    }
    snprintf(g_prefix, sizeof g_prefix, "c%ld-%ld", (long)getpid(), (long)time(NULL));

    static const test_case cases[] = {
        {"version macros match the library", test_version_macros_match_the_library},
        {"happy path", test_happy_path},
        {"ttl, refresh and invalidate", test_ttl_refresh_and_invalidate},
        {"version stage and version id", test_version_stage_and_id},
        {"binary secrets", test_binary_secrets},
        {"AWS errors injected by the proxy", test_aws_errors_from_the_proxy},
        {"missing secret, missing key, wrong shape", test_missing_secret_key_and_format},
        {"timeout and network", test_timeout_and_network},
        {"try getters never wait; load fills the cache", test_try_getters_never_wait},
        {"reusable answers: how long, hits recorded", test_reusable_answers},
        {"configuration errors", test_configuration_errors},
        {"a mounted source: file value, rewrite, missing file", test_mounted_source},
        {"NULL and invalid arguments", test_invalid_arguments},
        {"stale if error", test_stale_if_error},
        {"refresh-ahead: background refresh, option checks", test_refresh_ahead_and_jitter},
        {"leak canary: no value in error messages", test_canary_never_in_error_messages},
        {"16 threads on a cold cache make one call", test_sixteen_threads_on_a_cold_cache_make_one_call},
        {"on_change: old and new VersionIds, re-entry, cancel", test_on_change},
        {"snapshot/restore: refetch once after restore, zeroize wipes", test_snapshot_and_restore},
        {"default location and process environment", test_default_location_and_process_environment},
        {"a double free aborts instead of corrupting the heap", test_double_free_aborts},
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g_case_failures = 0;
        double started = now_s();
        cases[i].run();
        double took = now_s() - started;
        if (g_case_failures == 0) {
            passed++;
            printf("ok   %s (%.2fs)\n", cases[i].name, took);
        } else {
            failed++;
            printf("FAIL %s (%d checks failed, %.2fs)\n", cases[i].name, g_case_failures, took);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
