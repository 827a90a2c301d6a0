//! Media messages: the blob reference and metadata carried by image, file, voice and video
//! content, the upload answer and signed download URLs. docs/protocol.md ("Media") describes
//! the HTTP side: `POST /api/v1/media`, `GET /api/v1/media/{id}` and `/thumb`.

use serde::{Deserialize, Serialize};

use crate::Millis;

/// What an upload is, decided by the server from the bytes (magic numbers), never from the
/// file name.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Voice,
    Video,
    File,
}

impl MediaKind {
    pub const ALL: [MediaKind; 4] = [
        MediaKind::Image,
        MediaKind::Voice,
        MediaKind::Video,
        MediaKind::File,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A stored blob: its id is the lowercase hex SHA-256 of its bytes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// 64 lowercase hex characters.
    pub id: String,
    /// Detected from the content, e.g. `image/png`.
    pub mime: String,
    /// Bytes.
    pub size: u64,
}

/// A small preview image stored beside the blob (`GET /api/v1/media/{id}/thumb`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
}

/// The answer to an upload: `content` is ready to be sent as a message as it is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResponse {
    pub kind: MediaKind,
    pub content: crate::Content,
    /// A signed, short-lived path for the blob (relative to the server's base URL).
    pub url: String,
    /// The same for the thumbnail or poster, when there is one.
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    /// When the signed paths stop working.
    pub expires_at: Millis,
    /// The same bytes were already stored: nothing new was written.
    #[serde(default)]
    pub duplicate: bool,
}

/// `{"type":"media_url","data":{"media_id":"…","thumbnail":false}}`
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUrlRequest {
    pub media_id: String,
    /// The thumbnail (image) or poster frame (video) instead of the blob.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub thumbnail: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUrlResponse {
    /// `/api/v1/media/{id}?u=…&exp=…&sig=…`: usable by an `<img>` or `<video>` tag without a
    /// token, until `expires_at`, and only while the user may still see the blob.
    pub url: String,
    pub expires_at: Millis,
}
