//! OAuth token service (issue 4): grants, rotation, reuse detection, revocation, introspection,
//! userinfo, discovery, JWKS, key rotation, forged tokens, and the RomM alias.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::Role;
use tessera_tests::oauth::{assert_oauth_error, jwt_parts, Tokens, PASSWORD};
use tessera_tests::{both_backends, TestApp};

const MEMBER_RIGHTS: &str = "me.read roms.read platforms.read assets.read devices.read firmware.read \
                             roms.user.read collections.read me.write assets.write devices.write \
                             roms.user.write collections.write";

/// An admin token that may manage OAuth clients.
async fn admin_token(app: &TestApp) -> String {
    app.create_user("root", Role::Admin).await;
    app.password_login("root", None).await.access_token
}

async fn create_client(app: &TestApp, admin: &str, body: Value) -> Value {
    let res = app
        .client
        .post(app.url("/api/oauth-clients"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

both_backends! {
    async fn password_grant_issues_narrowed_signed_tokens(app: TestApp) {
        let uid = app.create_user("ada", Role::User).await;
        let res = app
            .token_form("/oauth/token", &[("grant_type", "password"), ("username", "ADA"), ("password", PASSWORD),
                ("scope", "openid offline_access me.read roms.read users.read")])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let t = Tokens::from_body(res.json().await.unwrap());
        assert_eq!(t.body["token_type"], "Bearer");
        assert_eq!(t.body["expires_in"], 1800);
        assert_eq!(t.body["refresh_expires_in"], 604_800);
        assert_eq!(t.body["scope"], "me.read roms.read", "users.read is dropped: the user lacks it");
        assert!(t.refresh_token.starts_with("tsr_rt_") && t.refresh_token.len() == 7 + 64);
        let (header, claims) = jwt_parts(&t.access_token);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(header["kid"].is_string());
        assert_eq!(claims["iss"], app.base);
        assert_eq!(claims["aud"], app.base);
        assert_eq!(claims["sub"], uid.to_string());
        assert_eq!(claims["username"], "ada");
        assert_eq!(claims["role"], "user");
        assert_eq!(claims["client_id"], "tessera-cli");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 1800);
        assert!(claims["jti"].is_string() && claims["sid"].is_string());

        let all = app.password_login("ada", None).await;
        assert_eq!(all.body["scope"], MEMBER_RIGHTS, "no scope asked: the user's current rights");
        let none = app
            .token_form("/oauth/token", &[("grant_type", "password"), ("username", "ada"), ("password", PASSWORD), ("scope", "logs.read tasks.run")])
            .await;
        assert_oauth_error(none, StatusCode::BAD_REQUEST, "invalid_scope").await;
        let unknown = app
            .token_form("/oauth/token", &[("grant_type", "password"), ("username", "ada"), ("password", PASSWORD), ("scope", "me.read nonsense")])
            .await;
        assert_oauth_error(unknown, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }

    async fn bad_logins_look_the_same(app: TestApp) {
        app.create_user("ada", Role::User).await;
        app.create_user("bob", Role::User).await;
        app.services.set_user_enabled("bob", false).await.unwrap();
        let mut bodies = Vec::new();
        for (user, pw) in [("ada", "wrong password"), ("nobody", PASSWORD), ("bob", PASSWORD), ("x y", PASSWORD)] {
            let res = app.token_form("/oauth/token", &[("grant_type", "password"), ("username", user), ("password", pw)]).await;
            bodies.push(assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await);
        }
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
        let missing = app.token_form("/oauth/token", &[("grant_type", "password"), ("username", "ada")]).await;
        assert_oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    }

    async fn refresh_rotates_and_a_replay_revokes_the_family(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let first = app.password_login("ada", Some("me.read roms.read")).await;
        app.clock.advance(Duration::from_secs(60));
        let res = app.refresh(&first.refresh_token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let second = Tokens::from_body(res.json().await.unwrap());
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(second.body["scope"], "me.read roms.read");
        assert_eq!(jwt_parts(&second.access_token).1["sid"], jwt_parts(&first.access_token).1["sid"], "same family");
        assert_eq!(app.introspect(&second.access_token).await["active"], true);

        // Replaying the used token after the reuse grace (10 s) revokes everything from that login.
        app.clock.advance(Duration::from_secs(11));
        let replay = app.refresh(&first.refresh_token).await;
        assert_oauth_error(replay, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let after = app.refresh(&second.refresh_token).await;
        assert_oauth_error(after, StatusCode::BAD_REQUEST, "invalid_grant").await;
        assert_eq!(app.introspect(&second.access_token).await, json!({"active": false}));
        assert_eq!(app.introspect(&first.access_token).await, json!({"active": false}));
        assert_eq!(app.introspect(&second.refresh_token).await, json!({"active": false}));
        let events = app.services.db.run(|c| tessera_db::models::audit_events::AuditEvent::recent(c, 50)).await.unwrap();
        assert!(events.iter().any(|e| e.kind == "refresh.replayed"), "a security event is recorded");
    }

    // Two refreshes of one token at once (two tabs, a retry racing the original): within the reuse grace
    // both are answered, and the chain stays one: of the two new tokens, one lives on after the grace.
    async fn concurrent_refreshes_keep_one_live_chain(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let t = app.password_login("ada", None).await;
        let (a, b) = tokio::join!(app.refresh(&t.refresh_token), app.refresh(&t.refresh_token));
        assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
        let a = Tokens::from_body(a.json().await.unwrap());
        let b = Tokens::from_body(b.json().await.unwrap());
        app.clock.advance(Duration::from_secs(11));
        let mut answers = Vec::new();
        for t in [&a, &b] {
            answers.push(app.introspect(&t.refresh_token).await["active"].as_bool());
        }
        answers.sort();
        assert_eq!(answers, [Some(false), Some(true)], "exactly one live refresh token");
    }

    async fn refresh_narrows_expires_and_stays_with_its_client(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let admin = admin_token(&app).await;
        let t = app.password_login("ada", Some("me.read roms.read")).await;
        let narrowed = app
            .token_form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &t.refresh_token), ("scope", "roms.read")])
            .await;
        assert_eq!(narrowed.status(), StatusCode::OK);
        let n = Tokens::from_body(narrowed.json().await.unwrap());
        assert_eq!(n.body["scope"], "roms.read");
        let wider = app
            .token_form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &n.refresh_token), ("scope", "me.read roms.read assets.read")])
            .await;
        assert_oauth_error(wider, StatusCode::BAD_REQUEST, "invalid_scope").await;

        let other = create_client(&app, &admin, json!({"client_id": "launcher", "name": "Launcher", "confidential": false,
            "grant_types": ["password", "refresh_token"], "scopes": ["me.read", "roms.read"]})).await;
        assert_eq!(other["client_id"], "launcher");
        let foreign = app
            .token_form("/oauth/token", &[("grant_type", "refresh_token"), ("refresh_token", &n.refresh_token), ("client_id", "launcher")])
            .await;
        assert_oauth_error(foreign, StatusCode::BAD_REQUEST, "invalid_grant").await;

        let fresh = app.password_login("ada", None).await;
        app.clock.advance(Duration::from_secs(7 * 86_400 + 1));
        let expired = app.refresh(&fresh.refresh_token).await;
        assert_oauth_error(expired, StatusCode::BAD_REQUEST, "invalid_grant").await;
        let garbage = app.refresh("tsr_rt_0000").await;
        assert_oauth_error(garbage, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }

    async fn client_credentials_and_client_authentication(app: TestApp) {
        let admin = admin_token(&app).await;
        let c = create_client(&app, &admin, json!({"name": "Main app", "confidential": true,
            "grant_types": ["client_credentials"], "scopes": ["users.read", "roms.read"], "can_introspect": true})).await;
        let id = c["client_id"].as_str().unwrap().to_owned();
        let secret = c["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 64, "256 random bits");
        assert_eq!(c["scopes"], json!(["me.read", "roms.read", "users.read"]), "normalised with implications");

        let basic = app.client.post(app.url("/oauth/token")).basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "roms.read")]).send().await.unwrap();
        assert_eq!(basic.status(), StatusCode::OK);
        let t: Value = basic.json().await.unwrap();
        assert_eq!(t["scope"], "roms.read");
        assert!(t.get("refresh_token").is_none(), "no refresh token for a machine");
        assert_eq!(jwt_parts(t["access_token"].as_str().unwrap()).1["sub"], format!("client:{id}"));
        let intro = app.introspect(t["access_token"].as_str().unwrap()).await;
        assert_eq!((intro["active"].as_bool(), intro["sub"].as_str()), (Some(true), Some(format!("client:{id}").as_str())));

        let post = app.token_form("/oauth/token", &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)]).await;
        assert_eq!(post.status(), StatusCode::OK);
        let wrong = app.client.post(app.url("/oauth/token")).basic_auth(&id, Some("nope"))
            .form(&[("grant_type", "client_credentials")]).send().await.unwrap();
        assert_oauth_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let unknown = app.token_form("/oauth/token", &[("grant_type", "client_credentials"), ("client_id", "ghost"), ("client_secret", "x")]).await;
        assert_oauth_error(unknown, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let public = app.token_form("/oauth/token", &[("grant_type", "client_credentials")]).await;
        assert_oauth_error(public, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        let two_methods = app.client.post(app.url("/oauth/token")).basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("client_secret", &secret)]).send().await.unwrap();
        assert_oauth_error(two_methods, StatusCode::BAD_REQUEST, "invalid_request").await;
        let not_allowed = app.client.post(app.url("/oauth/token")).basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "password"), ("username", "root"), ("password", PASSWORD)]).send().await.unwrap();
        assert_oauth_error(not_allowed, StatusCode::BAD_REQUEST, "unauthorized_client").await;

        // The same client may introspect.
        let intro = app.client.post(app.url("/oauth/introspect")).basic_auth(&id, Some(&secret))
            .form(&[("token", admin.as_str())]).send().await.unwrap();
        assert_eq!(intro.json::<Value>().await.unwrap()["active"], true);
    }

    async fn revocation_of_access_and_refresh_tokens(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let t = app.password_login("ada", None).await;
        assert_eq!(app.get_bearer("/oauth/userinfo", &t.access_token).await.status(), StatusCode::OK);
        let res = app.token_form("/oauth/revoke", &[("token", &t.access_token)]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(app.introspect(&t.access_token).await, json!({"active": false}));
        assert_eq!(app.get_bearer("/oauth/userinfo", &t.access_token).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.introspect(&t.refresh_token).await["active"], true, "the refresh token lives on");

        let res = app.token_form("/oauth/revoke", &[("token", &t.refresh_token), ("token_type_hint", "refresh_token")]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(app.introspect(&t.refresh_token).await, json!({"active": false}));
        assert_oauth_error(app.refresh(&t.refresh_token).await, StatusCode::BAD_REQUEST, "invalid_grant").await;

        let other = app.password_login("ada", None).await;
        app.token_form("/oauth/revoke", &[("token", &other.refresh_token)]).await;
        assert_eq!(app.introspect(&other.access_token).await, json!({"active": false}), "a family takes its access tokens");
        for unknown in ["nonsense", "tsr_rt_00", &"a".repeat(300)] {
            assert_eq!(app.token_form("/oauth/revoke", &[("token", unknown)]).await.status(), StatusCode::OK);
        }
        let missing = app.token_form("/oauth/revoke", &[("token_type_hint", "access_token")]).await;
        assert_oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    }

    async fn introspection_is_authenticated_and_terse(app: TestApp) {
        let uid = app.create_user("ada", Role::User).await;
        let admin = admin_token(&app).await;
        let t = app.password_login("ada", Some("me.read roms.read")).await;
        let anonymous = app.token_form("/oauth/introspect", &[("token", &t.access_token)]).await;
        assert_oauth_error(anonymous, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let bad_key = app.client.post(app.url("/oauth/introspect")).header("x-tessera-key", "0".repeat(64))
            .form(&[("token", &t.access_token)]).send().await.unwrap();
        assert_oauth_error(bad_key, StatusCode::UNAUTHORIZED, "invalid_client").await;
        let c = create_client(&app, &admin, json!({"name": "no introspection", "confidential": true, "grant_types": ["client_credentials"], "scopes": ["me.read"]})).await;
        let denied = app.client.post(app.url("/oauth/introspect"))
            .basic_auth(c["client_id"].as_str().unwrap(), c["client_secret"].as_str())
            .form(&[("token", &t.access_token)]).send().await.unwrap();
        assert_oauth_error(denied, StatusCode::UNAUTHORIZED, "invalid_client").await;

        // An answer about a token is not to be cached (RFC 7662 §2.2 defers to RFC 6749 §5.1).
        let raw = app.client.post(app.url("/oauth/introspect")).header("x-tessera-key", app.service_key())
            .form(&[("token", &t.access_token)]).send().await.unwrap();
        let headers = raw.headers();
        assert_eq!(
            ["cache-control", "pragma", "content-type"].map(|h| headers[h].to_str().unwrap().to_owned()),
            ["no-store", "no-cache", "application/json"]
        );
        let active = app.introspect(&t.access_token).await;
        assert_eq!(active["active"], true);
        assert_eq!(active["token_type"], "Bearer");
        assert_eq!(active["credential"], "access_token");
        assert_eq!(active["scope"], "me.read roms.read");
        assert_eq!(active["sub"], uid.to_string());
        assert_eq!(active["username"], "ada");
        assert_eq!(active["role"], "user");
        assert_eq!(active["client_id"], "tessera-cli");
        assert_eq!(active["iss"], app.base);
        let refresh = app.introspect(&t.refresh_token).await;
        assert_eq!((refresh["token_type"].as_str(), refresh["credential"].as_str()), (Some("refresh_token"), Some("refresh_token")));
        let owner = |v: &Value, k: &str| v[k].as_str().map(str::to_owned);
        assert_eq!(
            ["sub", "username", "role", "client_id"].map(|k| owner(&refresh, k)),
            [Some(uid.to_string()), Some("ada".into()), Some("user".into()), Some("tessera-cli".into())],
            "a refresh token names its owner as an access token does"
        );

        // Disabling the user makes every token inactive at once.
        app.services.set_user_enabled("ada", false).await.unwrap();
        assert_eq!(app.introspect(&t.access_token).await, json!({"active": false}));
        assert_eq!(app.introspect(&t.refresh_token).await, json!({"active": false}));
        // And a new password revokes access tokens issued before it.
        let root = app.password_login("root", None).await;
        app.services.set_password("root", "a brand new password").await.unwrap();
        assert_eq!(app.introspect(&root.access_token).await, json!({"active": false}));
        // Expired.
        app.create_user("eve", Role::User).await;
        let e = app.password_login("eve", None).await;
        app.clock.advance(Duration::from_secs(1800 + 61));
        assert_eq!(app.introspect(&e.access_token).await, json!({"active": false}));
    }

    async fn userinfo_needs_me_read(app: TestApp) {
        let uid = app.create_user("ada", Role::User).await;
        let t = app.password_login("ada", None).await;
        let res = app.get_bearer("/oauth/userinfo", &t.access_token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let info: Value = res.json().await.unwrap();
        assert_eq!(info, json!({"sub": uid.to_string(), "preferred_username": "ada", "email": "ada@example.com",
            "email_verified": false, "role": "user", "groups": ["Member"]}));
        let post = app.client.post(app.url("/oauth/userinfo")).bearer_auth(&t.access_token).send().await.unwrap();
        assert_eq!(post.status(), StatusCode::OK);
        let narrow = app.password_login("ada", Some("roms.read")).await;
        let res = app.get_bearer("/oauth/userinfo", &narrow.access_token).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let p: Value = res.json().await.unwrap();
        assert_eq!((p["code"].as_str(), p["missing"].clone()), (Some("insufficient_scope"), json!(["me.read"])));
        let anon = app.get("/oauth/userinfo").await;
        assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
        assert!(anon.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    }

    async fn discovery_and_jwks(app: TestApp) {
        let res = app.get("/.well-known/openid-configuration").await;
        assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age"));
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["issuer"], app.base, "issuer is exactly public_url");
        let same: Value = app.get("/.well-known/oauth-authorization-server").await.json().await.unwrap();
        assert_eq!(doc, same);
        let base = app.base.clone();
        insta::assert_json_snapshot!("discovery", doc, {
            ".*" => insta::dynamic_redaction(move |v, _| match v.as_str() {
                Some(s) if s.starts_with(&base) => format!("[public_url]{}", &s[base.len()..]).into(),
                _ => v,
            })
        });
        let res = app.get("/.well-known/jwks.json").await;
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        let jwks: Value = res.json().await.unwrap();
        let kid = app.services.keys.ring().current_kid().unwrap().to_owned();
        insta::assert_json_snapshot!("jwks", jwks, {
            ".keys[].kid" => insta::dynamic_redaction(move |v, _| { assert_eq!(v.as_str(), Some(kid.as_str())); "[kid]" }),
            ".keys[].x" => "[x]",
            ".keys[].y" => "[y]",
        });
    }

    async fn key_rotation_keeps_old_tokens_valid(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let before = app.password_login("ada", None).await;
        let old_kid = jwt_parts(&before.access_token).0["kid"].as_str().unwrap().to_owned();
        let s = &app.services;
        let new_kid = s.keys.rotate(s.clock.now(), 1800, 60).await.unwrap();
        assert_ne!(new_kid, old_kid);
        let after = app.password_login("ada", None).await;
        assert_eq!(jwt_parts(&after.access_token).0["kid"], new_kid.as_str());
        assert_eq!(app.get_bearer("/oauth/userinfo", &before.access_token).await.status(), StatusCode::OK);
        assert_eq!(app.get_bearer("/oauth/userinfo", &after.access_token).await.status(), StatusCode::OK);
        let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
        let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
        assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));
        // Past the old key's window it leaves the JWKS.
        app.clock.advance(Duration::from_secs(1800 + 121));
        s.keys.reload(s.clock.now()).await.unwrap();
        let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
        let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
        assert_eq!(kids, vec![new_kid.as_str()]);
        let listed = s.keys.list().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().any(|k| k.kid == old_kid && k.retired_at.is_some()));
    }

    async fn forged_tokens_are_refused(app: TestApp) {
        use base64::Engine;
        app.create_user("ada", Role::User).await;
        let good = app.password_login("ada", None).await;
        let (header, claims) = jwt_parts(&good.access_token);
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let sig = good.access_token.rsplit('.').next().unwrap().to_owned();
        let mut forged: Vec<(String, String)> = Vec::new();
        // alg none, with and without a signature.
        let none = json!({"typ": "at+jwt", "alg": "none", "kid": header["kid"]});
        forged.push(("alg none".into(), format!("{}.{}.", b64(&none), b64(&claims))));
        forged.push(("alg none signed".into(), format!("{}.{}.{sig}", b64(&none), b64(&claims))));
        // HS256 keyed with the public key (the classic algorithm-confusion attack).
        let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
        let hs_header = json!({"typ": "at+jwt", "alg": "HS256", "kid": header["kid"]});
        let signing_input = format!("{}.{}", b64(&hs_header), b64(&claims));
        let hs = josekit::jws::HS256.signer_from_bytes(jwks["keys"][0].to_string().as_bytes()).unwrap();
        let mac = josekit::jws::JwsSigner::sign(&hs, signing_input.as_bytes()).unwrap();
        forged.push(("hs256 with public key".into(), format!("{signing_input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac))));
        // A changed claim under the original signature.
        let mut elevated = claims.clone();
        elevated["scope"] = json!("users.write users.read");
        forged.push(("tampered claims".into(), format!("{}.{}.{sig}", b64(&header), b64(&elevated))));
        let mut unknown_kid = header.clone();
        unknown_kid["kid"] = json!("not-a-key");
        forged.push(("unknown kid".into(), format!("{}.{}.{sig}", b64(&unknown_kid), b64(&claims))));
        let mut wrong_typ = header.clone();
        wrong_typ["typ"] = json!("JWT");
        forged.push(("wrong typ".into(), format!("{}.{}.{sig}", b64(&wrong_typ), b64(&claims))));
        // Properly signed by the server's key, but with wrong registered claims.
        let now = app.services.clock.now().as_secs();
        for (name, patch) in [
            ("wrong iss", json!({"iss": "https://evil.example"})),
            ("wrong aud", json!({"aud": "https://other.example"})),
            ("expired", json!({"exp": now - 61, "iat": now - 1900, "nbf": now - 1900})),
            ("not yet valid", json!({"nbf": now + 120})),
            ("no exp", json!({"exp": null})),
        ] {
            let mut c = claims.as_object().unwrap().clone();
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() { c.remove(k); } else { c.insert(k.clone(), v.clone()); }
            }
            forged.push((name.into(), app.services.keys.sign(c).unwrap()));
        }
        forged.push(("garbage".into(), "not.a.jwt".into()));
        forged.push(("truncated".into(), good.access_token[..good.access_token.len() - 10].to_owned()));
        forged.push(("two parts".into(), good.access_token.rsplit_once('.').unwrap().0.to_owned()));
        forged.push(("huge".into(), "a".repeat(9000)));
        for (name, token) in &forged {
            assert_eq!(app.introspect(token).await, json!({"active": false}), "{name} must be inactive");
            let res = app.get_bearer("/oauth/userinfo", token).await;
            // Over the 8 KiB credential limit is 431 (API.md §1); anything else invalid is 401.
            let expected = if name == "huge" { StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE } else { StatusCode::UNAUTHORIZED };
            assert_eq!(res.status(), expected, "{name} must be refused");
        }
        assert_eq!(app.introspect(&good.access_token).await["active"], true, "the genuine token still works");
    }

    async fn romm_token_alias_speaks_romm(app: TestApp) {
        app.create_user("ada", Role::User).await;
        let res = app.token_form("/api/token", &[("grant_type", "password"), ("username", "ada"), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!((body["expires"].as_i64(), body["refresh_expires"].as_i64()), (Some(1800), Some(604_800)));
        assert_eq!(body["expires_in"], 1800);
        let rt = body["refresh_token"].as_str().unwrap();
        let res = app.token_form("/api/token", &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let refreshed: Value = res.json().await.unwrap();
        assert_eq!(refreshed["expires"], 1800);
        let json_body = app.post_json("/api/token", &json!({"grant_type": "password", "username": "ada", "password": PASSWORD, "scope": ["me.read"]})).await;
        assert_eq!(json_body.status(), StatusCode::OK);
        assert_eq!(json_body.json::<Value>().await.unwrap()["scope"], "me.read");
        let bad = app.token_form("/api/token", &[("grant_type", "password"), ("username", "ada"), ("password", "nope")]).await;
        // RomM answers 401 for bad credentials on its own path (issue 17); /oauth/token keeps RFC 6749's 400.
        let err = assert_oauth_error(bad, StatusCode::UNAUTHORIZED, "invalid_grant").await;
        assert_eq!(err["detail"], err["error_description"], "RomM reads detail");
    }

    async fn malformed_token_requests_get_rfc_errors(app: TestApp) {
        let c = &app.client;
        let url = app.url("/oauth/token");
        assert_oauth_error(app.token_form("/oauth/token", &[]).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_oauth_error(app.token_form("/oauth/token", &[("grant_type", "magic")]).await, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
        let dup = c.post(&url).header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=password&grant_type=refresh_token").send().await.unwrap();
        assert_oauth_error(dup, StatusCode::BAD_REQUEST, "invalid_request").await;
        let xml = c.post(&url).header("content-type", "application/xml").body("<x/>").send().await.unwrap();
        assert_oauth_error(xml, StatusCode::BAD_REQUEST, "invalid_request").await;
        let big = c.post(&url).header("content-type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=password&username={}", "a".repeat(20_000))).send().await.unwrap();
        assert_oauth_error(big, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request").await;
        let bad_json = c.post(&url).header("content-type", "application/json").body("{\"grant_type\":").send().await.unwrap();
        assert_oauth_error(bad_json, StatusCode::BAD_REQUEST, "invalid_request").await;
        let nested = app.post_json("/oauth/token", &json!({"grant_type": {"x": 1}})).await;
        assert_oauth_error(nested, StatusCode::BAD_REQUEST, "invalid_request").await;
        for header in ["Basic !!!notbase64", "Basic", "Basic Zm9v", "Bearer abc"] {
            let res = c.post(&url).header("authorization", header).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
            assert_oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
        }
        let get = app.get("/oauth/token").await;
        assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    async fn oauth_clients_api_is_for_admins(app: TestApp) {
        let admin = admin_token(&app).await;
        app.create_user("ada", Role::User).await;
        let member = app.password_login("ada", None).await.access_token;
        let c = create_client(&app, &admin, json!({"client_id": "svc-1", "name": "Service", "confidential": true,
            "grant_types": ["client_credentials"], "scopes": ["roms.read"]})).await;
        assert!(c["client_secret"].is_string());
        let list: Value = app.get_bearer("/api/oauth-clients", &admin).await.json().await.unwrap();
        let ids: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["tessera-cli", "svc-1"]);
        assert!(list.as_array().unwrap().iter().all(|c| c.get("client_secret").is_none()), "secrets are shown once");
        let one: Value = app.get_bearer("/api/oauth-clients/svc-1", &admin).await.json().await.unwrap();
        assert_eq!(one["name"], "Service");
        let upd = app.client.put(app.url("/api/oauth-clients/svc-1")).bearer_auth(&admin)
            .json(&json!({"name": "Renamed", "grant_types": ["client_credentials"], "scopes": ["roms.read", "platforms.read"], "can_introspect": true}))
            .send().await.unwrap();
        assert_eq!(upd.status(), StatusCode::OK);
        let upd: Value = upd.json().await.unwrap();
        assert_eq!((upd["name"].as_str(), upd["can_introspect"].as_bool()), (Some("Renamed"), Some(true)));
        let dup = app.client.post(app.url("/api/oauth-clients")).bearer_auth(&admin)
            .json(&json!({"client_id": "svc-1", "name": "again", "confidential": true, "grant_types": ["client_credentials"], "scopes": []}))
            .send().await.unwrap();
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        let invalid = app.client.post(app.url("/api/oauth-clients")).bearer_auth(&admin)
            .json(&json!({"name": "", "grant_types": ["implicit"], "scopes": ["nope"]})).send().await.unwrap();
        assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.get_bearer("/api/oauth-clients", &member).await.status(), StatusCode::FORBIDDEN);
        let by_key = app.client.get(app.url("/api/oauth-clients")).header("x-tessera-key", app.service_key()).send().await.unwrap();
        assert_eq!(by_key.status(), StatusCode::FORBIDDEN, "the service key cannot manage clients");
        assert_eq!(app.get("/api/oauth-clients").await.status(), StatusCode::UNAUTHORIZED);
        let builtin = app.client.delete(app.url("/api/oauth-clients/tessera-cli")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(builtin.status(), StatusCode::CONFLICT);
        let del = app.client.delete(app.url("/api/oauth-clients/svc-1")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(del.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get_bearer("/api/oauth-clients/svc-1", &admin).await.status(), StatusCode::NOT_FOUND);
        // An admin token narrowed below users.write cannot manage clients either.
        let narrow = app.password_login("root", Some("users.read")).await.access_token;
        assert_eq!(app.get_bearer("/api/oauth-clients", &narrow).await.status(), StatusCode::FORBIDDEN);
    }
}

async fn other_algorithms_and_audiences_work(db: tessera_tests::DbKind) {
    for alg in ["EdDSA", "RS256", "HS256"] {
        let Some(app) = tessera_tests::TestAppBuilder::new(db)
            .env("TESSERA_JWT__ALGORITHM", alg)
            .env("TESSERA_JWT__AUDIENCE", r#"["romm", "other"]"#)
            .try_spawn()
            .await
        else {
            return;
        };
        app.create_user("ada", Role::User).await;
        let t = app.password_login("ada", None).await;
        let (header, claims) = jwt_parts(&t.access_token);
        assert_eq!(header["alg"], alg);
        assert_eq!(claims["aud"], json!(["romm", "other"]));
        assert_eq!(app.introspect(&t.access_token).await["active"], true, "{alg}");
        let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
        let published = jwks["keys"].as_array().unwrap().len();
        assert_eq!(
            published,
            usize::from(alg != "HS256"),
            "symmetric keys are never published"
        );
    }
}

async fn a_wrong_key_encryption_key_stops_the_start(db: tessera_tests::DbKind) {
    let Some(app) = tessera_tests::TestAppBuilder::new(db)
        .env("TESSERA_JWT__KEY_ENCRYPTION_KEY", &"1".repeat(64))
        .try_spawn()
        .await
    else {
        return;
    };
    // Another instance on the same database with a different key cannot read the signing keys.
    let mut settings = (*app.services.settings).clone();
    settings.jwt.key_encryption_key = Some("2".repeat(64).into());
    let err = tessera_server::build_services(settings, app.services.clock.clone())
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("jwt.key_encryption_key"), "{err:#}");
}

/// Issue 19: a refresh whose answer was lost is retried with the same token. Within
/// `oauth.refresh_reuse_grace_secs` the retry rotates again (the lost successor is retired, audited as
/// `refresh.retried`); after it, reuse is theft and revokes the login; with the grace at 0 it always is.
async fn a_retried_refresh_within_the_grace_keeps_the_login(db: tessera_tests::DbKind) {
    let Some(app) = tessera_tests::TestAppBuilder::new(db).try_spawn().await else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let first = app.password_login("ada", None).await;
    let lost = app.refresh(&first.refresh_token).await;
    assert_eq!(lost.status(), StatusCode::OK);
    let lost = Tokens::from_body(lost.json().await.unwrap());
    app.clock.advance(Duration::from_secs(9));
    let retry = app.refresh(&first.refresh_token).await;
    assert_eq!(
        retry.status(),
        StatusCode::OK,
        "a retry within the grace is answered"
    );
    let kept = Tokens::from_body(retry.json().await.unwrap());
    assert_eq!(
        jwt_parts(&kept.access_token).1["sid"],
        jwt_parts(&first.access_token).1["sid"],
        "same login"
    );
    assert_eq!(
        app.introspect(&lost.refresh_token).await,
        json!({"active": false}),
        "the lost successor is retired"
    );
    assert_eq!(app.introspect(&kept.refresh_token).await["active"], true);
    let events = app
        .services
        .db
        .run(|c| tessera_db::models::audit_events::AuditEvent::recent(c, 50))
        .await
        .unwrap();
    assert!(
        events.iter().any(|e| e.kind == "refresh.retried"),
        "audited as its own event"
    );
    assert!(
        !events.iter().any(|e| e.kind == "refresh.replayed"),
        "no theft alarm"
    );

    // The chain goes on from the kept token; reusing the first one after the grace is theft.
    app.clock.advance(Duration::from_secs(11));
    let next = app.refresh(&kept.refresh_token).await;
    assert_eq!(next.status(), StatusCode::OK);
    let next = Tokens::from_body(next.json().await.unwrap());
    app.clock.advance(Duration::from_secs(11));
    let late = app.refresh(&first.refresh_token).await;
    assert_oauth_error(late, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        app.introspect(&next.refresh_token).await,
        json!({"active": false}),
        "the login is revoked"
    );
    assert_eq!(app.introspect(&next.access_token).await, json!({"active": false}));

    // Another client presenting the token within the grace is refused as before (tokens stay with their client).
    let admin = admin_token(&app).await;
    create_client(
        &app,
        &admin,
        json!({"client_id": "launcher", "name": "Launcher", "confidential": false,
        "grant_types": ["password", "refresh_token"], "scopes": ["me.read"]}),
    )
    .await;
    let t = app.password_login("ada", None).await;
    assert_eq!(app.refresh(&t.refresh_token).await.status(), StatusCode::OK);
    let foreign = app
        .token_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &t.refresh_token),
                ("client_id", "launcher"),
            ],
        )
        .await;
    assert_oauth_error(foreign, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

/// With `oauth.refresh_reuse_grace_secs = 0` any reuse revokes at once, and of two racing refreshes one
/// loses.
async fn without_a_grace_any_reuse_revokes(db: tessera_tests::DbKind) {
    let Some(app) = tessera_tests::TestAppBuilder::new(db)
        .env("TESSERA_OAUTH__REFRESH_REUSE_GRACE_SECS", "0")
        .try_spawn()
        .await
    else {
        return;
    };
    app.create_user("ada", Role::User).await;
    let first = app.password_login("ada", None).await;
    let second = app.refresh(&first.refresh_token).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second = Tokens::from_body(second.json().await.unwrap());
    let retry = app.refresh(&first.refresh_token).await;
    assert_oauth_error(retry, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        app.introspect(&second.refresh_token).await,
        json!({"active": false}),
        "revoked at once"
    );

    let t = app.password_login("ada", None).await;
    let (a, b) = tokio::join!(app.refresh(&t.refresh_token), app.refresh(&t.refresh_token));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
}

tessera_tests::on_both_backends!(
    other_algorithms_and_audiences_work,
    a_wrong_key_encryption_key_stops_the_start,
    a_retried_refresh_within_the_grace_keeps_the_login,
    without_a_grace_any_reuse_revokes
);
