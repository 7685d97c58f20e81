//! Resources whose routes are told apart by method without allocating, and whose 405 names the methods
//! they do take.
//!
//! actix's `web::get()` and its kin record every method they are tried with in the request's extensions
//! (a vector, a boxed value and a map: three allocations on every request to such a route) so that
//! actix's own 405 can list them; ours is problem+json and replaces it, so the record was pure cost.
//! Here each endpoint knows its methods when it is built, checks them with a plain comparison, and its
//! 405 carries the `Allow` header RFC 9110 §15.5.6 requires.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::guard::{Guard, GuardContext};
use actix_web::http::header::{HeaderValue, ALLOW};
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpResponse, Responder, ResponseError};

use crate::error::method_not_allowed_error;

/// A resource under construction: `resource("/path").get(handler).post(other)`.
pub struct Endpoint {
    resource: actix_web::Resource,
    allow: Vec<Method>,
}

/// A named resource (the name is its pattern, read by the request metrics) with no routes yet.
pub fn resource(path: &str) -> Endpoint {
    Endpoint {
        resource: web::resource(path).name(path),
        allow: Vec::new(),
    }
}

macro_rules! method_routes {
    ($($name:ident => $method:ident),* $(,)?) => {
        impl Endpoint {
            $(
                #[doc = concat!("Serves `", stringify!($method), "` with `handler`.")]
                pub fn $name<F, Args>(self, handler: F) -> Self
                where
                    F: Handler<Args>,
                    Args: FromRequest + 'static,
                    F::Output: Responder + 'static,
                {
                    self.on(Method::$method, web::route().to(handler))
                }
            )*
        }
    };
}

method_routes!(get => GET, head => HEAD, post => POST, put => PUT, patch => PATCH, delete => DELETE);

impl Endpoint {
    fn on(mut self, method: Method, route: actix_web::Route) -> Self {
        self.resource = self.resource.route(route.guard(OnlyMethod(method.clone())));
        self.allow.push(method);
        self
    }
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut AppService) {
        let allow = self
            .allow
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let allow = HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static(""));
        let refuse = move || {
            let mut res: HttpResponse = method_not_allowed_error().error_response();
            res.headers_mut().insert(ALLOW, allow.clone());
            std::future::ready(res)
        };
        self.resource.default_service(web::to(refuse)).register(config);
    }
}

/// One method, compared and nothing recorded.
struct OnlyMethod(Method);

impl Guard for OnlyMethod {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        ctx.head().method == self.0
    }
}
