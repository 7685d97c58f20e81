use actix_web::{web, HttpResponse};
use tessera_proto::problem::problem_info;

use crate::error::ApiError;

/// A short human explanation of a problem `type`.
pub async fn problem(code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (title, text) = problem_info(&code).ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{title}\n\n{text}\n")))
}
