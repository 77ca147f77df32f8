//! The `starfleet-secrets` binary against a real Secrets Manager API (moto) behind the
//! fault proxy. Run through `scripts/with-harness cargo test -p starfleet-secrets-cli`.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

const COMMANDS: &[&str] = &[
    "init",
    "keys",
    "get",
    "set",
    "rm",
    "describe",
    "diff",
    "policy",
    "check-config",
];

fn starfleet_doc(token: &str) -> Value {
    json!({
        "STARFLEET": {"SlackToken": token},
        "GitHubSyncWorker": {"my.org": "-----BEGIN KEY-----"},
        "AccountIndexGeneratorShip": {}
    })
}

#[test]
fn every_command_has_help_with_examples() {
    let top = cli(&["--help"]).run();
    assert!(
        top.ok().contains("Examples:") && top.stdout.contains("Exit status:"),
        "{top:?}"
    );
    for command in COMMANDS {
        let run = cli(&[command, "--help"]).run();
        let out = run.ok();
        assert!(out.contains("Examples:"), "{command}: {out}");
        assert!(
            out.contains(&format!("starfleet-secrets {command}")),
            "{command}: {out}"
        );
        assert!(out.contains("--secret-id"), "{command}: global options listed: {out}");
        assert!(run.stderr.is_empty());
    }
    assert!(cli(&["--version"]).run().ok().starts_with("starfleet-secrets "));
}

#[test]
fn usage_errors_exit_2_on_stderr_and_never_echo_a_value() {
    let secret = canary("usage");
    let secret = secret.as_str();
    for args in [
        vec!["frobnicate"],
        vec![],
        vec!["get"],
        vec!["set", "A.B"],
        vec!["set", "A.B", "--value", secret, "--stdin"],
        vec!["set", "A.B", "--value", secret, "--bogus"],
        vec!["set", "A.B", "--value", secret, "--value", "again"],
        vec!["init", "--tag", "novalue"],
        vec!["diff", "--from", "AWSPREVIOUS", "--from-version-id", "x"],
        vec!["keys", "--version-stage", "A", "--version-id", "b"],
        // A forgotten --value: clap would quote the stray word.
        vec!["set", "A.B", secret],
        vec!["set", "A.B", "--stdin", secret],
        vec!["get", "A.B", secret],
        vec![secret],
        vec!["set", "A.B", "--stdin", &format!("--json-value={secret}")],
        vec!["init", "--tag", secret],
        vec!["--region", "us-east-2", "set", "A.B", &format!("--valu={secret}")],
    ] {
        let run = cli(&args).run();
        assert_eq!(run.status, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}: usage errors go to stderr: {run:?}");
        assert!(!run.stderr.is_empty());
        run.clean_of(&[secret]);
    }
    // check-config with nothing to check is a usage error too (documented).
    let run = cli(&["check-config"]).run();
    assert_eq!(run.status, 2, "{run:?}");
    assert!(run.stderr.contains("STARFLEET_CONFIG"), "{run:?}");
}

#[test]
fn init_is_idempotent_with_kms_key_and_tags() {
    let name = unique("init");
    let first = on(
        &name,
        &[
            "init",
            "--kms-key-id",
            "alias/starfleet-test",
            "--tag",
            "team=platform",
            "--tag",
            "env=dev",
        ],
    )
    .run();
    assert!(first.ok().contains("created secret"), "{first:?}");
    assert_eq!(document(&name, "AWSCURRENT"), json!({"STARFLEET": {}}));
    let d = ok("DescribeSecret", json!({"SecretId": name}));
    assert_eq!(d["KmsKeyId"], "alias/starfleet-test", "{d}");
    let tags: Vec<(String, String)> = d["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["Key"].as_str().unwrap().into(), t["Value"].as_str().unwrap().into()))
        .collect();
    assert!(tags.contains(&("team".into(), "platform".into())) && tags.contains(&("env".into(), "dev".into())));
    let versions = stages(&name);

    let again = on(&name, &["init"]).run();
    assert!(again.ok().contains("already exists"), "{again:?}");
    let json_again = on(&name, &["--json", "init", "--tag", "other=x"]).run();
    assert_eq!(json_again.json()["created"], false);
    assert_eq!(stages(&name), versions, "init never writes to an existing secret");

    // A secret cannot be created from an ARN.
    let arn = "arn:aws:secretsmanager:us-east-2:123456789012:secret:NoSuchSecret-AbCdEf";
    let run = cli(&["--secret-id", arn, "init"]).run();
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("cannot be created from an ARN"), "{run:?}");
}

#[test]
fn keys_show_the_tree_with_types_and_lengths_only() {
    let name = unique("keys");
    let token = canary("tok");
    create(&name, &starfleet_doc(&token));
    let run = on(&name, &["keys"]).run();
    let out = run.clean_of(&[&token, "BEGIN KEY"]).ok();
    for expected in [
        "STARFLEET",
        "SlackToken  string, ",
        r"my\.org  string, 19 chars",
        "AccountIndexGeneratorShip  object, empty",
        "AWSCURRENT",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    assert!(out.contains(&format!("string, {} chars", token.len())), "{out}");

    let flat = on(&name, &["keys", "--flat"]).run();
    assert!(flat
        .clean_of(&[&token])
        .ok()
        .contains(r"GitHubSyncWorker.my\.org  string, 19 chars"));

    let js = on(&name, &["keys", "--json"]).run();
    let v = js.clean_of(&[&token]).json();
    let paths: Vec<&str> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        // Document order, as written.
        [
            "STARFLEET",
            "STARFLEET.SlackToken",
            "GitHubSyncWorker",
            r"GitHubSyncWorker.my\.org",
            "AccountIndexGeneratorShip"
        ]
    );
    let tok = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["path"] == "STARFLEET.SlackToken")
        .unwrap();
    assert_eq!(tok["type"], "string");
    assert_eq!(tok["length"], token.len());
}

