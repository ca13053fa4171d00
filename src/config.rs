//! Settings, resolved in one place: flags, then `ESCALATOR_*` environment
//! variables (both handled by clap), then `escalator.toml`, then defaults.
//!
//! Raw values are parsed first and validated into [`Settings`] once, so the
//! rest of the engine never sees a malformed duration or address.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::case::Severity;

/// Default database: an SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://escalator.db";
/// Default policy directory.
pub const DEFAULT_RULES_DIR: &str = "rules";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default escalation desk address.
pub const DEFAULT_ESCALATION_TO: &str = "escalations@21vianet.example";
/// Default sender address.
pub const DEFAULT_MAIL_FROM: &str = "escalator@localhost";
/// Default configuration file, read when present.
pub const DEFAULT_CONFIG_FILE: &str = "escalator.toml";

/// Why the configuration could not be resolved; names the setting and its source.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML or has unknown keys.
    #[error("{path}: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// What the TOML parser said, with line and column.
        message: String,
    },
    /// A setting holds a value that does not parse.
    #[error("setting `{setting}` ({source_name}): {message}")]
    Invalid {
        /// The setting's name as written in `escalator.toml`.
        setting: &'static str,
        /// Where the value came from: a flag or environment variable, the file, or the default.
        source_name: String,
        /// What was wrong.
        message: String,
    },
}

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

/// The contents of `escalator.toml`; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database: Option<String>,
    rules: Option<PathBuf>,
    listen: Option<String>,
    smtp_url: Option<String>,
    escalation_to: Option<String>,
    mail_from: Option<String>,
    outbox_dir: Option<PathBuf>,
    ack_within: Option<String>,
    resolve_within: Option<String>,
    warn_at: Option<toml::Value>,
    max_reminders: Option<toml::Value>,
    auto_close: Option<String>,
    deadline_lease: Option<String>,
    worker_max_sleep: Option<String>,
    log_format: Option<String>,
    mail: Option<MailFileSettings>,
}

/// `[mail]` in `escalator.toml`: delivery tuning.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailFileSettings {
    first_retry: Option<String>,
    max_retry_interval: Option<String>,
    max_attempts: Option<u32>,
    send_timeout: Option<String>,
    lease: Option<String>,
    connections: Option<u32>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A duration per severity (acknowledgement defaults, resolution targets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeveritySpans {
    spans: BTreeMap<Severity, Duration>,
}

impl SeveritySpans {
    /// Parses `critical=1h,moderate=24h,minimal=72h`; every severity must be given.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut spans = BTreeMap::new();
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let Some((name, span)) = part.split_once('=') else {
                return Err(format!(
                    "`{part}` is not of the form SEVERITY=SPAN (e.g. `critical=1h`)"
                ));
            };
            let severity: Severity = name.trim().parse()?;
            spans.insert(severity, parse_span(span.trim())?);
        }
        for severity in Severity::ALL {
            if !spans.contains_key(&severity) {
                return Err(format!("no span for `{severity}`"));
            }
        }
        Ok(Self { spans })
    }

    /// The span for one severity.
    pub fn get(&self, severity: Severity) -> Duration {
        self.spans
            .get(&severity)
            .copied()
            .unwrap_or(Duration::from_secs(3600))
    }
}

impl fmt::Display for SeveritySpans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .spans
            .iter()
            .rev()
            .map(|(severity, span)| format!("{severity}={}", humantime::format_duration(*span)))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Parses a span such as `30s`, `30m`, `4h`, `2d` (humantime syntax).
pub fn parse_span(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| {
        format!("`{text}` is not a duration ({error}); write e.g. `30m`, `4h` or `2d`")
    })
}

/// Deadline settings (see the Deadlines section of the interfaces contract).
#[derive(Debug, Clone, PartialEq)]
pub struct DeadlineSettings {
    /// Acknowledgement deadline when the policy gives none.
    pub ack_within: SeveritySpans,
    /// Resolution target once acknowledged.
    pub resolve_within: SeveritySpans,
    /// Share of a deadline's length after which a warning goes out.
    pub warn_at: f64,
    /// Reminders per deadline at most.
    pub max_reminders: u32,
    /// Delay after which a resolved case closes.
    pub auto_close: Duration,
    /// How long the deadline worker's claim on a deadline lasts; a crashed
    /// instance's claims are taken over after it.
    pub lease: Duration,
    /// Longest sleep of the deadline worker between passes, so that work
    /// written by other instances and expired leases are noticed.
    pub max_sleep: Duration,
}

