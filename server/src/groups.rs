//! Group administration. Every action is authorized here, once, from the actor's role and the
//! group's state; every change is stored with its system event and fanned out to the members
//! (including one being removed, so their devices learn it).

use std::sync::Arc;

use confab_proto::{
    ConversationChanged, ConversationId, ErrorCode, Event, GroupInfo, GroupJoin, GroupJoinResponse,
    GroupMute, GroupSetRole, GroupText, GroupUpdate, InviteCodeResponse, JoinOutcome, JoinPolicy,
    JoinRequestsResponse, Message, Role, UserId,
};
use rand::Rng;

use crate::broker::GroupChanged;
use crate::conversations::CachedConversation;
use crate::error::{AppError, AppResult};
use crate::state::{now_millis, Actor, AppState};
use crate::store::{GroupChange, MemberPref, StoreError};

/// The longest mute.
const MAX_MUTE_SECS: u64 = 30 * 24 * 3600;

async fn load(state: &AppState, id: ConversationId) -> AppResult<Arc<CachedConversation>> {
    let conv = state
        .conversations
        .get(state.store.as_ref(), id)
        .await?
        .ok_or_else(|| AppError::not_found("group"))?;
    if conv.kind != confab_proto::ConversationKind::Group {
        return Err(AppError::invalid("this is not a group"));
    }
    Ok(conv)
}

/// The actor's role if they are a current member of a live group with at least `min`.
pub fn require_role(conv: &CachedConversation, actor: UserId, min: Role) -> AppResult<Role> {
    let role = conv.role_of(actor).ok_or_else(AppError::not_member)?;
    if conv.dissolved {
        return Err(dissolved());
    }
    if role < min {
        return Err(AppError::forbidden(match min {
            Role::Owner => "only the group owner can do this",
            _ => "only the group owner or an admin can do this",
        }));
    }
    Ok(role)
}

fn dissolved() -> AppError {
    AppError::new(ErrorCode::GroupDissolved, "this group was dissolved")
}

/// The target must be a current member whom the actor outranks.
fn require_outranks(
    conv: &CachedConversation,
    actor_role: Role,
    actor: UserId,
    target: UserId,
) -> AppResult<Role> {
    if target == actor {
        return Err(AppError::invalid("you cannot do this to yourself"));
    }
    let target_role = conv
        .role_of(target)
        .ok_or_else(|| AppError::not_found("member"))?;
    if target_role >= actor_role {
        return Err(AppError::forbidden(
            "you can only do this to members below your role",
        ));
    }
    Ok(target_role)
}

fn store_conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict("dissolved") => dissolved(),
        StoreError::Conflict("full") => AppError::new(ErrorCode::GroupFull, "the group is full"),
        StoreError::Conflict("membership") => AppError::new(
            ErrorCode::AlreadyExists,
            "membership changed: already a member, or no longer one",
        ),
        other => other.into(),
    }
}

/// Stores a change, refreshes the membership cache and tells everyone concerned.
async fn apply(
    state: &AppState,
    actor: &Actor,
    conv: &CachedConversation,
    change: GroupChange,
) -> AppResult<Message> {
    crate::messages::require_broker(state)?;
    let event = state
        .store
        .group_apply(conv.id, change, now_millis())
        .await
        .map_err(store_conflict)?;
    state.conversations.invalidate(conv.id);
    let fresh = state
        .conversations
        .get(state.store.as_ref(), conv.id)
        .await?
        .ok_or_else(|| AppError::not_found("group"))?;
    // Members before and after: removed members hear of their removal, added ones of their
    // arrival. Every node refreshes its membership cache.
    let added: Vec<UserId> = fresh
        .member_ids
        .iter()
        .copied()
        .filter(|u| !conv.roles.contains_key(u))
        .collect();
    let removed: Vec<UserId> = conv
        .member_ids
        .iter()
        .copied()
        .filter(|u| !fresh.roles.contains_key(u))
        .collect();
    let frame = confab_proto::encode_event(&Event::Message(event.clone()));
    state.broker.publish_group_change(
        GroupChanged {
            conversation_id: conv.id,
            members: &fresh.member_ids,
            added: &added,
            removed: &removed,
        },
        frame.into(),
        actor.conn_id,
    );
    crate::metrics::Metrics::inc(&state.metrics.messages_stored_total);
    emit_membership(state, &event);
    Ok(event)
}

