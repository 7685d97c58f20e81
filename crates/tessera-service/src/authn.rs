//! Authentication: which credentials a request presents, in which order they count, and who the caller is.
//! The HTTP layer only collects the raw values ([`Presented`]); everything else is decided here, once, for
//! the `Caller` extractor, forward-auth, `tessera explain` and every other path.
//!
//! The first credential *present* decides; a present but invalid one is refused, never a fall-through:
//!
//! | # | credential | hit (steady state) | miss |
//! |---|------------|--------------------|------|
//! | 1 | client token in `auth.api_key_header` (an authenticating proxy owns `Authorization`) | identity cache | one indexed query by digest |
//! | 2 | `Authorization: Bearer` access JWT | identity cache (no signature check) | signature + claims, owner's rights |
//! | 2 | `Authorization: Bearer` client token | identity cache | one indexed query by digest |
//! | 3 | `Authorization: Basic` | identity cache by HMAC of the header (no bcrypt) | bcrypt on the bounded pool, login budget |
//! | 4 | the service key header | constant-time compare | — |
//! | 5 | the session cookie | identity cache (reloaded when the next activity write is due) | session row, owner's rights |
//! | 6 | nothing | the kiosk identity (kiosk mode), the anonymous admin (`--no-auth`), else anonymous | — |

use base64::Engine;
use tessera_core::token_format::TokenDigest;

use crate::forward_auth::{decide, Decision, Step};
use crate::identity::{AuthFailure, CredentialKind, Identity};
use crate::login::LoginFailure;
use crate::{ServiceError, Services};

/// The credentials a request carries, raw, as the HTTP layer found them.
#[derive(Clone, Debug, Default)]
pub struct Presented<'a> {
    /// The `auth.api_key_header` value, when that header is configured and present.
    pub api_key: Option<&'a [u8]>,
    pub authorization: Option<&'a [u8]>,
    /// The `auth.service_key_header` value.
    pub service_key: Option<&'a [u8]>,
    /// The session cookie's value.
    pub session: Option<&'a str>,
    /// The client address (trusted-proxy aware), charged for a Basic credential's login budget.
    pub client_ip: Option<String>,
}

/// Why a presented credential was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    /// Present but not valid (401); the text says which, without saying why a secret was wrong.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A credential over [`tessera_crypto::jwt::MAX_TOKEN_LEN`] (431).
    #[error("the credential exceeds 8 KiB")]
    TooLarge,
    /// HTTP Basic of a user with a second factor: 401 `second_factor_required`.
    #[error("this account has a second factor, which HTTP Basic cannot carry: use a client token, a device code or a session")]
    SecondFactorRequired,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

fn invalid(f: AuthFailure, detail: &'static str) -> AuthnError {
    match f {
        AuthFailure::Invalid => AuthnError::Unauthorized(detail),
        AuthFailure::SecondFactorRequired => AuthnError::SecondFactorRequired,
        AuthFailure::Service(e) => AuthnError::Service(e),
    }
}

/// A header value as text: UTF-8, trimmed, non-empty, at most 8 KiB.
fn credential_text<'a>(raw: &'a [u8], malformed: &'static str) -> Result<&'a str, AuthnError> {
    if raw.len() > tessera_crypto::jwt::MAX_TOKEN_LEN + 16 {
        return Err(AuthnError::TooLarge);
    }
    // Trimmed as bytes: only ASCII whitespace surrounds a header value (RFC 9110 §5.5), and a Unicode
    // trim walks characters (a visible share of a cached forward-auth answer).
    let text = std::str::from_utf8(raw.trim_ascii()).map_err(|_| AuthnError::Unauthorized(malformed))?;
    if text.is_empty() {
        return Err(AuthnError::Unauthorized(malformed));
    }
    Ok(text)
}

/// The identity cache's key for a Basic credential: an HMAC of the header's credential under a secret
/// made at start and never stored, so neither the cache nor a memory dump holds anything a password could
/// be checked against offline without it. A hit skips the bcrypt; a password change (generation), a
/// disable, a lockout or the positive TTL ends it; a miss verifies and charges the login budget as before.
///
/// The client address is part of the key: a hit never asks the login budget, so an entry made from one
/// address must not serve another that is locked out (a lockout drops the user's entries; the locked-out
/// address can only make a new one through a miss, which the budget refuses).
///
/// The MAC's key state is made once per process, so a hit hashes only the address and the credential.
fn basic_cache_key(client_ip: &str, credential: &str) -> TokenDigest {
    static MAC: std::sync::OnceLock<tessera_crypto::KeyedHmac> = std::sync::OnceLock::new();
    let mac = MAC.get_or_init(|| tessera_crypto::KeyedHmac::new(&tessera_crypto::random::bytes::<32>()));
    TokenDigest(mac.mac(&[client_ip.as_bytes(), b"\n", credential.as_bytes()]))
}

