use actix_web::{web, HttpResponse};
use tessera_proto::problem::problem_info;

use crate::error::ApiError;

/// A short human explanation of a problem `type` (the `type` of every problem+json body links here).
#[utoipa::path(get, path = "/problems/{code}", tag = "operations",
    params(("code" = String, Path, description = "the problem code, e.g. `rate_limited`")),
    responses((status = 200, description = "title and explanation", body = String, content_type = "text/plain"),
        (status = 404, body = tessera_proto::problem::Problem)))]
pub async fn problem(code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (title, text) = problem_info(&code).ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{title}\n\n{text}\n")))
}