/// Tells webhooks about membership changes recorded by a group's system event (a group's
/// creation counts as its first members joining).
pub(crate) fn emit_membership(state: &AppState, event: &Message) {
    use confab_proto::integration::WebhookEventType as T;
    use confab_proto::{Content, SystemEvent as S};
    use serde_json::json;
    let id = event.conversation_id;
    let Content::System(system) = &event.content else {
        return;
    };
    let (kind, data) = match system {
        // The event names only the first few members: `emit_created` sends them all.
        S::GroupCreated { .. } => return,
        S::MembersAdded { by, user_ids } => (
            T::MemberJoined,
            json!({ "conversation_id": id, "user_ids": user_ids, "by": by }),
        ),
        S::MemberJoined { user_id } => (
            T::MemberJoined,
            json!({ "conversation_id": id, "user_ids": [user_id] }),
        ),
        S::MemberLeft { user_id } => (
            T::MemberLeft,
            json!({ "conversation_id": id, "user_id": user_id }),
        ),
        S::MemberKicked { by, user_id } => (
            T::MemberKicked,
            json!({ "conversation_id": id, "user_id": user_id, "by": by }),
        ),
        S::GroupDissolved { by } => (
            T::GroupDissolved,
            json!({ "conversation_id": id, "by": by }),
        ),
        _ => return,
    };
    crate::integration::webhooks::emit(state, kind, data);
}

/// Tells webhooks about a new group's initial members, all of them.
pub(crate) fn emit_created(state: &AppState, event: &Message, members: &[UserId]) {
    use confab_proto::integration::WebhookEventType as T;
    let data = serde_json::json!({
        "conversation_id": event.conversation_id,
        "user_ids": members,
        "by": event.sender_id,
        "created": true,
    });
    crate::integration::webhooks::emit(state, T::MemberJoined, data);
}

fn changed(state: &AppState, users: &[UserId], id: ConversationId) {
    let frame = confab_proto::encode_event(&Event::ConversationChanged(ConversationChanged {
        conversation_id: id,
    }));
    state.broker.publish_users(users, frame.into(), None);
}

pub async fn info(state: &AppState, actor: &Actor, id: ConversationId) -> AppResult<GroupInfo> {
    let mut info = state
        .store
        .group_info(id, actor.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("group"))?;
    info.max_members = state.config.max_group_members as u32;
    Ok(info)
}

pub async fn invite(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    mut user_ids: Vec<UserId>,
) -> AppResult<()> {
    let conv = load(state, id).await?;
    let role = require_role(&conv, actor.user_id, Role::Member)?;
    if !role.is_admin() && conv.join_policy != JoinPolicy::Free {
        return Err(AppError::forbidden(
            "only the owner or an admin can invite to this group",
        ));
    }
    user_ids.sort_unstable();
    user_ids.dedup();
    user_ids.retain(|u| conv.role_of(*u).is_none());
    if user_ids.is_empty() {
        return Err(AppError::new(
            ErrorCode::AlreadyExists,
            "they are already members",
        ));
    }
    if conv.member_ids.len() + user_ids.len() > state.config.max_group_members {
        return Err(AppError::new(ErrorCode::GroupFull, "the group is full"));
    }
    let found = state.store.users_by_ids(&user_ids).await?;
    if found.len() != user_ids.len() {
        return Err(AppError::not_found("user"));
    }
    for &u in &user_ids {
        if state.store.relation(actor.user_id, u).await?.blocked() {
            return Err(AppError::new(
                ErrorCode::NotAllowed,
                "you cannot add this user",
            ));
        }
    }
    apply(
        state,
        actor,
        &conv,
        GroupChange::AddMembers {
            by: actor.user_id,
            user_ids,
            max_members: state.config.max_group_members,
        },
    )
    .await?;
    Ok(())
}

