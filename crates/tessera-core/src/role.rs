use std::fmt;
use std::str::FromStr;

/// `admin` holds every scope; `user` gets its rights from a permission group and overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown role {0:?}: expected \"user\" or \"admin\"")]
pub struct UnknownRole(pub String);

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    /// RomM's legacy `viewer` and `editor` are accepted on input and stored as `user`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "user" | "viewer" | "editor" => Ok(Role::User),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_roles_become_user() {
        assert_eq!("viewer".parse(), Ok(Role::User));
        assert_eq!("Editor".parse(), Ok(Role::User));
        assert_eq!("ADMIN".parse(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
