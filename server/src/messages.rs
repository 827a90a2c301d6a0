//! Messages: send (idempotent, acknowledged after commit), history, read state and recall.

use confab_proto::{
    Content, ConversationKind, ErrorCode, Event, HistoryRequest, HistoryResponse, MarkRead,
    MarkReadResponse, Message, ReadEvent, RecallRequest, SendRequest, SendResponse, Target,
};

use crate::broker::Audience;
use crate::conversations::require_member;
use crate::error::{AppError, AppResult};
use crate::integration::webhooks;
use crate::state::{now_millis, Actor, AppState};
use crate::store::{HistoryQuery, NewMessage, RecallRefusal};
use confab_proto::integration::WebhookEventType;

/// Pushes a stored message to every current member's devices (except connection `except`).
pub async fn publish_message(
    state: &AppState,
    message: &Message,
    except: Option<crate::gateway::hub::ConnId>,
) -> AppResult<()> {
    let conv = state
        .conversations
        .get(state.store.as_ref(), message.conversation_id)
        .await?
        .ok_or_else(|| AppError::not_found("conversation"))?;
    let frame = confab_proto::encode_event(&Event::Message(message.clone())).into();
    state.broker.publish_conversation(
        Audience {
            conversation_id: conv.id,
            kind: conv.kind,
            members: &conv.member_ids,
            except_user: None,
        },
        frame,
        except,
    );
    Ok(())
}

/// Refuses a new message while it could not reach the members on other nodes: the client gets
/// `unavailable` and retries, instead of an acknowledgement nobody hears of.
pub fn require_broker(state: &AppState) -> AppResult<()> {
    let health = state.broker.health();
    if health.ok {
        Ok(())
    } else {
        tracing::warn!(detail = %health.detail, "refusing a send: broker unavailable");
        Err(AppError::new(
            ErrorCode::Unavailable,
            "message delivery is unavailable, try again shortly",
        ))
    }
}

fn validate_text(state: &AppState, content: &Content) -> AppResult<()> {
    match content {
        Content::Text { text } => {
            if text.trim().is_empty() {
                return Err(AppError::invalid("message text must not be empty"));
            }
            let max = state.config.max_text_chars;
            if text.chars().count() > max {
                return Err(AppError::new(
                    ErrorCode::TooLong,
                    format!("messages have at most {max} characters"),
                ));
            }
            Ok(())
        }
        c if c.media().is_some() => Ok(()),
        _ => Err(AppError::invalid(
            "only text and media content can be sent; system and recalled content is the server's",
        )),
    }
}

pub async fn send(state: &AppState, actor: &Actor, req: SendRequest) -> AppResult<SendResponse> {
    let key_len = req.client_msg_id.chars().count();
    if key_len == 0 || key_len > 64 {
        return Err(AppError::invalid("client_msg_id must be 1–64 characters"));
    }
    validate_text(state, &req.content)?;
    require_broker(state)?;
    let content = crate::media::check_content(state, actor.user_id, req.content).await?;
    let conversation_id = match req.to {
        Target::Conversation(id) => id,
        Target::User(peer) => {
            if peer == actor.user_id {
                return Err(AppError::invalid(
                    "you cannot open a direct chat with yourself",
                ));
            }
            if state.store.user_by_id(peer).await?.is_none() {
                return Err(AppError::not_found("user"));
            }
            crate::social::check_direct(state, actor.user_id, peer).await?;
            state
                .store
                .direct_conversation(actor.user_id, peer, now_millis())
                .await?
                .0
        }
    };
    let (conv, _role) = require_member(state, conversation_id, actor.user_id).await?;
    let now = now_millis();
    match conv.kind {
        ConversationKind::Group => {
            if conv.dissolved {
                return Err(AppError::new(
                    ErrorCode::GroupDissolved,
                    "this group was dissolved",
                ));
            }
            if conv.is_muted(actor.user_id, now) {
                return Err(AppError::new(
                    ErrorCode::Muted,
                    "you are muted in this group",
                ));
            }
        }
        ConversationKind::Direct => {
            if let (Target::Conversation(_), Some(peer)) = (req.to, conv.peer_of(actor.user_id)) {
                crate::social::check_direct(state, actor.user_id, peer).await?;
            }
        }
    }
    if let Some(reply_to) = req.reply_to {
        if reply_to < 1
            || state
                .store
                .message(conversation_id, reply_to)
                .await?
                .is_none()
        {
            return Err(AppError::not_found("replied-to message"));
        }
    }
    let mut mentions = req.mentions;
    mentions.retain(|&m| {
        conv.roles.contains_key(&m) || crate::assistant::may_mention_bot(state, &conv, m)
    });
    mentions.sort_unstable();
    mentions.dedup();
    let mention_all = req.mention_all && conv.kind == ConversationKind::Group;

    let appended = state
        .store
        .append_message(NewMessage {
            conversation_id,
            sender_id: actor.user_id,
            client_msg_id: Some(req.client_msg_id),
            content,
            reply_to: req.reply_to,
            mentions,
            mention_all,
            now,
        })
        .await?;
    let m = &appended.message;
    if !appended.duplicate {
        crate::metrics::Metrics::inc(&state.metrics.messages_stored_total);
        publish_message(state, m, actor.conn_id).await?;
        webhooks::emit(
            state,
            WebhookEventType::MessageCreated,
            serde_json::json!({ "message": m }),
        );
        crate::assistant::on_message(state, &conv, m).await;
    }
    Ok(SendResponse {
        conversation_id: m.conversation_id,
        seq: m.seq,
        created_at: m.created_at,
        duplicate: appended.duplicate,
    })
}

