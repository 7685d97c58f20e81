//! `/api/permissions/*` (admin credential) and `/api/access/check`.

pub mod access_check;
pub mod catalog;
pub mod groups;
pub mod me;
pub mod users;

use tessera_core::rights::{Effect, Grant};
use tessera_proto::users::{GrantView, GroupView, OverrideView};

pub fn grant_view(g: &Grant) -> GrantView {
    GrantView {
        entity: g.entity.clone(),
        action: g.action.clone(),
        own_only: g.own_only,
    }
}

pub fn grant_of(g: GrantView) -> Grant {
    Grant {
        entity: g.entity,
        action: g.action,
        own_only: g.own_only,
    }
}

pub fn group_view(g: &tessera_service::permissions::GroupView) -> GroupView {
    GroupView {
        id: g.group.id,
        name: g.group.name.clone(),
        description: g.group.description.clone(),
        is_default: g.group.is_default,
        grants: g.grants.iter().map(grant_view).collect(),
    }
}

pub fn override_view((g, e): &(Grant, Effect)) -> OverrideView {
    OverrideView {
        entity: g.entity.clone(),
        action: g.action.clone(),
        own_only: g.own_only,
        effect: if *e == Effect::Revoke { "revoke" } else { "grant" }.into(),
    }
}
