//! The HTTP edge: account endpoints, media ([`media`]), the WebSocket upgrade, health and
//! metrics. Each module exposes its routes; they are merged here.

mod media;

use axum::body::Bytes;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use confab_proto::http::{ErrorBody, LoginRequest, RegisterRequest};
use confab_proto::{ErrorCode, WireError, PROTOCOL_VERSION};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::accounts;
use crate::error::AppError;
use crate::gateway::session::{self, Authed};
use crate::state::AppState;

/// Request bodies of the account endpoints are small.
const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/register", post(register))
        .route("/api/v1/login", post(login))
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .merge(media::routes())
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// An error as the HTTP API sends it: the status for its code and `{"error": {...}}`.
pub struct HttpError(pub WireError);

impl From<AppError> for HttpError {
    fn from(e: AppError) -> Self {
        HttpError(e.to_wire())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody { error: self.0 })).into_response()
    }
}

/// Parses a JSON body with a typed error instead of the framework's plain-text rejection.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| {
        HttpError(WireError::new(
            ErrorCode::BadRequest,
            format!("invalid JSON body: {e}"),
        ))
    })
}

async fn register(State(state): State<AppState>, body: Bytes) -> Result<Response, HttpError> {
    let req: RegisterRequest = parse(&body)?;
    let user = accounts::register(&state, req).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

async fn login(State(state): State<AppState>, body: Bytes) -> Result<Response, HttpError> {
    let req: LoginRequest = parse(&body)?;
    Ok(Json(accounts::login(&state, req).await?).into_response())
}

#[derive(Deserialize)]
struct WsQuery {
    v: Option<u32>,
    token: Option<String>,
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
}

/// `GET /ws?v=1` with `Authorization: Bearer TOKEN` (or `?token=`), or without a token and an
/// `auth` request as the first frame.
async fn websocket(
    State(state): State<AppState>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    if state.shutdown.is_cancelled() {
        return Err(HttpError(WireError::new(
            ErrorCode::Unavailable,
            "server is shutting down",
        )));
    }
    if let Some(v) = q.v {
        if v != PROTOCOL_VERSION {
            return Err(HttpError(WireError::new(
                ErrorCode::UnsupportedVersion,
                format!("this server speaks protocol version {PROTOCOL_VERSION}"),
            )));
        }
    }
    let authed = match bearer(&headers).or(q.token) {
        Some(token) => {
            let (session, user) = accounts::authenticate(&state, &token).await?;
            Some(Authed { session, user })
        }
        None => None,
    };
    let hard = session::hard_frame_limit(state.config.max_frame_bytes);
    let tracker = state.sessions.clone();
    Ok(ws
        .max_message_size(hard)
        .max_frame_size(hard)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| tracker.track_future(session::run(state, socket, authed))))
}

async fn healthz(State(state): State<AppState>) -> Response {
    // A cheap read proves the store answers.
    match state.store.user_by_id(0).await {
        Ok(_) => Json(serde_json::json!({"status": "ok", "store": "ok"})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "degraded", "store": e.to_string()})),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&state.hub),
    )
        .into_response()
}

async fn index() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Confab server. WebSocket: /ws?v=1 — accounts: POST /api/v1/register, /api/v1/login — health: /healthz\n",
    )
        .into_response()
}
