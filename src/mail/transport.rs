//! How a rendered message leaves: SMTP over our own pool of sessions
//! (`smtp://`, STARTTLS or `smtps://`; see `connections.rs`), or `.eml`
//! files in a directory when no server is configured.
//!
//! Every send is cut off by our own timeout, and every failure is
//! classified for the dispatcher: transient (retry later) or permanent
//! (park the row). One [`Transport`] is shared by all concurrent senders; it
//! bounds them to `mail.connections` at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lettre::Message;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use super::connections::{percent_decode, Connections, DirectError, Endpoint, Tls};
use super::RenderError;
use crate::config::MailSettings;
use crate::redact;
use crate::store::RefusedRecipient;

/// Why a message was not delivered, classified by what the caller can do.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Retrying later may succeed: a 4xx reply, a refused or broken
    /// connection, a timeout, a full disk.
    #[error("temporary delivery failure via {via}: {detail}")]
    Transient {
        /// The server (`smtp://host:port`, never with credentials) or directory.
        via: String,
        /// The SMTP reply code, when the server answered.
        code: Option<u16>,
        /// What went wrong, with the server's reply text.
        detail: String,
    },
    /// Retrying the same message cannot succeed: a 5xx reply, or a message
    /// that cannot be rendered or addressed.
    #[error("permanent delivery failure via {via}: {detail}")]
    Permanent {
        /// The server, directory, or `renderer`.
        via: String,
        /// The SMTP reply code, when the server answered.
        code: Option<u16>,
        /// What went wrong, with the server's reply text.
        detail: String,
    },
    /// The transport's settings are unusable (raised by [`Transport::from_settings`]).
    #[error("setting `{setting}`: {detail}")]
    Config {
        /// The setting's name as written in `escalator.toml`.
        setting: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl SendError {
    /// Whether a later attempt may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }

    /// The SMTP reply code, when the server answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            SendError::Transient { code, .. } | SendError::Permanent { code, .. } => *code,
            SendError::Config { .. } => None,
        }
    }
}

impl From<RenderError> for SendError {
    fn from(error: RenderError) -> Self {
        SendError::Permanent {
            via: "renderer".to_owned(),
            code: None,
            detail: error.to_string(),
        }
    }
}

/// Delivers rendered messages. Cheap to clone; clones share one connection
/// pool and one limit on concurrent sends.
#[derive(Debug, Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per transport, behind an Arc"
)]
enum Inner {
    Smtp(Smtp),
    Files(Files),
}

impl Transport {
    /// Builds the transport the settings ask for: SMTP when `smtp_url` is
    /// set (`smtp://host:port`, `smtp://host:port?tls=required` for STARTTLS,
    /// `smtps://host:port` for implicit TLS, `user:password@` for AUTH),
    /// otherwise `.eml` files in `outbox_dir`. Connects lazily, on the first send.
    pub fn from_settings(settings: &MailSettings) -> Result<Transport, SendError> {
        let inner = match &settings.smtp_url {
            Some(url) => Inner::Smtp(Smtp::new(url, settings)?),
            None => Inner::Files(Files {
                dir: settings.outbox_dir.clone(),
                timeout: settings.send_timeout,
            }),
        };
        Ok(Transport {
            inner: Arc::new(inner),
        })
    }

    /// Makes sure `.eml` files can be written: creates the outbox directory
    /// and writes and removes a probe file in it, so that `serve` refuses to
    /// start rather than retry every email against a directory it cannot
    /// write; then removes the temporary files abandoned writes left there
    /// (see `remove_abandoned_temporaries`). Nothing to do for SMTP (a
    /// server that is down may come back).
    pub async fn prepare(&self) -> Result<(), SendError> {
        let Inner::Files(files) = &*self.inner else {
            return Ok(());
        };
        let probe = files
            .dir
            .join(format!("{TEMP_PREFIX}probe-{}", std::process::id()));
        let result = async {
            tokio::fs::create_dir_all(&files.dir).await?;
            tokio::fs::write(&probe, b"").await?;
            tokio::fs::remove_file(&probe).await
        }
        .await;
        if result.is_ok() {
            remove_abandoned_temporaries(&files.dir, files.timeout).await;
        }
        result.map_err(|error| SendError::Config {
            setting: "outbox_dir",
            detail: format!(
                "cannot write `.eml` files to {}: {error}",
                files.dir.display()
            ),
        })
    }

