//! The model endpoint, through `async-openai`: streamed and whole chat completions, each
//! bounded by the configured timeouts, and every failure sorted into an [`UpstreamError`]
//! that says what went wrong in words a user understands.

use std::time::Duration;

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    ChatCompletionResponseStream, CreateChatCompletionRequest,
};
use async_openai::Client;
use confab_proto::AssistantFailure;
use futures_util::StreamExt;

use super::context::{ChatMessage, Role};
use crate::config::AssistantConfig;

pub struct Upstream {
    client: Client<OpenAIConfig>,
    model: String,
    max_reply_tokens: u32,
    request_timeout: Duration,
    idle_timeout: Duration,
}

/// Why the endpoint gave no (complete) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// 401 or 403: the key was rejected.
    Unauthorized(u16),
    /// 429 from the endpoint.
    RateLimited,
    /// 5xx from the endpoint.
    Server(u16),
    /// Any other refusal (an unknown model, a bad request).
    Rejected(u16),
    /// Not a chat-completions answer.
    Malformed,
    /// No answer, or no progress, in time.
    Timeout(Duration),
    Unreachable,
}

impl UpstreamError {
    pub fn failure(&self) -> AssistantFailure {
        match self {
            UpstreamError::Unauthorized(_) => AssistantFailure::Unauthorized,
            UpstreamError::RateLimited => AssistantFailure::UpstreamRateLimited,
            UpstreamError::Server(_) | UpstreamError::Rejected(_) => {
                AssistantFailure::UpstreamError
            }
            UpstreamError::Malformed => AssistantFailure::MalformedResponse,
            UpstreamError::Timeout(_) => AssistantFailure::Timeout,
            UpstreamError::Unreachable => AssistantFailure::Unreachable,
        }
    }

    /// The notice shown in the chat.
    pub fn notice(&self) -> String {
        match self {
            UpstreamError::Unauthorized(status) => {
                format!("The assistant's API key was rejected ({status}). Ask the server's administrator to check it.")
            }
            UpstreamError::RateLimited => {
                "The model service is rate limiting the assistant (429). Try again in a moment."
                    .into()
            }
            UpstreamError::Server(status) => {
                format!("The model service failed ({status}). Try again later.")
            }
            UpstreamError::Rejected(status) => format!(
                "The model service refused the request ({status}); the model name may be wrong."
            ),
            UpstreamError::Malformed => {
                "The model service sent a malformed reply that could not be read.".into()
            }
            UpstreamError::Timeout(after) if after.is_zero() => {
                "The model service did not answer in time.".into()
            }
            UpstreamError::Timeout(after) => format!(
                "The model service did not answer in time (no progress for {:.1} s).",
                after.as_secs_f64()
            ),
            UpstreamError::Unreachable => "The model service could not be reached.".into(),
        }
    }
}

fn classify(e: OpenAIError) -> UpstreamError {
    match e {
        OpenAIError::ApiError(r) => {
            let status = r.status_code.as_u16();
            match status {
                401 | 403 => UpstreamError::Unauthorized(status),
                429 => UpstreamError::RateLimited,
                s if s >= 500 => UpstreamError::Server(s),
                s => {
                    tracing::warn!(status = s, message = %r.api_error.message, "model endpoint refused the request");
                    UpstreamError::Rejected(s)
                }
            }
        }
        OpenAIError::Reqwest(e) if e.is_timeout() => UpstreamError::Timeout(Duration::ZERO),
        OpenAIError::Boxed(e) => {
            tracing::warn!(error = %e, "model request failed");
            UpstreamError::Unreachable
        }
        OpenAIError::Reqwest(e) if e.is_decode() || e.is_body() => UpstreamError::Malformed,
        OpenAIError::Reqwest(e) => {
            tracing::warn!(error = %e, "model endpoint unreachable");
            UpstreamError::Unreachable
        }
        OpenAIError::JSONDeserialize(..) | OpenAIError::StreamError(_) => UpstreamError::Malformed,
        other => {
            tracing::warn!(error = %other, "model request failed");
            UpstreamError::Malformed
        }
    }
}

