//! `starfleet-secrets`: the operator's command line for the one Starfleet secret.
//!
//! Every Starfleet worker reads one JSON document from AWS Secrets Manager. Editing it in the
//! console is how a stray comma breaks every worker and a careless save wipes another
//! worker's keys. This tool edits it safely, on the same core as the SDKs:
//!
//! * the secret is located exactly as the SDKs locate it (`--secret-id`/`--region`/`--config`,
//!   then `STARFLEET_SECRET_ID`/`STARFLEET_SECRET_REGION`/`STARFLEET_CONFIG`, then the Starfleet
//!   configuration), by the core's `settings::resolve`;
//! * the AWS client is the core's (`source::sdk_client`): same endpoint variables, credential
//!   chain, deadline and retries;
//! * writes are optimistic: a document is written only if the version it was edited from is
//!   still current, checked before writing and enforced atomically by the service (see
//!   [`aws::Target::write`]);
//! * values are never printed unless asked for (`get`): everything else shows key paths, types
//!   and lengths.
//!
//! The whole tool is [`run`], so the binary and the Python console script are the same code.

mod aws;
mod check;
mod edit;
mod output;
mod policy;
mod read;
mod terminal;
mod write;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Success.
pub const EXIT_OK: i32 = 0;
/// A user or data error: the secret or a key is missing, AWS refused, a value or a
/// configuration is invalid, `check-config` found problems.
pub const EXIT_ERROR: i32 = 1;
/// A usage error: unknown option, missing argument (clap's own exit code).
pub const EXIT_USAGE: i32 = 2;
/// `set`/`rm` refused because the secret changed since it was read: nothing was written,
/// running the command again applies the edit to the new version.
pub const EXIT_CONFLICT: i32 = 3;
/// `set`/`rm` cannot tell whether its write took effect: the new version was created, making
/// it current failed, and the check of which version is current failed too. Look before
/// running it again (`starfleet-secrets describe`).
pub const EXIT_OUTCOME_UNKNOWN: i32 = 4;

const TOP_HELP: &str = "\
Examples:
  starfleet-secrets init --kms-key-id alias/starfleet --tag team=platform
  printf '%s' \"$SLACK_TOKEN\" | starfleet-secrets set STARFLEET.SlackToken --stdin
  starfleet-secrets keys
  starfleet-secrets policy > worker-policy.json
  starfleet-secrets --secret-id Starfleet --region us-east-2 describe
  starfleet-secrets check-config ./configuration

