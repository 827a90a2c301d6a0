//! Signed media URLs: `?u=USER&exp=UNIX_SECONDS&sig=HEX`, where `sig` is the HMAC-SHA256 of the
//! media id, the variant (blob or thumbnail), the user and the expiry under a server secret kept
//! in the data directory (`media.key`). The user is part of the signature so that the server
//! can check, at fetch time, that this user may still see the blob.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use confab_proto::UserId;

type HmacSha256 = Hmac<Sha256>;

pub struct UrlSigner {
    key: [u8; 32],
}

/// What a signature covers besides the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Blob,
    Thumbnail,
}

impl Variant {
    fn tag(self) -> &'static str {
        match self {
            Variant::Blob => "blob",
            Variant::Thumbnail => "thumb",
        }
    }
}

impl UrlSigner {
    /// Loads the secret from `path`, creating it (32 random bytes, owner-only) if missing.
    pub fn load_or_create(path: &Path) -> anyhow::Result<UrlSigner> {
        if let Ok(bytes) = std::fs::read(path) {
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} must hold 32 bytes", path.display()))?;
            return Ok(UrlSigner { key });
        }
        let key: [u8; 32] = rand::random();
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(&tmp)?;
            f.write_all(&key)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(UrlSigner { key })
    }

    fn mac(&self, id: &str, variant: Variant, user: UserId, exp: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length works");
        mac.update(format!("{id}\n{}\n{user}\n{exp}", variant.tag()).as_bytes());
        mac
    }

    pub fn sign(&self, id: &str, variant: Variant, user: UserId, exp: i64) -> String {
        hex::encode(self.mac(id, variant, user, exp).finalize().into_bytes())
    }

    /// Whether `sig` is right for these values (in constant time).
    pub fn verify(&self, id: &str, variant: Variant, user: UserId, exp: i64, sig: &str) -> bool {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        self.mac(id, variant, user, exp).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("media.key");
        let s = UrlSigner::load_or_create(&path).unwrap();
        let again = UrlSigner::load_or_create(&path).unwrap();
        let sig = s.sign("ab", Variant::Blob, 7, 100);
        assert!(again.verify("ab", Variant::Blob, 7, 100, &sig));
        assert!(!s.verify("ab", Variant::Thumbnail, 7, 100, &sig));
        assert!(!s.verify("ab", Variant::Blob, 8, 100, &sig));
        assert!(!s.verify("ab", Variant::Blob, 7, 101, &sig));
        assert!(!s.verify("ac", Variant::Blob, 7, 100, &sig));
        assert!(!s.verify("ab", Variant::Blob, 7, 100, "zz"));
    }
}
