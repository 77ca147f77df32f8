// Package starfleetsecrets reads the Starfleet secret (one AWS Secrets Manager secret
// holding a JSON document) through libstarfleet_secrets, the same Rust core that the
// Python, Node and C front doors use: the same location rules, cache, key paths and
// error codes.
//
//	m := starfleetsecrets.Default() // STARFLEET_SECRET_ID/REGION, else STARFLEET_CONFIG
//	token, err := m.Get(ctx, "STARFLEET.SlackToken")
//
// A Manager caches the secret: the first access fetches it (concurrent first accesses,
// from any number of goroutines, share one GetSecretValue call), later ones are served
// from memory until the TTL runs out. Every method is safe for concurrent use.
//
// Calls that may fetch take a context. The fetch itself runs in the library (bounded by
// Options.Timeout); when ctx is done first, the method returns ctx.Err() at once and the
// fetch finishes in the background, filling the cache for the next call. Goroutines that
// wait for a fetch do not hold OS threads: one goroutine per Manager runs the blocking load
// in the library, the others are parked on a channel (see docs/c-go.md).
//
// Key paths: one argument is a dotted path ("STARFLEET.SlackToken", with `\.` for a
// literal dot); several arguments are literal keys ("GitHubSyncWorker", "my.org").
//
// Secret text is zeroized in the library's memory when it is dropped; the Go strings and
// byte slices this package returns are ordinary Go memory, which Go cannot zeroize. Get
// keeps the strings it answered (to answer again without the library) until the value may
// have changed; BeforeSnapshot and Close drop them.
package starfleetsecrets

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Special values of Options.TTL and Options.MaxStale.
const (
	// TTLNever keeps the first value for the life of the process (Starfleet's original
	// behaviour); Refresh and Invalidate still work.
	TTLNever time.Duration = -1
	// TTLNoCache fetches on every access (concurrent accesses still share one call).
	TTLNoCache time.Duration = -2
	// NoStale disables stale-if-error: a failed refresh is an error at once.
	NoStale time.Duration = -1
)

// Options chooses the secret and the cache policy. The zero value of each field means
// "not set": it is then resolved exactly as in every other language, from the environment
// (STARFLEET_SECRET_ID, STARFLEET_SECRET_REGION, STARFLEET_CONFIG, STARFLEET_SECRETS_TTL,
// STARFLEET_SECRETS_TIMEOUT, STARFLEET_SECRETS_MAX_STALE, STARFLEET_SECRETS_REFRESH_AHEAD,
// STARFLEET_SECRETS_EXPIRY_JITTER, STARFLEET_SECRET_FALLBACK_REGIONS) and the Starfleet
// configuration, then the defaults.
type Options struct {
	// SecretID is the secret's name or ARN.
	SecretID string
	// Region is the secret's AWS region, e.g. "us-east-2".
	Region string
	// Config is a Starfleet configuration file, or a directory of *.yaml/*.yml files.
	Config string
	// TTL is how long a fetched value is served (default 300s). TTLNever or TTLNoCache
	// for the special policies.
	TTL time.Duration
	// VersionStage reads the version with this label ("AWSCURRENT" by default,
	// "AWSPREVIOUS", or a custom label). Do not set both VersionStage and VersionID.
	VersionStage string
	// VersionID reads exactly this version.
	VersionID string
	// Timeout bounds one fetch, retries included (default 10s).
	Timeout time.Duration
	// MaxStale is how long past its TTL a value is still served while refreshes fail
	// (default 900s); NoStale disables stale-if-error.
	MaxStale time.Duration
	// EndpointURL overrides the Secrets Manager endpoint (else AWS_ENDPOINT_URL_SECRETS_MANAGER
	// or AWS_ENDPOINT_URL, else AWS).
	EndpointURL string
	// RefreshAhead refreshes in the background once a value is this fraction of its TTL old
	// (in [0, 1), e.g. 0.8): a read past it is answered from the cache at once and starts one
	// refresh on the library's own threads, so reads never wait for a fetch after the first.
	// 0 = not set (off unless STARFLEET_SECRETS_REFRESH_AHEAD says otherwise).
	RefreshAhead float64
	// ExpiryJitter expires values up to this fraction of the TTL early (in [0, 1)), by a
	// per-process random share, so a fleet started together does not refresh in lockstep.
	// nil = not set (STARFLEET_SECRETS_EXPIRY_JITTER, else 0.1); Jitter(0) turns it off.
	ExpiryJitter *float64
	// FallbackRegions are replica regions read from, in order, when the secret's region
	// fails with ErrNetwork, ErrTimeout, ErrService or ErrThrottled (never ErrAccessDenied,
	// ErrSecretNotFound, ErrDecryptionFailed, ...). An ARN SecretID is rewritten for each
	// region; all regions share the one Timeout. Stats.Region says which region served.
	FallbackRegions []string
	// Source says where the secret is read from: "secretsmanager" (the default),
	// "file:<path>" (a mounted file, e.g. Kubernetes' Secrets Store CSI driver),
	// "env:<NAME>" (an environment variable, e.g. ECS secrets) or "flyte:<group>/<key>"
	// (Flyte's injected secret). "" = not set (STARFLEET_SECRET_SOURCE, else the
	// configuration's Source). A platform-delivered secret makes no AWS call.
	Source string
	// ZeroizeBeforeSnapshot makes BeforeSnapshot wipe the cached value (and the library zero
	// the memory it frees), so no plaintext secret is in a snapshot of the process (Lambda
	// SnapStart); the first read after the restore fetches. false = not set
	// (STARFLEET_SECRETS_ZEROIZE_BEFORE_SNAPSHOT, else off).
	ZeroizeBeforeSnapshot bool
}

