use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use tessera_core::scope::ScopeSet;
use tessera_service::Services;

/// What every handler receives: the services and the process's lifecycle flag.
#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    shutting_down: Arc<AtomicBool>,
    /// The configured credential header names, parsed once rather than at every request.
    pub(crate) headers: Arc<CredentialHeaders>,
    /// `X-Auth-Scopes` values by scope set: forward-auth answers the same few sets over and over.
    pub(crate) scope_headers: Arc<ScopeHeaders>,
}

/// The text of a scope set as a header value, built once per set. Bounded: past
/// [`ScopeHeaders::MAX`] distinct sets it starts again (sets come from the catalog's 64 bits, so an
/// attacker cannot grow it past what real credentials grant).
#[derive(Debug, Default)]
pub(crate) struct ScopeHeaders(
    std::sync::RwLock<std::collections::HashMap<u64, HeaderValue, foldhash::fast::RandomState>>,
);

impl ScopeHeaders {
    const MAX: usize = 4096;

    pub fn get(&self, catalog: &tessera_core::scope::ScopeCatalog, set: ScopeSet) -> Option<HeaderValue> {
        let read = self.0.read().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = read.get(&set.0) {
            return Some(v.clone());
        }
        drop(read);
        let value = HeaderValue::from_str(&catalog.to_text(set)).ok()?;
        let mut write = self.0.write().unwrap_or_else(|p| p.into_inner());
        if write.len() >= Self::MAX {
            write.clear();
        }
        write.insert(set.0, value.clone());
        Some(value)
    }
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
            scope_headers: Arc::default(),
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
