//! Signing keys and access-token JWTs (RFC 9068) with josekit.
//!
//! Verification pins the algorithm by `kid` (josekit refuses a header `alg` that differs from the key's),
//! then checks `typ`, `iss`, `aud`, `exp` and `nbf` against the injected clock with a bounded leeway.

use std::collections::HashMap;
use std::fmt;

use josekit::jwe::{self, JweHeader};
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsHeader, JwsSigner, JwsVerifier, ES256, HS256, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Map, Value};

/// Tokens longer than this are refused before parsing (API.md §1: a credential is at most 8 KiB).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// OpenID Connect ID tokens carry `typ: JWT`, so one can never pass for an access token (or the reverse).
pub const ID_TOKEN_TYPE: &str = "JWT";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningAlg {
    Es256,
    EdDsa,
    Rs256,
    Hs256,
}

impl SigningAlg {
    pub fn name(self) -> &'static str {
        match self {
            SigningAlg::Es256 => "ES256",
            SigningAlg::EdDsa => "EdDSA",
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Hs256 => "HS256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ES256" => Some(SigningAlg::Es256),
            "EdDSA" => Some(SigningAlg::EdDsa),
            "RS256" => Some(SigningAlg::Rs256),
            "HS256" => Some(SigningAlg::Hs256),
            _ => None,
        }
    }

    /// Symmetric keys are never published.
    pub fn is_public_key(self) -> bool {
        self != SigningAlg::Hs256
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("not a well-formed JWT")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("signature or algorithm check failed")]
    BadSignature,
    #[error("wrong token type")]
    WrongType,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("missing or malformed claim {0}")]
    Claim(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key operation failed: {0}")]
    Jose(#[from] josekit::JoseError),
    #[error("stored key is unreadable: {0}")]
    Corrupt(String),
    #[error("jwt.key_encryption_key does not decrypt the stored signing keys")]
    WrongKeyEncryptionKey,
}

/// A freshly generated key: the private JWK to seal and store, and the public JWK to publish.
pub struct GeneratedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub private_jwk: String,
    pub public_jwk: String,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

pub fn generate_key(alg: SigningAlg) -> Result<GeneratedKey, KeyError> {
    let kid = crate::random::hex_secret(12);
    let (mut private, mut public) = match alg {
        SigningAlg::Es256 => {
            let kp = ES256.generate_key_pair()?;
            (kp.to_jwk_key_pair(), kp.to_jwk_public_key())
        }
        SigningAlg::EdDsa => {
            let kp = EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519)?;
            (kp.to_jwk_key_pair(), kp.to_jwk_public_key())
        }
        SigningAlg::Rs256 => {
            let kp = RS256.generate_key_pair(2048)?;
            (kp.to_jwk_key_pair(), kp.to_jwk_public_key())
        }
        SigningAlg::Hs256 => {
            let secret = crate::random::bytes::<32>();
            let jwk = Jwk::new("oct");
            let mut jwk = jwk;
            jwk.set_parameter("k", Some(Value::String(base64url(&secret))))?;
            (jwk, Jwk::new("oct"))
        }
    };
    for jwk in [&mut private, &mut public] {
        jwk.set_key_id(&kid);
        jwk.set_algorithm(alg.name());
        jwk.set_key_use("sig");
    }
    Ok(GeneratedKey {
        kid,
        alg,
        private_jwk: private.to_string(),
        public_jwk: if alg.is_public_key() {
            public.to_string()
        } else {
            "{}".to_owned()
        },
    })
}

fn base64url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Encrypts a private key for the database: compact JWE, `dir` + A256GCM under the key-encryption key.
pub fn seal(kek: &[u8; 32], plaintext: &str) -> Result<Vec<u8>, KeyError> {
    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    let encrypter = jwe::Dir.encrypter_from_bytes(kek)?;
    Ok(jwe::serialize_compact(plaintext.as_bytes(), &header, &encrypter)?.into_bytes())
}

pub fn open(kek: &[u8; 32], sealed: &[u8]) -> Result<String, KeyError> {
    let decrypter = jwe::Dir.decrypter_from_bytes(kek)?;
    let text = std::str::from_utf8(sealed).map_err(|e| KeyError::Corrupt(e.to_string()))?;
    let (plain, _) =
        jwe::deserialize_compact(text, &decrypter).map_err(|_| KeyError::WrongKeyEncryptionKey)?;
    String::from_utf8(plain).map_err(|e| KeyError::Corrupt(e.to_string()))
}

