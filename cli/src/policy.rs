//! `policy`: the least-privilege IAM policy a worker needs to read the secret.

use serde::Serialize;
use serde_json::{json, Value};
use starfleet_secrets::arn;

use crate::aws::{self, block_on, Target};
use crate::output::Ui;
use crate::{Failure, Global};

/// Whether a DescribeSecret `KmsKeyId` names the AWS managed key (which needs no grant in a
/// worker's policy). DescribeSecret omits the field for it; some callers spell it out.
pub fn is_aws_managed_key(key: &str) -> bool {
    key == "alias/aws/secretsmanager" || key.ends_with(":alias/aws/secretsmanager")
}

/// The AWS partition of a region, for ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

fn dns_suffix(partition: &str) -> &'static str {
    if partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

#[derive(Serialize)]
struct PolicyDocument {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: Vec<Statement>,
}

#[derive(Serialize)]
struct Statement {
    #[serde(rename = "Sid")]
    sid: &'static str,
    #[serde(rename = "Effect")]
    effect: &'static str,
    #[serde(rename = "Action")]
    action: &'static str,
    #[serde(rename = "Resource")]
    resource: String,
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

/// What the policy is built from.
pub struct Facts {
    pub secret_id: String,
    pub region: String,
    /// The exact ARN, when known (the id is an ARN, or DescribeSecret told us).
    pub arn: Option<String>,
    /// DescribeSecret's KmsKeyId; `None` = the AWS managed key, or unknown.
    pub kms_key_id: Option<String>,
    pub account_id: Option<String>,
}

/// The policy document (serialised in IAM's usual field order), its secret resource, and
/// notes for the operator.
fn build(f: &Facts) -> (PolicyDocument, String, Vec<String>) {
    let partition = partition(&f.region);
    let mut notes = Vec::new();
    let account = f
        .arn
        .as_deref()
        .and_then(|a| arn::arn_field(a, 4))
        .map(str::to_owned)
        .or_else(|| f.account_id.clone());
    let resource = match &f.arn {
        Some(arn) => arn.clone(),
        None => {
            notes.push(format!(
                "only the name is known: the resource uses the six-character suffix wildcard {}-?????? that Secrets Manager appends to names",
                f.secret_id
            ));
            if account.is_none() {
                notes.push("account unknown: the resource allows any account (*); pass --account-id to pin it".into());
            }
            format!(
                "arn:{partition}:secretsmanager:{}:{}:secret:{}-??????",
                f.region,
                account.as_deref().unwrap_or("*"),
                f.secret_id
            )
        }
    };
    let mut statement = vec![Statement {
        sid: "ReadStarfleetSecret",
        effect: "Allow",
        action: "secretsmanager:GetSecretValue",
        resource: resource.clone(),
        condition: None,
    }];
    if let Some(key) = f.kms_key_id.as_deref().filter(|k| !is_aws_managed_key(k)) {
        let via = json!({"kms:ViaService": format!("secretsmanager.{}.{}", f.region, dns_suffix(partition))});
        let account = account.as_deref().unwrap_or("*");
        let (key_resource, condition) = if key.starts_with("arn:") && key.contains(":alias/") {
            let alias = key
                .split_once(":alias/")
                .map(|(_, a)| format!("alias/{a}"))
                .unwrap_or_default();
            let key_account = arn::arn_field(key, 4).unwrap_or(account);
            let key_region = arn::arn_field(key, 3).unwrap_or(&f.region);
            (
                format!("arn:{partition}:kms:{key_region}:{key_account}:key/*"),
                json!({"StringEquals": via, "ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}}),
            )
        } else if key.starts_with("arn:") {
            (key.to_owned(), json!({"StringEquals": via}))
        } else if key.starts_with("alias/") {
            (
                format!("arn:{partition}:kms:{}:{account}:key/*", f.region),
                json!({"StringEquals": via, "ForAnyValue:StringEquals": {"kms:ResourceAliases": key}}),
            )
        } else {
            (
                format!("arn:{partition}:kms:{}:{account}:key/{key}", f.region),
                json!({"StringEquals": via}),
            )
        };
        notes.push(format!(
            "the secret is encrypted with the customer managed KMS key {key}: the policy adds kms:Decrypt on it, through Secrets Manager only; the key policy must allow it too"
        ));
        statement.push(Statement {
            sid: "DecryptStarfleetSecret",
            effect: "Allow",
            action: "kms:Decrypt",
            resource: key_resource,
            condition: Some(condition),
        });
    }
    let doc = PolicyDocument {
        version: "2012-10-17",
        statement,
    };
    (doc, resource, notes)
}

pub fn policy(g: &Global, account_id: Option<String>, no_lookup: bool, ui: &mut Ui) -> Result<(), Failure> {
    let settings = aws::settings_for(g)?;
    let secret_id = settings.location.secret_id.clone();
    let region = settings.location.region.clone();
    let fallback_regions = settings.fallback_regions.clone();
    let id_is_arn = arn::arn_region(&secret_id).is_some();
    let mut facts = Facts {
        arn: id_is_arn.then(|| secret_id.clone()),
        secret_id,
        region,
        kms_key_id: None,
        account_id,
    };
    let mut notes = Vec::new();
    let mut looked_up = false;
    if !no_lookup {
        let described = block_on(async {
            let target = Target::connect(settings).await?;
            Ok(target.describe().await)
        })?;
        match described {
            Ok(d) => {
                looked_up = true;
                facts.arn = d.arn().map(str::to_owned).or(facts.arn);
                facts.kms_key_id = d.kms_key_id().map(str::to_owned);
            }
            Err(e) => notes.push(format!(
                "could not look the secret up ({}: {}); if it uses a customer managed KMS key, workers also need kms:Decrypt on that key",
                e.code(),
                e.message()
            )),
        }
    } else {
        notes.push("not looked up (--no-lookup): if the secret uses a customer managed KMS key, workers also need kms:Decrypt on that key".into());
    }
    let (doc, resource, mut built_notes) = build(&facts);
    notes.append(&mut built_notes);
    if !fallback_regions.is_empty() {
        // Failover reads the replicas too: the same ARN with each region.
        let replicas: Vec<String> = fallback_regions
            .iter()
            .map(|r| arn::arn_in_region(&resource, r))
            .collect();
        notes.push(format!(
            "fallback regions are set: workers also need secretsmanager:GetSecretValue on the replicas ({}), and kms:Decrypt on each replica's key if it is customer managed; this policy covers the secret's own region",
            replicas.join(", ")
        ));
    }
    if ui.json {
        ui.json_out(&json!({
            "policy": serde_json::to_value(&doc).unwrap_or(Value::Null),
            "secret_resource": resource,
            "exact_arn": facts.arn.is_some(),
            "looked_up": looked_up,
            "kms_key_id": facts.kms_key_id,
            "notes": notes,
        }));
        return Ok(());
    }
    for n in &notes {
        ui.note(n);
    }
    ui.line(serde_json::to_string_pretty(&doc).unwrap_or_default());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(arn: Option<&str>, kms: Option<&str>) -> Facts {
        Facts {
            secret_id: "Starfleet".into(),
            region: "us-east-2".into(),
            arn: arn.map(str::to_owned),
            kms_key_id: kms.map(str::to_owned),
            account_id: None,
        }
    }

    #[test]
    fn exact_arn_and_no_kms_for_the_aws_managed_key() {
        let arn = "arn:aws:secretsmanager:us-east-2:123456789012:secret:Starfleet-AbCdEf";
        let (policy, resource, _) = build(&facts(Some(arn), None));
        let text = serde_json::to_string(&policy).unwrap();
        assert!(
            text.starts_with(r#"{"Version":"2012-10-17","Statement":[{"Sid""#),
            "{text}"
        );
        let doc = serde_json::to_value(&policy).unwrap();
        assert_eq!(resource, arn);
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(doc["Statement"][0]["Action"], "secretsmanager:GetSecretValue");
        let (policy, ..) = build(&facts(Some(arn), Some("alias/aws/secretsmanager")));
        assert_eq!(policy.statement.len(), 1);
    }

    #[test]
    fn name_only_uses_the_suffix_wildcard() {
        let (_, resource, notes) = build(&facts(None, None));
        assert_eq!(resource, "arn:aws:secretsmanager:us-east-2:*:secret:Starfleet-??????");
        assert!(notes.iter().any(|n| n.contains("--account-id")));
        let mut f = facts(None, None);
        f.account_id = Some("123456789012".into());
        f.region = "cn-north-1".into();
        assert_eq!(
            build(&f).1,
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:Starfleet-??????"
        );
    }

    #[test]
    fn customer_managed_keys_get_kms_decrypt_via_secrets_manager() {
        let arn = "arn:aws:secretsmanager:us-east-2:123456789012:secret:Starfleet-AbCdEf";
        for (key, resource) in [
            (
                "arn:aws:kms:us-east-2:123456789012:key/1234abcd",
                "arn:aws:kms:us-east-2:123456789012:key/1234abcd",
            ),
            ("1234abcd", "arn:aws:kms:us-east-2:123456789012:key/1234abcd"),
            ("alias/starfleet", "arn:aws:kms:us-east-2:123456789012:key/*"),
            (
                "arn:aws:kms:us-east-2:210987654321:alias/starfleet",
                "arn:aws:kms:us-east-2:210987654321:key/*",
            ),
        ] {
            let (policy, _, notes) = build(&facts(Some(arn), Some(key)));
            let doc = serde_json::to_value(&policy).unwrap();
            let kms = &doc["Statement"][1];
            assert_eq!(kms["Action"], "kms:Decrypt", "{key}");
            assert_eq!(kms["Resource"], resource, "{key}");
            assert_eq!(
                kms["Condition"]["StringEquals"]["kms:ViaService"],
                "secretsmanager.us-east-2.amazonaws.com"
            );
            assert!(notes.iter().any(|n| n.contains("kms:Decrypt")));
        }
    }
}
