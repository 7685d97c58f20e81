//! The account pages of API.md §6 that need no session: `/register?token=`, `/reset-password?token=`,
//! `/verify-email?token=` and `/setup` (first admin). Each form carries its own token, a random value
//! also set as a SameSite=Strict cookie, so a cross-site form cannot post to them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use tessera_service::invites::Registration;
use tessera_service::ServiceError;

use crate::client_ip::client_ip;
use crate::error::ApiError;
use crate::AppState;

const FORM_COOKIE: &str = "tessera_form";

pub struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    required: bool,
}

const USERNAME: Field = Field {
    name: "username",
    label: "Username",
    kind: "text",
    autocomplete: "username",
    required: true,
};
const EMAIL: Field = Field {
    name: "email",
    label: "Email",
    kind: "email",
    autocomplete: "email",
    required: false,
};
const NEW_PASSWORD: Field = Field {
    name: "password",
    label: "Password (8 to 72 bytes)",
    kind: "password",
    autocomplete: "new-password",
    required: true,
};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    title: &'a str,
    error: Option<&'a str>,
    done: Option<&'a str>,
    show_form: bool,
    action: &'a str,
    csrf: &'a str,
    token: &'a str,
    fields: &'a [Field],
    submit: &'a str,
    link: Option<&'a str>,
}

impl<'a> AccountPage<'a> {
    fn form(title: &'a str, action: &'a str, token: &'a str, fields: &'a [Field], submit: &'a str) -> Self {
        Self {
            title,
            error: None,
            done: None,
            show_form: true,
            action,
            csrf: "",
            token,
            fields,
            submit,
            link: None,
        }
    }

    fn message(title: &'a str, error: Option<&'a str>, done: Option<&'a str>) -> Self {
        Self {
            title,
            error,
            done,
            show_form: false,
            action: "",
            csrf: "",
            token: "",
            fields: &[],
            submit: "",
            link: None,
        }
    }
}

/// Renders with a fresh form token (cookie and hidden field) and the pages' strict headers.
fn render(state: &AppState, page: AccountPage<'_>, status: StatusCode) -> Result<HttpResponse, ApiError> {
    let form_token = tessera_crypto::random::hex_secret(16);
    let page = AccountPage {
        csrf: &form_token,
        ..page
    };
    let html = page.render().map_err(|e| ApiError::internal(&e))?;
    Ok(super::form_page(state, status, FORM_COOKIE, &form_token, html))
}

/// A page that only says something (errors of other pages' flows, e.g. upstream sign-in).
pub(crate) fn message_page(
    state: &AppState,
    title: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let page = AccountPage {
        link: Some("/login"),
        ..AccountPage::message(title, error, None)
    };
    render(state, page, status)
}

fn form_token_ok(req: &HttpRequest, sent: &str) -> bool {
    req.cookie(FORM_COOKIE)
        .is_some_and(|c| !sent.is_empty() && tessera_crypto::ct_eq(c.value().as_bytes(), sent.as_bytes()))
}

fn csrf_refused(state: &AppState, title: &str) -> Result<HttpResponse, ApiError> {
    render(
        state,
        AccountPage::message(title, Some("The form expired. Open the link again."), None),
        StatusCode::FORBIDDEN,
    )
}

