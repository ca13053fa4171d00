//! Our own small pool of SMTP connections, for every SMTP URL: plain,
//! STARTTLS and implicit TLS (`smtps://`).
//!
//! lettre 0.11 writes a message's body and its terminating `\r\n.\r\n` as two
//! writes and never sets `TCP_NODELAY`, so Nagle's algorithm holds the
//! terminator until the server's delayed ACK: about 40 ms per message. lettre
//! accepts an existing stream (`AsyncSmtpConnection::connect_with_transport`),
//! so for plain and STARTTLS sessions we open the socket ourselves, with
//! `TCP_NODELAY`. Implicit TLS must start before the greeting, which that
//! constructor cannot do, so `smtps://` sessions are opened by lettre
//! (`connect_tokio1`) and keep the delay; they share everything else here,
//! the recipient-by-recipient transaction included.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::net::TcpStream;

/// Idle sessions older than this are closed rather than reused: servers
/// drop idle clients (Postfix after 300 s, many after 60 s).
const MAX_IDLE: Duration = Duration::from_secs(30);

/// How a session is secured.
#[derive(Clone)]
pub(super) enum Tls {
    /// Plain SMTP.
    Off,
    /// STARTTLS after the greeting when the server offers it.
    Opportunistic(TlsParameters),
    /// STARTTLS after the greeting, or no session at all.
    Required(TlsParameters),
    /// TLS from the first byte (`smtps://`).
    Implicit(TlsParameters),
}

/// Where and how to open sessions.
pub(super) struct Endpoint {
    pub host: String,
    pub port: u16,
    pub hello: ClientId,
    pub tls: Tls,
    pub credentials: Option<Credentials>,
}

/// Why one send failed.
#[derive(Debug)]
pub(super) enum DirectError {
    /// The TCP connection could not be opened.
    Connect(std::io::Error),
    /// The SMTP session failed (a reply, TLS, or a broken connection).
    Smtp(lettre::transport::smtp::Error),
    /// The message needs an extension the server lacks (SMTPUTF8 for an
    /// address that is not ASCII, 8BITMIME for a body that is not): the
    /// same message fails again.
    Unsupported(&'static str),
}

/// A recipient the server refused for good (`RCPT TO` answered 5xx) while
/// it took the message for others, with its answer.
pub(super) type Refused = (Address, lettre::transport::smtp::Error);

/// Idle sessions, most recently used last. Callers bound the concurrency;
/// the pool keeps at most `max_idle` sessions.
pub(super) struct Connections {
    endpoint: Endpoint,
    max_idle: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("host", &self.endpoint.host)
            .field("port", &self.endpoint.port)
            .finish_non_exhaustive()
    }
}

