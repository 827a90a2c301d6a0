//! Media: uploads (streamed to a temp file while hashed, probed, then moved into the
//! [`BlobStore`](crate::blobs::BlobStore)), the checks a media message passes at send, who may
//! fetch a blob, signed URLs, and cleaning up after a recall.
//!
//! An upload's life: bytes → temp file under `<data_dir>/tmp` (SHA-256 on the way, size limit
//! and content sniffing enforced as the bytes arrive) → [`probe`] on the blocking pool →
//! thumbnail blob, then the blob itself (a rename on the local disk) → `media` rows. Any
//! failure removes the temp file, so no partial blob is ever visible.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use confab_proto::{
    Content, ErrorCode, MediaKind, MediaRef, MediaUrlRequest, MediaUrlResponse, Thumbnail,
    UploadResponse, UserId,
};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::blobs::{BlobKey, MediaId};
use crate::error::{AppError, AppResult};
use crate::state::{now_millis, Actor, AppState};
use crate::store::MediaRecord;

pub mod probe;
pub mod sign;

pub use sign::{UrlSigner, Variant};

/// What the client said about an upload.
#[derive(Debug, Clone, Default)]
pub struct UploadParams {
    /// `?kind=`; otherwise implied by an `image/*`, `audio/*` or `video/*` `Content-Type`.
    pub declared: Option<MediaKind>,
    /// `?name=`: the original file name (sanitized before it is kept).
    pub name: Option<String>,
    /// `Content-Length`, when given.
    pub content_length: Option<u64>,
}

/// A temp file that removes itself unless kept.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Where uploads in progress are written; emptied at start (leftovers of a crash).
pub fn prepare_tmp_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = data_dir.join("tmp");
    if dir.exists() {
        for entry in std::fs::read_dir(&dir)? {
            let _ = std::fs::remove_file(entry?.path());
        }
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn too_large(kind: Option<MediaKind>, limit: u64) -> AppError {
    let what = kind.map_or("uploads", |k| match k {
        MediaKind::Image => "images",
        MediaKind::Voice => "voice recordings",
        MediaKind::Video => "videos",
        MediaKind::File => "files",
    });
    AppError::new(
        ErrorCode::MediaTooLarge,
        format!("{what} may have at most {limit} bytes"),
    )
}

fn incomplete(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::IncompleteUpload, message)
}

