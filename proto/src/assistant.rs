//! The AI assistant: its replies (stored messages), their streamed deltas, and the
//! personal tools (summarize, translate) whose results go only to the asking user.

use serde::{Deserialize, Serialize};

use crate::{ConversationId, Seq};

/// A reply of the assistant bot, stored as a message in the conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantReply {
    /// The whole reply (what was produced, for a stopped reply); for a failed reply, the
    /// notice explaining what went wrong.
    pub text: String,
    pub status: ReplyStatus,
    /// Matches the `reply_id` of the [`AssistantDelta`] events that streamed it.
    pub reply_id: String,
    /// Why it failed (only with `status: failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<AssistantFailure>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyStatus {
    /// The model finished its answer.
    Complete,
    /// A member stopped it with `assistant_stop`; `text` is what was produced until then.
    Stopped,
    /// No answer: `text` is a notice saying why.
    Failed,
}

/// Why the assistant could not answer. Stable names, like error codes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssistantFailure {
    /// The server has no model configured.
    NotConfigured,
    /// The model endpoint rejected the API key (HTTP 401 or 403).
    Unauthorized,
    /// The model endpoint is rate limiting us (HTTP 429).
    UpstreamRateLimited,
    /// This user asked too often (the server's own per-user limit).
    RateLimited,
    /// The model endpoint failed (HTTP 5xx) or refused the request (other 4xx).
    UpstreamError,
    /// The endpoint answered with something that is not a chat-completions stream.
    MalformedResponse,
    /// No answer, or no progress in the stream, within the configured time.
    Timeout,
    /// The endpoint could not be reached.
    Unreachable,
    /// A reply is already being generated in this conversation.
    Busy,
}

/// A piece of a reply being generated, pushed to the members' devices as it arrives. The
/// stored message follows as a normal `message` event; the last delta has `done: true` and,
/// when the reply was stored, its `seq`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantDelta {
    pub conversation_id: ConversationId,
    pub reply_id: String,
    /// Text to append to what arrived before under this `reply_id` (empty on the last delta).
    pub delta: String,
    pub done: bool,
    /// With `done`: where the final message was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    /// With `done`: how the reply ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ReplyStatus>,
}

/// `{"conversation_id":5}`: stop the reply being generated in this conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantStop {
    pub conversation_id: ConversationId,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantStopResponse {
    /// False when nothing was being generated there.
    pub stopped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_id: Option<String>,
}

/// Summarize my unread messages in a conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantSummarize {
    pub conversation_id: ConversationId,
}

/// Translate one message into `language` (a name or a code: "French", "de").
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantTranslate {
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub language: String,
}

/// The immediate answer to `assistant_summarize` and `assistant_translate`: the work runs in
/// the background and its result arrives as an [`AssistantResult`] event with this id.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantTaskResponse {
    pub task_id: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssistantTaskKind {
    Summary,
    Translation,
}

/// The result of a summarize or translate task, pushed only to the asking user's devices and
/// never stored in the conversation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantResult {
    pub task_id: String,
    pub kind: AssistantTaskKind,
    pub conversation_id: ConversationId,
    /// The translated message (translations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    /// The summary or translation; on failure, the notice saying why.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<AssistantFailure>,
    /// How many unread messages the summary covers (summaries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_count: Option<u32>,
}

/// `{"type":"assistant_status"}` → whether the assistant is available, and who it is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantStatus {
    pub configured: bool,
    /// The bot user (absent when not configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<crate::UserPublic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}
