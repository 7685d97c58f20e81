use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tessera_service::Services;

/// What every handler receives: the services and the process's lifecycle flag.
#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    shutting_down: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self {
            services,
            shutting_down: Arc::new(AtomicBool::new(false)),
        }
    }

    /// After SIGTERM `/readyz` answers 503 so the balancer stops sending traffic while requests drain.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}
