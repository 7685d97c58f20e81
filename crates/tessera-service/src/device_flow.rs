//! RFC 8628 device authorization, in two flavours over one state: the RFC endpoints (access + refresh
//! tokens on redemption) and RomM's JSON endpoints (a client token on redemption).
//!
//! State lives in the store under the device code's digest. Approve and deny are decided once by a
//! set-if-absent on a decision key; redemption is the store's atomic take, so concurrent polls mint once.
//! Poll pacing lives in its own key, so a poll never overwrites a decision.

use serde::{Deserialize, Serialize};
use tessera_core::ids::DeviceId;
use tessera_core::token_format::TokenDigest;
use tessera_core::{ScopeSet, UnixTime};
use tessera_db::models::client_tokens::{ClientToken, NewClientToken};
use tessera_db::models::devices::Device;
use tessera_db::models::users::User;

use crate::cache::Eviction;
use crate::client_tokens::{insert_within_limit, parse_expiry, random_code};
use crate::devices::revoke_device_tokens;
use crate::identity::Identity;
use crate::oauth::{
    parse_requested_scope, AuthedClient, ClientAuth, ClientAuthMethod, IssuedTokens, OAuthFailure,
    CLI_CLIENT_ID, GRANT_DEVICE_CODE,
};
use crate::ratelimit::LimitedAction;
use crate::{audit, ServiceError, Services};

/// Which endpoints started the flow, and so what redemption returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flavor {
    Rfc,
    Romm,
}

