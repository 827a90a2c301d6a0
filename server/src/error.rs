//! The one error type of the domain. Each error carries a stable wire code; internal causes are
//! logged here and never sent to clients.

use confab_proto::{ErrorCode, WireError};

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// With `RateLimited`: when to retry.
    pub retry_after_ms: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn not_member() -> Self {
        AppError::new(
            ErrorCode::NotMember,
            "you are not a member of this conversation",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Forbidden, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidArgument, message)
    }

    /// An unexpected fault: logged with its cause, reported to the client without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        AppError::new(ErrorCode::Internal, "internal server error")
    }

    pub fn to_wire(&self) -> WireError {
        let mut wire = WireError::new(self.code, self.message.clone());
        wire.retry_after_ms = self.retry_after_ms;
        wire
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("record"),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                AppError::new(
                    ErrorCode::Unavailable,
                    "storage is unavailable, try again shortly",
                )
            }
            other => AppError::internal(other),
        }
    }
}