    /// Where messages go, for logs: `smtp://host:port` (no credentials) or
    /// `files in DIR`.
    pub fn destination(&self) -> String {
        match &*self.inner {
            Inner::Smtp(smtp) => smtp.server.clone(),
            Inner::Files(files) => format!("files in {}", files.dir.display()),
        }
    }

    /// Delivers one message to the envelope derived from its To and Cc
    /// headers. Returns only once the server accepted it (or the file was
    /// renamed into place), and never takes longer than `mail.send_timeout`.
    /// `Ok` lists the recipients the server refused for good while it took
    /// the message for the others (see `connections::transaction`); the
    /// message fails when it refuses all.
    #[tracing::instrument(skip_all, err, fields(destination = %self.destination()))]
    pub async fn send(&self, message: &Message) -> Result<Vec<RefusedRecipient>, SendError> {
        match &*self.inner {
            Inner::Smtp(smtp) => smtp.send(message).await,
            Inner::Files(files) => files.write(message).await.map(|()| Vec::new()),
        }
    }
}

/// SMTP delivery over a pool of sessions.
#[derive(Debug)]
struct Smtp {
    sessions: Connections,
    permits: Semaphore,
    connections: u32,
    timeout: Duration,
    server: String,
}

impl Smtp {
    fn new(url: &str, settings: &MailSettings) -> Result<Smtp, SendError> {
        let parsed = url::Url::parse(url).map_err(|error| SendError::Config {
            setting: "smtp_url",
            detail: format!("`{}` is not a URL ({error})", redact::url(url)),
        })?;
        let authority = settings
            .tls_ca_file
            .as_deref()
            .map(read_authority)
            .transpose()?;
        let endpoint = endpoint(&parsed, authority.as_ref())?;
        // For logs and errors: the port connected to, never the credentials.
        let server = format!(
            "{}://{}:{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default(),
            endpoint.port
        );
        let connections = settings.connections.max(1);
        Ok(Smtp {
            sessions: Connections::new(endpoint, connections as usize),
            permits: Semaphore::new(connections as usize),
            connections,
            timeout: settings.send_timeout,
            server,
        })
    }

    async fn send(&self, message: &Message) -> Result<Vec<RefusedRecipient>, SendError> {
        let envelope = message.envelope();
        let bytes = message.formatted();
        let mut started = false;
        let attempt = tokio::time::timeout(self.timeout, async {
            // INVARIANT: the semaphore is never closed, so `acquire` only waits.
            let _permit = self.permits.acquire().await;
            started = true;
            self.sessions.send(envelope, &bytes).await
        })
        .await;
        match attempt {
            Ok(Ok(refused)) => Ok(refused
                .into_iter()
                .map(|(recipient, error)| RefusedRecipient {
                    recipient: recipient.to_string(),
                    error: self.classify(&error).to_string(),
                })
                .collect()),
            Ok(Err(DirectError::Smtp(error))) => Err(self.classify(&error)),
            Ok(Err(DirectError::Unsupported(detail))) => Err(SendError::Permanent {
                via: self.server.clone(),
                code: None,
                detail: detail.to_owned(),
            }),
            Ok(Err(DirectError::Connect(error))) => Err(SendError::Transient {
                via: self.server.clone(),
                code: None,
                detail: format!("cannot connect: {error}"),
            }),
            Err(_elapsed) => {
                let detail = if started {
                    format!(
                        "no reply within {}",
                        humantime::format_duration(self.timeout)
                    )
                } else {
                    format!(
                        "all {} connections stayed busy for {}",
                        self.connections,
                        humantime::format_duration(self.timeout)
                    )
                };
                Err(SendError::Transient {
                    via: self.server.clone(),
                    code: None,
                    detail,
                })
            }
        }
    }