Which secret (the same rules as every Starfleet SDK):
  1. --secret-id / --region
  2. STARFLEET_SECRET_ID / STARFLEET_SECRET_REGION
  3. STARFLEET.SecretsManager in the Starfleet configuration named by --config or
     STARFLEET_CONFIG (a YAML file, or a directory of *.yaml/*.yml merged in name order)
  A region missing everywhere comes from an ARN secret id, then AWS_REGION/AWS_DEFAULT_REGION.

Exit status:
  0  success
  1  user or data error (not found, access denied, invalid value or configuration, ...)
  2  usage error (unknown option, missing argument)
  3  conflict: the secret changed while `set`/`rm` ran; nothing was written, run it again
  4  outcome unknown: `set`/`rm` could not tell whether its new version became current;
     check with `starfleet-secrets describe` before running it again

Values are printed only by `get`, and usage errors never repeat what was typed (a stray
word may be a value meant for --value). Colour is used on a terminal only; NO_COLOR turns it off,
CLICOLOR_FORCE=1 forces it.";

/// Operate the Starfleet secret in AWS Secrets Manager safely.
#[derive(Debug, Parser)]
#[command(
    name = "starfleet-secrets",
    bin_name = "starfleet-secrets",
    version,
    about = "Operate the Starfleet secret in AWS Secrets Manager safely",
    after_help = TOP_HELP,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (before or after the command name).
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Secret name or ARN [else STARFLEET_SECRET_ID, else the Starfleet configuration]
    #[arg(long, global = true, value_name = "NAME|ARN", help_heading = "Global options")]
    pub secret_id: Option<String>,
    /// AWS region of the secret [else STARFLEET_SECRET_REGION, the configuration, the ARN, AWS_REGION]
    #[arg(long, global = true, value_name = "REGION", help_heading = "Global options")]
    pub region: Option<String>,
    /// Starfleet configuration file or directory [else STARFLEET_CONFIG]
    #[arg(long, global = true, value_name = "PATH", help_heading = "Global options")]
    pub config: Option<PathBuf>,
    /// Where the secret is read from: secretsmanager, file:PATH, env:NAME or flyte:GROUP/KEY
    /// [else STARFLEET_SECRET_SOURCE, else the configuration's Source]
    #[arg(long, global = true, value_name = "SOURCE", help_heading = "Global options")]
    pub source: Option<String>,
    /// Machine-readable output: JSON on stdout, errors as JSON on stderr
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
}

/// Which version of the secret to read.
#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Read the version with this staging label [default: AWSCURRENT]
    #[arg(long, value_name = "STAGE", conflicts_with = "version_id")]
    pub version_stage: Option<String>,
    /// Read this exact VersionId
    #[arg(long, value_name = "ID")]
    pub version_id: Option<String>,
}

/// Where `set` takes the value from (exactly one). Its `Debug` shows lengths, not the value.
#[derive(Clone, Args)]
#[group(required = true, multiple = false)]
pub struct ValueInput {
    /// The value, on the command line (visible in shell history and `ps`: prefer --stdin)
    #[arg(long, value_name = "VALUE")]
    pub value: Option<String>,
    /// Read the value from this file, byte for byte (must be UTF-8 text)
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// Read the value from standard input (one trailing newline is dropped)
    #[arg(long, action = ArgAction::SetTrue)]
    pub stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the secret with {"STARFLEET": {}} if it does not exist (idempotent)
    #[command(after_help = "\
Examples:
  starfleet-secrets init
  starfleet-secrets --secret-id Starfleet --region us-east-2 init \\
      --kms-key-id arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab \\
      --tag team=platform --tag env=prod

An existing secret is never changed: its value, KMS key and tags stay as they are.")]
    Init {
        /// KMS key (ID, ARN or alias) to encrypt a new secret with [default: aws/secretsmanager]
        #[arg(long, value_name = "KEY")]
        kms_key_id: Option<String>,
        /// Tag a new secret (repeatable)
        #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
        tags: Vec<(String, String)>,
    },
    /// Show the tree of key paths; values are redacted to their type and length
    #[command(after_help = "\
Examples:
  starfleet-secrets keys
  starfleet-secrets keys --flat | grep GitHubSyncWorker
  starfleet-secrets keys --version-stage AWSPREVIOUS --json")]
    Keys {
        /// One full key path per line instead of a tree
        #[arg(long)]
        flat: bool,
        #[command(flatten)]
        version: VersionArgs,
    },
    /// Print one value (a whole subtree only with --json)
    #[command(after_help = "\
Examples:
  starfleet-secrets get STARFLEET.SlackToken
  starfleet-secrets get 'GitHubSyncWorker.my\\.org'     # a key containing a dot
  starfleet-secrets get GitHubSyncWorker --json          # a whole subtree, as JSON

A string is printed as its text, other values as JSON. Key paths are dotted; inside a key,
\\. is a literal dot and \\\\ a literal backslash.")]
    Get {
        /// Dotted key path, e.g. STARFLEET.SlackToken
        path: String,
        #[command(flatten)]
        version: VersionArgs,
    },
    /// Set one value and write a new version (refused if the secret changed meanwhile)
    #[command(after_help = "\
Examples:
  printf '%s' \"$TOKEN\" | starfleet-secrets set STARFLEET.SlackToken --stdin
  starfleet-secrets set GitHubSyncWorker.my-org --from-file my-org.pem
  starfleet-secrets set MyWorker.Retries --value 3 --json-value
  starfleet-secrets set MyWorker --value '{\"a\": \"b\"}' --json-value --replace --dry-run

The value is stored as a JSON string, exactly as given, unless --json-value says to parse
it as JSON (then it must be valid JSON, or nothing is written). Missing parent keys are
created. The rest of the document is kept as it is.

Safety: the document is read with its VersionId; just before writing, the current VersionId
is read again, and the new version is made current only if the one it was edited from is
still current (an atomic staging-label move). If anyone changed the secret in between,
nothing is written and the exit status is 3. The written document is checked to be a valid
JSON object within the 64 KiB Secrets Manager limit first.
Needs secretsmanager:GetSecretValue, DescribeSecret, PutSecretValue, UpdateSecretVersionStage.")]
    Set {
        /// Dotted key path to set, e.g. STARFLEET.SlackToken
        path: String,
        #[command(flatten)]
        input: ValueInput,
        /// Parse the value as JSON (a number, object, ...) instead of storing it as a string
        #[arg(long)]
        json_value: bool,
        /// Allow replacing a non-empty object (a whole subtree, e.g. a worker's keys)
        #[arg(long)]
        replace: bool,
        /// Show the key paths that would change (values redacted); write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove one key and write a new version (same safety as set)
    #[command(after_help = "\
Examples:
  starfleet-secrets rm GitHubSyncWorker.old-org --dry-run
  starfleet-secrets rm RetiredWorker --recursive

Removing a non-empty object needs --recursive. Same optimistic concurrency as set: exit
status 3 and nothing written if the secret changed since it was read.")]
    Rm {
        /// Dotted key path to remove
        path: String,
        /// Allow removing a non-empty object and everything under it
        #[arg(long, short = 'r')]
        recursive: bool,
        /// Show the key paths that would be removed; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Show the secret's metadata: ARN, KMS key, versions and stages, rotation, dates
    #[command(after_help = "\
Examples:
  starfleet-secrets describe
  starfleet-secrets describe --json | jq '.versions'

Never reads the value (DescribeSecret and ListSecretVersionIds only).")]
    Describe,
    /// Show the key paths added, removed and changed between two versions (redacted)
    #[command(after_help = "\
Examples:
  starfleet-secrets diff                                   # AWSPREVIOUS -> AWSCURRENT
  starfleet-secrets diff --from-version-id 1b4c... --to AWSCURRENT
  starfleet-secrets diff --from AWSCURRENT --to AWSPENDING --json")]
    Diff {
        /// Staging label of the old version
        #[arg(
            long,
            value_name = "STAGE",
            default_value = "AWSPREVIOUS",
            conflicts_with = "from_version_id"
        )]
        from: String,
        /// VersionId of the old version (instead of --from)
        #[arg(long, value_name = "ID")]
        from_version_id: Option<String>,
        /// Staging label of the new version
        #[arg(
            long,
            value_name = "STAGE",
            default_value = "AWSCURRENT",
            conflicts_with = "to_version_id"
        )]
        to: String,
        /// VersionId of the new version (instead of --to)
        #[arg(long, value_name = "ID")]
        to_version_id: Option<String>,
    },
    /// Print the least-privilege IAM policy a worker needs to read the secret
    #[command(after_help = "\
Examples:
  starfleet-secrets policy > starfleet-worker-policy.json
  starfleet-secrets policy --no-lookup --account-id 123456789012

The policy allows secretsmanager:GetSecretValue on the secret's exact ARN, looked up with
DescribeSecret. When only the name is known (--no-lookup, or the lookup fails) the resource
is the name with Secrets Manager's six-character suffix wildcard: NAME-??????. When the
secret is encrypted with a customer managed KMS key, kms:Decrypt on that key (through
Secrets Manager only) is added. The policy goes to stdout, notes to stderr.")]
    Policy {
        /// AWS account of the secret, for the name-only resource [default: *]
        #[arg(long, value_name = "ACCOUNT")]
        account_id: Option<String>,
        /// Do not call DescribeSecret: build the policy from the name (or ARN) alone
        #[arg(long)]
        no_lookup: bool,
    },
    /// Validate a Starfleet configuration file or directory and list every problem
    #[command(after_help = "\
Examples:
  starfleet-secrets check-config configuration/
  starfleet-secrets check-config configuration/starfleet.yaml --json

Prints every problem as FILE:LINE: KEY.PATH: what is wrong, and exits 1 if there is any.
Without PATH, checks --config or STARFLEET_CONFIG. Does not contact AWS.")]
    CheckConfig {
        /// Configuration file or directory [default: --config, else STARFLEET_CONFIG]
        path: Option<PathBuf>,
    },
}

impl Drop for ValueInput {
    fn drop(&mut self) {
        if let Some(v) = self.value.as_mut() {
            zeroize::Zeroize::zeroize(v);
        }
    }
}

impl std::fmt::Debug for ValueInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Redacted(usize);
        impl std::fmt::Debug for Redacted {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "<redacted, {} bytes>", self.0)
            }
        }
        f.debug_struct("ValueInput")
            .field("value", &self.value.as_ref().map(|v| Redacted(v.len())))
            .field("from_file", &self.from_file)
            .field("stdin", &self.stdin)
            .finish()
    }
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err("expected KEY=VALUE with a non-empty KEY".to_owned()),
    }
}

/// Why a command failed: printed to stderr (as JSON with `--json`), then its exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    /// A core error code (`SECRET_NOT_FOUND`, ...) or `CONFLICT` / `USAGE` / `PROBLEMS`.
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    pub exit: i32,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>, exit: i32) -> Failure {
        Failure {
            code,
            message: message.into(),
            hint: None,
            exit,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

impl From<starfleet_secrets::Error> for Failure {
    fn from(e: starfleet_secrets::Error) -> Failure {
        let hint = match e.code() {
            starfleet_secrets::Code::ConfigMissing => {
                Some("give --secret-id and --region, set STARFLEET_SECRET_ID, or point --config at the Starfleet configuration")
            }
            starfleet_secrets::Code::Credentials => {
                Some("sign in (e.g. `aws sso login`) or set AWS_PROFILE / AWS_ACCESS_KEY_ID")
            }
            _ => None,
        };
        Failure {
            code: e.code().as_str(),
            message: e.message().to_owned(),
            hint: hint.map(str::to_owned),
            exit: EXIT_ERROR,
        }
    }
}

/// Run the tool with `args` (the program name first, as in `std::env::args_os`) and return
/// the exit status. Never exits the process and never panics out, so a host (the Python
/// console script) can call it; output goes to the process's stdout and stderr.
pub fn run(args: Vec<OsString>) -> i32 {
    let stdout_style = output::Style::stdout();
    let stderr_style = output::Style::stderr();
    let color = if stdout_style.color {
        clap::ColorChoice::Always
    } else {
        clap::ColorChoice::Never
    };
    let mut command = Cli::command().color(color);
    let matches = match command.try_get_matches_from_mut(args) {
        Ok(m) => m,
        Err(e) => {
            // --help/--version (exit 0, stdout) and usage errors (exit 2, stderr).
            let e = without_typed_text(e, &command);
            let _ = e.print();
            return e.exit_code();
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return EXIT_USAGE;
        }
    };
    let json = cli.global.json;
    let mut ui = output::Ui::new(json, stdout_style, stderr_style);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(cli, &mut ui)));
    let result = match outcome {
        Ok(r) => r,
        Err(_) => Err(Failure::new(
            "INTERNAL",
            "internal error (a bug): the command panicked",
            EXIT_ERROR,
        )),
    };
    ui.flush();
    match result {
        Ok(()) => EXIT_OK,
        Err(f) => {
            ui.report(&f);
            f.exit
        }
    }
}

/// A usage error that repeats nothing the user typed. A word clap did not expect may be a
/// value meant for `--value` (`set A.B s3cr3t`), and clap would quote it (`unexpected
/// argument 's3cr3t'`) into terminals and CI logs. What clap knows from the command's own
/// definition stays: the usage line, the option that was wrong or missing, suggestions
/// drawn from the valid names.
fn without_typed_text(e: clap::Error, command: &clap::Command) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let kind = e.kind();
    if matches!(
        kind,
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return e;
    }
    let mut safe = clap::Error::new(kind).with_cmd(command);
    for (context, value) in e.context() {
        let from_definition = match context {
            // The argument in error, except for an unknown one: that is the typed text.
            ContextKind::InvalidArg => kind != ErrorKind::UnknownArgument,
            // An empty value ("a value is required for '--x' but none was supplied").
            ContextKind::InvalidValue => matches!(value, ContextValue::String(v) if v.is_empty()),
            ContextKind::PriorArg
            | ContextKind::ValidSubcommand
            | ContextKind::ValidValue
            | ContextKind::SuggestedSubcommand
            | ContextKind::SuggestedArg
            | ContextKind::SuggestedValue
            | ContextKind::ExpectedNumValues
            | ContextKind::MinValues
            | ContextKind::ActualNumValues
            | ContextKind::Usage => true,
            // A typed InvalidValue, InvalidSubcommand, TrailingArg, Suggested (tips that quote
            // the typed text), Custom, and any kind clap adds later.
            _ => false,
        };
        if from_definition {
            safe.insert(context, value.clone());
        }
    }
    let mut tips = Vec::new();
    // Our own validators' reasons (parse_tag) name the expected form, never the input.
    if let Some(reason) = std::error::Error::source(&e) {
        tips.push(reason.to_string().into());
    }
    if matches!(
        kind,
        ErrorKind::UnknownArgument
            | ErrorKind::InvalidSubcommand
            | ErrorKind::InvalidValue
            | ErrorKind::ValueValidation
    ) {
        tips.push(
            "what was typed is not repeated here (it may be a secret value); `set` takes its value from --value, --from-file or --stdin".into(),
        );
    }
    if !tips.is_empty() {
        safe.insert(ContextKind::Suggested, ContextValue::StyledStrs(tips));
    }
    safe
}

fn dispatch(cli: Cli, ui: &mut output::Ui) -> Result<(), Failure> {
    let g = &cli.global;
    match cli.command {
        Command::CheckConfig { path } => check::check_config(g, path, ui),
        Command::Init { kms_key_id, tags } => write::init(g, kms_key_id, tags, ui),
        Command::Keys { flat, version } => read::keys(g, flat, &version, ui),
        Command::Get { path, version } => read::get(g, &path, &version, ui),
        Command::Set {
            path,
            input,
            json_value,
            replace,
            dry_run,
        } => write::set(g, &path, &input, json_value, replace, dry_run, ui),
        Command::Rm {
            path,
            recursive,
            dry_run,
        } => write::rm(g, &path, recursive, dry_run, ui),
        Command::Describe => read::describe(g, ui),
        Command::Diff {
            from,
            from_version_id,
            to,
            to_version_id,
        } => read::diff(g, (from, from_version_id), (to, to_version_id), ui),
        Command::Policy { account_id, no_lookup } => policy::policy(g, account_id, no_lookup, ui),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tags_parse() {
        assert_eq!(parse_tag("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(parse_tag("a=").unwrap(), ("a".into(), "".into()));
        assert!(parse_tag("=b").is_err() && parse_tag("ab").is_err());
    }
}