pub async fn history(
    state: &AppState,
    actor: &Actor,
    req: HistoryRequest,
) -> AppResult<HistoryResponse> {
    let membership = state
        .store
        .membership(req.conversation_id, actor.user_id)
        .await?;
    let Some(membership) = membership else {
        return Err(
            if state
                .conversations
                .get(state.store.as_ref(), req.conversation_id)
                .await?
                .is_some()
            {
                AppError::not_member()
            } else {
                AppError::not_found("conversation")
            },
        );
    };
    if req.after.is_some() && req.before.is_some_and(|b| b <= req.after.unwrap_or(0)) {
        return Ok(HistoryResponse {
            messages: vec![],
            has_more: false,
        });
    }
    let limit = req
        .limit
        .unwrap_or(50)
        .clamp(1, state.config.history_page_max);
    let (messages, has_more) = state
        .store
        .history(HistoryQuery {
            conversation_id: req.conversation_id,
            after: req.after,
            before: req.before,
            limit,
            visible_after: membership.joined_seq,
            visible_until: membership.left_seq,
        })
        .await?;
    Ok(HistoryResponse { messages, has_more })
}

pub async fn mark_read(
    state: &AppState,
    actor: &Actor,
    req: MarkRead,
) -> AppResult<MarkReadResponse> {
    let conv = state
        .conversations
        .get(state.store.as_ref(), req.conversation_id)
        .await?
        .ok_or_else(|| AppError::not_found("conversation"))?;
    if state
        .store
        .membership(req.conversation_id, actor.user_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_member());
    }
    let (read_seq, unread) = state
        .store
        .mark_read(req.conversation_id, actor.user_id, req.seq)
        .await?;
    // The reader's other devices learn the new position and count.
    let own = Event::Read(ReadEvent {
        conversation_id: req.conversation_id,
        user_id: actor.user_id,
        read_seq,
        unread: Some(unread),
    });
    state.broker.publish_users(
        &[actor.user_id],
        confab_proto::encode_event(&own).into(),
        actor.conn_id,
    );
    // In a direct chat the peer sees the read receipt.
    if conv.kind == ConversationKind::Direct {
        let peers: Vec<_> = conv
            .member_ids
            .iter()
            .copied()
            .filter(|&u| u != actor.user_id)
            .collect();
        let receipt = Event::Read(ReadEvent {
            conversation_id: req.conversation_id,
            user_id: actor.user_id,
            read_seq,
            unread: None,
        });
        state
            .broker
            .publish_users(&peers, confab_proto::encode_event(&receipt).into(), None);
    }
    Ok(MarkReadResponse {
        conversation_id: req.conversation_id,
        read_seq,
        unread,
    })
}

pub async fn recall(
    state: &AppState,
    actor: &Actor,
    req: RecallRequest,
) -> AppResult<SendResponse> {
    let (conv, role) = require_member(state, req.conversation_id, actor.user_id).await?;
    require_broker(state)?;
    if conv.dissolved {
        return Err(AppError::new(
            ErrorCode::GroupDissolved,
            "this group was dissolved",
        ));
    }
    let window_ms = state.config.recall_window().as_millis() as i64;
    let now = now_millis();
    let me = actor.user_id;
    let is_group_admin = conv.kind == ConversationKind::Group && role.is_admin();
    let owner_role = role;
    let roles: std::collections::HashMap<_, _> = conv.roles.clone();
    let check = Box::new(move |m: &Message| -> Result<(), RecallRefusal> {
        match m.content {
            Content::Recalled => return Err(RecallRefusal::AlreadyRecalled),
            Content::System(_) => return Err(RecallRefusal::NotRecallable),
            _ => {}
        }
        if m.sender_id == me {
            if now - m.created_at > window_ms {
                return Err(RecallRefusal::WindowPassed);
            }
            return Ok(());
        }
        // Owners recall anyone's message; admins anyone's but the owner's.
        let sender_role = roles.get(&m.sender_id).copied();
        if is_group_admin
            && (owner_role == confab_proto::Role::Owner
                || sender_role != Some(confab_proto::Role::Owner))
        {
            Ok(())
        } else {
            Err(RecallRefusal::Forbidden)
        }
    });
    let event = state
        .store
        .recall(req.conversation_id, req.seq, me, now, check)
        .await?
        .map_err(|refusal| match refusal {
            RecallRefusal::NotFound => AppError::not_found("message"),
            RecallRefusal::AlreadyRecalled => AppError::new(
                ErrorCode::AlreadyRecalled,
                "this message is already recalled",
            ),
            RecallRefusal::NotRecallable => AppError::invalid("system events cannot be recalled"),
            RecallRefusal::WindowPassed => AppError::new(
                ErrorCode::RecallWindowPassed,
                format!(
                    "messages can be recalled within {} seconds of sending",
                    state.config.recall_window_secs
                ),
            ),
            RecallRefusal::Forbidden => {
                AppError::forbidden("you can only recall your own messages")
            }
        })?;
    tracing::info!(
        conversation_id = req.conversation_id,
        seq = req.seq,
        by = me,
        "message recalled"
    );
    crate::media::release(state, req.conversation_id, req.seq).await;
    publish_message(state, &event, actor.conn_id).await?;
    webhooks::emit(
        state,
        WebhookEventType::MessageRecalled,
        serde_json::json!({
            "conversation_id": req.conversation_id,
            "seq": req.seq,
            "by": me,
        }),
    );
    Ok(SendResponse {
        conversation_id: event.conversation_id,
        seq: event.seq,
        created_at: event.created_at,
        duplicate: false,
    })
}
