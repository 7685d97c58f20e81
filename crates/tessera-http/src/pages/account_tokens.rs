//! `GET /account/tokens` and its forms (issue 22): a person's client API tokens — create with a scope
//! picker that offers only what they hold and an expiry, the secret shown once (with a copy button),
//! regenerate, a pair code with its QR code for a TV, delete; the 25-token limit shown before it bites.
//! The same services as `/api/client-tokens`, so minting never widens here either.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use tessera_core::UnixTime;
use tessera_service::client_tokens::MAX_LIVE_TOKENS;
use tessera_service::identity::Identity;
use tessera_service::ServiceError;

use crate::error::ApiError;
use crate::AppState;

const PAGE: &str = "/account/tokens";

struct TokenRowView {
    id: i64,
    name: String,
    scopes: String,
    expires: String,
    last_used: String,
}

struct PairView {
    code: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "account_tokens.html")]
struct TokensPage<'a> {
    csrf: &'a str,
    tokens: Vec<TokenRowView>,
    limit: usize,
    scopes: Vec<(String, String)>,
    actions: [(&'static str, &'static str); 3],
    done: Option<&'a str>,
    error: Option<String>,
    secret: Option<String>,
    pair: Option<PairView>,
}

/// What a form post leads to, shown on the page.
#[derive(Default)]
struct Outcome<'a> {
    done: Option<&'a str>,
    error: Option<String>,
    secret: Option<String>,
    pair: Option<PairView>,
}

async fn render(
    state: &AppState,
    id: &Identity,
    csrf: &str,
    out: Outcome<'_>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let p = crate::handlers::views::principal_of(id)?;
    let t = |secs: i64| UnixTime(secs).to_rfc3339();
    let tokens = s
        .list_client_tokens(p.user_id)
        .await?
        .iter()
        .map(|row| {
            let v = crate::handlers::client_tokens::view(row, &s.catalog);
            TokenRowView {
                id: v.id,
                name: v.name,
                scopes: v.scopes.join(" "),
                expires: row.expires_at.map_or_else(|| "never".to_owned(), t),
                last_used: row.last_used_at.map_or_else(|| "never".to_owned(), t),
            }
        })
        .collect();
    let scopes = s
        .catalog
        .names(id.scopes)
        .into_iter()
        .map(|n| (n.to_owned(), super::describe_scope(n)))
        .collect();
    let status = super::status_of(out.error.as_ref());
    let html = TokensPage {
        csrf,
        tokens,
        limit: usize::try_from(MAX_LIVE_TOKENS).unwrap_or(25),
        scopes,
        actions: [
            ("pair", "Pair code"),
            ("regenerate", "Regenerate"),
            ("delete", "Delete"),
        ],
        done: out.done,
        error: out.error,
        secret: out.secret,
        pair: out.pair,
    }
    .render()
    .map_err(|e| ApiError::internal(&e))?;
    Ok(super::session_page(status, html))
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match super::signed_in_or_login(&state, &req, Some(PAGE)).await {
        Ok((id, csrf)) => render(&state, &id, &csrf, Outcome::default()).await,
        Err(redirect) => Ok(redirect),
    }
}

/// `POST /account/tokens/{action}`: create, regenerate, pair or delete.
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    action: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let pairs = super::form_pairs(&body);
    let csrf_token = super::form_field(&pairs, "csrf_token").to_owned();
    let (id, csrf) = match super::signed_in_form(&state, &req, &csrf_token, PAGE).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let s = &state.services;
    let token_id = super::form_field(&pairs, "id").parse::<i64>().ok();
    let result: Result<Outcome<'_>, ServiceError> = match (action.as_str(), token_id) {
        ("create", _) => {
            let scopes = super::form_values(&pairs, "scope");
            let expires = super::form_field(&pairs, "expires_in");
            s.create_client_token(
                &id,
                super::form_field(&pairs, "name"),
                &scopes,
                Some(expires).filter(|e| !e.is_empty()),
            )
            .await
            .map(|c| Outcome {
                done: Some("Created."),
                secret: Some(c.raw.expose().to_owned()),
                ..Outcome::default()
            })
        }
        ("regenerate", Some(t)) => s.regenerate_client_token(&id, t).await.map(|c| Outcome {
            done: Some("Regenerated: the old secret no longer works."),
            secret: Some(c.raw.expose().to_owned()),
            ..Outcome::default()
        }),
        ("pair", Some(t)) => match s.create_pair_code(&id, t).await {
            Ok(code) => {
                let qr = qrcode::QrCode::new(code.as_bytes()).map_err(|e| ApiError::internal(&e))?;
                let qr_svg = qr
                    .render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(180, 180)
                    .quiet_zone(true)
                    .build();
                Ok(Outcome {
                    pair: Some(PairView { code, qr_svg }),
                    ..Outcome::default()
                })
            }
            Err(e) => Err(e),
        },
        ("delete", Some(t)) => {
            let owner = crate::handlers::views::principal_of(&id)?.user_id;
            s.delete_client_token(Some(owner), t).await.map(|()| Outcome {
                done: Some("Deleted: that token no longer works."),
                ..Outcome::default()
            })
        }
        _ => Err(ServiceError::NotFound),
    };
    match result {
        Ok(out) => render(&state, &id, &csrf, out).await,
        Err(e) => {
            let error = Some(super::in_words(e)?);
            render(
                &state,
                &id,
                &csrf,
                Outcome {
                    error,
                    ..Outcome::default()
                },
            )
            .await
        }
    }
}