/// A key ready to sign and verify.
pub struct LoadedKey {
    pub kid: String,
    pub alg: SigningAlg,
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
    public_jwk: Option<Map<String, Value>>,
    /// None while the key is current; after rotation, the last instant a token it signed can verify.
    pub verify_until: Option<i64>,
}

impl fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("verify_until", &self.verify_until)
            .finish()
    }
}

impl LoadedKey {
    pub fn from_private_jwk(
        alg: SigningAlg,
        kid: &str,
        private_jwk: &str,
        verify_until: Option<i64>,
    ) -> Result<Self, KeyError> {
        let jwk = Jwk::from_bytes(private_jwk.as_bytes())?;
        let (signer, verifier): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) = match alg {
            SigningAlg::Es256 => (
                Box::new(ES256.signer_from_jwk(&jwk)?),
                Box::new(ES256.verifier_from_jwk(&public_of(&jwk))?),
            ),
            SigningAlg::EdDsa => (
                Box::new(EdDSA.signer_from_jwk(&jwk)?),
                Box::new(EdDSA.verifier_from_jwk(&public_of(&jwk))?),
            ),
            SigningAlg::Rs256 => (
                Box::new(RS256.signer_from_jwk(&jwk)?),
                Box::new(RS256.verifier_from_jwk(&public_of(&jwk))?),
            ),
            SigningAlg::Hs256 => (
                Box::new(HS256.signer_from_jwk(&jwk)?),
                Box::new(HS256.verifier_from_jwk(&jwk)?),
            ),
        };
        let public_jwk = alg.is_public_key().then(|| public_of(&jwk).as_ref().clone());
        Ok(Self {
            kid: kid.to_owned(),
            alg,
            signer,
            verifier,
            public_jwk,
            verify_until,
        })
    }
}

/// The public half of a private JWK: drop every private parameter.
fn public_of(jwk: &Jwk) -> Jwk {
    let mut map = jwk.as_ref().clone();
    for p in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        map.remove(p);
    }
    Jwk::from_map(map).unwrap_or_else(|_| jwk.clone())
}

/// What a verified token must match.
#[derive(Clone, Debug)]
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub now: i64,
    pub leeway_secs: i64,
}

/// The signing key and every key still inside its verification window.
#[derive(Debug, Default)]
pub struct KeyRing {
    current: Option<String>,
    keys: HashMap<String, LoadedKey>,
}

impl KeyRing {
    pub fn new(keys: Vec<LoadedKey>, current: Option<&str>) -> Self {
        Self {
            current: current.map(str::to_owned),
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
        }
    }

    pub fn current_kid(&self) -> Option<&str> {
        self.current.as_deref()
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub fn sign(&self, claims: Map<String, Value>) -> Result<String, KeyError> {
        self.sign_typed(claims, ACCESS_TOKEN_TYPE)
    }

    /// Signs with the current key and the given `typ` header.
    pub fn sign_typed(&self, claims: Map<String, Value>, typ: &str) -> Result<String, KeyError> {
        let kid = self
            .current
            .as_deref()
            .ok_or_else(|| KeyError::Corrupt("no current signing key".into()))?;
        let key = self
            .keys
            .get(kid)
            .ok_or_else(|| KeyError::Corrupt("current key missing".into()))?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(kid);
        let payload = JwtPayload::from_map(claims)?;
        Ok(jwt::encode_with_signer(&payload, &header, key.signer.as_ref())?)
    }

    /// Verifies signature and registered claims; returns the claims.
    pub fn verify(&self, token: &str, expect: &Expectations<'_>) -> Result<Map<String, Value>, JwtError> {
        self.verify_typed(token, expect, ACCESS_TOKEN_TYPE)
    }

    /// Verifies a token whose `typ` header must be `typ` (or `application/{typ}`).
    pub fn verify_typed(
        &self,
        token: &str,
        expect: &Expectations<'_>,
        typ: &str,
    ) -> Result<Map<String, Value>, JwtError> {
        if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
            return Err(JwtError::Malformed);
        }
        let header = jwt::decode_header(token).map_err(|_| JwtError::Malformed)?;
        let found = header.claim("typ").and_then(Value::as_str).unwrap_or("");
        let bare = found
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("application/"))
            .map_or(found, |_| &found[12..]);
        if !bare.eq_ignore_ascii_case(typ) {
            return Err(JwtError::WrongType);
        }
        let kid = header
            .claim("kid")
            .and_then(Value::as_str)
            .ok_or(JwtError::UnknownKey)?;
        let key = self.keys.get(kid).ok_or(JwtError::UnknownKey)?;
        if key.verify_until.is_some_and(|t| t < expect.now) {
            return Err(JwtError::UnknownKey);
        }
        // josekit refuses a header alg other than the verifier's: the algorithm is pinned by kid.
        let (payload, _) =
            jwt::decode_with_verifier(token, key.verifier.as_ref()).map_err(|_| JwtError::BadSignature)?;
        let claims = payload.claims_set().clone();
        check_claims(&claims, expect)?;
        Ok(claims)
    }

    /// The JWKS: public keys still inside their verification window.
    pub fn jwks(&self, now: i64) -> Value {
        let mut keys: Vec<(&String, &LoadedKey)> = self
            .keys
            .iter()
            .filter(|(_, k)| k.verify_until.is_none_or(|t| t >= now))
            .collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        Value::Object(Map::from_iter([(
            "keys".to_owned(),
            Value::Array(
                keys.into_iter()
                    .filter_map(|(_, k)| k.public_jwk.clone().map(Value::Object))
                    .collect(),
            ),
        )]))
    }
}

