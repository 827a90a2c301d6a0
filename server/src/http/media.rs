//! Media over HTTP: `POST /api/v1/media` (upload, streamed), `GET /api/v1/media/{id}` and
//! `GET /api/v1/media/{id}/thumb` (download with ranges and caching headers). Requests carry
//! `Authorization: Bearer TOKEN`, or — for downloads — a signed `?u=&exp=&sig=` from
//! `media_url` or the upload answer. The rules live in [`crate::media`].

use std::ops::Range;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use confab_proto::{Content, ErrorCode, MediaKind, WireError};
use futures_util::TryStreamExt;
use serde::Deserialize;

use super::{bearer, HttpError};
use crate::accounts;
use crate::blobs::{BlobError, BlobKey, MediaId};
use crate::error::AppError;
use crate::media::{self, probe, UploadParams, Variant};
use crate::state::{now_millis, Actor, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/media",
            // The body is streamed to disk under the per-kind limits, never buffered.
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/media/{id}", get(download))
        .route("/api/v1/media/{id}/thumb", get(download_thumb))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok()
}

async fn actor_from_bearer(state: &AppState, headers: &HeaderMap) -> Result<Actor, HttpError> {
    let token = bearer(headers).ok_or_else(|| {
        HttpError(WireError::new(
            ErrorCode::Unauthenticated,
            "send `Authorization: Bearer TOKEN`",
        ))
    })?;
    let (session, user) = accounts::authenticate(state, &token).await?;
    Ok(Actor {
        user_id: user.id,
        device_id: session.id,
        conn_id: None,
    })
}

#[derive(Deserialize)]
struct UploadQuery {
    kind: Option<String>,
    name: Option<String>,
}

/// `POST /api/v1/media?kind=image&name=cat.png` with the raw bytes as the body → 201
/// `UploadResponse`.
async fn upload(
    State(state): State<AppState>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let actor = actor_from_bearer(&state, &headers).await?;
    let declared = match q.kind.as_deref() {
        Some(k) => Some(MediaKind::parse(k).ok_or_else(|| {
            HttpError::from(AppError::invalid(
                "kind must be one of image, voice, video, file",
            ))
        })?),
        None => header_str(&headers, header::CONTENT_TYPE).and_then(probe::kind_of_content_type),
    };
    let content_length =
        header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    let params = UploadParams {
        declared,
        name: q.name,
        content_length,
    };
    let answer = media::upload(&state, &actor, params, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Strings, so that a mangled query gets a typed refusal rather than the framework's.
#[derive(Deserialize)]
struct SignedQuery {
    u: Option<String>,
    exp: Option<String>,
    sig: Option<String>,
}

async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SignedQuery>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    serve(&state, &id, Variant::Blob, q, &headers).await
}

async fn download_thumb(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SignedQuery>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    serve(&state, &id, Variant::Thumbnail, q, &headers).await
}

/// Who is asking: the bearer token's user, or the user a valid, unexpired signature names.
async fn requester(
    state: &AppState,
    id: &MediaId,
    variant: Variant,
    q: &SignedQuery,
    headers: &HeaderMap,
) -> Result<i64, HttpError> {
    if let (Some(u), Some(exp), Some(sig)) = (&q.u, &q.exp, q.sig.as_deref()) {
        let invalid = || HttpError::from(AppError::forbidden("the URL's signature is not valid"));
        let u: i64 = u.parse().map_err(|_| invalid())?;
        let exp: i64 = exp.parse().map_err(|_| invalid())?;
        if !state.media_signer.verify(id.as_str(), variant, u, exp, sig) {
            return Err(invalid());
        }
        if exp * 1000 <= now_millis() {
            return Err(HttpError(WireError::new(
                ErrorCode::UrlExpired,
                "this media URL has expired; ask for a new one with media_url",
            )));
        }
        return Ok(u);
    }
    Ok(actor_from_bearer(state, headers).await?.user_id)
}

async fn serve(
    state: &AppState,
    id: &str,
    variant: Variant,
    q: SignedQuery,
    headers: &HeaderMap,
) -> Result<Response, HttpError> {
    let id = MediaId::parse(id).ok_or_else(|| AppError::not_found("media"))?;
    let user = requester(state, &id, variant, &q, headers).await?;
    media::require_access(state, &id, user).await?;
    let record = state
        .store
        .media(id.as_str())
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::not_found("media"))?;
    let (key, mime, etag) = match variant {
        Variant::Blob => (
            BlobKey::original(&id),
            record.mime.clone(),
            format!("\"{id}\""),
        ),
        Variant::Thumbnail => {
            if media::thumbnail_of(&record.content).is_none() {
                return Err(AppError::not_found("thumbnail").into());
            }
            (
                BlobKey::thumbnail(&id),
                "image/jpeg".to_owned(),
                format!("\"{id}.thumb\""),
            )
        }
    };
    let cache = "private, max-age=31536000, immutable";
    if let Some(inm) = header_str(headers, header::IF_NONE_MATCH) {
        if inm.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t == etag || t.strip_prefix("W/") == Some(etag.as_str())
        }) {
            return Ok((
                StatusCode::NOT_MODIFIED,
                [(header::ETAG, etag), (header::CACHE_CONTROL, cache.into())],
            )
                .into_response());
        }
    }
    let size = match variant {
        Variant::Blob => record.size,
        Variant::Thumbnail => state
            .blobs
            .size(&key)
            .await
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::not_found("thumbnail"))?,
    };
    let range = match header_str(headers, header::RANGE) {
        Some(h) => match parse_range(h, size) {
            Ok(r) => r,
            Err(()) => {
                let mut r: Response = HttpError(WireError::new(
                    ErrorCode::RangeNotSatisfiable,
                    format!("the blob has {size} bytes"),
                ))
                .into_response();
                r.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
                );
                return Ok(r);
            }
        },
        None => None,
    };
    let read = state
        .blobs
        .get(&key, range.clone())
        .await
        .map_err(|e| match e {
            BlobError::NotFound => AppError::not_found("media"),
            other => AppError::internal(other),
        })?;
    let (status, len) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, size),
    };
    let body = Body::from_stream(read.stream.map_err(std::io::Error::other));
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_LENGTH, len)
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, cache)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_DISPOSITION,
            disposition(&record.content, variant),
        );
    if let Some(r) = &range {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", r.start, r.end - 1),
        );
    }
    response
        .body(body)
        .map_err(|e| AppError::internal(e).into())
}