#[test]
fn get_prints_one_value_and_refuses_subtrees_without_json() {
    let name = unique("get");
    let token = canary("get");
    create(
        &name,
        &json!({"STARFLEET": {"SlackToken": token, "N": 3}, "W": {"a.b": "dotted"}}),
    );
    assert_eq!(
        on(&name, &["get", "STARFLEET.SlackToken"]).run().ok(),
        format!("{token}\n")
    );
    assert_eq!(on(&name, &["get", "STARFLEET.N"]).run().ok(), "3\n");
    assert_eq!(on(&name, &["get", r"W.a\.b"]).run().ok(), "dotted\n");

    let refused = on(&name, &["get", "STARFLEET"]).run();
    assert_eq!(refused.status, 1, "{refused:?}");
    assert!(
        refused.stdout.is_empty() && refused.stderr.contains("--json"),
        "{refused:?}"
    );
    refused.clean_of(&[&token]);

    let subtree = on(&name, &["get", "STARFLEET", "--json"]).run();
    assert_eq!(subtree.json(), json!({"SlackToken": token, "N": 3}));

    let missing = on(&name, &["get", "STARFLEET.Nope"]).run();
    assert_eq!(missing.status, 1);
    assert!(
        missing.stderr.contains("KEY_NOT_FOUND") && missing.stderr.contains("STARFLEET.Nope"),
        "{missing:?}"
    );
    let through = on(&name, &["get", "STARFLEET.SlackToken.deeper"]).run();
    assert_eq!(through.status, 1);
    through.clean_of(&[&token]);

    // Older versions by stage or id.
    let v1 = current_version(&name);
    rotate(&name, &json!({"STARFLEET": {"SlackToken": "new"}}));
    assert_eq!(
        on(
            &name,
            &["get", "STARFLEET.SlackToken", "--version-stage", "AWSPREVIOUS"]
        )
        .run()
        .ok(),
        format!("{token}\n")
    );
    assert_eq!(
        on(&name, &["get", "STARFLEET.SlackToken", "--version-id", &v1])
            .run()
            .ok(),
        format!("{token}\n")
    );
}

