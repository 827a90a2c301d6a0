//! # Confab desktop
//!
//! A thin Tauri v2 shell around the Confab web UI (`ui/dist`, embedded at build time).
//!
//! # Layout
//!
//! - `lib.rs` — [`run`]: plugins, the main window, the tray, window events.
//! - `commands.rs` — the commands the page may call (granted in `capabilities/main.json`).
//! - `notify.rs` — pure: which new messages become a notification, with what text.
//! - `badge.rs` — pure: the unread count on the badge, in the title and in the tray.
//! - `settings.rs` — server address, close-to-tray and shortcut, kept in the config dir; the CSP.
//! - `files.rs` — files picked or dropped, handed to the page by token.
//! - `error.rs` — [`CommandError`], the serializable error of every command.
//!
//! The page talks to the server directly (HTTP and WebSocket); the shell only adds what a
//! browser lacks. Events the shell sends to the page: `desktop://open-conversation`
//! (`{ conversation_id }`, a notification was clicked), `desktop://drag` (`{ state }`),
//! `desktop://drop` (`{ files: [{ token, name, size }] }`).

mod badge;
mod commands;
mod error;
mod files;
mod notify;
mod settings;

pub use badge::{badge_view, BadgeView};
pub use error::CommandError;
pub use notify::{decide, IncomingMessage, NotificationText, NotifyPrefs, WindowView};
pub use settings::Settings;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::utils::config::{Csp, CspDirectiveSources};
use tauri::webview::PageLoadEvent;
use tauri::{
    AppHandle, DragDropEvent, Emitter, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder,
    WindowEvent, Wry,
};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, ShortcutState};
use tauri_plugin_notification::NotificationExt;
use tauri_plugin_window_state::StateFlags;

pub const MAIN_WINDOW: &str = "main";
/// The desktop entry of the UI (`ui/src/desktop/index.html`); the plain web entry when the
/// build has no desktop entry.
const DESKTOP_ENTRY: &str = "src/desktop/index.html";
const TRAY_ID: &str = "main";

pub const EVENT_OPEN_CONVERSATION: &str = "desktop://open-conversation";
pub const EVENT_DRAG: &str = "desktop://drag";
pub const EVENT_DROP: &str = "desktop://drop";

/// Command-line options: `--server URL` uses that server for this run (not saved);
/// `--hidden` starts in the tray.
#[derive(Debug, Default)]
struct Args {
    server: Option<String>,
    hidden: bool,
}

fn parse_args(args: impl Iterator<Item = String>) -> Args {
    let mut out = Args::default();
    let mut it = args.skip(1);
    while let Some(a) = it.next() {
        if a == "--server" {
            out.server = it.next();
        } else if let Some(v) = a.strip_prefix("--server=") {
            out.server = Some(v.to_owned());
        } else if a == "--hidden" {
            out.hidden = true;
        }
    }
    out
}

/// What the shell holds for the commands.
pub(crate) struct Desktop {
    settings_path: PathBuf,
    settings: Mutex<Settings>,
    /// No settings were saved yet: the UI asks for the server first.
    first_run: Mutex<bool>,
    /// The server given with `--server`, if any (not saved).
    server_override: Option<String>,
    /// The server this run's page may reach (its CSP names it).
    page_server: String,
    badge: Mutex<BadgeView>,
    grants: files::Grants,
    tray: Mutex<Option<TrayItems>>,
}

struct TrayItems {
    toggle: MenuItem<Wry>,
    status: MenuItem<Wry>,
}

impl Desktop {
    pub(crate) fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn server_url(&self) -> String {
        self.page_server.clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn config_dir(identifier: &str) -> PathBuf {
    // The same folder Tauri's `app_config_dir()` gives, known before the app is built (the
    // CSP depends on the saved server).
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|_| cfg!(target_os = "linux"))
        .map(PathBuf::from)
        .or_else(dirs_config)
        .unwrap_or_else(std::env::temp_dir);
    base.join(identifier)
}

#[cfg(target_os = "linux")]
fn dirs_config() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config"))
}
#[cfg(target_os = "macos")]
fn dirs_config() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
}
#[cfg(windows)]
fn dirs_config() -> Option<PathBuf> {
    std::env::var_os("APPDATA").map(PathBuf::from)
}
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn dirs_config() -> Option<PathBuf> {
    None
}

