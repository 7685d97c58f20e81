//! bcrypt on a bounded pool of its own threads.
//!
//! bcrypt at cost 12 takes ~250 ms of CPU; on an async worker it would stall every request on that thread.
//! A semaphore bounds how many run at once so a login flood queues instead of piling up threads, and the
//! hashes run on threads of their own, made once at `SCHED_IDLE`: they get a core only when nothing else
//! wants it, so a login storm cannot slow the hot path. Not tokio's blocking pool: its threads also run
//! database work, which must keep its normal priority, and switching a shared thread's policy back and
//! forth around each hash left it at nice 19 afterwards (the `thread-priority` crate restores `Other`
//! with its lowest priority), so every later query on that thread ran starved.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(#[from] bcrypt::BcryptError),
    #[error("password hashing task failed")]
    Panicked,
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
    /// Where hashes go to the idle-priority threads; they end when the last clone of this is dropped.
    jobs: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

impl PasswordHasher {
    /// `cost` is bcrypt's work factor (4-31); `concurrency` bounds parallel hashes.
    pub fn new(cost: u32, concurrency: usize) -> Result<Self, PasswordError> {
        // A well-formed hash of the configured cost needs no computing at that cost (a cost-12 hash at start
        // took most of the 315 ms to ready, and every CLI command paid it): hash at the minimum cost and
        // write the configured cost into it. Checking a password against it still runs a full bcrypt of
        // `cost` with its salt, and can never match.
        let cheap = bcrypt::hash("tessera-dummy-password", 4)?;
        let dummy = format!("{}{cost:02}{}", &cheap[..4], &cheap[6..]);
        let concurrency = concurrency.max(1);
        Ok(Self {
            cost,
            permits: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: Arc::new(dummy),
            verifications: Arc::new(AtomicU64::new(0)),
            waiting: Arc::default(),
            waited_ms: Arc::default(),
            jobs: spawn_idle_threads(concurrency),
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
        let permit = Arc::clone(&self.permits).acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let waited = u64::try_from(queued.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.waited_ms.fetch_add(waited, Ordering::Relaxed);
        let permit = permit.map_err(|_| PasswordError::Closed)?;
        let span = tracing::Span::current();
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The slot is held until the hash is over, not until the caller stops waiting: a client that
            // hangs up mid-login must not free a slot while its bcrypt still runs (hang-ups would then
            // queue unbounded work). A hash nobody waits for any more is not run at all.
            if done.is_closed() {
                return;
            }
            // A panic inside bcrypt must not take a pool thread with it.
            let outcome =
                catch_unwind(AssertUnwindSafe(|| span.in_scope(f))).unwrap_or(Err(PasswordError::Panicked));
            // Freed before the answer goes out, so a caller that got its answer finds its slot free.
            drop(permit);
            let _ = done.send(outcome);
        });
        self.jobs.send(job).map_err(|_| PasswordError::Closed)?;
        result.await.map_err(|_| PasswordError::Closed)?
    }
}

/// `n` threads that lower themselves to `SCHED_IDLE` once and then run hashes until every sender is gone.
/// Failure to change the policy is harmless: the hashes just run at normal priority.
fn spawn_idle_threads(n: usize) -> mpsc::Sender<Job> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..n {
        let queue = Arc::clone(&queue);
        let spawned = std::thread::Builder::new()
            .name(format!("tessera-bcrypt-{i}"))
            .spawn(move || {
                run_idle();
                loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let next = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start a password hashing thread");
        }
    }
    jobs
}

/// Puts the calling thread in the `SCHED_IDLE` class for good.
fn run_idle() {
    use thread_priority::unix::{
        set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy, ThreadSchedulePolicy,
    };
    let _ = set_thread_priority_and_policy(
        thread_native_id(),
        thread_priority::ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    );
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_runs_idle_off_the_blocking_pool() {
        use thread_priority::unix::{
            thread_schedule_policy, NormalThreadSchedulePolicy, ThreadSchedulePolicy,
        };
        let policy = || thread_schedule_policy().map_err(|_| PasswordError::Closed);
        let h = PasswordHasher::new(4, 2).unwrap();
        let (hashing, name) = h
            .run(move || Ok((policy()?, std::thread::current().name().map(str::to_owned))))
            .await
            .unwrap();
        assert_eq!(
            hashing,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
        assert!(name.is_some_and(|n| n.starts_with("tessera-bcrypt-")));
        // Database work shares tokio's blocking pool: it keeps its normal class, however many hashes ran.
        h.hash("aaaaaaaa").await.unwrap();
        let blocking = tokio::task::spawn_blocking(policy).await.unwrap().unwrap();
        assert_eq!(
            blocking,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other)
        );
    }

    #[tokio::test]
    async fn a_panicking_hash_keeps_its_thread() {
        let h = PasswordHasher::new(4, 1).unwrap();
        let failed = h
            .run(|| -> Result<(), PasswordError> { std::panic::resume_unwind(Box::new("bcrypt broke")) })
            .await;
        assert!(matches!(failed, Err(PasswordError::Panicked)), "{failed:?}");
        // The only thread survived it and still hashes.
        let hash = h.hash("aaaaaaaa").await.unwrap();
        assert!(h.verify("aaaaaaaa", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_keeps_its_slot_after_its_caller_left_and_is_skipped() {
        use futures::FutureExt;
        let h = PasswordHasher::new(4, 1).unwrap();
        // Occupy the only thread without a slot, so the next job queues behind it.
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        h.jobs
            .send(Box::new(move || {
                let _ = blocked.recv();
            }))
            .unwrap();
        let ran = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&ran);
        let abandoned = h.run(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(())
        });
        // One poll takes the slot and queues the job; then the caller hangs up.
        assert!(abandoned.now_or_never().is_none());
        assert_eq!(h.available_permits(), 0, "the queued hash still holds its slot");
        release.send(()).unwrap();
        drop(h.permits.acquire().await.unwrap());
        assert_eq!(
            ran.load(Ordering::Relaxed),
            0,
            "nobody waits for it: it never ran"
        );
    }

    #[tokio::test]
    async fn concurrency_is_bounded() {
        let h = PasswordHasher::new(4, 1).unwrap();
        let (a, b) = tokio::join!(h.hash("aaaaaaaa"), h.hash("bbbbbbbb"));
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(h.available_permits(), 1);
    }
}
