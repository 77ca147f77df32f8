//! Commands that write: init, set, rm.

use std::io::{IsTerminal, Read};

use aws_sdk_secretsmanager::types::Tag;
use serde_json::{json, Value};
use starfleet_secrets::document::json_error_summary;
use starfleet_secrets::settings::DEFAULT_STAGE;
use starfleet_secrets::{arn, Code, Error, Path, Secret};
use zeroize::Zeroizing;

use crate::aws::{self, block_on, Target, Written};
use crate::edit::{self, Doc, SecretValue, MAX_SECRET_BYTES};
use crate::output::{shape, Ui};
use crate::read::print_changes;
use crate::terminal::EchoOff;
use crate::{Failure, Global, ValueInput, EXIT_ERROR};

/// What a new secret holds.
pub const INITIAL_DOCUMENT: &str = r#"{"STARFLEET":{}}"#;

/// `init`: create the secret with `{"STARFLEET": {}}` unless it exists. Never changes an
/// existing secret.
pub fn init(g: &Global, kms_key_id: Option<String>, tags: Vec<(String, String)>, ui: &mut Ui) -> Result<(), Failure> {
    let settings = aws::settings_for(g)?;
    let outcome = block_on(async {
        let target = Target::connect(settings).await?;
        match target.describe().await {
            Ok(d) => existing(&target, &d, kms_key_id.as_deref(), &tags).await,
            Err(e) if e.code() == Code::SecretNotFound => create(&target, kms_key_id.as_deref(), &tags).await,
            Err(e) => Err(e.into()),
        }
    })?;
    for note in &outcome.notes {
        ui.note(note);
    }
    if ui.json {
        ui.json_out(&json!({
            "secret": outcome.name, "arn": outcome.arn, "created": outcome.created, "version_id": outcome.version_id,
            "notes": outcome.notes,
        }));
    } else if outcome.created {
        ui.line(format!(
            "created secret {} ({}) with {INITIAL_DOCUMENT}",
            outcome.name,
            outcome.arn.as_deref().unwrap_or("?")
        ));
    } else {
        ui.line(format!(
            "secret {} already exists ({}): nothing changed",
            outcome.name,
            outcome.arn.as_deref().unwrap_or("?")
        ));
    }
    Ok(())
}

struct InitOutcome {
    name: String,
    arn: Option<String>,
    created: bool,
    version_id: Option<String>,
    notes: Vec<String>,
}

async fn existing(
    target: &Target,
    d: &aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput,
    kms_key_id: Option<&str>,
    tags: &[(String, String)],
) -> Result<InitOutcome, Failure> {
    let name = d.name().unwrap_or(target.id()).to_owned();
    if let Some(deleted) = aws::date(d.deleted_date()) {
        return Err(Failure::new(
            "SECRET_NOT_FOUND",
            format!("{} is scheduled for deletion on {deleted}", target.what()),
            EXIT_ERROR,
        )
        .with_hint("restore it first: aws secretsmanager restore-secret --secret-id NAME"));
    }
    let mut notes = Vec::new();
    if let Some(wanted) = kms_key_id {
        if d.kms_key_id() != Some(wanted) {
            notes.push(format!(
                "the secret exists with KMS key {}: --kms-key-id {wanted} was not applied",
                d.kms_key_id().unwrap_or("aws/secretsmanager")
            ));
        }
    }
    let missing: Vec<&str> = tags
        .iter()
        .filter(|(k, v)| !d.tags().iter().any(|t| t.key() == Some(k) && t.value() == Some(v)))
        .map(|(k, _)| k.as_str())
        .collect();
    if !missing.is_empty() {
        notes.push(format!("the secret exists: tag(s) {} not applied", missing.join(", ")));
    }
    let mut version_id = aws::current_of(d);
    let mut created = false;
    if version_id.is_none() {
        // Created without a value (e.g. in the console): give it the initial document.
        let out = target
            .client
            .put_secret_value()
            .secret_id(target.id())
            .secret_string(INITIAL_DOCUMENT)
            .send()
            .await
            .map_err(|e| target.sdk_error("PutSecretValue", &e))?;
        version_id = out.version_id().map(str::to_owned);
        created = true;
        notes.push("the secret had no value: wrote the initial document".into());
    }
    Ok(InitOutcome {
        name,
        arn: d.arn().map(str::to_owned),
        created,
        version_id,
        notes,
    })
}

