//! Fetches served by moto's in-process mock, for the tests of applications that use it.
//!
//! Starfleet's tests, like most Lambda projects', wrap AWS in moto's `mock_aws()`, which
//! patches botocore inside the Python process. The Rust core's HTTP client is not botocore,
//! so while such a mock is active the core's fetch is replaced by a call through a botocore
//! client built as `boto3.client("secretsmanager", region_name=...)` would be
//! (`starfleet_secrets._moto`), made on the calling thread under the core's fetch lock
//! (`secret_blocking_with`): the cache, TTL, single-flight and `stats()` stay the core's, and
//! Python never runs on the core's runtime threads.
//!
//! Detection only looks in `sys.modules`: this package never imports moto or botocore itself,
//! so outside tests nothing changes, and a cache hit does not look at all.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use starfleet_secrets::settings::{Settings, Version};
use starfleet_secrets::source::{aws_text, service_error};
use starfleet_secrets::{Code, Error, Result, Secret};

/// Whether a moto mock is active now. Never imports anything unless moto is loaded; any
/// surprise in moto's private state counts as "no mock".
pub fn active(py: Python<'_>) -> bool {
    let look = || -> PyResult<bool> {
        let modules = py.import("sys")?.getattr("modules")?;
        let Some(models) = modules.cast::<PyDict>()?.get_item("moto.core.models")? else {
            return Ok(false);
        };
        py.import("starfleet_secrets._moto")?
            .call_method1("active", (models,))?
            .is_truthy()
    };
    look().unwrap_or(false)
}

/// One GetSecretValue through moto's mock, as the core's caller-supplied fetch.
pub fn fetch(settings: &Settings) -> Result<Secret> {
    Python::attach(|py| fetch_attached(py, settings))
}

fn fetch_attached(py: Python<'_>, settings: &Settings) -> Result<Secret> {
    let loc = &settings.location;
    let what = format!(
        "secret {} ({}) in {}, through the active moto mock",
        loc.secret_id, settings.version, loc.region
    );
    let (stage, version_id) = match &settings.version {
        Version::Stage(s) => (Some(s.as_str()), None),
        Version::Id(id) => (None, Some(id.as_str())),
    };
    type Answer = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
        Option<f64>,
    );
    let answer: Answer = py
        .import("starfleet_secrets._moto")
        .and_then(|m| {
            m.call_method1(
                "get_secret_value",
                (
                    &loc.secret_id,
                    &loc.region,
                    stage,
                    version_id,
                    settings.endpoint_url.as_deref(),
                ),
            )
        })
        .and_then(|out| out.extract())
        .map_err(|e| {
            // The exception's type only: its text could quote anything.
            let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default();
            Error::new(Code::Service, format!("{what}: the call raised {kind}"))
        })?;
    let short = |m: Option<String>| aws_text(&m.unwrap_or_default());
    match answer {
        (kind, name, version_id, text, binary, created) if kind == "ok" => {
            // CreatedDate, which the cache compares to never take an older version from a
            // lagging replica; a time before 1970 or not finite is as good as none.
            let created = created
                .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
                .map(|d| std::time::UNIX_EPOCH + d);
            Secret::from_parts(&loc.secret_id, name, None, version_id, Vec::new(), text, binary)
                .map(|secret| secret.with_created(created))
                .map_err(|e| e.context(&what))
        }
        (kind, code, message, ..) if kind == "aws" => {
            let code = code.unwrap_or_else(|| "Unknown".into());
            Err(service_error(&code, message.as_deref()).context(&what))
        }
        (kind, error, ..) if kind == "credentials" => Err(Error::new(
            Code::Credentials,
            format!("{what}: no usable AWS credentials ({})", short(error)),
        )),
        (_, error, ..) => Err(Error::new(
            Code::Network,
            format!("{what}: cannot reach Secrets Manager ({})", short(error)),
        )),
    }
}
