//! OAuth clients: authentication (`client_secret_basic`, `client_secret_post`, public) and administration.

use std::net::IpAddr;

use tessera_core::token_format::TokenDigest;
use tessera_core::ScopeSet;
use tessera_db::models::oauth_clients::{NewOAuthClient, OAuthClient, OAuthClientChanges};

use super::{OAuthFailure, CLI_CLIENT_ID, GRANT_TYPES};
use crate::cache::Eviction;
use crate::ratelimit::LimitedAction;
use crate::{audit, ServiceError, Services};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuthMethod {
    Basic,
    Post,
    /// Only `client_id`, or nothing at all.
    None,
}

/// What the request said about its client. The secret is compared by digest, in constant time.
#[derive(Clone)]
pub struct ClientAuth {
    pub client_id: Option<String>,
    pub secret: Option<String>,
    pub method: ClientAuthMethod,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// A request's client credentials as it carried them, nothing decoded: the `Authorization` header's value
/// and the form's `client_id` and `client_secret`. [`PresentedClient::read`] decides what they mean.
#[derive(Clone, Copy, Default)]
pub struct PresentedClient<'a> {
    pub authorization: Option<&'a [u8]>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    /// The client's address (after trusted proxies), charged for client authentications that fail.
    pub address: Option<IpAddr>,
}

impl std::fmt::Debug for PresentedClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedClient")
            .field("client_id", &self.client_id)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// RFC 6749 §2.3.1: the id and secret are form-encoded before base64.
fn form_decode(s: &str) -> Result<String, OAuthFailure> {
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| OAuthFailure::MalformedClient("malformed Basic credentials"))
}

impl PresentedClient<'_> {
    /// The header alone, with no client credentials in the form: what every OAuth library sends for
    /// `client_secret_basic`, and the only shape whose raw bytes say everything about the client.
    pub fn lone_authorization(&self) -> Option<&[u8]> {
        self.authorization
            .filter(|_| self.client_id.is_none() && self.client_secret.is_none())
    }

    /// `client_secret_basic`, `client_secret_post` or a public client; using two methods at once is
    /// refused (RFC 6749 §2.3).
    pub fn read(&self) -> Result<ClientAuth, OAuthFailure> {
        let malformed = |why| OAuthFailure::MalformedClient(why);
        let post_id = self.client_id.filter(|s| !s.is_empty());
        let Some(header) = self.authorization else {
            return Ok(ClientAuth {
                client_id: post_id.map(str::to_owned),
                secret: self.client_secret.map(str::to_owned),
                method: if self.client_secret.is_some() {
                    ClientAuthMethod::Post
                } else {
                    ClientAuthMethod::None
                },
            });
        };
        let text = std::str::from_utf8(header).map_err(|_| malformed("malformed Authorization header"))?;
        let Some((scheme, rest)) = text.split_once(' ') else {
            return Err(malformed("malformed Authorization header"));
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(malformed("client authentication must use HTTP Basic"));
        }
        if self.client_secret.is_some() {
            return Err(OAuthFailure::InvalidRequest(
                "use one client authentication method, not two".into(),
            ));
        }
        let (id, secret) =
            crate::authn::decode_basic(rest).ok_or_else(|| malformed("malformed Basic credentials"))?;
        let (id, secret) = (form_decode(&id)?, form_decode(&secret)?);
        if post_id.is_some_and(|p| p != id) {
            return Err(OAuthFailure::InvalidRequest(
                "client_id differs from the Basic credentials".into(),
            ));
        }
        Ok(ClientAuth {
            client_id: Some(id),
            secret: Some(secret),
            method: ClientAuthMethod::Basic,
        })
    }
}

#[derive(Clone, Debug)]
pub struct AuthedClient {
    pub client_id: String,
    pub confidential: bool,
    pub grant_types: Vec<String>,
    pub scopes: ScopeSet,
    pub can_introspect: bool,
}

