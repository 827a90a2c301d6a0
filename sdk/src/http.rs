//! The HTTP endpoints: register, log in, and media upload and download.

use std::time::Duration;

use confab_proto::http::{ErrorBody, LoginRequest, LoginResponse, RegisterRequest};
use confab_proto::{MediaKind, UploadResponse, UserPublic};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Endpoint, Error, Result};

const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// `POST /api/v1/register` → the new user.
pub(crate) async fn register(endpoint: &Endpoint, request: &RegisterRequest) -> Result<UserPublic> {
    post(endpoint, "api/v1/register", request).await
}

/// `POST /api/v1/login` → a token for a new device session.
pub(crate) async fn login(endpoint: &Endpoint, request: &LoginRequest) -> Result<LoginResponse> {
    post(endpoint, "api/v1/login", request).await
}

/// `POST /api/v1/media?kind=&name=` with `body` streamed → the stored media.
pub(crate) async fn upload(
    endpoint: &Endpoint,
    token: &str,
    body: reqwest::Body,
    length: Option<u64>,
    name: Option<&str>,
    kind: Option<MediaKind>,
) -> Result<UploadResponse> {
    // No overall timeout: a large upload takes as long as it takes.
    let http = reqwest::Client::builder()
        .connect_timeout(HTTP_TIMEOUT)
        .build()?;
    let mut url = endpoint.api("api/v1/media");
    {
        let mut q = url.query_pairs_mut();
        if let Some(kind) = kind {
            q.append_pair("kind", kind.as_str());
        }
        if let Some(name) = name {
            q.append_pair("name", name);
        }
    }
    let mut request = http.post(url).bearer_auth(token).body(body);
    if let Some(length) = length {
        request = request.header(reqwest::header::CONTENT_LENGTH, length);
    }
    decode(request.send().await?).await
}

/// `GET` a media path (`api/v1/media/ID` or `…/thumb`), the open response for streaming.
pub(crate) async fn download(
    endpoint: &Endpoint,
    token: &str,
    path: &str,
) -> Result<reqwest::Response> {
    let http = reqwest::Client::builder()
        .connect_timeout(HTTP_TIMEOUT)
        .build()?;
    let response = http
        .get(endpoint.api(path))
        .bearer_auth(token)
        .send()
        .await?;
    if response.status().is_success() {
        return Ok(response);
    }
    decode::<serde_json::Value>(response)
        .await
        .map(|_| unreachable!("an error status"))
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let status_error = response.error_for_status_ref().err();
    let bytes = response.bytes().await?;
    match status_error {
        None => Ok(serde_json::from_slice(&bytes)?),
        Some(status_error) => match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Error::Server(body.error)),
            Err(_) => Err(Error::Http(status_error)),
        },
    }
}

async fn post<B: Serialize, T: DeserializeOwned>(
    endpoint: &Endpoint,
    path: &str,
    body: &B,
) -> Result<T> {
    let http = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build()?;
    let response = http.post(endpoint.api(path)).json(body).send().await?;
    let status_error = response.error_for_status_ref().err();
    let bytes = response.bytes().await?;
    match status_error {
        None => Ok(serde_json::from_slice(&bytes)?),
        Some(status_error) => match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Error::Server(body.error)),
            Err(_) => Err(Error::Http(status_error)),
        },
    }
}
