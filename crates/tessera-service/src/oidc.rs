//! Upstream OpenID Connect login (API.md §8) with the `openidconnect` crate: authorization code with
//! PKCE, state and nonce. Accounts are linked by `(issuer, sub)`; an existing local account is linked
//! by email only when configured, the provider says the email is verified, and the local email is
//! verified too, so nobody can pre-register an address to take over an account.

use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_core::account::Username;
use tessera_core::token_format::TokenDigest;
use tessera_core::Role;
use tessera_db::models::oidc_links::OidcLink;
use tessera_db::models::permission_groups::PermissionGroup;
use tessera_db::models::users::{NewUser, User, UserChanges};

use crate::cache::Eviction;
use crate::settings::OidcSettings;
use crate::{audit, ServiceError, Services};

/// A client built from discovery: authorization endpoint known, token and userinfo endpoints maybe.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a browser has to come back from the provider.
const FLOW_TTL_SECS: u64 = 600;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("upstream sign-in is not configured")]
    NotConfigured,
    /// The `state` came back different from the one this browser started with, or the flow expired.
    #[error("this sign-in did not start here or has expired; start again")]
    StateMismatch,
    /// The provider refused or sent something that does not verify.
    #[error("the identity provider did not confirm the sign-in: {0}")]
    Provider(String),
    /// A verified identity that Tessera will not sign in (no account, unverified email, no role…).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<tessera_db::DbError> for OidcError {
    fn from(e: tessera_db::DbError) -> Self {
        OidcError::Service(e.into())
    }
}

impl From<tessera_db::diesel_error::Error> for OidcError {
    fn from(e: tessera_db::diesel_error::Error) -> Self {
        OidcError::Service(e.into())
    }
}

/// What the browser carries between `/login/oidc` and the callback (in the store, keyed by a digest
/// of `state`; the state itself is in a cookie of that browser).
#[derive(Serialize, Deserialize)]
struct Flow {
    verifier: String,
    nonce: String,
    rd: String,
}

/// A started sign-in: send the browser to `url`; bind `state` to it with a cookie.
pub struct Started {
    pub url: String,
    pub state: String,
}

/// A finished sign-in.
pub struct SignedIn {
    pub user: User,
    pub id_token: String,
    pub rd: String,
}

/// The provider's discovery document, fetched on first use (the provider may start after Tessera).
#[derive(Clone)]
pub struct Provider {
    metadata: CoreProviderMetadata,
    raw: Value,
    /// Discovery (and with it the provider's signing keys) is fetched again after an hour, and at once
    /// after an ID token failed to verify, so a key rotation upstream needs no restart here. Timed by
    /// the service's clock, like every other expiry.
    fetched: tessera_core::UnixTime,
}

const DISCOVERY_TTL_SECS: i64 = 3600;

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").finish_non_exhaustive()
    }
}

fn http_client() -> Result<openidconnect::reqwest::Client, OidcError> {
    openidconnect::reqwest::Client::builder()
        // Following redirects from a provider's endpoints would open Tessera to SSRF.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| OidcError::Service(ServiceError::Unexpected(e.into())))
}

fn unavailable(e: impl std::fmt::Display) -> OidcError {
    OidcError::Service(ServiceError::Unavailable(format!("identity provider: {e}")))
}

impl Services {
    fn oidc_settings(&self) -> Result<&OidcSettings, OidcError> {
        self.settings.oidc.as_ref().ok_or(OidcError::NotConfigured)
    }

