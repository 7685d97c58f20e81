//! Permission groups, per-user overrides, the default group, and `access/check`.

use tessera_core::rights::{apply_overrides, Effect, Grant, ACTIONS, ENTITIES};
use tessera_core::Role;
use tessera_db::models::permission_groups::{
    GroupGrant, NewPermissionGroup, PermissionGroup, PermissionGroupChanges,
};
use tessera_db::models::user_overrides::UserOverride;
use tessera_db::models::users::User;
use tessera_proto::problem::FieldError;

use crate::cache::Eviction;
use crate::identity::{AuthFailure, Identity};
use crate::{audit, ServiceError, Services};

/// A group with its grants.
#[derive(Clone, Debug)]
pub struct GroupView {
    pub group: PermissionGroup,
    pub grants: Vec<Grant>,
}

#[derive(Clone, Debug)]
pub struct GroupSpec {
    pub name: String,
    pub description: Option<String>,
    pub grants: Vec<Grant>,
}

#[derive(Clone, Debug)]
pub struct UserPermissions {
    pub permission_group_id: Option<i64>,
    pub overrides: Vec<(Grant, Effect)>,
}

/// What `access/check` is asked about: a user id or a presented token.
#[derive(Clone, Debug)]
pub enum Subject {
    User(i64),
    Token(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessDecision {
    pub allowed: bool,
    pub reason: String,
}

fn check_grants(grants: &[Grant], field: &str) -> Result<(), ServiceError> {
    // A pair named twice is refused here: the rows are unique per (entity, action), and a repeat reaching
    // the database was a 500. Entities × actions are 27 pairs, so the quadratic check stays small once
    // the unknown ones are out.
    let bad: Vec<FieldError> = grants
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let message = if !ENTITIES.contains(&g.entity.as_str()) || !ACTIONS.contains(&g.action.as_str()) {
                format!("unknown entity/action {}/{}", g.entity, g.action)
            } else if grants[..i]
                .iter()
                .any(|e| e.entity == g.entity && e.action == g.action)
            {
                format!("{}/{} is named twice", g.entity, g.action)
            } else {
                return None;
            };
            Some(FieldError {
                field: format!("{field}[{i}]"),
                message,
            })
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Validation(bad))
    }
}

pub(crate) fn grants_of(rows: Vec<GroupGrant>) -> Vec<Grant> {
    rows.into_iter()
        .map(|g| Grant {
            entity: g.entity,
            action: g.action,
            own_only: g.own_only,
        })
        .collect()
}

/// Whether `grant` covers `action`: a write or delete grant also allows read; delete allows write.
fn covers(grant: &str, action: &str) -> bool {
    match action {
        "read" => true,
        "write" => matches!(grant, "write" | "delete"),
        _ => grant == action,
    }
}

impl Services {
    pub async fn list_groups(&self) -> Result<Vec<GroupView>, ServiceError> {
        self.db
            .run(|c| {
                let mut out = Vec::new();
                for g in PermissionGroup::list(c)? {
                    let grants = grants_of(PermissionGroup::grants(c, g.id)?);
                    out.push(GroupView { group: g, grants });
                }
                Ok::<_, ServiceError>(out)
            })
            .await
    }

    /// Minting never widens: what a group's grants give a member must lie within the acting credential.
    fn grants_within(&self, grants: &[Grant], actor: &Identity) -> Result<(), ServiceError> {
        let given = tessera_core::rights::rights(&self.catalog, Role::User, grants);
        ServiceError::unless_within(&self.catalog, given, actor.scopes)
    }

    pub async fn create_group(&self, spec: GroupSpec, actor: &Identity) -> Result<GroupView, ServiceError> {
        check_grants(&spec.grants, "grants")?;
        self.grants_within(&spec.grants, actor)?;
        let actor = &*actor.subject;
        if spec.name.trim().is_empty() || spec.name.len() > 255 {
            return Err(ServiceError::field("name", "must be 1-255 characters"));
        }
        let now = self.clock.now();
        let actor = actor.to_owned();
        self.db
            .write_tx(move |c| {
                let g = PermissionGroup::insert(
                    c,
                    &NewPermissionGroup {
                        name: spec.name.trim(),
                        description: spec.description.as_deref(),
                        is_default: false,
                        created_at: now.as_secs(),
                        updated_at: now.as_secs(),
                    },
                )
                .map_err(|e| {
                    if e.is_unique_violation() {
                        ServiceError::Conflict("a group with this name exists".into())
                    } else {
                        e.into()
                    }
                })?;
                PermissionGroup::replace_grants(c, g.id, &to_rows(g.id, &spec.grants))?;
                audit::record(c, now, "group.created", None, Some(&actor), Some(&g.name))?;
                Ok(GroupView {
                    grants: grants_of(PermissionGroup::grants(c, g.id)?),
                    group: g,
                })
            })
            .await
    }