fn check_claims(c: &Map<String, Value>, e: &Expectations<'_>) -> Result<(), JwtError> {
    let num = |name: &'static str| c.get(name).and_then(Value::as_i64).ok_or(JwtError::Claim(name));
    if c.get("iss").and_then(Value::as_str) != Some(e.issuer) {
        return Err(JwtError::WrongIssuer);
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == e.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(e.audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(JwtError::WrongAudience);
    }
    if num("exp")? + e.leeway_secs <= e.now {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = c.get("nbf") {
        if nbf.as_i64().ok_or(JwtError::Claim("nbf"))? > e.now + e.leeway_secs {
            return Err(JwtError::NotYetValid);
        }
    }
    num("iat")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(alg: SigningAlg) -> KeyRing {
        let g = generate_key(alg).unwrap();
        let k = LoadedKey::from_private_jwk(alg, &g.kid, &g.private_jwk, None).unwrap();
        KeyRing::new(vec![k], Some(&g.kid))
    }

    fn claims(now: i64) -> Map<String, Value> {
        serde_json::json!({"iss": "https://id", "aud": "https://id", "sub": "1", "iat": now, "nbf": now, "exp": now + 1800})
            .as_object()
            .unwrap()
            .clone()
    }

    fn expect(now: i64) -> Expectations<'static> {
        Expectations {
            issuer: "https://id",
            audience: "https://id",
            now,
            leeway_secs: 60,
        }
    }

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in [
            SigningAlg::Es256,
            SigningAlg::EdDsa,
            SigningAlg::Rs256,
            SigningAlg::Hs256,
        ] {
            let r = ring(alg);
            let t = r.sign(claims(1000)).unwrap();
            let c = r.verify(&t, &expect(1000)).unwrap();
            assert_eq!(c["sub"], "1", "{alg:?}");
            let jwks = r.jwks(1000);
            assert_eq!(
                jwks["keys"].as_array().unwrap().len(),
                usize::from(alg.is_public_key())
            );
            if alg.is_public_key() {
                assert!(jwks["keys"][0].get("d").is_none(), "no private parts in the JWKS");
                assert_eq!(jwks["keys"][0]["alg"], alg.name());
            }
        }
    }

    #[test]
    fn claims_are_checked_with_leeway() {
        let r = ring(SigningAlg::Es256);
        let t = r.sign(claims(1000)).unwrap();
        assert!(r.verify(&t, &expect(1000 + 1800 + 59)).is_ok());
        assert!(matches!(
            r.verify(&t, &expect(1000 + 1800 + 60)),
            Err(JwtError::Expired)
        ));
        assert!(matches!(
            r.verify(&t, &expect(1000 - 61)),
            Err(JwtError::NotYetValid)
        ));
        let wrong_iss = Expectations {
            issuer: "https://other",
            ..expect(1000)
        };
        assert!(matches!(r.verify(&t, &wrong_iss), Err(JwtError::WrongIssuer)));
        let wrong_aud = Expectations {
            audience: "https://other",
            ..expect(1000)
        };
        assert!(matches!(r.verify(&t, &wrong_aud), Err(JwtError::WrongAudience)));
    }

    #[test]
    fn sealing_round_trips_and_refuses_a_wrong_key() {
        let sealed = seal(&[7; 32], "secret jwk").unwrap();
        assert_eq!(open(&[7; 32], &sealed).unwrap(), "secret jwk");
        assert!(matches!(
            open(&[8; 32], &sealed),
            Err(KeyError::WrongKeyEncryptionKey)
        ));
    }

    #[test]
    fn base64url_matches_known_vectors() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