/// `POST /api/v1/media`: stores the body and answers with a message content ready to send.
///
/// A refused upload's remaining body is read and discarded for a little while (at most 8 MiB
/// or 2 s) before the answer, so that the client, still sending, gets the typed error rather
/// than a reset connection.
pub async fn upload<S, E>(
    state: &AppState,
    actor: &Actor,
    params: UploadParams,
    mut body: S,
) -> AppResult<UploadResponse>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let result = receive(state, actor, params, &mut body).await;
    if result.is_err() {
        let drain = async {
            let mut left: i64 = 8 * 1024 * 1024;
            while let Some(Ok(chunk)) = body.next().await {
                left -= chunk.len() as i64;
                if left < 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
    }
    result
}

async fn receive<S, E>(
    state: &AppState,
    actor: &Actor,
    params: UploadParams,
    body: &mut S,
) -> AppResult<UploadResponse>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let config = &state.config;
    let largest = MediaKind::ALL
        .into_iter()
        .map(|k| config.max_media_bytes(k))
        .max()
        .unwrap_or(0);
    let mut limit = params
        .declared
        .map_or(largest, |k| config.max_media_bytes(k));
    if let Some(len) = params.content_length {
        if len > limit {
            return Err(too_large(params.declared, limit));
        }
    }

    let path = state
        .media_tmp
        .join(format!("upload-{:016x}", rand::random::<u64>()));
    let mut temp = TempFile { path, keep: false };
    let mut file = tokio::fs::File::create(&temp.path)
        .await
        .map_err(AppError::internal)?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    let mut head: Vec<u8> = Vec::with_capacity(probe::SNIFF_BYTES);
    let mut decided: Option<(MediaKind, String)> = None;
    loop {
        // A client that stops sending without closing is cut off like a dropped one.
        let next = tokio::time::timeout(config.idle_timeout(), body.next()).await;
        let chunk = match next {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(e))) => {
                return Err(incomplete(format!("the upload was cut off: {e}")));
            }
            Ok(None) => break,
            Err(_) => {
                return Err(incomplete(format!(
                    "no data for {} seconds",
                    config.idle_timeout_secs
                )));
            }
        };
        written += chunk.len() as u64;
        if decided.is_none() && head.len() < probe::SNIFF_BYTES {
            let take = (probe::SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == probe::SNIFF_BYTES {
                let sniffed = probe::sniff(&head);
                let kind = probe::reconcile(params.declared, &sniffed)?;
                limit = config.max_media_bytes(kind);
                if params.content_length.is_some_and(|len| len > limit) {
                    return Err(too_large(Some(kind), limit));
                }
                decided = Some((kind, sniffed.mime));
            }
        }
        if written > limit {
            return Err(too_large(decided.as_ref().map(|d| d.0), limit));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    if let Some(len) = params.content_length {
        if written != len {
            return Err(incomplete(format!(
                "{written} of the {len} bytes announced arrived"
            )));
        }
    }
    if written == 0 {
        return Err(AppError::invalid("the upload is empty"));
    }
    let (kind, mime) = match decided {
        Some(d) => d,
        None => {
            let sniffed = probe::sniff(&head);
            let kind = probe::reconcile(params.declared, &sniffed)?;
            let limit = config.max_media_bytes(kind);
            if written > limit {
                return Err(too_large(Some(kind), limit));
            }
            (kind, sniffed.mime)
        }
    };
    file.flush().await.map_err(AppError::internal)?;
    file.sync_all().await.map_err(AppError::internal)?;
    drop(file);
    let id = MediaId::from_digest(&hasher.finalize());
    let name = params.name.as_deref().map(probe::sanitize_name);

    // Known bytes: nothing to probe or store, only who uploaded them.
    if let Some(existing) = state.store.media(id.as_str()).await? {
        drop(temp);
        state
            .store
            .put_media(existing.clone(), actor.user_id, now_millis())
            .await?;
        let mut content = existing.content.clone();
        if let (Content::File { name: n, .. }, Some(name)) = (&mut content, name) {
            *n = name;
        }
        return Ok(answer(
            state,
            actor.user_id,
            &id,
            existing.kind,
            content,
            true,
        ));
    }

    let media = MediaRef {
        id: id.to_string(),
        mime: mime.clone(),
        size: written,
    };
    let (content, thumb) = describe(state, &temp.path, kind, media, name.clone()).await?;
    if let Some(jpeg) = thumb {
        state
            .blobs
            .put_bytes(&BlobKey::thumbnail(&id), jpeg.into())
            .await
            .map_err(AppError::internal)?;
    }
    state
        .blobs
        .put_file(&BlobKey::original(&id), &temp.path)
        .await
        .map_err(AppError::internal)?;
    temp.keep = true; // moved into the store
    let record = MediaRecord {
        id: id.to_string(),
        kind,
        mime,
        size: written,
        name,
        content: content.clone(),
        created_at: now_millis(),
    };
    state
        .store
        .put_media(record, actor.user_id, now_millis())
        .await?;
    tracing::info!(media_id = %id, kind = kind.as_str(), size = written, by = actor.user_id, "media stored");
    Ok(answer(state, actor.user_id, &id, kind, content, false))
}

/// Measures the upload and builds its message content; returns the thumbnail or poster JPEG.
async fn describe(
    state: &AppState,
    path: &Path,
    kind: MediaKind,
    media: MediaRef,
    name: Option<String>,
) -> AppResult<(Content, Option<Vec<u8>>)> {
    let config = state.config.clone();
    let p = path.to_path_buf();
    match kind {
        MediaKind::Image => {
            let info = tokio::task::spawn_blocking(move || probe::image(&p, &config))
                .await
                .map_err(AppError::internal)??;
            Ok((
                Content::Image {
                    media,
                    width: info.width,
                    height: info.height,
                    thumbnail: Some(info.thumb.size),
                    placeholder: Some(info.thumb.placeholder),
                },
                Some(info.thumb.jpeg),
            ))
        }
        MediaKind::Voice => {
            let mime = media.mime.clone();
            let duration_ms =
                tokio::task::spawn_blocking(move || probe::audio_duration_ms(&p, &mime))
                    .await
                    .map_err(AppError::internal)?;
            Ok((Content::Voice { media, duration_ms }, None))
        }
        MediaKind::Video => {
            let mime = media.mime.clone();
            let q = p.clone();
            let info = tokio::task::spawn_blocking(move || {
                let mut info = probe::mp4_info(&q).unwrap_or_default();
                if info.duration_ms.is_none() {
                    info.duration_ms = probe::audio_duration_ms(&q, &mime);
                }
                info
            })
            .await
            .map_err(AppError::internal)?;
            let poster = poster(&p, state.config.thumbnail_max_side).await;
            let (poster_size, jpeg) = match poster {
                Some(t) => (Some(t.size), Some(t.jpeg)),
                None => (None, None),
            };
            Ok((
                Content::Video {
                    media,
                    duration_ms: info.duration_ms,
                    width: info.width,
                    height: info.height,
                    poster: poster_size,
                },
                jpeg,
            ))
        }
        MediaKind::File => Ok((
            Content::File {
                media,
                name: name.unwrap_or_else(|| "file".to_owned()),
            },
            None,
        )),
    }
}

/// A poster frame from `ffmpeg`, if it is on the PATH; `None` (not an error) otherwise or if it
/// fails.
async fn poster(video: &Path, max_side: u32) -> Option<probe::Thumb> {
    let out = video.with_extension("poster.png");
    let run = tokio::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(video)
        .args(["-frames:v", "1", "-f", "image2", "-c:v", "png"])
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status();
    let status = match tokio::time::timeout(std::time::Duration::from_secs(30), run).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, "ffmpeg could not run");
            }
            return None;
        }
        Err(_) => {
            tracing::warn!("ffmpeg took too long for a poster frame");
            let _ = tokio::fs::remove_file(&out).await;
            return None;
        }
    };
    let thumb = if status.success() {
        let o = out.clone();
        tokio::task::spawn_blocking(move || {
            let img = image::open(&o).ok()?;
            probe::thumbnail(&img, max_side).ok()
        })
        .await
        .ok()
        .flatten()
    } else {
        None
    };
    let _ = tokio::fs::remove_file(&out).await;
    thumb
}

