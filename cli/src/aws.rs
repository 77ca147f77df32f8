//! The secret on AWS: located by the core's rules, reached with the core's client, written
//! with optimistic concurrency.

use std::future::Future;

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::primitives::{DateTime, DateTimeFormat};
use aws_sdk_secretsmanager::Client;
use starfleet_secrets::settings::{self, Options, Settings, DEFAULT_STAGE};
use starfleet_secrets::{runtime, source, Code, ConfigSource, Error, Secret, Version};

use crate::{Failure, Global, VersionArgs, EXIT_CONFLICT, EXIT_OUTCOME_UNKNOWN};

/// The staging label a new version carries between `PutSecretValue` and the atomic move of
/// `AWSCURRENT` onto it; removed right after. Fixed (not per run) so a crashed run cannot
/// leave labels accumulating toward the service's per-secret label limit.
pub const PENDING_LABEL: &str = "STARFLEET_CLI_PENDING";

/// The secret's location and settings, resolved exactly as the SDKs resolve them.
pub fn settings_for(global: &Global) -> Result<Settings, Error> {
    let options = Options {
        secret_id: global.secret_id.clone(),
        region: global.region.clone(),
        config: global.config.clone().map(ConfigSource::Path),
        source: global.source.clone(),
        ..Options::default()
    };
    settings::resolve(&options, &settings::process_env)
}

/// Run `fut` on the core's runtime (where its shared SDK clients live).
pub fn block_on<T>(fut: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    runtime::get()?.block_on(fut)
}

/// The version a `--version-stage` / `--version-id` pair selects (the core's rule, empty
/// values refused).
pub fn version_of(v: &VersionArgs) -> Result<Version, Error> {
    settings::select_version(v.version_stage.as_deref(), v.version_id.as_deref())
}

pub fn date(d: Option<&DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(DateTimeFormat::DateTime).ok())
}

/// One secret, and the client to reach it.
pub struct Target {
    pub settings: Settings,
    pub client: Client,
}

/// A successful write.
pub struct Written {
    pub version_id: String,
    pub previous: String,
    /// Things that went wrong after the write took effect (label cleanup).
    pub warnings: Vec<String>,
}

impl Target {
    pub async fn connect(settings: Settings) -> Result<Target, Error> {
        if settings.source.is_mounted() {
            // Nothing in AWS to call: the platform delivers the secret.
            return Err(Error::new(
                Code::InvalidArgument,
                format!(
                    "the source is {} (delivered by the platform, not read from Secrets Manager): this command works on Secrets Manager only; `describe` shows the delivered secret",
                    settings.source
                ),
            ));
        }
        let client = source::sdk_client(&settings).await?;
        Ok(Target { settings, client })
    }

    pub fn id(&self) -> &str {
        &self.settings.location.secret_id
    }

    pub fn region(&self) -> &str {
        &self.settings.location.region
    }

    /// "secret NAME in REGION", for messages.
    pub fn what(&self) -> String {
        format!("secret {} in {}", self.id(), self.region())
    }

    /// Classify an SDK error with the core's rules, naming the operation and the secret.
    pub fn sdk_error<E, R>(&self, operation: &str, e: &SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        source::classify(e, self.settings.timeout).context(format!("{operation} {}", self.what()))
    }

    /// One version of the secret, parsed by the core (GetSecretValue).
    pub async fn read(&self, version: Version) -> Result<Secret, Error> {
        let mut settings = self.settings.clone();
        settings.version = version;
        source::fetch(&settings).await
    }

    /// The secret's metadata (DescribeSecret): never its value.
    pub async fn describe(&self) -> Result<DescribeSecretOutput, Error> {
        self.client
            .describe_secret()
            .secret_id(self.id())
            .send()
            .await
            .map_err(|e| self.sdk_error("DescribeSecret", &e))
    }

    /// The VersionId that holds AWSCURRENT right now.
    pub async fn current_version(&self) -> Result<Option<String>, Error> {
        Ok(current_of(&self.describe().await?))
    }

