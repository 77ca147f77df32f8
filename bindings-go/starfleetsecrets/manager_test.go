package starfleetsecrets_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// childEnv makes the test binary act as a child process (see TestDefault).
const childEnv = "STARFLEETSECRETS_TEST_CHILD"

func starfleetDoc(token string) map[string]any {
	return map[string]any{
		"STARFLEET":        map[string]any{"SlackToken": token},
		"GitHubSyncWorker": map[string]any{"my.org": "-----BEGIN KEY-----"},
		"Count":            7,
	}
}

func newManager(t *testing.T, opts sfs.Options) *sfs.Manager {
	t.Helper()
	if opts.Region == "" {
		opts.Region = region
	}
	m, err := sfs.New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestVersionAndCodesMatchTheLibrary(t *testing.T) {
	if v := sfs.Version(); v == "" || !strings.Contains(v, ".") {
		t.Fatalf("Version() = %q", v)
	}
	if err := sfs.CheckABI(); err != nil {
		t.Fatal(err)
	}
	if got := sfs.ErrSecretNotFound.String(); got != "SECRET_NOT_FOUND" {
		t.Errorf("String() = %q", got)
	}
	if got := sfs.Code(999).String(); got != "UNKNOWN" {
		t.Errorf("String() = %q", got)
	}
}

func TestGetAndFriends(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("basic")
	vid := createJSON(t, name, starfleetDoc("xoxb-go-1"))
	m := newManager(t, sfs.Options{SecretID: name})

	if got, err := m.Get(ctx, "STARFLEET.SlackToken"); err != nil || got != "xoxb-go-1" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	for _, path := range [][]string{{"GitHubSyncWorker", "my.org"}, {`GitHubSyncWorker.my\.org`}} {
		if got, err := m.Get(ctx, path...); err != nil || got != "-----BEGIN KEY-----" {
			t.Fatalf("Get(%q) = %q, %v", path, got, err)
		}
	}
	if raw, err := m.GetJSON(ctx, "STARFLEET"); err != nil || string(raw) != `{"SlackToken":"xoxb-go-1"}` {
		t.Fatalf("GetJSON = %s, %v", raw, err)
	}
	if raw, err := m.GetJSON(ctx, "Count"); err != nil || string(raw) != "7" {
		t.Fatalf("GetJSON = %s, %v", raw, err)
	}
	doc, err := m.Secrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if doc["STARFLEET"].(map[string]any)["SlackToken"] != "xoxb-go-1" || doc["Count"] != 7.0 {
		t.Fatalf("Secrets = %v", doc)
	}
	id, reg, err := m.Location()
	if err != nil || id != name || reg != region {
		t.Fatalf("Location = %q %q %v", id, reg, err)
	}
	stats, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Fetches != 1 || stats.VersionID != vid || stats.LastError != 0 || stats.LastRefresh.IsZero() {
		t.Fatalf("Stats = %+v", stats)
	}
	if stats.Hits < 5 {
		t.Fatalf("hits = %d", stats.Hits)
	}
	if n := calls(t, name); n != 1 {
		t.Fatalf("GetSecretValue calls = %d, want 1", n)
	}
}

func TestSixtyFourGoroutinesOnAColdCacheMakeOneCall(t *testing.T) {
	name := uniqueName("flight")
	createJSON(t, name, starfleetDoc("xoxb-many"))
	// Slow the first call down so every goroutine arrives while it is in flight.
	fault(t, name, "delay", 1, map[string]any{"delay_ms": 500})
	m := newManager(t, sfs.Options{SecretID: name})

	const n = 64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, err := m.Get(context.Background(), "STARFLEET.SlackToken")
			if err == nil && got != "xoxb-many" {
				err = errors.New("wrong value")
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := calls(t, name); got != 1 {
		t.Fatalf("GetSecretValue calls = %d, want 1", got)
	}
	if s, _ := m.Stats(); s.Fetches != 1 {
		t.Fatalf("fetches = %d", s.Fetches)
	}
}

func TestASlowAnswerIsRead(t *testing.T) {
	name := uniqueName("slow")
	createJSON(t, name, starfleetDoc("xoxb-slow"))
	// A Secrets Manager (or KMS behind it) taking 1.5 s is slow, not broken.
	fault(t, name, "delay", 0, map[string]any{"delay_ms": 1500})
	defer clearFaults(t, name)
	// A deadline no other test uses: a connection pool of its own, so the call goes out on a
	// new connection, which waits for its answer (a reused one could be hedged: two calls).
	m := newManager(t, sfs.Options{SecretID: name, Timeout: 9700 * time.Millisecond})
	started := time.Now()
	got, err := m.Get(context.Background(), "STARFLEET.SlackToken")
	took := time.Since(started)
	if err != nil || got != "xoxb-slow" {
		t.Fatalf("Get = %q, %v (after %v)", got, err, took)
	}
	if took < 1500*time.Millisecond || took > 2500*time.Millisecond {
		t.Fatalf("took %v for a 1.5 s answer", took)
	}
	if n := calls(t, name); n != 1 {
		t.Fatalf("GetSecretValue calls = %d, want 1", n)
	}
	if s := stats(t, m); s.Failures != 0 || s.Hedges != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func closedPortURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestErrorCodes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "starfleet.yaml")
	if err := os.WriteFile(badConfig, []byte("STARFLEET:\n  SecretsManager:\n    SecretId: X\n    SecretRegion: Ohio\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name    string
		setup   func(name string) sfs.Options
		path    []string
		want    sfs.Code
		mention string
	}
	aws := func(action string, extra map[string]any) func(string) sfs.Options {
		return func(name string) sfs.Options {
			createJSON(t, name, starfleetDoc("xoxb-err"))
			fault(t, name, action, 0, extra)
			return sfs.Options{SecretID: name}
		}
	}
	plain := func(name string) sfs.Options {
		createJSON(t, name, starfleetDoc("xoxb-err"))
		return sfs.Options{SecretID: name}
	}
	cases := []tc{
		{"missing secret", func(name string) sfs.Options { return sfs.Options{SecretID: name} }, nil, sfs.ErrSecretNotFound, "ResourceNotFoundException"},
		{"access denied", aws("error", map[string]any{"status": 400, "code": "AccessDeniedException"}), nil, sfs.ErrAccessDenied, "AccessDeniedException"},
		{"decryption", aws("error", map[string]any{"status": 400, "code": "DecryptionFailure"}), nil, sfs.ErrDecryptionFailed, "DecryptionFailure"},
		{"throttled", aws("throttle", nil), nil, sfs.ErrThrottled, "ThrottlingException"},
		{"service", aws("error", map[string]any{"status": 503, "code": "ServiceUnavailable"}), nil, sfs.ErrService, "ServiceUnavailable"},
		{"credentials", aws("error", map[string]any{"status": 400, "code": "UnrecognizedClientException"}), nil, sfs.ErrCredentials, "UnrecognizedClientException"},
		{"timeout", func(name string) sfs.Options {
			createJSON(t, name, "{}")
			fault(t, name, "hang", 0, map[string]any{"hang_ms": 10000})
			return sfs.Options{SecretID: name, Timeout: time.Second}
		}, nil, sfs.ErrTimeout, "no answer within"},
		{"network", func(name string) sfs.Options {
			return sfs.Options{SecretID: name, EndpointURL: closedPortURL(t)}
		}, nil, sfs.ErrNetwork, "cannot reach"},
		{"key not found", plain, []string{"STARFLEET.Nope"}, sfs.ErrKeyNotFound, "STARFLEET.Nope"},
		{"not a string", plain, []string{"Count"}, sfs.ErrSecretFormat, "a number, not a string"},
		{"not an object", func(name string) sfs.Options {
			createJSON(t, name, `["xoxb-err"]`)
			return sfs.Options{SecretID: name}
		}, nil, sfs.ErrSecretFormat, "an array"},
		{"bad path", plain, []string{"STARFLEET..SlackToken"}, sfs.ErrInvalidArgument, "empty segment"},
		{"bad config", func(string) sfs.Options { return sfs.Options{Config: badConfig} }, nil, sfs.ErrConfigInvalid, "SecretRegion"},
		{"stage and id", func(name string) sfs.Options {
			return sfs.Options{SecretID: name, VersionStage: "AWSCURRENT", VersionID: "v1"}
		}, nil, sfs.ErrInvalidArgument, "not both"},
		{"unknown stage", func(name string) sfs.Options {
			createJSON(t, name, "{}")
			return sfs.Options{SecretID: name, VersionStage: "NOPE"}
		}, nil, sfs.ErrSecretNotFound, "NOPE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := uniqueName(strings.ReplaceAll(c.name, " ", "-"))
			opts := c.setup(name)
			defer clearFaults(t, name)
			m := newManager(t, opts)
			path := c.path
			if path == nil {
				path = []string{"STARFLEET.SlackToken"}
			}
			got, err := m.Get(ctx, path...)
			if err == nil {
				t.Fatalf("Get = %q, want an error", got)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("errors.Is(%v, %v) = false", err, c.want)
			}
			for _, other := range []sfs.Code{sfs.ErrInternal, sfs.ErrConfigMissing} {
				if errors.Is(err, other) {
					t.Fatalf("errors.Is(%v, %v) = true", err, other)
				}
			}
			var e *sfs.Error
			if !errors.As(err, &e) || e.Code != c.want {
				t.Fatalf("errors.As: %#v", err)
			}
			var code sfs.Code
			if !errors.As(err, &code) || code != c.want {
				t.Fatalf("errors.As(Code): %v", code)
			}
			if !strings.Contains(e.Message, c.mention) || !strings.HasPrefix(err.Error(), "starfleetsecrets: "+c.want.String()+": ") {
				t.Fatalf("message %q should mention %q", err.Error(), c.mention)
			}
			if strings.Contains(err.Error(), "xoxb-err") {
				t.Fatalf("message shows the secret value: %q", err)
			}
		})
	}
}

func TestInvalidOptionsFailInNew(t *testing.T) {
	for _, opts := range []sfs.Options{
		{SecretID: "x", Timeout: -time.Second},
		{SecretID: "x", TTL: -3 * time.Second},
		{SecretID: "x", MaxStale: -3 * time.Second},
		// -1ns is NoStale's value, MaxStale's explicit 0; for Timeout it is only negative.
		{SecretID: "x", Timeout: -1},
		{SecretID: "bad\xffutf8"},
	} {
		if _, err := sfs.New(opts); !errors.Is(err, sfs.ErrInvalidArgument) {
			t.Errorf("New(%+v) = %v, want ErrInvalidArgument", opts, err)
		}
	}
	m := newManager(t, sfs.Options{SecretID: "x"})
	if _, err := m.Get(context.Background()); !errors.Is(err, sfs.ErrInvalidArgument) {
		t.Errorf("Get() with no path = %v", err)
	}
}

// A NUL inside any string is ErrInvalidArgument before the C call: C would read the string
// only up to the NUL (a SecretID "Starfleet\x00-staging" would read the secret Starfleet, a
// path "STARFLEET.SlackToken\x00x" the token). The messages name the argument, not the text.
func TestNULInAnyStringIsInvalidArgument(t *testing.T) {
	for _, opts := range []sfs.Options{
		{SecretID: "Starfleet\x00-staging"},
		{SecretID: "x", Region: "us-east-2\x00"},
		{SecretID: "x", Config: "/etc/starfleet\x00.yaml"},
		{SecretID: "x", VersionStage: "AWSCURRENT\x00x"},
		{SecretID: "x", VersionID: "\x00"},
		{SecretID: "x", EndpointURL: "http://127.0.0.1:1\x00"},
	} {
		_, err := sfs.New(opts)
		if !errors.Is(err, sfs.ErrInvalidArgument) || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("New(%q) = %v, want ErrInvalidArgument naming the NUL", fmt.Sprintf("%+v", opts), err)
		}
		if err != nil && strings.Contains(err.Error(), "staging") {
			t.Errorf("the error shows the text: %v", err)
		}
	}
	name := uniqueName("nul")
	createJSON(t, name, starfleetDoc("xoxb-nul-canary"))
	m := newManager(t, sfs.Options{SecretID: name})
	ctx := context.Background()
	for _, path := range [][]string{
		{"STARFLEET.SlackToken\x00x"},
		{"STARFLEET", "SlackToken\x00"},
		{"\x00"},
	} {
		v, err := m.Get(ctx, path...)
		if !errors.Is(err, sfs.ErrInvalidArgument) || v != "" {
			t.Errorf("Get(%q) = %q, %v; want ErrInvalidArgument", path, v, err)
		}
		if _, err := m.GetJSON(ctx, path...); !errors.Is(err, sfs.ErrInvalidArgument) {
			t.Errorf("GetJSON(%q) = %v; want ErrInvalidArgument", path, err)
		}
	}
	// Nothing was fetched for the refused calls; the same manager still reads the token.
	if st, err := m.Stats(); err != nil || st.Fetches != 0 {
		t.Errorf("Stats() = %+v, %v; want no fetch", st, err)
	}
	if v, err := m.Get(ctx, "STARFLEET.SlackToken"); err != nil || v != "xoxb-nul-canary" {
		t.Errorf("Get = %v", err)
	}
}

