//! `GET|POST /login` and `POST /logout`. The form carries its own token (a random value also set as a
//! cookie), so a cross-site form cannot sign a victim in; `rd` may only point back to `public_url`.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use tessera_service::second_factor::{PendingSignIn, SecondFactorStatus};

use crate::cookies::{logout_cookies, session_cookie};
use crate::error::ApiError;
use crate::AppState;

const FORM_COOKIE: &str = "tessera_login_form";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    rd: &'a str,
    error: Option<&'a str>,
    password_login: bool,
    signed_in_as: Option<String>,
    oidc_provider: Option<String>,
    /// Asked to sign in again (an app's `prompt=login` or `max_age`): the form shows even when signed in.
    reauth: bool,
    username_hint: &'a str,
    /// The second step: the password was right, the code is asked.
    code_step: bool,
    /// The enrolment step of a user who must have a second factor.
    enrol: Option<EnrolView>,
    /// Shown once, right after an enrolment on this page.
    recovery_codes: Vec<String>,
    /// The "Sign in with a passkey" button (passkeys work with this `public_url`).
    passkeys: bool,
    /// The second step asks for a TOTP or recovery code.
    totp_step: bool,
    /// The second step offers the user's passkeys.
    passkey_step: bool,
}

impl<'a> LoginPage<'a> {
    /// A page with nothing shown but what the caller sets.
    fn blank(csrf: &'a str, rd: &'a str) -> Self {
        LoginPage {
            csrf,
            rd,
            error: None,
            password_login: true,
            signed_in_as: None,
            oidc_provider: None,
            reauth: false,
            username_hint: "",
            code_step: false,
            enrol: None,
            recovery_codes: Vec::new(),
            passkeys: false,
            totp_step: false,
            passkey_step: false,
        }
    }
}

struct EnrolView {
    secret: String,
    qr_svg: String,
}

#[derive(Deserialize)]
pub struct RdQuery {
    rd: Option<String>,
    reauth: Option<String>,
    login_hint: Option<String>,
}

/// Where a sign-in that returns to `/oauth/authorize` finally lands: the app's redirect URI's origin.
fn app_origin(rd: &str) -> Option<String> {
    let query = rd.strip_prefix("/oauth/authorize?")?;
    let uri = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())?;
    let origin = url::Url::parse(&uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    rd: Option<String>,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf_token: String,
}

/// The return URL: Tessera's own origin or a forward-auth host (`tessera_service::redirects`), "" when
/// absent or elsewhere; control characters or a backslash are a 400 before anything is written.
pub(crate) fn safe_rd(state: &AppState, rd: Option<&str>) -> Result<String, ApiError> {
    let s = &state.services.settings;
    tessera_service::redirects::safe_redirect(
        &s.server.public_url,
        &s.forward_auth.allowed_redirect_hosts,
        rd,
    )
    .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))
}

fn render(
    state: &AppState,
    page: &LoginPage<'_>,
    status: StatusCode,
    form_token: &str,
) -> Result<HttpResponse, ApiError> {
    let html = page.render().map_err(|e| ApiError::internal(&e))?;
    let origin = app_origin(page.rd);
    Ok(super::form_page_to(
        state,
        status,
        FORM_COOKIE,
        form_token,
        html,
        origin.as_deref(),
    ))
}

pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<RdQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let signed_in_as = match session_cookie(&req, &state.services.settings.session) {
        Some(c) => s
            .resolve_session(c)
            .await
            .ok()
            .and_then(|id| id.principal.map(|p| p.username.clone())),
        None => None,
    };
    let session_csrf = session_cookie(&req, &state.services.settings.session).map(|c| s.csrf_token(c));
    let form_token = tessera_crypto::random::hex_secret(16);
    let rd = safe_rd(&state, q.rd.as_deref())?;
    let reauth = q.reauth.is_some();
    let signed_in_as = signed_in_as.filter(|_| !reauth);
    let signed_in = signed_in_as.clone();
    let hint: String = q
        .login_hint
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    let page = LoginPage {
        password_login: s.settings.auth.password_login,
        oidc_provider: s.settings.oidc.as_ref().map(|o| o.provider_name.clone()),
        signed_in_as,
        reauth,
        username_hint: &hint,
        passkeys: s.passkeys_available(),
        ..LoginPage::blank(
            session_csrf
                .as_deref()
                .filter(|_| signed_in.is_some())
                .unwrap_or(&form_token),
            &rd,
        )
    };
    render(&state, &page, StatusCode::OK, &form_token)
}

