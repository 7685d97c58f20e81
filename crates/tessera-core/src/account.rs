//! Username and password rules of API.md §7.

/// bcrypt reads at most 72 bytes; longer passwords are refused, never silently truncated.
pub const PASSWORD_MAX_BYTES: usize = 72;
pub const PASSWORD_MIN_BYTES: usize = 8;
const USERNAME_MIN: usize = 3;
const USERNAME_MAX: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountRuleError {
    #[error("username must be {USERNAME_MIN}-{USERNAME_MAX} characters of letters, digits, '_', '.' or '-'")]
    BadUsername,
    #[error("password must be at least {PASSWORD_MIN_BYTES} bytes")]
    PasswordTooShort,
    #[error("password must be at most {PASSWORD_MAX_BYTES} bytes")]
    PasswordTooLong,
}

/// A username as stored: checked and lowercased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, AccountRuleError> {
        let ok = (USERNAME_MIN..=USERNAME_MAX).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if ok {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(AccountRuleError::BadUsername)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

pub fn check_password(password: &str) -> Result<(), AccountRuleError> {
    match password.len() {
        n if n < PASSWORD_MIN_BYTES => Err(AccountRuleError::PasswordTooShort),
        n if n > PASSWORD_MAX_BYTES => Err(AccountRuleError::PasswordTooLong),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked_and_lowercased() {
        assert_eq!(Username::parse("Ada.L-1_x").unwrap().as_str(), "ada.l-1_x");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("has space").is_err());
        assert!(Username::parse("ünï").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn passwords_are_bounded_by_bytes_not_chars() {
        assert_eq!(check_password("short"), Err(AccountRuleError::PasswordTooShort));
        assert!(check_password(&"a".repeat(72)).is_ok());
        assert_eq!(
            check_password(&"a".repeat(73)),
            Err(AccountRuleError::PasswordTooLong)
        );
        // 25 three-byte characters = 75 bytes: refused even though it is 25 characters.
        assert_eq!(
            check_password(&"€".repeat(25)),
            Err(AccountRuleError::PasswordTooLong)
        );
    }
}