#[test]
fn set_merges_one_value_and_writes_a_new_current_version() {
    let name = unique("set");
    create(&name, &starfleet_doc("old-token"));
    let v0 = current_version(&name);
    let token = canary("set");

    let run = on(&name, &["set", "STARFLEET.SlackToken", "--stdin"])
        .stdin(format!("{token}\n"))
        .run();
    let out = run.clean_of(&[&token]).ok().to_owned();
    assert!(
        out.contains("~ STARFLEET.SlackToken") && out.contains("string, 9 chars -> string,"),
        "{out}"
    );
    let v1 = current_version(&name);
    assert_ne!(v1, v0);
    assert!(out.contains(&v1) && out.contains(&v0), "{out}");
    let mut expected = starfleet_doc(&token); // the trailing newline of --stdin is dropped
    assert_eq!(document(&name, "AWSCURRENT"), expected);
    assert_eq!(document(&name, "AWSPREVIOUS"), starfleet_doc("old-token"));
    let labels = stages(&name);
    assert_eq!(labels[&v1], ["AWSCURRENT"], "{labels:?}");
    assert_eq!(labels[&v0], ["AWSPREVIOUS"], "{labels:?}");
    assert!(
        !labels.values().flatten().any(|l| l == "STARFLEET_CLI_PENDING"),
        "the pending label is removed: {labels:?}"
    );

    // --from-file keeps the file byte for byte (trailing newline included).
    let dir = temp_dir("set");
    let pem = dir.join("key.pem");
    std::fs::write(&pem, "-----BEGIN KEY-----\nabc\n-----END KEY-----\n").unwrap();
    on(
        &name,
        &["set", "NewWorker.my-org", "--from-file", pem.to_str().unwrap()],
    )
    .run()
    .ok();
    expected["NewWorker"] = json!({"my-org": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"});
    // --value is a string unless --json-value parses it.
    on(&name, &["set", "NewWorker.Count", "--value", "3"]).run().ok();
    on(&name, &["set", "NewWorker.Retries", "--value", "3", "--json-value"])
        .run()
        .ok();
    on(
        &name,
        &[
            "set",
            "NewWorker.Opts",
            "--value",
            r#"{"a": [1, true]}"#,
            "--json-value",
        ],
    )
    .run()
    .ok();
    expected["NewWorker"]["Count"] = json!("3");
    expected["NewWorker"]["Retries"] = json!(3);
    expected["NewWorker"]["Opts"] = json!({"a": [1, true]});
    assert_eq!(document(&name, "AWSCURRENT"), expected);

    // The same value again: nothing written.
    let before = current_version(&name);
    let same = on(&name, &["set", "NewWorker.Retries", "--value", "3", "--json-value"]).run();
    assert!(same.ok().contains("no change"), "{same:?}");
    assert_eq!(current_version(&name), before);

    // Replacing a whole subtree needs --replace; a path through a string is refused.
    let subtree = on(&name, &["set", "GitHubSyncWorker", "--value", "x"]).run();
    assert_eq!(subtree.status, 1, "{subtree:?}");
    assert!(subtree.stderr.contains("--replace"), "{subtree:?}");
    let through = on(&name, &["set", "STARFLEET.SlackToken.x", "--value", "x"]).run();
    assert_eq!(through.status, 1, "{through:?}");
    through.clean_of(&[&token]);
    assert_eq!(current_version(&name), before, "refused edits write nothing");
    on(
        &name,
        &["set", "GitHubSyncWorker", "--value", "{}", "--json-value", "--replace"],
    )
    .run()
    .ok();
    assert_eq!(document(&name, "AWSCURRENT")["GitHubSyncWorker"], json!({}));

    // --json output.
    let js = on(&name, &["--json", "set", "A.B", "--value", &token]).run();
    let v = js.clean_of(&[&token]).json();
    assert_eq!(v["written"], true);
    assert_eq!(v["version_id"], json!(current_version(&name)));
    assert_eq!(
        v["changes"],
        json!([{"path": "A.B", "change": "added", "after": {"type": "string", "length": token.len()}}])
    );
}

#[test]
fn dry_run_shows_changed_paths_redacted_and_writes_nothing() {
    let name = unique("dry");
    let old = canary("old");
    let new = canary("new");
    create(&name, &starfleet_doc(&old));
    let v0 = current_version(&name);
    let run = on(&name, &["set", "STARFLEET.SlackToken", "--value", &new, "--dry-run"]).run();
    let out = run.clean_of(&[&old, &new]).ok();
    assert!(
        out.contains("~ STARFLEET.SlackToken") && out.contains("dry run: nothing written"),
        "{out}"
    );
    let js = on(&name, &["--json", "set", "X.Y", "--stdin", "--dry-run"])
        .stdin(new.clone())
        .run();
    let v = js.clean_of(&[&old, &new]).json();
    assert_eq!(
        (v["dry_run"].clone(), v["written"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(v["changes"][0]["path"], "X.Y");
    let rm = on(&name, &["rm", "STARFLEET.SlackToken", "--dry-run"]).run();
    assert!(rm.clean_of(&[&old]).ok().contains("- STARFLEET.SlackToken"), "{rm:?}");
    assert_eq!(current_version(&name), v0);
    assert_eq!(stages(&name).len(), 1, "no version was created");
}

#[test]
fn a_set_that_would_not_be_valid_json_is_not_written() {
    let name = unique("invalid");
    let token = canary("inv");
    create(&name, &starfleet_doc("t"));
    let v0 = current_version(&name);
    for bad in [
        format!(r#"{{"k": "{token}""#),
        format!("{token} not json"),
        format!("[1, {token}]"),
    ] {
        let run = on(&name, &["set", "STARFLEET.Config", "--value", &bad, "--json-value"]).run();
        assert_eq!(run.status, 1, "{run:?}");
        assert!(
            run.stderr.contains("not valid JSON") && run.stderr.contains("nothing was written"),
            "{run:?}"
        );
        run.clean_of(&[&token]);
    }
    // Input that is not text cannot go into a JSON document.
    let run = on(&name, &["set", "STARFLEET.Blob", "--stdin"])
        .stdin(vec![0xff, 0xfe, 0x00])
        .run();
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("not UTF-8"), "{run:?}");
    // Too large for a secret.
    let run = on(&name, &["set", "STARFLEET.Huge", "--stdin"])
        .stdin("x".repeat(70_000))
        .run();
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("limit"), "{run:?}");
    assert_eq!(current_version(&name), v0);
    assert_eq!(stages(&name).len(), 1);

    // A current version that is not a JSON object is never edited (or echoed).
    let broken = unique("broken");
    create_text(&broken, &format!(r#"{{"STARFLEET": {{"SlackToken": "{token}""#));
    let run = on(&broken, &["set", "STARFLEET.Other", "--value", "x"]).run();
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("SECRET_FORMAT"), "{run:?}");
    run.clean_of(&[&token]);
    assert_eq!(stages(&broken).len(), 1);
}

#[test]
fn edits_keep_the_document_key_order() {
    let name = unique("order");
    create(&name, &json!({"Z": 1, "A": {"y": 1, "x": 2, "w": 3, "u": 4}, "M": 2}));
    on(&name, &["rm", "A.x"]).run().ok();
    on(&name, &["set", "A.v", "--value", "new"]).run().ok();
    on(&name, &["set", "Z", "--value", "changed"]).run().ok();
    let doc = document(&name, "AWSCURRENT");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&doc), ["Z", "A", "M"], "{doc}");
    assert_eq!(keys(&doc["A"]), ["y", "w", "u", "v"], "{doc}");
}

#[test]
fn rm_removes_one_key_with_the_same_guarantees() {
    let name = unique("rm");
    let token = canary("rm");
    create(
        &name,
        &json!({"STARFLEET": {"SlackToken": token}, "Old": {"a": 1, "b": {"c": token}}}),
    );
    let run = on(&name, &["rm", "STARFLEET.SlackToken"]).run();
    assert!(
        run.clean_of(&[&token]).ok().contains("- STARFLEET.SlackToken"),
        "{run:?}"
    );
    assert_eq!(document(&name, "AWSCURRENT")["STARFLEET"], json!({}));

    let refused = on(&name, &["rm", "Old"]).run();
    assert_eq!(refused.status, 1, "{refused:?}");
    assert!(refused.stderr.contains("--recursive"), "{refused:?}");
    let missing = on(&name, &["rm", "Old.nope"]).run();
    assert_eq!(missing.status, 1, "{missing:?}");
    assert!(missing.stderr.contains("KEY_NOT_FOUND"), "{missing:?}");

    let all = on(&name, &["rm", "Old", "-r"]).run();
    let out = all.clean_of(&[&token]).ok();
    assert!(out.contains("- Old.a") && out.contains("- Old.b.c"), "{out}");
    assert_eq!(document(&name, "AWSCURRENT"), json!({"STARFLEET": {}}));
    assert_eq!(
        document(&name, "AWSPREVIOUS"),
        json!({"STARFLEET": {}, "Old": {"a": 1, "b": {"c": token}}})
    );
}

#[test]
fn two_concurrent_sets_one_is_refused_and_no_edit_is_lost() {
    let name = unique("race");
    create(&name, &json!({"STARFLEET": {"SlackToken": "t"}, "A": {}, "B": {}}));
    let v0 = current_version(&name);
    // Both first reads take 3 s, so both edits start from v0; the writes take 1 s more.
    fault(&name, "GetSecretValue", "delay", 2, json!({"delay_ms": 3000}));
    fault(&name, "PutSecretValue", "delay", 2, json!({"delay_ms": 1000}));
    let a = on(&name, &["set", "A.key", "--value", "from-a"]).spawn();
    let b = on(&name, &["set", "B.key", "--value", "from-b"]).spawn();
    let (a, b) = (wait(a), wait(b));
    clear_faults(&name);

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [0, 3], "one wins, one is refused: {a:?} {b:?}");
    let (winner, loser, winner_key, loser_key) = if a.status == 0 {
        (&a, &b, "A", "B")
    } else {
        (&b, &a, "B", "A")
    };
    assert!(winner.stdout.contains("wrote version"), "{winner:?}");
    assert!(loser.stdout.is_empty(), "{loser:?}");
    assert!(
        loser.stderr.contains("CONFLICT")
            && loser.stderr.contains("changed since it was read")
            && loser.stderr.contains("Nothing was written")
            && loser.stderr.contains(&v0),
        "{loser:?}"
    );
    let doc = document(&name, "AWSCURRENT");
    assert_eq!(
        doc[winner_key]["key"],
        json!(format!("from-{}", winner_key.to_lowercase()))
    );
    assert_eq!(doc[loser_key], json!({}), "the refused edit wrote nothing");
    let labels = stages(&name);
    assert_eq!(labels.values().flatten().filter(|l| *l == "AWSCURRENT").count(), 1);
    assert!(
        !labels.values().flatten().any(|l| l == "STARFLEET_CLI_PENDING"),
        "{labels:?}"
    );

    // The refused edit, run again, applies on top of the winner's: both survive.
    let again = on(
        &name,
        &[
            "set",
            &format!("{loser_key}.key"),
            "--value",
            &format!("from-{}", loser_key.to_lowercase()),
        ],
    )
    .run();
    again.ok();
    let doc = document(&name, "AWSCURRENT");
    assert_eq!(
        (doc["A"]["key"].clone(), doc["B"]["key"].clone()),
        (json!("from-a"), json!("from-b"))
    );
}

#[test]
fn a_write_between_the_read_and_the_recheck_is_refused_before_anything_is_written() {
    let name = unique("recheck");
    create(&name, &json!({"STARFLEET": {"SlackToken": "t"}}));
    // The tool has read the document and is re-reading the VersionId (DescribeSecret).
    fault(&name, "DescribeSecret", "delay", 1, json!({"delay_ms": 2000}));
    let child = on(&name, &["set", "Mine.key", "--value", "mine"]).spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&name, "DescribeSecret") == 0 {
        assert!(Instant::now() < deadline, "the tool never re-read the VersionId");
        std::thread::sleep(Duration::from_millis(20));
    }
    let theirs = rotate(
        &name,
        &json!({"STARFLEET": {"SlackToken": "t"}, "Theirs": {"key": "theirs"}}),
    );
    let run = wait(child);
    clear_faults(&name);
    assert_eq!(run.status, 3, "{run:?}");
    assert!(
        run.stderr.contains("CONFLICT") && run.stderr.contains(&theirs),
        "{run:?}"
    );
    assert_eq!(count(&name, "PutSecretValue"), 0, "refused before writing anything");
    assert_eq!(
        stages(&name).len(),
        2,
        "only the original and the other writer's versions"
    );
    assert_eq!(current_version(&name), theirs);
}

#[test]
fn a_write_that_slips_in_after_the_recheck_is_still_caught() {
    // The re-read of the VersionId happens before PutSecretValue; another writer can still
    // get in between. The atomic stage move must refuse, and the new version never be current.
    let name = unique("window");
    create(&name, &json!({"STARFLEET": {"SlackToken": "t"}}));
    fault(&name, "PutSecretValue", "delay", 1, json!({"delay_ms": 2000}));
    let child = on(&name, &["set", "Mine.key", "--value", "mine"]).spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&name, "PutSecretValue") == 0 {
        assert!(Instant::now() < deadline, "the tool never reached PutSecretValue");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The tool has re-checked and is inside PutSecretValue: another writer lands now.
    let theirs = rotate(
        &name,
        &json!({"STARFLEET": {"SlackToken": "t"}, "Theirs": {"key": "theirs"}}),
    );
    let run = wait(child);
    clear_faults(&name);
    assert_eq!(run.status, 3, "{run:?}");
    assert!(
        run.stderr.contains("CONFLICT") && run.stderr.contains(&theirs),
        "{run:?}"
    );
    assert_eq!(current_version(&name), theirs);
    assert_eq!(document(&name, "AWSCURRENT")["Theirs"]["key"], "theirs");
    assert!(document(&name, "AWSCURRENT").get("Mine").is_none());
    let labels = stages(&name);
    assert!(
        !labels.values().flatten().any(|l| l == "STARFLEET_CLI_PENDING"),
        "{labels:?}"
    );
}

#[test]
fn describe_shows_metadata_only() {
    let name = unique("describe");
    let token = canary("desc");
    on(&name, &["init", "--tag", "team=platform"]).run().ok();
    on(&name, &["set", "STARFLEET.SlackToken", "--value", &token])
        .run()
        .ok();
    let run = on(&name, &["describe"]).run();
    let out = run.clean_of(&[&token]).ok();
    let arn = ok("DescribeSecret", json!({"SecretId": name}))["ARN"]
        .as_str()
        .unwrap()
        .to_owned();
    for expected in [
        format!("ARN            {arn}"),
        "KMS key        aws/secretsmanager (AWS managed)".to_owned(),
        "Rotation       disabled".to_owned(),
        "Last changed".to_owned(),
        "Last accessed".to_owned(),
        "Tags           team=platform".to_owned(),
        format!("{}  AWSCURRENT", current_version(&name)),
        "AWSPREVIOUS".to_owned(),
    ] {
        assert!(out.contains(&expected), "{expected}: {out}");
    }
    let js = on(&name, &["describe", "--json"]).run();
    let v = js.clean_of(&[&token]).json();
    assert_eq!(v["arn"], json!(arn));
    assert_eq!(v["rotation"]["enabled"], false);
    assert_eq!(v["customer_managed_key"], false);
    assert_eq!(v["tags"], json!({"team": "platform"}));
    let current: Vec<&Value> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["stages"].as_array().unwrap().contains(&json!("AWSCURRENT")))
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["version_id"], json!(current_version(&name)));
    assert!(v["last_changed"].is_string() && v["created"].is_string(), "{v}");

    let missing = on(&unique("absent"), &["describe"]).run();
    assert_eq!(missing.status, 1);
    assert!(missing.stderr.contains("SECRET_NOT_FOUND"), "{missing:?}");
}

