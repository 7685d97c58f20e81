//! Tessera as the OpenID Provider of the apps behind it (issue 20): authorize, consent, the code grant with
//! PKCE, ID tokens, consents, RP-initiated logout, on both databases and across two replicas. The browser
//! and relying-party-library runs are in `openid_provider_browser`.

use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_service::oauth::authorize::s256;
use tessera_service::oauth::clients::{ClientSpec, SignInSettings};
use tessera_tests::oauth::{assert_oauth_error, jwt_parts, BrowserSession};
use tessera_tests::{both_backends, TestApp};

const CALLBACK: &str = "https://photos.example/oauth/callback";
const BYE: &str = "https://photos.example/bye";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-entropy";

/// Registers a public app that signs people in with the code grant.
async fn photos_app(app: &TestApp, scopes: &[&str], skip_consent: bool) {
    app.services
        .create_client(
            ClientSpec {
                client_id: Some("photos".into()),
                name: "Photo gallery".into(),
                confidential: false,
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                can_introspect: false,
                sign_in: SignInSettings {
                    redirect_uris: vec![CALLBACK.into()],
                    post_logout_redirect_uris: vec![BYE.into()],
                    skip_consent,
                    ..Default::default()
                },
            },
            "test",
            app.services.catalog.all(),
        )
        .await
        .expect("client created");
}

/// A client that never follows redirects: the tests read every `Location`.
fn browser_like() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn authorize_query(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), "photos".into()),
        ("redirect_uri".into(), CALLBACK.into()),
        (
            "scope".into(),
            "openid profile email offline_access roms.read".into(),
        ),
        ("state".into(), "st-1".into()),
        ("nonce".into(), "n-0S6_WzA2Mj".into()),
        ("code_challenge".into(), s256(VERIFIER)),
        ("code_challenge_method".into(), "S256".into()),
    ];
    for (k, v) in extra {
        q.retain(|(name, _)| name != k);
        if !v.is_empty() {
            q.push(((*k).into(), (*v).into()));
        }
    }
    q
}

async fn authorize(
    app: &TestApp,
    session: Option<&BrowserSession>,
    q: &[(String, String)],
) -> reqwest::Response {
    let mut rb = browser_like().get(app.url("/oauth/authorize")).query(q);
    if let Some(s) = session {
        rb = rb.header("cookie", format!("tessera_session={}", s.cookie));
    }
    rb.send().await.unwrap()
}

/// The consent page's answer, as the form sends it.
async fn answer(
    app: &TestApp,
    session: &BrowserSession,
    q: &[(String, String)],
    csrf: &str,
    action: &str,
) -> reqwest::Response {
    let mut form = q.to_vec();
    form.push(("csrf_token".into(), csrf.into()));
    form.push(("action".into(), action.into()));
    browser_like()
        .post(app.url("/oauth/authorize"))
        .header("cookie", format!("tessera_session={}", session.cookie))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn location(res: &reqwest::Response) -> url::Url {
    let loc = res.headers().get(LOCATION).expect("a redirect").to_str().unwrap();
    url::Url::parse(loc).unwrap_or_else(|_| {
        url::Url::parse("http://tessera.invalid")
            .unwrap()
            .join(loc)
            .unwrap()
    })
}

fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The consent form's CSRF field, read off the page.
fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("csrf field") + 25;
    html[at..].split('"').next().unwrap().to_owned()
}

/// Signs in, consents, and returns the code from the redirect.
async fn code_after_consent(app: &TestApp, session: &BrowserSession, q: &[(String, String)]) -> String {
    let res = authorize(app, Some(session), q).await;
    assert_eq!(res.status(), StatusCode::OK, "the consent page");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("form-action 'self' https://photos.example;"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Photo gallery") && html.contains("Know who you are"),
        "{html}"
    );
    let back = answer(app, session, q, &csrf_field(&html), "approve").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let to = location(&back);
    assert!(to.as_str().starts_with(CALLBACK), "{to}");
    assert_eq!(
        param(&to, "iss").as_deref(),
        Some(app.base.as_str()),
        "RFC 9207 iss"
    );
    param(&to, "code").expect("a code")
}

async fn redeem(app: &TestApp, code: &str, verifier: &str) -> reqwest::Response {
    app.token_form(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
            ("client_id", "photos"),
        ],
    )
    .await
}

