//! actix-web's "hello world": the ceiling forward-auth is measured against.

use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18200".to_owned());
    HttpServer::new(|| App::new().default_service(web::to(|| async { HttpResponse::Ok().body("ok") })))
        .bind(addr)?
        .run()
        .await
}
