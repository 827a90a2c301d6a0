//! The blob port: content-addressed bytes behind [`BlobStore`]. One implementation,
//! [`ObjectBlobStore`], built on the `object_store` crate, serves both the local disk (the
//! default, `<data_dir>/blobs`) and an S3-compatible bucket (`--blob-url s3://bucket/prefix`).
//!
//! Keys are derived from a validated SHA-256 hex id only ([`BlobKey`]), so nothing outside the
//! store can ever be named by a request.

use std::ops::Range;
use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;

mod object;

pub use object::ObjectBlobStore;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found")]
    NotFound,
    #[error("blob store failure: {0}")]
    Backend(String),
}

pub type BlobResult<T> = Result<T, BlobError>;

/// Where a blob lives in the store: `ab/abcdef…` for an upload, `thumbs/ab/abcdef….jpg` for
/// its thumbnail or poster frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobKey(String);

impl BlobKey {
    /// The original bytes of media `id` (which must be a valid id).
    pub fn original(id: &MediaId) -> BlobKey {
        BlobKey(format!("{}/{}", &id.0[..2], id.0))
    }

    /// The thumbnail (image) or poster frame (video) of media `id`.
    pub fn thumbnail(id: &MediaId) -> BlobKey {
        BlobKey(format!("thumbs/{}/{}.jpg", &id.0[..2], id.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A media id: the lowercase hex SHA-256 of the blob's bytes. Only ids that pass
/// [`MediaId::parse`] ever reach the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaId(String);

impl MediaId {
    pub fn parse(s: &str) -> Option<MediaId> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| MediaId(s.to_owned()))
    }

    pub fn from_digest(digest: &[u8]) -> MediaId {
        MediaId(hex::encode(digest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MediaId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An open read of (part of) a blob.
pub struct BlobRead {
    /// The whole blob's size.
    pub size: u64,
    /// The bytes of the requested range, in order.
    pub stream: BoxStream<'static, BlobResult<Bytes>>,
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Moves the complete file at `file` into the store under `key` and removes `file`. A key
    /// that exists already is left as it is (its content is the same by construction). The blob
    /// appears whole or not at all.
    async fn put_file(&self, key: &BlobKey, file: &Path) -> BlobResult<()>;
    /// Stores small bytes (thumbnails).
    async fn put_bytes(&self, key: &BlobKey, bytes: Bytes) -> BlobResult<()>;
    /// The size of the blob, or `None` if there is none.
    async fn size(&self, key: &BlobKey) -> BlobResult<Option<u64>>;
    /// Reads `range` (or everything) of the blob.
    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> BlobResult<BlobRead>;
    /// Removes the blob; removing a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> BlobResult<()>;
}
