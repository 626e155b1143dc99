//! SMTP delivery through lettre over rustls (ring provider): plain, STARTTLS
//! or implicit TLS, optional credentials, and a classification of failures
//! into temporary (4xx replies, refused or dropped connections, timeouts:
//! try again later) and permanent (5xx replies, unusable addresses: record
//! and stop).

use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

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

/// An SMTP client for one server and one envelope sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    envelope_from: Address,
    description: String,
}

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
        let tls = |h: &str| {
            TlsParameters::new(h.to_string()).map_err(|e| MailError::Config(format!("cannot set up TLS for {h}: {e}")))
        };
        let tls = match settings.security {
            Security::Plain => Tls::None,
            Security::StartTls => Tls::Required(tls(&host)?),
            Security::Tls => Tls::Wrapper(tls(&host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new().max_size(4).idle_timeout(Duration::from_secs(30)));
        match (&settings.username, &settings.password) {
            (Some(u), Some(p)) => builder = builder.credentials(Credentials::new(u.clone(), p.clone())),
            (Some(_), None) | (None, Some(_)) => {
                return Err(MailError::Config("set both the smtp username and password, or neither".into()));
            }
            (None, None) => {}
        }
        Ok(Mailer {
            transport: builder.build(),
            envelope_from: from.email.clone(),
            description: format!("{host}:{} ({:?})", settings.port, settings.security),
        })
    }

    /// Hands one stored message to the server for `to`.
    pub async fn send_raw(&self, to: &str, message: &[u8]) -> Result<(), SendError> {
        let rcpt: Address =
            to.parse().map_err(|e| SendError::Permanent(format!("the address {to:?} is not valid ({e})")))?;
        let envelope = Envelope::new(Some(self.envelope_from.clone()), vec![rcpt])
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.transport.send_raw(&envelope, message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(describe(&e))),
            Err(e) => Err(SendError::Temporary(describe(&e))),
        }
    }
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
