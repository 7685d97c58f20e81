//! `/oauth/authorize` (OpenID Connect Core 1.0 §3.1, RFC 6749 §4.1, RFC 7636, RFC 9207): the request is
//! checked here, the person signs in and consents through pages, and a one-use code goes back to the client.
//!
//! Only `response_type=code`. Errors about the client or its redirect URI are shown to the person (never
//! redirected: that would make Tessera an open redirector); every other error goes back to the client's
//! registered redirect URI with `state` and `iss`. A code never grants more than the person's rights ∩ the
//! client's scopes ∩ what was asked, and carries the PKCE challenge, the nonce and the exact redirect URI.

use base64::Engine;
use sha2::Digest;
use tessera_core::token_format::TokenDigest;
use tessera_core::ScopeSet;
use tessera_db::models::authorization_codes::AuthorizationCode;
use tessera_db::models::oauth_clients::OAuthClient;
use tessera_db::models::oauth_consents::OAuthConsent;

use crate::identity::{CredentialKind, Identity};
use crate::ratelimit::LimitedAction;
use crate::{audit, ServiceError, Services};

/// The OpenID scopes Tessera understands, in the order they are written back.
pub const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];
/// A code is redeemed within seconds; RFC 6749 §4.1.2 recommends at most ten minutes.
pub const CODE_LIFETIME_SECS: i64 = 60;
/// Used codes are kept this long past their expiry, so a late replay is recognised and revokes.
pub const USED_CODE_KEEP_SECS: i64 = 3600;
/// Bounds on what a client may send; RFC 7636 fixes the verifier's.
const MAX_STATE_LEN: usize = 1024;
const MAX_NONCE_LEN: usize = 512;
const MAX_SCOPE_LEN: usize = 2048;
const MAX_HINT_LEN: usize = 255;

/// The authorization request's parameters as sent (query or form).
#[derive(Clone, Debug, Default)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    /// Tessera's own marker, added when it sends the person to sign in again for `prompt=login`: a
    /// session started before this second does not count.
    pub auth_after: Option<String>,
    /// The browser's address, for the `authorize` rate limit.
    pub client_ip: Option<String>,
}

/// What went wrong, and where it is told.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// About the client or the redirect URI: shown on a page, never redirected (RFC 6749 §4.1.2.1).
    #[error("{0}")]
    Page(String),
    /// Sent back to the client: `location` is the redirect URI with `error`, `state` and `iss`.
    #[error("{error}")]
    Redirect { location: String, error: &'static str },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<tessera_db::DbError> for AuthorizeError {
    fn from(e: tessera_db::DbError) -> Self {
        AuthorizeError::Service(e.into())
    }
}

/// The client as the consent page shows it.
#[derive(Clone, Debug)]
pub struct ClientSummary {
    pub client_id: String,
    pub name: String,
    pub logo_uri: Option<String>,
    pub skip_consent: bool,
    pub scopes: ScopeSet,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A checked authorization request.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    pub client: ClientSummary,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// Tessera's scopes the request names (None: it names none).
    pub named: Option<ScopeSet>,
    /// The OpenID scopes it names, in `OIDC_SCOPES` order.
    pub oidc: Vec<&'static str>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub auth_after: Option<i64>,
}

/// What happens next for a checked request and the person's session.
#[derive(Debug)]
pub enum Decision {
    /// Send the person to `/login`; `again` when a session exists but is too old or `prompt=login`.
    SignIn { again: bool },
    /// Ask the person: these scopes (Tessera's names and the OpenID ones) for this client.
    Consent { scopes: Vec<String> },
    /// Done: redirect the browser here (the code, `state` and `iss`).
    Redirect(String),
}

/// `base64url(SHA-256(verifier))`, the S256 transformation of RFC 7636 §4.2.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`. A challenge (its S256) has the same shape.
pub fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Appends query parameters to a registered redirect URI (which may carry its own query). Registration
/// checked that it parses; were it not to, it is returned as it is.
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let Ok(mut out) = url::Url::parse(uri) else {
        return uri.to_owned();
    };
    {
        let mut q = out.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    out.into()
}

fn bounded(v: &Option<String>, max: usize) -> Result<Option<&str>, &'static str> {
    match v.as_deref().filter(|s| !s.is_empty()) {
        Some(s) if s.len() > max || s.chars().any(char::is_control) => Err("too long or not printable"),
        other => Ok(other),
    }
}