    /// Replaces a group's name, description and grants; its members' rights change on their next request.
    pub async fn update_group(
        &self,
        id: i64,
        spec: GroupSpec,
        actor: &Identity,
    ) -> Result<GroupView, ServiceError> {
        check_grants(&spec.grants, "grants")?;
        self.grants_within(&spec.grants, actor)?;
        let actor = &*actor.subject;
        let now = self.clock.now();
        let actor = actor.to_owned();
        self.revoking(
            self.db.write_tx(move |c| {
                let changes = PermissionGroupChanges {
                    name: Some(spec.name.trim().to_owned()),
                    description: Some(spec.description.clone()),
                    updated_at: Some(now.as_secs()),
                };
                let g = PermissionGroup::update(c, id, &changes)
                    .map_err(|e| {
                        if e.is_unique_violation() {
                            ServiceError::Conflict("a group with this name exists".into())
                        } else {
                            e.into()
                        }
                    })?
                    .ok_or(ServiceError::NotFound)?;
                PermissionGroup::replace_grants(c, id, &to_rows(id, &spec.grants))?;
                audit::record(c, now, "group.updated", None, Some(&actor), Some(&g.name))?;
                Ok(GroupView {
                    grants: grants_of(PermissionGroup::grants(c, id)?),
                    group: g,
                })
            }),
            |_| vec![Eviction::AllRights],
        )
        .await
    }

    pub async fn delete_group(&self, id: i64, actor: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let actor = actor.to_owned();
        self.revoking(
            self.db.write_tx(move |c| {
                let g = PermissionGroup::find(c, id)?.ok_or(ServiceError::NotFound)?;
                if g.is_default {
                    return Err(ServiceError::Conflict(
                        "the default group cannot be deleted; choose another default first".into(),
                    ));
                }
                PermissionGroup::delete(c, id)?;
                audit::record(c, now, "group.deleted", None, Some(&actor), Some(&g.name))?;
                Ok(())
            }),
            |_| vec![Eviction::AllRights],
        )
        .await
    }

