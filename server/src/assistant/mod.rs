//! The AI assistant: a bot user that answers in its direct chats and, where a group enabled
//! it, when mentioned; plus personal tools (summarize unread, translate a message).
//!
//! Every model call runs in a background task tracked in [`Assistant::tasks`], so the request
//! or send that caused it is answered at once and shutdown waits for (and stops) them. A
//! reply streams to the members' devices as `assistant_delta` events and is then stored as a
//! normal message with [`Content::Assistant`]; failures become stored notices from the bot.
//!
//! - [`context`]: the system prompt and history trimmed to the token budget.
//! - [`upstream`]: the OpenAI-compatible endpoint, timeouts and error classes.

pub mod context;
pub mod upstream;

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use confab_proto::{
    AssistantDelta, AssistantFailure, AssistantReply, AssistantResult, AssistantStatus,
    AssistantStop, AssistantStopResponse, AssistantSummarize, AssistantTaskKind,
    AssistantTaskResponse, AssistantTranslate, Content, ConversationId, ConversationKind,
    ErrorCode, Event, Message, ReplyStatus, UserId, UserPublic,
};
use dashmap::DashMap;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::context::ChatMessage;
use self::upstream::{Upstream, UpstreamError};
use crate::config::AssistantConfig;
use crate::conversations::{require_member, CachedConversation};
use crate::error::{AppError, AppResult};
use crate::messages::publish_message;
use crate::state::{now_millis, Actor, AppState};
use crate::store::{HistoryQuery, NewMessage};

pub struct Assistant {
    config: AssistantConfig,
    upstream: Option<Upstream>,
    bot: OnceLock<UserPublic>,
    /// The reply being generated in each conversation.
    active: DashMap<ConversationId, Active>,
    /// Recent uses per user, for the per-minute limit.
    usage: Mutex<HashMap<UserId, VecDeque<Instant>>>,
    /// Every generation, summary and translation in flight.
    pub tasks: TaskTracker,
}

struct Active {
    reply_id: String,
    stop: CancellationToken,
}

fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl Assistant {
    pub fn new(config: &AssistantConfig) -> anyhow::Result<Assistant> {
        let upstream = if config.is_configured() {
            Some(Upstream::new(config)?)
        } else {
            None
        };
        Ok(Assistant {
            config: config.clone(),
            upstream,
            bot: OnceLock::new(),
            active: DashMap::new(),
            usage: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
        })
    }

    /// The bot user, once created (only when configured).
    pub fn bot(&self) -> Option<&UserPublic> {
        self.bot.get()
    }

    pub fn is_bot(&self, user: UserId) -> bool {
        self.bot().is_some_and(|b| b.id == user)
    }

    fn upstream(&self) -> AppResult<&Upstream> {
        self.upstream.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorCode::AssistantNotConfigured,
                "the AI assistant is not configured on this server",
            )
        })
    }

    /// Counts one use by `user`; `Err(wait)` when over the per-minute limit.
    fn take_rate(&self, user: UserId) -> Result<(), Duration> {
        let window = Duration::from_secs(60);
        let now = Instant::now();
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        let uses = usage.entry(user).or_default();
        while uses
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            uses.pop_front();
        }
        if uses.len() >= self.config.rate_per_minute as usize {
            let oldest = uses.front().copied().unwrap_or(now);
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        uses.push_back(now);
        Ok(())
    }
}

/// At start: creates the bot user when the assistant is configured.
pub async fn start(state: &AppState) -> anyhow::Result<()> {
    let a = &state.assistant;
    if a.upstream.is_none() {
        tracing::info!("AI assistant not configured (no model set)");
        return Ok(());
    }
    let bot = state
        .store
        .ensure_bot(&a.config.username, &a.config.display_name, now_millis())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "creating the assistant's user {:?}: {e} (is the name taken by a person?)",
                a.config.username
            )
        })?;
    tracing::info!(
        bot = bot.id,
        model = %a.config.model,
        base_url = %a.config.base_url,
        "AI assistant ready"
    );
    let _ = a.bot.set(bot);
    Ok(())
}