async fn create(target: &Target, kms_key_id: Option<&str>, tags: &[(String, String)]) -> Result<InitOutcome, Failure> {
    if arn::arn_region(target.id()).is_some() {
        return Err(Failure::new(
            "SECRET_NOT_FOUND",
            format!(
                "{} does not exist, and a secret cannot be created from an ARN",
                target.what()
            ),
            EXIT_ERROR,
        )
        .with_hint("give its name with --secret-id NAME"));
    }
    let mut request = target
        .client
        .create_secret()
        .name(target.id())
        .secret_string(INITIAL_DOCUMENT)
        .description("Starfleet worker secrets (one JSON document; see starfleet-secrets)")
        .set_kms_key_id(kms_key_id.map(str::to_owned));
    for (k, v) in tags {
        request = request.tags(Tag::builder().key(k).value(v).build());
    }
    match request.send().await {
        Ok(out) => Ok(InitOutcome {
            name: out.name().unwrap_or(target.id()).to_owned(),
            arn: out.arn().map(str::to_owned),
            created: true,
            version_id: out.version_id().map(str::to_owned),
            notes: Vec::new(),
        }),
        // Another init won the race: that is the idempotent outcome.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => {
            let d = target.describe().await?;
            existing(target, &d, kms_key_id, tags).await
        }
        Err(e) => Err(target.sdk_error("CreateSecret", &e).into()),
    }
}

/// Read the value `set` was given, as text. Never echoed anywhere: typed on a terminal, the
/// terminal's echo is off. Standard input and files are read up to [`MAX_SECRET_BYTES`] (what
/// Secrets Manager stores at most), so an endless or huge input is refused, not buffered.
fn read_input(input: &ValueInput) -> Result<Zeroizing<String>, Failure> {
    if let Some(v) = &input.value {
        return Ok(Zeroizing::new(v.clone()));
    }
    if let Some(file) = &input.from_file {
        let what = format!("--from-file {}", file.display());
        let opened = std::fs::File::open(file).map_err(|e| invalid(format!("cannot read {what}: {e}")))?;
        let bytes = read_bounded(opened, &what)?;
        return Ok(Zeroizing::new(utf8(&bytes, &what)?.to_owned()));
    }
    let stdin = std::io::stdin();
    let bytes = if stdin.is_terminal() {
        let echo_off = EchoOff::on_stdin().map_err(|e| invalid(format!("cannot turn the terminal's echo off: {e}")))?;
        eprintln!("Enter the value, then press Ctrl-D on a new line (what you type is not shown):");
        let bytes = read_bounded(stdin.lock(), "standard input");
        drop(echo_off);
        eprintln!();
        bytes?
    } else {
        read_bounded(stdin.lock(), "standard input")?
    };
    let text = utf8(&bytes, "standard input")?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    Ok(Zeroizing::new(text.to_owned()))
}

/// At most [`MAX_SECRET_BYTES`] from `reader`; more is an error (nothing more is read).
fn read_bounded(reader: impl Read, what: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    // Allocated once, so no reallocation leaves a copy of the value behind unzeroized.
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_SECRET_BYTES + 1));
    reader
        .take(MAX_SECRET_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid(format!("cannot read {what}: {e}")))?;
    if bytes.len() > MAX_SECRET_BYTES {
        return Err(invalid(format!(
            "{what} is longer than {MAX_SECRET_BYTES} bytes, the Secrets Manager limit: nothing was written"
        )));
    }
    Ok(bytes)
}

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|_| {
        invalid(format!(
            "{what} is not UTF-8 text; a JSON document holds text only (store binary data as base64)"
        ))
    })
}

fn invalid(message: String) -> Failure {
    Failure::from(Error::new(Code::InvalidArgument, message))
}

/// The value to store: the text as a JSON string, or parsed with `--json-value`.
fn value_of(text: &str, json_value: bool) -> Result<SecretValue, Failure> {
    if !json_value {
        return Ok(SecretValue(Value::String(text.to_owned())));
    }
    serde_json::from_str::<Value>(text).map(SecretValue).map_err(|e| {
        Failure::from(Error::new(
            Code::InvalidArgument,
            format!(
                "the value is not valid JSON ({}): nothing was written",
                json_error_summary(&e)
            ),
        ))
        .with_hint("without --json-value the value is stored as a JSON string, exactly as given")
    })
}

