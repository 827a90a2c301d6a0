use std::path::Path;
use std::process::Command;

fn main() {
    desktop_entry();
    // `generate_context!` embeds ui/dist when this crate compiles; rebuild it when ui/dist changes.
    println!("cargo:rerun-if-changed=../ui/dist");
    println!("cargo:rerun-if-env-changed=CONFAB_DESKTOP_SKIP_UI");
    // Only the commands listed here get a permission; capabilities/main.json grants them.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "get_settings",
            "set_settings",
            "message_received",
            "set_unread",
            "unread_state",
            "pick_attachments",
            "read_attachment",
            "save_file",
        ]),
    ))
    .expect("tauri build step");
}

/// The web build (`npm run build` → ui/dist) must exist. The desktop entry
/// (ui/dist/src/desktop/index.html, from ui/src/desktop/) is added to it here when it is
/// missing or older than the web build, so `cargo build` alone makes a complete app. Without
/// Node.js (or with CONFAB_DESKTOP_SKIP_UI=1) the app opens the plain web entry instead.
fn desktop_entry() {
    let ui = Path::new("../ui");
    let web = ui.join("dist/index.html");
    let desktop = ui.join("dist/src/desktop/index.html");
    if !web.exists() {
        panic!("ui/dist is missing: build the web UI first (cd ui && npm ci && npm run build)");
    }
    if std::env::var_os("CONFAB_DESKTOP_SKIP_UI").is_some()
        || !ui.join("node_modules/vite").exists()
    {
        return;
    }
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if matches!((mtime(&web), mtime(&desktop)), (Some(w), Some(d)) if d >= w) {
        return;
    }
    let status = Command::new("node")
        .current_dir(ui)
        .args([
            "node_modules/vite/bin/vite.js",
            "build",
            "--logLevel",
            "warn",
            "--config",
            "src/desktop/vite.config.ts",
        ])
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => println!("cargo:warning=the desktop entry of the UI was not built ({other:?}); the app opens the web entry"),
    }
}