    fn classify(&self, error: &lettre::transport::smtp::Error) -> SendError {
        let code = error
            .status()
            .and_then(|code| code.to_string().parse().ok());
        let via = self.server.clone();
        let detail = error.to_string();
        // Client errors are refusals by lettre itself (e.g. a non-ASCII
        // address and a server without SMTPUTF8): the same message fails again.
        if error.is_permanent() || error.is_client() {
            SendError::Permanent { via, code, detail }
        } else {
            SendError::Transient { via, code, detail }
        }
    }
}

/// The certificate authorities of `[mail] tls_ca_file`, read once at start.
fn read_authority(path: &Path) -> Result<Certificate, SendError> {
    let config = |detail: String| SendError::Config {
        setting: "mail.tls_ca_file",
        detail: format!("{}: {detail}", path.display()),
    };
    let pem = std::fs::read(path).map_err(|error| config(error.to_string()))?;
    // lettre takes a file without any certificate as an empty list, which
    // would trust nothing more and fail only at the first send.
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    if !pem.windows(BEGIN.len()).any(|window| window == BEGIN) {
        return Err(config(
            "holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_owned(),
        ));
    }
    Certificate::from_pem(&pem).map_err(|error| config(format!("not a PEM certificate ({error})")))
}

/// Where and how our pool opens sessions for an SMTP URL. Mirrors lettre's
/// reading of the URL (`AsyncSmtpTransport::from_url`): `smtp://` plain
/// (port 25), with `?tls=required` or `?tls=opportunistic` STARTTLS (587),
/// `smtps://` TLS from the first byte (465); the path as EHLO name;
/// percent-encoded `user:password@` for AUTH. `authority`, when given, is
/// trusted for the server's certificate besides the public ones. Errors
/// name the URL without its password.
fn endpoint(url: &url::Url, authority: Option<&Certificate>) -> Result<Endpoint, SendError> {
    let shown = redact::url(url.as_str());
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(bad_smtp_url(format!("`{shown}` is not an SMTP URL")));
    }
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        _ => return Err(bad_smtp_url(format!("`{shown}` names no server"))),
    };
    let config = |detail: String| SendError::Config {
        setting: "smtp_url",
        detail: format!("`{shown}`: {detail}"),
    };
    let parameters = || {
        let mut builder = TlsParameters::builder(host.clone());
        if let Some(authority) = authority {
            builder = builder.add_root_certificate(authority.clone());
        }
        builder
            .build()
            .map_err(|error| config(format!("cannot set up TLS: {error}")))
    };
    let tls_mode = url
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    let (tls, default_port) = match (url.scheme(), tls_mode.as_deref()) {
        ("smtps", _) => (Tls::Implicit(parameters()?), 465),
        (_, None) => (Tls::Off, 25),
        (_, Some("required")) => (Tls::Required(parameters()?), 587),
        (_, Some("opportunistic")) => (Tls::Opportunistic(parameters()?), 587),
        (_, Some(other)) => {
            return Err(config(format!(
                "`tls={other}` is neither `required` nor `opportunistic`"
            )))
        }
    };
    let hello = match url.path().trim_matches('/') {
        "" => ClientId::default(),
        name => ClientId::Domain(name.to_owned()),
    };
    let credentials = match url.password() {
        None => None,
        Some(password) => {
            let user = percent_decode(url.username()).ok_or_else(|| {
                config("the user name is not valid percent-encoded UTF-8".to_owned())
            })?;
            let password = percent_decode(password).ok_or_else(|| {
                config("the password is not valid percent-encoded UTF-8".to_owned())
            })?;
            Some(Credentials::new(user, password))
        }
    };
    Ok(Endpoint {
        host,
        port: url.port().unwrap_or(default_port),
        hello,
        tls,
        credentials,
    })
}

