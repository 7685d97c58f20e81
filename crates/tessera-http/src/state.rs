use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::http::header::HeaderName;
use tessera_service::Services;

/// What every handler receives: the services and the process's lifecycle flag.
#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    shutting_down: Arc<AtomicBool>,
    /// The configured credential header names, parsed once rather than at every request.
    pub(crate) headers: Arc<CredentialHeaders>,
}

/// `auth.service_key_header` and `auth.api_key_header` as header names.
#[derive(Debug)]
pub(crate) struct CredentialHeaders {
    pub service_key: Option<HeaderName>,
    pub api_key: Option<HeaderName>,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        // Config validation admits only letters, digits and '-': these parse.
        let name = |n: &str| HeaderName::from_bytes(n.as_bytes()).ok();
        let auth = &services.settings.auth;
        let headers = Arc::new(CredentialHeaders {
            service_key: name(&auth.service_key_header),
            api_key: auth.api_key_header.as_deref().and_then(name),
        });
        Self {
            services,
            shutting_down: Arc::new(AtomicBool::new(false)),
            headers,
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
