//! Writes that must not slow the request that causes them (`last_used_at`, …). Tracked, so shutdown and
//! tests can wait for them instead of sleeping.

use std::future::Future;
use std::sync::Mutex;

use tokio::task::JoinSet;

#[derive(Debug, Default)]
pub struct Background {
    tasks: Mutex<JoinSet<()>>,
}

impl Background {
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        // Reap finished tasks so the set stays small.
        while set.try_join_next().is_some() {}
        set.spawn(fut);
    }

    /// Waits for every write spawned so far.
    pub async fn flush(&self) {
        let mut set = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        while set.join_next().await.is_some() {}
    }
}
