//! The layer every request passes inside CORS: the CSRF header check of cookie-authenticated writes
//! ([`crate::csrf`]) and error pages for people ([`crate::pages::errors`]). One layer rather than two
//! `from_fn` ones, and on the hot path (a safe method, not a page) it allocates nothing: the inner
//! service's future is handed back as it is, its body marked as passed through.

use std::future::{ready, Ready};
use std::rc::Rc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use futures::future::{Either, LocalBoxFuture, MapOk, TryFutureExt};

use crate::csrf;
use crate::pages::errors::{as_page, is_page};

/// `App::wrap(Guard)`.
pub struct Guard;

type Guarded<B> = ServiceResponse<EitherBody<B, BoxBody>>;
type PassThrough<B> = fn(ServiceResponse<B>) -> Guarded<B>;

impl<S, B> Transform<S, ServiceRequest> for Guard
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = Guarded<B>;
    type Error = actix_web::Error;
    type Transform = GuardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GuardService {
            service: Rc::new(service),
        }))
    }
}

pub struct GuardService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for GuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = Guarded<B>;
    type Error = actix_web::Error;
    type Future = Either<
        MapOk<S::Future, PassThrough<B>>,
        LocalBoxFuture<'static, Result<Guarded<B>, actix_web::Error>>,
    >;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let check = csrf::applies(&req);
        let page = is_page(&req);
        if !check && !page {
            let pass: PassThrough<B> = ServiceResponse::map_into_left_body;
            return Either::Left(self.service.call(req).map_ok(pass));
        }
        let service = Rc::clone(&self.service);
        Either::Right(Box::pin(async move {
            // Checked before any credential is resolved: adding a Bearer header does not exempt a write.
            if let Some(refused) = check.then(|| csrf::refusal(&req)).flatten() {
                let res = req.into_response(refused);
                let res = if page { as_page(res).await? } else { res };
                return Ok(res.map_into_right_body());
            }
            let res = service.call(req).await?;
            Ok(if page {
                as_page(res).await?.map_into_right_body()
            } else {
                res.map_into_left_body()
            })
        }))
    }
}