/// `user:password` from a Basic credential (RFC 7617, UTF-8).
pub fn decode_basic(b64: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

impl Services {
    /// Who presents these credentials: None when there are none (and no kiosk identity applies).
    pub async fn authenticate(&self, p: &Presented<'_>) -> Result<Option<Identity>, AuthnError> {
        const EXPIRED: &str = "invalid, expired or revoked credential";
        if let Some(raw) = p.api_key {
            let token = credential_text(raw, "malformed API key header")?;
            if token.len() > tessera_crypto::jwt::MAX_TOKEN_LEN {
                return Err(AuthnError::TooLarge);
            }
            return self
                .resolve_client_token(token)
                .await
                .map(Some)
                .map_err(|f| invalid(f, EXPIRED));
        }
        if let Some(raw) = p.authorization {
            const MALFORMED: &str = "malformed Authorization header";
            let text = credential_text(raw, MALFORMED)?;
            let (scheme, credential) = text.split_once(' ').unwrap_or((text, ""));
            let credential = credential.trim_ascii();
            if credential.len() > tessera_crypto::jwt::MAX_TOKEN_LEN {
                return Err(AuthnError::TooLarge);
            }
            if credential.is_empty() {
                return Err(AuthnError::Unauthorized(MALFORMED));
            }
            if scheme.eq_ignore_ascii_case("bearer") {
                return self
                    .resolve_bearer(credential)
                    .await
                    .map(Some)
                    .map_err(|f| invalid(f, EXPIRED));
            }
            if scheme.eq_ignore_ascii_case("basic") {
                let ip = p.client_ip.as_deref().unwrap_or("unknown");
                let key = basic_cache_key(ip, credential);
                // A cached answer first: only a credential that once decoded can have one, so a hit
                // needs no base64 and no strings; anything else is decoded (and refused if malformed).
                if let Some(answer) = self.cached_identity(CredentialKind::Basic, key).await {
                    return answer.map(Some).map_err(|f| invalid(f, EXPIRED));
                }
                let (user, password) = decode_basic(credential)
                    .ok_or(AuthnError::Unauthorized("malformed Basic credentials"))?;
                return self
                    .resolve_cached(CredentialKind::Basic, key, || async {
                        match self.verify_basic(&user, &password, ip).await {
                            Ok((id, generation)) => Ok((id, Some(generation))),
                            Err(LoginFailure::Service(e)) => Err(AuthFailure::Service(e)),
                            Err(LoginFailure::SecondFactorRequired) => Err(AuthFailure::SecondFactorRequired),
                            Err(
                                LoginFailure::BadCredentials
                                | LoginFailure::BadSecondFactor
                                | LoginFailure::PasswordLoginDisabled,
                            ) => Err(AuthFailure::Invalid),
                        }
                    })
                    .await
                    .map(Some)
                    .map_err(|f| invalid(f, EXPIRED));
            }
            return Err(AuthnError::Unauthorized("unsupported authorization scheme"));
        }
        if let Some(raw) = p.service_key {
            let key = std::str::from_utf8(raw).unwrap_or("");
            return self
                .service_key_identity(key)
                .map(Some)
                .ok_or(AuthnError::Unauthorized("invalid service key"));
        }
        if let Some(secret) = p.session {
            return self
                .resolve_session(secret)
                .await
                .map(Some)
                .map_err(|f| invalid(f, "the session has ended; sign in again"));
        }
        Ok(self.anonymous_identity())
    }

    /// Forward-auth's whole question: the rule for (host, uri, method) and, when it needs one, who the
    /// caller is. A refused credential is "no identity" here (the rule decides between 401 and a login
    /// redirect); only an oversized credential or our own failure is an error. `presented` runs only when
    /// the rule needs an identity: a bypassed or refused-by-path request reads no header or cookie.
    pub async fn forward<'p>(
        &self,
        host: &str,
        uri: &str,
        method: &str,
        presented: impl FnOnce() -> Presented<'p>,
    ) -> Result<(Decision, Option<Identity>), AuthnError> {
        let (step, _) = self.rules.first_step(host, uri, method);
        match step {
            Step::Done(d) => Ok((d, None)),
            Step::NeedsIdentity { rule, policy } => {
                let id = match self.authenticate(&presented()).await {
                    Ok(id) => id,
                    Err(AuthnError::Unauthorized(_)) => None,
                    Err(e) => return Err(e),
                };
                Ok((decide(&self.catalog, rule, policy, id.as_ref()), id))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode_as_rfc_7617_says() {
        assert_eq!(
            decode_basic("YWRhOnNlY3JldDpwYXJ0"),
            Some(("ada".into(), "secret:part".into()))
        );
        assert_eq!(decode_basic("not base64!"), None);
        assert_eq!(decode_basic("bm9jb2xvbg=="), None, "no colon");
    }

    #[test]
    fn header_values_are_bounded_and_text() {
        assert!(matches!(
            credential_text(&[0xff, 0xfe], "m"),
            Err(AuthnError::Unauthorized("m"))
        ));
        assert!(matches!(
            credential_text(b"   ", "m"),
            Err(AuthnError::Unauthorized("m"))
        ));
        assert!(matches!(
            credential_text(&vec![b'a'; 9 * 1024], "m"),
            Err(AuthnError::TooLarge)
        ));
        assert_eq!(credential_text(b" Bearer x ", "m").unwrap(), "Bearer x");
    }
}