impl Default for DeadlineSettings {
    fn default() -> Self {
        Self {
            ack_within: defaults::ack_within(),
            resolve_within: defaults::resolve_within(),
            warn_at: 0.8,
            max_reminders: 3,
            auto_close: Duration::from_secs(7 * 24 * 3600),
            lease: Duration::from_secs(60),
            max_sleep: Duration::from_secs(10),
        }
    }
}

/// Mail delivery settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MailSettings {
    /// SMTP URL; `None` writes `.eml` files to `outbox_dir`.
    pub smtp_url: Option<String>,
    /// Directory for `.eml` files.
    pub outbox_dir: PathBuf,
    /// The escalation desk's address.
    pub escalation_to: String,
    /// The sender address.
    pub mail_from: String,
    /// Delay before the first retry of a failed send.
    pub first_retry: Duration,
    /// Longest delay between two attempts.
    pub max_retry_interval: Duration,
    /// Attempts before a row is parked as failed.
    pub max_attempts: u32,
    /// Time allowed for one send, shorter than the lease.
    pub send_timeout: Duration,
    /// How long a claim on an outbox row lasts before another sender may take it.
    pub lease: Duration,
    /// SMTP connections used at once.
    pub connections: u32,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            outbox_dir: PathBuf::from("outbox"),
            escalation_to: DEFAULT_ESCALATION_TO.to_owned(),
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            first_retry: Duration::from_secs(5),
            max_retry_interval: Duration::from_secs(300),
            max_attempts: 50,
            send_timeout: Duration::from_secs(30),
            lease: Duration::from_secs(60),
            connections: 8,
        }
    }
}

/// Every setting, resolved and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Database URL; `sqlite://` or `postgres://`.
    pub database_url: String,
    /// Policy directory.
    pub rules_dir: PathBuf,
    /// Listen address of `serve`.
    pub listen: SocketAddr,
    /// Mail delivery.
    pub mail: MailSettings,
    /// Deadlines.
    pub deadlines: DeadlineSettings,
    /// Log format.
    pub log_format: LogFormat,
}

mod defaults {
    use super::SeveritySpans;
    use std::time::Duration;

    pub fn ack_within() -> SeveritySpans {
        spans(3600, 24 * 3600, 72 * 3600)
    }

    pub fn resolve_within() -> SeveritySpans {
        spans(24 * 3600, 5 * 24 * 3600, 10 * 24 * 3600)
    }

    fn spans(critical: u64, moderate: u64, minimal: u64) -> SeveritySpans {
        SeveritySpans {
            spans: [
                (
                    crate::case::Severity::Critical,
                    Duration::from_secs(critical),
                ),
                (
                    crate::case::Severity::Moderate,
                    Duration::from_secs(moderate),
                ),
                (crate::case::Severity::Minimal, Duration::from_secs(minimal)),
            ]
            .into_iter()
            .collect(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            rules_dir: PathBuf::from(DEFAULT_RULES_DIR),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            mail: MailSettings::default(),
            deadlines: DeadlineSettings::default(),
            log_format: LogFormat::Text,
        }
    }
}

/// One raw value and where it came from, for error messages.
struct Raw<T> {
    value: T,
    source: String,
}

fn pick<T>(flag: Option<T>, flag_name: &str, file: Option<T>, file_path: &Path) -> Option<Raw<T>> {
    match (flag, file) {
        (Some(value), _) => Some(Raw {
            value,
            source: format!("from {flag_name}"),
        }),
        (None, Some(value)) => Some(Raw {
            value,
            source: format!("from {}", file_path.display()),
        }),
        (None, None) => None,
    }
}

fn invalid(setting: &'static str, source: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        setting,
        source_name: source.to_owned(),
        message,
    }
}

