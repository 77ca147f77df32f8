package starfleetsecrets_test

// Network paths and credential sources core resolves for every language: an HTTPS proxy
// (HTTPS_PROXY, NO_PROXY, a refusing proxy) and a profile's credential_process. Each case
// runs TestDefaultChild in its own process with its own environment, since the proxy and the
// credential chain are read once per SDK client of a process. The harness's CONNECT proxies
// count their tunnels, and STARFLEET_TEST_PRIVATE_ENDPOINT names a host only they resolve.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var proxyVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"}

// readInChild reads STARFLEET.SlackToken of secret name in a child process with the test
// environment minus the proxy variables and `remove`, plus `env`; returns its RESULT line.
func readInChild(t *testing.T, name string, env []string, remove ...string) string {
	t.Helper()
	drop := map[string]bool{}
	for _, k := range append(remove, proxyVars...) {
		drop[k] = true
	}
	child := []string{childEnv + "=1", "STARFLEET_SECRET_ID=" + name, "STARFLEET_SECRET_REGION=" + region}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] && !strings.HasPrefix(k, "STARFLEET_SECRET") && k != "STARFLEET_CONFIG" {
			child = append(child, kv)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultChild$", "-test.v")
	cmd.Env = append(child, env...)
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "RESULT "); i >= 0 {
			return line[i+len("RESULT "):]
		}
	}
	t.Fatalf("no RESULT from the child:\n%s", out)
	return ""
}

func connectProxy(t *testing.T, spec map[string]any) map[string]any {
	t.Helper()
	return doJSON(t, "POST", proxyURL+"/__harness/connect-proxies", nil, spec)
}

func proxyStats(t *testing.T, proxy map[string]any) map[string]any {
	t.Helper()
	return doJSON(t, "GET", fmt.Sprintf("%s/__harness/connect-proxies/%v", proxyURL, proxy["id"]), nil, nil)
}

func TestReadsThroughHTTPSProxy(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("proxy")
	createJSON(t, name, starfleetDoc("xoxb-proxy"))
	private := os.Getenv("STARFLEET_TEST_PRIVATE_ENDPOINT")
	endpoint := "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + private
	if got := readInChild(t, name, []string{endpoint}); !strings.HasPrefix(got, "NETWORK") {
		t.Fatalf("reachable without the proxy: %s", got)
	}
	proxy := connectProxy(t, map[string]any{})
	if got := readInChild(t, name, []string{endpoint, "HTTPS_PROXY=" + proxy["url"].(string)}); got != "OK xoxb-proxy" {
		t.Fatalf("through the proxy: %s", got)
	}
	targets := proxyStats(t, proxy)["targets"].(map[string]any)
	if n, _ := targets[strings.TrimPrefix(private, "https://")].(float64); n != 1 || len(targets) != 1 {
		t.Fatalf("tunnels: %v", targets)
	}
	if n := calls(t, name); n != 1 {
		t.Fatalf("GetSecretValue calls: %d", n)
	}
}

func TestNoProxyBypassesTheProxy(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("no-proxy")
	createJSON(t, name, starfleetDoc("xoxb-proxy"))
	proxy := connectProxy(t, map[string]any{})
	via := "HTTPS_PROXY=" + proxy["url"].(string)
	if got := readInChild(t, name, []string{via, "NO_PROXY=127.0.0.1"}); got != "OK xoxb-proxy" {
		t.Fatal(got)
	}
	if n := proxyStats(t, proxy)["tunnels"].(float64); n != 0 {
		t.Fatalf("NO_PROXY=127.0.0.1 still tunnelled (%v)", n)
	}
	if got := readInChild(t, name, []string{via, "NO_PROXY=example.com"}); got != "OK xoxb-proxy" {
		t.Fatal(got)
	}
	if n := proxyStats(t, proxy)["tunnels"].(float64); n != 1 {
		t.Fatalf("tunnels: %v", n)
	}
}

func TestRefusingProxyIsNetworkNamingItWithoutItsPassword(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("proxy-refuses")
	createJSON(t, name, starfleetDoc("xoxb-proxy"))
	proxy := connectProxy(t, map[string]any{"refuse": 403})
	port := proxy["url"].(string)[strings.LastIndex(proxy["url"].(string), ":")+1:]
	got := readInChild(t, name, []string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + os.Getenv("STARFLEET_TEST_PRIVATE_ENDPOINT"),
		"HTTPS_PROXY=http://frank:go-s3cret@127.0.0.1:" + port,
	})
	if !strings.HasPrefix(got, "NETWORK") || !strings.Contains(got, "http://frank:***@127.0.0.1:"+port+" (HTTPS_PROXY)") {
		t.Fatalf("want NETWORK naming the proxy: %s", got)
	}
	if strings.Contains(got, "go-s3cret") {
		t.Fatalf("the password leaked: %s", got)
	}
}

func TestCredentialProcessInTheProfile(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("credential-process")
	createJSON(t, name, starfleetDoc("xoxb-process"))
	dir := t.TempDir()
	script := filepath.Join(dir, "credentials.sh")
	json := `{"Version": 1, "AccessKeyId": "AKIDGOPROCESS", "SecretAccessKey": "s", "SessionToken": "t"}`
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho '"+json+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[default]\ncredential_process = "+script+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := readInChild(t, name, []string{"AWS_CONFIG_FILE=" + config}, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
	if got != "OK xoxb-process" {
		t.Fatal(got)
	}
	requests := doJSON(t, "GET", proxyURL+"/__harness/requests?secret_id="+name, nil, nil)["requests"].([]any)
	if len(requests) != 1 || requests[0].(map[string]any)["access_key"] != "AKIDGOPROCESS" {
		t.Fatalf("signed with: %v", requests)
	}
}
