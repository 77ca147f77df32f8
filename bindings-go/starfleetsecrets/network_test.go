package starfleetsecrets_test

// Network paths and credential sources core resolves for every language: an HTTPS proxy
// (HTTPS_PROXY, NO_PROXY, a refusing proxy), a profile's credential_process, a login_session
// profile (the session `aws login` cached) and instance metadata (IMDSv2, a local fake). Each case
// runs TestDefaultChild in its own process with its own environment, since the proxy and the
// credential chain are read once per SDK client of a process. The harness's CONNECT proxies
// count their tunnels, and STARFLEET_TEST_PRIVATE_ENDPOINT names a host only they resolve.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	got := readInChild(t, name, []string{"AWS_CONFIG_FILE=" + config}, credentialVars...)
	if got != "OK xoxb-process" {
		t.Fatal(got)
	}
	if keys := signingKeys(t, name); len(keys) != 1 || keys[0] != "AKIDGOPROCESS" {
		t.Fatalf("signed with: %v", keys)
	}
}

var credentialVars = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// signingKeys are the access keys that signed name's requests, as the harness saw them.
func signingKeys(t *testing.T, name string) []string {
	t.Helper()
	var keys []string
	for _, r := range doJSON(t, "GET", proxyURL+"/__harness/requests?secret_id="+name, nil, nil)["requests"].([]any) {
		keys = append(keys, fmt.Sprint(r.(map[string]any)["access_key"]))
	}
	return keys
}

func TestLoginSessionProfileWithTheSessionAwsLoginCached(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("login")
	createJSON(t, name, starfleetDoc("xoxb-login"))
	home := t.TempDir()
	session := "arn:aws:iam::123456789012:user/Admin"
	cache := filepath.Join(home, ".aws", "login", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	// The P-256 key `aws login` keeps for its DPoP proofs, as SEC1 PEM.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := json.Marshal(map[string]any{
		"accessToken": map[string]string{
			"accessKeyId": "AKIDGOLOGIN", "secretAccessKey": "s", "sessionToken": "t",
			"accountId": "123456789012", "expiresAt": "2099-01-01T00:00:00Z",
		},
		"tokenType":    "aws_sigv4",
		"refreshToken": "r",
		"clientId":     "arn:aws:signin:::devtools/same-device",
		"dpopKey":      string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})),
	})
	sum := sha256.Sum256([]byte(session))
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), token, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(home, "config")
	if err := os.WriteFile(config, []byte("[default]\nlogin_session = "+session+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := readInChild(t, name, []string{"HOME=" + home, "AWS_CONFIG_FILE=" + config}, credentialVars...)
	if got != "OK xoxb-login" {
		t.Fatal(got)
	}
	if keys := signingKeys(t, name); len(keys) != 1 || keys[0] != "AKIDGOLOGIN" {
		t.Fatalf("signed with: %v", keys)
	}
}

func TestInstanceMetadataCredentialsIMDSv2(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("imds")
	createJSON(t, name, starfleetDoc("xoxb-imds"))
	const token = "go-imds-token"
	var mu sync.Mutex
	var seen []string
	// Instance metadata with IMDSv2 required: every request but the token's needs the token.
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch {
		case r.Method == "PUT" && r.URL.Path == "/latest/api/token" && r.Header.Get("x-aws-ec2-metadata-token-ttl-seconds") != "":
			w.Header().Set("x-aws-ec2-metadata-token-ttl-seconds", "21600")
			fmt.Fprint(w, token)
		case r.Header.Get("x-aws-ec2-metadata-token") != token:
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, "go-role")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/go-role":
			fmt.Fprint(w, `{"Code": "Success", "AccessKeyId": "AKIDGOIMDS", "SecretAccessKey": "s", "Token": "t", "Expiration": "2099-01-01T00:00:00Z"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer imds.Close()
	got := readInChild(t, name, []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL},
		append(credentialVars, "AWS_EC2_METADATA_DISABLED")...)
	if got != "OK xoxb-imds" {
		t.Fatal(got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || seen[0] != "PUT /latest/api/token" {
		t.Fatalf("IMDS saw: %v", seen)
	}
	if keys := signingKeys(t, name); len(keys) != 1 || keys[0] != "AKIDGOIMDS" {
		t.Fatalf("signed with: %v", keys)
	}
}
