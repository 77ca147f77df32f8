package starfleetsecrets

// Kept answers: Get answers a read it made before from the string it got then, without a
// cgo call, for as long as the library said that string stays the manager's fresh value.
//
// A Get through the library costs ~2 µs (the cgo call, the manager's lock, the key path,
// copying the value in and out), against ~25 ns for a Go map read (bench/overhead/WARM.md).
// Python and Node keep the objects they converted for the same reason. The library still
// decides everything: starfleet_secrets_manager_try_get_string_path_reusable() answers, with
// the value, how long from the call it is fresh (the TTL with its jitter, or the
// refresh-ahead point, so that the read after it reaches the library and starts the
// refresh; 0 for a stale value or one that is no longer fresh, so nothing is kept then).
// The clock is read before that call, so a kept answer ends no later than the library's
// instant. What replaces the value early is this package's own calls: Refresh, Invalidate,
// BeforeSnapshot, AfterRestore (any Manager's: a restore is process-wide in the library),
// Close. While one runs no kept answer is given or kept (an OnChange callback, which runs
// inside it, reads the new value), and when it ends every kept answer is forgotten. Reads answered here are counted and handed to the
// library as hits (starfleet_secrets_manager_record_hits()) before Stats reads them, so the
// stats stay exact.

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// restores counts AfterRestore calls of every Manager: an answer kept before one is not
// served after it.
var restores atomic.Uint64

// flushHitsAt is how many reads answered from kept answers are counted in Go before they are
// handed to the library in one call (and at every Stats).
const flushHitsAt = 4096

// keptAnswers are a Manager's kept answers of Get, by key path.
type keptAnswers struct {
	// answers is replaced, never changed, so reads take no lock: a read is one atomic load
	// and one map lookup. Writers (a read through the library) hold mu.
	answers atomic.Pointer[map[string]keptAnswer]
	mu      sync.Mutex
	// generation is bumped by whatever replaces the manager's value (see forget).
	generation atomic.Uint64
	// replacing counts the calls running that may replace the value (see replacing).
	replacing atomic.Int64
	// hits counts reads answered here that the library has not been told of yet.
	hits atomic.Uint64
}

// keptAnswer is one Get's answer and until when (monotonic clock) it may be given again.
type keptAnswer struct {
	value      string
	until      time.Time
	generation uint64
	restores   uint64
}

// pathKey names a key path in the kept answers. No path element holds a NUL (cString refuses
// one before any C call), so different paths have different keys; a one-element path is its
// own key, without an allocation.
func pathKey(path []string) string {
	return strings.Join(path, "\x00")
}

// lookup is the kept answer for key, if it may still be given.
func (k *keptAnswers) lookup(key string) (string, bool) {
	answers := k.answers.Load()
	if answers == nil || k.replacing.Load() != 0 {
		return "", false
	}
	a, ok := (*answers)[key]
	if !ok || a.generation != k.generation.Load() || a.restores != restores.Load() || !time.Now().Before(a.until) {
		return "", false
	}
	return a.value, true
}

// generations are what a read through the library notes before its call: an answer is kept
// only if nothing replaced the value since.
type generations struct{ manager, restores uint64 }

func (k *keptAnswers) current() generations {
	return generations{k.generation.Load(), restores.Load()}
}

// keep records value as key's answer from asked (read before the library's call) for
// reuseFor, unless the value was replaced since g was noted.
func (k *keptAnswers) keep(key, value string, asked time.Time, reuseFor time.Duration, g generations) {
	if reuseFor <= 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current() != g || k.replacing.Load() != 0 {
		return
	}
	next := map[string]keptAnswer{}
	if old := k.answers.Load(); old != nil {
		for key, a := range *old {
			if a.generation == g.manager && a.restores == g.restores && asked.Before(a.until) {
				next[key] = a
			}
		}
	}
	next[key] = keptAnswer{value: value, until: asked.Add(reuseFor), generation: g.manager, restores: g.restores}
	k.answers.Store(&next)
}

// forget makes every kept answer unusable (the value may have been replaced) and drops
// them, so the package holds no copy of a value after BeforeSnapshot or Close (the strings
// are ordinary Go memory, which Go cannot zeroize: see the package doc).
func (k *keptAnswers) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.generation.Add(1)
	k.answers.Store(nil)
}

// count is how many answers are kept, usable or not (for tests).
func (k *keptAnswers) count() int {
	if answers := k.answers.Load(); answers != nil {
		return len(*answers)
	}
	return 0
}

// whileReplacing runs f, a call that may replace the value: no answer is given from or
// kept in the kept answers while it runs, and it forgets them all when it ends.
func (k *keptAnswers) whileReplacing(f func()) {
	k.replacing.Add(1)
	defer func() {
		k.forget() // before replacing reaches 0: no moment where an old answer is usable again
		k.replacing.Add(-1)
	}()
	f()
}

// reuseDuration converts the library's seconds (INFINITY: held for good) to a Duration,
// rounding down; "for good" is a century.
func reuseDuration(seconds float64) time.Duration {
	const forGood = 100 * 365 * 24 * time.Hour
	if math.IsNaN(seconds) || seconds <= 0 {
		return 0
	}
	if seconds >= forGood.Seconds() {
		return forGood
	}
	return time.Duration(seconds * float64(time.Second))
}
