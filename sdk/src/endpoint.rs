//! Turning a server base URL into the addresses of its HTTP API and its WebSocket.

use url::Url;

use crate::{Error, Result};

/// A Confab server's base URL, e.g. `http://127.0.0.1:8080` or `https://chat.example.com/confab`.
///
/// `ws://` and `wss://` base URLs are accepted too and mean the same server as `http://` and
/// `https://`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Always `http` or `https`, with a path ending in `/`.
    base: Url,
}

impl Endpoint {
    /// Parse a base URL. One without a scheme (`localhost:8080`) is taken as `http://`.
    pub fn parse(base_url: &str) -> Result<Endpoint> {
        let trimmed = base_url.trim();
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("http://{trimmed}")
        };
        let mut base = Url::parse(&with_scheme)
            .map_err(|e| Error::InvalidUrl(format!("{base_url:?}: {e}")))?;
        let scheme = match base.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => "https",
            other => {
                return Err(Error::InvalidUrl(format!(
                    "{base_url:?}: unsupported scheme {other:?} (use http or https)"
                )))
            }
        };
        if base.host_str().is_none_or(str::is_empty) {
            return Err(Error::InvalidUrl(format!("{base_url:?}: no host")));
        }
        base.set_scheme(scheme)
            .map_err(|()| Error::InvalidUrl(format!("{base_url:?}: cannot use {scheme}")))?;
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Endpoint { base })
    }

    /// The canonical form of the base URL, without a trailing slash: the key under which the
    /// command-line client stores credentials.
    pub fn key(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
    }

    /// The URL of an HTTP API path such as `api/v1/login`.
    pub fn api(&self, path: &str) -> Url {
        self.base
            .join(path.trim_start_matches('/'))
            .expect("a relative path always joins")
    }

    /// The WebSocket URL: `ws://HOST/ws?v=1` (`wss` for `https`).
    pub fn websocket(&self) -> Url {
        let mut url = self.api("ws");
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .expect("http(s) URLs can become ws(s) URLs");
        url.query_pairs_mut()
            .append_pair("v", &confab_proto::PROTOCOL_VERSION.to_string());
        url
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_api_and_websocket_urls() {
        let e = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(e.key(), "http://127.0.0.1:8080");
        assert_eq!(
            e.api("api/v1/login").as_str(),
            "http://127.0.0.1:8080/api/v1/login"
        );
        assert_eq!(e.websocket().as_str(), "ws://127.0.0.1:8080/ws?v=1");
    }

    #[test]
    fn https_becomes_wss_and_prefixes_are_kept() {
        let e = Endpoint::parse("https://chat.example.com/confab/").unwrap();
        assert_eq!(e.key(), "https://chat.example.com/confab");
        assert_eq!(
            e.api("/api/v1/register").as_str(),
            "https://chat.example.com/confab/api/v1/register"
        );
        assert_eq!(
            e.websocket().as_str(),
            "wss://chat.example.com/confab/ws?v=1"
        );
    }

    #[test]
    fn websocket_base_urls_are_accepted() {
        let e = Endpoint::parse("ws://localhost:9000/").unwrap();
        assert_eq!(e.key(), "http://localhost:9000");
        assert_eq!(e.websocket().as_str(), "ws://localhost:9000/ws?v=1");
        assert_eq!(
            Endpoint::parse("wss://example.com").unwrap().key(),
            "https://example.com"
        );
    }

    #[test]
    fn keys_ignore_trailing_slashes_and_queries() {
        let a = Endpoint::parse("http://127.0.0.1:8080/").unwrap();
        let b = Endpoint::parse(" http://127.0.0.1:8080?x=1 ").unwrap();
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn a_missing_scheme_means_http() {
        let e = Endpoint::parse("localhost:8080").unwrap();
        assert_eq!(e.key(), "http://localhost:8080");
        assert_eq!(
            Endpoint::parse("127.0.0.1:8080").unwrap().key(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn rejects_unusable_urls() {
        for bad in ["", "ftp://example.com", "not a url", "http://"] {
            assert!(
                matches!(Endpoint::parse(bad), Err(Error::InvalidUrl(_))),
                "{bad:?} should be refused"
            );
        }
    }
}
