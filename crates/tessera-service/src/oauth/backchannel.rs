//! OpenID Connect Back-Channel Logout 1.0: when a Tessera session ends, every app it signed in to that
//! registered a `backchannel_logout_uri` receives a signed logout token (`typ: logout+jwt`, `sid`, `sub`,
//! the back-channel event). Sent in the background with a short timeout, never following redirects; a
//! failure is logged (without the token) and does not hold up the sign-out.

use std::time::Duration;

use serde_json::{json, Map};
use tessera_db::models::oauth_clients::OAuthClient;
use tessera_db::models::oidc_session_clients::OidcSessionClient;

use crate::{ServiceError, Services};

pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token is for delivery now; RPs reject stale ones.
const LOGOUT_TOKEN_TTL_SECS: i64 = 120;

impl Services {
    /// Tells the apps `session_id` signed in to that it ended.
    pub(crate) async fn backchannel_logout(&self, session_id: &str) -> Result<(), ServiceError> {
        let sid = session_id.to_owned();
        self.tell_apps(move |c| OidcSessionClient::take_for_session(c, &sid))
            .await
    }

    /// Tells apps about every session of `user_id` that has ended meanwhile (after a change that ends
    /// sessions in bulk: a new password, disabling, a reset).
    pub(crate) async fn backchannel_logout_ended(&self, user_id: i64) -> Result<(), ServiceError> {
        self.tell_apps(move |c| OidcSessionClient::take_ended_for_user(c, user_id))
            .await
    }

    async fn tell_apps(
        &self,
        take: impl FnOnce(&mut tessera_db::DbConnection) -> Result<Vec<OidcSessionClient>, tessera_db::DbError>
            + Send
            + 'static,
    ) -> Result<(), ServiceError> {
        let targets = self
            .db
            .write_tx(move |c| {
                let mut out = Vec::new();
                for row in take(c)? {
                    let uri = OAuthClient::find_by_client_id(c, &row.client_id)?
                        .and_then(|client| client.backchannel_logout_uri);
                    if let Some(uri) = uri {
                        out.push((row, uri));
                    }
                }
                Ok::<_, ServiceError>(out)
            })
            .await?;
        for (row, uri) in targets {
            let token = self.logout_token(&row)?;
            let client_id = row.client_id.clone();
            self.background.spawn(async move {
                let outcome = deliver(&uri, &token).await;
                match outcome {
                    Ok(status) if status.is_success() => {
                        tracing::info!(target: "tessera::security", event = "backchannel_logout.sent", client.id = %client_id, "back-channel logout delivered");
                    }
                    Ok(status) => {
                        tracing::warn!(target: "tessera::security", event = "backchannel_logout.refused", client.id = %client_id, status = status.as_u16(), "back-channel logout refused by the app");
                    }
                    Err(e) => {
                        tracing::warn!(target: "tessera::security", event = "backchannel_logout.failed", client.id = %client_id, error = %e, "back-channel logout not delivered");
                    }
                }
            });
        }
        Ok(())
    }

    fn logout_token(&self, row: &OidcSessionClient) -> Result<String, ServiceError> {
        let now = self.clock.now().as_secs();
        let mut m = Map::new();
        m.insert("iss".into(), json!(self.settings.server.public_url));
        m.insert("aud".into(), json!(row.client_id));
        m.insert("iat".into(), json!(now));
        m.insert("exp".into(), json!(now + LOGOUT_TOKEN_TTL_SECS));
        m.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        m.insert("sub".into(), json!(row.user_id.to_string()));
        m.insert("sid".into(), json!(row.session_id));
        m.insert("events".into(), json!({ EVENT: {} }));
        self.keys.sign_typed(m, LOGOUT_TOKEN_TYPE)
    }
}

async fn deliver(
    uri: &str,
    token: &str,
) -> Result<openidconnect::reqwest::StatusCode, openidconnect::reqwest::Error> {
    let client = openidconnect::reqwest::Client::builder()
        // Following a redirect would let a registration point Tessera's requests anywhere.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()?;
    let res = client.post(uri).form(&[("logout_token", token)]).send().await?;
    Ok(res.status())
}