impl AuthorizeRequest {
    /// The error redirect for this request (RFC 6749 §4.1.2.1, RFC 9207 `iss`).
    pub fn error(&self, issuer: &str, error: &'static str, description: &str) -> AuthorizeError {
        let mut params = vec![
            ("error", error),
            ("error_description", description),
            ("iss", issuer),
        ];
        if let Some(s) = &self.state {
            params.push(("state", s));
        }
        AuthorizeError::Redirect {
            location: with_query(&self.redirect_uri, &params),
            error,
        }
    }

    /// Every scope name the request asks for, Tessera's and OpenID's, as consent records them.
    pub fn all_scope_names(&self, services: &Services, granted: ScopeSet) -> Vec<String> {
        let mut names: Vec<String> = self.oidc.iter().map(|s| (*s).to_owned()).collect();
        names.extend(services.catalog.names(granted).into_iter().map(str::to_owned));
        names
    }

    /// The parameters to resend: the consent form's hidden fields, the `/login` return address.
    pub fn to_params(&self, services: &Services) -> Vec<(&'static str, String)> {
        let mut scope: Vec<String> = self.oidc.iter().map(|s| (*s).to_owned()).collect();
        if let Some(n) = self.named {
            scope.extend(services.catalog.names(n).into_iter().map(str::to_owned));
        }
        let mut p = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", scope.join(" ")),
        ];
        let optional = [
            ("state", self.state.clone()),
            ("nonce", self.nonce.clone()),
            ("code_challenge", self.code_challenge.clone()),
            (
                "code_challenge_method",
                self.code_challenge.as_ref().map(|_| "S256".to_owned()),
            ),
            ("max_age", self.max_age.map(|m| m.to_string())),
            ("login_hint", self.login_hint.clone()),
            ("auth_after", self.auth_after.map(|a| a.to_string())),
        ];
        p.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        if self.prompt.consent {
            p.push(("prompt", "consent".to_owned()));
        }
        p
    }
}

