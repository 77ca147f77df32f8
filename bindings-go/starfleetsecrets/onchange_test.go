package starfleetsecrets_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// changes records OnChange calls.
type changes struct {
	mu    sync.Mutex
	calls [][2]string
}

func (c *changes) record(oldVersion, newVersion string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, [2]string{oldVersion, newVersion})
}

func (c *changes) seen() [][2]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][2]string(nil), c.calls...)
}

func equalCalls(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOnChangeReportsOldAndNewVersions(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("onchange")
	v1 := createJSON(t, name, map[string]any{"v": "one"})
	m := newManager(t, sfs.Options{SecretID: name, TTL: sfs.TTLNever})
	var c changes
	cancel := m.OnChange(c.record)
	defer cancel()

	if _, err := m.Get(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	if got := c.seen(); !equalCalls(got, [][2]string{{"", v1}}) {
		t.Fatalf("first load: %q", got)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	_ = m.Invalidate()
	if _, err := m.Get(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	if got := c.seen(); len(got) != 1 {
		t.Fatalf("the same version again is no change: %q", got)
	}
	v2 := putJSON(t, name, map[string]any{"v": "two"})
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.seen(); !equalCalls(got, [][2]string{{"", v1}, {v1, v2}}) {
		t.Fatalf("after a put: %q", got)
	}
	cancel()
	cancel()
	putJSON(t, name, map[string]any{"v": "three"})
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.seen(); len(got) != 2 {
		t.Fatalf("called after cancel: %q", got)
	}
}

func TestOnChangeCallbackMayCallTheManagerAndCancelItself(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("onchange-reenter")
	createJSON(t, name, map[string]any{"v": "one"})
	m := newManager(t, sfs.Options{SecretID: name, TTL: sfs.TTLNever})
	if _, err := m.Get(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		reread []string
		cancel func()
	)
	mu.Lock()
	cancel = m.OnChange(func(_, _ string) {
		v, err := m.Get(ctx, "v")
		if err == nil {
			err = m.Refresh(ctx)
		}
		mu.Lock()
		defer mu.Unlock()
		reread = append(reread, v)
		if err != nil {
			reread = append(reread, err.Error())
		}
		cancel() // from inside: returns at once, this call is the last
	})
	mu.Unlock()
	for _, v := range []string{"two", "three"} {
		putJSON(t, name, map[string]any{"v": v})
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reread) != 1 || reread[0] != "two" {
		t.Fatalf("reread = %q, want [two]", reread)
	}
}

// A panicking callback is recovered (its message never printed) and the read goes on; run in
// a child process so its stderr can be read.
func TestOnChangePanicIsRecovered(t *testing.T) {
	if os.Getenv(childEnv) == "onchange-panic" {
		m, err := sfs.New(sfs.Options{SecretID: os.Getenv("ONCHANGE_SECRET"), Region: region})
		if err != nil {
			panic(err)
		}
		m.OnChange(func(_, _ string) { panic("canary-onchange-go-panic") })
		var c changes
		m.OnChange(c.record)
		v, err := m.Get(context.Background(), "v")
		fmt.Printf("value=%s calls=%d\n", v, len(c.seen()))
		if err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	name := uniqueName("onchange-panic")
	createJSON(t, name, map[string]any{"v": "one"})
	cmd := exec.Command(os.Args[0], "-test.run=^TestOnChangePanicIsRecovered$")
	cmd.Env = append(os.Environ(), childEnv+"=onchange-panic", "ONCHANGE_SECRET="+name)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("child: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child hung")
	}
	if !strings.Contains(stdout.String(), "value=one calls=1") {
		t.Fatalf("stdout: %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "OnChange callback panicked (string)") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	if strings.Contains(stderr.String()+stdout.String(), "canary-onchange-go-panic") {
		t.Fatalf("the panic's message was printed: %s", stderr.String())
	}
}

func TestOnChangeOnAClosedManagerIsANoOp(t *testing.T) {
	m, err := sfs.New(sfs.Options{SecretID: "x", Region: region})
	if err != nil {
		t.Fatal(err)
	}
	_ = m.Close()
	m.OnChange(func(_, _ string) {})()
	m2 := newManager(t, sfs.Options{SecretID: "x"})
	m2.OnChange(nil)()
}