impl Connections {
    pub(super) fn new(endpoint: Endpoint, max_idle: usize) -> Connections {
        Connections {
            endpoint,
            max_idle,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends one message on an idle session or a new one. A reused session
    /// that fails before the server answered anything (it was closed while
    /// idle) is replaced by a fresh one once. A session is kept only if the
    /// exchange left it usable; a send cut off by the caller's timeout drops
    /// its session with the future, so a late reply is never read by the
    /// next message.
    ///
    /// `Ok` lists the recipients refused for good while the server took the
    /// message for the others (see [`transaction`]).
    pub(super) async fn send(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Vec<Refused>, DirectError> {
        if let Some(mut connection) = self.take_idle() {
            let mut answered = false;
            match transaction(&mut connection, envelope, message, &mut answered).await {
                Ok(refused) => {
                    self.put_back(connection);
                    return Ok(refused);
                }
                // Broken before the server answered `MAIL FROM`: nothing of
                // this message reached it, so a fresh session may send it.
                Err(DirectError::Smtp(error)) if error.status().is_none() && !answered => {
                    drop(connection)
                }
                // Answered by the server, refused before anything was sent,
                // or broken after the transaction began (the message may
                // have arrived: the caller's retry decides, later). A
                // broken session is not kept.
                Err(error) => {
                    self.put_back(connection);
                    return Err(error);
                }
            }
        }
        let mut connection = self.connect().await?;
        let result = transaction(&mut connection, envelope, message, &mut false).await;
        self.put_back(connection);
        result
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((connection, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE && !connection.has_broken() {
                return Some(connection);
            }
        }
        None
    }

    fn put_back(&self, connection: AsyncSmtpConnection) {
        if connection.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push((connection, Instant::now()));
        }
    }

    /// Opens a session: TCP with `TCP_NODELAY`, greeting and EHLO, STARTTLS
    /// as configured (or TLS first, by lettre, for `smtps://`), then AUTH
    /// when credentials are given.
    async fn connect(&self) -> Result<AsyncSmtpConnection, DirectError> {
        let endpoint = &self.endpoint;
        let address = (endpoint.host.as_str(), endpoint.port);
        let mut connection = if let Tls::Implicit(parameters) = &endpoint.tls {
            // The caller's timeout bounds the whole send, the connect included.
            AsyncSmtpConnection::connect_tokio1(
                address,
                None,
                &endpoint.hello,
                Some(parameters.clone()),
                None,
            )
            .await
            .map_err(DirectError::Smtp)?
        } else {
            let stream = TcpStream::connect(address)
                .await
                .map_err(DirectError::Connect)?;
            stream.set_nodelay(true).map_err(DirectError::Connect)?;
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &endpoint.hello)
                .await
                .map_err(DirectError::Smtp)?
        };
        match &endpoint.tls {
            Tls::Off | Tls::Implicit(_) => {}
            Tls::Opportunistic(parameters) => {
                if connection.can_starttls() {
                    connection
                        .starttls(parameters.clone(), &endpoint.hello)
                        .await
                        .map_err(DirectError::Smtp)?;
                }
            }
            Tls::Required(parameters) => connection
                .starttls(parameters.clone(), &endpoint.hello)
                .await
                .map_err(DirectError::Smtp)?,
        }
        if let Some(credentials) = &endpoint.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(DirectError::Smtp)?;
        }
        Ok(connection)
    }
}

/// One SMTP transaction, as lettre's `send` runs it but for one difference:
/// a recipient refused for good (`RCPT TO` answered 5xx, an unknown mailbox
/// say) is set aside rather than ending the transaction, so the others
/// still get the message. lettre gives up on the first refused recipient,
/// and one bad address among a rule's `notify` would keep the escalation
/// from its desk. Only when every recipient is refused does the message
/// fail, with the first refusal. A transient answer to any command ends
/// the transaction before `DATA`, so no recipient has the message yet and
/// the retry sends it once.
///
/// `answered` is set once the server answered `MAIL FROM`: from then on a
/// broken session may have left part of the transaction, or all of it,
/// with the server.
async fn transaction(
    connection: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    message: &[u8],
    answered: &mut bool,
) -> Result<Vec<Refused>, DirectError> {
    let mut options = Vec::new();
    let addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.map(AsRef::<str>::as_ref).any(|a| !a.is_ascii()) {
        if !connection
            .server_info()
            .supports_feature(Extension::SmtpUtfEight)
        {
            return Err(DirectError::Unsupported(
                "an address is not ASCII and the server does not offer SMTPUTF8",
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() {
        if !connection
            .server_info()
            .supports_feature(Extension::EightBitMime)
        {
            return Err(DirectError::Unsupported(
                "the message is not ASCII and the server does not offer 8BITMIME",
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let exchange = async {
        let mail = connection
            .command(Mail::new(envelope.from().cloned(), options))
            .await;
        *answered = mail.is_ok();
        mail?;
        let mut refused = Vec::new();
        for recipient in envelope.to() {
            match connection
                .command(Rcpt::new(recipient.clone(), vec![]))
                .await
            {
                Ok(_) => {}
                Err(error) if error.is_permanent() => refused.push((recipient.clone(), error)),
                Err(error) => return Err(error),
            }
        }
        if !refused.is_empty() && refused.len() == envelope.to().len() {
            // The session stays usable once the transaction is reset.
            connection.command(Rset).await?;
            let (_, first) = refused.swap_remove(0);
            return Ok(Exchange::AllRefused(first));
        }
        connection.command(Data).await?;
        connection.message(message).await?;
        Ok(Exchange::Sent(refused))
    }
    .await;
    match exchange {
        Ok(Exchange::Sent(refused)) => Ok(refused),
        Ok(Exchange::AllRefused(first)) => Err(DirectError::Smtp(first)),
        Err(error) => {
            // As lettre does: a session left mid-transaction is not reused.
            connection.abort().await;
            Err(DirectError::Smtp(error))
        }
    }
}

/// How a transaction the server saw through to its end came out.
enum Exchange {
    /// The message went to every recipient but these.
    Sent(Vec<Refused>),
    /// Every recipient was refused (the first refusal); nothing was sent
    /// and the session was reset for the next message.
    AllRefused(lettre::transport::smtp::Error),
}

/// Decodes `%XX` escapes in a URL's user name or password.
pub(super) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_in_credentials_are_decoded() {
        assert_eq!(percent_decode("s3cr%40t%2F").as_deref(), Some("s3cr@t/"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("bad%4"), None);
    }
}
