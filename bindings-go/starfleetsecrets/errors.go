package starfleetsecrets

// #include <stdbool.h>
// #include <stdint.h>
// #include "starfleet_secrets.h"
import "C"

// Code is a stable error code shared by every language of starfleet-secrets (the numbers
// are the C enum's, the names its string codes). Each Code is also a sentinel error, so
//
//	if errors.Is(err, starfleetsecrets.ErrSecretNotFound) { ... }
//
// works on any error this package returns, and errors.As gives the *Error with the message.
type Code uint32

// The codes, in number order: the C enum's values, so the numbers are written only in core's
// list. Never renumbered; a library newer than this package may return a number not listed
// here (its String is then "UNKNOWN").
const (
	// ErrConfigMissing: no secret location in options, environment or Starfleet configuration.
	ErrConfigMissing Code = C.STARFLEET_SECRETS_RESULT_CONFIG_MISSING
	// ErrConfigInvalid: a Starfleet configuration or an option is present but wrong.
	ErrConfigInvalid Code = C.STARFLEET_SECRETS_RESULT_CONFIG_INVALID
	// ErrSecretNotFound: the secret (or the requested version or stage) does not exist.
	ErrSecretNotFound Code = C.STARFLEET_SECRETS_RESULT_SECRET_NOT_FOUND
	// ErrAccessDenied: the credentials are valid but not allowed to read the secret.
	ErrAccessDenied Code = C.STARFLEET_SECRETS_RESULT_ACCESS_DENIED
	// ErrDecryptionFailed: Secrets Manager could not decrypt the secret with its KMS key.
	ErrDecryptionFailed Code = C.STARFLEET_SECRETS_RESULT_DECRYPTION_FAILED
	// ErrCredentials: no usable AWS credentials (missing, expired or rejected).
	ErrCredentials Code = C.STARFLEET_SECRETS_RESULT_CREDENTIALS
	// ErrThrottled: the API throttled the calls and retries ran out.
	ErrThrottled Code = C.STARFLEET_SECRETS_RESULT_THROTTLED
	// ErrTimeout: the fetch did not finish within its deadline (Options.Timeout).
	ErrTimeout Code = C.STARFLEET_SECRETS_RESULT_TIMEOUT
	// ErrNetwork: the endpoint could not be reached (refused, reset, DNS, TLS).
	ErrNetwork Code = C.STARFLEET_SECRETS_RESULT_NETWORK
	// ErrService: Secrets Manager answered with a server error, or an unclassified one.
	ErrService Code = C.STARFLEET_SECRETS_RESULT_SERVICE
	// ErrSecretFormat: the secret is not the expected shape (not a JSON object, binary where
	// text was asked, a non-string value where a string was asked).
	ErrSecretFormat Code = C.STARFLEET_SECRETS_RESULT_SECRET_FORMAT
	// ErrKeyNotFound: a key path does not exist in the document.
	ErrKeyNotFound Code = C.STARFLEET_SECRETS_RESULT_KEY_NOT_FOUND
	// ErrInvalidArgument: an unusable argument (empty or malformed key path, bad option,
	// a closed Manager).
	ErrInvalidArgument Code = C.STARFLEET_SECRETS_RESULT_INVALID_ARGUMENT
	// ErrInternal: a bug in the library.
	ErrInternal Code = C.STARFLEET_SECRETS_RESULT_INTERNAL
)

// String is the stable string code, e.g. "SECRET_NOT_FOUND".
func (c Code) String() string { return resultName(uint32(c)) }

// Error makes each Code usable as a sentinel error.
func (c Code) Error() string { return "starfleetsecrets: " + c.String() }

// Transient reports whether retrying later could succeed without anyone changing anything
// (the failures stale-if-error covers). The library's own rule
// (starfleet_secrets_code_is_transient), so Go keeps no copy of the list.
func (c Code) Transient() bool {
	return bool(C.starfleet_secrets_code_is_transient(C.uint32_t(c)))
}

// Error is a failure reported by the library: a stable Code and a message naming the
// secret, region, file or key path involved. Messages never contain secret values.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	return "starfleetsecrets: " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the Code, so errors.Is(err, ErrKeyNotFound) matches.
func (e *Error) Unwrap() error { return e.Code }
