package starfleetsecrets_test

// Get's kept answers (reuse.go): a read answered again without the library must never be
// served past what the library said (the TTL, the refresh-ahead point) nor after anything
// that replaces the value (Refresh, Invalidate, AfterRestore, Close), and must be counted.
// Go has no testing overrides, the remaining way a value is replaced early.

import (
	"context"
	"errors"
	"testing"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// reuseFixture makes a secret holding v = "one" and a manager over it with opts; next puts
// v = "two" in the service (the manager does not know yet).
func reuseFixture(t *testing.T, opts sfs.Options) (m *sfs.Manager, get func() string, next func()) {
	t.Helper()
	name := uniqueName("reuse")
	createJSON(t, name, map[string]any{"v": "one"})
	opts.SecretID = name
	m = newManager(t, opts)
	get = func() string {
		t.Helper()
		v, err := m.Get(context.Background(), "v")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return m, get, func() { putJSON(t, name, map[string]any{"v": "two"}) }
}

func TestAKeptAnswerEndsWithTheTTL(t *testing.T) {
	m, get, next := reuseFixture(t, sfs.Options{TTL: 600 * time.Millisecond, ExpiryJitter: sfs.Jitter(0)})
	if get() != "one" {
		t.Fatal("first value")
	}
	next()
	for i := 0; i < 5; i++ {
		if get() != "one" {
			t.Fatal("within the TTL the cached value is served")
		}
	}
	time.Sleep(700 * time.Millisecond)
	if v := get(); v != "two" {
		t.Fatalf("after the TTL Get answered %q from a kept answer", v)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Hits != 5 || s.Misses != 2 || s.Fetches != 2 {
		t.Fatalf("kept answers must count as hits: %+v", s)
	}
}

func TestAKeptAnswerEndsAtTheRefreshAheadPoint(t *testing.T) {
	// TTL 2 s, refresh-ahead at half: the read after 1 s reaches the library, which starts
	// the background refresh, so "two" is served well before the TTL ends.
	_, get, next := reuseFixture(t, sfs.Options{TTL: 2 * time.Second, RefreshAhead: 0.5, ExpiryJitter: sfs.Jitter(0)})
	get()
	next()
	time.Sleep(1100 * time.Millisecond)
	get() // answered from the cache; starts the refresh
	deadline := time.Now().Add(700 * time.Millisecond)
	for get() != "two" {
		if time.Now().After(deadline) {
			t.Fatal("a kept answer hid the refresh-ahead point: the background refresh never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKeptAnswersAreForgottenByWhatReplacesTheValue(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		replace func(m *sfs.Manager) error
	}{
		{"Invalidate", func(m *sfs.Manager) error { return m.Invalidate() }},
		{"Refresh", func(m *sfs.Manager) error { return m.Refresh(ctx) }},
		{"AfterRestore", func(m *sfs.Manager) error { return m.AfterRestore() }},
		{"BeforeSnapshot with zeroize", func(m *sfs.Manager) error { return m.BeforeSnapshot() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, get, next := reuseFixture(t, sfs.Options{TTL: sfs.TTLNever, ZeroizeBeforeSnapshot: true})
			get()
			get()
			if n := sfs.KeptAnswers(m); n != 1 {
				t.Fatalf("%d kept answers, want 1", n)
			}
			next()
			if err := c.replace(m); err != nil {
				t.Fatal(err)
			}
			// Dropped, not only unusable: no copy of the value stays referenced (a snapshot).
			if n := sfs.KeptAnswers(m); n != 0 {
				t.Fatalf("%s left %d kept answers", c.name, n)
			}
			if v := get(); v != "two" {
				t.Fatalf("after %s Get answered %q from a kept answer", c.name, v)
			}
		})
	}
}

func TestAnAfterRestoreOfAnyManagerForgetsEveryKeptAnswer(t *testing.T) {
	_, get, next := reuseFixture(t, sfs.Options{TTL: sfs.TTLNever})
	other := newManager(t, sfs.Options{SecretID: uniqueName("unused"), TTL: sfs.TTLNever})
	get()
	next()
	if err := other.AfterRestore(); err != nil {
		t.Fatal(err)
	}
	if v := get(); v != "two" {
		t.Fatalf("after a restore Get answered %q from a kept answer", v)
	}
}

func TestNoKeptAnswerAfterClose(t *testing.T) {
	m, get, _ := reuseFixture(t, sfs.Options{TTL: sfs.TTLNever})
	get()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(context.Background(), "v"); !errors.Is(err, sfs.ErrInvalidArgument) {
		t.Fatalf("Get after Close = %v, want ErrInvalidArgument", err)
	}
}

func TestKeptAnswersAreKeptPerKeyPath(t *testing.T) {
	name := uniqueName("reuse-paths")
	createJSON(t, name, map[string]any{"a.b": "dotted", "a": map[string]any{"b": "nested"}})
	m := newManager(t, sfs.Options{SecretID: name})
	ctx := context.Background()
	for i := 0; i < 2; i++ { // the second round is answered from kept answers
		if v, err := m.Get(ctx, `a\.b`); err != nil || v != "dotted" {
			t.Fatalf("Get(`a\\.b`) = %q, %v", v, err)
		}
		if v, err := m.Get(ctx, "a.b"); err != nil || v != "nested" {
			t.Fatalf("Get(\"a.b\") = %q, %v", v, err)
		}
		if v, err := m.Get(ctx, "a", "b"); err != nil || v != "nested" {
			t.Fatalf("Get(\"a\", \"b\") = %q, %v", v, err)
		}
	}
	if s, _ := m.Stats(); s.Hits != 2+3 {
		t.Fatalf("hits = %d, want 5 (2 in the first round after its fetch, 3 kept in the second)", s.Hits)
	}
}

func TestACancelledContextIsNotAnsweredFromAKeptAnswer(t *testing.T) {
	m, get, _ := reuseFixture(t, sfs.Options{TTL: sfs.TTLNever})
	get()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Get(ctx, "v"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context = %v, want context.Canceled", err)
	}
}