pub async fn join(state: &AppState, actor: &Actor, req: GroupJoin) -> AppResult<GroupJoinResponse> {
    let (id, by_code) = match (req.conversation_id, &req.invite_code) {
        (_, Some(code)) => (
            state
                .store
                .conversation_by_invite_code(code.trim())
                .await?
                .ok_or_else(|| AppError::not_found("invite code"))?,
            true,
        ),
        (Some(id), None) => (id, false),
        (None, None) => return Err(AppError::invalid("give conversation_id or invite_code")),
    };
    let conv = load(state, id).await?;
    if conv.dissolved {
        return Err(dissolved());
    }
    if conv.role_of(actor.user_id).is_some() {
        return Err(AppError::new(
            ErrorCode::AlreadyExists,
            "you are already a member",
        ));
    }
    let joined = GroupJoinResponse {
        conversation_id: id,
        outcome: JoinOutcome::Joined,
    };
    if by_code || conv.join_policy == JoinPolicy::Free {
        apply(
            state,
            actor,
            &conv,
            GroupChange::Join {
                user: actor.user_id,
                max_members: state.config.max_group_members,
            },
        )
        .await?;
        return Ok(joined);
    }
    if conv.join_policy == JoinPolicy::InviteOnly {
        return Err(AppError::new(
            ErrorCode::NotAllowed,
            "this group is invite-only: ask for an invitation or its invite code",
        ));
    }
    let note = req
        .note
        .map(|n| n.trim().chars().take(200).collect::<String>())
        .filter(|n| !n.is_empty());
    state
        .store
        .put_join_request(id, actor.user_id, note, now_millis())
        .await?;
    let admins: Vec<UserId> = conv
        .roles
        .iter()
        .filter(|(_, r)| r.is_admin())
        .map(|(u, _)| *u)
        .collect();
    changed(state, &admins, id);
    Ok(GroupJoinResponse {
        conversation_id: id,
        outcome: JoinOutcome::Pending,
    })
}

pub async fn join_requests(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
) -> AppResult<JoinRequestsResponse> {
    let conv = load(state, id).await?;
    require_role(&conv, actor.user_id, Role::Admin)?;
    Ok(JoinRequestsResponse {
        requests: state.store.join_requests(id).await?,
    })
}

pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    user: UserId,
    approve: bool,
) -> AppResult<()> {
    let conv = load(state, id).await?;
    require_role(&conv, actor.user_id, Role::Admin)?;
    if !state.store.take_join_request(id, user).await? {
        return Err(AppError::not_found("join request"));
    }
    if approve {
        apply(
            state,
            actor,
            &conv,
            GroupChange::AddMembers {
                by: actor.user_id,
                user_ids: vec![user],
                max_members: state.config.max_group_members,
            },
        )
        .await?;
    }
    Ok(())
}

pub async fn leave(state: &AppState, actor: &Actor, id: ConversationId) -> AppResult<()> {
    let conv = load(state, id).await?;
    let role = require_role(&conv, actor.user_id, Role::Member)?;
    if role == Role::Owner && conv.member_ids.len() > 1 {
        return Err(AppError::forbidden(
            "transfer ownership before leaving (or dissolve the group)",
        ));
    }
    apply(
        state,
        actor,
        &conv,
        GroupChange::Leave {
            user: actor.user_id,
        },
    )
    .await?;
    Ok(())
}

pub async fn kick(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    user: UserId,
) -> AppResult<()> {
    let conv = load(state, id).await?;
    let role = require_role(&conv, actor.user_id, Role::Admin)?;
    require_outranks(&conv, role, actor.user_id, user)?;
    apply(
        state,
        actor,
        &conv,
        GroupChange::Kick {
            by: actor.user_id,
            user,
        },
    )
    .await?;
    Ok(())
}

pub async fn dissolve(state: &AppState, actor: &Actor, id: ConversationId) -> AppResult<()> {
    let conv = load(state, id).await?;
    require_role(&conv, actor.user_id, Role::Owner)?;
    apply(
        state,
        actor,
        &conv,
        GroupChange::Dissolve { by: actor.user_id },
    )
    .await?;
    Ok(())
}

pub async fn transfer(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    to: UserId,
) -> AppResult<()> {
    let conv = load(state, id).await?;
    require_role(&conv, actor.user_id, Role::Owner)?;
    require_outranks(&conv, Role::Owner, actor.user_id, to)?;
    apply(
        state,
        actor,
        &conv,
        GroupChange::Transfer {
            from: actor.user_id,
            to,
        },
    )
    .await?;
    Ok(())
}

pub async fn set_role(state: &AppState, actor: &Actor, req: GroupSetRole) -> AppResult<()> {
    let conv = load(state, req.conversation_id).await?;
    require_role(&conv, actor.user_id, Role::Owner)?;
    if req.role == Role::Owner {
        return Err(AppError::invalid(
            "use group_transfer to hand over ownership",
        ));
    }
    let current = require_outranks(&conv, Role::Owner, actor.user_id, req.user_id)?;
    if current == req.role {
        return Err(AppError::new(
            ErrorCode::AlreadyExists,
            "they already have that role",
        ));
    }
    apply(
        state,
        actor,
        &conv,
        GroupChange::SetRole {
            by: actor.user_id,
            user: req.user_id,
            role: req.role,
        },
    )
    .await?;
    Ok(())
}

