//! Commands that only read: keys, get, describe, diff.

use serde_json::{json, Map, Value};
use starfleet_secrets::settings::{self, DEFAULT_STAGE};
use starfleet_secrets::{Error, Path, Secret};
use zeroize::Zeroizing;

use crate::aws::{self, block_on, date, Target};
use crate::edit::{self, Kind};
use crate::output::{shape, shape_json, Ui};
use crate::{Failure, Global, VersionArgs, EXIT_ERROR};

fn version_label(secret: &Secret) -> String {
    let stages = secret.version_stages().join(", ");
    match (secret.version_id(), stages.is_empty()) {
        (Some(id), false) => format!("version {id} ({stages})"),
        (Some(id), true) => format!("version {id}"),
        (None, _) => "version ?".to_owned(),
    }
}

fn version_json(secret: &Secret) -> Value {
    json!({"version_id": secret.version_id(), "version_stages": secret.version_stages()})
}

/// `keys`: the tree of key paths, each value shown as its type and length only.
pub fn keys(g: &Global, flat: bool, version: &VersionArgs, ui: &mut Ui) -> Result<(), Failure> {
    let settings = aws::settings_for(g)?;
    let secret = block_on(async {
        let target = Target::connect(settings).await?;
        Ok(target.read(aws::version_of(version)?).await?)
    })?;
    let doc = secret.document()?;
    let nodes = edit::tree(doc.root());
    if ui.json {
        let keys: Vec<Value> = nodes
            .iter()
            .map(|(depth, _, full, v)| {
                let mut o = shape_json(v);
                o["path"] = json!(full);
                o["depth"] = json!(depth);
                o
            })
            .collect();
        let mut out = json!({"secret": secret.name(), "arn": secret.arn(), "keys": keys});
        out.as_object_mut()
            .unwrap()
            .extend(version_json(&secret).as_object().unwrap().clone());
        ui.json_out(&out);
        return Ok(());
    }
    let s = ui.out;
    ui.line(s.dim(&format!("{} {}", secret.name(), version_label(&secret))));
    if nodes.is_empty() {
        ui.line(s.dim("(empty document)"));
        return Ok(());
    }
    if flat {
        for (_, _, full, v) in &nodes {
            if !matches!(v, Value::Object(m) if !m.is_empty()) {
                ui.line(format!("{}  {}", s.bold(full), s.dim(&shape(v))));
            }
        }
        return Ok(());
    }
    // Box-drawing tree: for each node, whether each ancestor level has more siblings below.
    let last_at: Vec<bool> = (0..nodes.len())
        .map(|i| {
            let depth = nodes[i].0;
            !nodes[i + 1..].iter().take_while(|n| n.0 >= depth).any(|n| n.0 == depth)
        })
        .collect();
    let mut open: Vec<bool> = Vec::new(); // per depth: an ancestor at that depth has siblings to come
    for (i, (depth, key, _, v)) in nodes.iter().enumerate() {
        open.truncate(*depth);
        let mut prefix = String::new();
        for more in &open {
            prefix.push_str(if *more { "│   " } else { "    " });
        }
        prefix.push_str(if last_at[i] { "└── " } else { "├── " });
        let label = match v {
            Value::Object(m) if !m.is_empty() => s.bold(key),
            _ => format!("{}  {}", s.bold(key), s.dim(&shape(v))),
        };
        ui.line(format!("{}{label}", s.dim(&prefix)));
        open.push(!last_at[i]);
    }
    Ok(())
}

