//! The edge middleware: request ids, request metrics, and the request on every log line it causes.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::uri::PathAndQuery;
use actix_web::web;
use tessera_service::metrics::Metrics;
use tokio::task::futures::TaskLocalFuture;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Header names as constants: looking one up by a string parses the name again on every request.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// What a log line written while serving a request says about it. Kept in a task-local rather than a
/// tracing span: a span costs its fields' formatting, a slab entry and an enter/exit at every poll of
/// every request (~13 % of `/healthz` at the default level), while this costs nothing until a line is
/// actually written ([`WithRequest`] adds it then). Not a clone of the `HttpRequest` itself: actix's
/// router needs to be its only owner while it matches (it panics otherwise).
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub id: HeaderValue,
    pub method: actix_web::http::Method,
    /// Only its path is ever written: query strings may carry codes or tokens. The path and query
    /// rather than the whole `Uri`: one shared buffer to count instead of three, and a smaller value
    /// to swap in and out of the task-local at every poll.
    pub target: Option<PathAndQuery>,
    /// The caller's `traceparent` header, parsed only when a line is written.
    pub traceparent: Option<HeaderValue>,
}

impl RequestContext {
    fn id(&self) -> &str {
        self.id.to_str().unwrap_or("-")
    }

    /// The request's path, as `Uri::path` reads it ("" for a target without one).
    fn path(&self) -> &str {
        self.target.as_ref().map_or("", PathAndQuery::path)
    }

    /// The caller's W3C trace context, when well-formed: (trace id, parent span id).
    fn trace(&self) -> Option<(&str, &str)> {
        self.traceparent
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent)
    }
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// The id of the request being served (for error bodies), or "-" outside one.
pub fn current_request_id() -> String {
    REQUEST
        .try_with(|r| r.id().to_owned())
        .unwrap_or_else(|_| "-".to_owned())
}

/// A fresh request id: a per-process random prefix and a counter. Cheaper than a UUID per request (no
/// system call on the hot path) and still unique across replicas and restarts. Ids are written one after
/// another into a per-thread buffer and handed out as shared slices of it: no allocation per request,
/// only when a buffer is full.
fn new_request_id() -> HeaderValue {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<[u8; PREFIX_LEN]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static IDS: std::cell::RefCell<web::BytesMut> = std::cell::RefCell::default();
    }
    const ID_MAX: usize = PREFIX_LEN + 1 + 16;
    let prefix = PREFIX.get_or_init(|| {
        let mut p = [0; PREFIX_LEN];
        p.copy_from_slice(&uuid::Uuid::new_v4().simple().to_string().as_bytes()[..PREFIX_LEN]);
        p
    });
    let mut id = [0u8; ID_MAX];
    id[..PREFIX_LEN].copy_from_slice(prefix);
    id[PREFIX_LEN] = b'-';
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let len = PREFIX_LEN + 1 + write_counter(&mut id[PREFIX_LEN + 1..], n);
    let shared = IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        if ids.capacity() < ID_MAX {
            // A fresh buffer for the next ~140 ids; the old one lives while any of its ids do.
            *ids = web::BytesMut::with_capacity(ID_MAX * 140);
        }
        ids.extend_from_slice(&id[..len]);
        ids.split().freeze()
    });
    // Hex digits and a dash are always a valid header value.
    HeaderValue::from_maybe_shared(shared).unwrap_or(HeaderValue::from_static("-"))
}

const PREFIX_LEN: usize = 12;

/// Writes `n` in lowercase hex, at least 12 digits (as `{:012x}` writes it, without the formatting
/// machinery, which was a visible share of a cached forward-auth answer), into `out` (16 bytes or more);
/// returns how many bytes it wrote.
fn write_counter(out: &mut [u8], n: u64) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (16 - n.leading_zeros() as usize / 4).max(12);
    for (i, slot) in out.iter_mut().take(digits).enumerate() {
        let shift = (digits - 1 - i) * 4;
        *slot = HEX[((n >> shift) & 0xf) as usize];
    }
    digits
}

