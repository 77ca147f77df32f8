package starfleetsecrets

// The Go side of OnChange. This file holds the cgo export (so its C preamble may only
// declare); the trampoline that calls it is in cgo.go.

/*
#include <stdint.h>
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"sync"
)

// OnChange calls f(oldVersion, newVersion) each time a fetch stores a new VersionId: the
// first load (oldVersion is ""), a refresh or expired-TTL load that brings a new version.
// Never with a value; the same version again, and nothing else, calls it. It returns the
// function that stops the calls: none starts after cancel returns (a call running on another
// goroutine is waited for; from inside f itself, cancel returns at once). Calling cancel more
// than once is fine.
//
// Where f runs: on the goroutine (and OS thread) of the call that stored the new version,
// inside that call, before it returns: the one goroutine a Manager uses for its loads, or the
// caller of Refresh. For a fetch the library makes by itself, on a goroutine started for the
// library's notification thread. It runs once per change, one call at a time per Manager,
// and under no lock of the package or the library: f may call the Manager (Get, Refresh,
// Stats) and cancel. A panic in f is recovered and reported on stderr (its type only, as its
// message could quote anything); the read that stored the value is unaffected.
//
// On a closed Manager (or a Default whose construction failed) OnChange does nothing and
// returns a no-op cancel.
func (m *Manager) OnChange(f func(oldVersion, newVersion string)) (cancel func()) {
	if f == nil {
		return func() {}
	}
	h, err := m.acquire()
	if err != nil {
		return func() {}
	}
	defer m.release()
	handle := cgo.NewHandle(f)
	sub, err := cOnChange(h, uintptr(handle))
	if err != nil {
		handle.Delete()
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cCancelChange(sub) // after this no call starts, so the handle can go
			handle.Delete()
		})
	}
}

//export sfsGoOnChange
func sfsGoOnChange(oldVersion, newVersion *C.char, handle C.uintptr_t) {
	// Nothing may unwind into the library's frames.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "[starfleet-secrets ERROR] an OnChange callback panicked (%T); recovered, the read is unaffected\n", r)
		}
	}()
	f := cgo.Handle(handle).Value().(func(string, string))
	old := ""
	if oldVersion != nil {
		old = C.GoString(oldVersion)
	}
	f(old, C.GoString(newVersion))
}
