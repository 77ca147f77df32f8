//! One error type for every front door.
//!
//! Each failure has a [`Code`]: a stable string (`"SECRET_NOT_FOUND"`) and a stable number
//! (`3`) that Python exception classes, Node `.code`, the C enum and Go sentinel errors are all
//! derived from. Messages say which secret, which region and which key path, so a reader can
//! fix the problem, and never contain a secret value: they are built only from names that the
//! caller supplied or from the AWS error code, never from response bodies or document values.

use std::fmt;

/// Stable error codes. The numbers are part of the C ABI; never renumber, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Code {
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
    /// The API throttled us and retries ran out.
    Throttled = 7,
    /// The call did not finish within its deadline.
    Timeout = 8,
    /// The endpoint could not be reached (refused, reset, DNS, TLS).
    Network = 9,
    /// Secrets Manager answered with a server error, or an error we do not classify.
    Service = 10,
    /// The secret is not the expected shape (not a JSON object, binary where text was asked,
    /// a non-string value where a string was asked).
    SecretFormat = 11,
    /// A key path does not exist in the document.
    KeyNotFound = 12,
    /// The caller passed something unusable (empty path, NULL pointer, invalid UTF-8).
    InvalidArgument = 13,
    /// A bug in this library (a caught panic, a poisoned lock).
    Internal = 14,
}

impl Code {
    /// Every code, in number order (used by bindings to build their class/enum tables).
    pub const ALL: [Code; 14] = [
        Code::ConfigMissing,
        Code::ConfigInvalid,
        Code::SecretNotFound,
        Code::AccessDenied,
        Code::DecryptionFailed,
        Code::Credentials,
        Code::Throttled,
        Code::Timeout,
        Code::Network,
        Code::Service,
        Code::SecretFormat,
        Code::KeyNotFound,
        Code::InvalidArgument,
        Code::Internal,
    ];

    /// The stable string code shared by every language.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::ConfigMissing => "CONFIG_MISSING",
            Code::ConfigInvalid => "CONFIG_INVALID",
            Code::SecretNotFound => "SECRET_NOT_FOUND",
            Code::AccessDenied => "ACCESS_DENIED",
            Code::DecryptionFailed => "DECRYPTION_FAILED",
            Code::Credentials => "CREDENTIALS",
            Code::Throttled => "THROTTLED",
            Code::Timeout => "TIMEOUT",
            Code::Network => "NETWORK",
            Code::Service => "SERVICE",
            Code::SecretFormat => "SECRET_FORMAT",
            Code::KeyNotFound => "KEY_NOT_FOUND",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::Internal => "INTERNAL",
        }
    }

    /// The stable number (the C enum value).
    pub const fn number(self) -> u32 {
        self as u32
    }

    /// Parse a string code (conformance vectors name expected errors this way).
    pub fn from_str_code(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether retrying later could succeed without anyone changing anything.
    /// Transient failures are the ones stale-if-error covers silently.
    pub const fn is_transient(self) -> bool {
        matches!(self, Code::Throttled | Code::Timeout | Code::Network | Code::Service)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with its stable code and a value-free message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
}

impl Error {
    /// Build an error. `message` must not contain secret values: callers only ever pass
    /// names (secret ids, regions, key paths, file paths) and AWS error codes.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with context put in front (e.g. which secret a fetch was for).
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_numbers_are_stable() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(c.number() as usize, i + 1);
            assert_eq!(Code::from_str_code(c.as_str()), Some(*c));
        }
        assert_eq!(Code::from_str_code("NOPE"), None);
    }

    #[test]
    fn display_has_code_and_message() {
        let e = Error::new(Code::KeyNotFound, "no key X").context("secret S");
        assert_eq!(e.to_string(), "KEY_NOT_FOUND: secret S: no key X");
    }
}