both_backends! {
    async fn a_person_signs_in_to_an_app_with_code_and_pkce(app: TestApp) {
        let uid = app.create_user("ada", Role::User).await;
        photos_app(&app, &["me.read", "roms.read"], false).await;
        let session = app.session_login("ada").await;
        let q = authorize_query(&[]);
        let code = code_after_consent(&app, &session, &q).await;
        let res = redeem(&app, &code, VERIFIER).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["scope"], "openid profile email offline_access me.read roms.read", "openid brings me.read for userinfo");
        assert!(body["refresh_token"].is_string(), "offline_access gives a refresh token");
        let id_token = body["id_token"].as_str().expect("an ID token");
        let (header, claims) = jwt_parts(id_token);
        assert_eq!(header["typ"], "JWT");
        assert_eq!(claims["iss"], app.base.as_str());
        assert_eq!(claims["aud"], "photos");
        assert_eq!(claims["sub"], uid.to_string());
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["preferred_username"], "ada");
        assert_eq!(claims["email"], "ada@example.com");
        assert!(claims["sid"].is_string() && claims["auth_time"].is_i64());
        assert!(claims.get("groups").is_none(), "groups only with the groups scope");
        let alg = tessera_crypto::jwt::SigningAlg::parse(header["alg"].as_str().unwrap()).unwrap();
        let access = body["access_token"].as_str().unwrap();
        assert_eq!(claims["at_hash"], tessera_service::oauth::id_token::at_hash(alg, access));
        // The access token works; the ID token is not an access token.
        let me: Value = app.get_bearer("/oauth/userinfo", access).await.json().await.unwrap();
        assert_eq!(me, json!({"sub": uid.to_string(), "preferred_username": "ada", "name": "ada",
            "email": "ada@example.com", "email_verified": false}), "claims of the asked scopes only");
        assert_eq!(app.get_bearer("/oauth/userinfo", id_token).await.status(), StatusCode::UNAUTHORIZED);
        // The refresh token rotates as any other.
        let refreshed = app.token_form("/oauth/token", &[("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()), ("client_id", "photos")]).await;
        assert_eq!(refreshed.status(), StatusCode::OK);
        let refreshed: Value = refreshed.json().await.unwrap();
        let me_again: Value = app.get_bearer("/oauth/userinfo", refreshed["access_token"].as_str().unwrap())
            .await.json().await.unwrap();
        assert_eq!(me_again, me, "a refreshed token answers for the same OpenID scopes");
        // Consent is remembered: the next sign-in goes straight back with a code.
        let again = authorize(&app, Some(&session), &q).await;
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert!(param(&location(&again), "code").is_some());
        // prompt=consent asks anyway.
        let asked = authorize(&app, Some(&session), &authorize_query(&[("prompt", "consent")])).await;
        assert_eq!(asked.status(), StatusCode::OK);
        // The person sees and withdraws the consent; the app has to ask again.
        let listed: Value = app.with_session(app.client.get(app.url("/api/users/me/consents")), &session, false)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(listed[0]["client_id"], "photos");
        assert_eq!(listed[0]["client_name"], "Photo gallery");
        let revoked = app.with_session(app.client.delete(app.url("/api/users/me/consents/photos")), &session, true)
            .send().await.unwrap();
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
        assert_eq!(authorize(&app, Some(&session), &q).await.status(), StatusCode::OK);
        // The same on the page: /account/apps lists the app and its form removes it.
        let code = code_after_consent(&app, &session, &q).await;
        assert_eq!(redeem(&app, &code, VERIFIER).await.status(), StatusCode::OK);
        let page = browser_like().get(app.url("/account/apps")).header("cookie", format!("tessera_session={}", session.cookie))
            .send().await.unwrap();
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("Photo gallery"), "{html}");
        let remove = |csrf: String| browser_like().post(app.url("/account/apps/revoke"))
            .header("cookie", format!("tessera_session={}", session.cookie))
            .form(&[("csrf_token", csrf), ("client_id", "photos".to_owned())]).send();
        assert_eq!(remove("forged".into()).await.unwrap().status(), StatusCode::FORBIDDEN);
        let done = remove(csrf_field(&html)).await.unwrap();
        assert_eq!(done.status(), StatusCode::OK);
        assert!(done.text().await.unwrap().contains("id=\"none\""), "the list is empty now");
        let signed_out = browser_like().get(app.url("/account/apps")).send().await.unwrap();
        assert_eq!(location(&signed_out).path(), "/login");
        // Without offline_access there is no refresh token; without a nonce none is made up.
        let code = code_after_consent(&app, &session, &authorize_query(&[("scope", "openid roms.read"), ("nonce", "")])).await;
        let body: Value = redeem(&app, &code, VERIFIER).await.json().await.unwrap();
        assert!(body.get("refresh_token").is_none(), "{body}");
        let (_, claims) = jwt_parts(body["id_token"].as_str().unwrap());
        assert!(claims.get("nonce").is_none() && claims.get("email").is_none(), "{claims}");
        // Discovery advertises all of it.
        let d: Value = app.get("/.well-known/openid-configuration").await.json().await.unwrap();
        assert_eq!(d["authorization_endpoint"], format!("{}/oauth/authorize", app.base));
        assert_eq!(d["end_session_endpoint"], format!("{}/oauth/end_session", app.base));
        assert_eq!(d["response_types_supported"], json!(["code"]));
        assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
        assert!(d["grant_types_supported"].as_array().unwrap().contains(&json!("authorization_code")));
    }

    async fn a_code_is_one_use_and_its_replay_revokes_what_it_issued(app: TestApp) {
        app.create_user("ada", Role::User).await;
        photos_app(&app, &["me.read", "roms.read"], true).await;
        let session = app.session_login("ada").await;
        // A trusted first-party app skips the consent page.
        let res = authorize(&app, Some(&session), &authorize_query(&[])).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
        let code = param(&to, "code").unwrap();
        // A wrong verifier or redirect URI is refused without consuming the code.
        assert_oauth_error(redeem(&app, &code, &"x".repeat(43)).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let wrong_uri = app.token_form("/oauth/token", &[("grant_type", "authorization_code"), ("code", &code),
            ("redirect_uri", "https://photos.example/other"), ("code_verifier", VERIFIER), ("client_id", "photos")]).await;
        assert_oauth_error(wrong_uri, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let no_verifier = app.token_form("/oauth/token", &[("grant_type", "authorization_code"), ("code", &code),
            ("redirect_uri", CALLBACK), ("client_id", "photos")]).await;
        assert_oauth_error(no_verifier, StatusCode::BAD_REQUEST, "invalid_grant").await;
        // Another client cannot redeem it.
        let other = app.token_form("/oauth/token", &[("grant_type", "authorization_code"), ("code", &code),
            ("redirect_uri", CALLBACK), ("code_verifier", VERIFIER)]).await;
        assert_oauth_error(other, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        let body: Value = redeem(&app, &code, VERIFIER).await.json().await.unwrap();
        let access = body["access_token"].as_str().unwrap().to_owned();
        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
        assert_eq!(app.get_bearer("/oauth/userinfo", &access).await.status(), StatusCode::OK);
        // The second use fails and revokes what the first issued.
        assert_oauth_error(redeem(&app, &code, VERIFIER).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
        assert_eq!(app.get_bearer("/oauth/userinfo", &access).await.status(), StatusCode::UNAUTHORIZED);
        let r = app.token_form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", "photos")]).await;
        assert_oauth_error(r, StatusCode::BAD_REQUEST, "invalid_grant").await;
        // An expired code is refused.
        let code = param(&location(&authorize(&app, Some(&session), &authorize_query(&[])).await), "code").unwrap();
        app.clock.advance(std::time::Duration::from_secs(tessera_service::oauth::authorize::CODE_LIFETIME_SECS as u64 + 1));
        assert_oauth_error(redeem(&app, &code, VERIFIER).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let audit = app.services.db.run(|c| tessera_db::models::audit_events::AuditEvent::recent(c, 200)).await.unwrap();
        assert!(audit.iter().any(|e| e.kind == "authorization_code.replayed"));
    }

    async fn bad_authorization_requests_are_answered_where_the_specs_say(app: TestApp) {
        app.create_user("ada", Role::User).await;
        photos_app(&app, &["me.read", "roms.read"], false).await;
        // About the client or the redirect URI: a page, never a redirect.
        for bad in [&[("redirect_uri", "https://evil.example/cb")][..], &[("redirect_uri", "https://photos.example/oauth/callback/")],
                    &[("client_id", "nobody")], &[("redirect_uri", "")]] {
            let res = authorize(&app, None, &authorize_query(bad)).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad:?}");
            assert!(res.headers().get(LOCATION).is_none());
            assert!(res.text().await.unwrap().contains("This sign-in cannot continue"));
        }
        // Anything else goes back to the app with state and iss.
        let cases: [(&[(&str, &str)], &str); 7] = [
            (&[("code_challenge_method", "plain")], "invalid_request"),
            (&[("code_challenge", ""), ("code_challenge_method", "")], "invalid_request"),
            (&[("response_type", "token")], "unsupported_response_type"),
            (&[("response_type", "code id_token")], "unsupported_response_type"),
            (&[("scope", "openid launch.missiles")], "invalid_scope"),
            (&[("prompt", "none")], "login_required"),
            (&[("prompt", "none login")], "invalid_request"),
        ];
        for (extra, error) in cases {
            let res = authorize(&app, None, &authorize_query(extra)).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{extra:?}");
            let to = location(&res);
            assert!(to.as_str().starts_with(CALLBACK), "{to}");
            assert_eq!(param(&to, "error").as_deref(), Some(error), "{extra:?}");
            assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
            assert_eq!(param(&to, "iss").as_deref(), Some(app.base.as_str()));
        }
        // No session: off to the sign-in page, which comes back here.
        let res = authorize(&app, None, &authorize_query(&[("login_hint", "ada")])).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert_eq!(to.path(), "/login");
        assert!(param(&to, "rd").unwrap().starts_with("/oauth/authorize?"));
        let login_page = app.get(&format!("{}?{}", to.path(), to.query().unwrap())).await;
        let csp = login_page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("form-action 'self' https://photos.example;"), "{csp}");
        assert!(login_page.text().await.unwrap().contains("value=\"ada\""), "login_hint fills the username");
        // The consent form needs the session's CSRF token; a denial goes back as access_denied.
        let session = app.session_login("ada").await;
        let q = authorize_query(&[]);
        let forged = answer(&app, &session, &q, "forged", "approve").await;
        assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
        assert!(forged.headers().get(LOCATION).is_none());
        let html = authorize(&app, Some(&session), &q).await.text().await.unwrap();
        let denied = answer(&app, &session, &q, &csrf_field(&html), "deny").await;
        assert_eq!(param(&location(&denied), "error").as_deref(), Some("access_denied"));
        // With a session but no consent, prompt=none is consent_required.
        let res = authorize(&app, Some(&session), &authorize_query(&[("prompt", "none")])).await;
        assert_eq!(param(&location(&res), "error").as_deref(), Some("consent_required"));
        // A code grant for a client registered without redirect URIs is refused at registration.
        let err = app.services.create_client(ClientSpec { client_id: Some("nouris".into()), name: "x".into(), confidential: false,
            grant_types: vec!["authorization_code".into()], scopes: vec![], can_introspect: false, sign_in: SignInSettings::default() },
            "test", app.services.catalog.all()).await.unwrap_err();
        assert!(matches!(err, tessera_service::ServiceError::Validation(ref v) if v[0].field == "redirect_uris"), "{err:?}");
        let err = app.services.create_client(ClientSpec { client_id: Some("frag".into()), name: "x".into(), confidential: false,
            grant_types: vec!["authorization_code".into()], scopes: vec![], can_introspect: false,
            sign_in: SignInSettings { redirect_uris: vec!["https://a.example/cb#x".into()], ..Default::default() } },
            "test", app.services.catalog.all()).await.unwrap_err();
        assert!(matches!(err, tessera_service::ServiceError::Validation(_)), "{err:?}");
    }

    async fn fresh_sign_in_is_asked_for_prompt_login_and_max_age(app: TestApp) {
        app.create_user("ada", Role::User).await;
        photos_app(&app, &["me.read", "roms.read"], true).await;
        let session = app.session_login("ada").await;
        app.clock.advance(std::time::Duration::from_secs(5));
        let res = authorize(&app, Some(&session), &authorize_query(&[("prompt", "login")])).await;
        let to = location(&res);
        assert_eq!(to.path(), "/login");
        assert_eq!(param(&to, "reauth").as_deref(), Some("1"));
        let rd = param(&to, "rd").unwrap();
        assert!(rd.contains("auth_after=") && !rd.contains("prompt=login"), "{rd}");
        // The session predates auth_after: back to /login until the person signs in again.
        let rd_query: Vec<(String, String)> = url::form_urlencoded::parse(rd.trim_start_matches("/oauth/authorize?").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let back = authorize(&app, Some(&session), &rd_query).await;
        assert_eq!(location(&back).path(), "/login");
        let fresh = app.session_login("ada").await;
        let back = authorize(&app, Some(&fresh), &rd_query).await;
        assert!(param(&location(&back), "code").is_some(), "signed in again");
        let done = authorize(&app, Some(&fresh), &authorize_query(&[("max_age", "60")])).await;
        assert!(param(&location(&done), "code").is_some());
        // max_age: an older sign-in is not enough.
        app.clock.advance(std::time::Duration::from_secs(120));
        let res = authorize(&app, Some(&fresh), &authorize_query(&[("max_age", "60")])).await;
        assert_eq!(location(&res).path(), "/login");
        let res = authorize(&app, Some(&fresh), &authorize_query(&[("max_age", "60"), ("prompt", "none")])).await;
        assert_eq!(param(&location(&res), "error").as_deref(), Some("login_required"));
    }

    async fn a_person_demoted_since_consent_gets_less(app: TestApp) {
        app.create_user("root", Role::Admin).await;
        let eve = app.create_user("eve", Role::Admin).await;
        photos_app(&app, &["me.read", "users.read"], false).await;
        let session = app.session_login("eve").await;
        let q = authorize_query(&[("scope", "openid users.read")]);
        let code = code_after_consent(&app, &session, &q).await;
        let body: Value = redeem(&app, &code, VERIFIER).await.json().await.unwrap();
        assert_eq!(body["scope"], "openid me.read users.read");
        // Consent is remembered: this code comes at once, and is redeemed only after the demotion.
        let early = param(&location(&authorize(&app, Some(&session), &q).await), "code").unwrap();
        let root = app.password_login("root", None).await.access_token;
        let demoted = app.client.put(app.url(&format!("/api/users/{eve}"))).bearer_auth(&root)
            .json(&json!({"role": "user"})).send().await.unwrap();
        assert_eq!(demoted.status(), StatusCode::OK);
        let session = app.session_login("eve").await;
        let res = authorize(&app, Some(&session), &q).await;
        assert_eq!(param(&location(&res), "error").as_deref(), Some("invalid_scope"), "none of what is named is left");
        // A code issued before the demotion is redeemed with the rights of now.
        let body: Value = redeem(&app, &early, VERIFIER).await.json().await.unwrap();
        assert_eq!(body["scope"], "openid me.read", "{body}");
        // The consent page (asked for again) offers only what she holds now.
        let res = authorize(&app, Some(&session), &authorize_query(&[("scope", "openid me.read users.read"), ("prompt", "consent")])).await;
        let html = res.text().await.unwrap();
        let listed = html.split("<ul id=\"scopes\">").nth(1).unwrap().split("</ul>").next().unwrap();
        assert!(listed.contains("me.read") && !listed.contains("users.read"), "{listed}");
    }

    async fn an_app_signs_the_person_out_of_tessera(app: TestApp) {
        app.create_user("ada", Role::User).await;
        photos_app(&app, &["me.read", "roms.read"], true).await;
        let session = app.session_login("ada").await;
        let code = param(&location(&authorize(&app, Some(&session), &authorize_query(&[])).await), "code").unwrap();
        let body: Value = redeem(&app, &code, VERIFIER).await.json().await.unwrap();
        let hint = body["id_token"].as_str().unwrap().to_owned();
        let end = |session: &BrowserSession, params: Vec<(&'static str, String)>| {
            browser_like().get(app.url("/oauth/end_session")).query(&params)
                .header("cookie", format!("tessera_session={}", session.cookie)).send()
        };
        let me = |s: &BrowserSession| app.with_session(app.client.get(app.url("/api/users/me")), s, false).send();
        // An unregistered return address is refused on a page; nothing ends.
        let res = end(&session, vec![("id_token_hint", hint.clone()), ("post_logout_redirect_uri", "https://evil.example/".into())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.headers().get(LOCATION).is_none());
        // Without a hint the person is asked (the sign-in page's sign-out button); the session stays.
        let res = end(&session, vec![("client_id", "photos".into()), ("post_logout_redirect_uri", BYE.into())]).await.unwrap();
        assert_eq!(location(&res).path(), "/login");
        assert_eq!(me(&session).await.unwrap().status(), StatusCode::OK);
        // Another session's hint does not end this one.
        let other = app.session_login("ada").await;
        let res = end(&other, vec![("id_token_hint", hint.clone())]).await.unwrap();
        assert_eq!(location(&res).path(), "/login");
        assert_eq!(me(&other).await.unwrap().status(), StatusCode::OK);
        // The hint of this session ends it and returns to the app with state.
        let res = end(&session, vec![("id_token_hint", hint.clone()), ("post_logout_redirect_uri", BYE.into()), ("state", "bye-1".into())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[LOCATION], format!("{BYE}?state=bye-1"));
        assert_eq!(me(&session).await.unwrap().status(), StatusCode::UNAUTHORIZED);
        // A forged hint is refused.
        let res = end(&other, vec![("id_token_hint", format!("{hint}x"))]).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_made_on_one_replica_is_redeemed_on_the_other() {
    let Some((a, b)) = tessera_tests::replica_pair().await else {
        return;
    };
    a.create_user("ada", Role::User).await;
    photos_app(&a, &["me.read", "roms.read"], true).await;
    let session = a.session_login("ada").await;
    let code = param(
        &location(&authorize(&a, Some(&session), &authorize_query(&[])).await),
        "code",
    )
    .unwrap();
    let res = redeem(&b, &code, VERIFIER).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    // Replayed on the first replica: refused there, and the second stops accepting the token at once.
    assert_oauth_error(
        redeem(&a, &code, VERIFIER).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let access = body["access_token"].as_str().unwrap();
    let refused = tessera_tests::within(std::time::Duration::from_secs(1), || async {
        b.get_bearer("/oauth/userinfo", access).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(
        refused.is_some(),
        "the replay's revocation reaches the other replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_requests_and_wrong_codes_are_budgeted() {
    let app = tessera_tests::TestAppBuilder::new(tessera_tests::DbKind::Sqlite)
        .config("[rate_limits]\nauthorize = { limit = 3, period_secs = 60 }\ncode_redeem = { limit = 2, period_secs = 10 }\n")
        .try_spawn()
        .await
        .expect("sqlite app");
    app.create_user("ada", Role::User).await;
    photos_app(&app, &["me.read", "roms.read"], true).await;
    let session = app.session_login("ada").await;
    let code = param(
        &location(&authorize(&app, Some(&session), &authorize_query(&[])).await),
        "code",
    )
    .unwrap();
    // Wrong codes spend the budget; then even the right one waits.
    for _ in 0..2 {
        assert_oauth_error(
            redeem(&app, &"0".repeat(64), VERIFIER).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
    }
    let limited = redeem(&app, &code, VERIFIER).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    // The code was not consumed by the refusal: after the wait (within its lifetime) it still works.
    app.clock.advance(std::time::Duration::from_secs(11));
    assert_eq!(redeem(&app, &code, VERIFIER).await.status(), StatusCode::OK);
    // Authorization requests, made-up clients included: the fourth in a minute is a 429 page.
    assert!(param(
        &location(&authorize(&app, Some(&session), &authorize_query(&[])).await),
        "code"
    )
    .is_some());
    let unknown = authorize(&app, None, &authorize_query(&[("client_id", "made-up")])).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let res = authorize(&app, Some(&session), &authorize_query(&[])).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after") && res.headers().get(LOCATION).is_none());
    assert!(res.text().await.unwrap().contains("Too many sign-in requests"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_signing_key_is_refused_on_a_page() {
    let app = tessera_tests::TestAppBuilder::new(tessera_tests::DbKind::Sqlite)
        .config("[jwt]\nalgorithm = \"HS256\"\n")
        .try_spawn()
        .await
        .expect("sqlite app");
    photos_app(&app, &["me.read"], true).await;
    let res = authorize(&app, None, &authorize_query(&[("scope", "openid")])).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        res.text().await.unwrap().contains("HS256"),
        "apps cannot verify HS256 ID tokens"
    );
}

/// Accepts one HTTP request and hands its body over: an app's back-channel logout endpoint.
async fn one_post() -> (String, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = socket.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .unwrap();
                    let _ = tx.send(body.to_owned());
                    return;
                }
            }
            if n == 0 {
                return;
            }
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_tells_the_apps_of_the_sessions_it_ended() {
    let app = TestApp::try_spawn(tessera_tests::DbKind::Sqlite)
        .await
        .expect("sqlite app");
    let uid = app.create_user("ada", Role::User).await;
    let (backchannel, received) = one_post().await;
    app.services
        .create_client(
            ClientSpec {
                client_id: Some("photos".into()),
                name: "Photo gallery".into(),
                confidential: false,
                grant_types: vec!["authorization_code".into()],
                scopes: vec!["me.read".into()],
                can_introspect: false,
                sign_in: SignInSettings {
                    redirect_uris: vec![CALLBACK.into()],
                    backchannel_logout_uri: Some(backchannel),
                    skip_consent: true,
                    ..Default::default()
                },
            },
            "test",
            app.services.catalog.all(),
        )
        .await
        .unwrap();
    let session = app.session_login("ada").await;
    let code = param(
        &location(&authorize(&app, Some(&session), &authorize_query(&[("scope", "openid")])).await),
        "code",
    )
    .unwrap();
    let body: Value = redeem(&app, &code, VERIFIER).await.json().await.unwrap();
    let (_, id_claims) = jwt_parts(body["id_token"].as_str().unwrap());
    // A new password, set with a bearer token, ends every session: the app hears of its one.
    let token = app.password_login("ada", None).await.access_token;
    let changed = app.client.put(app.url("/api/users/me")).bearer_auth(&token)
        .json(&json!({"new_password": "a second long passphrase", "current_password": tessera_tests::oauth::PASSWORD}))
        .send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let form = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .expect("a logout token within 10 s")
        .unwrap();
    let logout_token = url::form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .unwrap()
        .1
        .into_owned();
    let (header, claims) = jwt_parts(&logout_token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["aud"], "photos");
    assert_eq!(claims["sub"], uid.to_string());
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert!(claims["events"]
        .get("http://schemas.openid.net/event/backchannel-logout")
        .is_some());
    let expect = tessera_crypto::jwt::Expectations {
        issuer: &app.base,
        audience: "photos",
        now: claims["iat"].as_i64().unwrap(),
        leeway_secs: 0,
    };
    app.services
        .keys
        .ring()
        .verify_typed(&logout_token, &expect, "logout+jwt")
        .expect("signed by Tessera's current key");
    // A logout token is not an access token.
    assert_eq!(
        app.get_bearer("/oauth/userinfo", &logout_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_party_app_may_get_refresh_tokens_without_offline_access() {
    let app = TestApp::try_spawn(tessera_tests::DbKind::Sqlite)
        .await
        .expect("sqlite app");
    app.create_user("ada", Role::User).await;
    app.services
        .create_client(
            ClientSpec {
                client_id: Some("photos".into()),
                name: "Photo gallery".into(),
                confidential: false,
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                scopes: vec!["me.read".into()],
                can_introspect: false,
                sign_in: SignInSettings {
                    redirect_uris: vec![CALLBACK.into()],
                    skip_consent: true,
                    refresh_without_offline_access: true,
                    ..Default::default()
                },
            },
            "test",
            app.services.catalog.all(),
        )
        .await
        .unwrap();
    let session = app.session_login("ada").await;
    let code = param(
        &location(&authorize(&app, Some(&session), &authorize_query(&[("scope", "openid")])).await),
        "code",
    )
    .unwrap();
    let body: Value = redeem(&app, &code, VERIFIER).await.json().await.unwrap();
    assert!(body["refresh_token"].is_string(), "{body}");
    // The admin API shows the setting.
    app.create_user("root", Role::Admin).await;
    let admin = app.password_login("root", None).await.access_token;
    let client: Value = app
        .client
        .get(app.url("/api/oauth-clients/photos"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(client["refresh_without_offline_access"], true, "{client}");
    assert_eq!(client["redirect_uris"], json!([CALLBACK]));
}
