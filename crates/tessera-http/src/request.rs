//! The edge middleware: request ids, request metrics, and the request on every log line it causes.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web;
use tokio::task::futures::TaskLocalFuture;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::AppState;

/// Header names as constants: looking one up by a string parses the name again on every request.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// What a log line written while serving a request says about it. Kept in a task-local rather than a
/// tracing span: a span costs its fields' formatting, a slab entry and an enter/exit at every poll of
/// every request (~13 % of `/healthz` at the default level), while this costs nothing until a line is
/// actually written ([`WithRequest`] adds it then).
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub id: String,
    /// The caller's W3C trace context, when well-formed: (trace id, parent span id).
    pub trace: Option<(String, String)>,
    pub method: actix_web::http::Method,
    /// Only its path is ever written: query strings may carry codes or tokens.
    pub uri: actix_web::http::Uri,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// The id of the request being served (for error bodies), or "-" outside one.
pub fn current_request_id() -> String {
    REQUEST
        .try_with(|r| r.id.clone())
        .unwrap_or_else(|_| "-".to_owned())
}

/// A fresh request id: a per-process random prefix and a counter. Cheaper than a UUID per request (no
/// system call on the hot path) and still unique across replicas and restarts.
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    // Hex by hand: the formatting machinery was a visible share of a cached forward-auth answer.
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = String::with_capacity(prefix.len() + 1 + 16);
    id.push_str(prefix);
    id.push('-');
    push_counter(&mut id, n);
    id
}

/// `n` in lowercase hex, at least 12 digits (as `{:012x}` writes it, without the formatting machinery).
fn push_counter(out: &mut String, n: u64) {
    let digits = (16 - n.leading_zeros() as usize / 4).max(12);
    for shift in (0..digits).rev() {
        let nibble = ((n >> (shift * 4)) & 0xf) as u8;
        out.push(char::from(if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        }));
    }
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
/// formatted that no one reads. `App::wrap(Edge)`.
pub struct Edge;

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
            service: Rc::new(service),
        }))
    }
}

pub struct EdgeService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for EdgeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = EdgeFuture<S>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let id = req
            .headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|s| sane(s))
            .map_or_else(new_request_id, str::to_owned);
        let header = HeaderValue::from_str(&id).ok();
        let method = req.method().clone();
        let context = RequestContext {
            id,
            trace: req
                .headers()
                .get(&TRACEPARENT)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_traceparent)
                .map(|(t, p)| (t.to_owned(), p.to_owned())),
            method: method.clone(),
            uri: req.uri().clone(),
        };
        let call = Call::Pending {
            service: Rc::clone(&self.service),
            req: Some(req),
            started,
        };
        EdgeFuture {
            inner: REQUEST.scope(context, call),
            started,
            state,
            method,
            header,
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner service, called at the first poll so that its `call` too runs inside the request's
    /// scope (a log line it writes names the request).
    #[project = CallProj]
    pub enum Call<S: Service<ServiceRequest>> {
        Pending { service: Rc<S>, req: Option<ServiceRequest>, started: Instant },
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
                CallProj::Pending {
                    service,
                    req,
                    started,
                } => {
                    let (started, req) = (*started, req.take());
                    let Some(req) = req else {
                        return Poll::Ready(Err(actix_web::error::ErrorInternalServerError("polled twice")));
                    };
                    let fut = service.call(req);
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
        started: Instant,
        state: Option<web::Data<AppState>>,
        method: actix_web::http::Method,
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
        if let Some(state) = this.state {
            let status = res.status().as_u16();
            crate::metrics::record(
                state,
                res.request(),
                this.method,
                status,
                this.started.elapsed().as_secs_f64(),
            );
        }
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
        let mut fields: Vec<(&str, String)> = vec![("request.id", context.id.clone())];
        if let Some((t, p)) = &context.trace {
            fields.push(("trace.id", t.clone()));
            fields.push(("trace.parent_id", p.clone()));
        }
        fields.push(("http.method", context.method.as_str().to_owned()));
        fields.push(("http.path", context.uri.path().to_owned()));
        if self.json {
            let Some(rest) = body.strip_prefix('{') else {
                return writeln!(writer, "{body}");
            };
            let mut out = String::from("{");
            for (k, v) in &fields {
                out.push_str(&format!("{:?}:{},", k, serde_json::Value::from(v.as_str())));
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
    use super::{parse_traceparent, push_counter};

    #[test]
    fn the_counter_is_written_as_format_writes_it() {
        for n in [0, 1, 0xabc, (1 << 48) - 1, 1 << 48, u64::MAX] {
            let mut out = String::new();
            push_counter(&mut out, n);
            assert_eq!(out, format!("{n:012x}"));
        }
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
