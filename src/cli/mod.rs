//! The command-line interface: the argument tree (clap) and one handler
//! module per command group. Handlers print results to stdout and everything
//! else to stderr, and return the exit code; `main.rs` only maps errors.

mod admin;
mod cases;
mod classify;
mod outbox;
mod output;
mod rules;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{ConfigError, ServeArgs, SettingsArgs};

/// Decides who should own a customer's support case and carries the case to the end.
#[derive(Debug, Parser)]
#[command(name = "escalator", version, about, propagate_version = true)]
pub struct Cli {
    /// Settings shared by every command.
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only complicate clap's derive"
)]
pub enum Command {
    /// Run the HTTP API and the background workers (email outbox, deadlines).
    Serve(ServeArgs),
    /// Apply pending database migrations (safe to run any number of times).
    Migrate,
    /// Classify cases without storing anything.
    Classify(ClassifyArgs),
    /// Check, test, format and benchmark the policy.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Register partner desks and set their capabilities.
    #[command(subcommand)]
    Partners(PartnersCommand),
    /// Create API tokens for 21Vianet's desk and administrators.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Inspect stored cases.
    #[command(subcommand)]
    Cases(CasesCommand),
    /// Inspect and retry outgoing emails.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

/// Output format of `classify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// One outcome object per line.
    Json,
}

/// Format of diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// `FILE:LINE:COL: error: …` with the source line and a caret.
    Text,
    /// A JSON array of diagnostics.
    Json,
}

/// `escalator classify`.
#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// A JSON file with the partner's capabilities (`{"id", "training", "documentation", "tooling"}`).
    #[arg(long, value_name = "FILE")]
    pub partner: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Format of policy diagnostics.
    #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
    pub error_format: ErrorFormat,
    /// Case files (a JSON object, an array, or JSON lines); `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `escalator rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load and check the policy.
    Check {
        /// Format of diagnostics.
        #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
        error_format: ErrorFormat,
    },
    /// Run the policy's test cases (`DIR/tests/*.json`).
    Test {
        /// List the rules and requirements that no test matched.
        #[arg(long)]
        coverage: bool,
        /// Format of policy diagnostics.
        #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
        error_format: ErrorFormat,
    },
    /// Classify the cases in FILE repeatedly and print cases per second.
    Bench {
        /// Cases to classify (a JSON object, an array, or JSON lines).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Rewrite the policy files in the canonical layout.
    Fmt {
        /// Change nothing; exit 1 and name the files that would change.
        #[arg(long)]
        check: bool,
    },
}

/// `escalator partners …`.
#[derive(Debug, Subcommand)]
pub enum PartnersCommand {
    /// Register a partner desk; prints its API token once.
    Add {
        /// The partner's id (used in `partner.id` and in case ids' scope).
        #[arg(long)]
        id: String,
        /// The partner's display name.
        #[arg(long)]
        name: String,
        /// The partner desk's email address.
        #[arg(long)]
        email: String,
        /// Capabilities of the partner.
        #[command(flatten)]
        capabilities: CapabilityArgs,
    },
    /// Replace a partner's capabilities.
    Set {
        /// The partner's id.
        #[arg(long)]
        id: String,
        /// Capabilities of the partner.
        #[command(flatten)]
        capabilities: CapabilityArgs,
    },
    /// List registered partners.
    List,
}

/// Capability flags, each repeatable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CapabilityArgs {
    /// Training the partner has (repeatable).
    #[arg(long = "training", value_name = "ITEM")]
    pub training: Vec<String>,
    /// Documentation the partner has (repeatable).
    #[arg(long = "documentation", value_name = "ITEM")]
    pub documentation: Vec<String>,
    /// Support tools the partner has (repeatable).
    #[arg(long = "tooling", value_name = "ITEM")]
    pub tooling: Vec<String>,
}

/// Roles a non-partner token may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRole {
    /// 21Vianet's escalation desk.
    Vianet,
    /// An administrator.
    Admin,
}

/// `escalator tokens …`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token; prints it once.
    Add {
        /// The token's role.
        #[arg(long, value_enum)]
        role: TokenRole,
        /// Who the token is for.
        #[arg(long)]
        name: String,
    },
}

/// `escalator cases …`.
#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// List cases, newest first.
    List {
        /// Only cases in this stage.
        #[arg(long)]
        stage: Option<String>,
        /// Only this partner's cases.
        #[arg(long)]
        partner: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Start after this position: the `next_cursor` of the page before.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one case as JSON.
    Show {
        /// The case id (`c_…`).
        id: String,
    },
    /// Show a case's history.
    Events {
        /// The case id (`c_…`).
        id: String,
    },
}

/// `escalator outbox …`.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List outgoing emails.
    List {
        /// Only rows with this status (`pending`, `sent`, `failed`).
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue a failed email for another attempt.
    Retry {
        /// The outbox row's id.
        id: String,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line itself is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Something the user must fix: bad input, bad rules, failed tests (exit 1).
    #[error("{0}")]
    Failure(String),
    /// The configuration could not be resolved (exit 1).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database refused or failed (exit 1).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A file could not be read or written (exit 1).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let settings = cli.settings;
    match cli.command {
        Command::Serve(serve) => serve::run(&settings, &serve).await,
        Command::Migrate => admin::migrate(&settings).await,
        Command::Classify(args) => classify::run(&settings, &args),
        Command::Rules(command) => rules::run(&settings, command),
        Command::Partners(command) => admin::partners(&settings, command).await,
        Command::Tokens(command) => admin::tokens(&settings, command).await,
        Command::Cases(command) => cases::run(&settings, command).await,
        Command::Outbox(command) => outbox::run(&settings, command).await,
    }
}
