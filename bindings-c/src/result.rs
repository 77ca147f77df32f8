// Generated from core's error codes (core/src/error.rs) by the test
// `the_result_enum_is_generated_from_cores_codes` (bindings-c/src/tests.rs); do not edit.
// After adding a code in core: STARFLEET_REGENERATE=1 cargo test -p starfleet-secrets-c --lib
// result_enum, then regenerate the header (scripts/test-c-go says how).

use starfleet_secrets::error::Code;

/// What a call returned. The numbers are core's stable error codes (`Code::number()`), the
/// same numbers every language sees; 0 is success. Never renumbered, only appended to, so
/// treat an unknown number as an error and name it with `starfleet_secrets_result_name()`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum starfleet_secrets_result {
    /// Success.
    Ok = 0,
    /// No secret location in arguments, environment or Starfleet configuration.
    ConfigMissing = 1,
    /// A Starfleet configuration or an option is present but wrong.
    ConfigInvalid = 2,
    /// The secret (or the requested version/stage) does not exist.
    SecretNotFound = 3,
    /// The credentials are valid but not allowed to read the secret.
    AccessDenied = 4,
    /// Secrets Manager could not decrypt the secret with its KMS key.
    DecryptionFailed = 5,
    /// No usable credentials (missing, expired, or rejected).
    Credentials = 6,
    /// The API throttled the calls and retries ran out.
    Throttled = 7,
    /// The call did not finish within its deadline.
    Timeout = 8,
    /// The endpoint could not be reached (refused, reset, DNS, TLS).
    Network = 9,
    /// Secrets Manager answered with a server error, or an error not classified.
    Service = 10,
    /// The secret is not the expected shape (not a JSON object, binary where text was asked,
    /// a non-string value where a string was asked).
    SecretFormat = 11,
    /// A key path does not exist in the document.
    KeyNotFound = 12,
    /// An unusable argument: NULL where a value is required, text that is not UTF-8,
    /// a malformed key path or option.
    InvalidArgument = 13,
    /// A bug in this library (a caught panic, a poisoned lock).
    Internal = 14,
}

impl starfleet_secrets_result {
    /// The result a core code is returned as.
    pub(crate) const fn from_code(code: Code) -> Self {
        match code {
            Code::ConfigMissing => Self::ConfigMissing,
            Code::ConfigInvalid => Self::ConfigInvalid,
            Code::SecretNotFound => Self::SecretNotFound,
            Code::AccessDenied => Self::AccessDenied,
            Code::DecryptionFailed => Self::DecryptionFailed,
            Code::Credentials => Self::Credentials,
            Code::Throttled => Self::Throttled,
            Code::Timeout => Self::Timeout,
            Code::Network => Self::Network,
            Code::Service => Self::Service,
            Code::SecretFormat => Self::SecretFormat,
            Code::KeyNotFound => Self::KeyNotFound,
            Code::InvalidArgument => Self::InvalidArgument,
            Code::Internal => Self::Internal,
        }
    }
}
