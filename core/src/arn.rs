//! Names of a secret's location: the region rule, the secret id rule, and ARN fields.
//!
//! One place for what a region name and a Secrets Manager ARN look like, used by the
//! configuration's validation (`config`), the settings' precedence (`settings`), replica
//! failover (`source`, which renames an ARN per region) and the CLI (policies, writes).

/// A region is lowercase words joined by `-`, starting with a two-letter prefix and ending in
/// a number: `us-east-2`, `us-gov-west-1`, `ap-southeast-3`, `us-isob-east-1`.
pub fn check_region(region: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let shaped = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "{region:?} is not an AWS region name (expected something like \"us-east-2\")"
        ))
    }
}

/// A secret name or ARN as Secrets Manager accepts it: at most 2048 characters, none of them
/// a control character. A NUL or newline in a configured id (a YAML `"\0"` escape, a pasted
/// line break) is a mistake to show where it was made, not a request to send; C would also
/// see such an id cut short at the NUL.
pub fn check_secret_id(secret_id: &str) -> std::result::Result<(), String> {
    let length = secret_id.chars().count();
    if secret_id.chars().any(char::is_control) {
        Err(format!("{secret_id:?} contains a control character"))
    } else if length > 2048 {
        Err(format!("is {length} characters long (at most 2048)"))
    } else {
        Ok(())
    }
}

/// Field `n` of an ARN `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` (1 = partition,
/// 2 = service, 3 = region, 4 = account), if present and not empty.
pub fn arn_field(arn: &str, n: usize) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .nth(n.checked_sub(1)?)
        .filter(|f| !f.is_empty())
}

/// The region inside a Secrets Manager ARN (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`).
pub fn arn_region(secret_id: &str) -> Option<&str> {
    match arn_field(secret_id, 2) {
        Some("secretsmanager") => arn_field(secret_id, 3),
        _ => None,
    }
}

/// `secret_id` as it is named in `region`: an ARN with its region field replaced (a replica
/// keeps its primary's name, account and suffix), a name unchanged.
pub fn arn_in_region(secret_id: &str, region: &str) -> String {
    match arn_region(secret_id) {
        Some(_) => {
            let mut fields: Vec<&str> = secret_id.splitn(5, ':').collect();
            fields[3] = region;
            fields.join(":")
        }
        None => secret_id.to_owned(),
    }
}

/// An ARN's own region must agree with the configured one: the call goes to one region.
pub fn check_arn_region(secret_id: &str, region: &str) -> std::result::Result<(), String> {
    match arn_region(secret_id) {
        Some(in_arn) if in_arn != region => Err(format!(
            "is an ARN in region {in_arn}, but the secret region is {region}"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_shapes() {
        for ok in [
            "us-east-2",
            "us-gov-west-1",
            "ap-southeast-3",
            "cn-north-1",
            "us-isob-east-1",
            "il-central-1",
        ] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Ohio",
            "us-east-2 ",
            "US-EAST-2",
            "us-east",
            "useast2",
            "",
            "u-east-1",
            "us--1",
        ] {
            assert!(check_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn arn_fields_and_their_region() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:S-AbCdEf";
        assert_eq!(arn_field(arn, 1), Some("aws"));
        assert_eq!(arn_field(arn, 4), Some("123456789012"));
        assert_eq!(arn_field(arn, 0), None);
        assert_eq!(arn_field("arn:aws:s3:::bucket", 3), None);
        assert_eq!(arn_region(arn), Some("eu-west-1"));
        assert_eq!(arn_region("arn:aws:s3:us-east-1::x"), None);
        assert_eq!(arn_region("Starfleet"), None);
        assert!(check_arn_region(arn, "eu-west-1").is_ok());
        assert!(check_arn_region("Starfleet", "eu-west-1").is_ok());
        assert_eq!(
            check_arn_region(arn, "us-east-2").unwrap_err(),
            "is an ARN in region eu-west-1, but the secret region is us-east-2"
        );
        assert!(check_secret_id("Starfleet").is_ok());
        assert!(check_secret_id("Star\0fleet")
            .unwrap_err()
            .contains("control character"));
        assert!(check_secret_id(&"s".repeat(2049)).unwrap_err().contains("at most 2048"));
    }

    #[test]
    fn an_arn_is_renamed_per_region_and_a_name_is_kept() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:Starfleet-AbCdEf";
        assert_eq!(
            arn_in_region(arn, "us-west-2"),
            "arn:aws:secretsmanager:us-west-2:123456789012:secret:Starfleet-AbCdEf"
        );
        assert_eq!(arn_in_region("Starfleet", "us-west-2"), "Starfleet");
        assert_eq!(arn_in_region("arn:aws:s3:::bucket", "us-west-2"), "arn:aws:s3:::bucket");
    }
}
