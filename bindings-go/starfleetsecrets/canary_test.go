package starfleetsecrets_test

// The leak canary: a secret holds a unique canary string, a worker process reads
// it and then goes through success, every reachable error path, stale-if-error and stats,
// printing each error, the Manager and its Stats every way a careless Go program might
// (%v, %+v, %#v, %s, %q, json.Marshal). Library logging is asked for (STARFLEET_LOG=trace).
// Every byte of the worker's stdout and stderr must be free of the canary; the only thing
// the worker prints about the value is its length.
//
// Logging: with STARFLEET_LOG set, the C ABI prints core's log records to stderr as
// "[starfleet-secrets LEVEL] ..."; the test requires DEBUG records there, so the records
// the library writes are part of what is searched for the canary.
//
// The worker is this test binary run again with canaryChildEnv set (the TestDefault
// pattern): TestCanaryChild does the work there and is skipped everywhere else.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// canaryChildEnv selects the child's mode ("worker" or "nocreds"); canarySecretsEnv gives
// it the secret names as JSON. The child is never told the canary itself.
const (
	canaryChildEnv   = "STARFLEETSECRETS_CANARY_CHILD"
	canarySecretsEnv = "STARFLEETSECRETS_CANARY_SECRETS"
)

// canarySecrets names the secrets the parent creates for the worker.
type canarySecrets struct {
	Main      string // {"STARFLEET": {"SlackToken": CANARY, "Nested": {"k": CANARY}}, "N": 1, ...}
	Malformed string // {"k": "CANARY" oops
	StringDoc string // "CANARY" (a JSON string, not an object)
	ArrayDoc  string // ["CANARY"]
	Binary    string // SecretBinary = the canary's bytes
	Faulted   string // the main document; the worker puts proxy faults on it
	Stale     string // the main document; read, then failed refreshes
	Absent    string // never created
}

func newCanary(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "CANARY-" + hex.EncodeToString(b)
}

func canaryDoc(canary string) map[string]any {
	return map[string]any{
		"STARFLEET": map[string]any{"SlackToken": canary, "Nested": map[string]any{"k": canary}},
		"Other":     map[string]any{"k": canary + "-2"},
		"N":         1,
	}
}

// assertNoCanary fails if text holds the canary, its random part, or the base64 of its
// bytes (how a binary secret would leak).
func assertNoCanary(t *testing.T, canary, what, text string) {
	t.Helper()
	for _, needle := range []string{canary, strings.TrimPrefix(canary, "CANARY-"), base64.StdEncoding.EncodeToString([]byte(canary))} {
		if strings.Contains(text, needle) {
			t.Errorf("the canary leaked into %s:\n%s", what, text)
			return
		}
	}
}

