package starfleetsecrets

// The cgo layer: every C call of the package is here.
//
// Build flags come from pkg-config (link_static.go, link_shared.go): the C SDK
// (libstarfleet_secrets and its header) installs lib/pkgconfig/starfleet_secrets_static.pc,
// linked by default (one self-contained binary), and starfleet_secrets.pc, for the shared
// library under -tags starfleet_shared. For an SDK outside the default search path, or the
// in-repository development build that scripts/test-c-go lays out in target/<triple>/debug/c-sdk:
//
//	PKG_CONFIG_PATH=/path/to/sdk/lib/pkgconfig go build ./...
//
// Over the shared library, the .pc file adds an rpath to the SDK's lib/, so programs run
// without LD_LIBRARY_PATH.

/*
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "starfleet_secrets.h"

// The library keeps the last error message per OS thread, and a goroutine may move to
// another thread between two cgo calls. So every fallible call is made through one of
// these wrappers, which read the message in the same cgo call (on the same thread) and
// hand it back as a malloc'd string for Go to free. Messages never hold secret values.
static char *sfs_take_message(starfleet_secrets_result r) {
	if (r == STARFLEET_SECRETS_RESULT_OK) {
		return NULL;
	}
	size_t n = 0;
	starfleet_secrets_last_error_message(NULL, 0, &n);
	char *buf = malloc(n + 1);
	if (buf != NULL) {
		starfleet_secrets_last_error_message(buf, n + 1, NULL);
	}
	return buf;
}

static starfleet_secrets_result sfs_options_new(starfleet_secrets_options **out, char **err) {
	starfleet_secrets_result r = starfleet_secrets_options_new(out);
	*err = sfs_take_message(r);
	return r;
}

// The option setters, by their C names: Go holds a pointer to each named setter (option in
// options_gen.go, generated from core's options) and calls it through this one helper, which
// casts it to the setter type of its C form (0 text, 1 double, 2 bool) and reads the message
// on the same thread.
typedef starfleet_secrets_result (*sfs_str_setter)(starfleet_secrets_options *, const char *);
typedef starfleet_secrets_result (*sfs_num_setter)(starfleet_secrets_options *, double);
typedef starfleet_secrets_result (*sfs_bool_setter)(starfleet_secrets_options *, bool);

static starfleet_secrets_result sfs_options_set(void *set, int form, starfleet_secrets_options *o,
                                                const char *text, double number, bool flag, char **err) {
	starfleet_secrets_result r;
	switch (form) {
	case 0: r = ((sfs_str_setter)set)(o, text); break;
	case 1: r = ((sfs_num_setter)set)(o, number); break;
	case 2: r = ((sfs_bool_setter)set)(o, flag); break;
	default: r = STARFLEET_SECRETS_RESULT_INTERNAL;
	}
	*err = sfs_take_message(r);
	return r;
}

static starfleet_secrets_result sfs_manager_new(const starfleet_secrets_options *o,
                                                starfleet_secrets_manager **out, char **err) {
	starfleet_secrets_result r = o ? starfleet_secrets_manager_new(o, out)
	                               : starfleet_secrets_manager_new_default(out);
	*err = sfs_take_message(r);
	return r;
}

static starfleet_secrets_result sfs_location(const starfleet_secrets_manager *m, char **id,
                                             char **region, char **err) {
	starfleet_secrets_result r = starfleet_secrets_manager_location(m, id, region);
	*err = sfs_take_message(r);
	return r;
}

// What a text getter returns. kind: 0 document JSON, 1 string at path, 2 JSON at path,
// 3 stats JSON. With ready == NULL the getter blocks for a fetch; otherwise it is the
// _try_ getter, which never waits (*ready = false: a fetch is needed, nothing written).
static starfleet_secrets_result sfs_get_text(const starfleet_secrets_manager *m, int kind,
                                             const char *const *keys, size_t n, char **out,
                                             size_t *out_len, bool *ready, double within,
                                             char **err) {
	starfleet_secrets_result r;
	if (ready == NULL) {
		switch (kind) {
		case 0: r = starfleet_secrets_manager_get_document_json(m, out, out_len); break;
		case 1: r = starfleet_secrets_manager_get_string_path(m, keys, n, out, out_len); break;
		case 2: r = starfleet_secrets_manager_get_json_path(m, keys, n, out, out_len); break;
		case 3: r = starfleet_secrets_manager_stats_json(m, out, out_len); break;
		default: r = STARFLEET_SECRETS_RESULT_INTERNAL;
		}
	} else {
		switch (kind) {
		case 0: r = starfleet_secrets_manager_try_get_document_json(m, within, out, out_len, ready); break;
		case 1: r = starfleet_secrets_manager_try_get_string_path(m, within, keys, n, out, out_len, ready); break;
		case 2: r = starfleet_secrets_manager_try_get_json_path(m, within, keys, n, out, out_len, ready); break;
		default: r = STARFLEET_SECRETS_RESULT_INTERNAL;
		}
	}
	*err = sfs_take_message(r);
	return r;
}

static starfleet_secrets_result sfs_get_binary(const starfleet_secrets_manager *m, uint8_t **out,
                                               size_t *out_len, bool *ready, double within,
                                               char **err) {
	starfleet_secrets_result r = ready == NULL
		? starfleet_secrets_manager_get_binary(m, out, out_len)
		: starfleet_secrets_manager_try_get_binary(m, within, out, out_len, ready);
	*err = sfs_take_message(r);
	return r;
}

// The string at a key path and for how long it may be reused (reuse.go): the _reusable
// _try_ getter (ABI 7), which never waits.
static starfleet_secrets_result sfs_get_string_reusable(const starfleet_secrets_manager *m,
                                                        const char *const *keys, size_t n, char **out,
                                                        size_t *out_len, bool *ready, double within,
                                                        double *reuse_for, char **err) {
	starfleet_secrets_result r = starfleet_secrets_manager_try_get_string_path_reusable(
		m, within, keys, n, out, out_len, ready, reuse_for);
	*err = sfs_take_message(r);
	return r;
}

static starfleet_secrets_result sfs_record_hits(const starfleet_secrets_manager *m, uint64_t n, char **err) {
	starfleet_secrets_result r = starfleet_secrets_manager_record_hits(m, n);
	*err = sfs_take_message(r);
	return r;
}

// A manager operation that takes nothing but the manager (load, refresh, invalidate, the
// snapshot hooks): one C helper for all of them, the function chosen by Go (opLoad, ...).
typedef starfleet_secrets_result (*sfs_manager_op)(const starfleet_secrets_manager *);

static starfleet_secrets_result sfs_op(sfs_manager_op op, const starfleet_secrets_manager *m, char **err) {
	starfleet_secrets_result r = op(m);
	*err = sfs_take_message(r);
	return r;
}

// OnChange: the library calls this trampoline, which hands the VersionIds and the
// runtime/cgo.Handle of the Go function (carried as user_data) to sfsGoOnChange (onchange.go).
extern void sfsGoOnChange(char *old_version, char *new_version, uintptr_t handle);

static void sfs_on_change_trampoline(const char *old_version, const char *new_version, void *user_data) {
	sfsGoOnChange((char *)old_version, (char *)new_version, (uintptr_t)user_data);
}

static starfleet_secrets_result sfs_on_change(const starfleet_secrets_manager *m, uintptr_t handle,
                                              starfleet_secrets_subscription **out, char **err) {
	starfleet_secrets_result r =
		starfleet_secrets_manager_on_change(m, sfs_on_change_trampoline, (void *)handle, out);
	*err = sfs_take_message(r);
	return r;
}
*/
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"
)

