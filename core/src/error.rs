//! One error type for every front door.
//!
//! Each failure has a [`Code`]: a stable string (`"SECRET_NOT_FOUND"`) and a stable number
//! (`3`) that Python exception classes, Node `.code`, the C enum and Go sentinel errors are all
//! derived from. Messages say which secret, which region and which key path, so a reader can
//! fix the problem, and never contain a secret value: they are built only from names that the
//! caller supplied or from the AWS error code, never from response bodies or document values.

use std::ffi::CStr;
use std::fmt;

/// Defines [`Code`] and everything derived from the list: numbers, string codes, transience,
/// documentation. Its one invocation below is the one list of codes in the project: the C
/// enum, Python's exception attributes, Node's `.number`/`.transient` and Go's `Transient`
/// all come from it (see docs/ARCHITECTURE.md, "Add an error code").
macro_rules! codes {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident = $number:literal, $name:literal, $kind:ident;
    )+) => {
        /// Stable error codes. The numbers are part of the C ABI; never renumber, only append.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum Code {
            $( $(#[doc = $doc])+ $variant = $number, )+
        }

        impl Code {
            /// Every code, in number order (used by bindings to build their class/enum tables).
            pub const ALL: [Code; [$(codes!(@one $variant)),+].len()] = [$(Code::$variant),+];

            /// The stable string code shared by every language.
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)+ }
            }

            /// [`as_str`](Self::as_str) as a static C string (the C ABI hands it out as is).
            pub const fn as_cstr(self) -> &'static CStr {
                match self {
                    $(Code::$variant => match CStr::from_bytes_with_nul(concat!($name, "\0").as_bytes()) {
                        Ok(name) => name,
                        Err(_) => panic!("a code name contains a NUL"),
                    },)+
                }
            }

            /// Whether retrying later could succeed without anyone changing anything.
            /// Transient failures are the ones stale-if-error covers silently.
            pub const fn is_transient(self) -> bool {
                match self { $(Code::$variant => codes!(@transient $kind),)+ }
            }

            /// What the code means, one sentence or two, for generated tables and docs (the C
            /// header's enum comments are this text).
            pub fn doc(self) -> &'static str {
                match self { $(Code::$variant => concat!($($doc, "\n"),+),)+ }
            }
        }
    };
    (@one $variant:ident) => { () };
    (@transient transient) => { true };
    (@transient permanent) => { false };
}

codes! {
    /// No secret location in arguments, environment or Starfleet configuration.
    ConfigMissing = 1, "CONFIG_MISSING", permanent;
    /// A Starfleet configuration or an option is present but wrong.
    ConfigInvalid = 2, "CONFIG_INVALID", permanent;
    /// The secret (or the requested version/stage) does not exist.
    SecretNotFound = 3, "SECRET_NOT_FOUND", permanent;
    /// The credentials are valid but not allowed to read the secret.
    AccessDenied = 4, "ACCESS_DENIED", permanent;
    /// Secrets Manager could not decrypt the secret with its KMS key.
    DecryptionFailed = 5, "DECRYPTION_FAILED", permanent;
    /// No usable credentials (missing, expired, or rejected).
    Credentials = 6, "CREDENTIALS", permanent;
    /// The API throttled the calls and retries ran out.
    Throttled = 7, "THROTTLED", transient;
    /// The call did not finish within its deadline.
    Timeout = 8, "TIMEOUT", transient;
    /// The endpoint could not be reached (refused, reset, DNS, TLS).
    Network = 9, "NETWORK", transient;
    /// Secrets Manager answered with a server error, or an error not classified.
    Service = 10, "SERVICE", transient;
    /// The secret is not the expected shape (not a JSON object, binary where text was asked,
    /// a non-string value where a string was asked).
    SecretFormat = 11, "SECRET_FORMAT", permanent;
    /// A key path does not exist in the document.
    KeyNotFound = 12, "KEY_NOT_FOUND", permanent;
    /// An unusable argument: NULL where a value is required, text that is not UTF-8,
    /// a malformed key path or option.
    InvalidArgument = 13, "INVALID_ARGUMENT", permanent;
    /// A bug in this library (a caught panic, a poisoned lock).
    Internal = 14, "INTERNAL", permanent;
}

impl Code {
    /// The stable number (the C enum value).
    pub const fn number(self) -> u32 {
        self as u32
    }

    /// The code with this number, if there is one (a C or Go caller passes numbers).
    pub fn from_number(number: u32) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.number() == number)
    }

    /// Parse a string code (conformance vectors name expected errors this way).
    pub fn from_str_code(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
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

/// The one panic policy of every front door: a panic caught at a boundary (an `extern "C"`
/// function, a Node entry point) is INTERNAL, with `context` (where it was caught) and a
/// fixed text. The payload's own text is never shown: it can quote anything the panicking
/// code had in hand, and this message reaches exceptions, logs and C buffers.
pub fn from_panic(context: &str, payload: Box<dyn std::any::Any + Send>) -> Error {
    // Dropping a payload runs its destructor: do it here, not while the caller unwinds.
    drop(payload);
    Error::new(
        Code::Internal,
        format!("{context}: internal error (a panic: a bug in starfleet-secrets; please report it)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_numbers_are_stable() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(c.number() as usize, i + 1);
            assert_eq!(Code::from_str_code(c.as_str()), Some(*c));
            assert_eq!(Code::from_number(c.number()), Some(*c));
            assert_eq!(c.as_cstr().to_str(), Ok(c.as_str()));
            assert!(!c.doc().trim().is_empty(), "{c}");
        }
        assert_eq!(Code::from_str_code("NOPE"), None);
        assert_eq!(Code::from_number(0), None);
        let transient: Vec<Code> = Code::ALL.iter().copied().filter(|c| c.is_transient()).collect();
        assert_eq!(
            transient,
            [Code::Throttled, Code::Timeout, Code::Network, Code::Service]
        );
    }

    #[test]
    fn a_panic_is_internal_without_its_text() {
        let e = from_panic("get", Box::new("s3cr3t-in-panic".to_owned()));
        assert_eq!(e.code(), Code::Internal);
        assert!(
            e.message().starts_with("get: internal error") && !e.message().contains("s3cr3t"),
            "{e}"
        );
    }

    #[test]
    fn display_has_code_and_message() {
        let e = Error::new(Code::KeyNotFound, "no key X").context("secret S");
        assert_eq!(e.to_string(), "KEY_NOT_FOUND: secret S: no key X");
    }
}
