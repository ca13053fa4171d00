//! A real SMTP server (aiosmtpd, `smtp_server.py` next to this file) for
//! tests, started on a free loopback port and read back from disk.
//!
//! Declare it in a test binary with
//! `#[path = "../support/smtp.rs"] mod smtp;`. The interpreter comes from
//! `ESCALATOR_TEST_PYTHON`, or a virtualenv made in `target/smtp-venv` on first
//! use; without either the test is skipped, unless `CI=true`, where that is
//! a failure.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
const STARTUP_LIMIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(10);

/// One message as the server received it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// Headers in order, values decoded (RFC 2047) by Python's `email`.
    pub headers: Vec<(String, String)>,
    /// The top-level content type, e.g. `multipart/alternative`.
    pub content_type: String,
    /// The leaf parts, decoded.
    pub parts: Vec<Part>,
    /// The `.eml` file holding the bytes as received.
    #[serde(skip)]
    pub eml: PathBuf,
}

/// One leaf MIME part.
#[derive(Debug, Clone, Deserialize)]
pub struct Part {
    /// e.g. `text/plain`.
    pub content_type: String,
    /// The decoded text, line ends normalised to `\n`.
    pub body: String,
}

impl Received {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The first part of that content type.
    pub fn part(&self, content_type: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|part| part.content_type == content_type)
            .map(|part| part.body.as_str())
    }
}

/// A running aiosmtpd server with its own directory.
pub struct SmtpServer {
    python: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    tls: Option<Tls>,
}

/// How a server speaks TLS, with a certificate for `localhost` signed by a
/// certificate authority of its own (`ca.pem` in its directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// TLS from the first byte (`smtps://`).
    Implicit,
    /// STARTTLS offered after EHLO (`smtp://…?tls=required`).
    StartTls,
}

/// The interpreter that runs the test server: `ESCALATOR_TEST_PYTHON` when
/// set, else a virtualenv in `target/smtp-venv` with aiosmtpd, made on first
/// use (once per test process; cargo runs test binaries one after another).
fn python_with_aiosmtpd() -> Option<PathBuf> {
    static PYTHON: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(python) =
                std::env::var_os("ESCALATOR_TEST_PYTHON").filter(|value| !value.is_empty())
            {
                return Some(PathBuf::from(python));
            }
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/smtp-venv");
            let python = venv.join("bin/python");
            let has_aiosmtpd = |python: &Path| {
                Command::new(python)
                    .args(["-c", "import aiosmtpd"])
                    .status()
                    .is_ok_and(|status| status.success())
            };
            if has_aiosmtpd(&python) {
                return Some(python);
            }
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|status| status.success())
                && Command::new(venv.join("bin/pip"))
                    .args([
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "aiosmtpd>=1.4",
                    ])
                    .status()
                    .is_ok_and(|status| status.success());
            (made && has_aiosmtpd(&python)).then_some(python)
        })
        .clone()
}

impl SmtpServer {
    /// Starts a server on a free loopback port, or returns `None` (after
    /// saying so) when no Python with aiosmtpd is at hand (see
    /// [`python_with_aiosmtpd`]). Under `CI=true` a missing interpreter fails
    /// the test.
    pub fn start(test: &str) -> Option<SmtpServer> {
        SmtpServer::start_with(test, None)
    }

    /// Starts a server that speaks TLS as `tls` says, with a certificate
    /// for `localhost` made here by `openssl` and signed by its own
    /// authority, whose certificate [`SmtpServer::ca_file`] names.
    pub fn start_tls(test: &str, tls: Tls) -> Option<SmtpServer> {
        SmtpServer::start_with(test, Some(tls))
    }

