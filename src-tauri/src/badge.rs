//! What the unread count looks like on the badge, in the window title and in the tray. Pure.

use serde::Serialize;

/// Counts above this show as "999+" (as the web UI's title does).
pub const MAX_SHOWN: u32 = 999;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadgeView {
    /// Total unread messages in conversations that are not muted.
    pub count: u32,
    /// The number for `set_badge_count` (`None` clears the badge).
    pub badge: Option<i64>,
    /// The count as text: "", "7", "999+".
    pub label: String,
    /// The window title: "Confab" or "(7) Confab".
    pub title: String,
    /// The tray icon's tooltip.
    pub tooltip: String,
    /// The tray menu's status line.
    pub menu_text: String,
}

pub fn badge_view(count: u32) -> BadgeView {
    let label = match count {
        0 => String::new(),
        n if n > MAX_SHOWN => format!("{MAX_SHOWN}+"),
        n => n.to_string(),
    };
    let (title, tooltip, menu_text) = match count {
        0 => (
            "Confab".to_owned(),
            "Confab".to_owned(),
            "No unread messages".to_owned(),
        ),
        1 => (
            "(1) Confab".to_owned(),
            "Confab — 1 unread message".to_owned(),
            "1 unread message".to_owned(),
        ),
        _ => (
            format!("({label}) Confab"),
            format!("Confab — {label} unread messages"),
            format!("{label} unread messages"),
        ),
    };
    BadgeView {
        count,
        badge: (count > 0).then_some(i64::from(count)),
        label,
        title,
        tooltip,
        menu_text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_clears_everything() {
        let v = badge_view(0);
        assert_eq!(v.badge, None);
        assert_eq!(v.label, "");
        assert_eq!(v.title, "Confab");
        assert_eq!(v.tooltip, "Confab");
        assert_eq!(v.menu_text, "No unread messages");
    }

    #[test]
    fn one_is_singular() {
        let v = badge_view(1);
        assert_eq!(v.badge, Some(1));
        assert_eq!(v.title, "(1) Confab");
        assert_eq!(v.tooltip, "Confab — 1 unread message");
    }

    #[test]
    fn many_are_counted_and_capped_in_text_only() {
        let v = badge_view(42);
        assert_eq!(
            (v.badge, v.label.as_str(), v.title.as_str()),
            (Some(42), "42", "(42) Confab")
        );
        assert_eq!(v.menu_text, "42 unread messages");
        let big = badge_view(12_345);
        assert_eq!(big.badge, Some(12_345));
        assert_eq!(big.label, "999+");
        assert_eq!(big.title, "(999+) Confab");
    }
}