impl AuthedClient {
    pub fn allows(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
}

/// A client as the admin API shows it; `client_secret` only right after creation.
#[derive(Clone, Debug)]
pub struct ClientRecord {
    pub row: OAuthClient,
    pub client_secret: Option<String>,
}

/// Input for creating or updating a client.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    pub client_id: Option<String>,
    pub name: String,
    pub confidential: bool,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub can_introspect: bool,
    /// Where the client's users are sent back after sign-in and sign-out (OpenID Provider, issue 20).
    pub sign_in: SignInSettings,
}

/// A relying party's registration: redirect URIs matched exactly, and what the consent page shows.
#[derive(Clone, Debug, Default)]
pub struct SignInSettings {
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// A trusted first-party app: its users are not asked to consent.
    pub skip_consent: bool,
    pub logo_uri: Option<String>,
    /// Refresh tokens from the code grant without `offline_access`.
    pub refresh_without_offline_access: bool,
}

/// At most this many redirect URIs per list; a registration is not a place to store data.
const MAX_REDIRECT_URIS: usize = 20;
const MAX_URI_LEN: usize = 2000;

/// A registered redirect URI: absolute `https` (or `http` for a loopback or private app), no fragment,
/// no spaces or control characters. Returns why not.
pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.len() > MAX_URI_LEN {
        return Err("is longer than 2000 characters");
    }
    if uri
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err("must not contain spaces or control characters");
    }
    let parsed = url::Url::parse(uri).map_err(|_| "must be an absolute URL")?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err("must use https or http");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must name a host");
    }
    if parsed.fragment().is_some() {
        return Err("must not contain a fragment");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain credentials");
    }
    Ok(())
}

impl Services {
    /// The client these credentials belong to. Every attempt that reaches the database is charged to the
    /// address's `client_auth` budget and a right one refunded, so a flood of made-up clients or wrong
    /// secrets is refused before it reaches the database (the secrets are too long to guess; the load is
    /// the risk). Malformed credentials cost nothing and are refused before the charge.
    pub async fn authenticate_client(
        &self,
        presented: &PresentedClient<'_>,
    ) -> Result<AuthedClient, OAuthFailure> {
        let auth = presented.read()?;
        self.authenticate_charged(&auth, presented.address, |_| true)
            .await
    }

    /// [`Services::authenticate_client`] for credentials already read: `accept` decides whether the
    /// client counts as right (refunded) or as a failure (the charge stays), e.g. a client that may not
    /// introspect.
    pub(crate) async fn authenticate_charged(
        &self,
        auth: &ClientAuth,
        address: Option<IpAddr>,
        accept: impl FnOnce(&AuthedClient) -> bool,
    ) -> Result<AuthedClient, OAuthFailure> {
        let subject = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        let now = self.clock.now();
        self.limits
            .charge(LimitedAction::ClientAuth, &subject, now)
            .await?;
        let found = self.find_client(auth).await;
        // Refunded when right, and when our database could not say (an outage is not a guess).
        if matches!(&found, Ok(c) if accept(c)) || matches!(found, Err(OAuthFailure::Service(_))) {
            self.limits.refund(LimitedAction::ClientAuth, &subject, now).await;
        }
        found
    }

    /// The registered client of these credentials, its secret checked in constant time. Uncharged: for
    /// the service's own lookups (the built-in CLI client); requests go through `authenticate_client`.
    pub(crate) async fn find_client(&self, auth: &ClientAuth) -> Result<AuthedClient, OAuthFailure> {
        let client_id = match (&auth.client_id, self.settings.oauth.require_client_id) {
            (Some(id), _) => id.clone(),
            (None, false) => CLI_CLIENT_ID.to_owned(),
            (None, true) => return Err(OAuthFailure::InvalidRequest("client_id is required".into())),
        };
        if client_id.len() > 255 {
            return Err(OAuthFailure::InvalidClient);
        }
        let id = client_id.clone();
        let row = self
            .db
            .run(move |c| Ok::<_, OAuthFailure>(OAuthClient::find_by_client_id(c, &id)?))
            .await?
            .ok_or(OAuthFailure::InvalidClient)?;
        let secret = auth.secret.as_deref().filter(|s| !s.is_empty());
        match (row.confidential, secret, &row.secret_digest) {
            (true, Some(s), Some(digest)) => {
                if !tessera_crypto::ct_eq(TokenDigest::of(s).as_bytes(), digest) {
                    return Err(OAuthFailure::InvalidClient);
                }
            }
            (true, _, _) => return Err(OAuthFailure::InvalidClient),
            // A public client has no secret; one that sends a secret is confused or an attacker.
            (false, Some(_), _) => return Err(OAuthFailure::InvalidClient),
            (false, None, _) => {}
        }
        Ok(AuthedClient {
            client_id: row.client_id,
            confidential: row.confidential,
            grant_types: row
                .grant_types
                .split(' ')
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
            scopes: self.catalog.parse(&row.scopes).unwrap_or_default(),
            can_introspect: row.can_introspect,
        })
    }

