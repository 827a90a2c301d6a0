//! The web UI is served at `/` with a strict CSP, long caching for hashed assets, revalidation
//! for the page, and the page for client-side routes.

use confab_tests::TestServer;

#[tokio::test]
async fn the_built_ui_is_served_with_caching_and_csp() {
    let web = tempfile::tempdir().unwrap();
    std::fs::create_dir(web.path().join("assets")).unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>Confab</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("assets/app-1a2b3c.js"), "console.log(1)").unwrap();
    let dir = web.path().to_path_buf();
    let server = TestServer::open_with(move |c| c.web_dir = Some(dir)).await;
    let get = |path: &'static str| {
        let base = server.base_url.clone();
        async move { reqwest::get(format!("{base}{path}")).await.unwrap() }
    };

    let page = get("/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"));
    assert!(page.text().await.unwrap().contains("<title>Confab</title>"));

    let asset = get("/assets/app-1a2b3c.js").await;
    assert_eq!(asset.status(), 200);
    assert!(asset.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(asset.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));

    // A client-side route gets the page; the API still answers as the API.
    let route = get("/chats/42").await;
    assert_eq!(route.status(), 200);
    assert!(route
        .text()
        .await
        .unwrap()
        .contains("<title>Confab</title>"));
    assert_eq!(get("/healthz").await.status(), 200);
    // Nothing outside the web directory is reachable.
    let escape = get("/../../etc/passwd").await;
    assert!(!escape.text().await.unwrap().contains("root:"));
}
