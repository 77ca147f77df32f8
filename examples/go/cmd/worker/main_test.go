package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const runMainEnv = "STARFLEET_WORKER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) != "" {
		os.Exit(run(os.Args[len(os.Args)-1:]))
	}
	if os.Getenv("STARFLEET_TEST_MOTO") == "" {
		fmt.Fprintln(os.Stderr, "STARFLEET_TEST_MOTO not set: run under scripts/with-harness")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// createSecret creates a SecretString in moto (which does not check signatures).
func createSecret(t *testing.T, name, value string) {
	body, _ := json.Marshal(map[string]string{"Name": name, "SecretString": value})
	req, _ := http.NewRequest("POST", os.Getenv("STARFLEET_TEST_MOTO")+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.CreateSecret")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-2/secretsmanager/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("CreateSecret: %d", resp.StatusCode)
	}
}

// worker runs main() in a child process with STARFLEET_CONFIG pointing at secret name.
func worker(t *testing.T, name, path string) (string, string, int) {
	dir := t.TempDir()
	cfg := fmt.Sprintf("STARFLEET:\n  SecretsManager:\n    SecretId: %s\n    SecretRegion: us-east-2\n", name)
	if err := os.WriteFile(filepath.Join(dir, "starfleet.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", path)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "STARFLEET_CONFIG="+dir, "STARFLEET_SECRET_ID=", "STARFLEET_SECRET_REGION=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestWorkerConfirmsWithoutPrintingTheValue(t *testing.T) {
	name := fmt.Sprintf("go-worker-%d-%d", os.Getpid(), time.Now().UnixNano())
	token := "xoxb-go-worker-canary"
	createSecret(t, name, `{"STARFLEET": {"SlackToken": "`+token+`"}}`)
	out, errOut, code := worker(t, name, "STARFLEET.SlackToken")
	if code != 0 || !strings.Contains(out, "read STARFLEET.SlackToken (21 characters, value redacted") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, token) {
		t.Fatal("the worker printed the secret value")
	}
	out, errOut, code = worker(t, name, "STARFLEET.Missing")
	if code != 1 || !strings.Contains(errOut, "KEY_NOT_FOUND") || strings.Contains(out+errOut, token) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