/// The sign-in form's own token: the cookie set with the page must come back in the form.
fn check_form_token(req: &HttpRequest, presented: &str) -> Result<(), ApiError> {
    let expected = req
        .cookie(FORM_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !tessera_crypto::ct_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the sign-in form expired; reload the page",
        ));
    }
    Ok(())
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    check_form_token(&req, &form.csrf_token)?;
    let rd = safe_rd(&state, form.rd.as_deref())?;
    let ip = crate::client_ip::client_ip(&req, &s.settings.server.trusted_proxies);
    match s
        .verify_login(
            &form.username,
            &form.password,
            tessera_service::login::SecondFactor::Later,
            "login page",
            &ip,
        )
        .await
    {
        Ok(user) => {
            let pending = PendingSignIn {
                user_id: user.id,
                rd,
                oidc_id_token: None,
                enrol: false,
            };
            after_first_factor(&state, &req, pending).await
        }
        Err(tessera_service::login::LoginFailure::Service(e)) => Err(e.into()),
        Err(e) => {
            let status = match e {
                tessera_service::login::LoginFailure::PasswordLoginDisabled => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            let msg = e.to_string();
            let form_token = tessera_crypto::random::hex_secret(16);
            let page = LoginPage {
                error: Some(&msg),
                password_login: s.settings.auth.password_login,
                oidc_provider: s.settings.oidc.as_ref().map(|o| o.provider_name.clone()),
                passkeys: s.passkeys_available(),
                ..LoginPage::blank(&form_token, &rd)
            };
            render(&state, &page, status, &form_token)
        }
    }
}

const PENDING_COOKIE: &str = "tessera_mfa";

/// After the password (or an upstream sign-in): a session at once, or first the code of a user with a
/// second factor, or first the enrolment of a user who must have one and has none.
pub(crate) async fn after_first_factor(
    state: &AppState,
    req: &HttpRequest,
    mut pending: PendingSignIn,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let user_id = pending.user_id;
    let factors = s.second_factor_status(user_id).await?;
    if factors.any() {
        return code_step(state, &pending, factors).await;
    }
    if s.enrolment_missing_for(user_id).await? {
        pending.enrol = true;
        return enrol_step(state, &pending).await;
    }
    let mut res = HttpResponse::SeeOther();
    crate::handlers::auth::start_session(state, req, user_id, &mut res, pending.oidc_id_token).await?;
    // Without a return address, a person lands on their account page (issue 22).
    let target = if pending.rd.is_empty() {
        "/account".to_owned()
    } else {
        pending.rd
    };
    Ok(res.insert_header((header::LOCATION, target)).finish())
}

/// The enrolment step: the authenticator's secret and QR code, and a field for its first code.
async fn enrol_step(state: &AppState, pending: &PendingSignIn) -> Result<HttpResponse, ApiError> {
    let enrolment = state.services.begin_parked_enrolment(pending.user_id).await?;
    let qr = qrcode::QrCode::new(enrolment.otpauth_uri.as_bytes()).map_err(|e| ApiError::internal(&e))?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let token = state.services.park_sign_in(pending).await?;
    let form_token = tessera_crypto::random::hex_secret(16);
    let page = LoginPage {
        enrol: Some(EnrolView {
            secret: enrolment.secret,
            qr_svg: svg,
        }),
        ..LoginPage::blank(&form_token, &pending.rd)
    };
    let mut res = render(state, &page, StatusCode::OK, &form_token)?;
    res.add_cookie(&pending_cookie(state, token))
        .map_err(|e| ApiError::internal(&e))?;
    Ok(res)
}

fn pending_cookie(state: &AppState, token: String) -> actix_web::cookie::Cookie<'static> {
    let mut cookie = actix_web::cookie::Cookie::build(PENDING_COOKIE, token)
        .path("/login")
        .http_only(true)
        .secure(state.services.settings.session.cookie_secure)
        .same_site(actix_web::cookie::SameSite::Strict)
        .finish();
    cookie.set_max_age(actix_web::cookie::time::Duration::minutes(5));
    cookie
}