fn answer(
    state: &AppState,
    user: UserId,
    id: &MediaId,
    kind: MediaKind,
    content: Content,
    duplicate: bool,
) -> UploadResponse {
    let expires_at = now_millis() + state.config.media_url_ttl_secs as i64 * 1000;
    let has_thumb = thumbnail_of(&content).is_some();
    UploadResponse {
        kind,
        url: signed_path(state, id, Variant::Blob, user, expires_at),
        thumbnail_url: has_thumb
            .then(|| signed_path(state, id, Variant::Thumbnail, user, expires_at)),
        expires_at,
        content,
        duplicate,
    }
}

/// `/api/v1/media/{id}[/thumb]?u=…&exp=…&sig=…` (`exp` in Unix seconds).
fn signed_path(
    state: &AppState,
    id: &MediaId,
    variant: Variant,
    user: UserId,
    expires_at_ms: i64,
) -> String {
    let exp = expires_at_ms / 1000;
    let sig = state.media_signer.sign(id.as_str(), variant, user, exp);
    let suffix = if variant == Variant::Thumbnail {
        "/thumb"
    } else {
        ""
    };
    format!("/api/v1/media/{id}{suffix}?u={user}&exp={exp}&sig={sig}")
}

/// `media_url`: a signed path for a blob the user may see.
pub async fn media_url(
    state: &AppState,
    actor: &Actor,
    req: MediaUrlRequest,
) -> AppResult<MediaUrlResponse> {
    let id = MediaId::parse(&req.media_id).ok_or_else(|| AppError::not_found("media"))?;
    require_access(state, &id, actor.user_id).await?;
    let expires_at = now_millis() + state.config.media_url_ttl_secs as i64 * 1000;
    let variant = if req.thumbnail {
        Variant::Thumbnail
    } else {
        Variant::Blob
    };
    Ok(MediaUrlResponse {
        url: signed_path(state, &id, variant, actor.user_id, expires_at),
        expires_at,
    })
}

/// Refuses unless `user` uploaded the blob or is a current member of a conversation with a
/// message that refers to it. Unknown ids and refused ones look alike to the caller.
pub async fn require_access(state: &AppState, id: &MediaId, user: UserId) -> AppResult<()> {
    if state.store.media_access(id.as_str(), user).await? {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "you may not see this media (or it does not exist)",
        ))
    }
}

/// Checks a media message at send and replaces its metadata with what the server measured:
/// the blob must exist and have been uploaded by the sender, as the kind the content says.
pub async fn check_content(
    state: &AppState,
    sender: UserId,
    content: Content,
) -> AppResult<Content> {
    let Some(kind) = content.media_kind() else {
        return Ok(content);
    };
    let media = content.media().expect("media content has a blob");
    let id = MediaId::parse(&media.id)
        .ok_or_else(|| AppError::invalid("media ids are 64 lowercase hex characters"))?;
    let record = state
        .store
        .media(id.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("media"))?;
    if !state.store.media_uploaded_by(id.as_str(), sender).await? {
        return Err(AppError::forbidden("you can only send media you uploaded"));
    }
    if record.kind != kind {
        return Err(AppError::new(
            ErrorCode::MediaTypeMismatch,
            format!("this media was stored as {}", record.kind.as_str()),
        ));
    }
    let mut stored = record.content;
    if let (Content::File { name, .. }, Content::File { name: given, .. }) = (&mut stored, &content)
    {
        if !given.trim().is_empty() {
            *name = probe::sanitize_name(given);
        }
    }
    Ok(stored)
}

/// After a recall: drops the message's blob references and deletes the blobs nothing refers to
/// any more. Failures are logged; a leftover blob is unreachable, never exposed.
pub async fn release(state: &AppState, conversation_id: i64, seq: i64) {
    let ids = match state
        .store
        .release_message_media(conversation_id, seq)
        .await
    {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, conversation_id, seq, "releasing media failed");
            return;
        }
    };
    for id in ids.iter().filter_map(|id| MediaId::parse(id)) {
        for key in [BlobKey::original(&id), BlobKey::thumbnail(&id)] {
            if let Err(e) = state.blobs.delete(&key).await {
                tracing::warn!(error = %e, key = key.as_str(), "deleting a blob failed");
            }
        }
        tracing::info!(media_id = %id, "media deleted after recall");
    }
}

/// The thumbnail size recorded in a content, if it has one.
pub fn thumbnail_of(content: &Content) -> Option<Thumbnail> {
    match content {
        Content::Image { thumbnail, .. } => *thumbnail,
        Content::Video { poster, .. } => *poster,
        _ => None,
    }
}