    fn check_client_spec(&self, spec: &ClientSpec) -> Result<(String, String), ServiceError> {
        let mut errors = Vec::new();
        if spec.name.trim().is_empty() || spec.name.len() > 255 {
            errors.push(("name", "must be 1-255 characters".to_owned()));
        }
        if let Some(g) = spec
            .grant_types
            .iter()
            .find(|g| !GRANT_TYPES.contains(&g.as_str()))
        {
            errors.push(("grant_types", format!("unknown grant type {g:?}")));
        }
        if !spec.confidential
            && spec
                .grant_types
                .iter()
                .any(|g| g == super::GRANT_CLIENT_CREDENTIALS)
        {
            errors.push((
                "grant_types",
                "client_credentials needs a confidential client".to_owned(),
            ));
        }
        if spec.can_introspect && !spec.confidential {
            errors.push((
                "can_introspect",
                "only confidential clients may introspect".to_owned(),
            ));
        }
        let scopes = match self.catalog.parse_names(spec.scopes.iter().map(String::as_str)) {
            Ok(s) => self.catalog.to_text(self.catalog.normalize(s)),
            Err(e) => {
                errors.push(("scopes", e.to_string()));
                String::new()
            }
        };
        let sign_in = &spec.sign_in;
        for (field, list) in [
            ("redirect_uris", &sign_in.redirect_uris),
            ("post_logout_redirect_uris", &sign_in.post_logout_redirect_uris),
        ] {
            if list.len() > MAX_REDIRECT_URIS {
                errors.push((field, format!("at most {MAX_REDIRECT_URIS} URIs")));
            }
            for uri in list {
                if let Err(why) = check_redirect_uri(uri) {
                    errors.push((field, format!("{uri:?} {why}")));
                }
            }
        }
        for (field, uri) in [
            ("backchannel_logout_uri", &sign_in.backchannel_logout_uri),
            ("logo_uri", &sign_in.logo_uri),
        ] {
            if let Some(Err(why)) = uri.as_deref().map(check_redirect_uri) {
                errors.push((field, why.to_owned()));
            }
        }
        if spec
            .grant_types
            .iter()
            .any(|g| g == super::GRANT_AUTHORIZATION_CODE)
            && sign_in.redirect_uris.is_empty()
        {
            errors.push((
                "redirect_uris",
                "the authorization_code grant needs at least one redirect URI".to_owned(),
            ));
        }
        if let Some(id) = &spec.client_id {
            let ok = (3..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                errors.push((
                    "client_id",
                    "must be 3-64 of letters, digits, '-', '_' or '.'".to_owned(),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(
                errors
                    .into_iter()
                    .map(|(f, m)| tessera_proto::problem::FieldError {
                        field: f.to_owned(),
                        message: m,
                    })
                    .collect(),
            ));
        }
        let mut grants: Vec<&str> = GRANT_TYPES
            .iter()
            .copied()
            .filter(|g| spec.grant_types.iter().any(|x| x == g))
            .collect();
        grants.dedup();
        Ok((grants.join(" "), scopes))
    }

    /// A client's scopes within its creator's effective scopes: a client secret is a credential, so
    /// creating or widening a client is minting and never goes beyond who does it.
    fn client_scopes_within(&self, spec: &ClientSpec, ceiling: ScopeSet) -> Result<(), ServiceError> {
        if spec.scopes.is_empty() {
            return Ok(());
        }
        self.scopes_under(ceiling, &spec.scopes, "scopes").map(|_| ())
    }

    /// Creates a client; a confidential one gets a 256-bit secret, returned once and stored as a digest.
    /// `ceiling` is the creator's effective scopes (all of them for the operator CLI).
    pub async fn create_client(
        &self,
        spec: ClientSpec,
        actor: &str,
        ceiling: ScopeSet,
    ) -> Result<ClientRecord, ServiceError> {
        let (grant_types, scopes) = self.check_client_spec(&spec)?;
        self.client_scopes_within(&spec, ceiling)?;
        let client_id = spec
            .client_id
            .clone()
            .unwrap_or_else(|| format!("c_{}", tessera_crypto::random::hex_secret(8)));
        let secret = spec.confidential.then(|| tessera_crypto::random::hex_secret(32));
        let digest = secret.as_deref().map(TokenDigest::of);
        let now = self.clock.now();
        let actor = actor.to_owned();
        let row = self
            .db
            .write_tx(move |c| {
                let row = OAuthClient::insert(
                    c,
                    &NewOAuthClient {
                        client_id: &client_id,
                        name: spec.name.trim(),
                        confidential: spec.confidential,
                        secret_digest: digest.as_ref().map(TokenDigest::as_bytes),
                        grant_types: &grant_types,
                        scopes: &scopes,
                        can_introspect: spec.can_introspect,
                        builtin: false,
                        created_at: now.as_secs(),
                        updated_at: now.as_secs(),
                        redirect_uris: &spec.sign_in.redirect_uris.join(" "),
                        post_logout_redirect_uris: &spec.sign_in.post_logout_redirect_uris.join(" "),
                        backchannel_logout_uri: spec.sign_in.backchannel_logout_uri.as_deref(),
                        skip_consent: spec.sign_in.skip_consent,
                        logo_uri: spec.sign_in.logo_uri.as_deref(),
                        refresh_without_offline_access: spec.sign_in.refresh_without_offline_access,
                    },
                )
                .map_err(|e| {
                    if e.is_unique_violation() {
                        ServiceError::Conflict(format!("client_id {client_id:?} exists"))
                    } else {
                        e.into()
                    }
                })?;
                audit::record(c, now, "client.created", None, Some(&actor), Some(&row.client_id))?;
                Ok::<_, ServiceError>(row)
            })
            .await?;
        Ok(ClientRecord {
            row,
            client_secret: secret,
        })
    }

    pub async fn list_clients(&self) -> Result<Vec<OAuthClient>, ServiceError> {
        self.db.run(|c| Ok(OAuthClient::list(c)?)).await
    }

    pub async fn get_client(&self, client_id: &str) -> Result<OAuthClient, ServiceError> {
        let id = client_id.to_owned();
        self.db
            .run(move |c| OAuthClient::find_by_client_id(c, &id)?.ok_or(ServiceError::NotFound))
            .await
    }

    /// Updates name, grants, scopes, introspection and sign-in settings; confidentiality and secret stay.
    pub async fn update_client(
        &self,
        client_id: &str,
        spec: ClientSpec,
        actor: &str,
        ceiling: ScopeSet,
    ) -> Result<OAuthClient, ServiceError> {
        let existing = self.get_client(client_id).await?;
        let spec = ClientSpec {
            confidential: existing.confidential,
            client_id: None,
            ..spec
        };
        let (grant_types, scopes) = self.check_client_spec(&spec)?;
        self.client_scopes_within(&spec, ceiling)?;
        let now = self.clock.now();
        let id = client_id.to_owned();
        let evict_id = id.clone();
        let actor = actor.to_owned();
        self.revoking(
            self.db.write_tx(move |c| {
                let row = OAuthClient::update(
                    c,
                    &id,
                    &OAuthClientChanges {
                        name: spec.name.trim(),
                        grant_types: &grant_types,
                        scopes: &scopes,
                        can_introspect: spec.can_introspect,
                        updated_at: now.as_secs(),
                        redirect_uris: &spec.sign_in.redirect_uris.join(" "),
                        post_logout_redirect_uris: &spec.sign_in.post_logout_redirect_uris.join(" "),
                        backchannel_logout_uri: spec.sign_in.backchannel_logout_uri.as_deref(),
                        skip_consent: spec.sign_in.skip_consent,
                        logo_uri: spec.sign_in.logo_uri.as_deref(),
                        refresh_without_offline_access: spec.sign_in.refresh_without_offline_access,
                    },
                )?
                .ok_or(ServiceError::NotFound)?;
                // Narrowing a client narrows every login made through it: worth a line in the audit log.
                audit::record(c, now, "client.updated", None, Some(&actor), Some(&row.client_id))?;
                Ok(row)
            }),
            |_| vec![Eviction::Client(evict_id)],
        )
        .await
    }

    pub async fn delete_client(&self, client_id: &str, actor: &str) -> Result<(), ServiceError> {
        let existing = self.get_client(client_id).await?;
        if existing.builtin {
            return Err(ServiceError::Conflict(
                "built-in clients cannot be deleted".into(),
            ));
        }
        let now = self.clock.now();
        let id = client_id.to_owned();
        let actor = actor.to_owned();
        let evict_id = id.clone();
        self.revoking(
            self.db.write_tx(move |c| {
                OAuthClient::delete(c, &id)?;
                audit::record(c, now, "client.deleted", None, Some(&actor), Some(&id))?;
                Ok::<_, ServiceError>(())
            }),
            |_| vec![Eviction::Client(evict_id)],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn basic(id_secret: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(id_secret)
        )
    }

    fn read(
        header: Option<&str>,
        id: Option<&str>,
        secret: Option<&str>,
    ) -> Result<ClientAuth, OAuthFailure> {
        PresentedClient {
            authorization: header.map(str::as_bytes),
            client_id: id,
            client_secret: secret,
            address: None,
        }
        .read()
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_one_method_only() {
        // RFC 6749 §2.3.1: `+` is a space and escapes decode, in the id and the secret alike.
        let a = read(Some(&basic("my%3Aapp:s+e%25cret")), None, None).unwrap();
        assert_eq!(
            (a.client_id.as_deref(), a.secret.as_deref(), a.method),
            (Some("my:app"), Some("s e%cret"), ClientAuthMethod::Basic)
        );
        assert!(read(Some(&basic("app:s")), Some("app"), None).is_ok());
        let post = read(None, Some("app"), Some("s")).unwrap();
        assert_eq!(
            (post.client_id.as_deref(), post.method),
            (Some("app"), ClientAuthMethod::Post)
        );
        assert_eq!(read(None, Some(""), None).unwrap().client_id, None);
        let refused = [
            (read(Some(&basic("app:s")), None, Some("s")), "invalid_request"),
            (
                read(Some(&basic("app:s")), Some("other"), None),
                "invalid_request",
            ),
            (read(Some("Bearer abc"), None, None), "invalid_client"),
            (read(Some("Basic !!!"), None, None), "invalid_client"),
            (read(Some(&basic("no colon")), None, None), "invalid_client"),
            (read(Some("Basic"), None, None), "invalid_client"),
        ];
        for (i, (result, code)) in refused.into_iter().enumerate() {
            assert_eq!(result.err().map(|e| e.code()), Some(code), "case {i}");
        }
    }

    #[test]
    fn only_a_lone_header_stands_for_the_client() {
        let header = basic("app:s");
        let lone = PresentedClient {
            authorization: Some(header.as_bytes()),
            ..Default::default()
        };
        assert_eq!(lone.lone_authorization(), Some(header.as_bytes()));
        for (id, secret) in [(Some("app"), None), (None, Some("s"))] {
            let mixed = PresentedClient {
                client_id: id,
                client_secret: secret,
                ..lone
            };
            assert_eq!(mixed.lone_authorization(), None);
        }
    }
}