#[test]
fn check_config_and_describe_show_a_delivered_source_without_its_value() {
    let dir = temp_dir("mounted-source");
    let file = dir.join("app.json");
    let token = canary("mounted");
    std::fs::write(&file, json!({"STARFLEET": {"SlackToken": token}, "b": 1}).to_string()).unwrap();
    let source = format!("file:{}", file.display());
    let config = dir.join("starfleet.yaml");
    std::fs::write(
        &config,
        format!("STARFLEET:\n  SecretsManager:\n    Source: {source}\n"),
    )
    .unwrap();
    let run = cli(&["check-config", config.to_str().unwrap()]).run();
    assert_eq!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains(&format!("source {source}")), "{run:?}");
    let js = cli(&["--json", "check-config", config.to_str().unwrap()]).run().json();
    assert_eq!(js["source"], json!(source));

    // No AWS: the variable names the file, and the CLI reads it by the core's rules.
    let run = cli(&["describe"]).env("STARFLEET_SECRET_SOURCE", &source).run();
    let out = run.clean_of(&[&token]).ok();
    assert!(out.contains(&format!("Source         {source}")), "{out}");
    assert!(
        out.contains("VersionId      content-") && out.contains("2 at the top level"),
        "{out}"
    );
    let js = cli(&["describe", "--json"])
        .env("STARFLEET_SECRET_SOURCE", &source)
        .run();
    let v = js.clean_of(&[&token]).json();
    assert_eq!((v["source"].clone(), v["keys"].clone()), (json!(source), json!(2)));
    let flag = cli(&["--source", &source, "describe"]).run();
    assert!(
        flag.clean_of(&[&token])
            .ok()
            .contains(&format!("Source         {source}")),
        "{flag:?}"
    );
    let keys = cli(&["keys"]).env("STARFLEET_SECRET_SOURCE", &source).run();
    assert_eq!(keys.status, 1, "{keys:?}");
    assert!(keys.stderr.contains("Secrets Manager only"), "{keys:?}");
}

