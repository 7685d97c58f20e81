//! The shared store for several replicas.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::{self, AsyncCommands};
use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};
use futures::StreamExt;
use tessera_core::breaker::{Admission, Breaker};
use tessera_core::UnixTime;

use crate::{decode, encode, Store, StoreError, Subscription};

/// Every Redis call's deadline: well under a second, so a Redis that holds packets costs a request at most
/// this once, and then nothing while the breaker is open.
const OP_TIMEOUT: Duration = Duration::from_millis(400);

/// Sets unless a value exists whose embedded expiry (first 8 bytes) is still ahead of `now`.
const SET_IF_ABSENT: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur and string.len(cur) >= 8 then
  local exp = struct.unpack('>i8', string.sub(cur, 1, 8))
  if exp > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
";

/// A counter with a fixed expiry, reset once the injected clock passes it.
const INCR: &str = r"
local exp = redis.call('HGET', KEYS[1], 'e')
if exp and tonumber(exp) <= tonumber(ARGV[3]) then redis.call('DEL', KEYS[1]) end
if redis.call('HSETNX', KEYS[1], 'e', ARGV[2]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return redis.call('HINCRBY', KEYS[1], 'n', ARGV[1])
";

/// GCRA, mirroring `gcra_step`: KEYS[1] holds the TAT in ms; returns -1 when allowed, else the wait in ms.
const GCRA: &str = r"
local now = tonumber(ARGV[4])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + cost * interval
if cost < 0 then
  if new_tat < now then new_tat = now end
else
  local allow_at = new_tat - burst * interval
  if allow_at > now then return allow_at - now end
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(new_tat - now, 1) + 1000)
return -1
";

pub struct RedisStore {
    pool: Pool,
    client: redis::Client,
    prefix: String,
    /// Opened by a call that found Redis unreachable or slow: later calls answer unavailable at once
    /// (rate limits then fall back to memory, store-only flows answer 503) until a probe gets through.
    breaker: Breaker,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Seconds for the backend's cleanup TTL: at least one, so Redis accepts it.
fn ttl_secs(expires_at: UnixTime, now: UnixTime) -> i64 {
    (expires_at.0 - now.0).max(1)
}

impl RedisStore {
    /// Builds the pool without connecting, so a Redis that is down at start degrades instead of failing.
    pub fn new(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let mut cfg = Config::from_url(url);
        cfg.pool = Some(PoolConfig {
            max_size: 16,
            timeouts: Timeouts {
                wait: Some(OP_TIMEOUT),
                create: Some(OP_TIMEOUT),
                recycle: Some(OP_TIMEOUT),
            },
            ..PoolConfig::default()
        });
        let pool = cfg.create_pool(Some(Runtime::Tokio1)).map_err(unavailable)?;
        let client = redis::Client::open(url).map_err(unavailable)?;
        Ok(Self {
            pool,
            client,
            prefix: prefix.to_owned(),
            // A call waits at most for a connection and then for its answer.
            breaker: Breaker::new(OP_TIMEOUT * 2),
        })
    }

    fn key(&self, k: &str) -> String {
        format!("{}{}", self.prefix, k)
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, StoreError> {
        if self.breaker.admit() == Admission::Refused {
            return Err(StoreError::Unavailable(
                "redis unreachable (answering at once until a probe gets through)".into(),
            ));
        }
        match self.pool.get().await {
            Ok(c) => Ok(c),
            Err(e) => {
                self.trip();
                Err(unavailable(e))
            }
        }
    }

    fn trip(&self) {
        if self.breaker.trip() {
            tracing::warn!(
                "redis unreachable: store calls answer at once, one probe every {} ms",
                tessera_core::breaker::COOLDOWN.as_millis()
            );
        }
    }

    /// Bounds one operation, so a Redis that stopped answering looks unavailable instead of hanging a
    /// request; a connection failure or a missed deadline opens the breaker, an answer closes it.
    async fn bounded<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(OP_TIMEOUT, f).await {
            Ok(Ok(v)) => {
                if self.breaker.close() {
                    tracing::info!("redis reachable again");
                }
                Ok(v)
            }
            Ok(Err(e)) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
                {
                    self.trip();
                }
                Err(unavailable(e))
            }
            Err(_) => {
                self.trip();
                Err(StoreError::Unavailable("redis did not answer in time".into()))
            }
        }
    }
}

#[async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn set(
        &self,
        key: &str,
        value: &[u8],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let ttl = u64::try_from(ttl_secs(expires_at, now)).unwrap_or(1);
        self.bounded(c.set_ex::<_, _, ()>(self.key(key), encode(value, expires_at), ttl))
            .await
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let script = redis::Script::new(SET_IF_ABSENT);
        let mut inv = script.key(self.key(key));
        inv.arg(encode(value, expires_at))
            .arg(now.0)
            .arg(ttl_secs(expires_at, now));
        let n: i64 = self.bounded(inv.invoke_async(&mut c)).await?;
        Ok(n == 1)
    }

    async fn get(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        let mut c = self.conn().await?;
        let raw: Option<Vec<u8>> = self.bounded(c.get(self.key(key))).await?;
        Ok(raw.and_then(|r| decode(&r, now)))
    }

    async fn take(&self, key: &str, now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        let mut c = self.conn().await?;
        // GETDEL is atomic: of many concurrent takers exactly one receives the value.
        let raw: Option<Vec<u8>> = self.bounded(c.get_del(self.key(key))).await?;
        Ok(raw.and_then(|r| decode(&r, now)))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        self.bounded(c.del::<_, ()>(self.key(key))).await
    }

    async fn incr(&self, key: &str, by: i64, expires_at: UnixTime, now: UnixTime) -> Result<i64, StoreError> {
        let mut c = self.conn().await?;
        let script = redis::Script::new(INCR);
        let mut inv = script.key(self.key(key));
        inv.arg(by)
            .arg(expires_at.0)
            .arg(now.0)
            .arg(ttl_secs(expires_at, now));
        self.bounded(inv.invoke_async(&mut c)).await
    }

    async fn gcra(
        &self,
        key: &str,
        interval_ms: i64,
        burst: i64,
        cost: i64,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut c = self.conn().await?;
        let script = redis::Script::new(GCRA);
        let mut inv = script.key(self.key(key));
        inv.arg(interval_ms).arg(burst).arg(cost).arg(now_ms);
        let wait: i64 = self.bounded(inv.invoke_async(&mut c)).await?;
        Ok((wait >= 0).then_some(wait))
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        self.bounded(c.publish::<_, _, ()>(self.key(channel), message))
            .await
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError> {
        let mut pubsub = self.bounded(self.client.get_async_pubsub()).await?;
        self.bounded(pubsub.subscribe(self.key(channel))).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            let mut stream = pubsub.into_on_message();
            // The stream ends when the connection drops; closing `tx` then tells the listener.
            while let Some(msg) = stream.next().await {
                let Ok(payload) = msg.get_payload::<String>() else {
                    continue;
                };
                if tx.send(payload).await.is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        self.bounded(redis::cmd("PING").query_async::<String>(&mut c))
            .await
            .map(|_| ())
    }
}
