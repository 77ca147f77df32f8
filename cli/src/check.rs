//! `check-config`: every problem of a Starfleet configuration, from the core's validator.

use std::path::PathBuf;

use serde_json::json;
use starfleet_secrets::config::{self, ConfigSource};
use starfleet_secrets::settings::{process_env, ENV_CONFIG, SOURCE_SECRETS_MANAGER};

use crate::output::Ui;
use crate::{Failure, Global, EXIT_ERROR, EXIT_USAGE};

pub fn check_config(g: &Global, path: Option<PathBuf>, ui: &mut Ui) -> Result<(), Failure> {
    let path = path
        .or_else(|| g.config.clone())
        .or_else(|| process_env(ENV_CONFIG).map(PathBuf::from))
        .ok_or_else(|| {
            Failure::new(
                "USAGE",
                format!("no configuration to check: give a PATH, --config or {ENV_CONFIG}"),
                EXIT_USAGE,
            )
        })?;
    let source = ConfigSource::Path(path.clone());
    let problems = config::problems(&source);
    let shown = path.display().to_string();
    if !problems.is_empty() {
        if ui.json {
            ui.json_out(&json!({
                "config": shown,
                "valid": false,
                "problems": problems.iter().map(|p| json!({
                    "file": p.file, "line": p.line, "key_path": p.key_path, "message": p.message,
                })).collect::<Vec<_>>(),
            }));
        } else {
            let s = ui.out;
            for p in &problems {
                // FILE:LINE: KEY.PATH: message, the shape editors and CI annotate.
                let mut place = p.file.clone();
                if let Some(line) = p.line {
                    place.push_str(&format!(":{line}"));
                }
                let key = if p.key_path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", s.bold(&p.key_path))
                };
                ui.line(format!("{}: {key}{}", s.cyan(&place), p.message));
            }
        }
        return Err(Failure::new(
            "CONFIG_INVALID",
            format!(
                "{} problem{} in the Starfleet configuration {shown}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
            EXIT_ERROR,
        ));
    }
    // Valid: say what it configures (names and a region only).
    let cfg = config::load(&source)?;
    let stanza = cfg.secrets_manager.as_ref();
    if ui.json {
        ui.json_out(&json!({
            "config": shown,
            "valid": true,
            "problems": [],
            "secret_id": stanza.and_then(|s| s.secret_id.clone()),
            "region": stanza.and_then(|s| s.region.clone()),
            "source": source_of(stanza),
            "slack_enabled": cfg.slack_enabled,
            "origin": cfg.origin,
        }));
        return Ok(());
    }
    match stanza {
        Some(sm) if sm.source.as_ref().is_some_and(|s| s.is_mounted()) => ui.line(format!(
            "ok: {shown}: source {} (STARFLEET.SecretsManager in {}), SlackEnabled: {}",
            source_of(stanza),
            cfg.origin,
            cfg.slack_enabled
        )),
        Some(sm) => ui.line(format!(
            "ok: {shown}: secret {} in {}, source {} (STARFLEET.SecretsManager in {}), SlackEnabled: {}",
            sm.secret_id.as_deref().unwrap_or("?"),
            sm.region.as_deref().unwrap_or("?"),
            source_of(stanza),
            cfg.origin,
            cfg.slack_enabled
        )),
        None => ui.line(format!(
            "ok: {shown}: valid, but it has no STARFLEET.SecretsManager stanza: workers need STARFLEET_SECRET_ID"
        )),
    }
    Ok(())
}

/// The source the stanza configures (`Source`, else the default), as spelled.
fn source_of(stanza: Option<&config::SecretsManagerStanza>) -> String {
    stanza
        .and_then(|s| s.source.as_ref())
        .map_or_else(|| SOURCE_SECRETS_MANAGER.to_owned(), ToString::to_string)
}