/// A refusal of the service as a page: the message the user can act on, the status that says why.
fn failure(
    state: &AppState,
    title: &str,
    e: ServiceError,
    retry: AccountPage<'_>,
) -> Result<HttpResponse, ApiError> {
    let (status, message) = match &e {
        ServiceError::Validation(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ServiceError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
        ServiceError::Gone(m) => (StatusCode::GONE, m.clone()),
        ServiceError::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Wait a while, then try again.".to_owned(),
        ),
        ServiceError::SetupClosed => (StatusCode::CONFLICT, e.to_string()),
        ServiceError::SetupDisabled => (StatusCode::FORBIDDEN, e.to_string()),
        _ => return Err(e.into()),
    };
    // Wrong fields: show the form again; anything else is final.
    let page = if matches!(e, ServiceError::Validation(_) | ServiceError::Conflict(_)) {
        AccountPage {
            error: Some(&message),
            ..retry
        }
    } else {
        AccountPage::message(title, Some(&message), None)
    };
    render(state, page, status)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// A page reached through a one-use link (`?token=`): its form, or a 400 without a token.
struct TokenForm {
    title: &'static str,
    action: &'static str,
    fields: &'static [Field],
    submit: &'static str,
    missing: &'static str,
}

impl TokenForm {
    fn page(&self, state: &AppState, token: Option<&str>) -> Result<HttpResponse, ApiError> {
        match token.filter(|t| !t.is_empty()) {
            None => render(
                state,
                AccountPage::message(self.title, Some(self.missing), None),
                StatusCode::BAD_REQUEST,
            ),
            Some(token) => render(
                state,
                AccountPage::form(self.title, self.action, token, self.fields, self.submit),
                StatusCode::OK,
            ),
        }
    }
}

const REGISTER_FIELDS: [Field; 3] = [USERNAME, EMAIL, NEW_PASSWORD];

/// The registration page of an invite link.
#[utoipa::path(get, path = "/register", tag = "pages", params(("token" = Option<String>, Query, description = "the invite token")),
    responses((status = 200, description = "the form", content_type = "text/html"), (status = 400, description = "no token", content_type = "text/html")))]
pub async fn register_page(
    state: web::Data<AppState>,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let form = TokenForm {
        title: "Create your account",
        action: "/register",
        fields: &REGISTER_FIELDS,
        submit: "Create account",
        missing: "This page needs the invite link you were sent.",
    };
    form.page(&state, q.token.as_deref())
}

/// Creates the account (form post with the page's form token).
#[utoipa::path(post, path = "/register", tag = "pages", request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, description = "created", content_type = "text/html"), (status = 403, description = "form token missing", content_type = "text/html"), (status = 409, description = "username taken", content_type = "text/html"), (status = 410, description = "invite used or expired", content_type = "text/html"), (status = 422, description = "invalid fields", content_type = "text/html"), (status = 429, description = "rate-limited", content_type = "text/html")))]
pub async fn register_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(f): web::Form<AccountForm>,
) -> Result<HttpResponse, ApiError> {
    if !form_token_ok(&req, &f.csrf_token) {
        return csrf_refused(&state, "Create your account");
    }
    let s = &state.services;
    let ip = client_ip(&req, &s.settings.server.trusted_proxies);
    let reg = Registration {
        token: f.token.clone(),
        username: f.username,
        email: Some(f.email).filter(|e| !e.trim().is_empty()),
        password: f.password,
    };
    match s.register(reg, &ip).await {
        Ok(user) => {
            let done = format!("Welcome, {}. Your account is ready.", user.username);
            let page = AccountPage {
                link: Some("/login"),
                ..AccountPage::message("Account created", None, Some(&done))
            };
            render(&state, page, StatusCode::CREATED)
        }
        Err(e) => {
            let retry = AccountPage::form(
                "Create your account",
                "/register",
                &f.token,
                &REGISTER_FIELDS,
                "Create account",
            );
            failure(&state, "Create your account", e, retry)
        }
    }
}

const RESET_FIELDS: [Field; 1] = [NEW_PASSWORD];

/// The page of a password-reset link.
#[utoipa::path(get, path = "/reset-password", tag = "pages", params(("token" = Option<String>, Query, description = "the reset token")),
    responses((status = 200, description = "the form", content_type = "text/html"), (status = 400, description = "no token", content_type = "text/html")))]
pub async fn reset_page(
    state: web::Data<AppState>,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let form = TokenForm {
        title: "Choose a new password",
        action: "/reset-password",
        fields: &RESET_FIELDS,
        submit: "Set password",
        missing: "This page needs the reset link you were sent.",
    };
    form.page(&state, q.token.as_deref())
}

