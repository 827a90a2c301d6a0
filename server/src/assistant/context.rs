//! What the model sees: the system prompt and the recent conversation, trimmed to a token
//! budget. Tokens are estimated, not counted: one per 4 characters (rounded up) plus 4 per
//! message for the role and framing — close enough for English and safe for budgets, with no
//! tokenizer to ship.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Estimated tokens of one message.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4) + 4
}

/// The system prompt, then as many of `history` (oldest first) as fit in `budget`, keeping the
/// newest. The newest message is always kept, even alone over the budget.
pub fn trim(system: &str, history: Vec<ChatMessage>, budget: usize) -> Vec<ChatMessage> {
    let mut used = estimate_tokens(system);
    let mut kept = Vec::new();
    for (i, m) in history.into_iter().rev().enumerate() {
        let cost = estimate_tokens(&m.content);
        if i > 0 && used + cost > budget {
            break;
        }
        used += cost;
        kept.push(m);
    }
    kept.push(ChatMessage::system(system));
    kept.reverse();
    kept
}

/// The newest `lines` (oldest first in and out) whose estimated tokens fit in `budget`.
pub fn fit_lines(lines: Vec<String>, budget: usize) -> Vec<String> {
    let mut used = 0;
    let mut kept = Vec::new();
    for line in lines.into_iter().rev() {
        let cost = line.chars().count().div_ceil(4) + 1;
        if !kept.is_empty() && used + cost > budget {
            break;
        }
        used += cost;
        kept.push(line);
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_system_first_and_newest_within_budget() {
        let history: Vec<_> = (0..10)
            .map(|i| ChatMessage::user(format!("message {i} {}", "x".repeat(36))))
            .collect();
        // Each message costs 4 + 50/4 → 17 tokens; the system prompt "s" costs 5.
        let out = trim("s", history, 5 + 17 * 3);
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], ChatMessage::system("s"));
        assert!(out[1].content.starts_with("message 7"));
        assert!(out[3].content.starts_with("message 9"));
    }

    #[test]
    fn the_newest_message_survives_a_tiny_budget() {
        let out = trim("system", vec![ChatMessage::user("y".repeat(1000))], 10);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].role, Role::User);
    }

    #[test]
    fn lines_keep_the_newest() {
        let lines = vec!["aaaa".into(), "bbbb".into(), "cccc".into()];
        assert_eq!(fit_lines(lines, 4), vec!["bbbb".to_string(), "cccc".into()]);
    }
}
