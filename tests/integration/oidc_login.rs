//! Upstream OpenID Connect login (issue 11) against a real oidc-provider, driven through its login and
//! consent pages by a cookie-keeping client that follows redirects as a browser does.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oidc::{free_port, provider_available, Browser, OidcProvider, CLIENT_ID, CLIENT_SECRET};
use tessera_tests::{on_both_backends, DbKind, TestApp, TestAppBuilder};

/// A Tessera that signs in through the provider on `port`, and the provider itself.
async fn with_provider(db: DbKind, registration: bool) -> Option<(TestApp, OidcProvider)> {
    if !provider_available() {
        return None;
    }
    let port = free_port();
    let config = format!(
        r#"
[oidc]
issuer = "http://127.0.0.1:{port}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
provider_name = "Family SSO"
scopes = ["openid", "email", "profile", "roles", "groups"]
role_claim = "roles"
group_claim = "groups"
group_map = {{ family = "Family" }}
allow_registration = {registration}
link_existing_by_email = true
"#
    );
    let app = TestAppBuilder::new(db).config(&config).try_spawn().await?;
    let provider = OidcProvider::start(port, &app.base).await;
    Some((app, provider))
}

/// The account page (where a sign-in without a return address lands) or the sign-in page's "signed in".
fn signed_in_as(text: &str, name: &str) -> bool {
    text.contains(&format!("<strong id=\"username\">{name}</strong>"))
        || text.contains(&format!("signed in as <strong>{name}</strong>"))
}

async fn upstream_login_creates_links_and_refuses_accounts(db: DbKind) {
    let Some((app, provider)) = with_provider(db, true).await else {
        return;
    };
    let root = app.create_user("root", Role::Admin).await;
    let _ = root;
    let admin = app.password_login("root", None).await.access_token;
    let family: Value = app
        .client
        .post(app.url("/api/permissions/groups"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Family", "grants": [{"entity": "roms", "action": "read", "own_only": false}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // bob exists here with a verified address; carol too, but her provider says her address is unverified.
    for (name, email) in [("bob", "bob@example.org"), ("carol", "carol@example.org")] {
        let id = app.create_user(name, Role::User).await;
        let res = app
            .client
            .put(app.url(&format!("/api/users/{id}")))
            .bearer_auth(&admin)
            .json(&json!({"email": email, "email_verified": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let hb: Value = app.get("/api/heartbeat").await.json().await.unwrap();
    assert_eq!(
        hb["auth"]["oidc"],
        json!({"enabled": true, "provider": "Family SSO"})
    );
    let login_page = app.get("/login").await.text().await.unwrap();
    assert!(login_page.contains("Sign in with Family SSO"));

    // alice: new, admin by her role claim.
    let alice = Browser::new();
    let landing = alice.sign_in(&app.base, &provider.issuer, "alice").await;
    assert_eq!(landing.status, StatusCode::OK, "{}", landing.text);
    assert!(signed_in_as(&landing.text, "alice"), "{}", landing.text);
    let users: Vec<Value> = app.get_bearer("/api/users", &admin).await.json().await.unwrap();
    let find = |users: &[Value], name: &str| users.iter().find(|u| u["username"] == name).cloned();
    let a = find(&users, "alice").expect("alice was created");
    assert_eq!(
        (a["role"].as_str(), a["email_verified"].as_bool()),
        (Some("admin"), Some(true))
    );
    // A second sign-in finds the same account through its link.
    let again = Browser::new().sign_in(&app.base, &provider.issuer, "alice").await;
    assert!(signed_in_as(&again.text, "alice"));

    // bob: linked to the existing local account by verified email, not created as "bobby".
    let bob = Browser::new().sign_in(&app.base, &provider.issuer, "bob").await;
    assert!(signed_in_as(&bob.text, "bob"), "{}", bob.text);
    // erin: "editor" maps to user; her "family" group to the Family permission group.
    let erin = Browser::new().sign_in(&app.base, &provider.issuer, "erin").await;
    assert!(signed_in_as(&erin.text, "erin"), "{}", erin.text);
    let users: Vec<Value> = app.get_bearer("/api/users", &admin).await.json().await.unwrap();
    assert!(find(&users, "bobby").is_none(), "bob was linked, not created");
    let e = find(&users, "erin").unwrap();
    assert_eq!(
        (e["role"].as_str(), &e["permission_group_id"]),
        (Some("user"), &family["id"])
    );

    // carol: unverified at the provider, so no link by email; her username is taken: refused, clearly.
    let carol = Browser::new().sign_in(&app.base, &provider.issuer, "carol").await;
    assert_eq!(carol.status, StatusCode::FORBIDDEN, "{}", carol.text);
    assert!(carol.text.contains("is taken here"), "{}", carol.text);
    // dave: no role claim at all.
    let dave = Browser::new().sign_in(&app.base, &provider.issuer, "dave").await;
    assert_eq!(dave.status, StatusCode::FORBIDDEN, "{}", dave.text);
    assert!(dave.text.contains("no role"), "{}", dave.text);

    // A callback this browser did not start: a clear 400 page.
    let forged = Browser::new()
        .client
        .get(app.url("/login/oidc/callback?code=stolen&state=guessed"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged.text().await.unwrap().contains("did not start here"));

    // Signing out of an upstream session hands back the provider's logout URL.
    let csrf = alice.cookie(&app.base, "tessera_csrf").expect("csrf cookie");
    let out: Value = alice
        .client
        .post(app.url("/api/logout"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = out["oidc_logout_url"]
        .as_str()
        .expect("an RP-initiated logout URL");
    assert!(
        url.starts_with(&provider.issuer) && url.contains("id_token_hint="),
        "{url}"
    );
}

async fn without_registration_unknown_people_are_refused(db: DbKind) {
    let Some((app, provider)) = with_provider(db, false).await else {
        return;
    };
    let landing = Browser::new().sign_in(&app.base, &provider.issuer, "alice").await;
    assert_eq!(landing.status, StatusCode::FORBIDDEN, "{}", landing.text);
    assert!(
        landing.text.contains("ask an admin for an invite"),
        "{}",
        landing.text
    );
    let users = app.services.list_users().await.unwrap();
    assert!(users.is_empty(), "nobody was created");
}

/// Issue 18: discovery is kept for an hour of the service's clock, then fetched again: with the
/// provider gone, a sign-in still starts from the kept document, and no longer once the clock passes
/// the hour (the refetch fails: 503, never a redirect to a provider that may have rotated its keys).
async fn discovery_is_refetched_by_the_clock(db: DbKind) {
    let Some((app, provider)) = with_provider(db, false).await else {
        return;
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = || async {
        client
            .get(app.url("/login/oidc?rd=/"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(start().await, StatusCode::SEE_OTHER, "discovery fetched");
    drop(provider);
    app.clock.advance(std::time::Duration::from_secs(3599));
    assert_eq!(start().await, StatusCode::SEE_OTHER, "the kept document serves");
    app.clock.advance(std::time::Duration::from_secs(2));
    assert_eq!(
        start().await,
        StatusCode::SERVICE_UNAVAILABLE,
        "past the hour discovery is fetched again"
    );
}

on_both_backends!(
    upstream_login_creates_links_and_refuses_accounts,
    without_registration_unknown_people_are_refused,
    discovery_is_refetched_by_the_clock
);