impl Services {
    /// Checks an authorization request: first the client and the redirect URI (a page error), then the
    /// rest (an error sent back to the client).
    pub async fn check_authorize(&self, p: &AuthorizeParams) -> Result<AuthorizeRequest, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        // Charged before anything is looked up, so a flood of made-up clients never reaches the database.
        let ip = p.client_ip.as_deref().unwrap_or("unknown");
        self.limits
            .charge(LimitedAction::Authorize, ip, self.clock.now())
            .await
            .map_err(AuthorizeError::Service)?;
        let client_id = p
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 255)
            .ok_or_else(|| page("The request names no valid client (client_id)."))?
            .to_owned();
        let id = client_id.clone();
        let row = self
            .db
            .run(move |c| Ok::<_, ServiceError>(OAuthClient::find_by_client_id(c, &id)?))
            .await?
            .ok_or_else(|| page("The application that sent you here is not registered with this server."))?;
        let redirect_uri = p
            .redirect_uri
            .as_deref()
            .ok_or_else(|| page("The request has no redirect_uri."))?;
        // Exact string comparison (RFC 9700 §4.1.3): no prefix, no pattern, no normalisation.
        if !row.redirect_uri_list().any(|r| r == redirect_uri) {
            return Err(page(
                "The address this application asked to return to is not registered for it.",
            ));
        }
        // An ID token signed with a shared key (HS256) is one no app can verify.
        if !self.keys.algorithm().is_public_key() {
            return Err(page(
                "This server signs tokens with a shared key (HS256), which apps cannot verify. Its operator can \
                 switch jwt.algorithm to ES256, EdDSA or RS256.",
            ));
        }
        let grants_code = row
            .grant_types
            .split(' ')
            .any(|g| g == super::GRANT_AUTHORIZATION_CODE);
        let mut req = AuthorizeRequest {
            client: ClientSummary {
                client_id: row.client_id.clone(),
                name: row.name.clone(),
                logo_uri: row.logo_uri.clone(),
                skip_consent: row.skip_consent,
                scopes: self.catalog.parse(&row.scopes).unwrap_or_default(),
            },
            redirect_uri: redirect_uri.to_owned(),
            state: None,
            nonce: None,
            code_challenge: None,
            named: None,
            oidc: Vec::new(),
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            auth_after: None,
        };
        let issuer = self.settings.server.public_url.clone();
        // `state` first: every later error carries it back.
        match bounded(&p.state, MAX_STATE_LEN) {
            Ok(s) => req.state = s.map(str::to_owned),
            Err(_) => return Err(req.error(&issuer, "invalid_request", "state is too long")),
        }
        let fail = |req: &AuthorizeRequest, e: &'static str, d: &str| Err(req.error(&issuer, e, d));
        if !grants_code {
            return fail(
                &req,
                "unauthorized_client",
                "this client may not use the authorization code grant",
            );
        }
        match p.response_type.as_deref() {
            Some("code") => {}
            None | Some("") => return fail(&req, "invalid_request", "response_type is required"),
            Some(_) => {
                return fail(
                    &req,
                    "unsupported_response_type",
                    "only response_type=code is supported",
                )
            }
        }
        if p.response_mode.as_deref().is_some_and(|m| m != "query") {
            return fail(&req, "invalid_request", "only response_mode=query is supported");
        }
        match bounded(&p.nonce, MAX_NONCE_LEN) {
            Ok(n) => req.nonce = n.map(str::to_owned),
            Err(_) => return fail(&req, "invalid_request", "nonce is too long"),
        }
        match bounded(&p.login_hint, MAX_HINT_LEN) {
            Ok(h) => req.login_hint = h.map(str::to_owned),
            Err(_) => return fail(&req, "invalid_request", "login_hint is too long"),
        }
        // PKCE: S256 only; required of public clients (they have no other proof of who redeems the code).
        match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
            (Some(c), Some("S256")) if is_pkce_string(c) => req.code_challenge = Some(c.to_owned()),
            (Some(_), Some("S256")) => return fail(&req, "invalid_request", "code_challenge is malformed"),
            (Some(_), None | Some("plain")) => {
                return fail(
                    &req,
                    "invalid_request",
                    "code_challenge_method must be S256 (plain is refused)",
                )
            }
            (Some(_), Some(_)) => return fail(&req, "invalid_request", "code_challenge_method must be S256"),
            (None, Some(_)) => {
                return fail(
                    &req,
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                )
            }
            (None, None) if !row.confidential => {
                return fail(
                    &req,
                    "invalid_request",
                    "public clients must use PKCE (code_challenge with S256)",
                )
            }
            (None, None) => {}
        }
        let scope_text = match bounded(&p.scope, MAX_SCOPE_LEN) {
            Ok(s) => s.unwrap_or(""),
            Err(_) => return fail(&req, "invalid_scope", "scope is too long"),
        };
        let mut tessera_names = Vec::new();
        for name in scope_text.split(' ').filter(|n| !n.is_empty()) {
            match OIDC_SCOPES.iter().find(|o| **o == name) {
                Some(o) if !req.oidc.contains(o) => req.oidc.push(o),
                Some(_) => {}
                None => tessera_names.push(name),
            }
        }
        req.oidc.sort_by_key(|s| OIDC_SCOPES.iter().position(|o| o == s));
        if !tessera_names.is_empty() {
            match self.catalog.parse_names(tessera_names) {
                Ok(s) => req.named = Some(s),
                Err(e) => return fail(&req, "invalid_scope", &e.to_string()),
            }
        }
        for word in p
            .prompt
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|w| !w.is_empty())
        {
            match word {
                "none" => req.prompt.none = true,
                "login" => req.prompt.login = true,
                "consent" => req.prompt.consent = true,
                "select_account" => {}
                _ => {
                    return fail(
                        &req,
                        "invalid_request",
                        "prompt must be none, login, consent or select_account",
                    )
                }
            }
        }
        if req.prompt.none && (req.prompt.login || req.prompt.consent) {
            return fail(
                &req,
                "invalid_request",
                "prompt=none cannot be combined with other values",
            );
        }
        if let Some(m) = p.max_age.as_deref().filter(|m| !m.is_empty()) {
            match m.parse::<i64>() {
                Ok(v) if v >= 0 => req.max_age = Some(v),
                _ => return fail(&req, "invalid_request", "max_age must be a non-negative integer"),
            }
        }
        // Never later than now: a future marker would send the person to sign in over and over.
        let now = self.clock.now().as_secs();
        req.auth_after = p
            .auth_after
            .as_deref()
            .and_then(|a| a.parse::<i64>().ok())
            .map(|a| a.min(now));
        Ok(req)
    }

    /// The Tessera scopes a code for this request carries: what it names, plus `me.read` with `openid` or
    /// when it names nothing (what `userinfo` needs), ∩ the client's scopes ∩ the person's rights.
    fn code_scopes(&self, req: &AuthorizeRequest, rights: ScopeSet) -> Result<ScopeSet, &'static str> {
        let ceiling = req.client.scopes.and(rights);
        let profile = self.catalog.get("me.read").unwrap_or_default();
        let asked = match req.named {
            Some(n) if req.oidc.contains(&"openid") => self.catalog.normalize(n.or(profile)),
            Some(n) => self.catalog.normalize(n),
            None => profile,
        };
        let granted = asked.and(ceiling);
        if req.named.is_some_and(|n| n.and(ceiling).is_empty()) {
            return Err("none of the requested scopes can be granted");
        }
        Ok(granted)
    }

    /// Decides what a checked request needs next, given the browser's session (if any).
    pub async fn authorize_decision(
        &self,
        req: &AuthorizeRequest,
        session: Option<&Identity>,
    ) -> Result<Decision, AuthorizeError> {
        let issuer = &self.settings.server.public_url;
        let now = self.clock.now().as_secs();
        let Some(id) = session.filter(|i| i.kind == CredentialKind::Session && i.principal.is_some()) else {
            if req.prompt.none {
                return Err(req.error(issuer, "login_required", "no one is signed in"));
            }
            return Ok(Decision::SignIn { again: false });
        };
        let auth_time = id.issued_at.unwrap_or(0);
        let too_old = req.max_age.is_some_and(|m| now - auth_time > m)
            || req.auth_after.is_some_and(|a| auth_time < a)
            || (req.prompt.login && req.auth_after.is_none());
        if too_old {
            if req.prompt.none {
                return Err(req.error(issuer, "login_required", "a fresh sign-in is required"));
            }
            return Ok(Decision::SignIn { again: true });
        }
        let granted = match self.code_scopes(req, id.scopes) {
            Ok(g) => g,
            Err(why) => return Err(req.error(issuer, "invalid_scope", why)),
        };
        let wanted = req.all_scope_names(self, granted);
        if !req.client.skip_consent {
            let covered =
                !req.prompt.consent && self.consent_covers(id, &req.client.client_id, &wanted).await?;
            if !covered {
                if req.prompt.none {
                    return Err(req.error(
                        issuer,
                        "consent_required",
                        "the person has not approved this application",
                    ));
                }
                return Ok(Decision::Consent { scopes: wanted });
            }
        }
        self.issue_code(req, id, granted).await.map(Decision::Redirect)
    }

    async fn consent_covers(
        &self,
        id: &Identity,
        client_id: &str,
        wanted: &[String],
    ) -> Result<bool, AuthorizeError> {
        let user_id = id.principal.as_ref().map_or(0, |p| p.user_id);
        let client_id = client_id.to_owned();
        let stored = self
            .db
            .run(move |c| Ok::<_, ServiceError>(OAuthConsent::find(c, user_id, &client_id)?))
            .await?;
        Ok(stored.is_some_and(|s| {
            let have: Vec<&str> = s.scopes.split(' ').collect();
            wanted.iter().all(|w| have.contains(&w.as_str()))
        }))
    }

    /// The person's answer on the consent page: a denial goes back as `access_denied`; an approval is
    /// remembered for (person, client, scopes) and answered with a code.
    pub async fn answer_consent(
        &self,
        req: &AuthorizeRequest,
        id: &Identity,
        approve: bool,
    ) -> Result<String, AuthorizeError> {
        let issuer = &self.settings.server.public_url;
        let Some(user_id) = id.principal.as_ref().map(|p| p.user_id) else {
            return Err(req.error(issuer, "login_required", "no one is signed in"));
        };
        let now = self.clock.now();
        let client_id = req.client.client_id.clone();
        if !approve {
            self.db
                .write_tx(move |c| {
                    audit::record(c, now, "consent.denied", Some(user_id), Some(&client_id), None)?;
                    Ok::<_, ServiceError>(())
                })
                .await?;
            return Err(req.error(issuer, "access_denied", "the person declined"));
        }
        let granted = match self.code_scopes(req, id.scopes) {
            Ok(g) => g,
            Err(why) => return Err(req.error(issuer, "invalid_scope", why)),
        };
        let scopes = req.all_scope_names(self, granted).join(" ");
        self.db
            .write_tx(move |c| {
                OAuthConsent::upsert(
                    c,
                    &OAuthConsent {
                        user_id,
                        client_id: client_id.clone(),
                        scopes,
                        created_at: now.as_secs(),
                    },
                )?;
                audit::record(c, now, "consent.granted", Some(user_id), Some(&client_id), None)?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        self.issue_code(req, id, granted).await
    }

    /// Stores a one-use code (by digest) and returns the redirect that carries it.
    async fn issue_code(
        &self,
        req: &AuthorizeRequest,
        id: &Identity,
        granted: ScopeSet,
    ) -> Result<String, AuthorizeError> {
        let now = self.clock.now();
        let code = tessera_crypto::random::hex_secret(32);
        let user_id = id.principal.as_ref().map_or(0, |p| p.user_id);
        let row = AuthorizationCode {
            digest: TokenDigest::of(&code).as_bytes().to_vec(),
            client_id: req.client.client_id.clone(),
            user_id,
            session_id: id.session_id.as_deref().map(str::to_owned),
            redirect_uri: req.redirect_uri.clone(),
            code_challenge: req.code_challenge.clone(),
            scopes: self.catalog.to_text(granted),
            oidc_scopes: req.oidc.join(" "),
            nonce: req.nonce.clone(),
            auth_time: id.issued_at.unwrap_or(now.as_secs()),
            created_at: now.as_secs(),
            expires_at: now.as_secs() + CODE_LIFETIME_SECS,
            used_at: None,
            family_id: None,
        };
        self.db
            .write_tx(move |c| {
                AuthorizationCode::delete_expired(c, now.as_secs() - USED_CODE_KEEP_SECS)?;
                audit::record(
                    c,
                    now,
                    "authorization_code.issued",
                    Some(row.user_id),
                    Some(&row.client_id),
                    None,
                )?;
                AuthorizationCode::insert(c, &row)?;
                Ok::<_, ServiceError>(())
            })
            .await?;
        let issuer = self.settings.server.public_url.clone();
        let mut params = vec![("code", code.as_str()), ("iss", issuer.as_str())];
        if let Some(s) = &req.state {
            params.push(("state", s));
        }
        Ok(with_query(&req.redirect_uri, &params))
    }

    /// The consents a person gave, newest definitions of each client first.
    pub async fn list_consents(
        &self,
        user_id: i64,
    ) -> Result<Vec<(OAuthConsent, Option<String>)>, ServiceError> {
        self.db
            .run(move |c| {
                let rows = OAuthConsent::list_for_user(c, user_id)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let name = OAuthClient::find_by_client_id(c, &r.client_id)?.map(|c| c.name);
                    out.push((r, name));
                }
                Ok::<_, ServiceError>(out)
            })
            .await
    }

    /// Withdraws a consent: the next sign-in to that client asks again. Its tokens stay until they
    /// expire or are revoked, as with any login.
    pub async fn revoke_consent(&self, user_id: i64, client_id: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let client_id = client_id.to_owned();
        self.db
            .write_tx(move |c| {
                if !OAuthConsent::delete(c, user_id, &client_id)? {
                    return Err(ServiceError::NotFound);
                }
                audit::record(c, now, "consent.revoked", Some(user_id), Some(&client_id), None)?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn pkce_strings_are_bounded_and_unreserved() {
        assert!(is_pkce_string(&"a".repeat(43)));
        assert!(!is_pkce_string(&"a".repeat(42)));
        assert!(!is_pkce_string(&"a".repeat(129)));
        assert!(!is_pkce_string(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn error_parameters_are_appended_to_an_existing_query() {
        let u = with_query(
            "https://app.example/cb?x=1",
            &[("code", "c d"), ("iss", "https://id.example")],
        );
        assert_eq!(
            u,
            "https://app.example/cb?x=1&code=c+d&iss=https%3A%2F%2Fid.example"
        );
    }
}
