use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use tessera_proto::oauth::Discovery;
use tessera_service::oauth::GRANT_TYPES;

use crate::AppState;

/// RFC 8414 metadata, also served as OpenID discovery. `issuer` is exactly `public_url`.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "discovery", responses((status = 200, body = Discovery)))]
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    let s = &state.services;
    let base = &s.settings.server.public_url;
    let url = |p: &str| format!("{base}{p}");
    let mut scopes: Vec<String> = s
        .catalog
        .names(s.catalog.all())
        .into_iter()
        .map(str::to_owned)
        .collect();
    scopes.extend(
        tessera_service::oauth::IGNORED_SCOPES
            .iter()
            .map(|x| (*x).to_owned()),
    );
    let client_methods = vec![
        "client_secret_basic".to_owned(),
        "client_secret_post".to_owned(),
        "none".to_owned(),
    ];
    let doc = Discovery {
        issuer: base.clone(),
        authorization_endpoint: url("/oauth/authorize"),
        token_endpoint: url("/oauth/token"),
        device_authorization_endpoint: url("/oauth/device_authorization"),
        introspection_endpoint: url("/oauth/introspect"),
        revocation_endpoint: url("/oauth/revoke"),
        userinfo_endpoint: url("/oauth/userinfo"),
        jwks_uri: url("/.well-known/jwks.json"),
        grant_types_supported: GRANT_TYPES.iter().map(|g| (*g).to_owned()).collect(),
        scopes_supported: scopes,
        response_types_supported: vec!["code".into()],
        token_endpoint_auth_methods_supported: client_methods.clone(),
        introspection_endpoint_auth_methods_supported: vec![
            "client_secret_basic".into(),
            "client_secret_post".into(),
        ],
        revocation_endpoint_auth_methods_supported: client_methods,
        id_token_signing_alg_values_supported: vec![s.keys.algorithm().name().to_owned()],
        subject_types_supported: vec!["public".into()],
        end_session_endpoint: url("/oauth/end_session"),
        response_modes_supported: vec!["query".into()],
        code_challenge_methods_supported: vec!["S256".into()],
        claims_supported: [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "sid",
            "azp",
            "preferred_username",
            "name",
            "email",
            "email_verified",
            "groups",
            "roles",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        prompt_values_supported: ["none", "login", "consent"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        authorization_response_iss_parameter_supported: true,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
    };
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ))
        .json(doc)
}

/// RFC 8414's name for the same document.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "discovery", responses((status = 200, body = Discovery)))]
pub async fn authorization_server(state: web::Data<AppState>) -> HttpResponse {
    discovery(state).await
}
