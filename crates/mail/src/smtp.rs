//! SMTP delivery through lettre over rustls (ring provider): plain, STARTTLS
//! or implicit TLS, optional credentials, and a classification of failures
//! into temporary (4xx replies, refused or dropped connections, timeouts:
//! try again later) and permanent (5xx replies, unusable addresses: record
//! and stop).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
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
            Security::StartTls | Security::Tls => Some(
                TlsParameters::new(host.clone())
                    .map_err(|e| MailError::Config(format!("cannot set up TLS for {host}: {e}")))?,
            ),
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
                    .map_err(classify)?
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
            conn.starttls(tls, &hello).await.map_err(classify)?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await.map_err(classify)?;
        }
        Ok(conn)
    }
}

/// 5xx replies are permanent; everything else (4xx, network, TLS) is worth
/// another try later.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() { SendError::Permanent(describe(&e)) } else { SendError::Temporary(describe(&e)) }
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
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
}