type (
	cManager      = C.starfleet_secrets_manager
	cOptions      = C.starfleet_secrets_options
	cSubscription = C.starfleet_secrets_subscription
)

// errorFrom turns a C result and its message (freed here) into a Go error (nil for OK).
func errorFrom(r C.starfleet_secrets_result, msg *C.char) error {
	if msg != nil {
		defer C.free(unsafe.Pointer(msg))
	}
	if r == C.STARFLEET_SECRETS_RESULT_OK {
		return nil
	}
	code := Code(r)
	text := ""
	if msg != nil {
		text = C.GoString(msg)
	}
	// The C message is "CODE: what went wrong"; keep the explanation.
	text = strings.TrimPrefix(text, code.String()+": ")
	return &Error{Code: code, Message: text}
}

func resultName(n uint32) string {
	return C.GoString(C.starfleet_secrets_result_name(C.uint32_t(n)))
}

func libraryVersion() string {
	return C.GoString(C.starfleet_secrets_version())
}

func headerVersion() string {
	return C.STARFLEET_SECRETS_VERSION_STRING
}

func abiVersions() (library, header uint32) {
	return uint32(C.starfleet_secrets_abi_version()), uint32(C.STARFLEET_SECRETS_ABI_VERSION)
}

// ---- options

// option is one of core's options as Go gives it; options_gen.go lists them all, generated
// from core's options, so adding an option costs Go only its field in Options. field names
// it in messages; value is the field's value; zero is a duration field's spelling of an
// explicit 0 (TTLNoCache, NoStale; none: 0); text, number and flag are the option's named C
// setters taking a string, a double and a bool (nil: its kind has no such C form).
type option struct {
	field  string
	value  any
	zero   time.Duration
	text   unsafe.Pointer
	number unsafe.Pointer
	flag   unsafe.Pointer
}

