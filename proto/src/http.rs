//! Bodies of the HTTP account endpoints. Errors come back as `{"error": WireError}` with the
//! status from [`crate::ErrorCode::http_status`].
//!
//! - `POST /api/v1/register` [`RegisterRequest`] → 201 [`crate::UserPublic`]
//! - `POST /api/v1/login` [`LoginRequest`] → 200 [`LoginResponse`]
//! - `POST /api/v1/media` (the raw bytes) → 201 [`crate::UploadResponse`]

use serde::{Deserialize, Serialize};

use crate::{DeviceId, Millis, UserPublic, WireError};

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// 3–32 characters: ASCII letters, digits, `_`, `.` and `-`, starting with a letter.
    /// Compared case-insensitively.
    pub username: String,
    /// 8–256 characters, not all of one character class trivially (see docs/protocol.md).
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Shown in the device list, e.g. "laptop" or "confab-cli".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Bearer token for the WebSocket handshake (`/ws?token=` or `Authorization: Bearer`).
    pub token: String,
    pub device_id: DeviceId,
    pub expires_at: Millis,
    pub user: UserPublic,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: WireError,
}
