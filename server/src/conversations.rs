//! Conversations: the membership cache used by fan-out and authorization, the sync list,
//! groups (creation and members), and "read by".

use std::collections::HashMap;
use std::sync::Arc;

use confab_proto::{
    ConversationId, ConversationKind, ConversationSummary, CreateGroup, ErrorCode, JoinPolicy,
    MembersRequest, MembersResponse, Millis, ReadByRequest, ReadByResponse, Role, SyncResponse,
    UserId,
};
use dashmap::DashMap;

use crate::broker::GroupChanged;
use crate::error::{AppError, AppResult};
use crate::state::{now_millis, Actor, AppState};
use crate::store::{NewGroup, Store};

/// A conversation's current members, as fan-out and permission checks need them.
#[derive(Debug)]
pub struct CachedConversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub roles: HashMap<UserId, Role>,
    pub member_ids: Arc<[UserId]>,
    /// Members with a mute, and when it ends.
    pub muted_until: HashMap<UserId, Millis>,
    pub join_policy: JoinPolicy,
    pub mute_all: bool,
    pub dissolved: bool,
    /// `@assistant` answers in this group.
    pub assistant_enabled: bool,
}

impl CachedConversation {
    pub fn role_of(&self, user: UserId) -> Option<Role> {
        self.roles.get(&user).copied()
    }

    /// Whether `user` may not send right now because of a mute.
    pub fn is_muted(&self, user: UserId, now: Millis) -> bool {
        let personal = self.muted_until.get(&user).is_some_and(|&t| t > now);
        let all = self.mute_all && !self.role_of(user).is_some_and(Role::is_admin);
        personal || all
    }

    /// The other member of a direct chat.
    pub fn peer_of(&self, user: UserId) -> Option<UserId> {
        self.member_ids.iter().copied().find(|&u| u != user)
    }
}

/// Membership cache. Entries are dropped whenever membership changes and reloaded on use.
#[derive(Debug, Default)]
pub struct ConversationCache {
    map: DashMap<ConversationId, Arc<CachedConversation>>,
}

impl ConversationCache {
    pub async fn get(
        &self,
        store: &dyn Store,
        id: ConversationId,
    ) -> AppResult<Option<Arc<CachedConversation>>> {
        if let Some(c) = self.map.get(&id) {
            return Ok(Some(c.clone()));
        }
        let Some(meta) = store.conversation_meta(id).await? else {
            return Ok(None);
        };
        let cached = Arc::new(CachedConversation {
            id,
            kind: meta.kind,
            member_ids: meta.members.iter().map(|(u, _, _)| *u).collect(),
            roles: meta.members.iter().map(|(u, r, _)| (*u, *r)).collect(),
            muted_until: meta
                .members
                .iter()
                .filter_map(|(u, _, m)| m.map(|m| (*u, m)))
                .collect(),
            join_policy: meta.join_policy,
            mute_all: meta.mute_all,
            assistant_enabled: meta.assistant_enabled,
            dissolved: meta.dissolved,
        });
        self.map.insert(id, cached.clone());
        Ok(Some(cached))
    }

    pub fn invalidate(&self, id: ConversationId) {
        self.map.remove(&id);
    }
}

/// The conversation if `user` is a current member; `not_found` / `not_member` otherwise.
pub async fn require_member(
    state: &AppState,
    id: ConversationId,
    user: UserId,
) -> AppResult<(Arc<CachedConversation>, Role)> {
    let conv = state
        .conversations
        .get(state.store.as_ref(), id)
        .await?
        .ok_or_else(|| AppError::not_found("conversation"))?;
    let role = conv.role_of(user).ok_or_else(AppError::not_member)?;
    Ok((conv, role))
}

pub async fn sync(state: &AppState, actor: &Actor) -> AppResult<SyncResponse> {
    let conversations = state.store.conversations_for(actor.user_id).await?;
    let total_unread = conversations.iter().map(|c| c.unread).sum();
    Ok(SyncResponse {
        conversations,
        total_unread,
    })
}

pub async fn get_conversation(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
) -> AppResult<ConversationSummary> {
    match state.store.conversation_for(actor.user_id, id).await? {
        Some(s) => Ok(s),
        None if state
            .conversations
            .get(state.store.as_ref(), id)
            .await?
            .is_some() =>
        {
            Err(AppError::not_member())
        }
        None => Err(AppError::not_found("conversation")),
    }
}

pub async fn create_group(
    state: &AppState,
    actor: &Actor,
    req: CreateGroup,
) -> AppResult<ConversationSummary> {
    let name = req.name.trim().to_owned();
    match name.chars().count() {
        0 => return Err(AppError::invalid("a group needs a name")),
        n if n > 64 => {
            return Err(AppError::new(
                ErrorCode::TooLong,
                "group names have at most 64 characters",
            ))
        }
        _ => {}
    }
    let mut members = req.members;
    members.sort_unstable();
    members.dedup();
    members.retain(|&m| m != actor.user_id);
    if members.len() + 1 > state.config.max_group_members {
        return Err(AppError::new(
            ErrorCode::GroupFull,
            format!(
                "a group has at most {} members",
                state.config.max_group_members
            ),
        ));
    }
    for &m in &members {
        if state.store.relation(actor.user_id, m).await?.blocked() {
            return Err(AppError::new(
                ErrorCode::NotAllowed,
                "you cannot add this user",
            ));
        }
    }
    let found = state.store.users_by_ids(&members).await?;
    if found.len() != members.len() {
        let mut missing: Vec<UserId> = members
            .iter()
            .copied()
            .filter(|m| !found.iter().any(|u| u.id == *m))
            .collect();
        missing.truncate(10);
        return Err(AppError::not_found(&format!("users {missing:?}")));
    }
    crate::messages::require_broker(state)?;
    let event = state
        .store
        .create_group(NewGroup {
            name,
            owner: actor.user_id,
            members: members.clone(),
            now: now_millis(),
        })
        .await?;
    let id = event.conversation_id;
    tracing::info!(conversation_id = id, by = actor.user_id, "group created");
    crate::groups::emit_created(state, &event, &members);
    let mut everyone = members;
    everyone.push(actor.user_id);
    state.broker.publish_group_change(
        GroupChanged {
            conversation_id: id,
            members: &everyone,
            added: &everyone,
            removed: &[],
        },
        confab_proto::encode_event(&confab_proto::Event::Message(event)).into(),
        actor.conn_id,
    );
    get_conversation(state, actor, id).await
}

pub async fn members(
    state: &AppState,
    actor: &Actor,
    req: MembersRequest,
) -> AppResult<MembersResponse> {
    require_member(state, req.conversation_id, actor.user_id).await?;
    let limit = req.limit.unwrap_or(100).clamp(1, 500);
    let (members, has_more) = state
        .store
        .members(req.conversation_id, req.after_user, limit)
        .await?;
    Ok(MembersResponse { members, has_more })
}

pub async fn read_by(
    state: &AppState,
    actor: &Actor,
    req: ReadByRequest,
) -> AppResult<ReadByResponse> {
    require_member(state, req.conversation_id, actor.user_id).await?;
    let message = state
        .store
        .message(req.conversation_id, req.seq)
        .await?
        .ok_or_else(|| AppError::not_found("message"))?;
    let (count, user_ids) = state
        .store
        .read_by(req.conversation_id, req.seq, message.sender_id, 100)
        .await?;
    Ok(ReadByResponse { count, user_ids })
}
