//! The settings as clap reads them from flags and `ESCALATOR_*` variables;
//! `None` falls through to `escalator.toml` and then to the default.

use std::path::PathBuf;

/// The settings as given on the command line or in the environment; `None`
/// falls through to the file and then to the default.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SettingsArgs {
    /// Configuration file (read when present).
    #[arg(
        long = "config",
        env = "ESCALATOR_CONFIG",
        global = true,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Database URL: `sqlite://FILE` (default `sqlite://escalator.db`) or `postgres://…`.
    #[arg(
        long = "database",
        env = "ESCALATOR_DATABASE_URL",
        global = true,
        value_name = "URL"
    )]
    pub database: Option<String>,
    /// Policy directory (default `rules`).
    #[arg(
        long = "rules",
        env = "ESCALATOR_RULES",
        global = true,
        value_name = "DIR"
    )]
    pub rules: Option<PathBuf>,
}

/// Settings that only `serve` uses.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Listen address (default `127.0.0.1:8080`).
    #[arg(long, env = "ESCALATOR_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// SMTP URL (`smtp://host:port`, `smtps://…`, `smtp://…?tls=required`); unset: `.eml` files in `outbox/`.
    #[arg(long = "smtp-url", env = "ESCALATOR_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// Escalation desk address.
    #[arg(
        long = "escalation-to",
        env = "ESCALATOR_ESCALATION_TO",
        value_name = "ADDR"
    )]
    pub escalation_to: Option<String>,
    /// Sender address.
    #[arg(long = "mail-from", env = "ESCALATOR_MAIL_FROM", value_name = "ADDR")]
    pub mail_from: Option<String>,
    /// Directory for `.eml` files when no SMTP server is configured (default `outbox`).
    #[arg(long = "outbox-dir", env = "ESCALATOR_OUTBOX_DIR", value_name = "DIR")]
    pub outbox_dir: Option<PathBuf>,
    /// Acknowledgement deadlines by severity (default `critical=1h,moderate=24h,minimal=72h`).
    #[arg(
        long = "ack-within",
        env = "ESCALATOR_ACK_WITHIN",
        value_name = "SPANS"
    )]
    pub ack_within: Option<String>,
    /// Resolution targets by severity (default `critical=24h,moderate=5d,minimal=10d`).
    #[arg(
        long = "resolve-within",
        env = "ESCALATOR_RESOLVE_WITHIN",
        value_name = "SPANS"
    )]
    pub resolve_within: Option<String>,
    /// Share of a deadline after which a warning goes out (default `0.8`).
    #[arg(long = "warn-at", env = "ESCALATOR_WARN_AT", value_name = "SHARE")]
    pub warn_at: Option<String>,
    /// Reminders per deadline at most (default `3`).
    #[arg(
        long = "max-reminders",
        env = "ESCALATOR_MAX_REMINDERS",
        value_name = "N"
    )]
    pub max_reminders: Option<String>,
    /// Delay after which a resolved case closes (default `7d`).
    #[arg(long = "auto-close", env = "ESCALATOR_AUTO_CLOSE", value_name = "SPAN")]
    pub auto_close: Option<String>,
    /// How long the deadline worker's claim on a deadline lasts (default `60s`).
    #[arg(
        long = "deadline-lease",
        env = "ESCALATOR_DEADLINE_LEASE",
        value_name = "SPAN"
    )]
    pub deadline_lease: Option<String>,
    /// Longest sleep of the deadline worker between passes (default `10s`).
    #[arg(
        long = "worker-max-sleep",
        env = "ESCALATOR_WORKER_MAX_SLEEP",
        value_name = "SPAN"
    )]
    pub worker_max_sleep: Option<String>,
    /// How long a sender's claim on an email lasts (default `60s`; `[mail] lease`).
    #[arg(long = "mail-lease", env = "ESCALATOR_MAIL_LEASE", value_name = "SPAN")]
    pub mail_lease: Option<String>,
    /// Time allowed for one send, shorter than the lease (default `30s`; `[mail] send_timeout`).
    #[arg(
        long = "mail-send-timeout",
        env = "ESCALATOR_MAIL_SEND_TIMEOUT",
        value_name = "SPAN"
    )]
    pub mail_send_timeout: Option<String>,
    /// Log format: `text` (default) or `json`.
    #[arg(
        long = "log-format",
        env = "ESCALATOR_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: Option<String>,
}