fn to_openai(m: ChatMessage) -> ChatCompletionRequestMessage {
    match m.role {
        Role::System => ChatCompletionRequestSystemMessage::from(m.content).into(),
        Role::User => ChatCompletionRequestUserMessage::from(m.content).into(),
        Role::Assistant => ChatCompletionRequestAssistantMessage::from(m.content.as_str()).into(),
    }
}

/// A reply arriving piece by piece.
pub struct ReplyStream {
    inner: ChatCompletionResponseStream,
    idle: Duration,
}

impl ReplyStream {
    /// The next piece of text (possibly empty), `None` at the end.
    pub async fn next(&mut self) -> Option<Result<String, UpstreamError>> {
        match tokio::time::timeout(self.idle, self.inner.next()).await {
            Err(_) => Some(Err(UpstreamError::Timeout(self.idle))),
            Ok(None) => None,
            Ok(Some(Ok(chunk))) => Some(Ok(chunk
                .choices
                .into_iter()
                .filter_map(|c| c.delta.content)
                .collect())),
            Ok(Some(Err(e))) => Some(Err(classify(e))),
        }
    }
}

impl Upstream {
    pub fn new(config: &AssistantConfig) -> anyhow::Result<Upstream> {
        // reqwest is built without a default crypto provider; ring is the workspace's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let request_timeout = Duration::from_millis(config.request_timeout_ms);
        let http = reqwest_oai::Client::builder()
            .connect_timeout(request_timeout)
            .build()?;
        // Every field set explicitly, so nothing is picked up from OPENAI_* variables.
        let openai = OpenAIConfig::new()
            .with_api_base(config.base_url.trim_end_matches('/'))
            .with_api_key(config.api_key.expose())
            .with_org_id("")
            .with_project_id("");
        // The plain transport, without the crate's default retries: a 429 or 5xx is reported
        // to the user at once instead of being retried behind their back.
        let client = Client::with_config(openai)
            .with_http_client(http.clone())
            .with_http_service(async_openai::middleware::ReqwestService::new(http));
        Ok(Upstream {
            client,
            model: config.model.clone(),
            max_reply_tokens: config.max_reply_tokens,
            request_timeout,
            idle_timeout: Duration::from_millis(config.stream_idle_timeout_ms),
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    fn request(&self, messages: Vec<ChatMessage>) -> CreateChatCompletionRequest {
        CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: messages.into_iter().map(to_openai).collect(),
            max_completion_tokens: (self.max_reply_tokens > 0).then_some(self.max_reply_tokens),
            ..Default::default()
        }
    }

    /// Starts a streamed reply: waits at most the request timeout for the endpoint to answer.
    pub async fn stream(&self, messages: Vec<ChatMessage>) -> Result<ReplyStream, UpstreamError> {
        let request = self.request(messages);
        let chat = self.client.chat();
        match tokio::time::timeout(self.request_timeout, chat.create_stream(request)).await {
            Err(_) => Err(UpstreamError::Timeout(self.request_timeout)),
            Ok(Err(e)) => Err(classify(e)),
            Ok(Ok(inner)) => Ok(ReplyStream {
                inner,
                idle: self.idle_timeout,
            }),
        }
    }

    /// A whole reply, within the request timeout.
    pub async fn complete(&self, messages: Vec<ChatMessage>) -> Result<String, UpstreamError> {
        let request = self.request(messages);
        let chat = self.client.chat();
        let response = match tokio::time::timeout(self.request_timeout, chat.create(request)).await
        {
            Err(_) => return Err(UpstreamError::Timeout(self.request_timeout)),
            Ok(Err(e)) => return Err(classify(e)),
            Ok(Ok(r)) => r,
        };
        response
            .choices
            .into_iter()
            .find_map(|c| c.message.content)
            .filter(|t| !t.trim().is_empty())
            .ok_or(UpstreamError::Malformed)
    }
}