/// An error in `smtp_url`, ending with the forms the setting takes.
fn bad_smtp_url(detail: String) -> SendError {
    SendError::Config {
        setting: "smtp_url",
        detail: format!(
            "{detail}; use smtp://host:port, smtp://host:port?tls=required or smtps://host:port"
        ),
    }
}

/// `.eml` files in a directory, one per `Message-ID`.
#[derive(Debug)]
struct Files {
    dir: PathBuf,
    timeout: Duration,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How temporary files in the outbox directory begin. They never end in
/// `.eml`: a half-written one must not look like a message.
const TEMP_PREFIX: &str = ".tmp-";

impl Files {
    async fn write(&self, message: &Message) -> Result<(), SendError> {
        let via = format!("files in {}", self.dir.display());
        let name = file_name(message).ok_or_else(|| SendError::Permanent {
            via: via.clone(),
            code: None,
            detail: "the message has no Message-ID to name its file after".to_owned(),
        })?;
        let target = self.dir.join(&name);
        match tokio::time::timeout(
            self.timeout,
            write_atomically(&self.dir, &target, &message.formatted()),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(SendError::Transient {
                via,
                code: None,
                detail: format!("{}: {error}", target.display()),
            }),
            Err(_elapsed) => Err(SendError::Transient {
                via,
                code: None,
                detail: format!(
                    "{}: not written within {}",
                    target.display(),
                    humantime::format_duration(self.timeout)
                ),
            }),
        }
    }
}

/// Writes a temporary file next to the target, flushes it to disk and
/// renames it into place (then flushes the directory, so the rename
/// survives a power cut), so a reader never sees half a message. Writing
/// the same `Message-ID` again replaces the file.
async fn write_atomically(dir: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let temp = dir.join(format!(
        "{TEMP_PREFIX}{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temp, target).await?;
        sync_directory(dir).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}

/// Flushes a directory's entries to disk. A rename is durable only once
/// its directory is: without this, a power cut could take back a message
/// file after its row was recorded as sent.
async fn sync_directory(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    tokio::fs::File::open(dir).await?.sync_all().await?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the temporary files of writes that were abandoned: a process
/// killed mid-write (or a write cut off by the send timeout) leaves its
/// temporary file behind, and nothing else would ever remove it. A file
/// older than `send_timeout` belongs to no live write, since a write is
/// given up after that long; younger ones may be another instance's write
/// in progress and are left alone. Failures are only logged: leftovers are
/// untidy, not a reason to refuse to start.
async fn remove_abandoned_temporaries(dir: &Path, send_timeout: Duration) {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "cannot look for abandoned temporary files");
            return;
        }
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let abandoned = entry
            .metadata()
            .await
            .and_then(|metadata| metadata.modified())
            .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age > send_timeout));
        if !abandoned {
            continue;
        }
        let path = entry.path();
        match tokio::fs::remove_file(&path).await {
            Ok(()) => tracing::info!(file = %path.display(), "removed an abandoned temporary file"),
            // Another instance starting at the same time removed it first.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(file = %path.display(), %error, "cannot remove an abandoned temporary file");
            }
        }
    }
}

