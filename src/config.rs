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
use crate::policy::diagnostics::line_column;

mod args;

pub use args::{ServeArgs, SettingsArgs};

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
    /// The configuration file is not UTF-8; located at its first bad byte.
    #[error("{}:{line}:{column}: the file is not UTF-8 (byte 0x{byte:02x})", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Line of the first bad byte, from 1.
        line: usize,
        /// Column of the first bad byte, in characters from 1.
        column: usize,
        /// The first bad byte.
        byte: u8,
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

/// A value read from `escalator.toml` with its place in the file, so that a
/// value that does not parse is reported at its line and column.
type InFile<T> = Option<toml::Spanned<T>>;

/// The contents of `escalator.toml`; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database: InFile<String>,
    rules: Option<PathBuf>,
    listen: InFile<String>,
    smtp_url: InFile<String>,
    escalation_to: InFile<String>,
    mail_from: InFile<String>,
    outbox_dir: Option<PathBuf>,
    ack_within: InFile<String>,
    resolve_within: InFile<String>,
    warn_at: InFile<toml::Value>,
    max_reminders: InFile<toml::Value>,
    auto_close: InFile<String>,
    deadline_lease: InFile<String>,
    worker_max_sleep: InFile<String>,
    log_format: InFile<String>,
    mail: Option<MailFileSettings>,
}

/// `[mail]` in `escalator.toml`: delivery tuning.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailFileSettings {
    first_retry: InFile<String>,
    max_retry_interval: InFile<String>,
    max_attempts: InFile<u32>,
    send_timeout: InFile<String>,
    lease: InFile<String>,
    connections: InFile<u32>,
    tls_ca_file: Option<PathBuf>,
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
    /// A PEM file of certificate authorities trusted for the SMTP server's
    /// certificate besides the usual public ones (a relay with a private
    /// authority).
    pub tls_ca_file: Option<PathBuf>,
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
            tls_ca_file: None,
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

/// The settings every command reads, resolved, and the file the rest come from.
struct Shared {
    settings: Settings,
    /// The file's other settings, for `serve`.
    file: FileSettings,
    file_path: PathBuf,
    file_text: String,
}

/// Reads the configuration file and resolves what every command reads: the
/// rules directory and the database.
fn resolve_shared(common: &SettingsArgs) -> Result<Shared, ConfigError> {
    let (mut file, file_path, file_text) = read_file(common.config.as_deref())?;
    let sources = Sources {
        file_path: &file_path,
        file_text: &file_text,
    };
    let mut settings = Settings::default();
    // A path needs no parsing, so it cannot be invalid.
    if let Some(dir) = common.rules.clone().or(file.rules.take()) {
        settings.rules_dir = dir;
    }
    if let Some(url) = sources.resolve(
        "database",
        "--database/ESCALATOR_DATABASE_URL",
        &common.database,
        file.database.take(),
        parse_database_url,
    )? {
        settings.database_url = url;
    }
    Ok(Shared {
        settings,
        file,
        file_path,
        file_text,
    })
}

/// A file value turned into text (numbers and booleans as TOML writes
/// them), keeping its place in the file.
fn in_file_text<T>(value: InFile<T>, text: impl FnOnce(T) -> String) -> InFile<String> {
    value.map(|spanned| {
        let span = spanned.span();
        toml::Spanned::new(span, text(spanned.into_inner()))
    })
}

fn invalid(setting: &'static str, source: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        setting,
        source_name: source.to_owned(),
        message,
    }
}

impl Settings {
    /// Resolves only what the commands that do not serve read: the rules
    /// directory and the database. The rest keep their defaults, so a
    /// mistake in a setting only `serve` reads (`smtp_url`, `listen`, the
    /// deadlines…) does not stop `rules check`, `classify` or `partners`.
    /// The file must still be readable TOML with known keys.
    pub fn resolve_offline(common: &SettingsArgs) -> Result<Settings, ConfigError> {
        Ok(resolve_shared(common)?.settings)
    }

