//! [`BlobStore`] on `object_store`: `LocalFileSystem` under the data directory, or
//! `AmazonS3` (any S3-compatible service) under a bucket and prefix.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use super::{BlobError, BlobKey, BlobRead, BlobResult, BlobStore};

/// Part size of multipart uploads to a bucket (S3 needs at least 5 MiB per part).
const PART_BYTES: usize = 8 * 1024 * 1024;

pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    /// Set for the local disk: finished uploads are renamed into place instead of copied.
    local_root: Option<PathBuf>,
}

fn backend(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        other => BlobError::Backend(other.to_string()),
    }
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

impl ObjectBlobStore {
    /// Blobs as files under `root` (created if missing).
    pub fn local(root: &Path) -> anyhow::Result<ObjectBlobStore> {
        std::fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(&root)?;
        Ok(ObjectBlobStore {
            store: Arc::new(store),
            local_root: Some(root),
        })
    }

    /// Blobs in the bucket named by `s3://bucket/prefix`; credentials, region and endpoint
    /// come from the `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for S3-compatible services,
    /// `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint).
    pub fn from_url(url: &str) -> anyhow::Result<ObjectBlobStore> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| anyhow::anyhow!("blob_url must look like s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "blob_url names no bucket");
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        };
        Ok(ObjectBlobStore::new(store))
    }

    /// Blobs in any `object_store` implementation, written with multipart uploads.
    pub fn new(store: Arc<dyn ObjectStore>) -> ObjectBlobStore {
        ObjectBlobStore {
            store,
            local_root: None,
        }
    }

    fn path(key: &BlobKey) -> ObjectPath {
        ObjectPath::from(key.as_str())
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put_file(&self, key: &BlobKey, file: &Path) -> BlobResult<()> {
        if let Some(root) = &self.local_root {
            // Same file system (both under the data dir): an atomic rename.
            let dest = root.join(key.as_str());
            if tokio::fs::try_exists(&dest).await.map_err(io)? {
                let _ = tokio::fs::remove_file(file).await;
                return Ok(());
            }
            if let Some(parent) = dest.parent() {
                tokio::fs::create_dir_all(parent).await.map_err(io)?;
            }
            return tokio::fs::rename(file, &dest).await.map_err(io);
        }
        if self.size(key).await?.is_some() {
            let _ = tokio::fs::remove_file(file).await;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(&Self::path(key))
            .await
            .map_err(backend)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut f = tokio::fs::File::open(file).await.map_err(io)?;
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = match f.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(io(e));
                }
            };
            if n == 0 {
                break;
            }
            // Bounds the parts in flight, so memory stays flat.
            if let Err(e) = writer.wait_for_capacity(2).await {
                return Err(backend(e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(backend)?;
        let _ = tokio::fs::remove_file(file).await;
        Ok(())
    }

    async fn put_bytes(&self, key: &BlobKey, bytes: Bytes) -> BlobResult<()> {
        self.store
            .put(&Self::path(key), PutPayload::from_bytes(bytes))
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn size(&self, key: &BlobKey) -> BlobResult<Option<u64>> {
        match self.store.head(&Self::path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> BlobResult<BlobRead> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&Self::path(key), options)
            .await
            .map_err(backend)?;
        let size = result.meta.size;
        let stream = result.into_stream().map_err(backend).boxed();
        Ok(BlobRead { size, stream })
    }

    async fn delete(&self, key: &BlobKey) -> BlobResult<()> {
        match self.store.delete(&Self::path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::MediaId;

    #[tokio::test]
    async fn local_put_get_range_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectBlobStore::local(&dir.path().join("blobs")).unwrap();
        let id = MediaId::parse(&"ab".repeat(32)).unwrap();
        let key = BlobKey::original(&id);
        let tmp = dir.path().join("upload");
        std::fs::write(&tmp, b"hello, blob").unwrap();
        store.put_file(&key, &tmp).await.unwrap();
        assert!(!tmp.exists(), "the upload is moved, not copied");
        assert_eq!(store.size(&key).await.unwrap(), Some(11));
        let read = store.get(&key, Some(7..11)).await.unwrap();
        let bytes: Vec<Bytes> = read.stream.try_collect().await.unwrap();
        assert_eq!(bytes.concat(), b"blob");
        assert_eq!(read.size, 11);
        // Putting the same key again keeps one copy and consumes the new file.
        std::fs::write(&tmp, b"hello, blob").unwrap();
        store.put_file(&key, &tmp).await.unwrap();
        assert!(!tmp.exists());
        store.delete(&key).await.unwrap();
        assert_eq!(store.size(&key).await.unwrap(), None);
        store.delete(&key).await.unwrap();
    }

    /// The bucket path (multipart upload, no rename), here on a local file system.
    #[tokio::test]
    async fn multipart_path_stores_large_files_whole() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("bucket");
        std::fs::create_dir_all(&root).unwrap();
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&root).unwrap();
        let store = ObjectBlobStore::new(Arc::new(fs));
        let id = MediaId::parse(&"cd".repeat(32)).unwrap();
        let key = BlobKey::original(&id);
        let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        let tmp = dir.path().join("upload");
        std::fs::write(&tmp, &data).unwrap();
        store.put_file(&key, &tmp).await.unwrap();
        assert!(!tmp.exists());
        assert_eq!(store.size(&key).await.unwrap(), Some(data.len() as u64));
        let read = store.get(&key, None).await.unwrap();
        let bytes: Vec<Bytes> = read.stream.try_collect().await.unwrap();
        assert_eq!(bytes.concat(), data);
        // An existing key is kept and the new file consumed.
        std::fs::write(&tmp, b"same key").unwrap();
        store.put_file(&key, &tmp).await.unwrap();
        assert!(!tmp.exists());
        assert_eq!(store.size(&key).await.unwrap(), Some(data.len() as u64));
    }

    #[test]
    fn ids_are_strict_hex() {
        assert!(MediaId::parse(&"0f".repeat(32)).is_some());
        for bad in [
            "",
            "../etc/passwd",
            &"0F".repeat(32),
            &"0g".repeat(32),
            &"0".repeat(63),
        ] {
            assert!(MediaId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
