//! The web UI: the built `ui/dist` served at `/`. Hashed assets are cached for a year; the
//! page itself is revalidated every time, so a new build is picked up at once. Unknown paths
//! get the page (the UI routes on the client).

use std::path::{Path, PathBuf};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// Where the UI is: the configured directory, else `ui/dist` under the working directory.
pub fn web_dir(configured: Option<&Path>) -> Option<PathBuf> {
    let dir = configured
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("ui/dist"));
    dir.join("index.html").is_file().then_some(dir)
}

pub fn router(dir: Option<PathBuf>) -> Router<AppState> {
    let Some(dir) = dir else {
        return Router::new().fallback(missing);
    };
    let index = dir.join("index.html");
    let assets = Router::new()
        .nest_service("/assets", ServeDir::new(dir.join("assets")))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ));
    let pages = Router::new()
        .fallback_service(ServeDir::new(&dir).fallback(ServeFile::new(index)))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    assets.merge(pages)
}

async fn missing() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Confab server. The web UI is not built: run `npm ci && npm run build` in ui/ \
         (or pass --web-dir). WebSocket: /ws?v=1 — accounts: POST /api/v1/register, \
         /api/v1/login — health: /healthz\n",
    )
        .into_response()
}