#[test]
fn diff_after_rotation_style_updates() {
    let name = unique("diff");
    let (c1, c2, c3) = (canary("one"), canary("two"), canary("three"));
    let v1 = create(
        &name,
        &json!({"STARFLEET": {"SlackToken": c1}, "Old": {"k": c1}, "Same": {"k": "s"}}),
    );
    let v2 = rotate(
        &name,
        &json!({"STARFLEET": {"SlackToken": c2}, "New": {"k": c2}, "Same": {"k": "s"}}),
    );
    let all = [c1.as_str(), c2.as_str(), c3.as_str()];

    let run = on(&name, &["diff"]).run();
    let out = run.clean_of(&all).ok();
    assert!(out.contains(&v1) && out.contains(&v2), "{out}");
    assert!(
        out.contains("+ New.k") && out.contains("- Old.k") && out.contains("~ STARFLEET.SlackToken"),
        "{out}"
    );
    assert!(!out.contains("Same"), "{out}");
    assert!(out.contains("3 key path(s): 1 added, 1 removed, 1 changed"), "{out}");

    let js = on(
        &name,
        &["--json", "diff", "--from-version-id", &v1, "--to-version-id", &v2],
    )
    .run();
    let v = js.clean_of(&all).json();
    assert_eq!(
        v["added"],
        json!([{"path": "New.k", "change": "added", "after": {"type": "string", "length": c2.len()}}])
    );
    assert_eq!(v["removed"][0]["path"], "Old.k");
    assert_eq!(v["changed"][0]["path"], "STARFLEET.SlackToken");
    assert_eq!(v["from"]["version_id"], json!(v1));

    // A second rotation, then an operator edit: AWSPREVIOUS follows each time.
    let v3 = rotate(
        &name,
        &json!({"STARFLEET": {"SlackToken": c3}, "New": {"k": c2}, "Same": {"k": "s"}}),
    );
    let run = on(&name, &["diff"]).run();
    let out = run.clean_of(&all).ok();
    assert!(
        out.contains(&v2) && out.contains(&v3) && out.contains("1 key path(s): 0 added, 0 removed, 1 changed"),
        "{out}"
    );
    on(&name, &["set", "Same.k", "--value", &c1]).run().ok();
    let run = on(&name, &["diff"]).run();
    let out = run.clean_of(&all).ok();
    assert!(out.contains(&v3) && out.contains("~ Same.k"), "{out}");
    let older = on(&name, &["diff", "--from-version-id", &v1]).run();
    assert!(older.clean_of(&all).ok().contains("~ Same.k"), "{older:?}");

    assert!(on(&name, &["diff", "--from", "AWSCURRENT"])
        .run()
        .ok()
        .contains("no differences"));
    let run = on(&name, &["diff", "--from", "NOSUCHSTAGE"]).run();
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("SECRET_NOT_FOUND"), "{run:?}");
}

#[test]
fn policy_is_least_privilege_on_the_exact_arn_or_the_name_wildcard() {
    let name = unique("policy");
    let token = canary("pol");
    create(&name, &json!({"STARFLEET": {"SlackToken": token}}));
    let arn = ok("DescribeSecret", json!({"SecretId": name}))["ARN"]
        .as_str()
        .unwrap()
        .to_owned();

    let run = on(&name, &["policy"]).run();
    let policy: Value = serde_json::from_str(run.clean_of(&[&token]).ok()).unwrap();
    assert!(
        run.stdout.trim_start().starts_with("{\n  \"Version\": \"2012-10-17\""),
        "{run:?}"
    );
    assert_eq!(
        policy["Statement"],
        json!([{"Sid": "ReadStarfleetSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}])
    );

    let run = on(&name, &["policy", "--no-lookup", "--account-id", "123456789012"]).run();
    let policy: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        json!(format!(
            "arn:aws:secretsmanager:us-east-2:123456789012:secret:{name}-??????"
        ))
    );
    assert!(
        run.stderr.contains("six-character suffix wildcard"),
        "notes go to stderr: {run:?}"
    );

    // Only the name known because the lookup fails: the wildcard, and a note why.
    let absent = unique("absent");
    let run = on(&absent, &["--json", "policy"]).run();
    let v = run.json();
    assert_eq!(v["exact_arn"], false);
    assert_eq!(
        v["secret_resource"],
        json!(format!("arn:aws:secretsmanager:us-east-2:*:secret:{absent}-??????"))
    );
    assert!(v["notes"].to_string().contains("SECRET_NOT_FOUND"), "{v}");

    // An ARN secret id is exact without a lookup.
    let run = cli(&["--secret-id", &arn, "policy", "--no-lookup"]).run();
    let policy: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(policy["Statement"][0]["Resource"], json!(arn));

    // With fallback regions, a note names the replica ARNs the workers also read.
    let run = cli(&["--secret-id", &arn, "--json", "policy", "--no-lookup"])
        .env("STARFLEET_SECRET_FALLBACK_REGIONS", "us-west-2")
        .run();
    let replica = arn.replace(":us-east-2:", ":us-west-2:");
    assert!(run.json()["notes"].to_string().contains(&replica), "{run:?}");

    // A customer managed key adds kms:Decrypt through Secrets Manager only.
    let cmk = unique("cmk");
    on(
        &cmk,
        &[
            "init",
            "--kms-key-id",
            "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab",
        ],
    )
    .run()
    .ok();
    let run = on(&cmk, &["policy"]).run();
    let policy: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(
        policy["Statement"][1],
        json!({
            "Sid": "DecryptStarfleetSecret", "Effect": "Allow", "Action": "kms:Decrypt",
            "Resource": "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab",
            "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-2.amazonaws.com"}}
        })
    );
    assert!(run.stderr.contains("customer managed KMS key"), "{run:?}");
}

/// Write a vector's `config` the way tests/vectors/README.md says; returns the path.
fn materialize(config: &Value, dir: &Path) -> PathBuf {
    let fill = |text: &str| text.replace("$secret", "VectorSecret");
    if let Some(text) = config.get("file") {
        let file = dir.join("starfleet.yaml");
        std::fs::write(&file, fill(text.as_str().unwrap())).unwrap();
        file
    } else if let Some(files) = config.get("files") {
        let sub = dir.join("config");
        std::fs::create_dir_all(&sub).unwrap();
        for (name, text) in files.as_object().unwrap() {
            std::fs::write(sub.join(name), fill(text.as_str().unwrap())).unwrap();
        }
        sub
    } else {
        assert_eq!(config["missing"], true, "{config}");
        dir.join("does-not-exist")
    }
}