/// The wait is over: the session starts, the wait's cookie goes, and the sign-in's return address.
async fn start_after_wait(
    state: &AppState,
    req: &HttpRequest,
    res: &mut actix_web::HttpResponseBuilder,
    pending: PendingSignIn,
) -> Result<String, ApiError> {
    crate::handlers::auth::start_session(state, req, pending.user_id, res, pending.oidc_id_token).await?;
    let mut gone = actix_web::cookie::Cookie::build(PENDING_COOKIE, "")
        .path("/login")
        .finish();
    gone.make_removal();
    res.cookie(gone);
    Ok(if pending.rd.is_empty() {
        "/account".to_owned()
    } else {
        pending.rd
    })
}

/// A second step's form: its token checked, then the wait's cookie and the client's address — or, with
/// no wait (expired, used, another browser), back to the start.
fn waiting(
    state: &AppState,
    req: &HttpRequest,
    form: &CodeForm,
) -> Result<Result<(String, String), HttpResponse>, ApiError> {
    check_form_token(req, &form.csrf_token)?;
    let Some(token) = req.cookie(PENDING_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(Err(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login"))
            .finish()));
    };
    let ip = crate::client_ip::client_ip(req, &state.services.settings.server.trusted_proxies);
    Ok(Ok((token, ip)))
}

/// `POST /login/enrol`: the first code of the new authenticator. Right: TOTP is on, the session starts,
/// and the recovery codes are shown once. Wrong: the form again (charged to the login budget).
pub async fn submit_enrol(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<CodeForm>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let (token, ip) = match waiting(&state, &req, &form)? {
        Ok(v) => v,
        Err(start_again) => return Ok(start_again),
    };
    match s.finish_parked_enrolment(&token, &form.otp, &ip).await {
        Ok((pending, codes)) => {
            let mut res = HttpResponse::Ok();
            let target = start_after_wait(&state, &req, &mut res, pending).await?;
            let page = LoginPage {
                recovery_codes: codes,
                ..LoginPage::blank("", &target)
            };
            let html = page.render().map_err(|e| ApiError::internal(&e))?;
            Ok(res
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((
                    "content-security-policy",
                    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
                ))
                .insert_header(("x-frame-options", "DENY"))
                .content_type(actix_web::http::header::ContentType::html())
                .body(html))
        }
        Err(tessera_service::login::LoginFailure::BadSecondFactor) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "that code is not right; go back and try the authenticator's next one",
        )),
        Err(tessera_service::login::LoginFailure::Service(e)) => Err(e.into()),
        Err(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login"))
            .finish()),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf_token: String,
    otp: String,
}

/// Parks a sign-in and shows the code form: the wait's token goes into an HttpOnly, SameSite=Strict
/// cookie scoped to `/login`, never into the page or a URL.
async fn code_step(
    state: &AppState,
    pending: &PendingSignIn,
    factors: SecondFactorStatus,
) -> Result<HttpResponse, ApiError> {
    let token = state.services.park_sign_in(pending).await?;
    let mut res = code_page(state, &pending.rd, None, factors, StatusCode::OK)?;
    res.add_cookie(&pending_cookie(state, token))
        .map_err(|e| ApiError::internal(&e))?;
    Ok(res)
}

fn code_page(
    state: &AppState,
    rd: &str,
    error: Option<&str>,
    factors: SecondFactorStatus,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let form_token = tessera_crypto::random::hex_secret(16);
    let page = LoginPage {
        error,
        code_step: true,
        totp_step: factors.totp,
        passkey_step: factors.passkeys > 0,
        ..LoginPage::blank(&form_token, rd)
    };
    render(state, &page, status, &form_token)
}