impl Settings {
    /// Resolves the settings: flags and environment (already merged by clap),
    /// then the configuration file, then the defaults.
    pub fn resolve(common: &SettingsArgs, serve: &ServeArgs) -> Result<Settings, ConfigError> {
        let (file, file_path) = read_file(common.config.as_deref())?;
        let mut settings = Settings::default();

        if let Some(raw) = pick(
            common.database.clone(),
            "--database/ESCALATOR_DATABASE_URL",
            file.database,
            &file_path,
        ) {
            if !(raw.value.starts_with("sqlite:")
                || raw.value.starts_with("postgres://")
                || raw.value.starts_with("postgresql://"))
            {
                return Err(invalid(
                    "database",
                    &raw.source,
                    format!("`{}` is neither `sqlite://…` nor `postgres://…`", raw.value),
                ));
            }
            settings.database_url = raw.value;
        }
        if let Some(raw) = pick(
            common.rules.clone(),
            "--rules/ESCALATOR_RULES",
            file.rules,
            &file_path,
        ) {
            settings.rules_dir = raw.value;
        }
        if let Some(raw) = pick(
            serve.listen.clone(),
            "--listen/ESCALATOR_LISTEN",
            file.listen,
            &file_path,
        ) {
            settings.listen = raw.value.parse().map_err(|_| {
                invalid(
                    "listen",
                    &raw.source,
                    format!("`{}` is not an address such as `127.0.0.1:8080`", raw.value),
                )
            })?;
        }
        if let Some(raw) = pick(
            serve.smtp_url.clone(),
            "--smtp-url/ESCALATOR_SMTP_URL",
            file.smtp_url,
            &file_path,
        ) {
            let trimmed = raw.value.trim().to_owned();
            if !trimmed.is_empty() {
                url::Url::parse(&trimmed).map_err(|error| {
                    invalid(
                        "smtp_url",
                        &raw.source,
                        format!("`{trimmed}` is not a URL ({error})"),
                    )
                })?;
                settings.mail.smtp_url = Some(trimmed);
            }
        }
        if let Some(raw) = pick(
            serve.escalation_to.clone(),
            "--escalation-to/ESCALATOR_ESCALATION_TO",
            file.escalation_to,
            &file_path,
        ) {
            check_address("escalation_to", &raw)?;
            settings.mail.escalation_to = raw.value;
        }
        if let Some(raw) = pick(
            serve.mail_from.clone(),
            "--mail-from/ESCALATOR_MAIL_FROM",
            file.mail_from,
            &file_path,
        ) {
            check_address("mail_from", &raw)?;
            settings.mail.mail_from = raw.value;
        }
        if let Some(raw) = pick(
            serve.outbox_dir.clone(),
            "--outbox-dir/ESCALATOR_OUTBOX_DIR",
            file.outbox_dir,
            &file_path,
        ) {
            settings.mail.outbox_dir = raw.value;
        }
        if let Some(raw) = pick(
            serve.ack_within.clone(),
            "--ack-within/ESCALATOR_ACK_WITHIN",
            file.ack_within,
            &file_path,
        ) {
            settings.deadlines.ack_within = SeveritySpans::parse(&raw.value)
                .map_err(|message| invalid("ack_within", &raw.source, message))?;
        }
        if let Some(raw) = pick(
            serve.resolve_within.clone(),
            "--resolve-within/ESCALATOR_RESOLVE_WITHIN",
            file.resolve_within,
            &file_path,
        ) {
            settings.deadlines.resolve_within = SeveritySpans::parse(&raw.value)
                .map_err(|message| invalid("resolve_within", &raw.source, message))?;
        }
        if let Some(raw) = pick(
            serve.warn_at.clone(),
            "--warn-at/ESCALATOR_WARN_AT",
            file.warn_at.map(toml_scalar),
            &file_path,
        ) {
            let share: f64 = raw.value.trim().parse().map_err(|_| {
                invalid(
                    "warn_at",
                    &raw.source,
                    format!("`{}` is not a number", raw.value),
                )
            })?;
            if !(share > 0.0 && share < 1.0) {
                return Err(invalid(
                    "warn_at",
                    &raw.source,
                    format!("{share} must be between 0 and 1 (exclusive)"),
                ));
            }
            settings.deadlines.warn_at = share;
        }
        if let Some(raw) = pick(
            serve.max_reminders.clone(),
            "--max-reminders/ESCALATOR_MAX_REMINDERS",
            file.max_reminders.map(toml_scalar),
            &file_path,
        ) {
            settings.deadlines.max_reminders = raw.value.trim().parse().map_err(|_| {
                invalid(
                    "max_reminders",
                    &raw.source,
                    format!("`{}` is not a whole number", raw.value),
                )
            })?;
        }
        if let Some(raw) = pick(
            serve.auto_close.clone(),
            "--auto-close/ESCALATOR_AUTO_CLOSE",
            file.auto_close,
            &file_path,
        ) {
            settings.deadlines.auto_close = parse_span(&raw.value)
                .map_err(|message| invalid("auto_close", &raw.source, message))?;
        }
        if let Some(raw) = pick(
            serve.deadline_lease.clone(),
            "--deadline-lease/ESCALATOR_DEADLINE_LEASE",
            file.deadline_lease,
            &file_path,
        ) {
            settings.deadlines.lease = positive_span(&raw)
                .map_err(|message| invalid("deadline_lease", &raw.source, message))?;
        }
        if let Some(raw) = pick(
            serve.worker_max_sleep.clone(),
            "--worker-max-sleep/ESCALATOR_WORKER_MAX_SLEEP",
            file.worker_max_sleep,
            &file_path,
        ) {
            settings.deadlines.max_sleep = positive_span(&raw)
                .map_err(|message| invalid("worker_max_sleep", &raw.source, message))?;
        }
        if let Some(raw) = pick(
            serve.log_format.clone(),
            "--log-format/ESCALATOR_LOG_FORMAT",
            file.log_format,
            &file_path,
        ) {
            settings.log_format = match raw.value.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(invalid(
                        "log_format",
                        &raw.source,
                        format!("`{other}` is neither `text` nor `json`"),
                    ))
                }
            };
        }
        if let Some(mail) = file.mail {
            let source = format!("from {}", file_path.display());
            let span = |setting: &'static str,
                        value: Option<String>,
                        target: &mut Duration|
             -> Result<(), ConfigError> {
                if let Some(text) = value {
                    *target =
                        parse_span(&text).map_err(|message| invalid(setting, &source, message))?;
                }
                Ok(())
            };
            span(
                "mail.first_retry",
                mail.first_retry,
                &mut settings.mail.first_retry,
            )?;
            span(
                "mail.max_retry_interval",
                mail.max_retry_interval,
                &mut settings.mail.max_retry_interval,
            )?;
            span(
                "mail.send_timeout",
                mail.send_timeout,
                &mut settings.mail.send_timeout,
            )?;
            span("mail.lease", mail.lease, &mut settings.mail.lease)?;
            if let Some(attempts) = mail.max_attempts {
                settings.mail.max_attempts = attempts.max(1);
            }
            if let Some(connections) = mail.connections {
                settings.mail.connections = connections.max(1);
            }
        }
        let mut timing_source = format!("from {}", file_path.display());
        if let Some(text) = &serve.mail_lease {
            timing_source = "from --mail-lease/ESCALATOR_MAIL_LEASE".to_owned();
            settings.mail.lease = parse_span(text)
                .map_err(|message| invalid("mail.lease", &timing_source, message))?;
        }
        if let Some(text) = &serve.mail_send_timeout {
            timing_source = "from --mail-send-timeout/ESCALATOR_MAIL_SEND_TIMEOUT".to_owned();
            settings.mail.send_timeout = parse_span(text)
                .map_err(|message| invalid("mail.send_timeout", &timing_source, message))?;
        }
        if settings.mail.send_timeout >= settings.mail.lease {
            return Err(invalid(
                "mail.send_timeout",
                &timing_source,
                format!(
                    "{} must be shorter than `mail.lease` ({})",
                    humantime::format_duration(settings.mail.send_timeout),
                    humantime::format_duration(settings.mail.lease)
                ),
            ));
        }
        Ok(settings)
    }
}