// Jitter returns a pointer to f, for Options.ExpiryJitter.
func Jitter(f float64) *float64 { return &f }

// Manager is one cached secret. Create it with New or use Default; it is safe for
// concurrent use by any number of goroutines.
type Manager struct {
	mu       sync.Mutex
	handle   *cManager
	inFlight int
	// loading is closed when the load in progress ends; nil when none is (see read).
	loading chan struct{}
	closed  bool
	shared  bool // the Default manager: Close is a no-op
	initErr error
	// kept are Get's answers it may give again without the library (reuse.go).
	kept keptAnswers
}

var errClosed = &Error{Code: ErrInvalidArgument, Message: "the Manager is closed"}

// New makes a Manager from opts. Options are checked now (e.g. a negative Timeout is an
// ErrInvalidArgument); the location is resolved, and the secret fetched, on first use.
// Call Close when done with it (a Manager that is garbage collected is closed too).
func New(opts Options) (*Manager, error) {
	o, err := newCOptions()
	if err != nil {
		return nil, err
	}
	defer freeCOptions(o)
	if err := applyOptions(o, opts); err != nil {
		return nil, err
	}
	h, err := newCManager(o)
	if err != nil {
		return nil, err
	}
	m := &Manager{handle: h}
	runtime.SetFinalizer(m, (*Manager).Close)
	return m, nil
}

var (
	defaultOnce    sync.Once
	defaultManager *Manager
)

// Default is the process-wide Manager for the default location: STARFLEET_SECRET_ID and
// STARFLEET_SECRET_REGION, else the Starfleet configuration named by STARFLEET_CONFIG; TTL,
// timeout and max staleness from their environment variables or defaults. The environment
// is read on first use. Close on it does nothing.
func Default() *Manager {
	defaultOnce.Do(func() {
		h, err := newCManager(nil)
		defaultManager = &Manager{handle: h, shared: true, initErr: err}
	})
	return defaultManager
}

// Close releases the Manager and its cached secret (zeroized). Calls still in progress
// (e.g. abandoned through their context) finish first; later calls fail with
// ErrInvalidArgument. Closing twice is fine.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shared || m.closed {
		return nil
	}
	m.closed = true
	m.kept.forget()
	runtime.SetFinalizer(m, nil)
	if m.inFlight == 0 {
		m.free()
	}
	return nil
}

// free releases the C handle; m.mu is held.
func (m *Manager) free() {
	if m.handle != nil {
		freeCManager(m.handle)
		m.handle = nil
	}
}