fn optional_text(text: String, max: usize, what: &str) -> AppResult<Option<String>> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(AppError::new(
            ErrorCode::TooLong,
            format!("{what} has at most {max} characters"),
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

pub async fn update(state: &AppState, actor: &Actor, req: GroupUpdate) -> AppResult<GroupInfo> {
    let conv = load(state, req.conversation_id).await?;
    require_role(&conv, actor.user_id, Role::Admin)?;
    let by = actor.user_id;
    let mut changes = vec![];
    if let Some(name) = req.name {
        let name = optional_text(name, 64, "a group name")?
            .ok_or_else(|| AppError::invalid("a group needs a name"))?;
        changes.push(GroupChange::Rename { by, name });
    }
    if let Some(avatar) = req.avatar {
        changes.push(GroupChange::Avatar {
            by,
            avatar: optional_text(avatar, 512, "an avatar reference")?,
        });
    }
    if let Some(text) = req.announcement {
        changes.push(GroupChange::Announcement {
            by,
            text: optional_text(text, 2000, "an announcement")?,
        });
    }
    if let Some(policy) = req.join_policy {
        changes.push(GroupChange::JoinPolicy { by, policy });
    }
    if let Some(on) = req.mute_all {
        changes.push(GroupChange::MuteAll { by, on });
    }
    if let Some(on) = req.assistant_enabled {
        changes.push(GroupChange::Assistant { by, on });
    }
    if changes.is_empty() {
        return Err(AppError::invalid("nothing to change"));
    }
    for change in changes {
        let conv = load(state, req.conversation_id).await?;
        apply(state, actor, &conv, change).await?;
    }
    info(state, actor, req.conversation_id).await
}

pub async fn remark(state: &AppState, actor: &Actor, req: GroupText) -> AppResult<()> {
    let remark = optional_text(req.text, 64, "a remark")?;
    if !state
        .store
        .set_member_pref(
            req.conversation_id,
            actor.user_id,
            MemberPref::Remark(remark),
        )
        .await?
    {
        return Err(AppError::not_member());
    }
    changed(state, &[actor.user_id], req.conversation_id);
    Ok(())
}

pub async fn set_muted(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    muted: bool,
) -> AppResult<()> {
    if !state
        .store
        .set_member_pref(id, actor.user_id, MemberPref::NotificationsMuted(muted))
        .await?
    {
        return Err(AppError::not_member());
    }
    changed(state, &[actor.user_id], id);
    Ok(())
}

pub async fn nickname(state: &AppState, actor: &Actor, req: GroupText) -> AppResult<()> {
    let conv = load(state, req.conversation_id).await?;
    require_role(&conv, actor.user_id, Role::Member)?;
    let nickname = optional_text(req.text, 32, "a nickname")?;
    apply(
        state,
        actor,
        &conv,
        GroupChange::Nickname {
            user: actor.user_id,
            nickname,
        },
    )
    .await?;
    Ok(())
}

pub async fn mute(state: &AppState, actor: &Actor, req: GroupMute) -> AppResult<()> {
    let conv = load(state, req.conversation_id).await?;
    let role = require_role(&conv, actor.user_id, Role::Admin)?;
    require_outranks(&conv, role, actor.user_id, req.user_id)?;
    if req.duration_secs > MAX_MUTE_SECS {
        return Err(AppError::invalid("a mute lasts at most 30 days"));
    }
    let until = (req.duration_secs > 0).then(|| now_millis() + req.duration_secs as i64 * 1000);
    apply(
        state,
        actor,
        &conv,
        GroupChange::Mute {
            by: actor.user_id,
            user: req.user_id,
            until,
        },
    )
    .await?;
    Ok(())
}

pub async fn invite_code(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    reset: bool,
) -> AppResult<InviteCodeResponse> {
    let conv = load(state, id).await?;
    require_role(&conv, actor.user_id, Role::Admin)?;
    let current = state
        .store
        .group_info(id, actor.user_id)
        .await?
        .and_then(|i| i.invite_code);
    let code = match current {
        Some(code) if !reset => code,
        _ => {
            let code: String = rand::thread_rng()
                .sample_iter(rand::distributions::Alphanumeric)
                .take(12)
                .map(char::from)
                .collect();
            state.store.set_invite_code(id, code.clone()).await?;
            code
        }
    };
    Ok(InviteCodeResponse {
        conversation_id: id,
        invite_code: code,
    })
}
