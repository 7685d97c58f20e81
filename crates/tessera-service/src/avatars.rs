//! RomM's avatar upload: an image checked by its bytes (never by its name or declared type), size-bounded,
//! kept in the database and served at `/api/users/{id}/avatar`.

use tessera_db::models::user_avatars::UserAvatar;

use crate::{ServiceError, Services};

/// The largest avatar kept.
pub const MAX_AVATAR_BYTES: usize = 2 * 1024 * 1024;

/// What the bytes are, by their signature: PNG, JPEG or WebP; anything else is refused.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() > PNG.len() + 8 && bytes.starts_with(PNG) && &bytes[12..16] == b"IHDR" {
        return Some("image/png");
    }
    if bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if bytes.len() > 16 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    None
}

/// A checked upload: its content type and bytes.
#[derive(Clone, Debug)]
pub struct CheckedAvatar {
    pub content_type: &'static str,
    pub image: Vec<u8>,
}

pub fn check(image: Vec<u8>) -> Result<CheckedAvatar, ServiceError> {
    if image.len() > MAX_AVATAR_BYTES {
        return Err(ServiceError::field("avatar", "at most 2 MiB"));
    }
    let content_type =
        sniff(&image).ok_or_else(|| ServiceError::field("avatar", "must be a PNG, JPEG or WebP image"))?;
    Ok(CheckedAvatar { content_type, image })
}

/// Where `avatar_path` points: the serving URL, versioned so that clients caching it see a new upload.
pub fn avatar_path(user_id: i64, updated_at: i64) -> String {
    format!("/api/users/{user_id}/avatar?v={updated_at}")
}

impl Services {
    /// The user's avatar, or `NotFound`.
    pub async fn avatar(&self, user_id: i64) -> Result<UserAvatar, ServiceError> {
        self.db
            .run(move |c| UserAvatar::find(c, user_id)?.ok_or(ServiceError::NotFound))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend([0; 17]);
        assert_eq!(sniff(&png), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 \0\0\0\0"), Some("image/webp"));
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(sniff(b"GIF89a......"), None);
        assert_eq!(sniff(b"\x89PNG"), None, "a bare signature is not an image");
        assert!(check(vec![0xFF; MAX_AVATAR_BYTES + 1]).is_err());
    }
}