#[test]
fn check_config_over_the_conformance_vectors() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/config");
    let mut invalid = 0;
    let mut valid = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&vectors)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for file in names.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let vector: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let Some(config) = vector.get("config") else { continue };
        let dir = temp_dir("vector");
        let path = materialize(config, &dir);
        let path_text = path.to_str().unwrap();
        let via_env = vector.get("config_via") == Some(&json!("env"));
        let run = if via_env {
            cli(&["check-config"]).env("STARFLEET_CONFIG", &path).run()
        } else {
            cli(&["check-config", path_text]).run()
        };
        let expect = &vector["expect"];
        if expect["error"] == "CONFIG_INVALID" {
            invalid += 1;
            assert_eq!(run.status, 1, "{}: {run:?}", file.display());
            for needle in expect["message_contains"].as_array().into_iter().flatten() {
                let needle = needle.as_str().unwrap();
                assert!(
                    run.stdout.contains(needle),
                    "{}: {needle:?} not in {run:?}",
                    file.display()
                );
            }
            for needle in expect["message_excludes"].as_array().into_iter().flatten() {
                assert!(
                    !run.stdout.contains(needle.as_str().unwrap()),
                    "{}: {run:?}",
                    file.display()
                );
            }
            assert!(
                run.stderr.contains("CONFIG_INVALID") && run.stderr.contains("problem"),
                "{run:?}"
            );
            let js = cli(&["--json", "check-config", path_text]).run();
            assert_eq!(js.status, 1);
            let v = js.json();
            assert_eq!(v["valid"], false);
            assert!(!v["problems"].as_array().unwrap().is_empty());
        } else {
            valid += 1;
            assert_eq!(run.status, 0, "{}: a valid configuration: {run:?}", file.display());
            assert!(run.stdout.starts_with("ok: "), "{run:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    assert!(
        invalid >= 20 && valid >= 5,
        "vectors found: {invalid} invalid, {valid} valid"
    );
}

