//! People: search, friend requests and friendships, remarks, blocking, and the setting that
//! decides who may open a direct chat. Every change reaches all devices of those involved.

use confab_proto::{
    BlockedResponse, ContactEvent, DirectPolicy, ErrorCode, Event, Friend, FriendRequest,
    FriendRequestSend, FriendRequestsResponse, FriendsResponse, SearchUsers, SetFriendRemark,
    Settings, UserId, UserPublic, UsersPage,
};

use crate::error::{AppError, AppResult};
use crate::state::{now_millis, Actor, AppState};

/// Pushes a contact event to every device of `users`; the asking connection already has the
/// answer, so it is skipped.
fn push(state: &AppState, actor: &Actor, users: &[UserId], event: ContactEvent) {
    let frame = confab_proto::encode_event(&Event::Contact(event));
    state
        .broker
        .publish_users(users, frame.into(), actor.conn_id);
}

async fn other_user(state: &AppState, actor: &Actor, user: UserId) -> AppResult<UserPublic> {
    if user == actor.user_id {
        return Err(AppError::invalid("that is you"));
    }
    state
        .store
        .user_by_id(user)
        .await?
        .map(|u| u.public)
        .ok_or_else(|| AppError::not_found("user"))
}

fn clean_text(text: Option<String>, max: usize, what: &str) -> AppResult<Option<String>> {
    match text.map(|t| t.trim().to_owned()) {
        Some(t) if t.is_empty() => Ok(None),
        Some(t) if t.chars().count() > max => Err(AppError::new(
            ErrorCode::TooLong,
            format!("{what} has at most {max} characters"),
        )),
        other => Ok(other),
    }
}

pub async fn search(state: &AppState, actor: &Actor, req: SearchUsers) -> AppResult<UsersPage> {
    let query = req.query.trim();
    if query.is_empty() {
        return Err(AppError::invalid("search for at least one character"));
    }
    if query.chars().count() > 64 {
        return Err(AppError::new(ErrorCode::TooLong, "search text too long"));
    }
    let limit = req.limit.unwrap_or(20).clamp(1, 100);
    let (users, has_more) = state
        .store
        .search_users(query, actor.user_id, req.after, limit)
        .await?;
    Ok(UsersPage { users, has_more })
}