/// A caller's id is echoed only when it is short and plain, so it cannot inject into logs or headers.
fn sane(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The trace and parent span ids of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`), when it
/// is well-formed and not all zeros; anything else is ignored, so callers cannot inject into logs.
pub fn parse_traceparent(value: &str) -> Option<(&str, &str)> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let ok = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0')
        && (version != "00" || parts.next().is_none());
    ok.then_some((trace, parent))
}

/// The one middleware every request passes first: its id (echoed in `X-Request-Id`, in error bodies and
/// in every log line written while it is served) and its metrics (route pattern, method, status,
/// latency). A hand-written layer rather than `from_fn`: no boxed future per request, and nothing
/// formatted that no one reads. `App::wrap(Edge::new(metrics))`: the layer holds the registry itself
/// rather than finding it among the request's app data on every answer.
pub struct Edge {
    metrics: Arc<Metrics>,
}

impl Edge {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Edge { metrics }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Edge
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = EdgeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EdgeService {
            inner: Rc::new(EdgeInner {
                service,
                metrics: Arc::clone(&self.metrics),
            }),
        }))
    }
}

pub struct EdgeService<S> {
    inner: Rc<EdgeInner<S>>,
}

/// What each of a worker's requests shares: the next service and the metrics registry.
pub struct EdgeInner<S> {
    service: S,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<ServiceRequest> for EdgeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = EdgeFuture<S>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.service.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        // A caller's id is reused as the very header value it sent (a reference count, no copy).
        let id = req
            .headers()
            .get(&REQUEST_ID_HEADER)
            .filter(|v| v.to_str().is_ok_and(sane))
            .cloned()
            .unwrap_or_else(new_request_id);
        let context = RequestContext {
            id: id.clone(),
            method: req.method().clone(),
            target: req.uri().path_and_query().cloned(),
            traceparent: req.headers().get(&TRACEPARENT).cloned(),
        };
        let call = Call::Pending {
            edge: Rc::clone(&self.inner),
            req: Some(req),
            started,
        };
        EdgeFuture {
            inner: REQUEST.scope(context, call),
            edge: Rc::clone(&self.inner),
            started,
            header: Some(id),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner service, called at the first poll so that its `call` too runs inside the request's
    /// scope (a log line it writes names the request).
    #[project = CallProj]
    pub enum Call<S: Service<ServiceRequest>> {
        Pending { edge: Rc<EdgeInner<S>>, req: Option<ServiceRequest>, started: Instant },
        Running { #[pin] fut: S::Future, started: Instant },
    }
}

impl<S, B> Future for Call<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Output = Result<ServiceResponse<B>, actix_web::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                CallProj::Pending { edge, req, started } => {
                    let (started, req) = (*started, req.take());
                    let Some(req) = req else {
                        return Poll::Ready(Err(actix_web::error::ErrorInternalServerError("polled twice")));
                    };
                    let fut = edge.service.call(req);
                    self.set(Call::Running { fut, started });
                }
                CallProj::Running { fut, started } => {
                    let res = ready!(fut.poll(cx));
                    if let Ok(r) = &res {
                        tracing::debug!(
                            http.status = r.status().as_u16(),
                            duration_ms = started.elapsed().as_millis() as u64,
                            "request served"
                        );
                    }
                    return Poll::Ready(res);
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A request being served: then its id goes into the answer and the answer into the metrics.
    pub struct EdgeFuture<S: Service<ServiceRequest>> {
        #[pin]
        inner: TaskLocalFuture<RequestContext, Call<S>>,
        edge: Rc<EdgeInner<S>>,
        started: Instant,
        header: Option<HeaderValue>,
    }
}

impl<S, B> Future for EdgeFuture<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Output = Result<ServiceResponse<B>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.inner.poll(cx))?;
        if let Some(v) = this.header.take() {
            res.headers_mut().insert(REQUEST_ID_HEADER, v);
        }
        crate::metrics::record(
            &this.edge.metrics,
            res.request(),
            res.status().as_u16(),
            this.started.elapsed().as_secs_f64(),
        );
        Poll::Ready(Ok(res))
    }
}

/// An event format that adds the request being served (id, trace context, method, path) to every line
/// written while serving it, after the inner format's own fields: as `key=value` pairs in text, as
/// members of the object in JSON. Lines written outside a request are the inner format's, unchanged.
pub struct WithRequest<F> {
    inner: F,
    json: bool,
}

impl<F> WithRequest<F> {
    pub fn new(inner: F, json: bool) -> Self {
        WithRequest { inner, json }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithRequest<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let Ok(context) = REQUEST.try_with(Clone::clone) else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner.format_event(ctx, Writer::new(&mut line), event)?;
        let body = line.trim_end_matches('\n');
        let mut fields: Vec<(&str, &str)> = vec![("request.id", context.id())];
        if let Some((t, p)) = context.trace() {
            fields.push(("trace.id", t));
            fields.push(("trace.parent_id", p));
        }
        fields.push(("http.method", context.method.as_str()));
        fields.push(("http.path", context.path()));
        if self.json {
            let Some(rest) = body.strip_prefix('{') else {
                return writeln!(writer, "{body}");
            };
            let mut out = String::from("{");
            for (k, v) in &fields {
                out.push_str(&format!("{:?}:{},", k, serde_json::Value::from(*v)));
            }
            writeln!(writer, "{out}{rest}")
        } else {
            let extra: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(writer, "{body} {}", extra.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use actix_web::http::header::HeaderValue;
    use actix_web::http::{Method, Uri};

    use super::{new_request_id, parse_traceparent, write_counter, RequestContext, WithRequest, REQUEST};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// One line written inside a request's scope, in text or JSON.
    fn line_in_request(json: bool, target: &str) -> String {
        let lines = Lines::default();
        let out = lines.clone();
        let context = RequestContext {
            id: HeaderValue::from_static("req-1"),
            method: Method::POST,
            target: target.parse::<Uri>().unwrap().path_and_query().cloned(),
            traceparent: None,
        };
        let write = || REQUEST.sync_scope(context, || tracing::info!("inside"));
        let format = tracing_subscriber::fmt::format();
        if json {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .event_format(WithRequest::new(format.json(), true))
                .with_writer(move || out.clone())
                .finish();
            tracing::subscriber::with_default(subscriber, write);
        } else {
            let subscriber = tracing_subscriber::fmt()
                .event_format(WithRequest::new(format, false))
                .with_writer(move || out.clone())
                .finish();
            tracing::subscriber::with_default(subscriber, write);
        }
        let text = lines.0.lock().unwrap().clone();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn a_line_names_the_request_by_path_without_its_query() {
        let line = line_in_request(false, "/oauth/authorize?code=secret&state=s");
        assert!(
            line.contains("request.id=req-1 http.method=POST http.path=/oauth/authorize"),
            "{line}"
        );
        assert!(!line.contains("secret"), "the query stays out of the log: {line}");
        // An absolute target without a path reads as `Uri::path` reads it.
        let line = line_in_request(false, "http://example.test");
        assert!(line.ends_with(" http.path=/\n"), "{line}");
        let line = line_in_request(true, "/api/users/me?token=secret");
        let fields = r#"{"request.id":"req-1","http.method":"POST","http.path":"/api/users/me","#;
        assert!(line.starts_with(fields), "{line}");
        assert!(!line.contains("secret"), "{line}");
    }

    #[test]
    fn the_counter_is_written_as_format_writes_it() {
        for n in [0, 1, 0xabc, (1 << 48) - 1, 1 << 48, u64::MAX] {
            let mut out = [0u8; 16];
            let len = write_counter(&mut out, n);
            assert_eq!(std::str::from_utf8(&out[..len]).unwrap(), format!("{n:012x}"));
        }
    }

    #[test]
    fn fresh_ids_are_a_prefix_and_a_rising_counter() {
        let (a, b) = (new_request_id(), new_request_id());
        let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
        let (pa, ca) = a.split_once('-').unwrap();
        let (pb, cb) = b.split_once('-').unwrap();
        assert_eq!((pa.len(), pa), (12, pb));
        assert!(pa.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(u64::from_str_radix(cb, 16).unwrap() > u64::from_str_radix(ca, 16).unwrap());
    }

    #[test]
    fn only_well_formed_trace_contexts_are_read() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(ok),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"))
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f35\n77b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "garbage",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
    }
}