/// What the device says about itself.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub client_device_identifier: String,
    pub name: String,
    pub client: String,
    pub platform: Option<String>,
    pub client_version: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Status {
    Pending,
    Denied,
    Approved {
        user_id: i64,
        device_id: String,
        scopes: String,
        token_id: Option<i64>,
        family_cap: Option<i64>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Flow {
    flavor: Flavor,
    user_code: String,
    client_id: String,
    info: DeviceInfo,
    requested: String,
    expires_at: i64,
    status: Status,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Pacing {
    last_poll: i64,
    interval: i64,
}

/// A started flow: what the device shows and polls with.
#[derive(Clone)]
pub struct Started {
    pub device_code: String,
    pub user_code: String,
    pub expires_in: i64,
    pub interval: i64,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("user_code", &self.user_code)
            .finish_non_exhaustive()
    }
}

/// What the approval page shows.
#[derive(Clone, Debug)]
pub struct Pending {
    pub user_code: String,
    pub info: DeviceInfo,
    pub client_id: String,
    pub requested: ScopeSet,
    /// requested ∩ the approver credential's scopes: what may be ticked.
    pub allowed: ScopeSet,
    pub expires_at: i64,
}

/// RFC 8628 §3.5 poll outcomes (plus success).
#[derive(Debug)]
pub enum Poll {
    Pending,
    SlowDown {
        interval: i64,
    },
    Denied,
    Expired,
    /// Unknown code, already redeemed, or another client's.
    Invalid,
    Rfc(IssuedTokens),
    Romm {
        raw_token: String,
        device_id: String,
        scopes: ScopeSet,
        expires_at: Option<i64>,
    },
}

fn unavailable(e: tessera_store::StoreError) -> ServiceError {
    ServiceError::Unavailable(e.to_string())
}

pub fn normalise_user_code(code: &str) -> Option<String> {
    let c: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    (c.len() == 8
        && c.bytes()
            .all(|b| crate::client_tokens::CODE_ALPHABET.contains(&b)))
    .then_some(c)
}

/// `ABCD-EFGH`, as people read it.
pub fn display_user_code(code: &str) -> String {
    if code.len() == 8 {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

impl Services {
    fn flow_ttl(&self) -> i64 {
        self.settings.device.code_ttl_secs
    }

    /// Records live past their expiry for one more TTL, so a late poll hears `expired_token`.
    fn physical_expiry(&self, expires_at: i64) -> UnixTime {
        UnixTime(expires_at + self.flow_ttl())
    }

    async fn save_flow(&self, digest: &str, flow: &Flow) -> Result<(), ServiceError> {
        let bytes = serde_json::to_vec(flow).map_err(|e| ServiceError::Unexpected(e.into()))?;
        self.store
            .set(
                &format!("dev:{digest}"),
                &bytes,
                self.physical_expiry(flow.expires_at),
                self.clock.now(),
            )
            .await
            .map_err(unavailable)
    }

    async fn load_flow(&self, digest: &str) -> Result<Option<Flow>, ServiceError> {
        let raw = self
            .store
            .get(&format!("dev:{digest}"), self.clock.now())
            .await
            .map_err(unavailable)?;
        Ok(raw.and_then(|r| serde_json::from_slice(&r).ok()))
    }

    async fn digest_of_user_code(&self, user_code: &str) -> Result<Option<String>, ServiceError> {
        let Some(code) = normalise_user_code(user_code) else {
            return Ok(None);
        };
        let raw = self
            .store
            .get(&format!("uc:{code}"), self.clock.now())
            .await
            .map_err(unavailable)?;
        Ok(raw.and_then(|r| String::from_utf8(r).ok()))
    }

    /// RFC 8628 §3.1: a flow for an authenticated client that may use the grant, charged to the client
    /// address's `device_init` budget; `scope` (none: the client's) is narrowed to the client's scopes,
    /// and naming only scopes it lacks is `invalid_scope`.
    pub async fn start_rfc_device_flow(
        &self,
        client: &AuthedClient,
        scope: Option<&str>,
        client_ip: &str,
    ) -> Result<Started, OAuthFailure> {
        if !client.allows(GRANT_DEVICE_CODE) {
            return Err(OAuthFailure::UnauthorizedClient(
                "this client may not use the device flow".into(),
            ));
        }
        self.limits
            .charge(LimitedAction::DeviceInit, client_ip, self.clock.now())
            .await?;
        let requested = parse_requested_scope(&self.catalog, scope)?
            .unwrap_or(client.scopes)
            .and(client.scopes);
        if requested.is_empty() {
            return Err(OAuthFailure::InvalidScope(
                "none of the requested scopes is allowed for this client".into(),
            ));
        }
        let info = DeviceInfo {
            client_device_identifier: format!("rfc8628:{}", tessera_crypto::random::hex_secret(8)),
            name: client.client_id.clone(),
            client: client.client_id.clone(),
            platform: None,
            client_version: None,
        };
        Ok(self.start_flow(Flavor::Rfc, client, info, requested).await?)
    }

    /// RomM's `/api/auth/device/init`: no credential, so charged to the client address's `device_init`
    /// budget before anything else; no scope names means every scope (the approver narrows it to theirs).
    pub async fn start_romm_device_flow(
        &self,
        info: DeviceInfo,
        scope_names: &[String],
        client_ip: &str,
    ) -> Result<Started, ServiceError> {
        self.limits
            .charge(LimitedAction::DeviceInit, client_ip, self.clock.now())
            .await?;
        let client = self
            .find_client(&ClientAuth {
                client_id: Some(CLI_CLIENT_ID.into()),
                secret: None,
                method: ClientAuthMethod::None,
            })
            .await
            .map_err(|e| match e {
                // A database outage is a 503 like anywhere else, not a broken built-in client.
                OAuthFailure::Service(e) => e,
                other => ServiceError::Unexpected(anyhow::anyhow!("the built-in CLI client: {other}")),
            })?;
        let requested = if scope_names.is_empty() {
            self.catalog.all()
        } else {
            self.catalog
                .parse_names(scope_names.iter().map(String::as_str))
                .map_err(|e| ServiceError::field("requested_scopes", e.to_string()))?
        };
        self.start_flow(Flavor::Romm, &client, info, requested).await
    }

    /// Starts a flow. `requested` is normalised; the user code is unique among live codes.
    async fn start_flow(
        &self,
        flavor: Flavor,
        client: &AuthedClient,
        info: DeviceInfo,
        requested: ScopeSet,
    ) -> Result<Started, ServiceError> {
        let now = self.clock.now();
        let expires_at = now.as_secs() + self.flow_ttl();
        let device_code = tessera_crypto::random::hex_secret(32);
        let digest = hex::encode(TokenDigest::of(&device_code).as_bytes());
        let mut user_code = None;
        for _ in 0..8 {
            let code = random_code();
            let set = self
                .store
                .set_if_absent(
                    &format!("uc:{code}"),
                    digest.as_bytes(),
                    UnixTime(expires_at),
                    now,
                )
                .await
                .map_err(unavailable)?;
            if set {
                user_code = Some(code);
                break;
            }
        }
        let user_code =
            user_code.ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("no free user code")))?;
        let flow = Flow {
            flavor,
            user_code: user_code.clone(),
            client_id: client.client_id.clone(),
            info,
            requested: self.catalog.to_text(self.catalog.normalize(requested)),
            expires_at,
            status: Status::Pending,
        };
        self.save_flow(&digest, &flow).await?;
        Ok(Started {
            device_code,
            user_code,
            expires_in: self.flow_ttl(),
            interval: self.settings.device.interval_secs,
        })
    }

    /// Exactly one approve or deny per code, whatever races: the first to set the decision key wins.
    async fn claim_decision(&self, digest: &str, flow: &Flow) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let key = format!("devdecide:{digest}");
        let won = self
            .store
            .set_if_absent(&key, b"1", self.physical_expiry(flow.expires_at), now)
            .await
            .map_err(unavailable)?;
        if won {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// The live flow behind a user code. Every lookup is charged to the approver's `user_code`
    /// budget and refunded when the code is found, so only wrong codes count: a signed-in account
    /// cannot walk the code space (31^8 codes, 10 misses a minute by default).
    async fn pending_flow(
        &self,
        approver: &Identity,
        user_code: &str,
    ) -> Result<(String, Flow), ServiceError> {
        let now = self.clock.now();
        let subject = &*approver.subject;
        self.limits.charge(LimitedAction::UserCode, subject, now).await?;
        let found = self.live_flow(user_code).await;
        if found.is_ok() {
            self.limits.refund(LimitedAction::UserCode, subject, now).await;
        }
        found
    }

    async fn live_flow(&self, user_code: &str) -> Result<(String, Flow), ServiceError> {
        let digest = self
            .digest_of_user_code(user_code)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let flow = self.load_flow(&digest).await?.ok_or(ServiceError::NotFound)?;
        if flow.expires_at <= self.clock.now().as_secs() || !matches!(flow.status, Status::Pending) {
            return Err(ServiceError::NotFound);
        }
        Ok((digest, flow))
    }

    /// The pending request behind a user code, as the approver may grant it.
    pub async fn pending_device(
        &self,
        approver: &Identity,
        user_code: &str,
    ) -> Result<Pending, ServiceError> {
        let (_, flow) = self.pending_flow(approver, user_code).await?;
        let requested = self.catalog.parse(&flow.requested).unwrap_or_default();
        Ok(Pending {
            user_code: flow.user_code,
            info: flow.info,
            client_id: flow.client_id,
            requested,
            allowed: requested.and(approver.scopes),
            expires_at: flow.expires_at,
        })
    }

    /// Approves: scopes within requested ∩ the approver's credential; the device found or created; older
    /// tokens bound to it revoked; for RomM a secretless client token (counted toward the 25) is made now.
    pub async fn approve_device(
        &self,
        approver: &Identity,
        user_code: &str,
        approved: &[String],
        device_name: Option<&str>,
        expires_in: Option<&str>,
    ) -> Result<(String, String), ServiceError> {
        let user_id = approver
            .principal
            .as_ref()
            .ok_or_else(|| ServiceError::Forbidden("this credential has no user".into()))?
            .user_id;
        let (digest, flow) = self.pending_flow(approver, user_code).await?;
        let requested = self.catalog.parse(&flow.requested).unwrap_or_default();
        let asked = self.scopes_under(requested.and(approver.scopes), approved, "approved_scopes")?;
        let now = self.clock.now();
        let token_expiry = parse_expiry(expires_in, now)?;
        let name = device_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&flow.info.name)
            .to_owned();
        if name.len() > 255 {
            return Err(ServiceError::field(
                "device_name",
                "must be at most 255 characters",
            ));
        }
        self.claim_decision(&digest, &flow).await?;
        let info = flow.info.clone();
        let scope_text = self.catalog.to_text(asked);
        let flavor = flow.flavor;
        let sid_until = now.as_secs() + self.settings.jwt.access_ttl_secs + self.settings.jwt.leeway_secs;
        let dev_name = name.clone();
        let result = self
            .db
            .write_tx(move |c| {
                let device = match Device::find_by_identifier(c, user_id, &info.client_device_identifier)? {
                    Some(d) => {
                        revoke_device_tokens(c, &d.id, now.as_secs(), sid_until)?;
                        Device::rename(c, &d.id, &dev_name, now.as_secs())?;
                        d
                    }
                    None => {
                        let d = Device {
                            id: DeviceId::generate().to_string(),
                            user_id,
                            client_device_identifier: info.client_device_identifier.clone(),
                            name: dev_name.clone(),
                            client: info.client.clone(),
                            platform: info.platform.clone(),
                            client_version: info.client_version.clone(),
                            created_at: now.as_secs(),
                            last_seen: None,
                            ip_address: None,
                            mac_address: None,
                            hostname: None,
                            sync_mode: "api".to_owned(),
                            sync_enabled: true,
                            sync_config: None,
                            updated_at: now.as_secs(),
                        };
                        Device::insert(c, &d)?;
                        d
                    }
                };
                let token_id = match flavor {
                    Flavor::Romm => Some(
                        insert_within_limit(
                            c,
                            &NewClientToken {
                                user_id,
                                name: &dev_name,
                                digest: None,
                                scopes: &scope_text,
                                expires_at: token_expiry,
                                device_id: Some(&device.id),
                                created_at: now.as_secs(),
                            },
                            now.as_secs(),
                        )?
                        .id,
                    ),
                    Flavor::Rfc => None,
                };
                audit::record(c, now, "device.approved", Some(user_id), None, Some(&device.id))?;
                Ok::<_, ServiceError>((device.id, token_id))
            })
            .await;
        let (device_id, token_id) = match result {
            Ok(v) => v,
            Err(e) => {
                // Nothing was decided after all: let the user fix the cause (e.g. the token limit) and retry.
                let _ = self.store.delete(&format!("devdecide:{digest}")).await;
                return Err(e);
            }
        };
        let flow = Flow {
            status: Status::Approved {
                user_id,
                device_id: device_id.clone(),
                scopes: self.catalog.to_text(asked),
                token_id,
                family_cap: token_expiry,
            },
            ..flow
        };
        self.save_flow(&digest, &flow).await?;
        // Older tokens bound to this device (a re-approval) were revoked: only they are evicted. Told after
        // the approval is saved, so a failed publish (503) leaves a decided flow, not a stuck one.
        self.evict(&[Eviction::Device(device_id.clone())]).await?;
        Ok((device_id, name))
    }

    pub async fn deny_device(&self, approver: &Identity, user_code: &str) -> Result<(), ServiceError> {
        let user_id = approver.principal.as_ref().map(|p| p.user_id);
        let (digest, flow) = self.pending_flow(approver, user_code).await?;
        let now = self.clock.now();
        self.claim_decision(&digest, &flow).await?;
        self.save_flow(
            &digest,
            &Flow {
                status: Status::Denied,
                ..flow
            },
        )
        .await?;
        self.db
            .run(move |c| Ok::<_, ServiceError>(audit::record(c, now, "device.denied", user_id, None, None)?))
            .await
    }

    /// One poll. `client` is the authenticated client on the RFC path (it must be the one that started).
    pub async fn poll_device(
        &self,
        flavor: Flavor,
        device_code: &str,
        client: Option<&AuthedClient>,
    ) -> Result<Poll, ServiceError> {
        if device_code.len() != 64 || !device_code.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Poll::Invalid);
        }
        let digest = hex::encode(TokenDigest::of(device_code).as_bytes());
        let now = self.clock.now().as_secs();
        let Some(flow) = self.load_flow(&digest).await? else {
            return Ok(Poll::Invalid);
        };
        if flow.flavor != flavor || client.is_some_and(|c| c.client_id != flow.client_id) {
            return Ok(Poll::Invalid);
        }
        if flow.expires_at <= now {
            return Ok(Poll::Expired);
        }
        if let Some(wait) = self.pace(&digest, flow.expires_at, now).await? {
            return Ok(Poll::SlowDown { interval: wait });
        }
        match flow.status {
            Status::Pending => Ok(Poll::Pending),
            Status::Denied => Ok(Poll::Denied),
            Status::Approved { .. } => self.redeem(&digest, client).await,
        }
    }

    /// RFC 8628 §3.5: a poll sooner than `interval` after the previous one is `slow_down`, and the
    /// interval grows by 5 s. The first poll never is. Returns the new interval when too fast.
    async fn pace(&self, digest: &str, expires_at: i64, now: i64) -> Result<Option<i64>, ServiceError> {
        let key = format!("devpoll:{digest}");
        let t = self.clock.now();
        let prev: Option<Pacing> = self
            .store
            .get(&key, t)
            .await
            .map_err(unavailable)?
            .and_then(|r| serde_json::from_slice(&r).ok());
        let interval = prev.map_or(self.settings.device.interval_secs, |p| p.interval);
        let too_fast = prev.is_some_and(|p| now - p.last_poll < p.interval);
        let next = Pacing {
            last_poll: now,
            interval: if too_fast { interval + 5 } else { interval },
        };
        let bytes = serde_json::to_vec(&next).map_err(|e| ServiceError::Unexpected(e.into()))?;
        self.store
            .set(&key, &bytes, self.physical_expiry(expires_at), t)
            .await
            .map_err(unavailable)?;
        Ok(too_fast.then_some(next.interval))
    }

    /// Takes the approved record (one winner among concurrent polls) and mints the credential.
    async fn redeem(&self, digest: &str, client: Option<&AuthedClient>) -> Result<Poll, ServiceError> {
        let now = self.clock.now();
        let Some(raw) = self
            .store
            .take(&format!("dev:{digest}"), now)
            .await
            .map_err(unavailable)?
        else {
            return Ok(Poll::Invalid);
        };
        let flow: Flow = serde_json::from_slice(&raw).map_err(|e| ServiceError::Unexpected(e.into()))?;
        let Status::Approved {
            user_id,
            device_id,
            scopes,
            token_id,
            family_cap,
        } = flow.status
        else {
            return Ok(Poll::Invalid);
        };
        let approved = self.catalog.parse(&scopes).unwrap_or_default();
        match (flow.flavor, token_id) {
            (Flavor::Romm, Some(id)) => {
                // The secret is born now and shown once; only its digest is stored.
                let raw = tessera_crypto::random::token(
                    tessera_core::token_format::TokenKind::Client,
                    &self.settings.tokens.prefix,
                )
                .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("{e}")))?;
                let digest = raw.digest();
                let row = self
                    .db
                    .write_tx(move |c| {
                        let Some(row) = ClientToken::find(c, id)? else {
                            return Ok::<_, ServiceError>(None);
                        };
                        ClientToken::set_digest(c, id, digest.as_bytes())?;
                        Ok(Some(row))
                    })
                    .await?;
                let Some(row) = row else { return Ok(Poll::Invalid) };
                Ok(Poll::Romm {
                    raw_token: raw.expose().to_owned(),
                    device_id,
                    scopes: approved,
                    expires_at: row.expires_at,
                })
            }
            (Flavor::Rfc, _) => {
                let Some(client) = client else {
                    return Ok(Poll::Invalid);
                };
                let catalog = self.catalog.clone();
                let found = self
                    .db
                    .run(move |c| {
                        let Some(user) = User::find(c, user_id)?.filter(|u| u.enabled) else {
                            return Ok::<_, ServiceError>(None);
                        };
                        let rights = crate::identity::user_rights(c, &catalog, &user)?;
                        Ok(Some((user, rights)))
                    })
                    .await?;
                let Some((user, rights)) = found else {
                    return Ok(Poll::Invalid);
                };
                let scopes = approved.and(rights);
                let issued = self
                    .start_family(
                        &user,
                        client,
                        scopes,
                        Some(device_id),
                        family_cap.or(Some(i64::MAX / 2)),
                        now,
                    )
                    .await
                    .map_err(|e| match e {
                        crate::oauth::OAuthFailure::Service(s) => s,
                        other => ServiceError::Unexpected(anyhow::anyhow!("{other}")),
                    })?;
                Ok(Poll::Rfc(issued))
            }
            (Flavor::Romm, None) => Ok(Poll::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_read_either_way() {
        assert_eq!(normalise_user_code("abcd-efgh"), Some("ABCDEFGH".into()));
        assert_eq!(normalise_user_code("ABCDEFGH"), Some("ABCDEFGH".into()));
        assert_eq!(normalise_user_code("ABCD-EFG1"), None);
        assert_eq!(display_user_code("ABCDEFGH"), "ABCD-EFGH");
    }
}