    /// Resolves the settings: flags and environment (already merged by clap),
    /// then the configuration file, then the defaults.
    pub fn resolve(common: &SettingsArgs, serve: &ServeArgs) -> Result<Settings, ConfigError> {
        let Shared {
            mut settings,
            file,
            file_path,
            file_text,
        } = resolve_shared(common)?;
        let sources = Sources {
            file_path: &file_path,
            file_text: &file_text,
        };

        // Paths need no parsing, so they cannot be invalid.
        if let Some(dir) = serve.outbox_dir.clone().or(file.outbox_dir) {
            settings.mail.outbox_dir = dir;
        }
        if let Some(listen) = sources.resolve(
            "listen",
            "--listen/ESCALATOR_LISTEN",
            &serve.listen,
            file.listen,
            |text| {
                text.parse()
                    .map_err(|_| format!("`{text}` is not an address such as `127.0.0.1:8080`"))
            },
        )? {
            settings.listen = listen;
        }
        if let Some(url) = sources.resolve(
            "smtp_url",
            "--smtp-url/ESCALATOR_SMTP_URL",
            &serve.smtp_url,
            file.smtp_url,
            parse_smtp_url,
        )? {
            settings.mail.smtp_url = url;
        }
        if let Some(address) = sources.resolve(
            "escalation_to",
            "--escalation-to/ESCALATOR_ESCALATION_TO",
            &serve.escalation_to,
            file.escalation_to,
            parse_address,
        )? {
            settings.mail.escalation_to = address;
        }
        if let Some(address) = sources.resolve(
            "mail_from",
            "--mail-from/ESCALATOR_MAIL_FROM",
            &serve.mail_from,
            file.mail_from,
            parse_mailbox,
        )? {
            settings.mail.mail_from = address;
        }
        if let Some(spans) = sources.resolve(
            "ack_within",
            "--ack-within/ESCALATOR_ACK_WITHIN",
            &serve.ack_within,
            file.ack_within,
            SeveritySpans::parse,
        )? {
            settings.deadlines.ack_within = spans;
        }
        if let Some(spans) = sources.resolve(
            "resolve_within",
            "--resolve-within/ESCALATOR_RESOLVE_WITHIN",
            &serve.resolve_within,
            file.resolve_within,
            SeveritySpans::parse,
        )? {
            settings.deadlines.resolve_within = spans;
        }
        if let Some(share) = sources.resolve(
            "warn_at",
            "--warn-at/ESCALATOR_WARN_AT",
            &serve.warn_at,
            in_file_text(file.warn_at, toml_scalar),
            parse_share,
        )? {
            settings.deadlines.warn_at = share;
        }
        if let Some(count) = sources.resolve(
            "max_reminders",
            "--max-reminders/ESCALATOR_MAX_REMINDERS",
            &serve.max_reminders,
            in_file_text(file.max_reminders, toml_scalar),
            |text| {
                text.trim()
                    .parse()
                    .map_err(|_| format!("`{text}` is not a whole number"))
            },
        )? {
            settings.deadlines.max_reminders = count;
        }
        if let Some(span) = sources.resolve(
            "auto_close",
            "--auto-close/ESCALATOR_AUTO_CLOSE",
            &serve.auto_close,
            file.auto_close,
            parse_span,
        )? {
            settings.deadlines.auto_close = span;
        }
        if let Some(span) = sources.resolve(
            "deadline_lease",
            "--deadline-lease/ESCALATOR_DEADLINE_LEASE",
            &serve.deadline_lease,
            file.deadline_lease,
            positive_span,
        )? {
            settings.deadlines.lease = span;
        }
        if let Some(span) = sources.resolve(
            "worker_max_sleep",
            "--worker-max-sleep/ESCALATOR_WORKER_MAX_SLEEP",
            &serve.worker_max_sleep,
            file.worker_max_sleep,
            positive_span,
        )? {
            settings.deadlines.max_sleep = span;
        }
        if let Some(format) = sources.resolve(
            "log_format",
            "--log-format/ESCALATOR_LOG_FORMAT",
            &serve.log_format,
            file.log_format,
            |text| match text {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                other => Err(format!("`{other}` is neither `text` nor `json`")),
            },
        )? {
            settings.log_format = format;
        }
        let mail = file.mail.unwrap_or_default();
        let timing_span = mail
            .send_timeout
            .as_ref()
            .or(mail.lease.as_ref())
            .map(toml::Spanned::span);
        // `[mail]` spans: two are file-only (no flag to name), two have flags.
        let no_flag = None;
        let mail_spans = [
            (
                "mail.first_retry",
                "",
                &no_flag,
                mail.first_retry,
                &mut settings.mail.first_retry,
            ),
            (
                "mail.max_retry_interval",
                "",
                &no_flag,
                mail.max_retry_interval,
                &mut settings.mail.max_retry_interval,
            ),
            (
                "mail.lease",
                MAIL_LEASE_FLAG,
                &serve.mail_lease,
                mail.lease,
                &mut settings.mail.lease,
            ),
            (
                "mail.send_timeout",
                MAIL_SEND_TIMEOUT_FLAG,
                &serve.mail_send_timeout,
                mail.send_timeout,
                &mut settings.mail.send_timeout,
            ),
        ];
        for (setting, flag_name, flag, file_value, target) in mail_spans {
            if let Some(span) = sources.resolve(setting, flag_name, flag, file_value, parse_span)? {
                *target = span;
            }
        }
        settings.mail.tls_ca_file = mail.tls_ca_file;
        let counts = [
            (
                "mail.max_attempts",
                mail.max_attempts,
                &mut settings.mail.max_attempts,
            ),
            (
                "mail.connections",
                mail.connections,
                &mut settings.mail.connections,
            ),
        ];
        for (setting, file_value, target) in counts {
            let file_value = in_file_text(file_value, |count| count.to_string());
            if let Some(count) = sources.resolve(setting, "", &no_flag, file_value, at_least_one)? {
                *target = count;
            }
        }
        // The check names the flag that set one of the two spans, else the
        // place in the file that did.
        let timing_source = match (&serve.mail_send_timeout, &serve.mail_lease) {
            (Some(_), _) => format!("from {MAIL_SEND_TIMEOUT_FLAG}"),
            (None, Some(_)) => format!("from {MAIL_LEASE_FLAG}"),
            (None, None) => match timing_span {
                Some(span) => format!("from {}", sources.locate(span)),
                None => format!("from {}", file_path.display()),
            },
        };
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

/// A count of at least one (`[mail] max_attempts`, `[mail] connections`).
fn at_least_one(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// A span that must be longer than zero (leases, sleeps).
fn positive_span(text: &str) -> Result<Duration, String> {
    let span = parse_span(text.trim())?;
    if span.is_zero() {
        return Err(format!("`{text}` must be longer than zero"));
    }
    Ok(span)
}

/// The flag and variable that set `mail.lease`, as errors name them.
const MAIL_LEASE_FLAG: &str = "--mail-lease/ESCALATOR_MAIL_LEASE";
/// The flag and variable that set `mail.send_timeout`, as errors name them.
const MAIL_SEND_TIMEOUT_FLAG: &str = "--mail-send-timeout/ESCALATOR_MAIL_SEND_TIMEOUT";

/// Where settings come from after clap: the configuration file. Resolves one
/// setting from its flag or environment value, else the file, and parses it,
/// naming the setting and its source on error: the flag and variable, or the
/// file with the line and column of the value.
struct Sources<'a> {
    file_path: &'a Path,
    file_text: &'a str,
}

impl Sources<'_> {
    fn resolve<T>(
        &self,
        setting: &'static str,
        flag_name: &str,
        flag: &Option<String>,
        file: InFile<String>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let (value, source) = match (flag, file) {
            (Some(value), _) => (value.clone(), format!("from {flag_name}")),
            (None, Some(value)) => (
                value.get_ref().clone(),
                format!("from {}", self.locate(value.span())),
            ),
            (None, None) => return Ok(None),
        };
        parse(&value)
            .map(Some)
            .map_err(|message| invalid(setting, &source, message))
    }

    /// `FILE:LINE:COL` of a byte offset range in the file; lines and columns
    /// count from 1, columns in characters.
    fn locate(&self, span: std::ops::Range<usize>) -> String {
        let (line, column) = line_column(self.file_text, span.start);
        format!("{}:{line}:{column}", self.file_path.display())
    }
}

/// A database URL the store can open, checked here so that a mistake is
/// named with its setting and source: `postgres://…`, or `sqlite://FILE`
/// naming a file (an in-memory database would keep nothing, and each
/// connection of the pool would see a database of its own).
fn parse_database_url(text: &str) -> Result<String, String> {
    use std::str::FromStr;
    if crate::store::is_postgres_url(text) {
        sqlx::postgres::PgConnectOptions::from_str(text).map_err(|error| {
            format!(
                "`{}` is not a PostgreSQL URL ({error})",
                crate::store::display_database_url(text)
            )
        })?;
        return Ok(text.to_owned());
    }
    let Some(rest) = text.strip_prefix("sqlite:") else {
        return Err(format!(
            "`{text}` is neither `sqlite://…` nor `postgres://…`"
        ));
    };
    sqlx::sqlite::SqliteConnectOptions::from_str(text)
        .map_err(|error| format!("`{text}` is not an SQLite URL ({error})"))?;
    let rest = rest.trim_start_matches("//");
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = url::form_urlencoded::parse(query.as_bytes())
        .any(|(key, value)| key == "mode" && value == "memory");
    if file.is_empty() || file == ":memory:" || in_memory {
        return Err(format!(
            "`{text}` names no file (an in-memory database keeps nothing); write `sqlite://FILE`, e.g. `{DEFAULT_DATABASE_URL}`"
        ));
    }
    Ok(text.to_owned())
}

/// An empty SMTP URL means "none": emails go to `.eml` files.
fn parse_smtp_url(text: &str) -> Result<Option<String>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    url::Url::parse(trimmed)
        .map_err(|error| format!("`{}` is not a URL ({error})", crate::redact::url(trimmed)))?;
    Ok(Some(trimmed.to_owned()))
}

