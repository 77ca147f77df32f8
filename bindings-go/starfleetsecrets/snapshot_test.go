package starfleetsecrets_test

import (
	"context"
	"testing"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// A custom runtime's SnapStart hooks: a value fetched before the snapshot is fetched again,
// once, after AfterRestore (whatever its TTL); with ZeroizeBeforeSnapshot, BeforeSnapshot
// wipes it and the next read fetches.
func TestSnapshotAndRestore(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("snap")
	createJSON(t, name, map[string]any{"v": "one"})
	m := newManager(t, sfs.Options{SecretID: name, TTL: sfs.TTLNever})
	if v, err := m.Get(ctx, "v"); err != nil || v != "one" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	putJSON(t, name, map[string]any{"v": "two"})
	if err := m.BeforeSnapshot(); err != nil {
		t.Fatal(err)
	}
	if err := m.AfterRestore(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if v, err := m.Get(ctx, "v"); err != nil || v != "two" {
			t.Fatalf("Get after the restore = %q, %v", v, err)
		}
	}
	if n := calls(t, name); n != 2 {
		t.Fatalf("%d GetSecretValue calls, want 2 (one after the restore)", n)
	}
	if s := stats(t, m); s.Restores != 1 || s.Fetches != 2 {
		t.Fatalf("stats %+v", s)
	}

	z := newManager(t, sfs.Options{SecretID: name, ZeroizeBeforeSnapshot: true})
	if v, err := z.Get(ctx, "v"); err != nil || v != "two" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := z.BeforeSnapshot(); err != nil {
		t.Fatal(err)
	}
	if v, err := z.Get(ctx, "v"); err != nil || v != "two" {
		t.Fatalf("Get after the wipe = %q, %v", v, err)
	}
	if n := calls(t, name); n != 4 {
		t.Fatalf("%d GetSecretValue calls, want 4 (the wiped value fetched again)", n)
	}
}
