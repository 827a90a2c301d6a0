//! Whether a new message becomes a native notification, and with what text. Pure: the UI
//! describes the message (it owns the i18n and the preview text), the shell adds what it
//! knows about the window.

use serde::{Deserialize, Serialize};

/// The longest notification body, in characters; longer previews end with "…".
pub const MAX_BODY_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Direct,
    Group,
}

/// A message the UI has just received, as the UI describes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct IncomingMessage {
    pub conversation_id: i64,
    pub kind: ConversationKind,
    /// The conversation's title as shown in the list (remark, group name or peer's name).
    pub conversation_title: String,
    pub sender_name: String,
    /// The message as the conversation list previews it ("Photo", the text, …).
    pub preview: String,
    #[serde(default)]
    pub from_me: bool,
    /// System events (member joined, group renamed, …) never notify.
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub muted: bool,
}

/// The person's notification settings (the UI's preferences).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NotifyPrefs {
    /// Notifications for new messages at all.
    pub enabled: bool,
    /// Show the message text; otherwise `generic_body`.
    pub preview: bool,
    /// The body when the text is hidden, in the UI's language ("New message").
    pub generic_body: String,
}

/// What the shell knows about the window when the message arrives.
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowView {
    pub focused: bool,
    pub visible: bool,
    /// The conversation open in the UI, if any.
    pub open_conversation: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationText {
    pub conversation_id: i64,
    pub title: String,
    pub body: String,
}

/// `Some` when the message should raise a notification: not our own, not a system event, not
/// in a muted conversation, notifications on, and the person is not already looking at that
/// conversation (window visible and focused with it open).
pub fn decide(
    m: &IncomingMessage,
    prefs: &NotifyPrefs,
    view: WindowView,
) -> Option<NotificationText> {
    if m.from_me || m.system || m.muted || !prefs.enabled {
        return None;
    }
    let looking = view.focused && view.visible && view.open_conversation == Some(m.conversation_id);
    if looking {
        return None;
    }
    let text = if prefs.preview && !m.preview.trim().is_empty() {
        m.preview.trim()
    } else {
        prefs.generic_body.as_str()
    };
    let body = match m.kind {
        ConversationKind::Group if !m.sender_name.is_empty() => {
            format!("{}: {}", m.sender_name, text)
        }
        _ => text.to_owned(),
    };
    let title = if m.conversation_title.trim().is_empty() {
        if m.sender_name.is_empty() {
            "Confab".to_owned()
        } else {
            m.sender_name.clone()
        }
    } else {
        m.conversation_title.clone()
    };
    Some(NotificationText {
        conversation_id: m.conversation_id,
        title,
        body: truncate(&body, MAX_BODY_CHARS),
    })
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> IncomingMessage {
        IncomingMessage {
            conversation_id: 7,
            kind: ConversationKind::Direct,
            conversation_title: "Alice".into(),
            sender_name: "Alice".into(),
            preview: "hello there".into(),
            from_me: false,
            system: false,
            muted: false,
        }
    }

    fn prefs() -> NotifyPrefs {
        NotifyPrefs {
            enabled: true,
            preview: true,
            generic_body: "New message".into(),
        }
    }

    const AWAY: WindowView = WindowView {
        focused: false,
        visible: false,
        open_conversation: None,
    };

    #[test]
    fn direct_message_in_background_notifies_with_its_text() {
        let n = decide(&msg(), &prefs(), AWAY).unwrap();
        assert_eq!(
            n,
            NotificationText {
                conversation_id: 7,
                title: "Alice".into(),
                body: "hello there".into()
            }
        );
    }

    #[test]
    fn group_message_names_the_sender() {
        let m = IncomingMessage {
            kind: ConversationKind::Group,
            conversation_title: "Team".into(),
            sender_name: "Bob".into(),
            ..msg()
        };
        let n = decide(&m, &prefs(), AWAY).unwrap();
        assert_eq!(
            (n.title.as_str(), n.body.as_str()),
            ("Team", "Bob: hello there")
        );
    }

    #[test]
    fn own_system_and_muted_messages_never_notify() {
        assert_eq!(
            decide(
                &IncomingMessage {
                    from_me: true,
                    ..msg()
                },
                &prefs(),
                AWAY
            ),
            None
        );
        assert_eq!(
            decide(
                &IncomingMessage {
                    system: true,
                    ..msg()
                },
                &prefs(),
                AWAY
            ),
            None
        );
        assert_eq!(
            decide(
                &IncomingMessage {
                    muted: true,
                    ..msg()
                },
                &prefs(),
                AWAY
            ),
            None
        );
    }

    #[test]
    fn notifications_off_means_none() {
        assert_eq!(
            decide(
                &msg(),
                &NotifyPrefs {
                    enabled: false,
                    ..prefs()
                },
                AWAY
            ),
            None
        );
    }

    #[test]
    fn hidden_preview_uses_the_generic_text() {
        let p = NotifyPrefs {
            preview: false,
            ..prefs()
        };
        assert_eq!(decide(&msg(), &p, AWAY).unwrap().body, "New message");
        let g = IncomingMessage {
            kind: ConversationKind::Group,
            sender_name: "Bob".into(),
            ..msg()
        };
        assert_eq!(decide(&g, &p, AWAY).unwrap().body, "Bob: New message");
        let empty = IncomingMessage {
            preview: "  ".into(),
            ..msg()
        };
        assert_eq!(decide(&empty, &prefs(), AWAY).unwrap().body, "New message");
    }

    #[test]
    fn the_open_conversation_in_a_focused_window_does_not_notify() {
        let looking = WindowView {
            focused: true,
            visible: true,
            open_conversation: Some(7),
        };
        assert_eq!(decide(&msg(), &prefs(), looking), None);
    }

    #[test]
    fn another_conversation_or_an_unfocused_window_notifies() {
        let other = WindowView {
            focused: true,
            visible: true,
            open_conversation: Some(8),
        };
        assert!(decide(&msg(), &prefs(), other).is_some());
        let none_open = WindowView {
            focused: true,
            visible: true,
            open_conversation: None,
        };
        assert!(decide(&msg(), &prefs(), none_open).is_some());
        let unfocused = WindowView {
            focused: false,
            visible: true,
            open_conversation: Some(7),
        };
        assert!(decide(&msg(), &prefs(), unfocused).is_some());
        let hidden = WindowView {
            focused: true,
            visible: false,
            open_conversation: Some(7),
        };
        assert!(decide(&msg(), &prefs(), hidden).is_some());
    }

    #[test]
    fn long_text_is_cut_and_an_empty_title_falls_back() {
        let m = IncomingMessage {
            preview: "x".repeat(500),
            conversation_title: "".into(),
            ..msg()
        };
        let n = decide(&m, &prefs(), AWAY).unwrap();
        assert_eq!(n.body.chars().count(), MAX_BODY_CHARS);
        assert!(n.body.ends_with('…'));
        assert_eq!(n.title, "Alice");
        let anon = IncomingMessage {
            conversation_title: "".into(),
            sender_name: "".into(),
            ..msg()
        };
        assert_eq!(decide(&anon, &prefs(), AWAY).unwrap().title, "Confab");
    }
}
