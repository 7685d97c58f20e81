//! `[mail]`: the SMTP relay for reset and verification mail.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_service::settings::MailSettings;

use super::{err, ConfigError};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct MailFile {
    /// SMTP relay; unset: no mail is sent (operators use `tessera users reset-link`).
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    /// none | starttls | tls (default starttls).
    smtp_tls: Option<tessera_service::settings::SmtpTls>,
    /// The From address (default `tessera@<public host>`).
    from: Option<String>,
}

pub(super) fn settings(f: &MailFile, public_url: &str) -> Result<MailSettings, ConfigError> {
    let host = f.smtp_host.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let tls = f.smtp_tls.unwrap_or_default();
    let from = match &f.from {
        Some(a) => a.trim().to_owned(),
        None => format!(
            "tessera@{}",
            tessera_service::forward_auth::url_host(public_url)
                .unwrap_or("localhost")
                .split(':')
                .next()
                .unwrap_or("localhost")
        ),
    };
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(err(
            "mail.from",
            "must be an email address, optionally with a name",
        ));
    }
    Ok(MailSettings {
        smtp_host: host.map(str::to_owned),
        smtp_port: f.smtp_port.unwrap_or(match tls {
            tessera_service::settings::SmtpTls::Tls => 465,
            tessera_service::settings::SmtpTls::Starttls => 587,
            tessera_service::settings::SmtpTls::None => 25,
        }),
        smtp_username: f.smtp_username.clone().filter(|u| !u.is_empty()),
        smtp_password: f
            .smtp_password
            .clone()
            .filter(|p| !p.is_empty())
            .map(SecretString::from),
        smtp_tls: tls,
        from,
    })
}
