//! SMTP delivery through lettre over rustls (ring provider): plain, STARTTLS
//! or implicit TLS, optional credentials, and a classification of failures
//! into temporary (4xx replies, refused or dropped connections, timeouts:
//! try again later) and permanent (5xx replies, unusable addresses: record
//! and stop). The server's certificate is checked against the built-in web
//! roots plus, optionally, the CAs of [`SmtpSettings::ca_file`] (a relay
//! with a private CA).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use crate::MailError;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// No TLS (a relay on localhost or in a private network).
    Plain,
    /// Plain connect, then STARTTLS, required (usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl Security {
    /// `plain`, `starttls` or `tls`.
    pub fn parse(s: &str) -> Result<Security, MailError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plain" | "none" => Ok(Security::Plain),
            "starttls" => Ok(Security::StartTls),
            "tls" | "ssl" => Ok(Security::Tls),
            other => Err(MailError::Config(format!("smtp security {other:?}: use plain, starttls or tls"))),
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::Tls => 465,
        }
    }
}

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Per command; a server slower than this is a temporary failure.
    pub timeout: Duration,
    /// A PEM file of one or more CA certificates trusted in addition to the
    /// built-in web roots, for STARTTLS and TLS (unused with plain SMTP).
    pub ca_file: Option<PathBuf>,
}

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("temporary failure: {0}")]
    Temporary(String),
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// An SMTP client for one server and one envelope sender, keeping up to
/// [`POOL_SIZE`] idle connections for the next messages.
///
/// The connections are made here rather than by lettre's transport so that
/// their sockets set `TCP_NODELAY`: lettre writes a message's body and its
/// final `.` line separately, and with Nagle's algorithm on, that last small
/// write waits for the server's delayed acknowledgement, about 40 ms per
/// message. Implicit TLS (port 465) connects through lettre, which does not
/// expose its socket.
#[derive(Clone)]
pub struct Mailer {
    host: String,
    port: u16,
    security: Security,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    timeout: Duration,
    envelope_from: Address,
    description: String,
    idle: Arc<Mutex<Vec<(AsyncSmtpConnection, Instant)>>>,
}

/// Idle connections kept at most (the outbox sends four messages at once).
pub const POOL_SIZE: usize = 4;
/// An idle connection older than this is closed rather than reused: servers
/// drop idle clients, and a dropped one would fail the next message.
const MAX_IDLE: Duration = Duration::from_secs(20);

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer({})", self.description)
    }
}

impl Mailer {
    pub fn new(settings: &SmtpSettings, from: &Mailbox) -> Result<Mailer, MailError> {
        if settings.host.trim().is_empty() {
            return Err(MailError::Config("smtp host is empty: set [mail] smtp_host or PAPERBOY_SMTP_HOST".into()));
        }
        let host = settings.host.trim().to_string();
        let tls = match settings.security {
            Security::Plain => None,
            Security::StartTls | Security::Tls => Some(tls_parameters(&host, settings.ca_file.as_deref())?),
        };
        let credentials = match (&settings.username, &settings.password) {
            (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.clone())),
            (Some(_), None) | (None, Some(_)) => {
                return Err(MailError::Config("set both the smtp username and password, or neither".into()));
            }
            (None, None) => None,
        };
        Ok(Mailer {
            description: format!("{host}:{} ({:?})", settings.port, settings.security),
            host,
            port: settings.port,
            security: settings.security,
            tls,
            credentials,
            timeout: settings.timeout,
            envelope_from: from.email.clone(),
            idle: Arc::default(),
        })
    }

    /// Sends one message to one recipient.
    pub async fn send_raw(&self, to: &str, message: &[u8]) -> Result<(), SendError> {
        let rcpt: Address =
            to.parse().map_err(|e| SendError::Permanent(format!("the address {to:?} is not valid ({e})")))?;
        let envelope = Envelope::new(Some(self.envelope_from.clone()), vec![rcpt])
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        let mut conn = match self.take_idle() {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        let sent = tokio::time::timeout(self.timeout * 4, conn.send(&envelope, message)).await;
        match sent {
            Ok(Ok(_)) => {
                self.put_back(conn);
                Ok(())
            }
            // A refused recipient leaves the connection usable; anything else
            // may have left it mid-conversation, so it is dropped.
            Ok(Err(e)) => {
                if e.is_permanent() && !conn.has_broken() {
                    self.put_back(conn);
                }
                Err(classify(e))
            }
            Err(_) => Err(SendError::Temporary(format!(
                "the SMTP server {} did not finish within {:?}",
                self.description,
                self.timeout * 4
            ))),
        }
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE && !conn.has_broken() {
                return Some(conn);
            }
        }
        None
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push((conn, Instant::now()));
        }
    }

    /// A new connection: greeted, upgraded to TLS as configured, logged in.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let hello = ClientId::default();
        let timed_out = |what: &str| {
            SendError::Temporary(format!(
                "the SMTP server {} did not {what} within {:?}",
                self.description, self.timeout
            ))
        };
        let mut conn = match self.security {
            Security::Tls => {
                let addr = (self.host.as_str(), self.port);
                AsyncSmtpConnection::connect_tokio1(addr, Some(self.timeout), &hello, self.tls.clone(), None)
                    .await
                    .map_err(tls_failure)?
            }
            Security::Plain | Security::StartTls => {
                let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
                let tcp = match tokio::time::timeout(self.timeout, connect).await {
                    Ok(Ok(tcp)) => tcp,
                    Ok(Err(e)) => {
                        return Err(SendError::Temporary(format!("cannot connect to {}: {e}", self.description)));
                    }
                    Err(_) => return Err(timed_out("accept the connection")),
                };
                // Not fatal: without it, mail is only slower.
                let _ = tcp.set_nodelay(true);
                let greet = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello);
                tokio::time::timeout(self.timeout, greet).await.map_err(|_| timed_out("greet"))?.map_err(classify)?
            }
        };
        if self.security == Security::StartTls
            && let Some(tls) = self.tls.clone()
        {
            conn.starttls(tls, &hello).await.map_err(tls_failure)?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await.map_err(classify)?;
        }
        Ok(conn)
    }
}