/// `POST /login/code`: the second step. A right code starts the session and goes on to `rd`; a wrong one
/// shows the form again (the wait stays, charged to the login budget).
pub async fn submit_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<CodeForm>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let (token, ip) = match waiting(&state, &req, &form)? {
        Ok(v) => v,
        Err(start_again) => return Ok(start_again),
    };
    match s.finish_sign_in(&token, &form.otp, &ip).await {
        Ok(pending) => {
            let mut res = HttpResponse::SeeOther();
            let target = start_after_wait(&state, &req, &mut res, pending).await?;
            Ok(res.insert_header((header::LOCATION, target)).finish())
        }
        Err(tessera_service::login::LoginFailure::BadSecondFactor) => code_page(
            &state,
            "",
            Some("That code is not right, or was used already. Try the next one."),
            // Only a person with TOTP is sent to this form.
            SecondFactorStatus {
                totp: true,
                ..Default::default()
            },
            StatusCode::UNAUTHORIZED,
        ),
        Err(tessera_service::login::LoginFailure::Service(e)) => Err(e.into()),
        // The wait expired or was used: start again.
        Err(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login"))
            .finish()),
    }
}

/// The sign-out button: checks the session's CSRF token from the form field.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<LogoutForm>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    if let Some(c) = session_cookie(&req, &state.services.settings.session) {
        if !s.csrf_matches(c, &form.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong CSRF token",
            ));
        }
        s.end_session(c).await?;
    }
    let mut res = HttpResponse::SeeOther();
    for c in logout_cookies(&s.settings.session) {
        res.cookie(c);
    }
    Ok(res.insert_header((header::LOCATION, "/login")).finish())
}

#[derive(Deserialize)]
pub struct PasskeyOptionsBody {
    /// The passkey step after a password (the wait's cookie says whose); else a discoverable sign-in.
    #[serde(default)]
    second: bool,
}

/// `POST /login/passkey/options`: a challenge for `navigator.credentials.get()` (JSON). Starting one
/// proves nothing and stores a challenge, so starts are budgeted per client address.
pub async fn passkey_options(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Json(body): web::Json<PasskeyOptionsBody>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let ip = crate::client_ip::client_ip(&req, &s.settings.server.trusted_proxies);
    let ceremony = if body.second {
        let expired = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this sign-in expired; start again",
            )
        };
        let token = req.cookie(PENDING_COOKIE).ok_or_else(expired)?;
        match s.begin_passkey_second_step(token.value(), &ip).await {
            Ok(c) => c,
            Err(tessera_service::login::LoginFailure::Service(e)) => return Err(e.into()),
            Err(_) => return Err(expired()),
        }
    } else {
        s.begin_passkey_sign_in(&ip).await?
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "challenge_id": ceremony.challenge_id,
            "options": ceremony.options,
        })))
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    csrf_token: String,
    challenge_id: String,
    credential: String,
    rd: Option<String>,
}

/// `POST /login/passkey`: the authenticator's answer, posted by the page's form. Accepted: the session
/// starts and the browser goes on; refused: the sign-in page again, with the reason in words.
pub async fn submit_passkey(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Form(form): web::Form<PasskeyForm>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    check_form_token(&req, &form.csrf_token)?;
    let rd = safe_rd(&state, form.rd.as_deref())?;
    let ip = crate::client_ip::client_ip(&req, &s.settings.server.trusted_proxies);
    let wait = req.cookie(PENDING_COOKIE).map(|c| c.value().to_owned());
    match s
        .finish_passkey_sign_in(
            &form.challenge_id,
            &form.credential,
            wait.as_deref(),
            rd.clone(),
            &ip,
        )
        .await
    {
        Ok(pending) => {
            let mut res = HttpResponse::SeeOther();
            let target = start_after_wait(&state, &req, &mut res, pending).await?;
            Ok(res.insert_header((header::LOCATION, target)).finish())
        }
        Err(tessera_service::login::LoginFailure::Service(e)) => Err(e.into()),
        Err(_) => {
            let form_token = tessera_crypto::random::hex_secret(16);
            let page = LoginPage {
                error: Some("That passkey was not accepted. Try again, or sign in with your password."),
                password_login: s.settings.auth.password_login,
                oidc_provider: s.settings.oidc.as_ref().map(|o| o.provider_name.clone()),
                passkeys: s.passkeys_available(),
                ..LoginPage::blank(&form_token, &rd)
            };
            render(&state, &page, StatusCode::UNAUTHORIZED, &form_token)
        }
    }
}