/// `set PATH`: merge one value into the document and write a new version.
pub fn set(
    g: &Global,
    path: &str,
    input: &ValueInput,
    json_value: bool,
    replace: bool,
    dry_run: bool,
    ui: &mut Ui,
) -> Result<(), Failure> {
    let path = Path::parse_dotted(path)?;
    let text = read_input(input)?;
    let value = value_of(&text, json_value)?;
    let settings = aws::settings_for(g)?;
    let mut value = value;
    edit_and_write(settings, dry_run, ui, "set", |secret, doc| {
        edit::set(&mut doc.0, &path, std::mem::take(&mut value.0), replace).map_err(|e| {
            let hint = if e.message().contains("replace all of them") {
                Some("pass --replace to replace the whole subtree, or set the keys under it one by one")
            } else {
                None
            };
            let f = Failure::from(e.context(format!("nothing was written to {}", secret.name())));
            match hint {
                Some(h) => f.with_hint(h),
                None => f,
            }
        })
    })
}

/// `rm PATH`: remove one key (a non-empty object only with `--recursive`).
pub fn rm(g: &Global, path: &str, recursive: bool, dry_run: bool, ui: &mut Ui) -> Result<(), Failure> {
    let path = Path::parse_dotted(path)?;
    let settings = aws::settings_for(g)?;
    edit_and_write(settings, dry_run, ui, "rm", |secret, doc| {
        let existing = secret.get(&path)?;
        if let Value::Object(m) = existing {
            if !m.is_empty() && !recursive {
                return Err(Failure::new(
                    "INVALID_ARGUMENT",
                    format!("{path} is {}: nothing was removed", shape(existing)),
                    EXIT_ERROR,
                )
                .with_hint("pass --recursive to remove it and everything under it"));
            }
        }
        edit::remove(&mut doc.0, &path)
            .ok_or_else(|| Failure::from(Error::new(Code::Internal, format!("{path} vanished while editing"))))
    })
}

/// Read AWSCURRENT, apply `change` to a copy, show what changes, and (unless a dry run)
/// write it with optimistic concurrency.
fn edit_and_write(
    settings: starfleet_secrets::Settings,
    dry_run: bool,
    ui: &mut Ui,
    verb: &str,
    change: impl FnOnce(&Secret, &mut Doc) -> Result<(), Failure>,
) -> Result<(), Failure> {
    block_on(async {
        let target = Target::connect(settings).await?;
        let secret = target
            .read(starfleet_secrets::Version::Stage(DEFAULT_STAGE.to_owned()))
            .await
            .map_err(|e| {
                let hint = (e.code() == Code::SecretFormat).then_some(
                    "the current version is not a JSON object, so it cannot be edited key by key; fix or restore it first (`starfleet-secrets describe` lists the versions)",
                );
                let f = Failure::from(e);
                match hint {
                    Some(h) => f.with_hint(h),
                    None => f,
                }
            })?;
        let read_version = secret
            .version_id()
            .ok_or_else(|| Error::new(Code::Service, "GetSecretValue returned no VersionId"))?
            .to_owned();
        let before = Doc::of(secret.document()?);
        let mut after = Doc::of(secret.document()?);
        change(&secret, &mut after)?;
        let changes = edit::changes(&before.0, &after.0);
        // Checked even for a dry run: the document that would be written must be valid.
        let text = after.to_checked_json()?;
        if changes.is_empty() {
            report(ui, &target, verb, &changes, None, dry_run, &read_version);
            return Ok(());
        }
        if dry_run {
            report(ui, &target, verb, &changes, None, true, &read_version);
            return Ok(());
        }
        let written = target.write(&text, &read_version).await?;
        for w in &written.warnings {
            ui.note(w);
        }
        report(ui, &target, verb, &changes, Some(&written), false, &read_version);
        Ok(())
    })
}

fn report(
    ui: &mut Ui,
    target: &Target,
    verb: &str,
    changes: &[edit::Change],
    written: Option<&Written>,
    dry_run: bool,
    read_version: &str,
) {
    if ui.json {
        ui.json_out(&json!({
            "secret": target.id(),
            "region": target.region(),
            "command": verb,
            "dry_run": dry_run,
            "written": written.is_some(),
            "version_id": written.map(|w| w.version_id.clone()),
            "previous_version_id": read_version,
            "changes": changes.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
        }));
        return;
    }
    if changes.is_empty() {
        ui.line(format!(
            "no change: {} already holds that; nothing written",
            target.what()
        ));
        return;
    }
    print_changes(ui, changes);
    match written {
        Some(w) => ui.line(format!(
            "wrote version {} of {} (AWSCURRENT); version {} is now AWSPREVIOUS",
            w.version_id,
            target.what(),
            w.previous
        )),
        None => ui.line(format!(
            "dry run: nothing written (would replace version {read_version} of {})",
            target.what()
        )),
    }
}
