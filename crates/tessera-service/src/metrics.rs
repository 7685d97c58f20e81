//! Prometheus metrics (`GET /metrics`, API.md §10), one registry per `Services` so several instances in
//! one process (the tests) never share counters. Hot-path counters are resolved to their label values
//! once, so recording is an atomic add.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::{ServiceError, Services};

pub struct Metrics {
    /// Tells this registry's cached request handles from another instance's on the same thread.
    id: u64,
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pub identity_hits: IntCounter,
    pub identity_misses: IntCounter,
    pub rights_hits: IntCounter,
    pub rights_misses: IntCounter,
    pub negative_hits: IntCounter,
    /// Identity loads actually run (a miss that waited for another request's load of the same key
    /// does not count).
    pub identity_loads: IntCounter,
    rate_limited: IntCounterVec,
    tokens: IntCounterVec,
    second_factor: IntCounterVec,
    server_errors: IntCounterVec,
    bcrypt_queue: IntGauge,
    bcrypt_checks: IntGauge,
    bcrypt_wait_ms: IntGauge,
    active_sessions: IntGauge,
    listener_up: IntGauge,
    db_breaker_open: IntGauge,
    db_refused: IntCounter,
    eviction_failures: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

type Made<T> = Result<T, prometheus::Error>;

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> Made<IntCounterVec> {
    let v = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(v.clone()))?;
    Ok(v)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> Made<IntGauge> {
    let g = IntGauge::new(name, help)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

impl Metrics {
    /// A fresh registry with every metric; fails only on a definition mistake of ours.
    pub fn new() -> Made<Self> {
        let r = Registry::new();
        let http_requests = counter_vec(
            &r,
            "tessera_http_requests_total",
            "HTTP requests by route pattern, method and status",
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "tessera_http_request_duration_seconds",
                "Request latency by route pattern",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )?;
        r.register(Box::new(http_duration.clone()))?;
        let cache = counter_vec(
            &r,
            "tessera_cache_lookups_total",
            "Hot-path cache lookups by cache and result",
            &["cache", "result"],
        )?;
        let rate_limited = counter_vec(
            &r,
            "tessera_rate_limit_rejections_total",
            "Requests refused by a rate limit, by action",
            &["action"],
        )?;
        let tokens = counter_vec(
            &r,
            "tessera_tokens_total",
            "Tokens issued, refreshed and revoked, by kind",
            &["kind", "event"],
        )?;
        let second_factor = counter_vec(
            &r,
            "tessera_second_factor_total",
            "Second-factor events: totp_enabled, totp_removed, reset, accepted, refused, passkey_registered, passkey_deleted, passkey_accepted, passkey_refused, passkey_cloned",
            &["event"],
        )?;
        let server_errors = counter_vec(
            &r,
            "tessera_server_errors_total",
            "5xx answers: `unavailable` (database or store down) or `internal`",
            &["kind"],
        )?;
        Ok(Self {
            id: NEXT_METRICS_ID.fetch_add(1, Ordering::Relaxed),
            identity_hits: cache.with_label_values(&["identity", "hit"]),
            identity_misses: cache.with_label_values(&["identity", "miss"]),
            rights_hits: cache.with_label_values(&["rights", "hit"]),
            rights_misses: cache.with_label_values(&["rights", "miss"]),
            negative_hits: cache.with_label_values(&["negative", "hit"]),
            identity_loads: cache.with_label_values(&["identity", "load"]),
            bcrypt_queue: gauge(
                &r,
                "tessera_bcrypt_queue_depth",
                "Password checks waiting for a bcrypt slot",
            )?,
            bcrypt_checks: gauge(
                &r,
                "tessera_bcrypt_verifications",
                "Password checks run since start",
            )?,
            bcrypt_wait_ms: gauge(
                &r,
                "tessera_bcrypt_wait_milliseconds",
                "Total time password checks waited for a bcrypt slot since start",
            )?,
            active_sessions: gauge(
                &r,
                "tessera_active_sessions",
                "Browser sessions within both lifetimes",
            )?,
            listener_up: gauge(
                &r,
                "tessera_revocation_listener_up",
                "1 while the cross-replica eviction subscription is live (caches in use)",
            )?,
            db_breaker_open: gauge(
                &r,
                "tessera_database_breaker_open",
                "1 while the database was found unreachable and requests are answered 503 at once",
            )?,
            db_refused: {
                let c = IntCounter::new(
                    "tessera_database_refused_total",
                    "Requests answered unavailable at once by the open database breaker",
                )?;
                r.register(Box::new(c.clone()))?;
                c
            },
            eviction_failures: {
                let c = IntCounter::new(
                    "tessera_eviction_publish_failures_total",
                    "Revocations saved but not delivered to the other replicas in time (answered 503)",
                )?;
                r.register(Box::new(c.clone()))?;
                c
            },
            http_requests,
            http_duration,
            rate_limited,
            tokens,
            second_factor,
            server_errors,
            registry: r,
        })
    }

    /// One answered request; `route` is the matched pattern (never the raw path: bounded labels), a
    /// string the router keeps (its handles are cached by its address; see [`Self::request_unnamed`]).
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let (method, status_text) = (method_label(method), status_label(status));
        self.request_handles(route, method, status_text, |count, duration| {
            count.inc();
            duration.observe(seconds);
        });
        self.server_error(status);
    }

    /// As [`Self::request`] for a route label made for this request alone: resolved every time, since a
    /// fresh string at a fresh address would fill the handle cache with entries never hit again.
    pub fn request_unnamed(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let labels = [route, method_label(method), status_label(status)];
        self.http_requests.with_label_values(&labels).inc();
        self.http_duration.with_label_values(&[route]).observe(seconds);
        self.server_error(status);
    }

    fn server_error(&self, status: u16) {
        match status {
            503 => self.server_errors.with_label_values(&["unavailable"]).inc(),
            500..=599 => self.server_errors.with_label_values(&["internal"]).inc(),
            _ => {}
        }
    }

    /// Runs `record` on this (route, method, status)'s counter and the route's histogram, resolved once
    /// per worker thread: `with_label_values` hashes every label, takes a lock and clones two handles,
    /// a visible share of a `/healthz` answer. The labels are bounded (route patterns, method and status
    /// classes), and so is the cache; anything past its bound is resolved each time, as before.
    fn request_handles(
        &self,
        route: &str,
        method: &'static str,
        status: &'static str,
        record: impl Fn(&IntCounter, &Histogram),
    ) {
        // Hashed by where the strings are, not by their bytes: routes are named by strings the router
        // keeps for its lifetime and the other two are constants, so the same label set comes with the
        // same addresses. A hit still compares the text, so a reused address can never miscount.
        let key = foldhash::fast::FixedState::default().hash_one((
            self.id,
            route.as_ptr(),
            route.len(),
            method.as_ptr(),
            status.as_ptr(),
        ));
        let cached = REQUEST_HANDLES.with(|handles| {
            let handles = handles.borrow();
            let hit = handles.get(&key).filter(|h| h.is(self.id, route, method, status));
            hit.map(|h| record(&h.count, &h.duration)).is_some()
        });
        if cached {
            return;
        }
        let count = self.http_requests.with_label_values(&[route, method, status]);
        let duration = self.http_duration.with_label_values(&[route]);
        record(&count, &duration);
        REQUEST_HANDLES.with(|handles| {
            let mut handles = handles.borrow_mut();
            if handles.len() < MAX_CACHED_HANDLES {
                handles.entry(key).or_insert(RequestHandles {
                    metrics: self.id,
                    route: route.into(),
                    method,
                    status,
                    count,
                    duration,
                });
            }
        });
    }

    pub fn eviction_publish_failed(&self) {
        self.eviction_failures.inc();
    }

    pub fn rate_limited(&self, action: &str) {
        self.rate_limited.with_label_values(&[action]).inc();
    }

    /// `kind`: access, refresh, client, device; `event`: issued, refreshed, revoked.
    pub fn token(&self, kind: &str, event: &str) {
        self.tokens.with_label_values(&[kind, event]).inc();
    }

    pub fn second_factor(&self, event: &str) {
        self.second_factor.with_label_values(&[event]).inc();
    }
}

static NEXT_METRICS_ID: AtomicU64 = AtomicU64::new(0);

/// Enough for every route × method × status class of one registry, with room for the several
/// registries a test process makes.
const MAX_CACHED_HANDLES: usize = 4096;

thread_local! {
    static REQUEST_HANDLES: RefCell<HashMap<u64, RequestHandles, foldhash::fast::FixedState>> =
        RefCell::default();
}

/// One label set's request counter and its route's histogram, with the labels they were resolved for
/// (a hash collision must not count a request under another route).
struct RequestHandles {
    metrics: u64,
    route: Box<str>,
    method: &'static str,
    status: &'static str,
    count: IntCounter,
    duration: Histogram,
}

impl RequestHandles {
    fn is(&self, metrics: u64, route: &str, method: &str, status: &str) -> bool {
        self.metrics == metrics && *self.route == *route && self.method == method && self.status == status
    }
}

/// The method label: the standard methods by name, any other as `other`. Forward-auth answers every
/// method a proxy forwards, so a label per method name would let a caller grow the registry without bound.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

fn status_label(status: u16) -> &'static str {
    // Exact codes for the ones operators alert on, classes for the rest: labels stay few.
    #[allow(
        clippy::match_overlapping_arm,
        reason = "exact codes first, then their classes"
    )]
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        302 => "302",
        303 => "303",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        410 => "410",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl Services {
    /// The Prometheus text exposition, with the gauges read now.
    pub async fn render_metrics(&self) -> Result<String, ServiceError> {
        let m = &self.metrics;
        m.bcrypt_queue.set(self.hasher.waiting());
        m.bcrypt_checks
            .set(i64::try_from(self.hasher.verifications()).unwrap_or(i64::MAX));
        m.bcrypt_wait_ms
            .set(i64::try_from(self.hasher.wait_millis()).unwrap_or(i64::MAX));
        m.listener_up.set(i64::from(self.caches.usable()));
        let (open, refused) = self.db.breaker_state();
        m.db_breaker_open.set(i64::from(open));
        // The breaker counts; the counter catches up with it when scraped.
        m.db_refused.inc_by(refused.saturating_sub(m.db_refused.get()));
        let now = self.clock.now().as_secs();
        let idle = self.settings.session.idle_timeout_secs;
        let live = self
            .db
            .run(move |c| {
                Ok::<_, ServiceError>(tessera_db::models::sessions::Session::count_live(
                    c,
                    now,
                    now - idle,
                )?)
            })
            .await;
        // During a database outage the other metrics still answer; the session count keeps its last value.
        if let Ok(live) = live {
            m.active_sessions.set(live);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&m.registry.gather(), &mut out)
            .map_err(|e| ServiceError::Unexpected(e.into()))?;
        String::from_utf8(out).map_err(|e| ServiceError::Unexpected(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    fn requests(m: &Metrics, route: &str, method: &str, status: &str) -> u64 {
        m.http_requests.with_label_values(&[route, method, status]).get()
    }

    #[test]
    fn cached_handles_count_for_their_own_registry_and_labels() {
        let (a, b) = (Metrics::new().unwrap(), Metrics::new().unwrap());
        // One route string, as the router keeps it: both registries, on one thread, use its address.
        let route = String::from("/healthz");
        for _ in 0..3 {
            a.request(&route, "GET", 200, 0.001);
        }
        b.request(&route, "GET", 200, 0.001);
        a.request(&route, "GET", 404, 0.001);
        a.request(&route, "FROBNICATE", 200, 0.001);
        assert_eq!(requests(&a, "/healthz", "GET", "200"), 3);
        assert_eq!(requests(&b, "/healthz", "GET", "200"), 1);
        assert_eq!(requests(&a, "/healthz", "GET", "404"), 1);
        assert_eq!(requests(&a, "/healthz", "other", "200"), 1);
        assert_eq!(
            a.http_duration
                .with_label_values(&["/healthz"])
                .get_sample_count(),
            5
        );
        // A route label made per request is counted without being cached.
        for _ in 0..2 {
            a.request_unnamed(&String::from("/made/{here}"), "GET", 200, 0.001);
        }
        assert_eq!(requests(&a, "/made/{here}", "GET", "200"), 2);
    }
}
