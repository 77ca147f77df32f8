//! starfleet-secrets: read, cache and serve the Starfleet secret from AWS Secrets Manager.
//!
//! One implementation behind the Python, Node, C and Go front doors. The pieces:
//!
//! * [`config`]: Starfleet YAML → validated secret location;
//! * [`arn`]: the region and secret id rules, and the fields of a Secrets Manager ARN;
//! * [`yaml`]: YAML text → tree, bounded after alias expansion;
//! * [`options`]: the one description of every option (name, kind, variable, default), and
//!   `Options::from_map` for bindings that hand over a map of options;
//! * [`settings`]: arguments → environment → configuration precedence, TTL and deadlines;
//! * [`source`]: `GetSecretValue` and the classification of its errors;
//! * [`mounted`]: the `source` option, and secrets the platform mounts as files or sets as
//!   environment variables (Kubernetes, ECS, Flyte);
//! * [`transport`]: the HTTP clients: TLS provider (rustls + ring), trusted roots, pooling;
//! * [`hedge`]: a read left unanswered on a reused pooled connection is sent again on a new one;
//! * [`cache`]: lazy load, single-flight, TTL, refresh-ahead, stale-if-error, stats;
//! * [`jitter`]: the per-process share of the fleet expiry jitter;
//! * [`deadline`]: a cheap "not yet expired" check for the bindings' hit paths;
//! * [`notify`]: `on_change` subscribers, and the thread each call runs on;
//! * [`overrides`]: the nesting stack of testing overrides served in place of AWS;
//! * [`document`]: the parsed secret, key paths, redaction, zeroization;
//! * [`runtime`]: the process's one tokio runtime, fork-aware;
//! * [`snapshot`]: restore epochs, and what a snapshot/restore (Lambda SnapStart) resets;
//! * [`zeroing`]: an allocator that zeroes freed blocks, for `zeroize_before_snapshot`;
//! * [`error`]: the stable error codes;
//! * [`stderr_log`]: `STARFLEET_LOG` → log records on stderr, for front doors without a logging framework.
//!
//! ```no_run
//! use starfleet_secrets::{Options, Path, SecretsManager};
//!
//! let manager = SecretsManager::new(Options::default()); // located from env / Starfleet config
//! let secret = manager.secret_blocking()?;
//! let token = secret.get_str(&Path::parse_dotted("STARFLEET.SlackToken")?)?;
//! # Ok::<(), starfleet_secrets::Error>(())
//! ```

pub mod arn;
pub mod cache;
pub mod config;
pub mod deadline;
pub mod dns;
pub mod document;
pub mod error;
pub mod hedge;
pub mod jitter;
pub mod mounted;
pub mod notify;
pub mod options;
pub mod overrides;
pub mod runtime;
mod sdk_files;
pub mod settings;
pub mod snapshot;
pub mod source;
pub mod stderr_log;
pub mod transport;
pub mod yaml;
pub mod zeroing;

pub use cache::{SecretsManager, Stats};
pub use config::{ConfigSource, SecretLocation};
pub use document::{Document, Path, Payload, Secret};
pub use error::{Code, Error, Result};
pub use notify::Subscription;
pub use overrides::OverrideToken;
pub use settings::{Options, Settings, Ttl, Version};

/// The crate version (bindings report it; the C header's macros are checked against it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