/// Sends a friend request. If the other person already asked, they become friends at once.
pub async fn request(state: &AppState, actor: &Actor, req: FriendRequestSend) -> AppResult<()> {
    let to = other_user(state, actor, req.user_id).await?;
    let note = clean_text(req.note, 200, "a note")?;
    let rel = state.store.relation(actor.user_id, to.id).await?;
    if rel.blocked() {
        return Err(AppError::new(
            ErrorCode::NotAllowed,
            "you cannot send a friend request to this user",
        ));
    }
    if rel.friends {
        return Err(AppError::new(
            ErrorCode::AlreadyExists,
            "you are already friends",
        ));
    }
    let now = now_millis();
    if rel.request_b_to_a {
        return accept_inner(state, actor, to, now).await.map(|_| ());
    }
    state
        .store
        .put_friend_request(actor.user_id, to.id, note.clone(), now)
        .await?;
    let me = state
        .store
        .user_by_id(actor.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?
        .public;
    push(
        state,
        actor,
        &[to.id, actor.user_id],
        ContactEvent::Requested {
            request: FriendRequest {
                from: me,
                to,
                note,
                created_at: now,
            },
        },
    );
    Ok(())
}

async fn accept_inner(
    state: &AppState,
    actor: &Actor,
    from: UserPublic,
    now: i64,
) -> AppResult<Friend> {
    state
        .store
        .make_friends(actor.user_id, from.id, now)
        .await?;
    crate::integration::webhooks::emit(
        state,
        confab_proto::integration::WebhookEventType::FriendAdded,
        serde_json::json!({ "user_id": actor.user_id, "friend_id": from.id }),
    );
    let me = state
        .store
        .user_by_id(actor.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?
        .public;
    push(
        state,
        actor,
        &[from.id],
        ContactEvent::Accepted { user: me },
    );
    push(
        state,
        actor,
        &[actor.user_id],
        ContactEvent::Accepted { user: from.clone() },
    );
    Ok(Friend {
        user: from,
        remark: None,
        since: now,
    })
}

pub async fn accept(state: &AppState, actor: &Actor, from: UserId) -> AppResult<Friend> {
    let from = other_user(state, actor, from).await?;
    if !state
        .store
        .take_friend_request(from.id, actor.user_id)
        .await?
    {
        return Err(AppError::not_found("friend request"));
    }
    accept_inner(state, actor, from, now_millis()).await
}

pub async fn decline(state: &AppState, actor: &Actor, from: UserId) -> AppResult<()> {
    if !state.store.take_friend_request(from, actor.user_id).await? {
        return Err(AppError::not_found("friend request"));
    }
    push(
        state,
        actor,
        &[actor.user_id],
        ContactEvent::Declined { user_id: from },
    );
    Ok(())
}

pub async fn delete(state: &AppState, actor: &Actor, friend: UserId) -> AppResult<()> {
    if !state.store.remove_friends(actor.user_id, friend).await? {
        return Err(AppError::not_found("friend"));
    }
    push(
        state,
        actor,
        &[actor.user_id],
        ContactEvent::Removed { user_id: friend },
    );
    push(
        state,
        actor,
        &[friend],
        ContactEvent::Removed {
            user_id: actor.user_id,
        },
    );
    Ok(())
}

pub async fn list(state: &AppState, actor: &Actor) -> AppResult<FriendsResponse> {
    Ok(FriendsResponse {
        friends: state.store.friends(actor.user_id).await?,
    })
}

pub async fn requests(state: &AppState, actor: &Actor) -> AppResult<FriendRequestsResponse> {
    let (incoming, outgoing) = state.store.friend_requests(actor.user_id).await?;
    Ok(FriendRequestsResponse { incoming, outgoing })
}

pub async fn remark(state: &AppState, actor: &Actor, req: SetFriendRemark) -> AppResult<()> {
    let remark = clean_text(Some(req.remark), 64, "a remark")?;
    if !state
        .store
        .set_friend_remark(actor.user_id, req.user_id, remark.clone())
        .await?
    {
        return Err(AppError::not_found("friend"));
    }
    push(
        state,
        actor,
        &[actor.user_id],
        ContactEvent::Remark {
            user_id: req.user_id,
            remark,
        },
    );
    Ok(())
}

pub async fn block(state: &AppState, actor: &Actor, user: UserId, blocked: bool) -> AppResult<()> {
    other_user(state, actor, user).await?;
    state
        .store
        .set_block(actor.user_id, user, blocked, now_millis())
        .await?;
    push(
        state,
        actor,
        &[actor.user_id],
        ContactEvent::Blocked {
            user_id: user,
            blocked,
        },
    );
    Ok(())
}

pub async fn blocked(state: &AppState, actor: &Actor) -> AppResult<BlockedResponse> {
    Ok(BlockedResponse {
        users: state.store.blocked_users(actor.user_id).await?,
    })
}

pub async fn settings(state: &AppState, actor: &Actor) -> AppResult<Settings> {
    Ok(Settings {
        direct_messages: state.store.direct_policy(actor.user_id).await?,
    })
}

pub async fn update_settings(state: &AppState, actor: &Actor, s: Settings) -> AppResult<Settings> {
    state
        .store
        .set_direct_policy(actor.user_id, s.direct_messages)
        .await?;
    settings(state, actor).await
}

/// Whether `from` may message `to` directly: never when either blocked the other; otherwise
/// when they are friends, `to` accepts anyone, or either of them is a bot.
pub async fn check_direct(state: &AppState, from: UserId, to: UserId) -> AppResult<()> {
    // Anyone may talk to the assistant, whatever the friends-only setting.
    if state.assistant.is_bot(to) {
        return Ok(());
    }
    let rel = state.store.relation(from, to).await?;
    if rel.blocked() {
        return Err(AppError::new(
            ErrorCode::NotAllowed,
            "you cannot message this user",
        ));
    }
    if !rel.friends
        && rel.b_policy == DirectPolicy::FriendsOnly
        && !state.integration.is_bot(state, to).await?
        && !state.integration.is_bot(state, from).await?
    {
        return Err(AppError::new(
            ErrorCode::NotAllowed,
            "this user accepts direct messages from friends only",
        ));
    }
    Ok(())
}