/// `get PATH`: one value; a subtree (object or array) only with `--json`.
pub fn get(g: &Global, path: &str, version: &VersionArgs, ui: &mut Ui) -> Result<(), Failure> {
    let path = Path::parse_dotted(path)?;
    let settings = aws::settings_for(g)?;
    let secret = block_on(async {
        let target = Target::connect(settings).await?;
        Ok(target.read(aws::version_of(version)?).await?)
    })?;
    let value = secret.get(&path)?;
    if ui.json {
        let text = Zeroizing::new(serde_json::to_string_pretty(value).unwrap_or_default());
        ui.line(text.as_str());
        return Ok(());
    }
    match value {
        Value::String(s) => ui.line(s),
        Value::Object(_) | Value::Array(_) => {
            return Err(Failure::new(
                "SUBTREE",
                format!("{path} is {} (a whole subtree): not printed", shape(value)),
                EXIT_ERROR,
            )
            .with_hint(format!(
                "pass --json to print it as JSON, or `starfleet-secrets keys` to see the paths under {path}"
            )))
        }
        other => {
            let text = Zeroizing::new(serde_json::to_string(other).unwrap_or_default());
            ui.line(text.as_str());
        }
    }
    Ok(())
}

/// `describe`: metadata only (DescribeSecret, ListSecretVersionIds), never the value.
pub fn describe(g: &Global, ui: &mut Ui) -> Result<(), Failure> {
    let settings = aws::settings_for(g)?;
    if settings.source.is_mounted() {
        return describe_mounted(&settings.source, ui);
    }
    let region = settings.location.region.clone();
    let (d, versions, list_error) = block_on(async {
        let target = Target::connect(settings).await?;
        let d = target.describe().await?;
        let (versions, list_error) = match list_versions(&target).await {
            Ok(v) => (v, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        Ok((d, versions, list_error))
    })?;
    let mut versions = if list_error.is_none() {
        versions
    } else {
        // Fall back to the stages DescribeSecret has (without dates).
        d.version_ids_to_stages()
            .map(|m| {
                m.iter()
                    .map(|(id, stages)| VersionInfo {
                        id: id.clone(),
                        stages: stages.clone(),
                        created: None,
                        last_accessed: None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    versions.sort_by_key(|v| {
        let rank = if v.stages.iter().any(|s| s == DEFAULT_STAGE) {
            0
        } else if v.stages.iter().any(|s| s == "AWSPREVIOUS") {
            1
        } else if v.stages.is_empty() {
            3
        } else {
            2
        };
        (rank, std::cmp::Reverse(v.created.clone()), v.id.clone())
    });
    let kms = d.kms_key_id();
    let customer_key = kms.is_some_and(|k| !crate::policy::is_aws_managed_key(k));
    let rules = d.rotation_rules();
    let tags: Map<String, Value> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or("").to_owned(), json!(t.value().unwrap_or(""))))
        .collect();
    if ui.json {
        ui.json_out(&json!({
            "source": settings::SOURCE_SECRETS_MANAGER,
            "name": d.name(),
            "arn": d.arn(),
            "region": region,
            "description": d.description(),
            "kms_key_id": kms,
            "customer_managed_key": customer_key,
            "rotation": {
                "enabled": d.rotation_enabled().unwrap_or(false),
                "lambda_arn": d.rotation_lambda_arn(),
                "automatically_after_days": rules.and_then(|r| r.automatically_after_days()),
                "schedule_expression": rules.and_then(|r| r.schedule_expression()),
                "last_rotated": date(d.last_rotated_date()),
                "next_rotation": date(d.next_rotation_date()),
            },
            "created": date(d.created_date()),
            "last_changed": date(d.last_changed_date()),
            "last_accessed": date(d.last_accessed_date()),
            "deleted": date(d.deleted_date()),
            "owning_service": d.owning_service(),
            "primary_region": d.primary_region(),
            "tags": tags,
            "versions": versions.iter().map(|v| json!({
                "version_id": v.id, "stages": v.stages, "created": v.created, "last_accessed": v.last_accessed,
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let s = ui.out;
    let field =
        |ui: &mut Ui, name: &str, value: String| ui.line(format!("{}  {value}", s.bold(&format!("{name:<13}"))));
    let none = || "-".to_owned();
    field(ui, "Source", settings::SOURCE_SECRETS_MANAGER.to_owned());
    field(ui, "Name", d.name().unwrap_or("?").to_owned());
    field(ui, "ARN", d.arn().unwrap_or("?").to_owned());
    if let Some(desc) = d.description().filter(|x| !x.is_empty()) {
        field(ui, "Description", desc.to_owned());
    }
    field(
        ui,
        "KMS key",
        match kms {
            Some(k) if customer_key => format!("{k} (customer managed)"),
            Some(k) => format!("{k} (AWS managed)"),
            None => "aws/secretsmanager (AWS managed)".to_owned(),
        },
    );
    let rotation = match d.rotation_enabled() {
        Some(true) => {
            let mut r = "enabled".to_owned();
            if let Some(days) = rules.and_then(|r| r.automatically_after_days()) {
                r.push_str(&format!(", every {days} days"));
            }
            if let Some(expr) = rules.and_then(|r| r.schedule_expression()) {
                r.push_str(&format!(", schedule {expr}"));
            }
            if let Some(l) = d.rotation_lambda_arn() {
                r.push_str(&format!(", by {l}"));
            }
            r
        }
        _ => "disabled".to_owned(),
    };
    field(ui, "Rotation", rotation);
    if d.rotation_enabled() == Some(true) || d.last_rotated_date().is_some() {
        field(ui, "Last rotated", date(d.last_rotated_date()).unwrap_or_else(none));
        field(ui, "Next rotation", date(d.next_rotation_date()).unwrap_or_else(none));
    }
    field(ui, "Created", date(d.created_date()).unwrap_or_else(none));
    field(ui, "Last changed", date(d.last_changed_date()).unwrap_or_else(none));
    field(ui, "Last accessed", date(d.last_accessed_date()).unwrap_or_else(none));
    if let Some(deleted) = date(d.deleted_date()) {
        field(ui, "Deleted", s.red(&format!("scheduled for deletion on {deleted}")));
    }
    if !tags.is_empty() {
        let list: Vec<String> = tags
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        field(ui, "Tags", list.join(", "));
    }
    ui.line(s.bold("Versions"));
    for v in &versions {
        let stages = if v.stages.is_empty() {
            "(no stage)".to_owned()
        } else {
            v.stages.join(", ")
        };
        let mut dates = Vec::new();
        if let Some(c) = &v.created {
            dates.push(format!("created {c}"));
        }
        if let Some(a) = &v.last_accessed {
            dates.push(format!("last accessed {a}"));
        }
        ui.line(format!(
            "  {}  {}  {}",
            v.id,
            s.cyan(&format!("{stages:<24}")),
            s.dim(&dates.join(", "))
        ));
    }
    if let Some(e) = list_error {
        ui.note(format!(
            "version dates unavailable: ListSecretVersionIds failed ({})",
            e.code()
        ));
    }
    Ok(())
}

struct VersionInfo {
    id: String,
    stages: Vec<String>,
    created: Option<String>,
    last_accessed: Option<String>,
}

async fn list_versions(target: &Target) -> Result<Vec<VersionInfo>, Error> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = target
            .client
            .list_secret_version_ids()
            .secret_id(target.id())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| target.sdk_error("ListSecretVersionIds", &e))?;
        for v in page.versions() {
            out.push(VersionInfo {
                id: v.version_id().unwrap_or("?").to_owned(),
                stages: v.version_stages().to_vec(),
                created: date(v.created_date()),
                last_accessed: date(v.last_accessed_date()),
            });
        }
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(t) if out.len() < 10_000 => token = Some(t.to_owned()),
            _ => return Ok(out),
        }
    }
}

/// `diff`: key paths added, removed and changed between two versions, values redacted.
pub fn diff(
    g: &Global,
    from: (String, Option<String>),
    to: (String, Option<String>),
    ui: &mut Ui,
) -> Result<(), Failure> {
    // An id replaces the stage (clap makes them exclusive); the core refuses empty ones.
    let pick = |(stage, id): (String, Option<String>)| match id {
        Some(id) => settings::select_version(None, Some(&id)),
        None => settings::select_version(Some(&stage), None),
    };
    let (from, to) = (pick(from)?, pick(to)?);
    let settings = aws::settings_for(g)?;
    let (old, new) = block_on(async {
        let target = Target::connect(settings).await?;
        let old = target.read(from.clone()).await?;
        let new = target.read(to.clone()).await?;
        Ok((old, new))
    })?;
    let changes = edit::changes(old.document()?.root(), new.document()?.root());
    if ui.json {
        let list = |k: Kind| -> Vec<Value> { changes.iter().filter(|c| c.kind == k).map(|c| c.to_json()).collect() };
        ui.json_out(&json!({
            "secret": new.name(),
            "from": {"selector": from.to_string(), "version_id": old.version_id(), "version_stages": old.version_stages()},
            "to": {"selector": to.to_string(), "version_id": new.version_id(), "version_stages": new.version_stages()},
            "added": list(Kind::Added),
            "removed": list(Kind::Removed),
            "changed": list(Kind::Changed),
        }));
        return Ok(());
    }
    let s = ui.out;
    ui.line(s.dim(&format!(
        "{}: {from} ({}) -> {to} ({})",
        new.name(),
        old.version_id().unwrap_or("?"),
        new.version_id().unwrap_or("?")
    )));
    print_changes(ui, &changes);
    Ok(())
}

/// Changes as `+ path  shape`, `- path  shape`, `~ path  shape -> shape`, then a count.
pub fn print_changes(ui: &mut Ui, changes: &[edit::Change]) {
    let s = ui.out;
    if changes.is_empty() {
        ui.line("no differences");
        return;
    }
    let width = changes.iter().map(|c| c.path.chars().count()).max().unwrap_or(0);
    for c in changes {
        let path = format!("{:<width$}", c.path);
        let line = match c.kind {
            Kind::Added => format!(
                "{} {}  {}",
                s.green("+"),
                s.green(&path),
                s.dim(c.after.as_deref().unwrap_or(""))
            ),
            Kind::Removed => format!(
                "{} {}  {}",
                s.red("-"),
                s.red(&path),
                s.dim(c.before.as_deref().unwrap_or(""))
            ),
            Kind::Changed => format!(
                "{} {}  {}",
                s.yellow("~"),
                s.yellow(&path),
                s.dim(&format!(
                    "{} -> {}",
                    c.before.as_deref().unwrap_or(""),
                    c.after.as_deref().unwrap_or("")
                ))
            ),
        };
        ui.line(line);
    }
    let count = |k: Kind| changes.iter().filter(|c| c.kind == k).count();
    ui.line(format!(
        "{} key path(s): {} added, {} removed, {} changed",
        changes.len(),
        count(Kind::Added),
        count(Kind::Removed),
        count(Kind::Changed)
    ));
}

/// `describe` of a secret the platform delivers (`source` = `file:`, `env:`, `flyte:`): the
/// source, the VersionId (content hash) and the number of top-level keys of what it holds now,
/// read by the core's rules; never a value, and no AWS call.
fn describe_mounted(source: &starfleet_secrets::mounted::Source, ui: &mut Ui) -> Result<(), Failure> {
    use starfleet_secrets::mounted;
    let secret = match mounted::read(source, None)? {
        mounted::Read::Value(secret, _) => secret,
        mounted::Read::Unchanged => unreachable!("a read without a stamp always reads"),
    };
    let keys = secret.document()?.len();
    if ui.json {
        ui.json_out(&json!({
            "source": source.to_string(),
            "version_id": secret.version_id(),
            "keys": keys,
        }));
        return Ok(());
    }
    let s = ui.out;
    let field =
        |ui: &mut Ui, name: &str, value: String| ui.line(format!("{}  {value}", s.bold(&format!("{name:<13}"))));
    field(ui, "Source", source.to_string());
    field(ui, "VersionId", secret.version_id().unwrap_or("?").to_owned());
    field(ui, "Keys", format!("{keys} at the top level"));
    Ok(())
}