pub fn run() {
    let started = Instant::now();
    let args = parse_args(std::env::args());
    let mut context = tauri::generate_context!();

    let settings_path = settings::settings_path(&config_dir(&context.config().identifier));
    let saved = settings::load(&settings_path);
    let first_run = saved.is_none();
    let saved = saved.unwrap_or_default();
    let server_override = match args.server.as_deref().map(settings::normalize_server_url) {
        Some(Ok(url)) => Some(url),
        Some(Err(e)) => {
            eprintln!("confab-desktop: ignoring --server: {e}");
            None
        }
        None => None,
    };
    let server = server_override
        .clone()
        .unwrap_or_else(|| saved.server_url.clone());

    // The page may connect to the chosen server only.
    let csp = Csp::DirectiveMap(
        settings::csp_directives(&server)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), CspDirectiveSources::Inline(v)))
            .collect(),
    );
    context.config_mut().app.security.csp = Some(csp);
    context.config_mut().app.security.dev_csp = None;

    let state = Desktop {
        settings_path,
        settings: Mutex::new(saved),
        first_run: Mutex::new(first_run && server_override.is_none()),
        server_override,
        page_server: server.clone(),
        badge: Mutex::new(badge_view(0)),
        grants: files::Grants::default(),
        tray: Mutex::new(None),
    };
    let start_hidden = args.hidden;

    tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            show_main(app)
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(
            tauri_plugin_window_state::Builder::default()
                // Never restore "hidden": a window closed to the tray comes back visible.
                .with_state_flags(StateFlags::all() - StateFlags::VISIBLE)
                .build(),
        )
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::get_settings,
            commands::set_settings,
            commands::message_received,
            commands::set_unread,
            commands::unread_state,
            commands::pick_attachments,
            commands::read_attachment,
            commands::save_file,
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            create_main_window(&handle, started, start_hidden)?;
            if let Err(e) = create_tray(&handle) {
                eprintln!("confab-desktop: no tray icon: {e}");
            }
            let shortcut = handle.state::<Desktop>().settings().show_shortcut;
            if let Err(e) = register_shortcut(&handle, &shortcut) {
                eprintln!("confab-desktop: global shortcut {shortcut:?} not registered: {e}");
            }
            let h = handle.clone();
            app.notification().on_action(move |performed| {
                let id = performed
                    .notification()
                    .and_then(|n| n.extra().get("conversation_id"))
                    .and_then(|v| v.as_i64());
                if let Some(conversation_id) = id {
                    show_main(&h);
                    let _ = h.emit_to(
                        MAIN_WINDOW,
                        EVENT_OPEN_CONVERSATION,
                        OpenConversation { conversation_id },
                    );
                }
            })?;
            Ok(())
        })
        .on_window_event(|window, event| match event {
            WindowEvent::CloseRequested { api, .. } if window.label() == MAIN_WINDOW => {
                let app = window.app_handle();
                let to_tray = app.state::<Desktop>().settings().close_to_tray
                    && lock(&app.state::<Desktop>().tray).is_some();
                if to_tray {
                    api.prevent_close();
                    let _ = window.hide();
                    update_toggle(app, false);
                }
            }
            WindowEvent::DragDrop(ev) => forward_drag_drop(window.app_handle(), ev),
            _ => {}
        })
        .run(context)
        .expect("error while running the Confab desktop app");
}

#[derive(Clone, Serialize)]
struct OpenConversation {
    conversation_id: i64,
}

fn create_main_window(
    app: &AppHandle,
    started: Instant,
    hidden: bool,
) -> tauri::Result<WebviewWindow> {
    let entry = if app.asset_resolver().get(DESKTOP_ENTRY.into()).is_some() {
        DESKTOP_ENTRY
    } else {
        "index.html"
    };
    let state = app.state::<Desktop>();
    // Before the page's scripts: the server this run uses and whether to ask for one.
    let boot =
        serde_json::json!({ "serverUrl": state.server_url(), "firstRun": *lock(&state.first_run) });
    WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App(entry.into()))
        .initialization_script(format!(
            "window.__CONFAB_DESKTOP__ = Object.freeze({boot});"
        ))
        .title("Confab")
        .inner_size(1100.0, 760.0)
        .min_inner_size(380.0, 480.0)
        .visible(!hidden)
        .on_page_load(move |_w, payload| {
            if matches!(payload.event(), PageLoadEvent::Finished) {
                let epoch_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0);
                eprintln!(
                    "confab-desktop: page loaded {} ms after start (epoch_ms={epoch_ms})",
                    started.elapsed().as_millis()
                );
            }
        })
        .build()
}

