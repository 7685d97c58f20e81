//! `tessera explain`: who a credential is, what it may do and why, and what forward-auth decides.

use tessera_core::token_format::{has_shape, TokenKind};

use crate::authn::{AuthnError, Presented};
use crate::forward_auth::{decide, Decision, Step};
use crate::identity::Identity;
use crate::{ServiceError, Services};

impl Services {
    /// Resolves a credential as an operator pastes it: a JWT, a client token, the service key, or
    /// `user:password`. It is put in the header it would travel in and goes through `authenticate`, the
    /// one path every request takes.
    pub async fn resolve_any(&self, credential: &str) -> Result<Option<Identity>, ServiceError> {
        let c = credential.trim();
        let prefix = &self.settings.tokens.prefix;
        let is_token = has_shape(TokenKind::Client, prefix, c) || c.split('.').count() == 3;
        let header = if !is_token && self.service_key_identity(c).is_none() && c.contains(':') {
            use base64::Engine;
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(c))
        } else {
            format!("Bearer {c}")
        };
        let mut presented = Presented {
            client_ip: Some("cli".to_owned()),
            ..Presented::default()
        };
        if !is_token && self.service_key_identity(c).is_some() {
            presented.service_key = Some(c.as_bytes());
        } else {
            presented.authorization = Some(header.as_bytes());
        }
        match self.authenticate(&presented).await {
            Ok(id) => Ok(id),
            Err(AuthnError::Unauthorized(_) | AuthnError::TooLarge | AuthnError::SecondFactorRequired) => {
                Ok(None)
            }
            Err(AuthnError::Service(e)) => Err(e),
        }
    }

    /// A human-readable account of a credential and, with a URL, of forward-auth's decision.
    pub async fn explain(
        &self,
        credential: &str,
        method: &str,
        url: Option<&str>,
    ) -> Result<String, ServiceError> {
        let mut out = String::new();
        let mut line = |k: &str, v: String| out.push_str(&format!("{k:<18} {v}\n"));
        let id = self.resolve_any(credential).await?;
        let names = |s| self.catalog.to_text(s);
        match &id {
            None => line(
                "credential",
                "invalid, expired, revoked, or of a disabled user".into(),
            ),
            Some(id) => {
                line("credential", id.kind.as_str().into());
                match &id.principal {
                    Some(p) => {
                        line(
                            "user",
                            format!("{} (id {}, role {})", p.username, p.user_id, p.role.as_str()),
                        );
                        line("owner rights", names(self.rights_of(p.user_id).await?));
                    }
                    None => line("subject", id.subject.to_string()),
                }
                if let Some(d) = &id.device_id {
                    line("device", d.to_string());
                }
                line("credential scopes", names(id.granted));
                line(
                    "effective",
                    format!("{}  (credential scopes ∩ owner rights)", names(id.scopes)),
                );
            }
        }
        if let Some(url) = url {
            let (host, uri) =
                split_url(url).ok_or_else(|| ServiceError::field("url", "give an absolute http(s) URL"))?;
            line("request", format!("{method} {url}"));
            let host = crate::forward_auth::canonical_host(host)
                .map_err(|_| ServiceError::field("url", "the URL's host is not a host name"))?
                .name;
            let host: &str = &host;
            let (step, path) = self.rules.first_step(host, uri, method);
            if let Some(p) = path {
                line("normalised path", p.into_owned());
            }
            let decision = match step {
                Step::Done(d) => {
                    let rule = match &d {
                        Decision::BadPath => "none (the path is refused before matching)".to_owned(),
                        _ => self.describe_rule(host, uri, method),
                    };
                    line("rule", rule);
                    d
                }
                Step::NeedsIdentity { rule, policy } => {
                    line("rule", self.describe_rule(host, uri, method));
                    decide(&self.catalog, rule, policy, id.as_ref())
                }
            };
            line("decision", describe_decision(&decision));
        }
        Ok(out)
    }

    fn describe_rule(&self, host: &str, uri: &str, method: &str) -> String {
        let path = crate::forward_auth::normalize_path(uri).unwrap_or_default();
        match self.rules.find(host, &path, method) {
            Some(r) => {
                let s = &r.spec;
                let mut text = format!("#{} path={}", r.index, s.path);
                if let Some(h) = &s.host {
                    text.push_str(&format!(" host={h}"));
                }
                if let Some(m) = &s.methods {
                    text.push_str(&format!(" methods={}", m.join(",")));
                }
                text.push_str(&format!(" policy={:?}", s.policy).to_lowercase());
                if !s.scopes.is_empty() {
                    text.push_str(&format!(" scopes={}", s.scopes.join(",")));
                }
                text
            }
            None => format!("none matched; default policy {:?}", self.rules.default_policy).to_lowercase(),
        }
    }
}

fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let i = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, uri) = rest.split_at(i);
    Some((host, if uri.is_empty() { "/" } else { uri }))
}

fn describe_decision(d: &Decision) -> String {
    match d {
        Decision::Bypass => "200 bypass (credentials are not examined)".into(),
        Decision::Allow => "200 allow (identity headers sent upstream)".into(),
        Decision::Unauthenticated { login_redirect: true } => {
            "401 unauthenticated (browsers are sent to /login)".into()
        }
        Decision::Unauthenticated {
            login_redirect: false,
        } => "401 unauthenticated".into(),
        Decision::Denied => "403 denied".into(),
        Decision::BadPath => "403 bad_path".into(),
        Decision::MissingScope { required, missing } => {
            format!(
                "403 missing_scope (required: {}; missing: {})",
                required.join(" "),
                missing.join(" ")
            )
        }
    }
}
