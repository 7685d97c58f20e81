//! Id newtypes. Integers where RomM clients parse integers; UUIDs elsewhere.

use std::fmt;

macro_rules! int_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

macro_rules! uuid_id {
    ($(#[$m:meta])* $name:ident, $ctor:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::$ctor())
            }

            pub fn parse(s: &str) -> Option<Self> {
                uuid::Uuid::parse_str(s).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

int_id!(UserId);
int_id!(ClientTokenId);
int_id!(GroupId);
int_id!(OAuthClientId);
uuid_id!(
    /// Devices have random UUIDs, as in RomM.
    DeviceId,
    new_v4
);
uuid_id!(
    /// Sessions are UUIDv7 so they sort by creation.
    SessionId,
    now_v7
);
uuid_id!(
    /// A refresh family: every refresh and access token from one login.
    FamilyId,
    now_v7
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_ids_round_trip_through_text() {
        let d = DeviceId::generate();
        assert_eq!(DeviceId::parse(&d.to_string()), Some(d));
        assert_eq!(SessionId::generate().0.get_version_num(), 7);
        assert!(DeviceId::parse("not-a-uuid").is_none());
    }
}