    /// New accounts join this group from now on; audited, as every admin change.
    /// The default group's rights are what an invite or a self-registration hands out, so making a group
    /// the default is minting: its rights must lie within the acting credential's (`scope_excess`
    /// otherwise, refused inside the transaction so the old default stays).
    pub async fn set_default_group(&self, id: i64, actor: &Identity) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let (catalog, ceiling) = (self.catalog.clone(), actor.scopes);
        let actor = actor.subject.to_string();
        self.db
            .write_tx(move |c| {
                if !PermissionGroup::set_default(c, id)? {
                    return Err(ServiceError::NotFound);
                }
                let handed = crate::identity::new_user_rights(c, &catalog)?;
                ServiceError::unless_within(&catalog, handed, ceiling)?;
                let name = PermissionGroup::find(c, id)?.map(|g| g.name);
                audit::record(c, now, "group.made_default", None, Some(&actor), name.as_deref())?;
                Ok(())
            })
            .await
    }

    pub async fn user_permissions(&self, user_id: i64) -> Result<UserPermissions, ServiceError> {
        self.db
            .run(move |c| {
                let user = User::find(c, user_id)?.ok_or(ServiceError::NotFound)?;
                let overrides = crate::identity::overrides_of(c, user_id)?;
                Ok(UserPermissions {
                    permission_group_id: user.permission_group_id,
                    overrides,
                })
            })
            .await
    }

    pub async fn set_user_permissions(
        &self,
        user_id: i64,
        p: UserPermissions,
        actor: &Identity,
    ) -> Result<(), ServiceError> {
        let grants: Vec<Grant> = p.overrides.iter().map(|(g, _)| g.clone()).collect();
        check_grants(&grants, "overrides")?;
        let now = self.clock.now();
        let (catalog, ceiling) = (self.catalog.clone(), actor.scopes);
        let actor = actor.subject.clone();
        self.revoking(
            self.db.write_tx(move |c| {
                let before = User::find(c, user_id)?.ok_or(ServiceError::NotFound)?;
                let before = crate::identity::user_rights(c, &catalog, &before)?;
                if let Some(g) = p.permission_group_id {
                    PermissionGroup::find(c, g)?
                        .ok_or_else(|| ServiceError::field("permission_group_id", "no such group"))?;
                }
                let changes = tessera_db::models::users::UserChanges {
                    permission_group_id: Some(p.permission_group_id),
                    updated_at: Some(now.as_secs()),
                    ..Default::default()
                };
                User::update(c, user_id, &changes)?;
                let rows: Vec<UserOverride> = p
                    .overrides
                    .iter()
                    .map(|(g, e)| UserOverride {
                        user_id,
                        entity: g.entity.clone(),
                        action: g.action.clone(),
                        own_only: g.own_only,
                        effect: if *e == Effect::Revoke { "revoke" } else { "grant" }.to_owned(),
                    })
                    .collect();
                UserOverride::replace_for_user(c, user_id, &rows)?;
                // What the change hands over must lie within the acting credential; refused inside the
                // transaction, so nothing of it stays.
                let user = User::find(c, user_id)?.ok_or(ServiceError::NotFound)?;
                let after = crate::identity::user_rights(c, &catalog, &user)?;
                ServiceError::unless_within(&catalog, after.minus(before), ceiling)?;
                audit::record(
                    c,
                    now,
                    "user.permissions_changed",
                    Some(user_id),
                    Some(&actor),
                    None,
                )?;
                Ok(())
            }),
            |_| vec![Eviction::User(user_id)],
        )
        .await
    }

    /// Applies role, group, overrides and `own_only` (and, for a token, its scopes) to one action.
    pub async fn access_check(
        &self,
        subject: Subject,
        entity: &str,
        action: &str,
        owner_id: Option<i64>,
    ) -> Result<AccessDecision, ServiceError> {
        if !ENTITIES.contains(&entity) || !ACTIONS.contains(&action) {
            return Err(ServiceError::field(
                "entity",
                format!("unknown entity/action {entity}/{action}"),
            ));
        }
        let deny = |reason: &str| {
            Ok(AccessDecision {
                allowed: false,
                reason: reason.to_owned(),
            })
        };
        let (user_id, token_scopes) = match subject {
            Subject::User(id) => (id, None),
            Subject::Token(t) => match self.resolve_bearer(&t).await {
                Ok(Identity {
                    principal: Some(p),
                    scopes,
                    ..
                }) => (p.user_id, Some(scopes)),
                Ok(_) | Err(AuthFailure::Invalid | AuthFailure::SecondFactorRequired) => {
                    return deny("invalid or inactive token")
                }
                Err(AuthFailure::Service(e)) => return Err(e),
            },
        };
        let Some(user) = self
            .db
            .run(move |c| Ok::<_, ServiceError>(User::find(c, user_id)?))
            .await?
        else {
            return deny("no such user");
        };
        if !user.enabled {
            return deny("user is disabled");
        }
        if let Some(scopes) = token_scopes {
            let scope = crate::permissions::scope_for(entity, action);
            if self.catalog.get(&scope).is_none_or(|s| !scopes.covers(s)) {
                return deny(&format!("the token lacks {scope}"));
            }
        }
        if user.role == Role::Admin.as_str() {
            return Ok(AccessDecision {
                allowed: true,
                reason: "admin".into(),
            });
        }
        let perms = self.user_permissions(user.id).await?;
        let group = match perms.permission_group_id {
            Some(g) => {
                self.db
                    .run(move |c| Ok::<_, ServiceError>(grants_of(PermissionGroup::grants(c, g)?)))
                    .await?
            }
            None => Vec::new(),
        };
        let effective = apply_overrides(group, &perms.overrides);
        let matching: Vec<&Grant> = effective
            .iter()
            .filter(|g| g.entity == entity && covers(&g.action, action))
            .collect();
        if matching.is_empty() {
            return deny(&format!("no grant for {entity}/{action}"));
        }
        if matching.iter().any(|g| !g.own_only) {
            return Ok(AccessDecision {
                allowed: true,
                reason: format!("granted {entity}/{action}"),
            });
        }
        match owner_id {
            Some(o) if o == user.id => Ok(AccessDecision {
                allowed: true,
                reason: "granted on own items only; the user owns it".into(),
            }),
            Some(_) => deny("granted on own items only; another user owns it"),
            None => deny("granted on own items only; owner_id is required"),
        }
    }
}

fn to_rows(group: i64, grants: &[Grant]) -> Vec<GroupGrant> {
    let mut rows: Vec<GroupGrant> = Vec::new();
    for g in grants {
        // The primary key is (group, entity, action): a repeated pair keeps its last own_only.
        rows.retain(|r| !(r.entity == g.entity && r.action == g.action));
        rows.push(GroupGrant {
            group_id: group,
            entity: g.entity.clone(),
            action: g.action.clone(),
            own_only: g.own_only,
        });
    }
    rows
}

/// The scope a token needs for one entity action (API.md §2's mapping).
pub fn scope_for(entity: &str, action: &str) -> String {
    match (entity, action) {
        ("tasks", _) => "tasks.run".into(),
        ("logs", _) => "logs.read".into(),
        (e, "read") => format!("{e}.read"),
        (e, _) => format!("{e}.write"),
    }
}