/// `assistant_status`
pub fn status(state: &AppState) -> AssistantStatus {
    let a = &state.assistant;
    AssistantStatus {
        configured: a.upstream.is_some(),
        bot: a.bot().cloned(),
        model: a.upstream.as_ref().map(|u| u.model().to_owned()),
    }
}

/// Whether `text` mentions the bot by `@username`.
fn mentions_by_name(text: &str, username: &str) -> bool {
    let needle = format!("@{}", username.to_lowercase());
    let lower = text.to_lowercase();
    lower.match_indices(&needle).any(|(i, _)| {
        lower[i + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// Whether a message being sent in `conv` addresses the bot, so its mention is kept.
pub fn may_mention_bot(state: &AppState, conv: &CachedConversation, user: UserId) -> bool {
    conv.kind == ConversationKind::Group && conv.assistant_enabled && state.assistant.is_bot(user)
}

/// Called after a message was stored and published: answers it if it is for the bot.
pub async fn on_message(state: &AppState, conv: &CachedConversation, message: &Message) {
    let Some(bot) = state.assistant.bot().cloned() else {
        return;
    };
    if message.sender_id == bot.id {
        return;
    }
    let Content::Text { text } = &message.content else {
        return;
    };
    let addressed = match conv.kind {
        ConversationKind::Direct => conv.member_ids.contains(&bot.id),
        ConversationKind::Group => {
            (message.mentions.contains(&bot.id) || mentions_by_name(text, &bot.username))
                && conv.assistant_enabled
                && !conv.dissolved
        }
    };
    if !addressed {
        return;
    }
    let recipients: Vec<UserId> = conv
        .member_ids
        .iter()
        .copied()
        .filter(|&u| u != bot.id)
        .collect();
    let reply_id = new_id();
    let job = Reply {
        state: state.clone(),
        conversation_id: conv.id,
        kind: conv.kind,
        bot,
        trigger: message.clone(),
        recipients,
        reply_id: reply_id.clone(),
    };
    if let Err(wait) = state.assistant.take_rate(message.sender_id) {
        let notice = format!(
            "You are asking the assistant too often. Try again in {} s.",
            wait.as_secs().max(1)
        );
        let state = state.clone();
        state.assistant.tasks.spawn(async move {
            job.finish(
                notice,
                ReplyStatus::Failed,
                Some(AssistantFailure::RateLimited),
            )
            .await
        });
        return;
    }
    let stop = state.shutdown.child_token();
    {
        use dashmap::mapref::entry::Entry;
        match state.assistant.active.entry(conv.id) {
            Entry::Occupied(_) => {
                let state = state.clone();
                state.assistant.tasks.spawn(async move {
                    job.finish(
                        "The assistant is still answering here; stop that reply or wait for it."
                            .into(),
                        ReplyStatus::Failed,
                        Some(AssistantFailure::Busy),
                    )
                    .await
                });
                return;
            }
            Entry::Vacant(v) => {
                v.insert(Active {
                    reply_id,
                    stop: stop.clone(),
                });
            }
        }
    }
    state.assistant.tasks.spawn(job.run(stop));
}

/// One reply being generated.
struct Reply {
    state: AppState,
    conversation_id: ConversationId,
    kind: ConversationKind,
    bot: UserPublic,
    trigger: Message,
    recipients: Vec<UserId>,
    reply_id: String,
}

impl Reply {
    async fn run(self, stop: CancellationToken) {
        let a = &self.state.assistant;
        let deadline = Duration::from_millis(a.config.max_reply_ms);
        let (text, status, failure) = match self.context().await {
            Err(e) => {
                tracing::warn!(error = %e, "assistant context");
                (
                    "The assistant could not read this conversation.".to_owned(),
                    ReplyStatus::Failed,
                    Some(AssistantFailure::UpstreamError),
                )
            }
            Ok(messages) => {
                match tokio::time::timeout(deadline, self.generate(messages, &stop)).await {
                    Ok(outcome) => outcome,
                    Err(_) => (
                        UpstreamError::Timeout(deadline).notice(),
                        ReplyStatus::Failed,
                        Some(AssistantFailure::Timeout),
                    ),
                }
            }
        };
        a.active
            .remove_if(&self.conversation_id, |_, v| v.reply_id == self.reply_id);
        self.finish(text, status, failure).await;
    }

    /// The model's messages: system prompt, then the conversation's recent history.
    async fn context(&self) -> AppResult<Vec<ChatMessage>> {
        let a = &self.state.assistant;
        let (history, _) = self
            .state
            .store
            .history(HistoryQuery {
                conversation_id: self.conversation_id,
                after: None,
                before: Some(self.trigger.seq + 1),
                limit: a.config.context_messages,
                visible_after: 0,
                visible_until: None,
            })
            .await?;
        let names = if self.kind == ConversationKind::Group {
            display_names(&self.state, &history).await?
        } else {
            HashMap::new()
        };
        let mut system = a.config.system_prompt.clone();
        if self.kind == ConversationKind::Group {
            system.push_str(
                "\nYou are in a group chat. Each user message starts with the sender's name.",
            );
        }
        let mut out = Vec::new();
        for m in &history {
            match &m.content {
                Content::Text { text } if m.sender_id != self.bot.id => {
                    out.push(ChatMessage::user(match names.get(&m.sender_id) {
                        Some(name) => format!("{name}: {text}"),
                        None => text.clone(),
                    }))
                }
                Content::Assistant(r) if r.status != ReplyStatus::Failed => {
                    out.push(ChatMessage::assistant(r.text.clone()))
                }
                _ => {}
            }
        }
        Ok(context::trim(&system, out, a.config.context_tokens))
    }

    async fn generate(
        &self,
        messages: Vec<ChatMessage>,
        stop: &CancellationToken,
    ) -> (String, ReplyStatus, Option<AssistantFailure>) {
        let Ok(upstream) = self.state.assistant.upstream() else {
            return (
                "The assistant is not configured on this server.".into(),
                ReplyStatus::Failed,
                Some(AssistantFailure::NotConfigured),
            );
        };
        let failed = |e: UpstreamError| (e.notice(), ReplyStatus::Failed, Some(e.failure()));
        let mut stream = tokio::select! {
            _ = stop.cancelled() => return (String::new(), ReplyStatus::Stopped, None),
            s = upstream.stream(messages) => match s {
                Ok(s) => s,
                Err(e) => return failed(e),
            },
        };
        let mut text = String::new();
        loop {
            let next = tokio::select! {
                _ = stop.cancelled() => return (text, ReplyStatus::Stopped, None),
                n = stream.next() => n,
            };
            match next {
                None => break,
                Some(Err(e)) => return failed(e),
                Some(Ok(delta)) if delta.is_empty() => {}
                Some(Ok(delta)) => {
                    text.push_str(&delta);
                    self.delta(delta, None, None);
                }
            }
        }
        if text.trim().is_empty() {
            return failed(UpstreamError::Malformed);
        }
        (text, ReplyStatus::Complete, None)
    }

    fn delta(&self, delta: String, seq: Option<i64>, status: Option<ReplyStatus>) {
        let event = Event::AssistantDelta(AssistantDelta {
            conversation_id: self.conversation_id,
            reply_id: self.reply_id.clone(),
            done: status.is_some(),
            delta,
            seq,
            status,
        });
        self.state.broker.publish_users(
            &self.recipients,
            confab_proto::encode_event(&event).into(),
            None,
        );
    }

    /// Stores the reply (or notice) as the bot's message and tells the devices.
    async fn finish(self, text: String, status: ReplyStatus, failure: Option<AssistantFailure>) {
        let text = if text.trim().is_empty() && status == ReplyStatus::Stopped {
            "(stopped before any answer)".to_owned()
        } else {
            text
        };
        let stored = self
            .state
            .store
            .append_message(NewMessage {
                conversation_id: self.conversation_id,
                sender_id: self.bot.id,
                client_msg_id: Some(format!("assistant-{}", self.reply_id)),
                content: Content::Assistant(AssistantReply {
                    text,
                    status,
                    reply_id: self.reply_id.clone(),
                    failure,
                }),
                reply_to: Some(self.trigger.seq),
                mentions: if self.kind == ConversationKind::Group {
                    vec![self.trigger.sender_id]
                } else {
                    vec![]
                },
                mention_all: false,
                now: now_millis(),
            })
            .await;
        match stored {
            Ok(appended) => {
                let m = appended.message;
                if let Err(e) = publish_message(&self.state, &m, None).await {
                    tracing::warn!(error = %e, "publishing the assistant's reply");
                }
                self.delta(String::new(), Some(m.seq), Some(status));
            }
            Err(e) => {
                tracing::error!(error = %e, conversation_id = self.conversation_id, "storing the assistant's reply");
                self.delta(String::new(), None, Some(ReplyStatus::Failed));
            }
        }
    }
}

async fn display_names(
    state: &AppState,
    history: &[Message],
) -> AppResult<HashMap<UserId, String>> {
    let mut ids: Vec<UserId> = history.iter().map(|m| m.sender_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(state
        .store
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

/// `assistant_stop`: stops the reply being generated in a conversation the caller is in.
pub async fn stop(
    state: &AppState,
    actor: &Actor,
    req: AssistantStop,
) -> AppResult<AssistantStopResponse> {
    require_member(state, req.conversation_id, actor.user_id).await?;
    let active = state.assistant.active.get(&req.conversation_id).map(|a| {
        a.stop.cancel();
        a.reply_id.clone()
    });
    Ok(AssistantStopResponse {
        stopped: active.is_some(),
        reply_id: active,
    })
}

/// A summary or translation: checked and answered at once, computed in the background, the
/// result pushed to the caller's devices only.
struct Task {
    state: AppState,
    user: UserId,
    task_id: String,
    kind: AssistantTaskKind,
    conversation_id: ConversationId,
    seq: Option<i64>,
    message_count: Option<u32>,
}

impl Task {
    fn start(
        self,
        prompt: Option<Vec<ChatMessage>>,
        fallback: String,
    ) -> AppResult<AssistantTaskResponse> {
        let a = &self.state.assistant;
        a.take_rate(self.user).map_err(|wait| {
            let mut e = AppError::new(
                ErrorCode::RateLimited,
                "you are asking the assistant too often",
            );
            e.retry_after_ms = Some(wait.as_millis() as u64);
            e
        })?;
        let response = AssistantTaskResponse {
            task_id: self.task_id.clone(),
        };
        let stop = self.state.shutdown.child_token();
        let tasks = a.tasks.clone();
        tasks.spawn(async move {
            let outcome = match prompt {
                None => Ok(fallback),
                Some(messages) => {
                    let upstream = self.state.assistant.upstream.as_ref();
                    match upstream {
                        None => Err(UpstreamError::Unreachable),
                        Some(u) => tokio::select! {
                            r = u.complete(messages) => r,
                            _ = stop.cancelled() => Err(UpstreamError::Unreachable),
                        },
                    }
                }
            };
            let (text, failure) = match outcome {
                Ok(t) => (t, None),
                Err(e) => (e.notice(), Some(e.failure())),
            };
            let event = Event::AssistantResult(AssistantResult {
                task_id: self.task_id,
                kind: self.kind,
                conversation_id: self.conversation_id,
                seq: self.seq,
                text,
                failure,
                message_count: self.message_count,
            });
            self.state.broker.publish_users(
                &[self.user],
                confab_proto::encode_event(&event).into(),
                None,
            );
        });
        Ok(response)
    }
}

/// `assistant_summarize`: my unread messages in a conversation, summarized for me alone.
pub async fn summarize(
    state: &AppState,
    actor: &Actor,
    req: AssistantSummarize,
) -> AppResult<AssistantTaskResponse> {
    state.assistant.upstream()?;
    require_member(state, req.conversation_id, actor.user_id).await?;
    let membership = state
        .store
        .membership(req.conversation_id, actor.user_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    let config = &state.assistant.config;
    let (unread, _) = state
        .store
        .history(HistoryQuery {
            conversation_id: req.conversation_id,
            after: None,
            before: None,
            limit: config.context_messages.max(state.config.history_page_max),
            visible_after: membership.read_seq.max(membership.joined_seq),
            visible_until: membership.left_seq,
        })
        .await?;
    let unread: Vec<Message> = unread
        .into_iter()
        .filter(|m| m.sender_id != actor.user_id)
        .filter(|m| match &m.content {
            Content::Text { .. } => true,
            // The assistant's notices are about the assistant, not the conversation.
            Content::Assistant(r) => r.status != ReplyStatus::Failed,
            _ => false,
        })
        .collect();
    let names = display_names(state, &unread).await?;
    let lines: Vec<String> = unread
        .iter()
        .map(|m| {
            let name = names.get(&m.sender_id).map_or("someone", String::as_str);
            format!("{name}: {}", m.content.as_text().unwrap_or_default())
        })
        .collect();
    let count = lines.len() as u32;
    let prompt = (!lines.is_empty()).then(|| {
        let budget = config
            .context_tokens
            .saturating_sub(context::estimate_tokens(&config.system_prompt) + 100);
        let lines = context::fit_lines(lines, budget);
        vec![
            ChatMessage::system(format!(
                "{}\nSummarize the chat messages the user sends, briefly, as a few bullet points. \
                 Each line starts with the sender's name.",
                config.system_prompt
            )),
            ChatMessage::user(lines.join("\n")),
        ]
    });
    Task {
        state: state.clone(),
        user: actor.user_id,
        task_id: new_id(),
        kind: AssistantTaskKind::Summary,
        conversation_id: req.conversation_id,
        seq: None,
        message_count: Some(count),
    }
    .start(prompt, "You have no unread messages here.".into())
}

/// `assistant_translate`: one message of a conversation I am in, into `language`.
pub async fn translate(
    state: &AppState,
    actor: &Actor,
    req: AssistantTranslate,
) -> AppResult<AssistantTaskResponse> {
    state.assistant.upstream()?;
    let language = req.language.trim();
    if language.is_empty() || language.chars().count() > 40 {
        return Err(AppError::invalid("language must be 1–40 characters"));
    }
    let membership = state
        .store
        .membership(req.conversation_id, actor.user_id)
        .await?
        .ok_or_else(AppError::not_member)?;
    let visible =
        req.seq > membership.joined_seq && membership.left_seq.is_none_or(|left| req.seq <= left);
    let message = match state.store.message(req.conversation_id, req.seq).await? {
        Some(m) if visible => m,
        _ => return Err(AppError::not_found("message")),
    };
    let Some(text) = message.content.as_text() else {
        return Err(AppError::invalid("only text messages can be translated"));
    };
    let prompt = vec![
        ChatMessage::system(format!(
            "Translate the user's message into {language}. Reply with the translation only, \
             keeping its tone and formatting."
        )),
        ChatMessage::user(text),
    ];
    Task {
        state: state.clone(),
        user: actor.user_id,
        task_id: new_id(),
        kind: AssistantTaskKind::Translation,
        conversation_id: req.conversation_id,
        seq: Some(req.seq),
        message_count: None,
    }
    .start(Some(prompt), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_by_name_needs_a_word_boundary() {
        assert!(mentions_by_name("hey @assistant, help", "assistant"));
        assert!(mentions_by_name("@Assistant", "assistant"));
        assert!(!mentions_by_name("@assistants are here", "assistant"));
        assert!(!mentions_by_name("assistant", "assistant"));
    }
}
