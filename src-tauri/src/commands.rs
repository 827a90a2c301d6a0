//! The commands the page may call; each is granted in `capabilities/main.json`.

use serde::{Deserialize, Serialize};
use tauri::ipc::{InvokeBody, Request, Response};
use tauri::{AppHandle, Manager, State, WebviewWindow};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_notification::NotificationExt;

use crate::badge::{badge_view, BadgeView};
use crate::error::CommandError;
use crate::files::{safe_file_name, PickedFile};
use crate::notify::{decide, IncomingMessage, NotificationText, NotifyPrefs, WindowView};
use crate::settings::{self, Settings};
use crate::{apply_badge, lock, register_shortcut, Desktop};

#[derive(Debug, Serialize)]
pub struct SettingsView {
    pub settings: Settings,
    /// The server this run uses (a `--server` flag wins over the saved one).
    pub server_url: String,
    /// Nothing saved yet: the UI should let the person choose the server.
    pub first_run: bool,
    /// The new server takes effect after the restart that is under way.
    pub restarting: bool,
}

fn view(d: &Desktop, restarting: bool) -> SettingsView {
    SettingsView {
        settings: d.settings(),
        server_url: d.server_url(),
        first_run: *lock(&d.first_run),
        restarting,
    }
}

#[tauri::command]
pub fn get_settings(state: State<'_, Desktop>) -> Result<SettingsView, CommandError> {
    Ok(view(&state, false))
}

/// The fields to change; the others stay.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsPatch {
    pub server_url: Option<String>,
    pub close_to_tray: Option<bool>,
    pub show_shortcut: Option<String>,
}

/// Saves the settings. A new server address restarts the app, since the page's
/// Content-Security-Policy names the server.
#[tauri::command]
pub fn set_settings(
    app: AppHandle,
    state: State<'_, Desktop>,
    patch: SettingsPatch,
) -> Result<SettingsView, CommandError> {
    let old = state.settings();
    let mut next = old.clone();
    if let Some(url) = patch.server_url {
        next.server_url = settings::normalize_server_url(&url)?;
    }
    if let Some(v) = patch.close_to_tray {
        next.close_to_tray = v;
    }
    if let Some(s) = patch.show_shortcut {
        let s = s.trim().to_owned();
        if !s.is_empty() {
            s.parse::<tauri_plugin_global_shortcut::Shortcut>()
                .map_err(|e| CommandError::InvalidShortcut(format!("{s}: {e}")))?;
        }
        next.show_shortcut = s;
    }
    settings::save(&state.settings_path, &next)?;
    *lock(&state.settings) = next.clone();
    *lock(&state.first_run) = false;
    if next.show_shortcut != old.show_shortcut {
        register_shortcut(&app, &next.show_shortcut)?;
    }
    // The page's CSP names the server it may reach: another server needs a restart.
    let restarting = state.server_override.is_none() && next.server_url != state.page_server;
    if restarting {
        let app = app.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            app.request_restart();
        });
    }
    Ok(view(&state, restarting))
}

/// Called by the UI for every new message from someone else; shows a notification when
/// [`decide`] says so and returns what was shown.
#[tauri::command]
pub fn message_received(
    app: AppHandle,
    window: WebviewWindow,
    message: IncomingMessage,
    prefs: NotifyPrefs,
    open_conversation: Option<i64>,
) -> Result<Option<NotificationText>, CommandError> {
    let view = WindowView {
        focused: window.is_focused().unwrap_or(false),
        visible: window.is_visible().unwrap_or(false) && !window.is_minimized().unwrap_or(false),
        open_conversation,
    };
    let decision = decide(&message, &prefs, view);
    if let Some(n) = &decision {
        let shown = app
            .notification()
            .builder()
            .title(&n.title)
            .body(&n.body)
            .extra("conversation_id", n.conversation_id)
            .show();
        if let Err(e) = shown {
            eprintln!("confab-desktop: notification not shown: {e}");
        }
    }
    Ok(decision)
}

/// The total unread count (conversations not muted), shown on the badge, title and tray.
#[tauri::command]
pub fn set_unread(
    app: AppHandle,
    state: State<'_, Desktop>,
    count: u32,
) -> Result<BadgeView, CommandError> {
    let v = badge_view(count);
    apply_badge(&app, &v);
    *lock(&state.badge) = v.clone();
    Ok(v)
}

/// What the badge shows now.
#[tauri::command]
pub fn unread_state(state: State<'_, Desktop>) -> Result<BadgeView, CommandError> {
    Ok(lock(&state.badge).clone())
}

/// The native open dialog; the chosen files can then be read with `read_attachment`.
#[tauri::command]
pub async fn pick_attachments(app: AppHandle) -> Result<Vec<PickedFile>, CommandError> {
    let picked = app
        .dialog()
        .file()
        .set_title("Attach files")
        .blocking_pick_files()
        .unwrap_or_default();
    let paths = picked.into_iter().filter_map(|p| p.into_path().ok());
    Ok(app.state::<Desktop>().grants.grant(paths))
}

/// The bytes of a picked or dropped file (raw, not JSON).
#[tauri::command]
pub async fn read_attachment(app: AppHandle, token: u64) -> Result<Response, CommandError> {
    let bytes = app.state::<Desktop>().grants.read(token)?;
    Ok(Response::new(bytes))
}

/// Save-as for a received file: the body is the file's bytes, the `x-file-name` header its
/// suggested name. Returns where it was saved, or `null` when the dialog was cancelled.
#[tauri::command]
pub async fn save_file(
    app: AppHandle,
    request: Request<'_>,
) -> Result<Option<String>, CommandError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::BadRequest(
            "the body must be the file's bytes",
        ));
    };
    let name = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|v| safe_file_name(&percent_decode(v)))
        .unwrap_or_else(|| "download".into());
    let Some(target) = app
        .dialog()
        .file()
        .set_file_name(&name)
        .blocking_save_file()
    else {
        return Ok(None);
    };
    let path = target
        .into_path()
        .map_err(|_| CommandError::BadRequest("not a local path"))?;
    std::fs::write(&path, bytes)?;
    Ok(Some(path.to_string_lossy().into_owned()))
}

/// Header values are ASCII: the UI sends the name with `encodeURIComponent`.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_are_percent_decoded() {
        assert_eq!(super::percent_decode("r%C3%A9sum%C3%A9.pdf"), "résumé.pdf");
        assert_eq!(super::percent_decode("a%2"), "a%2");
        assert_eq!(super::percent_decode("100%"), "100%");
    }
}