// usable says why no call can use the handle (construction failed, or Close ran); m.mu is held.
func (m *Manager) usable() error {
	if m.initErr != nil {
		return m.initErr
	}
	if m.closed || m.handle == nil {
		return errClosed
	}
	return nil
}

// acquire pins the handle for one call; release must follow.
func (m *Manager) acquire() (*cManager, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return nil, err
	}
	m.inFlight++
	return m.handle, nil
}

func (m *Manager) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	if m.closed && m.inFlight == 0 {
		m.free()
	}
}

// call runs f with the handle, returning early with ctx.Err() if ctx is done first.
// f converts the C results to Go values and frees the C memory itself, so an abandoned
// call leaks nothing.
func call[T any](ctx context.Context, m *Manager, f func(h *cManager) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	h, err := m.acquire()
	if err != nil {
		return zero, err
	}
	if ctx.Done() == nil { // cannot be cancelled: no goroutine needed
		defer m.release()
		return f(h)
	}
	type outcome struct {
		value T
		err   error
	}
	done := make(chan outcome, 1)
	go func() {
		defer m.release()
		v, err := f(h)
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		return o.value, o.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// read answers a getter without holding an OS thread while a fetch is in flight. A
// goroutine blocked in a cgo call pins its thread, so a cold or expired cache with hundreds
// of waiting goroutines used to pin hundreds of threads (Go's limit is 10,000, then the
// process dies). Instead:
//
//  1. get(h, 0) answers whatever needs no fetch (core's try_secret: a hit, a settings
//     error, a failure still in its retry pause, or the stale value then);
//  2. otherwise the goroutine waits, with its ctx, for this Manager's one load (started by
//     the first goroutine that needs it, run on its own goroutine: one thread per Manager);
//  3. then it asks again, also accepting a value fetched since it first asked (so with
//     TTLNoCache the load's value answers every caller that waited for it); if the answer
//     still needs a fetch (the settings changed meanwhile), it makes the blocking call.
//
// Core still decides everything (single flight, TTL, stale-if-error, backoff); this only
// chooses which goroutine's thread waits in C.
func read[T any](ctx context.Context, m *Manager, get func(h *cManager, w wait) (T, bool, error)) (T, error) {
	var zero T
	asked := time.Now()
	for waited := false; ; waited = true {
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		h, err := m.acquire()
		if err != nil {
			return zero, err
		}
		// After a load, a value it fetched answers this call even when the TTL says it is
		// no longer fresh (TTLNoCache): it was fetched after this call asked.
		since := time.Duration(0)
		if waited {
			since = time.Since(asked)
		}
		v, ready, err := get(h, wait(since))
		m.release()
		if ready {
			return v, err
		}
		if waited {
			return call(ctx, m, func(h *cManager) (T, error) {
				v, _, err := get(h, block)
				return v, err
			})
		}
		loaded, err := m.load()
		if err != nil {
			return zero, err
		}
		select {
		case <-loaded:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
}

// load returns a channel closed when this Manager's load ends, starting one unless one is
// in progress. The load's outcome is read back through the _try_ getters.
func (m *Manager) load() (<-chan struct{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usable(); err != nil {
		return nil, err
	}
	if m.loading == nil {
		loading := make(chan struct{})
		m.loading = loading
		m.inFlight++
		go func(h *cManager) {
			// Its error is also what the _try_ getters answer now (or the stale value).
			_ = cOp(h, opLoad)
			m.mu.Lock()
			m.loading = nil
			m.mu.Unlock()
			m.release() // before close: waiters see the Manager settled
			close(loading)
		}(m.handle)
	}
	return m.loading, nil
}

// Secrets returns the whole document, decoded as by encoding/json.
func (m *Manager) Secrets(ctx context.Context) (map[string]any, error) {
	raw, err := m.GetJSON(ctx)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, &Error{Code: ErrInternal, Message: fmt.Sprintf("decoding the document: %v", err)}
	}
	return doc, nil
}

// Get returns the string at a key path: Get(ctx, "STARFLEET.SlackToken") or
// Get(ctx, "GitHubSyncWorker", "my.org"). ErrKeyNotFound names the missing key;
// ErrSecretFormat if the value is not a string (use GetJSON for any value).
//
// A read answered before is answered again from the string Go got then, without calling
// the library, while the library says it is the manager's fresh value (reuse.go); it is
// counted in Stats.Hits like any other.
func (m *Manager) Get(ctx context.Context, path ...string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	key := pathKey(path)
	if v, ok := m.kept.lookup(key); ok {
		if m.kept.hits.Add(1) >= flushHitsAt {
			m.flushHits()
		}
		return v, nil
	}
	return m.getThroughLibrary(ctx, key, append([]string(nil), path...))
}

// getThroughLibrary is Get's read through the library, keeping its answer when the library
// says for how long it stays fresh. It takes its own copy of the path, so that Get's
// variadic argument does not escape (a kept answer costs no allocation).
func (m *Manager) getThroughLibrary(ctx context.Context, key string, path []string) (string, error) {
	return read(ctx, m, func(h *cManager, w wait) (string, bool, error) {
		g, asked := m.kept.current(), time.Now()
		b, ready, reuseFor, err := cStringReusable(h, path, w)
		v := string(b)
		if ready && err == nil {
			m.kept.keep(key, v, asked, reuseFor, g)
		}
		return v, ready, err
	})
}

// flushHits hands the reads answered from kept answers to the library as hits.
func (m *Manager) flushHits() {
	h, err := m.acquire()
	if err != nil {
		return // closed: its stats are gone
	}
	defer m.release()
	m.flushHitsWith(h)
}

func (m *Manager) flushHitsWith(h *cManager) {
	if n := m.kept.hits.Swap(0); n > 0 {
		if err := cRecordHits(h, n); err != nil {
			m.kept.hits.Add(n) // told next time
		}
	}
}

// GetJSON returns the value at a key path as JSON text (any JSON type), or the whole
// document when no path is given.
func (m *Manager) GetJSON(ctx context.Context, path ...string) (json.RawMessage, error) {
	kind := textJSON
	if len(path) == 0 {
		kind = textDocument
	}
	return read(ctx, m, func(h *cManager, w wait) (json.RawMessage, bool, error) {
		return cText(h, kind, path, w)
	})
}

// Binary returns the bytes of a binary secret (SecretBinary); ErrSecretFormat for a
// SecretString.
func (m *Manager) Binary(ctx context.Context) ([]byte, error) {
	return read(ctx, m, cBinary)
}

// Refresh fetches now, whatever the cache holds. On failure the error is returned and the
// last good value stays cached.
func (m *Manager) Refresh(ctx context.Context) error {
	return m.run(ctx, opRefresh)
}

// BeforeSnapshot is for a custom runtime's snapshot hook (Lambda SnapStart: call it just
// before GET /runtime/restore/next, during which Lambda takes the snapshot): it drops the
// pooled connections and, with ZeroizeBeforeSnapshot, wipes the cached value. It never waits
// on the network.
func (m *Manager) BeforeSnapshot() error {
	return m.run(context.Background(), opBeforeSnapshot)
}

// AfterRestore is for a custom runtime's restore hook (call it once GET
// /runtime/restore/next answered): a new expiry-jitter share, no connection or credentials
// from before the snapshot, and every cached value due, so the next read fetches once
// within the Timeout (stale-if-error counting from the restore). Stats.Restores counts it.
// It never waits on the network.
func (m *Manager) AfterRestore() error {
	return m.run(context.Background(), opAfterRestore)
}

// Invalidate forgets the cached value and any failure backoff; the next access fetches.
func (m *Manager) Invalidate() error {
	return m.run(context.Background(), opInvalidate)
}

// run calls one manager operation that answers nothing but an error (Refresh, Invalidate,
// the snapshot hooks) through call.
// Each of them may replace the value: Get's kept answers are not used while it runs and are
// forgotten when it ends (an AfterRestore's in every Manager: a restore is the whole
// process's).
func (m *Manager) run(ctx context.Context, op managerOp) error {
	_, err := call(ctx, m, func(h *cManager) (struct{}, error) {
		var err error
		m.kept.whileReplacing(func() {
			err = cOp(h, op)
			if op == opAfterRestore {
				restores.Add(1)
			}
		})
		return struct{}{}, err
	})
	return err
}

// Location resolves where the secret is (options, environment, Starfleet configuration)
// without fetching it.
func (m *Manager) Location() (secretID, region string, err error) {
	type loc struct{ id, region string }
	l, err := call(context.Background(), m, func(h *cManager) (loc, error) {
		id, region, err := cLocation(h)
		return loc{id, region}, err
	})
	return l.id, l.region, err
}

// Stats is a snapshot of a Manager's cache counters. The JSON tags are core's stats names:
// the counters decode straight from core's JSON (core/tests/stats_described.rs checks that
// every stat has its field here; testing_overrides is left out, as Go has no testing
// overrides).
type Stats struct {
	// Hits counts accesses answered from a fresh cached value.
	Hits uint64 `json:"hits"`
	// Misses counts accesses that found no fresh value.
	Misses uint64 `json:"misses"`
	// Fetches counts GetSecretValue calls (successful or not).
	Fetches uint64 `json:"fetches"`
	// Failures counts calls that failed.
	Failures uint64 `json:"failures"`
	// StaleServed counts accesses answered with a stale value because refreshing failed.
	StaleServed uint64 `json:"stale_served"`
	// RefreshesAhead counts background refreshes made by refresh-ahead (also in Fetches).
	RefreshesAhead uint64 `json:"refreshes_ahead"`
	// Failovers counts the times a fetch moved on from a failing region to the next one
	// (Options.FallbackRegions).
	Failovers uint64 `json:"failovers"`
	// Hedges counts the GetSecretValue requests sent again on a new connection, after a
	// reused pooled connection stayed silent (a connection a NAT or a freeze dropped) or
	// while one was still being opened (at most two per read).
	Hedges uint64 `json:"hedges"`
	// OlderReplicaAnswers counts the answers of a fallback region that held an older
	// version than the cached one (a lagging replica): never stored, never reported as a
	// change; the read went on as if that region had failed.
	OlderReplicaAnswers uint64 `json:"older_replica_answers"`
	// Restores counts the restores from a snapshot reported by AfterRestore.
	Restores uint64 `json:"restores"`
	// LastRefresh is the time of the last successful fetch (zero if none).
	LastRefresh time.Time `json:"last_refresh"`
	// VersionID is the VersionId of the cached value ("" if none).
	VersionID string `json:"version_id"`
	// LastError is the code of the last failure (0 if none, or after a success).
	LastError Code `json:"last_error"`
	// Region is the region that served the cached value: a fallback region after a
	// failover ("" if none).
	Region string `json:"region"`
}

// Stats returns the cache counters.
func (m *Manager) Stats() (Stats, error) {
	raw, err := call(context.Background(), m, func(h *cManager) ([]byte, error) {
		m.flushHitsWith(h)
		b, _, err := cText(h, textStats, nil, block)
		return b, err
	})
	if err != nil {
		return Stats{}, err
	}
	// The fields whose Go type is not core's JSON type are decoded beside the counters.
	var s struct {
		Stats
		LastRefresh *float64 `json:"last_refresh"`
		VersionID   *string  `json:"version_id"`
		LastError   *string  `json:"last_error"`
		Region      *string  `json:"region"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return Stats{}, &Error{Code: ErrInternal, Message: fmt.Sprintf("decoding stats: %v", err)}
	}
	out := s.Stats
	if s.LastRefresh != nil {
		sec := *s.LastRefresh
		out.LastRefresh = time.Unix(0, int64(sec*1e9))
	}
	if s.VersionID != nil {
		out.VersionID = *s.VersionID
	}
	if s.Region != nil {
		out.Region = *s.Region
	}
	if s.LastError != nil {
		for c := ErrConfigMissing; c <= ErrInternal; c++ {
			if c.String() == *s.LastError {
				out.LastError = c
			}
		}
	}
	return out, nil
}

// Version is the version of the loaded libstarfleet_secrets, e.g. "0.1.0".
func Version() string { return libraryVersion() }
