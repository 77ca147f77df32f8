package starfleetsecrets_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// The proxy holds each fetch 0.9 s (just under the 1 s hedge delay, after which a call on a
// reused connection would also be sent on a new one and the call counts would double); a read
// slower than waited waited for a fetch.
const (
	aheadDelayMS = 900
	waited       = 300 * time.Millisecond
)

func stats(t *testing.T, m *sfs.Manager) sfs.Stats {
	t.Helper()
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRefreshAheadNoReadWaitsForAFetch(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("ahead")
	createJSON(t, name, map[string]any{"token": "v1"})
	fault(t, name, "delay", 0, map[string]any{"delay_ms": aheadDelayMS})
	defer clearFaults(t, name)
	// TTL 3 s, refresh at 1.5 s of age: a 0.9 s fetch ends well before the value expires.
	m := newManager(t, sfs.Options{SecretID: name, TTL: 3 * time.Second, RefreshAhead: 0.5, ExpiryJitter: sfs.Jitter(0)})
	first := time.Now()
	if v, err := m.Get(ctx, "token"); err != nil || v != "v1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if time.Since(first) < aheadDelayMS*time.Millisecond {
		t.Fatal("the first load should wait for its fetch")
	}
	start := time.Now()
	rotated := false
	var slowest time.Duration
	for time.Since(start) < 10*time.Second {
		if !rotated && time.Since(start) > 4*time.Second {
			putJSON(t, name, map[string]any{"token": "v2"})
			rotated = true
		}
		t0 := time.Now()
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := m.Get(ctx, "token"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if d := time.Since(t0); d > slowest {
			slowest = d
		}
		time.Sleep(50 * time.Millisecond)
	}
	if slowest >= waited {
		t.Errorf("a read waited %v for a fetch", slowest)
	}
	if v, _ := m.Get(ctx, "token"); v != "v2" {
		t.Errorf("the background refreshes should bring the new version, got %q", v)
	}
	s := stats(t, m)
	if s.RefreshesAhead < 3 || s.Fetches != s.RefreshesAhead+1 || s.Failures != 0 || s.StaleServed != 0 {
		t.Errorf("stats %+v", s)
	}
	if got := calls(t, name); uint64(got) != s.Fetches {
		t.Errorf("proxy saw %d calls, stats say %d fetches", got, s.Fetches)
	}
}

func TestRefreshAheadFailureKeepsTheValueThenFollowsMaxStale(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("ahead-fail")
	createJSON(t, name, map[string]any{"token": "kept"})
	defer clearFaults(t, name)
	m := newManager(t, sfs.Options{SecretID: name, TTL: 2 * time.Second, RefreshAhead: 0.25,
		ExpiryJitter: sfs.Jitter(0), MaxStale: 2 * time.Second, Timeout: 2 * time.Second})
	loaded := time.Now()
	if _, err := m.Get(ctx, "token"); err != nil {
		t.Fatal(err)
	}
	fault(t, name, "error", 0, map[string]any{"status": 400, "code": "AccessDeniedException"})
	time.Sleep(600 * time.Millisecond)
	t0 := time.Now()
	if v, err := m.Get(ctx, "token"); v != "kept" || err != nil || time.Since(t0) >= waited {
		t.Fatalf("Get = %q, %v after %v", v, err, time.Since(t0)) // starts the background refresh
	}
	for i := 0; i < 250 && stats(t, m).Failures == 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if s := stats(t, m); s.RefreshesAhead != 1 || s.Failures != 1 || s.LastError != sfs.ErrAccessDenied {
		t.Fatalf("stats %+v", s)
	}
	time.Sleep(2200*time.Millisecond - time.Since(loaded))
	if v, err := m.Get(ctx, "token"); v != "kept" || err != nil {
		t.Fatalf("past the TTL: Get = %q, %v (want the stale value)", v, err)
	}
	time.Sleep(4300*time.Millisecond - time.Since(loaded))
	var e *sfs.Error
	if _, err := m.Get(ctx, "token"); !errors.As(err, &e) || e.Code != sfs.ErrAccessDenied {
		t.Fatalf("past TTL + MaxStale: err = %v", err)
	}
}

const jitterChildEnv = "STARFLEETSECRETS_TEST_JITTER_CHILD"

func TestExpiryJitterDiffersBetweenProcesses(t *testing.T) {
	name := uniqueName("jitter")
	createJSON(t, name, map[string]any{"token": "v1"})
	const ttl, jitter = 4.0, 0.5
	outs := make([][]byte, 3)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestExpiryJitterChild$", "-test.v")
			cmd.Env = append(os.Environ(), jitterChildEnv+"="+name)
			outs[i], _ = cmd.CombinedOutput()
		}(i)
	}
	wg.Wait()
	var lo, hi float64 = ttl, 0
	for _, out := range outs {
		_, after, ok := strings.Cut(string(out), "EXPIRED-AFTER ")
		if !ok {
			t.Fatalf("child output:\n%s", out)
		}
		e, err := strconv.ParseFloat(strings.Fields(after)[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		if e < ttl*(1-jitter)-0.05 || e > ttl+0.3 {
			t.Errorf("expired after %.3fs, outside [ttl × (1 − jitter), ttl]", e)
		}
		lo, hi = min(lo, e), max(hi, e)
	}
	// Uniform shares over 2 s: three within 60 ms of each other means they were not drawn apart.
	if hi-lo <= 0.06 {
		t.Errorf("three processes expired within %.3fs of each other", hi-lo)
	}
}

func TestExpiryJitterChild(t *testing.T) {
	name := os.Getenv(jitterChildEnv)
	if name == "" {
		t.Skip("only run by TestExpiryJitterDiffersBetweenProcesses")
	}
	ctx := context.Background()
	m := newManager(t, sfs.Options{SecretID: name, TTL: 4 * time.Second, ExpiryJitter: sfs.Jitter(0.5)})
	if _, err := m.Get(ctx, "token"); err != nil {
		t.Fatal(err)
	}
	loaded := time.Now()
	for stats(t, m).Fetches == 1 {
		if _, err := m.Get(ctx, "token"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("EXPIRED-AFTER %f\n", time.Since(loaded).Seconds())
}

func TestRefreshAheadAndJitterOptions(t *testing.T) {
	name := uniqueName("ahead-opts")
	createJSON(t, name, map[string]any{"token": "v1"})
	for _, opts := range []sfs.Options{{SecretID: name, RefreshAhead: 1}, {SecretID: name, ExpiryJitter: sfs.Jitter(-0.1)}} {
		var e *sfs.Error
		if _, err := sfs.New(opts); !errors.As(err, &e) || e.Code != sfs.ErrInvalidArgument {
			t.Errorf("New(%+v): %v", opts, err)
		}
	}
	for _, kv := range [][2]string{{"STARFLEET_SECRETS_REFRESH_AHEAD", "1"}, {"STARFLEET_SECRETS_EXPIRY_JITTER", "lots"}} {
		t.Run(kv[0], func(t *testing.T) {
			t.Setenv(kv[0], kv[1])
			m := newManager(t, sfs.Options{SecretID: name})
			var e *sfs.Error
			if _, err := m.Get(context.Background(), "token"); !errors.As(err, &e) || e.Code != sfs.ErrConfigInvalid || !strings.Contains(e.Message, kv[0]) {
				t.Errorf("err = %v", err)
			}
		})
	}
}