pub(crate) fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        update_toggle(app, true);
    }
}

fn toggle_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let shown = w.is_visible().unwrap_or(false) && !w.is_minimized().unwrap_or(false);
        if shown {
            let _ = w.hide();
            update_toggle(app, false);
        } else {
            show_main(app);
        }
    }
}

fn update_toggle(app: &AppHandle, visible: bool) {
    if let Some(items) = lock(&app.state::<Desktop>().tray).as_ref() {
        let _ = items.toggle.set_text(if visible {
            "Hide Confab"
        } else {
            "Show Confab"
        });
    }
}

fn create_tray(app: &AppHandle) -> tauri::Result<()> {
    let toggle = MenuItem::with_id(app, "toggle", "Hide Confab", true, None::<&str>)?;
    let status = MenuItem::with_id(app, "status", badge_view(0).menu_text, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Confab", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let items: [&dyn IsMenuItem<Wry>; 4] = [&toggle, &status, &separator, &quit];
    let menu = Menu::with_items(app, &items)?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Confab")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "toggle" => toggle_main(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                toggle_main(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    *lock(&app.state::<Desktop>().tray) = Some(TrayItems { toggle, status });
    Ok(())
}

/// Shows the count wherever this platform can: the badge (macOS dock, Windows taskbar overlay,
/// Unity-style Linux docks), the window title, and the tray tooltip and menu.
pub(crate) fn apply_badge(app: &AppHandle, view: &BadgeView) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.set_badge_count(view.badge);
        let _ = w.set_title(&view.title);
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(&view.tooltip));
    }
    if let Some(items) = lock(&app.state::<Desktop>().tray).as_ref() {
        let _ = items.status.set_text(&view.menu_text);
    }
}

pub(crate) fn register_shortcut(app: &AppHandle, shortcut: &str) -> Result<(), CommandError> {
    let gs = app.global_shortcut();
    gs.unregister_all()
        .map_err(|e| CommandError::InvalidShortcut(e.to_string()))?;
    if shortcut.trim().is_empty() {
        return Ok(());
    }
    gs.on_shortcut(shortcut, |app, _shortcut, event| {
        if event.state == ShortcutState::Pressed {
            show_main(app);
        }
    })
    .map_err(|e| CommandError::InvalidShortcut(format!("{shortcut}: {e}")))
}

#[derive(Clone, Serialize)]
struct DragState {
    state: &'static str,
}

#[derive(Clone, Serialize)]
struct Dropped {
    files: Vec<files::PickedFile>,
}

fn forward_drag_drop(app: &AppHandle, ev: &DragDropEvent) {
    match ev {
        DragDropEvent::Enter { .. } => {
            let _ = app.emit_to(MAIN_WINDOW, EVENT_DRAG, DragState { state: "enter" });
        }
        DragDropEvent::Leave => {
            let _ = app.emit_to(MAIN_WINDOW, EVENT_DRAG, DragState { state: "leave" });
        }
        DragDropEvent::Drop { paths, .. } => {
            let files = app.state::<Desktop>().grants.grant(paths.iter().cloned());
            let _ = app.emit_to(MAIN_WINDOW, EVENT_DROP, Dropped { files });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    #[test]
    fn command_line() {
        let a = parse_args(
            ["app", "--server", "http://h:1", "--hidden"]
                .into_iter()
                .map(String::from),
        );
        assert_eq!(a.server.as_deref(), Some("http://h:1"));
        assert!(a.hidden);
        let b = parse_args(["app", "--server=https://x"].into_iter().map(String::from));
        assert_eq!(b.server.as_deref(), Some("https://x"));
        assert!(!parse_args(["app"].into_iter().map(String::from)).hidden);
    }
}
