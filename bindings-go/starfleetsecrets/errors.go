package starfleetsecrets

// Code is a stable error code shared by every language of starfleet-secrets (the numbers
// are the C enum's, the names its string codes). Each Code is also a sentinel error, so
//
//	if errors.Is(err, starfleetsecrets.ErrSecretNotFound) { ... }
//
// works on any error this package returns, and errors.As gives the *Error with the message.
type Code uint32

// The codes, in number order. Never renumbered; a library newer than this package may
// return a number not listed here (its String is then "UNKNOWN").
const (
	// ErrConfigMissing: no secret location in options, environment or Starfleet configuration.
	ErrConfigMissing Code = 1
	// ErrConfigInvalid: a Starfleet configuration or an option is present but wrong.
	ErrConfigInvalid Code = 2
	// ErrSecretNotFound: the secret (or the requested version or stage) does not exist.
	ErrSecretNotFound Code = 3
	// ErrAccessDenied: the credentials are valid but not allowed to read the secret.
	ErrAccessDenied Code = 4
	// ErrDecryptionFailed: Secrets Manager could not decrypt the secret with its KMS key.
	ErrDecryptionFailed Code = 5
	// ErrCredentials: no usable AWS credentials (missing, expired or rejected).
	ErrCredentials Code = 6
	// ErrThrottled: the API throttled the calls and retries ran out.
	ErrThrottled Code = 7
	// ErrTimeout: the fetch did not finish within its deadline (Options.Timeout).
	ErrTimeout Code = 8
	// ErrNetwork: the endpoint could not be reached (refused, reset, DNS, TLS).
	ErrNetwork Code = 9
	// ErrService: Secrets Manager answered with a server error, or an unclassified one.
	ErrService Code = 10
	// ErrSecretFormat: the secret is not the expected shape (not a JSON object, binary where
	// text was asked, a non-string value where a string was asked).
	ErrSecretFormat Code = 11
	// ErrKeyNotFound: a key path does not exist in the document.
	ErrKeyNotFound Code = 12
	// ErrInvalidArgument: an unusable argument (empty or malformed key path, bad option,
	// a closed Manager).
	ErrInvalidArgument Code = 13
	// ErrInternal: a bug in the library.
	ErrInternal Code = 14
)

// String is the stable string code, e.g. "SECRET_NOT_FOUND".
func (c Code) String() string { return resultName(uint32(c)) }

// Error makes each Code usable as a sentinel error.
func (c Code) Error() string { return "starfleetsecrets: " + c.String() }

// Transient reports whether retrying later could succeed without anyone changing anything
// (the failures stale-if-error covers).
func (c Code) Transient() bool {
	return c == ErrThrottled || c == ErrTimeout || c == ErrNetwork || c == ErrService
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
