//! Rate limits: GCRA budgets per action, counted in the store so replicas share them.
//!
//! An attempt is charged *before* the guarded work and refunded when it succeeds, so parallel guesses
//! cannot overrun the budget. When Redis is unreachable, limits fall back to this replica's memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use tessera_core::UnixTime;
use tessera_store::{DynStore, MemoryStore, Store};

use crate::ServiceError;

/// Every credential-guessing or abusable path has one of these, with a config key `rate_limits.<key>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitedAction {
    LoginUser,
    LoginIp,
    DeviceInit,
    UserCode,
    PairExchange,
    ForgotPassword,
    /// Forgot-password requests per client IP, whatever the usernames (each answer may send a mail).
    ForgotPasswordIp,
    /// Upstream sign-ins started per client IP (each stores a flow until it expires).
    OidcStart,
    Register,
    Invite,
    /// Authorization requests per client IP (`/oauth/authorize`: each may store a code).
    Authorize,
    /// Passkey ceremonies started per client IP (each stores a challenge until it expires).
    PasskeyStart,
    /// Authorization codes redeemed per client IP that were wrong (refunded when right).
    CodeRedeem,
    /// OAuth client authentications per client IP that failed (refunded when right).
    ClientAuth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub limit: u32,
    pub period_secs: u64,
}

impl LimitedAction {
    pub const ALL: [LimitedAction; 14] = [
        LimitedAction::LoginUser,
        LimitedAction::LoginIp,
        LimitedAction::DeviceInit,
        LimitedAction::UserCode,
        LimitedAction::PairExchange,
        LimitedAction::ForgotPassword,
        LimitedAction::ForgotPasswordIp,
        LimitedAction::OidcStart,
        LimitedAction::Register,
        LimitedAction::Invite,
        LimitedAction::Authorize,
        LimitedAction::CodeRedeem,
        LimitedAction::PasskeyStart,
        LimitedAction::ClientAuth,
    ];

    pub fn key(self) -> &'static str {
        match self {
            LimitedAction::LoginUser => "login_user",
            LimitedAction::LoginIp => "login_ip",
            LimitedAction::DeviceInit => "device_init",
            LimitedAction::UserCode => "user_code",
            LimitedAction::PairExchange => "pair_exchange",
            LimitedAction::ForgotPassword => "forgot_password",
            LimitedAction::ForgotPasswordIp => "forgot_password_ip",
            LimitedAction::OidcStart => "oidc_start",
            LimitedAction::Register => "register",
            LimitedAction::Invite => "invite",
            LimitedAction::Authorize => "authorize",
            LimitedAction::CodeRedeem => "code_redeem",
            LimitedAction::PasskeyStart => "passkey_start",
            LimitedAction::ClientAuth => "client_auth",
        }
    }

    /// API.md §10's defaults.
    pub fn default_budget(self) -> Budget {
        let (limit, period_secs) = match self {
            LimitedAction::LoginUser => (10, 60),
            LimitedAction::LoginIp => (30, 60),
            LimitedAction::DeviceInit => (10, 60),
            LimitedAction::UserCode => (10, 60),
            LimitedAction::PairExchange => (5, 60),
            LimitedAction::ForgotPassword => (5, 3600),
            LimitedAction::ForgotPasswordIp => (20, 3600),
            LimitedAction::OidcStart => (30, 60),
            LimitedAction::Register => (10, 3600),
            LimitedAction::Invite => (20, 3600),
            LimitedAction::Authorize => (60, 60),
            LimitedAction::CodeRedeem => (20, 60),
            LimitedAction::PasskeyStart => (30, 60),
            // Generous: every attempt is charged before its lookup, so concurrent requests of a busy
            // app behind one address share the bucket until their refunds land.
            LimitedAction::ClientAuth => (60, 60),
        };
        Budget { limit, period_secs }
    }
}

pub struct RateLimiter {
    store: DynStore,
    fallback: MemoryStore,
    budgets: HashMap<LimitedAction, Budget>,
    degraded: AtomicBool,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("budgets", &self.budgets)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub fn new(store: DynStore, overrides: &HashMap<LimitedAction, Budget>) -> Self {
        let budgets = LimitedAction::ALL
            .iter()
            .map(|a| {
                (
                    *a,
                    overrides.get(a).copied().unwrap_or_else(|| a.default_budget()),
                )
            })
            .collect();
        Self {
            store,
            fallback: MemoryStore::new(),
            budgets,
            degraded: AtomicBool::new(false),
            metrics: None,
        }
    }

    /// Counts rejections in these metrics.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn budget(&self, action: LimitedAction) -> Budget {
        self.budgets
            .get(&action)
            .copied()
            .unwrap_or_else(|| action.default_budget())
    }

    async fn step(
        &self,
        action: LimitedAction,
        subject: &str,
        cost: i64,
        now: UnixTime,
    ) -> Result<Option<i64>, ServiceError> {
        let b = self.budget(action);
        let limit = i64::from(b.limit.max(1));
        let interval_ms = i64::try_from(b.period_secs.saturating_mul(1000)).unwrap_or(i64::MAX) / limit;
        let key = format!("rl:{}:{subject}", action.key());
        let now_ms = now.as_secs().saturating_mul(1000);
        match self
            .store
            .gcra(&key, interval_ms.max(1), limit, cost, now_ms)
            .await
        {
            Ok(r) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits are shared through the store again");
                }
                Ok(r)
            }
            Err(e) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "store unreachable: rate limits fall back to this replica's memory");
                }
                Ok(self
                    .fallback
                    .gcra(&key, interval_ms.max(1), limit, cost, now_ms)
                    .await
                    .unwrap_or(None))
            }
        }
    }

    /// Charges one attempt; `RateLimited` with the wait when the budget is spent.
    pub async fn charge(
        &self,
        action: LimitedAction,
        subject: &str,
        now: UnixTime,
    ) -> Result<(), ServiceError> {
        match self.step(action, subject, 1, now).await? {
            None => Ok(()),
            Some(wait_ms) => {
                tracing::warn!(target: "tessera::security", action = action.key(), "rate limit reached");
                if let Some(m) = &self.metrics {
                    m.rate_limited(action.key());
                }
                Err(ServiceError::RateLimited {
                    retry_after_secs: (wait_ms + 999) / 1000,
                })
            }
        }
    }

    /// Gives back a charged attempt (a successful login is not a guess).
    pub async fn refund(&self, action: LimitedAction, subject: &str, now: UnixTime) {
        let _ = self.step(action, subject, -1, now).await;
    }
}