/// `<c_1.escalated@host>` → `c_1.escalated@host.eml`; anything outside a
/// safe set becomes `_`, so a Message-ID can never name a path elsewhere.
fn file_name(message: &Message) -> Option<String> {
    let raw = message.headers().get_raw("Message-ID")?;
    let id = raw.trim().trim_start_matches('<').trim_end_matches('>');
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-+=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        return None;
    }
    Some(format!("{safe}.eml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transport `smtp_url = url` configures.
    fn smtp(url: &str) -> Result<Transport, SendError> {
        Transport::from_settings(&MailSettings {
            smtp_url: Some(url.to_owned()),
            ..MailSettings::default()
        })
    }

    #[test]
    fn an_unknown_scheme_is_a_configuration_error() {
        let error = smtp("imap://mail.example").unwrap_err();
        assert!(
            matches!(
                error,
                SendError::Config {
                    setting: "smtp_url",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_url_without_a_server_says_so() {
        for url in ["smtp://", "smtps://"] {
            let error = smtp(url).unwrap_err().to_string();
            assert!(
                error.contains(&format!("`{url}` names no server")),
                "{url}: {error}"
            );
        }
    }

    #[test]
    fn smtp_urls_become_sessions_with_their_port_tls_hello_and_credentials() {
        let of = |url: &str| endpoint(&url::Url::parse(url).unwrap(), None).unwrap();
        let session = of("smtp://escalator:s3cr%40t@mail.example:2525/ehlo.example?tls=required");
        assert_eq!(
            (session.host.as_str(), session.port),
            ("mail.example", 2525)
        );
        assert!(matches!(session.tls, Tls::Required(_)));
        assert_eq!(session.hello, ClientId::Domain("ehlo.example".to_owned()));
        assert_eq!(
            session.credentials,
            Some(Credentials::new(
                "escalator".to_owned(),
                "s3cr@t".to_owned()
            ))
        );

        let plain = of("smtp://127.0.0.1");
        assert_eq!(plain.port, 25);
        assert!(matches!(plain.tls, Tls::Off));
        assert!(plain.credentials.is_none());

        let implicit = of("smtps://mail.example");
        assert_eq!(implicit.port, 465);
        assert!(matches!(implicit.tls, Tls::Implicit(_)));
        let opportunistic = of("smtp://mail.example?tls=opportunistic");
        assert_eq!(opportunistic.port, 587);
        assert!(matches!(opportunistic.tls, Tls::Opportunistic(_)));
    }

    #[test]
    fn a_certificate_authority_file_that_is_missing_or_not_pem_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        for path in [dir.path().join("missing.pem"), not_pem] {
            let error = Transport::from_settings(&MailSettings {
                smtp_url: Some("smtps://mail.example".to_owned()),
                tls_ca_file: Some(path.clone()),
                ..MailSettings::default()
            })
            .unwrap_err();
            let text = error.to_string();
            assert!(
                text.starts_with("setting `mail.tls_ca_file`: ")
                    && text.contains(&path.display().to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn the_server_in_logs_and_errors_names_the_port_connected_to() {
        let destination = |url: &str| smtp(url).unwrap().destination();
        assert_eq!(destination("smtp://mail.example"), "smtp://mail.example:25");
        assert_eq!(
            destination("smtp://mail.example?tls=required"),
            "smtp://mail.example:587"
        );
        assert_eq!(
            destination("smtp://mail.example?tls=opportunistic"),
            "smtp://mail.example:587"
        );
        assert_eq!(
            destination("smtps://u:pw@mail.example"),
            "smtps://mail.example:465"
        );
        assert_eq!(
            destination("smtp://mail.example:2525"),
            "smtp://mail.example:2525"
        );

        let error = smtp("http://u:pw@mail.example").unwrap_err().to_string();
        assert!(
            error.contains("`http://u:***@mail.example/` is not an SMTP URL"),
            "{error}"
        );
    }

    #[test]
    fn file_names_stay_inside_the_directory() {
        let message = Message::builder()
            .from("a@b.example".parse().unwrap())
            .to("c@d.example".parse().unwrap())
            .message_id(Some("<../../etc/passwd@x>".to_owned()))
            .body(String::from("x"))
            .unwrap();
        let name = file_name(&message).unwrap();
        assert!(!name.contains('/') && !name.starts_with('.'), "{name}");
    }
}
