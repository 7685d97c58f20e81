//! Outgoing mail through SMTP (lettre): password-reset and email-verification links. Without SMTP
//! configured nothing is sent, and the links never go to the log either.

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::settings::{MailSettings, SmtpTls};
use crate::ServiceError;

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("enabled", &self.transport.is_some())
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    pub fn new(s: &MailSettings) -> Result<Self, ServiceError> {
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("mail.from: {e}")))?;
        let Some(host) = s.smtp_host.as_deref() else {
            return Ok(Self {
                transport: None,
                from,
            });
        };
        let builder = match s.smtp_tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("mail.smtp_host: {e}")))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("mail.smtp_host: {e}")))?,
        };
        let mut builder = builder
            .port(s.smtp_port)
            .timeout(Some(std::time::Duration::from_secs(10)));
        if let (Some(user), Some(pw)) = (&s.smtp_username, &s.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), pw.expose_secret().to_owned()));
        }
        Ok(Self {
            transport: Some(builder.build()),
            from,
        })
    }

    pub fn enabled(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends a plain-text mail; `Ok(false)` when no SMTP is configured (nothing was sent).
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<bool, ServiceError> {
        let Some(transport) = &self.transport else {
            return Ok(false);
        };
        let to: Mailbox = to
            .parse()
            .map_err(|_| ServiceError::field("email", "must be an email address"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("building mail: {e}")))?;
        transport
            .send(message)
            .await
            .map_err(|e| ServiceError::Unavailable(format!("SMTP: {e}")))?;
        Ok(true)
    }
}
