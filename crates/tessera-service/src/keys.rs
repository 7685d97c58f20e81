//! Signing keys: created at first start, kept sealed in `signing_keys`, shared by every replica.

use std::sync::{Arc, Mutex, RwLock};

use serde_json::{Map, Value};
use tessera_core::UnixTime;
use tessera_crypto::jwt::{self, Expectations, JwtError, KeyRing, LoadedKey, SigningAlg};
use tessera_db::models::signing_keys::SigningKey;
use tessera_db::{Db, DbConnection};

use crate::ServiceError;

/// A replica learns about another's new key when it meets an unknown `kid`; this bounds how often that
/// may reach the database.
const UNKNOWN_KID_RELOAD_SECS: i64 = 5;

pub struct Keys {
    db: Db,
    kek: [u8; 32],
    alg: SigningAlg,
    ring: RwLock<Arc<KeyRing>>,
    last_reload: Mutex<i64>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A row of `tessera keys list`.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub verify_until: Option<i64>,
}

fn unexpected(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unexpected(anyhow::anyhow!("{e}"))
}

impl Keys {
    /// Loads the live keys, creating the first one of `alg` when none exists.
    pub async fn open(db: Db, kek: [u8; 32], alg: SigningAlg, now: UnixTime) -> Result<Self, ServiceError> {
        let keys = Self {
            db,
            kek,
            alg,
            ring: RwLock::new(Arc::new(KeyRing::default())),
            last_reload: Mutex::new(now.as_secs()),
        };
        keys.reload(now).await?;
        if keys.ring().current_kid().is_none() {
            keys.insert_new(now).await?;
            keys.reload(now).await?;
        }
        Ok(keys)
    }

    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring
            .read()
            .map_or_else(|p| p.into_inner().clone(), |r| r.clone())
    }

    pub fn algorithm(&self) -> SigningAlg {
        self.alg
    }

    async fn insert_new(&self, now: UnixTime) -> Result<String, ServiceError> {
        let generated = jwt::generate_key(self.alg).map_err(unexpected)?;
        let sealed = jwt::seal(&self.kek, &generated.private_jwk).map_err(unexpected)?;
        let row = SigningKey {
            kid: generated.kid.clone(),
            alg: self.alg.name().to_owned(),
            public_jwk: generated.public_jwk,
            private_encrypted: sealed,
            created_at: now.as_secs(),
            retired_at: None,
            verify_until: None,
        };
        self.db
            .run(move |c| Ok::<_, ServiceError>(SigningKey::insert(c, &row)?))
            .await?;
        Ok(generated.kid)
    }

    /// Rereads the keys from the database.
    pub async fn reload(&self, now: UnixTime) -> Result<(), ServiceError> {
        let kek = self.kek;
        let alg = self.alg;
        let ring = self
            .db
            .run(move |c: &mut DbConnection| -> Result<KeyRing, ServiceError> {
                let rows = SigningKey::live(c, now.as_secs())?;
                let mut loaded = Vec::new();
                let mut current = None;
                for row in rows {
                    let Some(key_alg) = SigningAlg::parse(&row.alg) else {
                        continue;
                    };
                    let private = jwt::open(&kek, &row.private_encrypted).map_err(unexpected)?;
                    let key = LoadedKey::from_private_jwk(key_alg, &row.kid, &private, row.verify_until)
                        .map_err(unexpected)?;
                    // The newest current key of the configured algorithm signs.
                    if row.retired_at.is_none() && key_alg == alg {
                        current = Some(row.kid.clone());
                    }
                    loaded.push(key);
                }
                Ok(KeyRing::new(loaded, current.as_deref()))
            })
            .await?;
        if let Ok(mut w) = self.ring.write() {
            *w = Arc::new(ring);
        }
        if let Ok(mut t) = self.last_reload.lock() {
            *t = now.as_secs();
        }
        Ok(())
    }

    /// A new key signs from now on; the old ones verify until every token they signed has expired.
    pub async fn rotate(
        &self,
        now: UnixTime,
        access_ttl_secs: i64,
        leeway_secs: i64,
    ) -> Result<String, ServiceError> {
        // Replicas reload within `leeway`, so a token signed by the old key just after rotation still
        // expires inside the window: keep it open for two leeways beyond the longest token.
        let verify_until = now.as_secs() + access_ttl_secs + 2 * leeway_secs;
        self.db
            .run(move |c| Ok::<_, ServiceError>(SigningKey::retire_current(c, now.as_secs(), verify_until)?))
            .await?;
        let kid = self.insert_new(now).await?;
        self.reload(now).await?;
        Ok(kid)
    }

    pub async fn list(&self) -> Result<Vec<KeyInfo>, ServiceError> {
        self.db
            .run(|c| {
                Ok::<_, ServiceError>(
                    SigningKey::all(c)?
                        .into_iter()
                        .map(|k| KeyInfo {
                            kid: k.kid,
                            alg: k.alg,
                            created_at: k.created_at,
                            retired_at: k.retired_at,
                            verify_until: k.verify_until,
                        })
                        .collect(),
                )
            })
            .await
    }

    pub fn sign(&self, claims: Map<String, Value>) -> Result<String, ServiceError> {
        self.ring().sign(claims).map_err(unexpected)
    }

    /// Seals a secret at rest with the key-encryption key (TOTP secrets, like the signing keys).
    pub fn seal(&self, plaintext: &str) -> Result<Vec<u8>, ServiceError> {
        jwt::seal(&self.kek, plaintext).map_err(unexpected)
    }

    pub fn unseal(&self, sealed: &[u8]) -> Result<String, ServiceError> {
        jwt::open(&self.kek, sealed).map_err(unexpected)
    }

    /// An OpenID Connect ID token (`typ: JWT`): never accepted where an access token is expected.
    pub fn sign_id_token(&self, claims: Map<String, Value>) -> Result<String, ServiceError> {
        self.sign_typed(claims, jwt::ID_TOKEN_TYPE)
    }

    /// Signs with the current key and the given `typ` (ID and logout tokens; never `at+jwt`).
    pub fn sign_typed(&self, claims: Map<String, Value>, typ: &str) -> Result<String, ServiceError> {
        self.ring().sign_typed(claims, typ).map_err(unexpected)
    }

    /// Verifies a token; an unknown `kid` triggers one (rate-limited) reload, for keys another replica made.
    pub async fn verify(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<Map<String, Value>, JwtError> {
        match self.ring().verify(token, expect) {
            Err(JwtError::UnknownKey) if self.may_reload(expect.now) => {
                let _ = self.reload(UnixTime(expect.now)).await;
                self.ring().verify(token, expect)
            }
            other => other,
        }
    }

    fn may_reload(&self, now: i64) -> bool {
        let Ok(mut last) = self.last_reload.lock() else {
            return false;
        };
        if now - *last >= UNKNOWN_KID_RELOAD_SECS {
            *last = now;
            true
        } else {
            false
        }
    }

    pub fn jwks(&self, now: UnixTime) -> Value {
        self.ring().jwks(now.as_secs())
    }
}

impl crate::Services {
    /// Rotates the signing key for an admin (the admin pages; the CLI is the operator's): the old key keeps
    /// verifying until the longest token signed with it has expired. Audited with who did it.
    pub async fn rotate_signing_key(
        &self,
        actor: &crate::identity::Identity,
    ) -> Result<String, ServiceError> {
        if !actor.is_admin() {
            return Err(ServiceError::Forbidden(
                "only an admin can rotate the signing key".into(),
            ));
        }
        let now = self.clock.now();
        let jwt = &self.settings.jwt;
        let kid = self
            .keys
            .rotate(now, jwt.access_ttl_secs, jwt.leeway_secs)
            .await?;
        let (who, detail) = (actor.subject.to_string(), kid.clone());
        self.db
            .run(move |c| {
                crate::audit::record(c, now, "signing_key.rotated", None, Some(&who), Some(&detail))
            })
            .await?;
        Ok(kid)
    }
}