    async fn oidc_provider(&self) -> Result<Provider, OidcError> {
        if let Some(p) = self
            .oidc
            .read()
            .await
            .as_ref()
            .filter(|p| self.clock.now().as_secs() - p.fetched.as_secs() < DISCOVERY_TTL_SECS)
        {
            return Ok(p.clone());
        }
        let s = self.oidc_settings()?;
        let http = http_client()?;
        let issuer = IssuerUrl::new(s.issuer.clone()).map_err(|e| OidcError::Provider(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(unavailable)?;
        let body = http
            .get(format!("{}/.well-known/openid-configuration", s.issuer))
            .send()
            .await
            .map_err(unavailable)?
            .bytes()
            .await
            .map_err(unavailable)?;
        let raw: Value =
            serde_json::from_slice(&body).map_err(|e| OidcError::Provider(format!("discovery: {e}")))?;
        let provider = Provider {
            metadata,
            raw,
            fetched: self.clock.now(),
        };
        *self.oidc.write().await = Some(provider.clone());
        Ok(provider)
    }

    fn oidc_redirect_uri(&self) -> String {
        format!("{}/login/oidc/callback", self.settings.server.public_url)
    }

    fn oidc_client(&self, s: &OidcSettings, provider: &Provider) -> Result<Client, OidcError> {
        let redirect =
            RedirectUrl::new(self.oidc_redirect_uri()).map_err(|e| OidcError::Provider(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            provider.metadata.clone(),
            ClientId::new(s.client_id.clone()),
            s.client_secret
                .as_ref()
                .map(|c| ClientSecret::new(c.expose_secret().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: PKCE, state and nonce, remembered for ten minutes.
    /// Each start stores a flow until it expires, so starts are budgeted per client IP (`oidc_start`).
    pub async fn start_oidc(&self, rd: String, ip: &str) -> Result<Started, OidcError> {
        let s = self.oidc_settings()?;
        self.limits
            .charge(crate::ratelimit::LimitedAction::OidcStart, ip, self.clock.now())
            .await?;
        let provider = self.oidc_provider().await?;
        let client = self.oidc_client(s, &provider)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in s.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let flow = Flow {
            verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            rd,
        };
        let now = self.clock.now();
        let value = serde_json::to_vec(&flow).map_err(|e| ServiceError::Unexpected(e.into()))?;
        self.store
            .set(
                &flow_key(state.secret()),
                &value,
                now.plus(Duration::from_secs(FLOW_TTL_SECS)),
                now,
            )
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
        })
    }

    /// Finishes a sign-in: checks state against the browser's cookie, redeems the code with the PKCE
    /// verifier, verifies the ID token (signature, issuer, audience, expiry, nonce), reads userinfo,
    /// and finds, links or creates the account.
    pub async fn finish_oidc(
        &self,
        code: &str,
        state: &str,
        browser_state: Option<&str>,
    ) -> Result<SignedIn, OidcError> {
        let s = self.oidc_settings()?.clone();
        let bound = browser_state.is_some_and(|b| tessera_crypto::ct_eq(b.as_bytes(), state.as_bytes()));
        if !bound || state.is_empty() {
            return Err(OidcError::StateMismatch);
        }
        let now = self.clock.now();
        let raw = self
            .store
            .take(&flow_key(state), now)
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?
            .ok_or(OidcError::StateMismatch)?;
        let flow: Flow = serde_json::from_slice(&raw).map_err(|_| OidcError::StateMismatch)?;
        let provider = self.oidc_provider().await?;
        let client = self.oidc_client(&s, &provider)?;
        let http = http_client()?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
            .request_async(&http)
            .await
            .map_err(|e| OidcError::Provider(format!("token exchange failed: {e}")))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::Provider("no ID token in the answer".into()))?;
        let verifier = client.id_token_verifier();
        let id_claims = match id_token.claims(&verifier, &Nonce::new(flow.nonce)) {
            Ok(c) => c,
            Err(e) => {
                // Perhaps the provider rotated its keys: the next sign-in fetches them again.
                *self.oidc.write().await = None;
                return Err(OidcError::Provider(format!("the ID token does not verify: {e}")));
            }
        };
        let subject = id_claims.subject().as_str().to_owned();
        // The verified token's own claims, then userinfo's (same subject only).
        let mut claims = jwt_payload(&id_token.to_string()).unwrap_or_default();
        if let Some(endpoint) = provider.raw.get("userinfo_endpoint").and_then(Value::as_str) {
            let body = http
                .get(endpoint)
                .bearer_auth(tokens.access_token().secret())
                .send()
                .await
                .map_err(unavailable)?
                .bytes()
                .await
                .map_err(unavailable)?;
            let info: Map<String, Value> =
                serde_json::from_slice(&body).map_err(|e| OidcError::Provider(format!("userinfo: {e}")))?;
            if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                return Err(OidcError::Provider("userinfo is about another subject".into()));
            }
            claims.extend(info);
        }
        let user = self.oidc_account(&s, &subject, &claims).await?;
        Ok(SignedIn {
            user,
            id_token: id_token.to_string(),
            rd: flow.rd,
        })
    }

    /// Where to send the browser to sign out at the provider too (RP-initiated logout), if it can.
    pub async fn oidc_logout_url(&self, id_token: &str) -> Option<String> {
        let s = self.settings.oidc.as_ref()?;
        let provider = self.oidc_provider().await.ok()?;
        let end = provider.raw.get("end_session_endpoint")?.as_str()?;
        let mut url = url::Url::parse(end).ok()?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("client_id", &s.client_id)
            .append_pair(
                "post_logout_redirect_uri",
                &format!("{}/login", self.settings.server.public_url),
            );
        Some(url.to_string())
    }

    /// Finds, links or creates the local account of a verified upstream identity, applying the role
    /// and group mapping on every sign-in.
    async fn oidc_account(
        &self,
        s: &OidcSettings,
        subject: &str,
        claims: &Map<String, Value>,
    ) -> Result<User, OidcError> {
        let role = match &s.role_claim {
            None => None,
            Some(name) => {
                let values = claim_strings(claims.get(name));
                if values.iter().any(|v| s.admin_values.contains(v)) {
                    Some(Role::Admin)
                } else if values.iter().any(|v| s.user_values.contains(v)) {
                    Some(Role::User)
                } else {
                    return Err(OidcError::Refused(format!(
                        "your account at the identity provider has no role for this service (claim {name:?})"
                    )));
                }
            }
        };
        let group_name = s.group_claim.as_ref().and_then(|name| {
            let groups = claim_strings(claims.get(name));
            s.group_map
                .iter()
                .find(|(upstream, _)| groups.contains(upstream))
                .map(|(_, local)| local.clone())
        });
        let email = claims.get("email").and_then(Value::as_str).map(str::to_owned);
        let email_verified = claims
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let username = claims
            .get(&s.username_claim)
            .and_then(Value::as_str)
            .map(str::to_owned);
        let issuer = s.issuer.clone();
        let subject = subject.to_owned();
        let (link_by_email, allow_registration) = (s.link_existing_by_email, s.allow_registration);
        let now = self.clock.now();
        let user = self
            .revoking(self.db.write_tx(move |c| -> Result<User, OidcError> {
                let group_id = match &group_name {
                    Some(n) => PermissionGroup::find_by_name(c, n)?.map(|g| g.id),
                    None => None,
                };
                let linked = match OidcLink::find_for(c, &issuer, &subject)? {
                    Some(link) => User::find(c, link.user_id)?,
                    None => None,
                };
                let user = match linked {
                    Some(u) => u,
                    None => {
                        let by_email = match (&email, link_by_email && email_verified) {
                            (Some(e), true) => User::find_by_email(c, e)?.filter(|u| u.email_verified),
                            _ => None,
                        };
                        let user = match by_email {
                            Some(u) => u,
                            None if allow_registration => {
                                let name = username
                                    .as_deref()
                                    .and_then(|n| Username::parse(n).ok())
                                    .ok_or_else(|| {
                                        OidcError::Refused("the identity provider sent no usable username".into())
                                    })?;
                                let role = role.unwrap_or(Role::User);
                                let group = match role {
                                    Role::Admin => None,
                                    Role::User => match group_id {
                                        Some(g) => Some(g),
                                        None => PermissionGroup::find_default(c)?.map(|g| g.id),
                                    },
                                };
                                let created = User::insert(
                                    c,
                                    &NewUser {
                                        username: name.as_str(),
                                        email: email.as_deref(),
                                        password_hash: None,
                                        role: role.as_str(),
                                        permission_group_id: group,
                                        enabled: true,
                                        created_at: now.as_secs(),
                                        updated_at: now.as_secs(),
                                    },
                                )
                                .map_err(|e| {
                                    if e.is_unique_violation() {
                                        OidcError::Refused(format!(
                                            "the username {:?} is taken here; ask an admin to link your account",
                                            name.as_str()
                                        ))
                                    } else {
                                        OidcError::Service(e.into())
                                    }
                                })?;
                                if email_verified && email.is_some() {
                                    User::update(
                                        c,
                                        created.id,
                                        &UserChanges {
                                            email_verified: Some(true),
                                            ..UserChanges::default()
                                        },
                                    )?;
                                }
                                audit::record(c, now, "user.created", Some(created.id), Some("oidc"), None)?;
                                created
                            }
                            None => {
                                return Err(OidcError::Refused(
                                    "no account here matches this sign-in; ask an admin for an invite".into(),
                                ))
                            }
                        };
                        OidcLink::insert(
                            c,
                            &OidcLink {
                                issuer: issuer.clone(),
                                subject: subject.clone(),
                                user_id: user.id,
                                created_at: now.as_secs(),
                            },
                        )?;
                        audit::record(c, now, "oidc.linked", Some(user.id), Some("oidc"), Some(&issuer))?;
                        user
                    }
                };
                if !user.enabled {
                    return Err(OidcError::Refused("this account is disabled".into()));
                }
                // Keep role and group in step with the provider, when it decides them.
                let mut changes = UserChanges::default();
                if let Some(r) = role {
                    if user.role != r.as_str() {
                        changes.role = Some(r.as_str().to_owned());
                    }
                }
                if group_id.is_some() && user.permission_group_id != group_id {
                    changes.permission_group_id = Some(group_id);
                }
                if changes.role.is_some() || changes.permission_group_id.is_some() {
                    changes.updated_at = Some(now.as_secs());
                    User::update(c, user.id, &changes)?;
                    User::bump_generation(c, user.id)?;
                    audit::record(c, now, "user.updated", Some(user.id), Some("oidc"), Some("role/group from provider"))?;
                }
                Ok(User::find(c, user.id)?.ok_or(ServiceError::NotFound)?)
            }), |user| vec![Eviction::User(user.id)])
            .await?;
        Ok(user)
    }
}

fn flow_key(state: &str) -> String {
    format!("oidc:{}", hex::encode(TokenDigest::of(state).as_bytes()))
}

/// A claim as a list of strings: a string, a list of strings, or a space-separated string.
fn claim_strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The payload of a compact JWT that was already verified.
fn jwt_payload(token: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
