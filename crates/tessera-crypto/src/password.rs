//! bcrypt on a bounded blocking pool.
//!
//! bcrypt at cost 12 takes ~250 ms of CPU; on an async worker it would stall every request on that thread.
//! A semaphore bounds how many run at once so a login flood queues instead of exhausting the blocking pool.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(#[from] bcrypt::BcryptError),
    #[error("password hashing task failed")]
    Join(#[from] tokio::task::JoinError),
    #[error("password hashing pool is closed")]
    Closed,
}

#[derive(Clone, Debug)]
pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// Checked for unknown users so a failed login costs the same whether or not the user exists.
    dummy_hash: Arc<String>,
    /// Password checks run so far (real and dummy alike): tests count them to prove that every failed
    /// login costs exactly one bcrypt, and metrics report them.
    verifications: Arc<AtomicU64>,
    /// Checks waiting for a permit now, and the total time checks have waited (for metrics).
    waiting: Arc<std::sync::atomic::AtomicI64>,
    waited_ms: Arc<AtomicU64>,
}

impl PasswordHasher {
    /// `cost` is bcrypt's work factor (4-31); `concurrency` bounds parallel hashes.
    pub fn new(cost: u32, concurrency: usize) -> Result<Self, PasswordError> {
        // A well-formed hash of the configured cost needs no computing at that cost (a cost-12 hash at start
        // took most of the 315 ms to ready, and every CLI command paid it): hash at the minimum cost and
        // write the configured cost into it. Checking a password against it still runs a full bcrypt of
        // `cost` with its salt, and can never match.
        let cheap = bcrypt::hash("tessera-dummy-password", 4)?;
        let dummy = format!("{}{cost:02}{}", &cheap[..4], &cheap[6..]);
        Ok(Self {
            cost,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy),
            verifications: Arc::new(AtomicU64::new(0)),
            waiting: Arc::default(),
            waited_ms: Arc::default(),
        })
    }

    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// How many hashes wait for a permit (for metrics).
    pub fn available_permits(&self) -> usize {
        self.permits.available_permits()
    }

    /// How many password checks have run (each one a bcrypt verification).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Password hashes or checks waiting for a bcrypt slot right now.
    pub fn waiting(&self) -> i64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Total milliseconds hashes and checks have waited for a slot.
    pub fn wait_millis(&self) -> u64 {
        self.waited_ms.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let pw = password.to_owned();
        let cost = self.cost;
        self.run(move || bcrypt::hash(pw, cost).map_err(PasswordError::from))
            .await
    }

    /// Verifies against `hash`, or against the dummy hash when there is no user, returning false then.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, PasswordError> {
        let pw = password.to_owned();
        let known = hash.is_some();
        let h = hash.map_or_else(|| self.dummy_hash.as_str().to_owned(), str::to_owned);
        let counter = self.verifications.clone();
        let ok = self
            .run(move || {
                counter.fetch_add(1, Ordering::Relaxed);
                bcrypt::verify(pw, &h).map_err(PasswordError::from)
            })
            .await?;
        Ok(ok && known)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let queued = std::time::Instant::now();
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let waited = u64::try_from(queued.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.waited_ms.fetch_add(waited, Ordering::Relaxed);
        let _permit = permit.map_err(|_| PasswordError::Closed)?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            // bcrypt yields the CPU to everything else (the hot path above all): SCHED_IDLE while it
            // hashes, so a login storm cannot slow forward-auth, yet logins run whenever a core is free.
            // The blocking thread is shared with database work, so the policy is restored afterwards.
            let _idle = IdleWhileHashing::enter();
            span.in_scope(f)
        })
        .instrument(tracing::Span::current())
        .await?
    }
}

/// Lowers the current thread to SCHED_IDLE and restores SCHED_OTHER on drop. Failure to change policy
/// is harmless (the hash just runs at normal priority).
struct IdleWhileHashing;

impl IdleWhileHashing {
    fn enter() -> Self {
        Self::set(thread_priority::unix::NormalThreadSchedulePolicy::Idle);
        IdleWhileHashing
    }

    fn set(policy: thread_priority::unix::NormalThreadSchedulePolicy) {
        use thread_priority::unix::{set_thread_priority_and_policy, thread_native_id, ThreadSchedulePolicy};
        let _ = set_thread_priority_and_policy(
            thread_native_id(),
            thread_priority::ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(policy),
        );
    }
}

impl Drop for IdleWhileHashing {
    fn drop(&mut self) {
        Self::set(thread_priority::unix::NormalThreadSchedulePolicy::Other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_fail() {
        let h = PasswordHasher::new(4, 2).unwrap();
        let hash = h.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$2"));
        assert!(h.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!h.verify("wrong horse", Some(&hash)).await.unwrap());
        // The dummy hash's own password must still fail for a missing user.
        assert!(!h.verify("tessera-dummy-password", None).await.unwrap());
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_configured_cost() {
        let h = PasswordHasher::new(6, 1).unwrap();
        assert!(h.dummy_hash.starts_with("$2b$06$"), "{}", h.dummy_hash);
        assert_eq!(h.dummy_hash.len(), 60);
        assert!(!h.verify("tessera-dummy-password", None).await.unwrap());
        assert!(!h.verify("anything", None).await.unwrap());
    }

    #[test]
    fn hashing_runs_idle_and_restores_the_policy() {
        use thread_priority::unix::{
            thread_schedule_policy, NormalThreadSchedulePolicy, ThreadSchedulePolicy,
        };
        std::thread::spawn(|| {
            let guard = IdleWhileHashing::enter();
            assert_eq!(
                thread_schedule_policy().unwrap(),
                ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
            );
            drop(guard);
            assert_eq!(
                thread_schedule_policy().unwrap(),
                ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other)
            );
        })
        .join()
        .unwrap();
    }

    #[tokio::test]
    async fn concurrency_is_bounded() {
        let h = PasswordHasher::new(4, 1).unwrap();
        let (a, b) = tokio::join!(h.hash("aaaaaaaa"), h.hash("bbbbbbbb"));
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(h.available_permits(), 1);
    }
}
