//! The HTTP account endpoints: register and log in.

use std::time::Duration;

use confab_proto::http::{ErrorBody, LoginRequest, LoginResponse, RegisterRequest};
use confab_proto::UserPublic;
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