    fn start_with(test: &str, tls: Option<Tls>) -> Option<SmtpServer> {
        let has_openssl = || {
            Command::new("openssl")
                .arg("version")
                .output()
                .is_ok_and(|output| output.status.success())
        };
        if tls.is_some() && !has_openssl() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: no `openssl` command to make test certificates, but CI=true");
            }
            println!("{test}: skipped, no `openssl` command to make test certificates");
            return None;
        }
        let Some(python) = python_with_aiosmtpd() else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: no Python with aiosmtpd (ESCALATOR_TEST_PYTHON unset and target/smtp-venv could not be made) but CI=true");
            }
            println!("{test}: skipped, no Python with aiosmtpd (set ESCALATOR_TEST_PYTHON, or install python3 with venv)");
            return None;
        };
        let port = free_port();
        let mut server = SmtpServer {
            python,
            port,
            dir: tempfile::tempdir().expect("a temporary directory for the SMTP server"),
            child: None,
            tls,
        };
        if tls.is_some() {
            make_certificates(server.dir.path());
        }
        server.spawn();
        Some(server)
    }

    /// `smtp://127.0.0.1:PORT`; for a TLS server, the URL of its mode with
    /// the host its certificate names: `smtps://localhost:PORT` or
    /// `smtp://localhost:PORT?tls=required`.
    pub fn url(&self) -> String {
        match self.tls {
            None => format!("smtp://127.0.0.1:{}", self.port),
            Some(Tls::Implicit) => format!("smtps://localhost:{}", self.port),
            Some(Tls::StartTls) => format!("smtp://localhost:{}?tls=required", self.port),
        }
    }

    /// The certificate of the authority that signed a TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server; connections are refused until [`SmtpServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + STARTUP_LIMIT;
        while TcpStream::connect(self.address()).is_ok() {
            assert!(
                Instant::now() < deadline,
                "the SMTP server on port {} does not stop",
                self.port
            );
            std::thread::sleep(POLL);
        }
    }

    /// Starts the server again on the same port, with the same directory.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Answers every MAIL FROM with `reply` (e.g. `451 try later`) until
    /// [`SmtpServer::clear_reply`].
    pub fn reply_with(&self, reply: &str) {
        write_switch(&self.control().join("reply"), reply);
    }

    /// Answers normally again.
    pub fn clear_reply(&self) {
        let _ = std::fs::remove_file(self.control().join("reply"));
    }

    /// Holds back the reply to the end of DATA until [`SmtpServer::unstall`].
    pub fn stall(&self) {
        write_switch(&self.control().join("stall"), "");
    }

    /// Lets stalled and later messages through.
    pub fn unstall(&self) {
        let _ = std::fs::remove_file(self.control().join("stall"));
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let dir = self.dir.path().join("messages");
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .filter(|path| {
                    !path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with('.'))
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).expect("a readable sidecar");
                let mut received: Received =
                    serde_json::from_str(&text).expect("a well-formed sidecar");
                for part in &mut received.parts {
                    part.body = part.body.replace("\r\n", "\n");
                }
                received.eml = path.with_extension("eml");
                received
            })
            .collect()
    }

    /// Waits (polling the directory) until at least `count` messages arrived.
    pub fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} messages arrived",
                messages.len()
            );
            std::thread::sleep(POLL);
        }
    }

    fn control(&self) -> PathBuf {
        self.dir.path().join("control")
    }

    fn address(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("a log file for the SMTP server");
        let mut command = Command::new(&self.python);
        command
            .arg(SCRIPT)
            .arg(self.port.to_string())
            .arg(self.dir.path());
        if let Some(tls) = self.tls {
            command
                .arg(match tls {
                    Tls::Implicit => "smtps",
                    Tls::StartTls => "starttls",
                })
                .arg(self.dir.path().join("server.pem"))
                .arg(self.dir.path().join("server.key"));
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", self.python.display()));
        self.child = Some(child);
        self.wait_until_ready();
    }

    /// Polls the port until the server accepts connections.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            if TcpStream::connect_timeout(&self.address(), Duration::from_secs(1)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the SMTP server exited ({status}):\n{}", self.log());
                }
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server did not listen within {STARTUP_LIMIT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(POLL);
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The server's directory (messages/, control/, server.log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn write_switch(path: &Path, content: &str) {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, content).expect("a writable control directory");
    std::fs::rename(&temp, path).expect("a writable control directory");
}

/// A port that was free a moment ago (the OS picks it; the server binds it next).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// Writes `ca.pem` (a certificate authority), and `server.pem` and
/// `server.key` (a certificate for `localhost` and 127.0.0.1 that it
/// signed) into `dir`, with the `openssl` command.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command, to make test certificates");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=escalator test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write the extensions file");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}