/// What to tell an operator whose CA file cannot be used.
const CA_FILE_HINT: &str = "give a PEM file with one or more CA certificates (-----BEGIN CERTIFICATE-----) \
     in [mail] smtp_ca_file or PAPERBOY_SMTP_CA_FILE, or unset it to trust only the built-in roots";

/// rustls with the built-in web roots, plus the certificates of `ca_file`.
fn tls_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = ca_file {
        let shown = path.display();
        let pem = std::fs::read(path)
            .map_err(|e| MailError::Config(format!("cannot read the SMTP CA file {shown}: {e}; {CA_FILE_HINT}")))?;
        // lettre accepts a PEM file without certificates (a key, a DER
        // file, an empty file) as no certificates at all.
        if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
            return Err(MailError::Config(format!(
                "the SMTP CA file {shown} holds no PEM certificate; {CA_FILE_HINT}"
            )));
        }
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            MailError::Config(format!("the SMTP CA file {shown} is not valid PEM ({}); {CA_FILE_HINT}", describe(&e)))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| match ca_file {
        Some(path) => MailError::Config(format!(
            "cannot use the certificates of the SMTP CA file {} ({}); {CA_FILE_HINT}",
            path.display(),
            describe(&e)
        )),
        None => MailError::Config(format!("cannot set up TLS for {host}: {}", describe(&e))),
    })
}

/// 5xx replies are permanent; everything else (4xx, network, TLS) is worth
/// another try later.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() { SendError::Permanent(describe(&e)) } else { SendError::Temporary(describe(&e)) }
}

/// [`classify`], telling the operator what to do about a certificate that no
/// trusted CA signed. Still temporary: once the setting is fixed, the mail
/// goes out, and no subscriber is charged a bounce meanwhile.
fn tls_failure(e: lettre::transport::smtp::Error) -> SendError {
    match classify(e) {
        SendError::Temporary(text) if text.contains("UnknownIssuer") => SendError::Temporary(format!(
            "{text} (the SMTP server's TLS certificate is not signed by a trusted CA: if a private CA signed it, \
             set [mail] smtp_ca_file or PAPERBOY_SMTP_CA_FILE to that CA's PEM file)"
        )),
        other => other,
    }
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        // lettre's messages already end with their source's; say it once.
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_a_temporary_failure() {
        // Port 9 on localhost: nothing listens there in a test environment.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::Plain,
            username: None,
            password: None,
            timeout: Duration::from_secs(2),
            ca_file: None,
        };
        let from: Mailbox = "Paperboy <digest@p.example>".parse().unwrap();
        let m = Mailer::new(&settings, &from).unwrap();
        let r = m.send_raw("ada@example.org", b"Subject: x\r\n\r\nhi\r\n").await;
        assert!(matches!(r, Err(SendError::Temporary(_))), "{r:?}");
        let r = m.send_raw("not an address", b"x").await;
        assert!(matches!(r, Err(SendError::Permanent(_))), "{r:?}");
        assert_eq!(Security::parse("STARTTLS").unwrap(), Security::StartTls);
        assert!(Security::parse("ssl3").is_err());
    }

    #[test]
    fn an_unusable_ca_file_is_a_config_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/smtp");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")
            .unwrap();
        let not_a_cert = dir.path().join("not-a-cert.pem");
        let der = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        std::fs::write(&not_a_cert, der).unwrap();
        let cases = [
            (dir.path().join("missing/ca.pem"), "cannot read"),
            (empty, "no PEM certificate"),
            (fixtures.join("server.key"), "no PEM certificate"),
            (garbage, "not valid PEM"),
            (not_a_cert, "cannot use the certificates"),
            (dir.path().to_path_buf(), "cannot read"),
        ];
        let from: Mailbox = "Paperboy <digest@p.example>".parse().unwrap();
        for (path, what) in cases {
            for security in [Security::StartTls, Security::Tls] {
                let settings = SmtpSettings {
                    host: "relay.internal".into(),
                    port: 587,
                    security,
                    username: None,
                    password: None,
                    timeout: Duration::from_secs(2),
                    ca_file: Some(path.clone()),
                };
                let e = Mailer::new(&settings, &from).unwrap_err();
                let MailError::Config(text) = &e else { panic!("{e:?}") };
                assert!(text.contains(&path.display().to_string()), "names the file: {text}");
                assert!(text.contains(what), "says what is wrong ({what}): {text}");
                assert!(text.contains("smtp_ca_file"), "says what to do: {text}");
            }
        }
        // The test CA is fine; with plain SMTP the setting is not used.
        let mut settings = SmtpSettings {
            host: "relay.internal".into(),
            port: 587,
            security: Security::StartTls,
            username: None,
            password: None,
            timeout: Duration::from_secs(2),
            ca_file: Some(fixtures.join("test-ca.pem")),
        };
        assert!(Mailer::new(&settings, &from).is_ok());
        settings.security = Security::Plain;
        settings.ca_file = Some(dir.path().join("missing/ca.pem"));
        assert!(Mailer::new(&settings, &from).is_ok());
    }
}