#[test]
fn check_config_prints_every_problem_with_file_key_path_and_line() {
    let dir = temp_dir("problems");
    std::fs::write(dir.join("00-broken.yaml"), "A: 1\nB: [\n").unwrap();
    std::fs::write(
        dir.join("10-starfleet.yaml"),
        "# Starfleet\nSTARFLEET:\n  SlackEnabled: yes please\n  SecretsManager:\n    SecretId: 12\n    SecretRegion: Ohio\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "ignored: [").unwrap();
    let run = cli(&["check-config", dir.to_str().unwrap()]).run();
    assert_eq!(run.status, 1, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{run:?}");
    let d = dir.display();
    assert!(
        lines[0].starts_with(&format!("{d}/00-broken.yaml:3: malformed YAML")),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        format!("{d}/10-starfleet.yaml:3: STARFLEET.SlackEnabled: must be true or false, found a string")
    );
    assert_eq!(
        lines[2],
        format!("{d}/10-starfleet.yaml:5: STARFLEET.SecretsManager.SecretId: must be a string, found a number")
    );
    assert!(
        lines[3].starts_with(&format!(
            "{d}/10-starfleet.yaml:6: STARFLEET.SecretsManager.SecretRegion: \"Ohio\" is not an AWS region"
        )),
        "{lines:?}"
    );
    assert!(run.stderr.contains("4 problems"), "{run:?}");

    let js = cli(&["--json", "check-config", "--config", dir.to_str().unwrap()]).run();
    let v = js.json();
    assert_eq!(v["problems"][2]["line"], 5);
    assert_eq!(v["problems"][2]["key_path"], "STARFLEET.SecretsManager.SecretId");

    // A valid one says what it configures.
    let good = temp_dir("good");
    std::fs::write(
        good.join("s.yml"),
        "STARFLEET:\n  SecretsManager:\n    SecretId: Starfleet\n    SecretRegion: us-east-2\n",
    )
    .unwrap();
    let run = cli(&["check-config", good.to_str().unwrap()]).run();
    assert!(run.ok().contains("secret Starfleet in us-east-2"), "{run:?}");
}

#[test]
fn the_secret_is_located_like_the_sdks_do() {
    let name = unique("locate");
    create(&name, &json!({"STARFLEET": {"SlackToken": "located"}}));
    let dir = temp_dir("locate");
    std::fs::write(
        dir.join("00-starfleet.yaml"),
        format!("STARFLEET:\n  SecretsManager:\n    SecretId: {name}\n    SecretRegion: {REGION}\n"),
    )
    .unwrap();
    let get = ["get", "STARFLEET.SlackToken"];
    // From the configuration, by argument or environment.
    let mut args = vec!["--config", dir.to_str().unwrap()];
    args.extend(get);
    assert_eq!(cli(&args).run().ok(), "located\n");
    assert_eq!(cli(&get).env("STARFLEET_CONFIG", &dir).run().ok(), "located\n");
    // From the environment alone (region from AWS_REGION, as in Lambda).
    assert_eq!(
        cli(&get)
            .env("STARFLEET_SECRET_ID", &name)
            .env("AWS_REGION", REGION)
            .run()
            .ok(),
        "located\n"
    );
    // Environment beats the configuration, arguments beat the environment.
    let run = cli(&get)
        .env("STARFLEET_CONFIG", &dir)
        .env("STARFLEET_SECRET_ID", "EnvSecret")
        .run();
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("EnvSecret"), "{run:?}");
    let mut args = vec!["--secret-id", name.as_str()];
    args.extend(get);
    assert_eq!(
        cli(&args)
            .env("STARFLEET_CONFIG", &dir)
            .env("STARFLEET_SECRET_ID", "EnvSecret")
            .run()
            .ok(),
        "located\n"
    );
    // Options work after the command name too.
    assert_eq!(
        cli(&["get", "STARFLEET.SlackToken", "--config", dir.to_str().unwrap()])
            .run()
            .ok(),
        "located\n"
    );
    // Nowhere: CONFIG_MISSING naming the places looked at, with a hint.
    let run = cli(&["keys"]).run();
    assert_eq!(run.status, 1, "{run:?}");
    assert!(
        run.stderr.contains("CONFIG_MISSING")
            && run.stderr.contains("STARFLEET_CONFIG")
            && run.stderr.contains("hint:"),
        "{run:?}"
    );
    // A broken configuration: CONFIG_INVALID.
    std::fs::write(
        dir.join("10-bad.yaml"),
        "STARFLEET:\n  SecretsManager:\n    SecretId: x\n    SecretRegion: Ohio\n",
    )
    .unwrap();
    let run = cli(&["keys"]).env("STARFLEET_CONFIG", &dir).run();
    assert_eq!(run.status, 1, "{run:?}");
    assert!(
        run.stderr.contains("CONFIG_INVALID") && run.stderr.contains("SecretRegion"),
        "{run:?}"
    );
    let js = cli(&["keys", "--json"]).env("STARFLEET_CONFIG", &dir).run();
    let err: Value = serde_json::from_str(js.stderr.trim()).unwrap();
    assert_eq!(err["error"]["code"], "CONFIG_INVALID");
    assert!(js.stdout.is_empty());
}

#[test]
fn colour_only_when_forced_or_on_a_terminal_and_never_with_no_color() {
    let name = unique("color");
    create(&name, &starfleet_doc("t"));
    let esc = "\x1b[";
    let plain = on(&name, &["keys"]).run();
    assert!(!plain.ok().contains(esc), "not a terminal: no colour: {plain:?}");
    let forced = on(&name, &["keys"]).env("CLICOLOR_FORCE", "1").run();
    assert!(forced.ok().contains(esc), "CLICOLOR_FORCE colours: {forced:?}");
    let no = on(&name, &["keys"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .run();
    assert!(!no.ok().contains(esc), "NO_COLOR wins: {no:?}");
    assert_eq!(no.stdout, plain.stdout);

    let err = on(&name, &["get", "Nope"]).env("CLICOLOR_FORCE", "1").run();
    assert!(err.stderr.contains(esc), "{err:?}");
    let err = on(&name, &["get", "Nope"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .run();
    assert!(!err.stderr.contains(esc), "{err:?}");
    let help = cli(&["keys", "--help"]).env("CLICOLOR_FORCE", "1").run();
    assert!(help.ok().contains(esc), "{help:?}");
    let help = cli(&["keys", "--help"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .run();
    assert!(!help.ok().contains(esc), "{help:?}");
    let usage = cli(&["keys", "--bogus"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .run();
    assert_eq!(usage.status, 2);
    assert!(!usage.stderr.contains(esc), "{usage:?}");
}

#[test]
fn a_canary_value_never_appears_outside_get() {
    let name = unique("canary");
    let (c1, c2, c3) = (canary("a"), canary("b"), canary("c"));
    let all = [c1.as_str(), c2.as_str(), c3.as_str()];
    create(
        &name,
        &json!({"STARFLEET": {"SlackToken": c1}, "W": {"key": c1, "list": [c1]}}),
    );
    on(&name, &["set", "STARFLEET.SlackToken", "--stdin"])
        .stdin(c2.clone())
        .run()
        .clean_of(&all)
        .ok();
    // The positive control: the canary is really in there and `get` (asked) prints it.
    assert!(on(&name, &["get", "STARFLEET.SlackToken"]).run().ok().contains(&c2));
    let runs: Vec<Vec<String>> = vec![
        vec!["keys".into()],
        vec!["keys".into(), "--json".into()],
        vec![
            "keys".into(),
            "--flat".into(),
            "--version-stage".into(),
            "AWSPREVIOUS".into(),
        ],
        vec!["describe".into()],
        vec!["describe".into(), "--json".into()],
        vec!["diff".into()],
        vec!["diff".into(), "--json".into()],
        vec!["policy".into()],
        vec!["policy".into(), "--json".into()],
        vec![
            "set".into(),
            "STARFLEET.SlackToken".into(),
            "--value".into(),
            c3.clone(),
            "--dry-run".into(),
        ],
        vec![
            "--json".into(),
            "set".into(),
            "W.key".into(),
            "--value".into(),
            c3.clone(),
            "--dry-run".into(),
        ],
        vec!["rm".into(), "W".into(), "-r".into(), "--dry-run".into()],
        vec!["set".into(), "W.other".into(), "--value".into(), c3.clone()],
        vec!["set".into(), "W".into(), "--value".into(), c3.clone()],
        vec!["set".into(), "W.key.deeper".into(), "--value".into(), c3.clone()],
        vec![
            "set".into(),
            "W.x".into(),
            "--value".into(),
            format!("{{\"{c3}\": "),
            "--json-value".into(),
        ],
        vec!["get".into(), "W.key.deeper".into()],
        vec!["get".into(), "W".into()],
        vec!["get".into(), "W.list".into()],
        vec!["rm".into(), "W.key.deeper".into()],
        vec!["--json".into(), "get".into(), "W.nope".into()],
        vec![
            "set".into(),
            "W.key".into(),
            "--value".into(),
            c3.clone(),
            "--unknown".into(),
        ],
    ];
    for args in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        on(&name, &args).run().clean_of(&all);
    }
}

#[test]
fn a_usage_error_still_says_what_was_wrong_without_the_typed_text() {
    let secret = canary("stray");
    let run = cli(&["set", "A.B", &secret]).run();
    assert_eq!(run.status, 2, "{run:?}");
    run.clean_of(&[&secret]);
    assert!(
        run.stderr.contains("unexpected argument") && run.stderr.contains("--value"),
        "names the problem and where a value goes: {run:?}"
    );
    assert!(run.stderr.contains("Usage: starfleet-secrets set"), "{run:?}");
    // A misspelt option still gets clap's suggestion (drawn from the valid names).
    let run = cli(&["keys", "--flta"]).run();
    assert_eq!(run.status, 2, "{run:?}");
    assert!(
        run.stderr.contains("--flat") && !run.stderr.contains("--flta"),
        "{run:?}"
    );
    // Missing arguments are named from the definition.
    let run = cli(&["set", "A.B"]).run();
    assert!(
        run.stderr.contains("--value") && run.stderr.contains("--stdin"),
        "{run:?}"
    );
}

#[test]
fn value_input_debug_is_redacted() {
    use clap::Parser;
    let secret = canary("debug");
    let parsed =
        starfleet_secrets_cli::Cli::try_parse_from(["starfleet-secrets", "set", "A.B", "--value", &secret]).unwrap();
    let shown = format!("{parsed:?}");
    assert!(!shown.contains(&secret), "{shown}");
    assert!(
        shown.contains("ValueInput") && shown.contains(&format!("<redacted, {} bytes>", secret.len())),
        "{shown}"
    );
}

#[test]
fn set_stdin_refuses_more_than_the_secrets_manager_limit_without_reading_it_all() {
    use std::io::Write;
    let name = unique("stdin-bound");
    create(&name, &json!({"STARFLEET": {}}));
    // An endless input (`yes | starfleet-secrets set ... --stdin`): the tool must stop after
    // 64 KiB and refuse, not buffer until memory runs out.
    let mut child = on(&name, &["set", "A.B", "--stdin"]).spawn_with_stdin(std::process::Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let chunk = vec![b'y'; 64 * 1024];
    let mut written = 0usize;
    let broke = loop {
        match stdin.write_all(&chunk) {
            Ok(()) => written += chunk.len(),
            Err(e) => break e.kind() == std::io::ErrorKind::BrokenPipe,
        }
        if written >= 256 * 1024 * 1024 {
            break false;
        }
    };
    drop(stdin);
    let run = wait(child);
    assert!(broke, "the tool read {written} bytes of standard input");
    assert_eq!(run.status, 1, "{run:?}");
    assert!(
        run.stderr.contains("INVALID_ARGUMENT") && run.stderr.contains("longer than 65536 bytes"),
        "{run:?}"
    );
    assert_eq!(count(&name, "PutSecretValue"), 0);
    // Exactly at the limit is read (then refused as a document too large to store).
    let run = on(&name, &["set", "A.B", "--stdin"]).stdin(vec![b'y'; 65_536]).run();
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stderr.contains("the edited document would be"), "{run:?}");
}

/// A pseudo-terminal: (master, path of the slave).
fn pty() -> (std::fs::File, PathBuf) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain libc calls on a descriptor we own; ptsname_r gets a buffer of its size.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let path = std::ffi::CStr::from_ptr(name.as_ptr()).to_str().unwrap().to_owned();
        (std::fs::File::from_raw_fd(master), PathBuf::from(path))
    }
}

#[test]
fn set_stdin_typed_on_a_terminal_is_not_echoed() {
    use std::io::{BufRead, Read, Write};
    use std::os::fd::AsRawFd;
    let name = unique("tty");
    create(&name, &json!({"STARFLEET": {}}));
    let token = canary("typed");
    let (mut master, slave_path) = pty();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave_path)
        .unwrap();
    let mut child = on(&name, &["set", "STARFLEET.SlackToken", "--stdin"]).spawn_with_stdin(slave.try_clone().unwrap());
    // Type only once the prompt is shown (echo is off by then).
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut prompt = String::new();
    stderr.read_line(&mut prompt).unwrap();
    assert!(prompt.contains("not shown"), "{prompt:?}");
    master.write_all(format!("{token}\n\x04").as_bytes()).unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(status.success(), "{status:?}: {rest} {stdout}");
    assert_eq!(document(&name, "AWSCURRENT")["STARFLEET"]["SlackToken"], token.as_str());
    // What the terminal showed: nothing of the value.
    // SAFETY: fcntl on our own descriptor.
    unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    let mut screen = Vec::new();
    let _ = master.read_to_end(&mut screen);
    let screen = String::from_utf8_lossy(&screen);
    assert!(!screen.contains(&token), "the value was echoed: {screen:?}");
    // And the terminal has its echo back.
    // SAFETY: tcgetattr into a zeroed termios.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(slave.as_raw_fd(), &mut t) }, 0);
    assert!(t.c_lflag & libc::ECHO != 0, "echo restored");
}

#[test]
fn a_write_whose_outcome_cannot_be_checked_is_reported_as_unknown() {
    let name = unique("unknown");
    let v0 = create(&name, &json!({"STARFLEET": {"SlackToken": "t"}}));
    // The move to AWSCURRENT fails, then so does the check of where AWSCURRENT is.
    fault(&name, "PutSecretValue", "delay", 1, json!({"delay_ms": 1500}));
    fault(
        &name,
        "UpdateSecretVersionStage",
        "error",
        1,
        json!({"status": 400, "code": "InvalidRequestException", "message": "injected"}),
    );
    let child = on(&name, &["set", "Mine.key", "--value", "mine"]).spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(&name, "PutSecretValue") == 0 {
        assert!(Instant::now() < deadline, "the tool never reached PutSecretValue");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The re-check before writing is done: from now on DescribeSecret fails.
    fault(
        &name,
        "DescribeSecret",
        "error",
        0,
        json!({"status": 400, "code": "AccessDeniedException", "message": "injected"}),
    );
    let run = wait(child);
    clear_faults(&name);
    assert_eq!(run.status, 4, "{run:?}");
    assert!(
        run.stderr.contains("OUTCOME_UNKNOWN") && run.stderr.contains("may or may not be current"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("Nothing was written"), "{run:?}");
    assert!(run.stderr.contains("starfleet-secrets describe"), "{run:?}");
    assert_eq!(current_version(&name), v0, "(here the move really failed)");
}

#[test]
fn an_alias_expansion_bomb_is_refused_in_bounded_memory() {
    // Alias expansion is budgeted: one 400 KB anchored scalar and many aliases, under 1 MiB of YAML,
    // used to expand to 600 MB (1,500 aliases) or ~60 GB (150,000). Run under an address
    // space limit so a regression fails here instead of exhausting the machine.
    let dir = temp_dir("yaml-bomb");
    let big = "x".repeat(400_000);
    for aliases in [1_500usize, 150_000] {
        let mut yaml = format!("anchor: &a {big}\ncopies: [");
        yaml.push_str(&vec!["*a"; aliases].join(","));
        yaml.push_str("]\nSTARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: us-east-2\n");
        assert!(yaml.len() < 1024 * 1024, "{} bytes", yaml.len());
        let file = dir.join(format!("bomb-{aliases}.yaml"));
        std::fs::write(&file, &yaml).unwrap();
        let started = Instant::now();
        let (run, peak_kib) =
            cli(&["check-config", file.to_str().unwrap()]).run_limited(&[(libc::RLIMIT_AS, 1024 * 1024 * 1024)]);
        assert_eq!(run.status, 1, "{aliases} aliases: {run:?}");
        assert!(
            run.stdout.contains(&format!(
                "bomb-{aliases}.yaml:2: too large once its aliases are expanded"
            )),
            "{aliases} aliases: {run:?}"
        );
        assert!(
            peak_kib < 64 * 1024,
            "{aliases} aliases: peak RSS {peak_kib} KiB (limit 64 MiB)"
        );
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

#[test]
fn empty_version_selectors_are_refused_with_the_core_rule() {
    // The CLI selects versions with the core's rule, which refuses empty ones
    // before any call; the CLI's own copy used to send them.
    for args in [
        vec!["get", "A", "--version-stage", ""],
        vec!["keys", "--version-id", " "],
        vec!["diff", "--from", ""],
    ] {
        let run = on("never-called", &args).run();
        assert_eq!(run.status, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("INVALID_ARGUMENT") && run.stderr.contains("is empty"),
            "{args:?}: {run:?}"
        );
    }
}