fn parse_address(text: &str) -> Result<String, String> {
    text.parse::<lettre::Address>()
        .map(|_| text.to_owned())
        .map_err(|_| format!("`{text}` is not an email address"))
}

/// The sender: an address, optionally with a display name
/// (`Escalator <escalator@example.com>`), as the `From` header shows it.
fn parse_mailbox(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    trimmed
        .parse::<lettre::message::Mailbox>()
        .map(|_| trimmed.to_owned())
        .map_err(|_| {
            format!("`{text}` is not an email address (`name@domain` or `Name <name@domain>`)")
        })
}

fn parse_share(text: &str) -> Result<f64, String> {
    let share: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(share > 0.0 && share < 1.0) {
        return Err(format!("{share} must be between 0 and 1 (exclusive)"));
    }
    Ok(share)
}

fn toml_scalar(value: toml::Value) -> String {
    match value {
        toml::Value::String(text) => text,
        other => other.to_string(),
    }
}

/// Reads the configuration file: its settings, its path and its text (for
/// locating values); a missing default file reads as empty.
fn read_file(explicit: Option<&Path>) -> Result<(FileSettings, PathBuf, String), ConfigError> {
    let path = explicit
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        // A missing default file is normal; a missing explicit one is an error.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            return Ok((FileSettings::default(), path, String::new()))
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let text = String::from_utf8(bytes).map_err(|error| {
        // Located at the first bad byte; columns count characters from 1.
        let at = error.utf8_error().valid_up_to();
        let (line, column) = line_column(&String::from_utf8_lossy(error.as_bytes()), at);
        ConfigError::NotUtf8 {
            path: path.clone(),
            line,
            column,
            byte: error.as_bytes().get(at).copied().unwrap_or_default(),
        }
    })?;
    let file = toml::from_str(&text).map_err(|error| ConfigError::Toml {
        path: path.clone(),
        message: error.to_string(),
    })?;
    Ok((file, path, text))
}

#[cfg(test)]
mod tests;