/// Sets the new password (form post with the page's form token).
#[utoipa::path(post, path = "/reset-password", tag = "pages", request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "changed", content_type = "text/html"), (status = 403, description = "form token missing", content_type = "text/html"), (status = 410, description = "link used or expired", content_type = "text/html"), (status = 422, description = "invalid password", content_type = "text/html")))]
pub async fn reset_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(f): web::Form<AccountForm>,
) -> Result<HttpResponse, ApiError> {
    if !form_token_ok(&req, &f.csrf_token) {
        return csrf_refused(&state, "Choose a new password");
    }
    match state.services.reset_password(&f.token, &f.password).await {
        Ok(()) => {
            let page = AccountPage {
                link: Some("/login"),
                ..AccountPage::message(
                    "Password changed",
                    None,
                    Some("Your new password is set; every earlier sign-in has ended."),
                )
            };
            render(&state, page, StatusCode::OK)
        }
        Err(e) => {
            let retry = AccountPage::form(
                "Choose a new password",
                "/reset-password",
                &f.token,
                &RESET_FIELDS,
                "Set password",
            );
            failure(&state, "Choose a new password", e, retry)
        }
    }
}

/// Follows an email-verification link.
#[utoipa::path(get, path = "/verify-email", tag = "pages", params(("token" = Option<String>, Query, description = "the verification token")),
    responses((status = 200, description = "confirmed", content_type = "text/html"), (status = 410, description = "link used or expired", content_type = "text/html")))]
pub async fn verify_email(
    state: web::Data<AppState>,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = q.token.as_deref().unwrap_or("");
    match state.services.confirm_email(token).await {
        Ok(()) => render(
            &state,
            AccountPage::message(
                "Email confirmed",
                None,
                Some("Thank you: your email address is confirmed."),
            ),
            StatusCode::OK,
        ),
        Err(e) => {
            let retry = AccountPage::message("Confirm your email", None, None);
            failure(&state, "Confirm your email", e, retry)
        }
    }
}

const SETUP_FIELDS: [Field; 3] = [USERNAME, EMAIL, NEW_PASSWORD];

/// The first-admin page: a form only while no admin exists; closed (409) or disabled (403) otherwise.
#[utoipa::path(get, path = "/setup", tag = "pages",
    responses((status = 200, description = "the form", content_type = "text/html"), (status = 403, description = "setup disabled", content_type = "text/html"), (status = 409, description = "setup closed", content_type = "text/html")))]
pub async fn setup_page(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    if s.settings.setup.disabled {
        return failure(
            &state,
            "Set up Tessera",
            ServiceError::SetupDisabled,
            AccountPage::message("", None, None),
        );
    }
    if !s.needs_setup().await? {
        return failure(
            &state,
            "Set up Tessera",
            ServiceError::SetupClosed,
            AccountPage::message("", None, None),
        );
    }
    let page = AccountPage::form(
        "Create the first administrator",
        "/setup",
        "",
        &SETUP_FIELDS,
        "Create administrator",
    );
    render(&state, page, StatusCode::OK)
}

/// Creates the first admin (form post with the page's form token).
#[utoipa::path(post, path = "/setup", tag = "pages", request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, description = "created", content_type = "text/html"), (status = 403, description = "form token missing or setup disabled", content_type = "text/html"), (status = 409, description = "setup closed", content_type = "text/html"), (status = 422, description = "invalid fields", content_type = "text/html")))]
pub async fn setup_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(f): web::Form<AccountForm>,
) -> Result<HttpResponse, ApiError> {
    if !form_token_ok(&req, &f.csrf_token) {
        return csrf_refused(&state, "Set up Tessera");
    }
    let email = Some(f.email).filter(|e| !e.trim().is_empty());
    match state
        .services
        .create_first_admin(f.username, f.password, email)
        .await
    {
        Ok(user) => {
            let done = format!("{} is the administrator. Sign in to continue.", user.username);
            let page = AccountPage {
                link: Some("/login"),
                ..AccountPage::message("Tessera is set up", None, Some(&done))
            };
            render(&state, page, StatusCode::CREATED)
        }
        Err(e) => {
            let retry = AccountPage::form(
                "Create the first administrator",
                "/setup",
                "",
                &SETUP_FIELDS,
                "Create administrator",
            );
            failure(&state, "Set up Tessera", e, retry)
        }
    }
}
