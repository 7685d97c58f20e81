//! OpenID Connect ID tokens: the claims (Core 1.0 §2, §3.1.3.6 `at_hash`, §5.4 claims by scope) and the
//! check of an `id_token_hint` for RP-initiated logout.

use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::Digest;
use tessera_core::UnixTime;
use tessera_crypto::jwt::{self, Expectations, SigningAlg};
use tessera_db::models::users::User;

use crate::Services;

/// What an ID token says about one sign-in.
pub(crate) struct SignIn<'a> {
    pub user: &'a User,
    pub client_id: &'a str,
    pub oidc_scopes: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub session_id: Option<&'a str>,
    pub access_token: &'a str,
    pub groups: Vec<String>,
}

/// `at_hash`: the left half of the access token's hash under the signing algorithm's hash, base64url.
/// EdDSA (Ed25519) uses SHA-512, as OpenID Connect's errata and certified providers do.
pub fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        SigningAlg::EdDsa => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
        SigningAlg::Es256 | SigningAlg::Rs256 | SigningAlg::Hs256 => {
            sha2::Sha256::digest(access_token.as_bytes()).to_vec()
        }
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// A verified `id_token_hint`: who it names and for which client.
#[derive(Clone, Debug)]
pub struct HintClaims {
    pub user_id: i64,
    pub client_id: String,
    pub session_id: Option<String>,
}

impl Services {
    pub(crate) fn id_token(&self, s: &SignIn<'_>, now: UnixTime) -> Result<String, crate::ServiceError> {
        let scopes: Vec<&str> = s.oidc_scopes.split(' ').collect();
        let mut m = Map::new();
        m.insert("iss".into(), json!(self.settings.server.public_url));
        m.insert("sub".into(), json!(s.user.id.to_string()));
        m.insert("aud".into(), json!(s.client_id));
        m.insert("azp".into(), json!(s.client_id));
        m.insert("iat".into(), json!(now.as_secs()));
        m.insert(
            "exp".into(),
            json!(now.as_secs() + self.settings.jwt.access_ttl_secs),
        );
        m.insert("auth_time".into(), json!(s.auth_time));
        m.insert(
            "at_hash".into(),
            json!(at_hash(self.keys.algorithm(), s.access_token)),
        );
        if let Some(n) = s.nonce {
            m.insert("nonce".into(), json!(n));
        }
        if let Some(sid) = s.session_id {
            m.insert("sid".into(), json!(sid));
        }
        if scopes.contains(&"profile") {
            m.insert("preferred_username".into(), json!(s.user.username));
            m.insert("name".into(), json!(s.user.username));
        }
        if scopes.contains(&"email") {
            if let Some(e) = &s.user.email {
                m.insert("email".into(), json!(e));
                m.insert("email_verified".into(), json!(s.user.email_verified));
            }
        }
        if scopes.contains(&"groups") {
            m.insert("groups".into(), json!(s.groups));
            m.insert("roles".into(), json!([s.user.role]));
        }
        self.keys.sign_id_token(m)
    }

    /// Checks an `id_token_hint`: signed by one of our keys as an ID token, issued by us. An expired
    /// hint is still a hint (Core's RP-initiated logout §2), so `exp` is given the family cap as leeway.
    pub async fn verify_id_token_hint(&self, token: &str) -> Option<HintClaims> {
        if token.len() > jwt::MAX_TOKEN_LEN {
            return None;
        }
        // The audience is the client the token names; the signature check below makes that claim true.
        let unverified = token.split('.').nth(1)?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(unverified)
            .ok()?;
        let claims: Map<String, Value> = serde_json::from_slice(&payload).ok()?;
        let aud = claims.get("aud").and_then(Value::as_str)?.to_owned();
        let expect = Expectations {
            issuer: &self.settings.server.public_url,
            audience: &aud,
            now: self.clock.now().as_secs(),
            leeway_secs: self.settings.oauth.refresh_family_cap_secs,
        };
        let verified = self
            .keys
            .ring()
            .verify_typed(token, &expect, jwt::ID_TOKEN_TYPE)
            .ok()?;
        Some(HintClaims {
            user_id: verified.get("sub").and_then(Value::as_str)?.parse().ok()?,
            client_id: aud,
            session_id: verified.get("sid").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_openid_connect_core_example() {
        // OpenID Connect Core 1.0 §A.3: RS256 ID token for this access token has at_hash 77QmUPtjPfzWtF2AnpK9RQ.
        assert_eq!(
            at_hash(SigningAlg::Rs256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