// applyOptions hands every option given in opts to its named C setter (each checked by core's
// Options::set), in core's order.
func applyOptions(o *cOptions, opts Options) error {
	for _, p := range optionsOf(&opts) {
		if err := p.apply(o); err != nil {
			return err
		}
	}
	return nil
}

// apply converts the option's value and calls the setter of the C form it needs. The
// conversion is written once per Go type, not per option: each type's "not set" value is
// skipped (the environment variable, else core's default, decides) and its special values
// are spelled here.
func (p option) apply(o *cOptions) error {
	switch v := p.value.(type) {
	case string: // "" = not set
		if v != "" {
			return p.setText(o, v)
		}
	case []string: // one comma-separated list; empty = not set
		if joined := strings.Join(v, ","); joined != "" {
			return p.setText(o, joined)
		}
	case time.Duration: // 0 = not set; given to C in seconds
		switch {
		case v == 0:
		case p.text != nil && v == TTLNever: // the TTL (the kind with a text form): "never"
			return p.setText(o, "never")
		case p.zero != 0 && v == p.zero: // TTLNoCache, NoStale: an explicit 0
			return p.setNumber(o, 0)
		default:
			return p.setNumber(o, v.Seconds())
		}
	case float64: // 0 = not set
		if v != 0 {
			return p.setNumber(o, v)
		}
	case *float64: // nil = not set, so that 0 can be given (ExpiryJitter: Jitter(0))
		if v != nil {
			return p.setNumber(o, *v)
		}
	case bool: // false = not set: the environment variable (else off) decides
		if v {
			return p.setFlag(o, true)
		}
	default:
		return p.unconvertible()
	}
	return nil
}

// unconvertible is the error for a field whose Go type, or needed C form, apply lacks: a bug
// of this package (a new option's field of a type apply does not convert), never a crash.
func (p option) unconvertible() error {
	return &Error{Code: ErrInternal, Message: fmt.Sprintf("%s: no conversion of a %T to its C setter", p.field, p.value)}
}

// The C forms of a setter, as sfs_options_set numbers them.
const (
	formText = iota
	formNumber
	formFlag
)

func (p option) setText(o *cOptions, value string) error {
	cs, err := cString(p.field, value)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	return p.call(o, p.text, formText, cs, 0, false)
}

