/*
 * A tiny HTTP/1.1 client for the test harness (tests/harness/README.md): the fault proxy's
 * control API and moto's JSON API, both plain HTTP on 127.0.0.1. Just enough for the C
 * tests; it is not part of the library.
 */
#ifndef STARFLEET_TESTS_HARNESS_CLIENT_H
#define STARFLEET_TESTS_HARNESS_CLIENT_H

#include <stddef.h>

/* One response: status and NUL-terminated body (owned; release with harness_response_free). */
typedef struct {
    int status;
    char *body;
} harness_response;

/*
 * Send one request to base_url ("http://127.0.0.1:PORT") and read the whole response.
 * extra_headers is NULL or "Name: value\r\n..." lines. Returns 0 on success, -1 on a
 * transport failure (with a message on stderr).
 */
int harness_request(const char *base_url, const char *method, const char *path,
                    const char *extra_headers, const char *body, harness_response *out);
void harness_response_free(harness_response *r);

/* Proxy control API (STARFLEET_TEST_PROXY). Each returns 0 on success. */
int harness_add_fault(const char *secret_id, const char *action, int times, const char *extra_json);
int harness_clear_faults(const char *secret_id);
/* GetSecretValue requests the proxy has seen for secret_id, or -1 on failure. */
long harness_get_count(const char *secret_id);

/* Secrets Manager calls straight to moto (STARFLEET_TEST_MOTO) in region, unsigned (moto
 * does not check signatures). Each returns 0 on success. version_id_out, if not NULL,
 * receives the new VersionId (at most 63 characters). */
int moto_create_string(const char *region, const char *name, const char *json_text,
                       char version_id_out[64]);
int moto_create_binary(const char *region, const char *name, const char *base64,
                       char version_id_out[64]);
int moto_put_string(const char *region, const char *name, const char *json_text,
                    char version_id_out[64]);

#endif
