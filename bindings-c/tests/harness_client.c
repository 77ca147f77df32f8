/* See harness_client.h. */
#define _POSIX_C_SOURCE 200809L
#include "harness_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_base(const char *base_url, char host[64], int *port) {
    const char *p = strstr(base_url, "://");
    p = p ? p + 3 : base_url;
    const char *colon = strchr(p, ':');
    if (!colon || (size_t)(colon - p) >= 64) {
        return -1;
    }
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    *port = atoi(colon + 1);
    return *port > 0 ? 0 : -1;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int harness_request(const char *base_url, const char *method, const char *path,
                    const char *extra_headers, const char *body, harness_response *out) {
    char host[64];
    int port;
    if (parse_base(base_url, host, &port) != 0) {
        fprintf(stderr, "harness: bad base URL %s\n", base_url);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("harness: socket");
        return -1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "harness: cannot connect to %s\n", base_url);
        close(fd);
        return -1;
    }
    size_t body_len = body ? strlen(body) : 0;
    size_t head_cap = 1024 + strlen(path) + (extra_headers ? strlen(extra_headers) : 0);
    char *head = malloc(head_cap);
    if (!head) {
        close(fd);
        return -1;
    }
    int head_len = snprintf(head, head_cap,
                            "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
                            method, path, host, port, body_len, extra_headers ? extra_headers : "");
    int rc = write_all(fd, head, (size_t)head_len);
    free(head);
    if (rc == 0 && body_len > 0) {
        rc = write_all(fd, body, body_len);
    }
    if (rc != 0) {
        fprintf(stderr, "harness: write to %s failed\n", base_url);
        close(fd);
        return -1;
    }

    /* Read until the headers are complete and Content-Length bytes of body are in (or EOF). */
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    long content_length = -1;
    char *body_start = NULL;
    for (;;) {
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        if (!buf) {
            break;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
        if (!body_start) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                body_start = end + 4;
                for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
                    if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
                        content_length = strtol(line + 2 + 15, NULL, 10);
                    }
                }
            }
        }
        if (body_start && content_length >= 0 &&
            (long)(len - (size_t)(body_start - buf)) >= content_length) {
            break;
        }
    }
    close(fd);
    if (!buf || !body_start) {
        fprintf(stderr, "harness: no HTTP response from %s%s\n", base_url, path);
        free(buf);
        return -1;
    }
    out->status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &out->status);
    size_t body_off = (size_t)(body_start - buf);
    memmove(buf, body_start, len - body_off);
    buf[len - body_off] = '\0';
    out->body = buf;
    return 0;
}

void harness_response_free(harness_response *r) {
    free(r->body);
    r->body = NULL;
}

static const char *env_or_die(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "harness: %s is not set (run under scripts/with-harness)\n", name);
        exit(2);
    }
    return v;
}

/* JSON string escaping for test data (ASCII control characters as \u00XX). */
static char *json_quote(const char *s) {
    size_t cap = strlen(s) * 6 + 3, n = 0;
    char *q = malloc(cap);
    if (!q) {
        return NULL;
    }
    q[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            q[n++] = '\\';
            q[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(q + n, cap - n, "\\u%04x", *p);
        } else {
            q[n++] = (char)*p;
        }
    }
    q[n++] = '"';
    q[n] = '\0';
    return q;
}

static int control(const char *method, const char *path, const char *body, harness_response *r) {
    if (harness_request(env_or_die("STARFLEET_TEST_PROXY"), method, path, NULL, body, r) != 0) {
        return -1;
    }
    if (r->status != 200) {
        fprintf(stderr, "harness: %s %s -> %d %s\n", method, path, r->status, r->body);
        harness_response_free(r);
        return -1;
    }
    return 0;
}

int harness_add_fault(const char *secret_id, const char *action, int times, const char *extra_json) {
    char *id = json_quote(secret_id);
    size_t cap = strlen(id) + strlen(action) + (extra_json ? strlen(extra_json) : 0) + 128;
    char *body = malloc(cap);
    snprintf(body, cap, "{\"secret_id\": %s, \"action\": \"%s\", \"times\": %d%s%s}", id, action,
             times, extra_json ? ", " : "", extra_json ? extra_json : "");
    harness_response r;
    int rc = control("POST", "/__harness/faults", body, &r);
    free(body);
    free(id);
    if (rc == 0) {
        harness_response_free(&r);
    }
    return rc;
}

int harness_clear_faults(const char *secret_id) {
    char path[512];
    snprintf(path, sizeof path, "/__harness/faults?secret_id=%s", secret_id);
    harness_response r;
    int rc = control("DELETE", path, NULL, &r);
    if (rc == 0) {
        harness_response_free(&r);
    }
    return rc;
}

long harness_get_count(const char *secret_id) {
    char path[512];
    snprintf(path, sizeof path, "/__harness/counts?secret_id=%s", secret_id);
    harness_response r;
    if (control("GET", path, NULL, &r) != 0) {
        return -1;
    }
    long n = 0;
    const char *at = strstr(r.body, "\"GetSecretValue\":");
    if (at) {
        n = strtol(at + strlen("\"GetSecretValue\":"), NULL, 10);
    }
    harness_response_free(&r);
    return n;
}

static int moto_call(const char *region, const char *operation, const char *body,
                     char version_id_out[64]) {
    char headers[512];
    snprintf(headers, sizeof headers,
             "X-Amz-Target: secretsmanager.%s\r\n"
             "Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/%s/secretsmanager/"
             "aws4_request, SignedHeaders=host, Signature=0\r\n",
             operation, region);
    harness_response r;
    if (harness_request(env_or_die("STARFLEET_TEST_MOTO"), "POST", "/", headers, body, &r) != 0) {
        return -1;
    }
    int ok = r.status == 200;
    if (!ok) {
        fprintf(stderr, "moto: %s -> %d %s\n", operation, r.status, r.body);
    } else if (version_id_out) {
        version_id_out[0] = '\0';
        const char *at = strstr(r.body, "\"VersionId\": \"");
        if (at) {
            sscanf(at + strlen("\"VersionId\": \""), "%63[^\"]", version_id_out);
        }
    }
    harness_response_free(&r);
    return ok ? 0 : -1;
}

static int moto_with_value(const char *region, const char *operation, const char *id_key,
                           const char *name, const char *value_key, const char *value_json,
                           char version_id_out[64]) {
    char *qname = json_quote(name);
    size_t cap = strlen(qname) + strlen(value_json) + 128;
    char *body = malloc(cap);
    snprintf(body, cap, "{\"%s\": %s, \"%s\": %s}", id_key, qname, value_key, value_json);
    int rc = moto_call(region, operation, body, version_id_out);
    free(body);
    free(qname);
    return rc;
}

int moto_create_string(const char *region, const char *name, const char *json_text,
                       char version_id_out[64]) {
    char *value = json_quote(json_text);
    int rc = moto_with_value(region, "CreateSecret", "Name", name, "SecretString", value,
                             version_id_out);
    free(value);
    return rc;
}

int moto_create_binary(const char *region, const char *name, const char *base64,
                       char version_id_out[64]) {
    char *value = json_quote(base64);
    int rc = moto_with_value(region, "CreateSecret", "Name", name, "SecretBinary", value,
                             version_id_out);
    free(value);
    return rc;
}

int moto_put_string(const char *region, const char *name, const char *json_text,
                    char version_id_out[64]) {
    char *value = json_quote(json_text);
    int rc = moto_with_value(region, "PutSecretValue", "SecretId", name, "SecretString", value,
                             version_id_out);
    free(value);
    return rc;
}