func (p option) setNumber(o *cOptions, value float64) error {
	return p.call(o, p.number, formNumber, nil, value, false)
}

func (p option) setFlag(o *cOptions, value bool) error {
	return p.call(o, p.flag, formFlag, nil, 0, value)
}

// call runs setter, the option's setter of C form form, with the argument of that form (the
// others are ignored); a form the option's kind lacks (nil) is ErrInternal, never a C call.
func (p option) call(o *cOptions, setter unsafe.Pointer, form C.int, text *C.char, number float64, flag bool) error {
	if setter == nil {
		return p.unconvertible()
	}
	var msg *C.char
	r := C.sfs_options_set(setter, form, o, text, C.double(number), C.bool(flag), &msg)
	return errorFrom(r, msg)
}

func newCOptions() (*cOptions, error) {
	var o *cOptions
	var msg *C.char
	r := C.sfs_options_new(&o, &msg)
	return o, errorFrom(r, msg)
}

func freeCOptions(o *cOptions) { C.starfleet_secrets_options_free(o) }

// cString copies s for C, refusing a NUL inside: C would see the string cut short there
// ("Starfleet\x00-staging" read as "Starfleet"), so it is ErrInvalidArgument before any C
// call. The message names the argument and the position, never the text. Free the result
// with C.free.
func cString(name, s string) (*C.char, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, &Error{Code: ErrInvalidArgument, Message: fmt.Sprintf("%s contains a NUL byte (at byte %d)", name, i)}
	}
	return C.CString(s), nil
}

// ---- manager

func newCManager(o *cOptions) (*cManager, error) {
	var m *cManager
	var msg *C.char
	r := C.sfs_manager_new(o, &m, &msg)
	return m, errorFrom(r, msg)
}

func freeCManager(m *cManager) { C.starfleet_secrets_manager_free(m) }

func cLocation(m *cManager) (string, string, error) {
	var id, region, msg *C.char
	r := C.sfs_location(m, &id, &region, &msg)
	if err := errorFrom(r, msg); err != nil {
		return "", "", err
	}
	defer C.starfleet_secrets_string_free(id)
	defer C.starfleet_secrets_string_free(region)
	return C.GoString(id), C.GoString(region), nil
}

const (
	textDocument = iota
	textString
	textJSON
	textStats
)

// How a getter may wait: block (the plain getter, which waits for a fetch), or, zero or
// more, the _try_ getter, which never waits and also accepts a value fetched within that
// long ago (a load that ended while the caller waited).
type wait time.Duration

const block wait = -1

// tryArgs are the C getter's out_ready (NULL for the blocking getter) and fetched_within.
func tryArgs(w wait, ready *C.bool) (*C.bool, C.double) {
	if w == block {
		return nil, 0
	}
	return ready, C.double(time.Duration(w).Seconds())
}

// cText runs a text getter and copies the result into Go memory; the C copy is zeroized
// and freed before returning, whatever happens. ready is false only when w is not block
// and the answer needs a fetch.
func cText(m *cManager, kind int, path []string, w wait) (text []byte, ready bool, err error) {
	keys, free, err := cKeys(path)
	if err != nil {
		return nil, true, err
	}
	defer free()
	var out, msg *C.char
	var n C.size_t
	cReady := C.bool(true)
	readyOut, within := tryArgs(w, &cReady)
	r := C.sfs_get_text(m, C.int(kind), keys, C.size_t(len(path)), &out, &n, readyOut, within, &msg)
	if err := errorFrom(r, msg); err != nil {
		return nil, true, err
	}
	if !cReady {
		return nil, false, nil
	}
	defer C.starfleet_secrets_string_free(out)
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), true, nil
}

