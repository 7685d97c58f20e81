//! Secrets Tessera generates for itself on a single instance, kept in the data dir with mode 0600.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Reads `path`, or creates it with 32 random bytes as hex. `create_new` keeps two racing starts from
/// overwriting each other: the loser reads the winner's key.
pub fn read_or_create_hex_secret(path: &Path) -> std::io::Result<String> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            let secret = tessera_crypto::random::hex_secret(32);
            f.write_all(secret.as_bytes())?;
            f.sync_all()?;
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(path)?.trim().to_owned())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("service-key");
        let a = super::read_or_create_hex_secret(&p).unwrap();
        let b = super::read_or_create_hex_secret(&p).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
