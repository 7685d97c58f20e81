//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an app sends the browser to
//! `end_session_endpoint` with the ID token it got (`id_token_hint`) and, optionally, a registered
//! `post_logout_redirect_uri`. The Tessera session ends at once only when the hint names this browser's
//! session; otherwise the person is asked (a bare link must not sign anyone out), and a return address
//! is followed only when it is registered for the client the hint or `client_id` names.

use tessera_db::models::oauth_clients::OAuthClient;

use super::authorize::{with_query, AuthorizeError};
use crate::identity::Identity;
use crate::{ServiceError, Services};

#[derive(Clone, Debug, Default)]
pub struct EndSessionParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum EndSession {
    /// End this browser's session, then go to `target` (or Tessera's sign-in page).
    End { target: Option<String> },
    /// Signed in, but the request does not prove it comes from this session's app: ask the person.
    Confirm,
    /// No session here: nothing to end.
    AlreadyOut { target: Option<String> },
}

impl Services {
    pub async fn plan_end_session(
        &self,
        p: &EndSessionParams,
        session: Option<&Identity>,
    ) -> Result<EndSession, AuthorizeError> {
        let bad = |m: &str| AuthorizeError::Page(m.to_owned());
        let hint =
            match p.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
                Some(h) => Some(self.verify_id_token_hint(h).await.ok_or_else(|| {
                    bad("The sign-out request carries an ID token this server did not issue.")
                })?),
                None => None,
            };
        let client_id = match (&hint, p.client_id.as_deref().filter(|c| !c.is_empty())) {
            (Some(h), Some(c)) if h.client_id != c => {
                return Err(bad("The sign-out request names two different applications."))
            }
            (Some(h), _) => Some(h.client_id.clone()),
            (None, c) => c.map(str::to_owned),
        };
        let target = match p.post_logout_redirect_uri.as_deref().filter(|u| !u.is_empty()) {
            None => None,
            Some(uri) => {
                let id = client_id
                    .clone()
                    .ok_or_else(|| bad("A return address needs id_token_hint or client_id."))?;
                let client = self
                    .db
                    .run(move |c| Ok::<_, ServiceError>(OAuthClient::find_by_client_id(c, &id)?))
                    .await?
                    .ok_or_else(|| bad("The application that sent you here is not registered."))?;
                if !client.post_logout_redirect_uri_list().any(|r| r == uri) {
                    return Err(bad("The return address is not registered for this application."));
                }
                let state = p.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 1024);
                Some(match state {
                    Some(s) => with_query(uri, &[("state", s)]),
                    None => uri.to_owned(),
                })
            }
        };
        let Some(id) = session.filter(|s| s.principal.is_some()) else {
            return Ok(EndSession::AlreadyOut { target });
        };
        let same_session = hint.as_ref().is_some_and(|h| {
            let same_user = id.principal.as_ref().is_some_and(|p| p.user_id == h.user_id);
            match (&h.session_id, id.session_id.as_deref()) {
                (Some(hs), Some(s)) => same_user && hs == s,
                _ => false,
            }
        });
        Ok(if same_session {
            EndSession::End { target }
        } else {
            EndSession::Confirm
        })
    }
}
