//! The HTTP edge: account endpoints, media ([`media`]), the WebSocket upgrade, health and
//! metrics, the web UI ([`web`]) and the integration API (`crate::integration::api`). Each
//! module exposes its routes; they are merged here.

mod media;

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
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

pub mod web;

/// Request bodies of the account endpoints are small.
const BODY_LIMIT: usize = 16 * 1024;

/// The Content-Security-Policy of everything the server serves: only its own scripts, styles,
/// images and connections; never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

pub fn router(state: AppState) -> Router {
    let cors = cors_layer(&state.config.allowed_origins);
    let header = |name: &'static str, value: &'static str| {
        tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    Router::new()
        .route("/api/v1/register", post(register))
        .route("/api/v1/login", post(login))
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(media::routes())
        .merge(crate::integration::api::router())
        .merge(web::router(web::web_dir(state.config.web_dir.as_deref())))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors)
        .layer(header("content-security-policy", CSP))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "no-referrer"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("cross-origin-opener-policy", "same-origin"))
        .with_state(state)
}

/// CORS for the configured origins only; without any, browsers get no cross-origin access.
fn cors_layer(origins: &[String]) -> tower_http::cors::CorsLayer {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(list)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}

/// The client's address: the socket peer, or the first X-Forwarded-For hop when the server
/// is configured to trust its proxy.
pub fn client_ip(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if state.config.trust_forwarded_for {
        if let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}

/// Browsers send `Origin` with WebSocket handshakes; only the server's own origin and the
/// configured ones may connect. Clients without `Origin` (SDK, CLI, bots) are not browsers.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    if state
        .config
        .allowed_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
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
pub(crate) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| {
        HttpError(WireError::new(
            ErrorCode::BadRequest,
            format!("invalid JSON body: {e}"),
        ))
    })
}

async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    state
        .limits
        .check_registration(client_ip(&state, peer, &headers))
        .map_err(HttpError)?;
    let req: RegisterRequest = parse(&body)?;
    let user = accounts::register(&state, req).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    let req: LoginRequest = parse(&body)?;
    let ip = client_ip(&state, peer, &headers);
    let username = req.username.clone();
    state
        .limits
        .logins
        .check(&username, ip)
        .map_err(HttpError)?;
    match accounts::login(&state, req).await {
        Ok(answer) => {
            state.limits.logins.succeeded(&username);
            Ok(Json(answer).into_response())
        }
        Err(e) => {
            if e.code == ErrorCode::WrongCredentials {
                state.limits.logins.failed(&username, ip);
            }
            Err(e.into())
        }
    }
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    if !origin_allowed(&state, &headers) {
        return Err(HttpError(WireError::new(
            ErrorCode::Forbidden,
            "this origin may not open a Confab connection",
        )));
    }
    let ip = client_ip(&state, peer, &headers);
    state.limits.check_connect(ip).map_err(HttpError)?;
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
            let slot = state
                .limits
                .admit(state.hub.user_connections(user.id), ip)
                .map_err(HttpError)?;
            Some(Authed {
                session,
                user,
                slot: Some(slot),
            })
        }
        None => None,
    };
    let hard = session::hard_frame_limit(state.config.max_frame_bytes);
    let tracker = state.sessions.clone();
    Ok(ws
        .max_message_size(hard)
        .max_frame_size(hard)
        // Allocated up front for every connection and grown on demand: most frames are a few
        // hundred bytes, and idle connections are most of them.
        .read_buffer_size(1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| tracker.track_future(session::run(state, socket, authed, ip))))
}

/// `{"status":"ok","store":"ok","broker":"ok",...}`, or 503 with `"degraded"` and the
/// failing dependency's reason in its field.
async fn healthz(State(state): State<AppState>) -> Response {
    // A cheap read proves the store answers.
    let store = match state.store.user_by_id(0).await {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    let broker = state.broker.health();
    let ok = store.is_ok() && broker.ok;
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "degraded" },
        "store": match &store { Ok(()) => "ok".to_owned(), Err(e) => e.clone() },
        "broker": if broker.ok { "ok".to_owned() } else { broker.detail.clone() },
        "broker_detail": broker.detail,
        "node": state.config.node_id,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&state.hub, state.broker.stats()),
    )
        .into_response()
}
