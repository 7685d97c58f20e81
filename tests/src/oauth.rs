//! OAuth helpers for tests: users, logins, refreshes, introspection, error assertions.

use reqwest::StatusCode;
use serde_json::Value;
use tessera_core::Role;
use tessera_service::users::NewAccount;

use crate::TestApp;

pub const PASSWORD: &str = "correct horse battery";

/// A successful token response.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub body: Value,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub async fn create_user(&self, username: &str, role: Role) -> i64 {
        self.services
            .create_user(NewAccount {
                username: username.into(),
                password: PASSWORD.into(),
                email: Some(format!("{username}@example.com")),
                role,
            })
            .await
            .expect("create user")
            .id
    }

    pub fn service_key(&self) -> String {
        use secrecy::ExposeSecret;
        match &self.services.settings.auth.service_key {
            Some(k) => k.expose_secret().to_owned(),
            None => {
                let path = self.services.settings.server.data_dir.join("service-key");
                std::fs::read_to_string(path)
                    .expect("service key")
                    .trim()
                    .to_owned()
            }
        }
    }

    pub async fn token_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// A password login through `/oauth/token` as the built-in client; panics unless it succeeds.
    pub async fn password_login(&self, username: &str, scope: Option<&str>) -> Tokens {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", PASSWORD),
        ];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let res = self.token_form("/oauth/token", &form).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "login failed: {:?}",
            res.text().await
        );
        Tokens::from_body(res.json().await.expect("json"))
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token_form(
            "/oauth/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
        )
        .await
    }

    /// Introspects with the service key.
    pub async fn introspect(&self, token: &str) -> Value {
        let res = self
            .client
            .post(self.url("/oauth/introspect"))
            .header("x-tessera-key", self.service_key())
            .form(&[("token", token)])
            .send()
            .await
            .expect("introspect");
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("json")
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }
}

impl Tokens {
    pub fn from_body(body: Value) -> Self {
        Self {
            access_token: body["access_token"].as_str().expect("access_token").to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap_or_default().to_owned(),
            body,
        }
    }
}

/// Asserts an RFC 6749 error response and returns its body.
pub async fn assert_oauth_error(res: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["cache-control"], "no-store");
    if status == StatusCode::UNAUTHORIZED {
        assert!(res.headers().contains_key("www-authenticate"));
    }
    let body: Value = res.json().await.expect("json error");
    assert_eq!(body["error"], code, "{body}");
    body
}

/// Decodes a JWT's header and claims without verifying (tests look inside).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    use base64::Engine;
    let mut parts = token.split('.');
    let mut next = || -> Value {
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts.next().expect("part"))
            .expect("base64");
        serde_json::from_slice(&b).expect("json")
    };
    let header = next();
    (header, next())
}

/// A browser's session: the cookie value and its CSRF token.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub cookie: String,
    pub csrf: String,
}

/// The value a response sets for cookie `name`, if any.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
}

impl TestApp {
    /// A JSON request with a Bearer token.
    pub async fn bearer_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    /// Signs in through `/api/auth/login` and returns the session cookie and CSRF token.
    pub async fn session_login(&self, username: &str) -> BrowserSession {
        let res = self
            .post_json(
                "/api/auth/login",
                &serde_json::json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = set_cookie(&res, "tessera_session").expect("session cookie");
        let csrf_cookie = set_cookie(&res, "tessera_csrf").expect("csrf cookie");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["csrf_token"], csrf_cookie.as_str());
        BrowserSession {
            cookie,
            csrf: csrf_cookie,
        }
    }

    /// A request carrying the session cookie (and, when `csrf`, its token).
    pub fn with_session(
        &self,
        rb: reqwest::RequestBuilder,
        s: &BrowserSession,
        csrf: bool,
    ) -> reqwest::RequestBuilder {
        let rb = rb.header("cookie", format!("tessera_session={}", s.cookie));
        if csrf {
            rb.header("x-csrf-token", &s.csrf)
        } else {
            rb
        }
    }
}
