//! Passkeys (WebAuthn Level 2 through webauthn-rs, issue 21): registration, listing, renaming and
//! deleting; a discoverable sign-in (no username typed) and a passkey as the second step after a
//! password. The relying party is `server.public_url`: its host is the RP id and its origin the only
//! accepted origin, so `public_url` must name a host (an IP address cannot be a WebAuthn RP id).
//!
//! A ceremony's state lives in the store (shared by replicas) under a random challenge id, taken exactly
//! once. Every ceremony requires user verification (webauthn-rs's passkey policy), so a passkey sign-in
//! is both factors at once. A signature counter that does not move forward is refused (a cloned
//! authenticator): webauthn-rs checks it against the stored count, and the new count is written with a
//! compare-and-set so two replicas cannot both accept the same one.

use base64::Engine as _;
use tessera_core::UnixTime;
use tessera_db::models::passkeys::PasskeyRow;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::cache::Eviction;
use crate::identity::Identity;
use crate::login::LoginFailure;
use crate::ratelimit::LimitedAction;
use crate::second_factor::PendingSignIn;
use crate::{audit, ServiceError, Services};

/// How long a ceremony waits for the browser.
const CEREMONY_SECS: i64 = 300;
/// Passkeys per user: enough for every device a person owns, bounded like client tokens.
pub const MAX_PASSKEYS: i64 = 10;
/// A credential as the browser sends it is a few hundred bytes; anything far larger is refused unread.
pub const MAX_CREDENTIAL_JSON: usize = 16 * 1024;
const MAX_NAME: usize = 64;

/// A listed passkey (never its key material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl From<PasskeyRow> for PasskeyInfo {
    fn from(r: PasskeyRow) -> Self {
        PasskeyInfo {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// A started ceremony: the id to send back with the browser's answer, and the options for
/// `navigator.credentials.create()` / `.get()` (`{"publicKey": …}`, binary fields base64url).
#[derive(Clone, Debug)]
pub struct Ceremony {
    pub challenge_id: String,
    pub options: serde_json::Value,
}

/// What the store keeps for a ceremony.
#[derive(serde::Serialize, serde::Deserialize)]
enum CeremonyState {
    Register {
        user_id: i64,
        user_handle: String,
        state: PasskeyRegistration,
    },
    SignIn {
        state: DiscoverableAuthentication,
    },
    /// The second step of a parked sign-in: only that sign-in's passkeys, only with its cookie.
    SecondStep {
        wait_key: String,
        state: PasskeyAuthentication,
    },
}

/// The owner of a credential, or 403 for credentials that belong to no user (service key, clients).
pub(crate) fn owner_id(me: &Identity) -> Result<i64, ServiceError> {
    me.principal
        .as_ref()
        .map(|p| p.user_id)
        .ok_or_else(|| ServiceError::Forbidden("this credential does not belong to a user".into()))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn ceremony_key(challenge_id: &str) -> String {
    format!(
        "webauthn:{}",
        hex::encode(tessera_core::token_format::TokenDigest::of(challenge_id).as_bytes())
    )
}

fn clean_name(name: &str) -> Result<String, ServiceError> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ServiceError::field("name", "must be 1 to 64 characters"));
    }
    Ok(name)
}

fn parse_credential<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, ServiceError> {
    if raw.len() > MAX_CREDENTIAL_JSON {
        return Err(ServiceError::field("credential", "is too large"));
    }
    serde_json::from_str(raw).map_err(|_| {
        ServiceError::field(
            "credential",
            "is not a WebAuthn credential as the browser sends it",
        )
    })
}

fn options_json<T: serde::Serialize>(options: &T) -> Result<serde_json::Value, ServiceError> {
    serde_json::to_value(options).map_err(|e| ServiceError::Unexpected(e.into()))
}