// cKeys copies a key path for C (nil for none); free releases the copy.
func cKeys(path []string) (keys **C.char, free func(), err error) {
	if len(path) == 0 {
		return nil, func() {}, nil
	}
	array := C.calloc(C.size_t(len(path)), C.size_t(unsafe.Sizeof((*C.char)(nil))))
	elems := unsafe.Slice((**C.char)(array), len(path))
	free = func() {
		for _, cs := range elems {
			C.free(unsafe.Pointer(cs)) // NULL for the elements never copied
		}
		C.free(array)
	}
	for i, key := range path {
		cs, err := cString(fmt.Sprintf("key path element %d", i), key)
		if err != nil {
			free()
			return nil, nil, err
		}
		elems[i] = cs
	}
	return (**C.char)(array), free, nil
}

// cStringReusable is cText's string getter, also answering for how long the value stays the
// manager's fresh value (reuse.go): 0 with the blocking getter (w == block), which does not
// say.
func cStringReusable(m *cManager, path []string, w wait) (text []byte, ready bool, reuseFor time.Duration, err error) {
	if w == block {
		text, ready, err = cText(m, textString, path, w)
		return text, ready, 0, err
	}
	keys, free, err := cKeys(path)
	if err != nil {
		return nil, true, 0, err
	}
	defer free()
	var out, msg *C.char
	var n C.size_t
	cReady := C.bool(true)
	seconds := C.double(0)
	r := C.sfs_get_string_reusable(m, keys, C.size_t(len(path)), &out, &n, &cReady,
		C.double(time.Duration(w).Seconds()), &seconds, &msg)
	if err := errorFrom(r, msg); err != nil {
		return nil, true, 0, err
	}
	if !cReady {
		return nil, false, 0, nil
	}
	defer C.starfleet_secrets_string_free(out)
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), true, reuseDuration(float64(seconds)), nil
}

// cRecordHits counts n reads answered from kept answers as the manager's hits.
func cRecordHits(m *cManager, n uint64) error {
	var msg *C.char
	r := C.sfs_record_hits(m, C.uint64_t(n), &msg)
	return errorFrom(r, msg)
}

func cBinary(m *cManager, w wait) (data []byte, ready bool, err error) {
	var out *C.uint8_t
	var n C.size_t
	var msg *C.char
	cReady := C.bool(true)
	readyOut, within := tryArgs(w, &cReady)
	r := C.sfs_get_binary(m, &out, &n, readyOut, within, &msg)
	if err := errorFrom(r, msg); err != nil {
		return nil, true, err
	}
	if !cReady {
		return nil, false, nil
	}
	defer C.starfleet_secrets_bytes_free(out)
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), true, nil
}

// The manager operations cOp runs; each is one C function of the manager alone.
var (
	opLoad           = C.sfs_manager_op(C.starfleet_secrets_manager_load) // blocks this thread for the fetch
	opRefresh        = C.sfs_manager_op(C.starfleet_secrets_manager_refresh)
	opInvalidate     = C.sfs_manager_op(C.starfleet_secrets_manager_invalidate)
	opBeforeSnapshot = C.sfs_manager_op(C.starfleet_secrets_manager_before_snapshot)
	opAfterRestore   = C.sfs_manager_op(C.starfleet_secrets_manager_after_restore)
)

// managerOp is one of the operations above (manager.go names them without cgo).
type managerOp = C.sfs_manager_op

// cOp runs one manager operation and turns its result into an error.
func cOp(m *cManager, op managerOp) error {
	var msg *C.char
	r := C.sfs_op(op, m, &msg)
	return errorFrom(r, msg)
}

// cOnChange subscribes the Go function behind handle to m's changes.
func cOnChange(m *cManager, handle uintptr) (*cSubscription, error) {
	var sub *cSubscription
	var msg *C.char
	r := C.sfs_on_change(m, C.uintptr_t(handle), &sub, &msg)
	if err := errorFrom(r, msg); err != nil {
		return nil, err
	}
	return sub, nil
}

// cCancelChange cancels and releases a subscription: no call starts after it returns.
func cCancelChange(sub *cSubscription) { C.starfleet_secrets_subscription_cancel(sub) }