/// Files download under their original name; pictures, voice and video show inline.
fn disposition(content: &Content, variant: Variant) -> String {
    let name = match (content, variant) {
        (Content::File { name, .. }, Variant::Blob) => name.as_str(),
        _ => return "inline".to_owned(),
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// One `bytes=` range of a blob of `size` bytes. `Ok(None)`: no usable range, serve it all
/// (several ranges, or a malformed header, which RFC 9110 says to ignore). `Err`: the range
/// lies outside the blob (416).
fn parse_range(header: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        (true, false) => match num(b) {
            Some(0) => Err(()),
            Some(n) => Ok(Some(size.saturating_sub(n)..size)),
            None => Ok(None),
        },
        (false, true) => match num(a) {
            Some(start) if start < size => Ok(Some(start..size)),
            Some(_) => Err(()),
            None => Ok(None),
        },
        (false, false) => match (num(a), num(b)) {
            (Some(start), Some(end)) if start <= end => {
                if start >= size {
                    Err(())
                } else {
                    Ok(Some(start..(end + 1).min(size)))
                }
            }
            _ => Ok(None),
        },
        (true, true) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some(90..100)));
        assert_eq!(parse_range("bytes=-500", 100), Ok(Some(0..100)));
        assert_eq!(parse_range("bytes=95-200", 100), Ok(Some(95..100)));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=-0", 100), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
        assert_eq!(parse_range("bytes=5-2", 100), Ok(None));
    }

    #[test]
    fn file_names_are_quoted_and_encoded() {
        let content = Content::File {
            media: confab_proto::MediaRef {
                id: String::new(),
                mime: "application/pdf".into(),
                size: 1,
            },
            name: "Résumé \"final\".pdf".into(),
        };
        assert_eq!(
            disposition(&content, Variant::Blob),
            "attachment; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        assert_eq!(disposition(&content, Variant::Thumbnail), "inline");
    }
}