// canaryEnv is the test environment without any Starfleet location or setting (the
// harness variables STARFLEET_TEST_* stay), minus drop, plus add.
func canaryEnv(drop []string, add ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		keep := !strings.HasPrefix(name, "STARFLEET") || strings.HasPrefix(name, "STARFLEET_TEST_")
		for _, d := range drop {
			if name == d {
				keep = false
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	return append(env, add...)
}

// runCanaryChild runs TestCanaryChild in mode with env; it returns stdout, stderr and the
// exit status.
func runCanaryChild(t *testing.T, env []string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCanaryChild$", "-test.count=1")
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestCanaryNeverAppearsInWorkerOutput(t *testing.T) {
	if os.Getenv(canaryChildEnv) != "" {
		t.Skip("child")
	}
	canary := newCanary(t)
	s := canarySecrets{
		Main:      uniqueName("canary"),
		Malformed: uniqueName("canary-malformed"),
		StringDoc: uniqueName("canary-string"),
		ArrayDoc:  uniqueName("canary-array"),
		Binary:    uniqueName("canary-binary"),
		Faulted:   uniqueName("canary-faulted"),
		Stale:     uniqueName("canary-stale"),
		Absent:    uniqueName("canary-absent"),
	}
	createJSON(t, s.Main, canaryDoc(canary))
	createJSON(t, s.Malformed, `{"k": "`+canary+`" oops`)
	createJSON(t, s.StringDoc, `"`+canary+`"`)
	createJSON(t, s.ArrayDoc, `["`+canary+`"]`)
	createBinary(t, s.Binary, []byte(canary))
	createJSON(t, s.Faulted, canaryDoc(canary))
	createJSON(t, s.Stale, canaryDoc(canary))
	t.Cleanup(func() {
		clearFaults(t, s.Faulted)
		clearFaults(t, s.Stale)
	})
	names, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}

	type child struct {
		mode  string
		env   []string
		lines []string // "<label> <CODE>" lines the child must print: proof each path ran
	}
	children := []child{
		{
			mode: "worker",
			env: canaryEnv(nil, canaryChildEnv+"=worker", canarySecretsEnv+"="+string(names),
				"STARFLEET_LOG=trace", "STARFLEET_SECRET_ID="+s.Main, "STARFLEET_SECRET_REGION="+region),
			lines: []string{
				fmt.Sprintf("read STARFLEET.SlackToken: %d characters", len(canary)),
				"secrets: 3 keys",
				"deeper KEY_NOT_FOUND",
				"missing KEY_NOT_FOUND",
				"missing-json KEY_NOT_FOUND",
				"object-not-string SECRET_FORMAT",
				"number-not-string SECRET_FORMAT",
				"binary-of-json SECRET_FORMAT",
				"empty-segment INVALID_ARGUMENT",
				"no-path INVALID_ARGUMENT",
				"malformed SECRET_FORMAT",
				"malformed-get SECRET_FORMAT",
				"string-doc SECRET_FORMAT",
				"array-doc SECRET_FORMAT",
				"binary-secret-get SECRET_FORMAT",
				"binary-secret-document SECRET_FORMAT",
				"binary-secret-bytes OK",
				"absent SECRET_NOT_FOUND",
				"unknown-stage SECRET_NOT_FOUND",
				"access-denied ACCESS_DENIED",
				"decryption DECRYPTION_FAILED",
				"throttled THROTTLED",
				"service SERVICE",
				"rejected-credentials CREDENTIALS",
				"timeout TIMEOUT",
				"network NETWORK",
				"negative-timeout INVALID_ARGUMENT",
				"stage-and-id INVALID_ARGUMENT",
				"closed INVALID_ARGUMENT",
				"stale: read STARFLEET.SlackToken: " + fmt.Sprint(len(canary)) + " characters",
				"stale-stats stale_served=1 last_error=SERVICE",
				"stale-refresh SERVICE",
				"worker done",
			},
		},
		{
			mode: "nocreds",
			env: canaryEnv([]string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"},
				canaryChildEnv+"=nocreds", canarySecretsEnv+"="+string(names), "STARFLEET_LOG=trace"),
			lines: []string{
				"default-no-location CONFIG_MISSING",
				"new-no-location CONFIG_MISSING",
				"bad-region-config CONFIG_INVALID",
				"broken-yaml-config CONFIG_INVALID",
				"no-credentials CREDENTIALS",
				"nocreds done",
			},
		},
	}
	for _, c := range children {
		started := time.Now()
		stdout, stderr, code := runCanaryChild(t, c.env)
		t.Logf("%s child: exit %d in %v", c.mode, code, time.Since(started).Round(time.Millisecond))
		if code != 0 {
			t.Errorf("%s child exited %d\nstdout:\n%s\nstderr:\n%s", c.mode, code, stdout, stderr)
		}
		// The short lines (results and counts; the formatted values are the " | " ones).
		var summary []string
		for _, line := range strings.Split(stdout, "\n") {
			if !strings.Contains(line, " | ") {
				summary = append(summary, line)
			}
		}
		for _, line := range c.lines {
			if !strings.Contains(stdout, "\n"+line+"\n") && !strings.HasPrefix(stdout, line+"\n") {
				t.Errorf("%s child: no line %q in stdout; its result lines:\n%s", c.mode, line, strings.Join(summary, "\n"))
			}
		}
		assertNoCanary(t, canary, c.mode+" stdout", stdout)
		assertNoCanary(t, canary, c.mode+" stderr", stderr)
		// The child prefixes what it writes to stderr; the rest are the library's records.
		records := strings.Count(stderr, "[starfleet-secrets ")
		if !strings.Contains(stderr, "[starfleet-secrets DEBUG]") {
			t.Errorf("%s child: STARFLEET_LOG=trace but no debug record on stderr:\n%s", c.mode, stderr)
		}
		t.Logf("%s child: %d bytes of stdout, %d of stderr, %d library log records",
			c.mode, len(stdout), len(stderr), records)
	}
}

// TestCanaryChild is the worker of TestCanaryNeverAppearsInWorkerOutput; it does nothing
// unless run by it.
func TestCanaryChild(t *testing.T) {
	mode := os.Getenv(canaryChildEnv)
	if mode == "" {
		t.Skip("only run by TestCanaryNeverAppearsInWorkerOutput")
	}
	var s canarySecrets
	if err := json.Unmarshal([]byte(os.Getenv(canarySecretsEnv)), &s); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "worker":
		canaryWorker(t, s)
	case "nocreds":
		canaryNoCredentials(t, s)
	default:
		t.Fatalf("unknown mode %q", mode)
	}
}

// show prints x every way fmt and encoding/json can: to stdout and (prefixed) to stderr.
func show(label string, x any) {
	j, err := json.Marshal(x)
	if err != nil {
		j = []byte("json error: " + err.Error())
	}
	fmt.Printf("%s: %v | %+v | %#v | %s | %q\n", label, x, x, x, x, x)
	fmt.Fprintf(os.Stderr, "child: %s: %s | %v\n", label, j, x)
}

// expect reports the outcome of one call: "<label> <CODE>" on stdout (OK when err is nil),
// after showing the error, its *Error, its Code and its Unwrap chain.
func expect(label string, err error) {
	if err == nil {
		fmt.Printf("%s OK\n", label)
		return
	}
	show(label+" error", err)
	var e *sfs.Error
	if errors.As(err, &e) {
		show(label+" *Error", e)
		show(label+" *Error value", *e)
	}
	var code sfs.Code
	if !errors.As(err, &code) {
		fmt.Printf("%s NOT-A-LIBRARY-ERROR\n", label)
		return
	}
	show(label+" unwrapped", errors.Unwrap(err))
	fmt.Printf("%s %s\n", label, code.String())
}

// showManager prints the Manager and its Stats.
func showManager(label string, m *sfs.Manager) {
	show(label+" manager", m)
	stats, err := m.Stats()
	if err != nil {
		expect(label+" stats", err)
		return
	}
	show(label+" stats", stats)
}

func canaryWorker(t *testing.T, s canarySecrets) {
	ctx := context.Background()

	// Success, through the default Manager (STARFLEET_SECRET_ID / _REGION).
	def := sfs.Default()
	token, err := def.Get(ctx, "STARFLEET.SlackToken")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("read STARFLEET.SlackToken: %d characters\n", len(token))
	doc, err := def.Secrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("secrets: %d keys\n", len(doc))
	showManager("default", def)

	// Key paths into the document.
	_, err = def.Get(ctx, "STARFLEET.SlackToken.deeper")
	expect("deeper", err)
	_, err = def.Get(ctx, "STARFLEET.Nope")
	expect("missing", err)
	_, err = def.GetJSON(ctx, "Other.k.x")
	expect("missing-json", err)
	_, err = def.Get(ctx, "STARFLEET.Nested")
	expect("object-not-string", err)
	_, err = def.Get(ctx, "N")
	expect("number-not-string", err)
	_, err = def.Binary(ctx)
	expect("binary-of-json", err)
	_, err = def.Get(ctx, "STARFLEET..SlackToken")
	expect("empty-segment", err)
	_, err = def.Get(ctx)
	expect("no-path", err)

	// Documents of the wrong shape.
	m := newManager(t, sfs.Options{SecretID: s.Malformed})
	_, err = m.Secrets(ctx)
	expect("malformed", err)
	_, err = m.Get(ctx, "k")
	expect("malformed-get", err)
	showManager("malformed", m)
	m.Close()
	m = newManager(t, sfs.Options{SecretID: s.StringDoc})
	_, err = m.Get(ctx, "k")
	expect("string-doc", err)
	showManager("string-doc", m)
	m.Close()
	m = newManager(t, sfs.Options{SecretID: s.ArrayDoc})
	_, err = m.GetJSON(ctx)
	expect("array-doc", err)
	m.Close()
	m = newManager(t, sfs.Options{SecretID: s.Binary})
	_, err = m.Get(ctx, "k")
	expect("binary-secret-get", err)
	_, err = m.GetJSON(ctx)
	expect("binary-secret-document", err)
	b, err := m.Binary(ctx)
	expect("binary-secret-bytes", err)
	fmt.Printf("binary: %d bytes\n", len(b))
	showManager("binary", m)
	m.Close()

	// The secret, or the version, does not exist.
	m = newManager(t, sfs.Options{SecretID: s.Absent})
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("absent", err)
	m.Close()
	m = newManager(t, sfs.Options{SecretID: s.Main, VersionStage: "NOPE"})
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("unknown-stage", err)
	m.Close()

	// AWS failures injected by the fault proxy, each on a fresh Manager.
	for _, f := range []struct {
		label, action string
		extra         map[string]any
	}{
		{"access-denied", "error", map[string]any{"status": 400, "code": "AccessDeniedException", "message": "denied"}},
		{"decryption", "error", map[string]any{"status": 400, "code": "DecryptionFailure"}},
		{"throttled", "throttle", nil},
		{"service", "error", map[string]any{"status": 503, "code": "ServiceUnavailable"}},
		{"rejected-credentials", "error", map[string]any{"status": 400, "code": "UnrecognizedClientException"}},
	} {
		fault(t, s.Faulted, f.action, 0, f.extra)
		m = newManager(t, sfs.Options{SecretID: s.Faulted})
		_, err = m.Get(ctx, "STARFLEET.SlackToken")
		expect(f.label, err)
		showManager(f.label, m)
		m.Close()
		clearFaults(t, s.Faulted)
	}
	fault(t, s.Faulted, "hang", 0, map[string]any{"hang_ms": 5000})
	m = newManager(t, sfs.Options{SecretID: s.Faulted, Timeout: time.Second})
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("timeout", err)
	showManager("timeout", m)
	m.Close()
	clearFaults(t, s.Faulted)
	m = newManager(t, sfs.Options{SecretID: s.Faulted, EndpointURL: closedPortURL(t)})
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("network", err)
	m.Close()

	// Arguments (configuration errors: in canaryNoCredentials, where the environment
	// names no location; here STARFLEET_SECRET_ID would take precedence over a file).
	_, err = sfs.New(sfs.Options{SecretID: s.Main, Region: region, Timeout: -time.Second})
	expect("negative-timeout", err)
	m = newManager(t, sfs.Options{SecretID: s.Main, VersionStage: "AWSCURRENT", VersionID: "v1"})
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("stage-and-id", err)
	m.Close()
	m = newManager(t, sfs.Options{SecretID: s.Main})
	if _, err := m.Get(ctx, "STARFLEET.SlackToken"); err != nil {
		t.Fatal(err)
	}
	m.Close()
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("closed", err)
	show("closed manager", m)

	// Stale-if-error: a value is cached, then every refresh fails.
	m = newManager(t, sfs.Options{SecretID: s.Stale, TTL: 300 * time.Millisecond})
	defer m.Close()
	if _, err := m.Get(ctx, "STARFLEET.SlackToken"); err != nil {
		t.Fatal(err)
	}
	fault(t, s.Stale, "error", 0, map[string]any{"status": 500})
	defer clearFaults(t, s.Stale)
	time.Sleep(400 * time.Millisecond)
	token, err = m.Get(ctx, "STARFLEET.SlackToken")
	if err != nil {
		t.Fatalf("stale-if-error: %v", err)
	}
	fmt.Printf("stale: read STARFLEET.SlackToken: %d characters\n", len(token))
	stats, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("stale-stats stale_served=%d last_error=%s\n", stats.StaleServed, stats.LastError.String())
	err = m.Refresh(ctx)
	expect("stale-refresh", err)
	showManager("stale", m)
	showManager("default at the end", def)
	fmt.Println("worker done")
}

// canaryNoCredentials runs with no Starfleet location and no AWS credentials: the
// location and configuration errors, then a fetch without credentials.
func canaryNoCredentials(t *testing.T, s canarySecrets) {
	ctx := context.Background()
	def := sfs.Default()
	_, err := def.Get(ctx, "STARFLEET.SlackToken")
	expect("default-no-location", err)
	show("default manager", def)
	m, err := sfs.New(sfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("new-no-location", err)
	m.Close()
	// Starfleet configuration files that are wrong.
	dir := t.TempDir()
	badRegion := filepath.Join(dir, "bad-region.yaml")
	broken := filepath.Join(dir, "broken.yaml")
	writeFile(t, badRegion, "STARFLEET:\n  SecretsManager:\n    SecretId: "+s.Main+"\n    SecretRegion: Ohio\n")
	writeFile(t, broken, "STARFLEET:\n  SecretsManager: [unclosed\n")
	for label, file := range map[string]string{"bad-region-config": badRegion, "broken-yaml-config": broken} {
		m, err = sfs.New(sfs.Options{Config: file})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Get(ctx, "STARFLEET.SlackToken")
		expect(label, err)
		m.Close()
	}
	m = newManager(t, sfs.Options{SecretID: s.Main})
	_, err = m.Get(ctx, "STARFLEET.SlackToken")
	expect("no-credentials", err)
	showManager("no-credentials", m)
	m.Close()
	fmt.Println("nocreds done")
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCanaryInProcess: the errors, Manager and Stats this process holds, formatted every
// way, hold no canary either.
func TestCanaryInProcess(t *testing.T) {
	if os.Getenv(canaryChildEnv) != "" {
		t.Skip("child")
	}
	ctx := context.Background()
	canary := newCanary(t)
	name := uniqueName("canary-inproc")
	malformed := uniqueName("canary-inproc-malformed")
	stringDoc := uniqueName("canary-inproc-string")
	createJSON(t, name, canaryDoc(canary))
	createJSON(t, malformed, `{"k": "`+canary+`" oops`)
	createJSON(t, stringDoc, `"`+canary+`"`)

	m := newManager(t, sfs.Options{SecretID: name, TTL: 300 * time.Millisecond})
	if got, err := m.Get(ctx, "STARFLEET.SlackToken"); err != nil || got != canary {
		t.Fatalf("Get = %d characters, %v", len(got), err)
	}
	var errs []error
	for _, path := range [][]string{
		{"STARFLEET.SlackToken.deeper"}, {"STARFLEET.Nope"}, {"STARFLEET.Nested"}, {"N"},
		{"STARFLEET", "Nested", "k", "x"}, {"Other..k"},
	} {
		if _, err := m.Get(ctx, path...); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := m.GetJSON(ctx, "Other.k.deeper"); err != nil {
		errs = append(errs, err)
	}
	if _, err := m.Binary(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, id := range []string{malformed, stringDoc} {
		if _, err := newManager(t, sfs.Options{SecretID: id}).Secrets(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	// A failed refresh: the stale value is served and the failure recorded.
	fault(t, name, "error", 0, map[string]any{"status": 500})
	defer clearFaults(t, name)
	time.Sleep(400 * time.Millisecond)
	if got, err := m.Get(ctx, "STARFLEET.SlackToken"); err != nil || got != canary {
		t.Fatalf("stale Get = %d characters, %v", len(got), err)
	}
	if err := m.Refresh(ctx); err != nil {
		errs = append(errs, err)
	}
	if len(errs) != 11 {
		t.Fatalf("%d errors, want 11: %v", len(errs), errs)
	}
	stats, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.StaleServed != 1 || stats.LastError != sfs.ErrService {
		t.Fatalf("Stats = %+v", stats)
	}

	views := []any{m, stats, &stats}
	for _, err := range errs {
		views = append(views, err, errors.Unwrap(err))
		var e *sfs.Error
		if errors.As(err, &e) {
			views = append(views, *e)
		}
	}
	for _, v := range views {
		text := fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v)
		if j, err := json.Marshal(v); err == nil {
			text += " " + string(j)
		}
		assertNoCanary(t, canary, fmt.Sprintf("%T", v), text)
	}
}
