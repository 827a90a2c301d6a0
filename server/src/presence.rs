//! Presence (online, last seen) and typing indicators. Both are ephemeral: typing is never
//! stored, presence only as `last_seen`. Presence changes are pushed to direct-chat peers;
//! anyone who shares a conversation may ask for it.

use confab_proto::{
    ConversationRef, Event, Presence, PresenceRequest, PresenceResponse, TypingEvent, UserId,
};

use crate::broker::Audience;
use crate::conversations::require_member;
use crate::error::{AppError, AppResult};
use crate::state::{now_millis, Actor, AppState};

pub async fn typing(state: &AppState, actor: &Actor, req: ConversationRef) -> AppResult<()> {
    let (conv, _) = require_member(state, req.conversation_id, actor.user_id).await?;
    let frame = confab_proto::encode_event(&Event::Typing(TypingEvent {
        conversation_id: req.conversation_id,
        user_id: actor.user_id,
    }));
    state.broker.publish_conversation(
        Audience {
            conversation_id: conv.id,
            kind: conv.kind,
            members: &conv.member_ids,
            except_user: Some(actor.user_id),
        },
        frame.into(),
        None,
    );
    Ok(())
}

pub async fn query(
    state: &AppState,
    actor: &Actor,
    req: PresenceRequest,
) -> AppResult<PresenceResponse> {
    if req.user_ids.len() > 500 {
        return Err(AppError::invalid("ask for at most 500 users at once"));
    }
    let mut presence = Vec::with_capacity(req.user_ids.len());
    for user in req.user_ids {
        if user != actor.user_id
            && (!state.store.share_conversation(actor.user_id, user).await?
                || state.store.relation(actor.user_id, user).await?.blocked())
        {
            continue; // Not visible: no shared conversation, or a block between them.
        }
        let online = state.broker.is_online(user);
        let last_seen = if online {
            None
        } else {
            state
                .store
                .user_by_id(user)
                .await?
                .and_then(|u| u.last_seen)
        };
        presence.push(Presence {
            user_id: user,
            online,
            last_seen,
        });
    }
    Ok(PresenceResponse { presence })
}

/// Tells the user's direct-chat peers that they came online or went offline.
pub async fn announce(state: &AppState, user: UserId, online: bool) {
    // With several nodes, the user may still be connected to another one.
    if !online && state.broker.is_online(user) {
        return;
    }
    let last_seen = if online {
        None
    } else {
        let now = now_millis();
        if let Err(e) = state.store.set_last_seen(user, now).await {
            tracing::warn!(error = %e, user, "could not record last seen");
        }
        Some(now)
    };
    let peers = match state.store.direct_peers(user).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, user, "could not load peers for presence");
            return;
        }
    };
    // Blocks hide presence in both directions.
    let mut visible = Vec::with_capacity(peers.len());
    for peer in peers {
        match state.store.relation(user, peer).await {
            Ok(rel) if !rel.blocked() => visible.push(peer),
            _ => {}
        }
    }
    let peers = visible;
    if peers.is_empty() {
        return;
    }
    let frame = confab_proto::encode_event(&Event::Presence(Presence {
        user_id: user,
        online,
        last_seen,
    }));
    state.broker.publish_users(&peers, frame.into(), None);
}
