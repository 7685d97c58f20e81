//! A user's rights: the scope set derived from role, permission group and per-user overrides (API.md §2).

use crate::scope::{ScopeCatalog, ScopeSet};
use crate::Role;

pub const ENTITIES: [&str; 9] = [
    "platforms",
    "roms",
    "collections",
    "firmware",
    "assets",
    "devices",
    "users",
    "tasks",
    "logs",
];
pub const ACTIONS: [&str; 3] = ["read", "write", "delete"];

/// One `(entity, action)` grant; `own_only` still gives the scope (the main app enforces ownership).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub entity: String,
    pub action: String,
    pub own_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Grant,
    Revoke,
}

/// Applies overrides to a group's grants: a revoke removes the pair, a grant adds it.
pub fn apply_overrides(mut grants: Vec<Grant>, overrides: &[(Grant, Effect)]) -> Vec<Grant> {
    for (g, effect) in overrides {
        grants.retain(|x| !(x.entity == g.entity && x.action == g.action));
        if *effect == Effect::Grant {
            grants.push(g.clone());
        }
    }
    grants
}

/// The scope names one grant gives.
fn scopes_of(entity: &str, action: &str) -> Vec<String> {
    let write = matches!(action, "write" | "delete");
    let mut out = match (entity, write) {
        ("tasks", _) => vec!["tasks.run".to_owned()],
        ("logs", _) => vec!["logs.read".to_owned()],
        (e, false) => vec![format!("{e}.read")],
        (e, true) => vec![format!("{e}.write")],
    };
    // Any roms grant covers the user's own ROM data.
    if entity == "roms" {
        out.extend(["roms.user.read".to_owned(), "roms.user.write".to_owned()]);
    }
    out
}

/// Rights as a normalised scope set. Admins hold every scope; `me.*` are always present.
pub fn rights(catalog: &ScopeCatalog, role: Role, grants: &[Grant]) -> ScopeSet {
    if role == Role::Admin {
        return catalog.all();
    }
    let mut set = ScopeSet::EMPTY;
    for name in ["me.read", "me.write"] {
        set = set.or(catalog.get(name).unwrap_or_default());
    }
    for g in grants {
        for name in scopes_of(&g.entity, &g.action) {
            // A custom catalog may lack a scope; such a grant simply gives nothing.
            set = set.or(catalog.get(&name).unwrap_or_default());
        }
    }
    catalog.normalize(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(entity: &str, action: &str) -> Grant {
        Grant {
            entity: entity.into(),
            action: action.into(),
            own_only: false,
        }
    }

    #[test]
    fn member_group_gives_the_documented_scopes() {
        let c = ScopeCatalog::romm_default();
        let member: Vec<Grant> = [
            ("platforms", "read"),
            ("roms", "read"),
            ("collections", "read"),
            ("firmware", "read"),
            ("assets", "read"),
            ("devices", "read"),
            ("assets", "write"),
            ("devices", "write"),
            ("collections", "write"),
        ]
        .iter()
        .map(|(e, a)| g(e, a))
        .collect();
        let r = rights(&c, Role::User, &member);
        assert_eq!(
            c.to_text(r),
            "me.read roms.read platforms.read assets.read devices.read firmware.read roms.user.read \
             collections.read me.write assets.write devices.write roms.user.write collections.write"
        );
    }

    #[test]
    fn admins_hold_everything_and_overrides_apply() {
        let c = ScopeCatalog::romm_default();
        assert_eq!(rights(&c, Role::Admin, &[]), c.all());
        let grants = apply_overrides(
            vec![g("roms", "read"), g("logs", "read")],
            &[
                (g("logs", "read"), Effect::Revoke),
                (g("users", "delete"), Effect::Grant),
            ],
        );
        let r = rights(&c, Role::User, &grants);
        assert_eq!(
            c.to_text(r),
            "me.read roms.read roms.user.read me.write roms.user.write users.read users.write"
        );
        assert_eq!(c.to_text(rights(&c, Role::User, &[])), "me.read me.write");
    }
}