func TestContextCancellationReturnsPromptly(t *testing.T) {
	name := uniqueName("cancel")
	createJSON(t, name, starfleetDoc("xoxb-ctx"))
	fault(t, name, "hang", 1, map[string]any{"hang_ms": 5000})
	defer clearFaults(t, name)
	m := newManager(t, sfs.Options{SecretID: name, Timeout: 3 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := m.Get(ctx, "STARFLEET.SlackToken")
	took := time.Since(started)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v, want context.DeadlineExceeded", err)
	}
	if took > time.Second {
		t.Fatalf("cancelled Get took %v", took)
	}

	// An already-cancelled context makes no call at all.
	before := calls(t, name)
	done, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if _, err := m.Get(done, "STARFLEET.SlackToken"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}
	if err := m.Refresh(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Refresh = %v, want context.Canceled", err)
	}
	// The abandoned fetch finishes in the background (its deadline ends the hang); the
	// next call then succeeds with the real value.
	got, err := m.Get(context.Background(), "STARFLEET.SlackToken")
	if err != nil && !errors.Is(err, sfs.ErrTimeout) {
		t.Fatalf("Get after cancel = %v", err)
	}
	if err != nil { // the hung first attempt timed out: a fresh call works
		if err := m.Invalidate(); err != nil {
			t.Fatal(err)
		}
		got, err = m.Get(context.Background(), "STARFLEET.SlackToken")
	}
	if err != nil || got != "xoxb-ctx" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if after := calls(t, name); after < before {
		t.Fatalf("calls went backwards: %d -> %d", before, after)
	}
	// Closing while nothing is in flight frees at once; calls after Close fail cleanly.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(context.Background(), "STARFLEET.SlackToken"); !errors.Is(err, sfs.ErrInvalidArgument) {
		t.Fatalf("Get after Close = %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWhileAFetchIsInFlight(t *testing.T) {
	name := uniqueName("close")
	createJSON(t, name, starfleetDoc("xoxb-close"))
	fault(t, name, "delay", 1, map[string]any{"delay_ms": 500})
	m := newManager(t, sfs.Options{SecretID: name})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := m.Get(ctx, "STARFLEET.SlackToken"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v", err)
	}
	// The call is still running in the library; Close must not free under it.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond) // let it finish and free the handle
	if _, err := m.Get(context.Background(), "x"); !errors.Is(err, sfs.ErrInvalidArgument) {
		t.Fatalf("Get after Close = %v", err)
	}
}

func TestTTLRefreshAndInvalidate(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("ttl")
	createJSON(t, name, map[string]any{"v": "one"})

	never := newManager(t, sfs.Options{SecretID: name, TTL: sfs.TTLNever})
	get := func(m *sfs.Manager) string {
		t.Helper()
		v, err := m.Get(ctx, "v")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get(never) != "one" {
		t.Fatal("first value")
	}
	putJSON(t, name, map[string]any{"v": "two"})
	if get(never) != "one" {
		t.Fatal("TTLNever must keep the first value")
	}
	if err := never.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if get(never) != "two" {
		t.Fatal("Refresh must fetch the new value")
	}
	if err := never.Invalidate(); err != nil {
		t.Fatal(err)
	}
	before := calls(t, name)
	get(never)
	if calls(t, name) != before+1 {
		t.Fatal("Invalidate must make the next access fetch")
	}

	noCache := newManager(t, sfs.Options{SecretID: name, TTL: sfs.TTLNoCache})
	before = calls(t, name)
	for i := 0; i < 3; i++ {
		get(noCache)
	}
	if got := calls(t, name) - before; got != 3 {
		t.Fatalf("TTLNoCache made %d calls, want 3", got)
	}

	short := newManager(t, sfs.Options{SecretID: name, TTL: 300 * time.Millisecond, MaxStale: sfs.NoStale})
	get(short)
	fault(t, name, "error", 0, map[string]any{"status": 500})
	defer clearFaults(t, name)
	time.Sleep(400 * time.Millisecond)
	if _, err := short.Get(ctx, "v"); !errors.Is(err, sfs.ErrService) || !sfs.ErrService.Transient() {
		t.Fatalf("with NoStale a failed refresh is an error, got %v", err)
	}

	stale := newManager(t, sfs.Options{SecretID: name, TTL: 300 * time.Millisecond})
	clearFaults(t, name)
	get(stale)
	fault(t, name, "error", 0, map[string]any{"status": 500})
	time.Sleep(400 * time.Millisecond)
	if get(stale) != "two" {
		t.Fatal("stale-if-error must serve the last good value")
	}
	if s, _ := stale.Stats(); s.StaleServed != 1 || s.LastError != sfs.ErrService {
		t.Fatalf("Stats = %+v", s)
	}
}

func TestVersionsAndBinary(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("versions")
	v1 := createJSON(t, name, map[string]any{"v": "one"})
	putJSON(t, name, map[string]any{"v": "two"})
	for _, c := range []struct {
		opts sfs.Options
		want string
	}{
		{sfs.Options{SecretID: name}, "two"},
		{sfs.Options{SecretID: name, VersionStage: "AWSPREVIOUS"}, "one"},
		{sfs.Options{SecretID: name, VersionID: v1}, "one"},
	} {
		if got, err := newManager(t, c.opts).Get(ctx, "v"); err != nil || got != c.want {
			t.Errorf("%+v: Get = %q, %v", c.opts, got, err)
		}
	}

	bin := uniqueName("binary")
	data := []byte{0, 159, 146, 150, 255, 1}
	createBinary(t, bin, data)
	m := newManager(t, sfs.Options{SecretID: bin})
	got, err := m.Binary(ctx)
	if err != nil || string(got) != string(data) {
		t.Fatalf("Binary = %v, %v", got, err)
	}
	if _, err := m.Get(ctx, "a"); !errors.Is(err, sfs.ErrSecretFormat) {
		t.Fatalf("Get on binary = %v", err)
	}
	if _, err := m.Secrets(ctx); !errors.Is(err, sfs.ErrSecretFormat) {
		t.Fatalf("Secrets on binary = %v", err)
	}
}

// TestDefault runs this test binary again with a chosen environment: Default() reads the
// process environment once, so each environment needs its own process.
func TestDefault(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("default")
	createJSON(t, name, starfleetDoc("xoxb-default"))
	dir := t.TempDir()
	cfg := "STARFLEET:\n  SecretsManager:\n    SecretId: " + name + "\n    SecretRegion: " + region + "\n"
	if err := os.WriteFile(filepath.Join(dir, "00-starfleet.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"STARFLEET_CONFIG=" + dir}, "OK xoxb-default"},
		{[]string{"STARFLEET_SECRET_ID=" + name, "STARFLEET_SECRET_REGION=" + region}, "OK xoxb-default"},
		{nil, "CONFIG_MISSING"},
		{[]string{"STARFLEET_CONFIG=" + dir, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, "CREDENTIALS"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultChild$", "-test.v")
		env := []string{childEnv + "=1"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "STARFLEET_SECRET") && !strings.HasPrefix(kv, "STARFLEET_CONFIG=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, c.env...)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), "RESULT "+c.want) {
			t.Errorf("env %v: want %q in:\n%s", c.env, c.want, out)
		}
	}
}

func TestDefaultChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("only run by TestDefault")
	}
	m := sfs.Default()
	if m != sfs.Default() {
		t.Fatal("Default must be one Manager")
	}
	_ = m.Close() // a no-op on the Default manager
	v, err := m.Get(context.Background(), "STARFLEET.SlackToken")
	var code sfs.Code
	switch {
	case err == nil:
		t.Logf("RESULT OK %s", v)
	case errors.As(err, &code):
		t.Logf("RESULT %s (%v)", code.String(), err)
	default:
		t.Fatal(err)
	}
}
