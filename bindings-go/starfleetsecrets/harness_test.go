package starfleetsecrets_test

// Helpers for the harness (tests/harness/README.md): moto behind the fault proxy, started
// by scripts/with-harness. Secrets are created with plain HTTP calls to moto (it does not
// check signatures), so the tests need no AWS SDK.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

const region = "us-east-2"

var (
	proxyURL string
	motoURL  string
	runID    = fmt.Sprintf("go%d-%d", os.Getpid(), time.Now().Unix())
	serial   atomic.Int64
)

func TestMain(m *testing.M) {
	proxyURL = os.Getenv("STARFLEET_TEST_PROXY")
	motoURL = os.Getenv("STARFLEET_TEST_MOTO")
	if os.Getenv(childEnv) == "" && (proxyURL == "" || motoURL == "") {
		fmt.Fprintln(os.Stderr, "STARFLEET_TEST_PROXY / STARFLEET_TEST_MOTO not set: run under scripts/with-harness")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// uniqueName is a secret name no other test (or run) uses.
func uniqueName(what string) string {
	return fmt.Sprintf("%s-%s-%d", runID, what, serial.Add(1))
}

func doJSON(t testing.TB, method, u string, headers map[string]string, body any) map[string]any {
	t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, raw)
	}
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
	}
	return out
}

func moto(t testing.TB, operation string, body map[string]any) map[string]any {
	t.Helper()
	return doJSON(t, "POST", motoURL+"/", map[string]string{
		"X-Amz-Target":  "secretsmanager." + operation,
		"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/" + region + "/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
	}, body)
}

// createJSON creates a secret holding doc (any JSON value, or raw text) and returns its VersionId.
func createJSON(t testing.TB, name string, doc any) string {
	t.Helper()
	text, ok := doc.(string)
	if !ok {
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		text = string(b)
	}
	return moto(t, "CreateSecret", map[string]any{"Name": name, "SecretString": text})["VersionId"].(string)
}

func putJSON(t testing.TB, name string, doc any) string {
	t.Helper()
	b, _ := json.Marshal(doc)
	return moto(t, "PutSecretValue", map[string]any{"SecretId": name, "SecretString": string(b)})["VersionId"].(string)
}

func createBinary(t testing.TB, name string, data []byte) {
	t.Helper()
	moto(t, "CreateSecret", map[string]any{"Name": name, "SecretBinary": base64.StdEncoding.EncodeToString(data)})
}

// fault adds a proxy fault rule for secret name (times 0 = unlimited).
func fault(t testing.TB, name, action string, times int, extra map[string]any) {
	t.Helper()
	body := map[string]any{"secret_id": name, "action": action, "times": times}
	for k, v := range extra {
		body[k] = v
	}
	doJSON(t, "POST", proxyURL+"/__harness/faults", nil, body)
}

func clearFaults(t testing.TB, name string) {
	t.Helper()
	doJSON(t, "DELETE", proxyURL+"/__harness/faults?secret_id="+url.QueryEscape(name), nil, nil)
}

// calls is the number of GetSecretValue requests the proxy saw for secret name.
func calls(t testing.TB, name string) int {
	t.Helper()
	counts := doJSON(t, "GET", proxyURL+"/__harness/counts?secret_id="+url.QueryEscape(name), nil, nil)
	n, _ := counts["GetSecretValue"].(float64)
	return int(n)
}
