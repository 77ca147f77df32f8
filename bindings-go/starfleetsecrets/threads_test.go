package starfleetsecrets_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// Goroutines waiting on a fetch must not each hold an OS thread. Before the
// fix every waiting Get blocked a thread in cgo, and 400 of them on a hung endpoint under
// debug.SetMaxThreads(200) ended in "fatal error: thread exhaustion", which kills the
// process: so the scenario runs in a child process and this test checks its exit status.
func TestWaitersOnAHungFetchDoNotHoldThreads(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	name := uniqueName("threads")
	createJSON(t, name, starfleetDoc("xoxb-threads"))
	fault(t, name, "hang", 0, map[string]any{"hang_ms": 15000})
	t.Cleanup(func() { clearFaults(t, name) })

	cmd := exec.Command(os.Args[0], "-test.run=^TestWaitersOnAHungFetchChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1", "STARFLEETSECRETS_TEST_SECRET="+name)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RESULT OK") {
		tail := string(out)
		if len(tail) > 3000 {
			tail = tail[:3000] + "\n..."
		}
		t.Fatalf("child: %v\n%s", err, tail)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "RESULT OK") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

func TestWaitersOnAHungFetchChild(t *testing.T) {
	name := os.Getenv("STARFLEETSECRETS_TEST_SECRET")
	if os.Getenv(childEnv) == "" || name == "" {
		t.Skip("only run by TestWaitersOnAHungFetchDoNotHoldThreads")
	}
	const (
		maxThreads = 200
		waiters    = 400
		deadline   = 2 * time.Second
	)
	debug.SetMaxThreads(maxThreads)
	m, err := sfs.New(sfs.Options{SecretID: name, Region: region})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, waiters)
	took := make([]time.Duration, waiters)
	for i := 0; i < waiters; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			_, errs[i] = m.Get(ctx, "STARFLEET.SlackToken")
			took[i] = time.Since(start)
		}(i)
	}
	wg.Wait()
	var slowest time.Duration
	for i := 0; i < waiters; i++ {
		if !errors.Is(errs[i], context.DeadlineExceeded) {
			t.Errorf("call %d: err = %v, want context.DeadlineExceeded", i, errs[i])
		}
		slowest = max(slowest, took[i])
	}
	if slowest > deadline+time.Second {
		t.Errorf("slowest call took %v, want at most %v", slowest, deadline+time.Second)
	}
	if !t.Failed() {
		t.Logf("RESULT OK: %d calls under SetMaxThreads(%d) ended by their %v deadline, slowest %v", waiters, maxThreads, deadline, slowest)
	}
}

// Concurrent Refresh calls on a hung endpoint share one
// fetch and all end within the deadline (+1 s), instead of one fetch each, in turn.
func TestConcurrentRefreshesShareOneFetch(t *testing.T) {
	name := uniqueName("refresh-herd")
	createJSON(t, name, starfleetDoc("xoxb-herd"))
	fault(t, name, "hang", 0, map[string]any{"hang_ms": 15000})
	defer clearFaults(t, name)
	m := newManager(t, sfs.Options{SecretID: name, Timeout: time.Second})
	const callers = 8
	var wg sync.WaitGroup
	errs := make([]error, callers)
	started := time.Now()
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = m.Refresh(context.Background())
		}(i)
	}
	wg.Wait()
	took := time.Since(started)
	for i, err := range errs {
		if !errors.Is(err, sfs.ErrTimeout) {
			t.Errorf("Refresh %d: %v, want ErrTimeout", i, err)
		}
	}
	// The 1 s timeout, its 1 s hard-deadline slack, and 1 s of margin.
	if took > 3*time.Second {
		t.Errorf("%d concurrent Refresh calls took %v", callers, took)
	}
	if s, _ := m.Stats(); s.Fetches != 1 {
		t.Errorf("Stats.Fetches = %d, want 1 (one shared fetch)", s.Fetches)
	}
}