    /// Write `text` as the new AWSCURRENT, if and only if AWSCURRENT is still
    /// `read_version`, the version the edit was made from.
    ///
    /// 1. Re-read the current VersionId (DescribeSecret): changed → conflict, nothing written.
    /// 2. `PutSecretValue` with only the [`PENDING_LABEL`] staging label: a new version
    ///    exists, but no reader sees it.
    /// 3. `UpdateSecretVersionStage` moves AWSCURRENT to it with `RemoveFromVersionId` =
    ///    `read_version`. The service refuses the move if AWSCURRENT is on another version, so
    ///    a writer that slipped in between 1 and 3 is detected atomically: the new version
    ///    stays unlabelled (never current) and this is a conflict. AWSPREVIOUS moves to
    ///    `read_version` as with any update.
    /// 4. Remove the pending label (best effort: a leftover label is harmless).
    pub async fn write(&self, text: &str, read_version: &str) -> Result<Written, Failure> {
        let now = self.current_version().await?;
        if now.as_deref() != Some(read_version) {
            return Err(self.conflict(read_version, now.as_deref()));
        }
        let put = self
            .client
            .put_secret_value()
            .secret_id(self.id())
            .secret_string(text)
            .version_stages(PENDING_LABEL)
            .send()
            .await
            .map_err(|e| self.sdk_error("PutSecretValue", &e))?;
        let new = put
            .version_id()
            .ok_or_else(|| Error::new(Code::Service, "PutSecretValue returned no VersionId"))?
            .to_owned();
        let moved = self
            .client
            .update_secret_version_stage()
            .secret_id(self.id())
            .version_stage(DEFAULT_STAGE)
            .move_to_version_id(&new)
            .remove_from_version_id(read_version)
            .send()
            .await;
        let mut warnings = Vec::new();
        if let Err(e) = moved {
            // A retried call whose first attempt went through fails the second time: look.
            let now = match self.current_version().await {
                Ok(now) => now,
                // Moved or not: nobody can tell from here.
                Err(check) => {
                    return Err(self.outcome_unknown(
                        &new,
                        read_version,
                        &self.sdk_error("UpdateSecretVersionStage", &e),
                        &check,
                    ))
                }
            };
            if now.as_deref() != Some(new.as_str()) {
                self.drop_pending(&new).await;
                if now.as_deref() != Some(read_version) {
                    return Err(self.conflict(read_version, now.as_deref()));
                }
                let err = self.sdk_error("UpdateSecretVersionStage", &e);
                return Err(Failure::from(err).with_hint(format!(
                    "version {new} was created but never made current; AWSCURRENT is still {read_version}: nothing changed for readers"
                )));
            }
        }
        if let Err(e) = self.remove_label(&new).await {
            warnings.push(format!(
                "could not remove the staging label {PENDING_LABEL} from version {new} ({}); it is harmless",
                e.code()
            ));
        }
        Ok(Written {
            version_id: new,
            previous: read_version.to_owned(),
            warnings,
        })
    }

    async fn remove_label(&self, version: &str) -> Result<(), Error> {
        self.client
            .update_secret_version_stage()
            .secret_id(self.id())
            .version_stage(PENDING_LABEL)
            .remove_from_version_id(version)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.sdk_error("UpdateSecretVersionStage", &e))
    }

    /// Leave a version that lost the race without labels, so it is never read and the
    /// service can retire it.
    async fn drop_pending(&self, version: &str) {
        let _ = self.remove_label(version).await;
    }

    fn outcome_unknown(&self, new: &str, read_version: &str, moving: &Error, checking: &Error) -> Failure {
        Failure::new(
            "OUTCOME_UNKNOWN",
            format!(
                "{}: version {new} was created, but making it AWSCURRENT failed ({}) and checking which version is AWSCURRENT failed too ({}); it may or may not be current",
                self.what(),
                moving.code(),
                checking.code()
            ),
            EXIT_OUTCOME_UNKNOWN,
        )
        .with_hint(format!(
            "run `starfleet-secrets describe`: if AWSCURRENT is on {new} the edit was written; if it is still on {read_version}, nothing changed for readers and the command can be run again"
        ))
    }

    fn conflict(&self, read_version: &str, now: Option<&str>) -> Failure {
        Failure::new(
            "CONFLICT",
            format!(
                "{} changed since it was read: the edit was made to version {read_version}, but AWSCURRENT is now {}. Nothing was written",
                self.what(),
                now.unwrap_or("on no version")
            ),
            EXIT_CONFLICT,
        )
        .with_hint("someone else wrote the secret meanwhile; run the command again to apply the edit to the new version (`starfleet-secrets diff` shows what they changed)")
    }
}

/// The VersionId labelled AWSCURRENT in DescribeSecret's VersionIdsToStages.
pub fn current_of(d: &DescribeSecretOutput) -> Option<String> {
    d.version_ids_to_stages()?
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == DEFAULT_STAGE))
        .map(|(id, _)| id.clone())
}