impl Services {
    /// The relying party of `public_url`.
    fn webauthn(&self) -> Result<Webauthn, ServiceError> {
        let origin = Url::parse(&self.settings.server.public_url)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("public_url: {e}")))?;
        let unusable = || {
            ServiceError::Conflict(
                "passkeys need server.public_url to name a host (https://id.example.org, or \
                 http://localhost for a trial), not an IP address"
                    .into(),
            )
        };
        let rp_id = match origin.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            _ => return Err(unusable()),
        };
        WebauthnBuilder::new(&rp_id, &origin)
            .and_then(|b| b.rp_name("Tessera").build())
            .map_err(|_| unusable())
    }

    /// Whether passkeys can work here (`public_url` names a host).
    pub fn passkeys_available(&self) -> bool {
        self.webauthn().is_ok()
    }

    async fn keep_ceremony(&self, state: &CeremonyState) -> Result<String, ServiceError> {
        let challenge_id = tessera_crypto::random::hex_secret(16);
        let now = self.clock.now();
        let value = serde_json::to_vec(state).map_err(|e| ServiceError::Unexpected(e.into()))?;
        self.store
            .set(
                &ceremony_key(&challenge_id),
                &value,
                UnixTime(now.as_secs() + CEREMONY_SECS),
                now,
            )
            .await
            .map_err(|e| ServiceError::Unavailable(format!("store: {e}")))?;
        Ok(challenge_id)
    }

    /// The ceremony of `challenge_id`, used up: an answer is checked against its challenge once.
    async fn take_ceremony(&self, challenge_id: &str) -> Result<Option<CeremonyState>, ServiceError> {
        if challenge_id.len() > 64 {
            return Ok(None);
        }
        let raw = self
            .store
            .take(&ceremony_key(challenge_id), self.clock.now())
            .await
            .map_err(|e| ServiceError::Unavailable(format!("store: {e}")))?;
        Ok(raw.and_then(|r| serde_json::from_slice(&r).ok()))
    }

    async fn passkeys_of(&self, user_id: i64) -> Result<Vec<PasskeyRow>, ServiceError> {
        self.db
            .run(move |c| Ok::<_, ServiceError>(PasskeyRow::of_user(c, user_id)?))
            .await
    }

    /// Starts registering a passkey. Adding a way to sign in is minting, so the current password proves
    /// the owner is at the keyboard, as for TOTP.
    pub async fn begin_passkey_registration(
        &self,
        me: &Identity,
        current_password: &str,
    ) -> Result<Ceremony, ServiceError> {
        let user = self.get_user(owner_id(me)?).await?;
        let webauthn = self.webauthn()?;
        self.check_current_password(&user, current_password, "passkey")
            .await?;
        let existing = self.passkeys_of(user.id).await?;
        if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= MAX_PASSKEYS {
            return Err(ServiceError::Conflict(format!(
                "a user has at most {MAX_PASSKEYS} passkeys; delete one first"
            )));
        }
        // One random handle per user, kept by every authenticator of theirs.
        let user_handle = existing
            .first()
            .and_then(|p| Uuid::parse_str(&p.user_handle).ok())
            .unwrap_or_else(Uuid::new_v4);
        let exclude = existing
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(&p.credential).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let display = user.username.clone();
        let (mut options, state) = webauthn
            .start_passkey_registration(user_handle, &user.username, &display, Some(exclude))
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("webauthn: {e}")))?;
        // A discoverable credential, so that the passkey alone signs in (no username typed).
        if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
            sel.resident_key = Some(ResidentKeyRequirement::Required);
            sel.require_resident_key = true;
        }
        let challenge_id = self
            .keep_ceremony(&CeremonyState::Register {
                user_id: user.id,
                user_handle: user_handle.to_string(),
                state,
            })
            .await?;
        Ok(Ceremony {
            challenge_id,
            options: options_json(&options)?,
        })
    }

    /// Finishes a registration with the browser's answer; the passkey is named by its owner.
    pub async fn finish_passkey_registration(
        &self,
        me: &Identity,
        challenge_id: &str,
        credential_json: &str,
        name: &str,
    ) -> Result<PasskeyInfo, ServiceError> {
        let uid = owner_id(me)?;
        let name = clean_name(name)?;
        let credential: RegisterPublicKeyCredential = parse_credential(credential_json)?;
        let Some(CeremonyState::Register {
            user_id,
            user_handle,
            state,
        }) = self.take_ceremony(challenge_id).await?
        else {
            return Err(ServiceError::field(
                "challenge_id",
                "unknown or expired; start again",
            ));
        };
        if user_id != uid {
            return Err(ServiceError::field(
                "challenge_id",
                "unknown or expired; start again",
            ));
        }
        let passkey = self
            .webauthn()?
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| ServiceError::field("credential", format!("was not accepted: {e}")))?;
        let now = self.clock.now().as_secs();
        let row = PasskeyRow {
            id: Uuid::now_v7().to_string(),
            user_id: uid,
            credential_id: b64(passkey.cred_id().as_ref()),
            user_handle,
            name,
            credential: serde_json::to_string(&passkey).map_err(|e| ServiceError::Unexpected(e.into()))?,
            counter: 0,
            created_at: now,
            last_used_at: None,
        };
        let stored = row.clone();
        self.db
            .write_tx(move |c| {
                if PasskeyRow::count_of_user(c, uid)? >= MAX_PASSKEYS {
                    return Err(ServiceError::Conflict(format!(
                        "a user has at most {MAX_PASSKEYS} passkeys; delete one first"
                    )));
                }
                if PasskeyRow::by_credential_id(c, &stored.credential_id)?.is_some() {
                    return Err(ServiceError::Conflict(
                        "this passkey is registered already".into(),
                    ));
                }
                PasskeyRow::insert(c, &stored)?;
                audit::record(
                    c,
                    tessera_core::UnixTime(now),
                    "second_factor.passkey_registered",
                    Some(uid),
                    None,
                    Some(&serde_json::json!({ "passkey": stored.id, "name": stored.name }).to_string()),
                )?;
                Ok(())
            })
            .await?;
        self.metrics.second_factor("passkey_registered");
        // From now on every password path asks for the factor: drop identities cached without it.
        self.evict(&[Eviction::User(uid)]).await?;
        Ok(row.into())
    }

    pub async fn list_passkeys(&self, me: &Identity) -> Result<Vec<PasskeyInfo>, ServiceError> {
        let uid = owner_id(me)?;
        Ok(self.passkeys_of(uid).await?.into_iter().map(Into::into).collect())
    }

    pub async fn rename_passkey(&self, me: &Identity, id: &str, name: &str) -> Result<(), ServiceError> {
        let uid = owner_id(me)?;
        let name = clean_name(name)?;
        let id = id.to_owned();
        let now = self.clock.now();
        self.db
            .write_tx(move |c| {
                if !PasskeyRow::rename(c, uid, &id, &name)? {
                    return Err(ServiceError::NotFound);
                }
                audit::record(
                    c,
                    now,
                    "second_factor.passkey_renamed",
                    Some(uid),
                    None,
                    Some(&serde_json::json!({ "passkey": id, "name": name }).to_string()),
                )?;
                Ok(())
            })
            .await
    }

    pub async fn delete_passkey(&self, me: &Identity, id: &str) -> Result<(), ServiceError> {
        let uid = owner_id(me)?;
        let id = id.to_owned();
        let now = self.clock.now();
        self.db
            .write_tx(move |c| {
                if !PasskeyRow::delete(c, uid, &id)? {
                    return Err(ServiceError::NotFound);
                }
                audit::record(
                    c,
                    now,
                    "second_factor.passkey_deleted",
                    Some(uid),
                    None,
                    Some(&serde_json::json!({ "passkey": id }).to_string()),
                )?;
                Ok(())
            })
            .await?;
        self.metrics.second_factor("passkey_deleted");
        Ok(())
    }

    /// Starts a sign-in with a discoverable passkey: the browser offers whichever this site's
    /// authenticators hold.
    pub async fn begin_passkey_sign_in(&self, client_ip: &str) -> Result<Ceremony, ServiceError> {
        self.limits
            .charge(LimitedAction::PasskeyStart, client_ip, self.clock.now())
            .await?;
        let (mut options, state) = self
            .webauthn()?
            .start_discoverable_authentication()
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("webauthn: {e}")))?;
        // webauthn-rs asks for conditional mediation (autofill); the page asks on a button press instead.
        options.mediation = None;
        let challenge_id = self.keep_ceremony(&CeremonyState::SignIn { state }).await?;
        Ok(Ceremony {
            challenge_id,
            options: options_json(&options)?,
        })
    }

    /// Starts the passkey step of a parked sign-in (`park_sign_in`): that user's passkeys only.
    pub async fn begin_passkey_second_step(
        &self,
        wait_token: &str,
        client_ip: &str,
    ) -> Result<Ceremony, LoginFailure> {
        self.limits
            .charge(LimitedAction::PasskeyStart, client_ip, self.clock.now())
            .await?;
        let (wait_key, pending) = self.parked(wait_token).await?;
        let keys: Vec<Passkey> = self
            .passkeys_of(pending.user_id)
            .await?
            .iter()
            .filter_map(|p| serde_json::from_str(&p.credential).ok())
            .collect();
        if keys.is_empty() {
            return Err(LoginFailure::BadSecondFactor);
        }
        let (options, state) = self
            .webauthn()?
            .start_passkey_authentication(&keys)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("webauthn: {e}")))?;
        let challenge_id = self
            .keep_ceremony(&CeremonyState::SecondStep { wait_key, state })
            .await?;
        Ok(Ceremony {
            challenge_id,
            options: options_json(&options)?,
        })
    }

    /// Finishes a passkey sign-in (discoverable, or the second step of the parked sign-in whose wait
    /// token is `wait_token`). Failures are charged to the client address's login budget. Returns the
    /// sign-in to start a session for.
    pub async fn finish_passkey_sign_in(
        &self,
        challenge_id: &str,
        credential_json: &str,
        wait_token: Option<&str>,
        rd: String,
        client_ip: &str,
    ) -> Result<PendingSignIn, LoginFailure> {
        let now = self.clock.now();
        self.limits.charge(LimitedAction::LoginIp, client_ip, now).await?;
        let result = self
            .check_passkey(challenge_id, credential_json, wait_token, rd)
            .await;
        match &result {
            Ok(p) => {
                self.limits.refund(LimitedAction::LoginIp, client_ip, now).await;
                self.metrics.second_factor("passkey_accepted");
                let uid = p.user_id;
                self.db
                    .run(move |c| audit::record(c, now, "second_factor.passkey_used", Some(uid), None, None))
                    .await
                    .map_err(ServiceError::from)?;
            }
            Err(LoginFailure::Service(_)) => {}
            Err(_) => self.metrics.second_factor("passkey_refused"),
        }
        result
    }

    async fn check_passkey(
        &self,
        challenge_id: &str,
        credential_json: &str,
        wait_token: Option<&str>,
        rd: String,
    ) -> Result<PendingSignIn, LoginFailure> {
        let credential: PublicKeyCredential =
            parse_credential(credential_json).map_err(|_| LoginFailure::BadSecondFactor)?;
        let webauthn = self.webauthn()?;
        let state = self
            .take_ceremony(challenge_id)
            .await?
            .ok_or(LoginFailure::BadSecondFactor)?;
        let credential_id = b64(credential.get_credential_id());
        let row = {
            let id = credential_id.clone();
            self.db
                .run(move |c| Ok::<_, ServiceError>(PasskeyRow::by_credential_id(c, &id)?))
                .await?
                .ok_or(LoginFailure::BadSecondFactor)?
        };
        let stored: Passkey =
            serde_json::from_str(&row.credential).map_err(|e| ServiceError::Unexpected(e.into()))?;
        let (result, pending, wait_key) = match state {
            CeremonyState::SignIn { state } => {
                let (handle, _) = webauthn
                    .identify_discoverable_authentication(&credential)
                    .map_err(|_| LoginFailure::BadSecondFactor)?;
                if handle.to_string() != row.user_handle {
                    return Err(LoginFailure::BadSecondFactor);
                }
                let result = match webauthn.finish_discoverable_authentication_v2(&credential, state, &stored)
                {
                    Ok(r) => r,
                    Err(e) => return Err(self.refused(&row, &e).await),
                };
                let pending = PendingSignIn {
                    user_id: row.user_id,
                    rd,
                    oidc_id_token: None,
                    enrol: false,
                };
                (result, pending, None)
            }
            CeremonyState::SecondStep { wait_key, state } => {
                // Only the browser holding the wait's cookie finishes its sign-in.
                let token = wait_token.ok_or(LoginFailure::BadSecondFactor)?;
                let (key, pending) = self.parked(token).await?;
                if !tessera_crypto::ct_eq(key.as_bytes(), wait_key.as_bytes())
                    || pending.user_id != row.user_id
                {
                    return Err(LoginFailure::BadSecondFactor);
                }
                let result = match webauthn.finish_passkey_authentication(&credential, &state) {
                    Ok(r) => r,
                    Err(e) => return Err(self.refused(&row, &e).await),
                };
                (result, pending, Some(key))
            }
            CeremonyState::Register { .. } => return Err(LoginFailure::BadSecondFactor),
        };
        let user = self.get_user(row.user_id).await?;
        if !user.enabled {
            return Err(LoginFailure::BadCredentials);
        }
        let mut updated = stored;
        updated.update_credential(&result);
        let (seen, new) = (row.counter, i64::from(result.counter()));
        let json = serde_json::to_string(&updated).map_err(|e| ServiceError::Unexpected(e.into()))?;
        let id = row.id.clone();
        let at = self.clock.now().as_secs();
        let advanced = self
            .db
            .run(move |c| {
                Ok::<_, ServiceError>(PasskeyRow::record_use(c, &id, seen, new.max(seen), &json, at)?)
            })
            .await?;
        if !advanced {
            // Another sign-in with this passkey moved the counter meanwhile: one of the two is a clone.
            return Err(LoginFailure::BadSecondFactor);
        }
        // Only now is the waiting sign-in used up: a refused passkey leaves it for another try.
        if let Some(key) = wait_key {
            self.use_up(&key).await?;
        }
        Ok(pending)
    }

    /// A refused assertion of a registered passkey, audited; a counter that did not move forward is a
    /// possible clone.
    async fn refused(&self, row: &PasskeyRow, e: &webauthn_rs::prelude::WebauthnError) -> LoginFailure {
        let cloned = matches!(
            e,
            webauthn_rs::prelude::WebauthnError::CredentialPossibleCompromise
        );
        if cloned {
            tracing::warn!(user_id = row.user_id, passkey = %row.id, "passkey counter went backwards: possible clone");
            self.metrics.second_factor("passkey_cloned");
        }
        let (uid, now) = (row.user_id, self.clock.now());
        let detail = serde_json::json!({ "passkey": row.id, "possible_clone": cloned }).to_string();
        let recorded = self
            .db
            .run(move |c| {
                audit::record(
                    c,
                    now,
                    "second_factor.passkey_refused",
                    Some(uid),
                    None,
                    Some(&detail),
                )
            })
            .await;
        match recorded {
            Ok(()) => LoginFailure::BadSecondFactor,
            Err(e) => LoginFailure::Service(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Phone \n").ok().as_deref(), Some("Phone"));
        assert!(clean_name("   ").is_err());
        assert!(clean_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn oversized_credentials_are_refused_unread() {
        let big = format!("\"{}\"", "a".repeat(MAX_CREDENTIAL_JSON));
        assert!(parse_credential::<serde_json::Value>(&big).is_err());
    }
}