/// A span that must be longer than zero (leases, sleeps).
fn positive_span(raw: &Raw<String>) -> Result<Duration, String> {
    let span = parse_span(raw.value.trim())?;
    if span.is_zero() {
        return Err(format!("`{}` must be longer than zero", raw.value));
    }
    Ok(span)
}

fn toml_scalar(value: toml::Value) -> String {
    match value {
        toml::Value::String(text) => text,
        other => other.to_string(),
    }
}

fn check_address(setting: &'static str, raw: &Raw<String>) -> Result<(), ConfigError> {
    raw.value
        .parse::<lettre::Address>()
        .map(|_| ())
        .map_err(|_| {
            invalid(
                setting,
                &raw.source,
                format!("`{}` is not an email address", raw.value),
            )
        })
}

fn read_file(explicit: Option<&Path>) -> Result<(FileSettings, PathBuf), ConfigError> {
    let path = explicit
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // A missing default file is normal; a missing explicit one is an error.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            return Ok((FileSettings::default(), path))
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let file = toml::from_str(&text).map_err(|error| ConfigError::Toml {
        path: path.clone(),
        message: error.to_string(),
    })?;
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_spans_parse_every_severity() {
        let spans = SeveritySpans::parse("critical=1h, moderate=24h,minimal=3d").unwrap();
        assert_eq!(spans.get(Severity::Critical), Duration::from_secs(3600));
        assert_eq!(spans.get(Severity::Minimal), Duration::from_secs(3 * 86400));
    }

    #[test]
    fn severity_spans_refuse_a_missing_severity() {
        let error = SeveritySpans::parse("critical=1h").unwrap_err();
        assert!(error.starts_with("no span for `minimal`"), "{error}");
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("escalator.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nauto_close = \"2d\"\n").unwrap();
        let common = SettingsArgs {
            config: Some(file),
            ..SettingsArgs::default()
        };
        let serve = ServeArgs {
            listen: Some("127.0.0.1:9100".to_owned()),
            ..ServeArgs::default()
        };
        let settings = Settings::resolve(&common, &serve).unwrap();
        assert_eq!(settings.listen.port(), 9100);
        assert_eq!(
            settings.deadlines.auto_close,
            Duration::from_secs(2 * 86400)
        );
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn a_bad_value_names_the_setting_and_its_source() {
        let serve = ServeArgs {
            warn_at: Some("1.5".to_owned()),
            ..ServeArgs::default()
        };
        let error = Settings::resolve(&SettingsArgs::default(), &serve)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("warn_at") && error.contains("ESCALATOR_WARN_AT"),
            "{error}"
        );
    }

    #[test]
    fn the_deadline_lease_and_worker_sleep_are_spans_longer_than_zero() {
        let serve = ServeArgs {
            deadline_lease: Some("5s".to_owned()),
            worker_max_sleep: Some("200ms".to_owned()),
            ..ServeArgs::default()
        };
        let settings = Settings::resolve(&SettingsArgs::default(), &serve).unwrap();
        assert_eq!(settings.deadlines.lease, Duration::from_secs(5));
        assert_eq!(settings.deadlines.max_sleep, Duration::from_millis(200));
        let zero = ServeArgs {
            deadline_lease: Some("0s".to_owned()),
            ..ServeArgs::default()
        };
        let error = Settings::resolve(&SettingsArgs::default(), &zero)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("deadline_lease") && error.contains("longer than zero"),
            "{error}"
        );
    }

    #[test]
    fn the_mail_lease_and_send_timeout_come_from_the_environment_and_are_checked() {
        let serve = ServeArgs {
            mail_lease: Some("4s".to_owned()),
            mail_send_timeout: Some("3s".to_owned()),
            ..ServeArgs::default()
        };
        let settings = Settings::resolve(&SettingsArgs::default(), &serve).unwrap();
        assert_eq!(settings.mail.lease, Duration::from_secs(4));
        assert_eq!(settings.mail.send_timeout, Duration::from_secs(3));

        let serve = ServeArgs {
            mail_lease: Some("10s".to_owned()),
            ..ServeArgs::default()
        };
        let error = Settings::resolve(&SettingsArgs::default(), &serve)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mail.send_timeout") && error.contains("ESCALATOR_MAIL_LEASE"),
            "{error}"
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("escalator.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let common = SettingsArgs {
            config: Some(file),
            ..SettingsArgs::default()
        };
        let error = Settings::resolve(&common, &ServeArgs::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("lisen"), "{error}");
    }
}
