//! PostgreSQL: group administration and people (friends, requests, blocks, search). The same
//! rules as `sqlite_groups`, in the PostgreSQL dialect.

use confab_proto::{
    Content, ConversationId, DirectPolicy, Friend, FriendRequest, GroupInfo, JoinRequest, Millis,
    Role, SystemEvent, UserId, UserPublic,
};
use deadpool_postgres::GenericClient;

use super::postgres::{
    execute, insert_message, public_row, public_user, query, query_one, query_opt,
};
use super::sqlite::{direct_policy_of, join_policy_of, join_policy_str, role_of};
use super::{GroupChange, NewMessage, Relation, StoreError, StoreResult};

async fn active_role<C: GenericClient>(
    c: &C,
    id: ConversationId,
    user: UserId,
) -> StoreResult<Option<Role>> {
    query_opt(
        c,
        "SELECT role FROM members WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL",
        &[&id, &user],
    )
    .await?
    .map(|r| Ok(role_of(&r.try_get::<_, String>(0)?)))
    .transpose()
}

async fn active_count<C: GenericClient>(c: &C, id: ConversationId) -> StoreResult<usize> {
    let n: i64 = query_one(
        c,
        "SELECT COUNT(*) FROM members WHERE conversation_id = $1 AND left_seq IS NULL",
        &[&id],
    )
    .await?
    .try_get(0)?;
    Ok(n as usize)
}

async fn event<C: GenericClient>(
    c: &C,
    id: ConversationId,
    sender: UserId,
    e: SystemEvent,
    now: Millis,
) -> StoreResult<confab_proto::Message> {
    insert_message(
        c,
        &NewMessage {
            conversation_id: id,
            sender_id: sender,
            client_msg_id: None,
            content: Content::System(e),
            reply_to: None,
            mentions: vec![],
            mention_all: false,
            now,
        },
    )
    .await
}

/// (Re)activates memberships so that the members see seqs after `joined_seq`.
async fn activate<C: GenericClient>(
    c: &C,
    id: ConversationId,
    users: &[UserId],
    joined_seq: i64,
    now: Millis,
) -> StoreResult<()> {
    execute(
        c,
        "INSERT INTO members (conversation_id, user_id, role, joined_at, joined_seq, read_seq)
         SELECT $1, u, 'member', $3, $4, $4 FROM unnest($2::bigint[]) AS u
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
             role = 'member', joined_at = $3, joined_seq = $4, read_seq = $4, left_seq = NULL,
             nickname = NULL, muted_until = NULL",
        &[&id, &users, &now, &joined_seq],
    )
    .await?;
    execute(
        c,
        "DELETE FROM join_requests WHERE conversation_id = $1 AND user_id = ANY($2)",
        &[&id, &users],
    )
    .await?;
    Ok(())
}

async fn deactivate<C: GenericClient>(
    c: &C,
    id: ConversationId,
    user: UserId,
    seq: i64,
) -> StoreResult<()> {
    execute(
        c,
        "UPDATE members SET left_seq = $3 WHERE conversation_id = $1 AND user_id = $2",
        &[&id, &user, &seq],
    )
    .await?;
    Ok(())
}

async fn set_role<C: GenericClient>(
    c: &C,
    id: ConversationId,
    user: UserId,
    role: Role,
) -> StoreResult<()> {
    execute(
        c,
        "UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2",
        &[&id, &user, &role.as_str()],
    )
    .await?;
    Ok(())
}

/// Runs inside the caller's transaction. The group's row lock is taken first, so the checks
/// below hold until commit.
pub(super) async fn group_apply<C: GenericClient>(
    c: &C,
    id: ConversationId,
    change: GroupChange,
    now: Millis,
) -> StoreResult<confab_proto::Message> {
    let dissolved: Option<bool> = query_opt(
        c,
        "SELECT dissolved_at IS NOT NULL FROM conversations WHERE id = $1 AND kind = 'group'
         FOR UPDATE",
        &[&id],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    match dissolved {
        None => return Err(StoreError::NotFound),
        Some(true) => return Err(StoreError::Conflict("dissolved")),
        Some(false) => {}
    }
    async fn need_active<C: GenericClient>(
        c: &C,
        id: ConversationId,
        user: UserId,
    ) -> StoreResult<Role> {
        active_role(c, id, user)
            .await?
            .ok_or(StoreError::Conflict("membership"))
    }
    Ok(match change {
        GroupChange::AddMembers {
            by,
            user_ids,
            max_members,
        } => {
            let mut new = Vec::with_capacity(user_ids.len());
            for u in user_ids {
                if active_role(c, id, u).await?.is_none() {
                    new.push(u);
                }
            }
            if new.is_empty() {
                return Err(StoreError::Conflict("membership"));
            }
            if active_count(c, id).await? + new.len() > max_members {
                return Err(StoreError::Conflict("full"));
            }
            let e = event(
                c,
                id,
                by,
                SystemEvent::MembersAdded {
                    by,
                    user_ids: new.clone(),
                },
                now,
            )
            .await?;
            activate(c, id, &new, e.seq - 1, now).await?;
            e
        }
        GroupChange::Join { user, max_members } => {
            if active_role(c, id, user).await?.is_some() {
                return Err(StoreError::Conflict("membership"));
            }
            if active_count(c, id).await? + 1 > max_members {
                return Err(StoreError::Conflict("full"));
            }
            let e = event(
                c,
                id,
                user,
                SystemEvent::MemberJoined { user_id: user },
                now,
            )
            .await?;
            activate(c, id, &[user], e.seq - 1, now).await?;
            e
        }
        GroupChange::Leave { user } => {
            need_active(c, id, user).await?;
            let e = event(c, id, user, SystemEvent::MemberLeft { user_id: user }, now).await?;
            deactivate(c, id, user, e.seq).await?;
            e
        }
        GroupChange::Kick { by, user } => {
            need_active(c, id, user).await?;
            let e = event(
                c,
                id,
                by,
                SystemEvent::MemberKicked { by, user_id: user },
                now,
            )
            .await?;
            deactivate(c, id, user, e.seq).await?;
            e
        }
        GroupChange::Rename { by, name } => {
            execute(
                c,
                "UPDATE conversations SET name = $2 WHERE id = $1",
                &[&id, &name],
            )
            .await?;
            event(c, id, by, SystemEvent::GroupRenamed { by, name }, now).await?
        }
        GroupChange::Avatar { by, avatar } => {
            execute(
                c,
                "UPDATE conversations SET avatar = $2 WHERE id = $1",
                &[&id, &avatar],
            )
            .await?;
            event(c, id, by, SystemEvent::AvatarChanged { by }, now).await?
        }
        GroupChange::Announcement { by, text } => {
            execute(
                c,
                "UPDATE conversations SET announcement = $2 WHERE id = $1",
                &[&id, &text],
            )
            .await?;
            event(
                c,
                id,
                by,
                SystemEvent::AnnouncementUpdated { by, text },
                now,
            )
            .await?
        }
        GroupChange::JoinPolicy { by, policy } => {
            execute(
                c,
                "UPDATE conversations SET join_policy = $2 WHERE id = $1",
                &[&id, &join_policy_str(policy)],
            )
            .await?;
            event(
                c,
                id,
                by,
                SystemEvent::JoinPolicyChanged { by, policy },
                now,
            )
            .await?
        }
        GroupChange::Assistant { by, on } => {
            execute(
                c,
                "UPDATE conversations SET assistant_enabled = $2 WHERE id = $1",
                &[&id, &on],
            )
            .await?;
            event(c, id, by, SystemEvent::AssistantChanged { by, on }, now).await?
        }
        GroupChange::MuteAll { by, on } => {
            execute(
                c,
                "UPDATE conversations SET mute_all = $2 WHERE id = $1",
                &[&id, &on],
            )
            .await?;
            event(c, id, by, SystemEvent::MuteAllChanged { by, on }, now).await?
        }
        GroupChange::Transfer { from, to } => {
            if need_active(c, id, from).await? != Role::Owner {
                return Err(StoreError::Conflict("membership"));
            }
            need_active(c, id, to).await?;
            set_role(c, id, from, Role::Admin).await?;
            set_role(c, id, to, Role::Owner).await?;
            event(c, id, from, SystemEvent::OwnerTransferred { from, to }, now).await?
        }
        GroupChange::SetRole { by, user, role } => {
            need_active(c, id, user).await?;
            set_role(c, id, user, role).await?;
            event(
                c,
                id,
                by,
                SystemEvent::RoleChanged {
                    by,
                    user_id: user,
                    role,
                },
                now,
            )
            .await?
        }
        GroupChange::Mute { by, user, until } => {
            need_active(c, id, user).await?;
            execute(
                c,
                "UPDATE members SET muted_until = $3 WHERE conversation_id = $1 AND user_id = $2",
                &[&id, &user, &until],
            )
            .await?;
            event(
                c,
                id,
                by,
                SystemEvent::MemberMuted {
                    by,
                    user_id: user,
                    until,
                },
                now,
            )
            .await?
        }
        GroupChange::Nickname { user, nickname } => {
            need_active(c, id, user).await?;
            execute(
                c,
                "UPDATE members SET nickname = $3 WHERE conversation_id = $1 AND user_id = $2",
                &[&id, &user, &nickname],
            )
            .await?;
            event(
                c,
                id,
                user,
                SystemEvent::NicknameChanged {
                    user_id: user,
                    nickname,
                },
                now,
            )
            .await?
        }
        GroupChange::Dissolve { by } => {
            let e = event(c, id, by, SystemEvent::GroupDissolved { by }, now).await?;
            execute(
                c,
                "UPDATE conversations SET dissolved_at = $2 WHERE id = $1",
                &[&id, &now],
            )
            .await?;
            e
        }
    })
}

pub(super) async fn group_info<C: GenericClient>(
    c: &C,
    id: ConversationId,
    viewer: UserId,
) -> StoreResult<Option<GroupInfo>> {
    let Some(r) = query_opt(
        c,
        "SELECT name, avatar, announcement, join_policy, mute_all, invite_code,
                dissolved_at IS NOT NULL, assistant_enabled,
                (SELECT COUNT(*) FROM members x WHERE x.conversation_id = c.id
                   AND x.left_seq IS NULL),
                (SELECT user_id FROM members x WHERE x.conversation_id = c.id
                   AND x.role = 'owner' AND x.left_seq IS NULL LIMIT 1)
         FROM conversations c WHERE id = $1 AND kind = 'group'",
        &[&id],
    )
    .await?
    else {
        return Ok(None);
    };
    let mut info = GroupInfo {
        conversation_id: id,
        name: r.try_get(0)?,
        avatar: r.try_get(1)?,
        announcement: r.try_get(2)?,
        join_policy: join_policy_of(&r.try_get::<_, String>(3)?),
        mute_all: r.try_get(4)?,
        invite_code: r.try_get(5)?,
        dissolved: r.try_get(6)?,
        assistant_enabled: r.try_get(7)?,
        member_count: r.try_get::<_, i64>(8)? as u32,
        owner_id: r.try_get::<_, Option<UserId>>(9)?.unwrap_or(0),
        max_members: 0,
        my_role: None,
        my_remark: None,
        my_nickname: None,
        muted_until: None,
    };
    let mine = query_opt(
        c,
        "SELECT role, left_seq IS NULL, remark, nickname, muted_until FROM members
         WHERE conversation_id = $1 AND user_id = $2",
        &[&id, &viewer],
    )
    .await?;
    if let Some(m) = mine {
        let role = role_of(&m.try_get::<_, String>(0)?);
        let active: bool = m.try_get(1)?;
        info.my_role = active.then_some(role);
        info.my_remark = m.try_get(2)?;
        info.my_nickname = m.try_get::<_, Option<String>>(3)?.filter(|_| active);
        info.muted_until = m.try_get::<_, Option<Millis>>(4)?.filter(|_| active);
    }
    if !info.my_role.is_some_and(Role::is_admin) {
        info.invite_code = None;
    }
    Ok(Some(info))
}

pub(super) async fn join_requests<C: GenericClient>(
    c: &C,
    id: ConversationId,
) -> StoreResult<Vec<JoinRequest>> {
    let rows = query(
        c,
        "SELECT u.id, u.username, u.display_name, u.avatar, u.status_text, j.note, j.created_at,
                u.is_bot
         FROM join_requests j JOIN users u ON u.id = j.user_id
         WHERE j.conversation_id = $1 ORDER BY j.created_at",
        &[&id],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(JoinRequest {
                conversation_id: id,
                user: public_row(r)?,
                note: r.try_get(5)?,
                created_at: r.try_get(6)?,
            })
        })
        .collect()
}

/// Escapes `%`, `_` and `\\` for a LIKE pattern (PostgreSQL's default escape is `\\`).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

pub(super) async fn search_users<C: GenericClient>(
    c: &C,
    query_text: &str,
    viewer: UserId,
    after: Option<UserId>,
    limit: u32,
) -> StoreResult<(Vec<UserPublic>, bool)> {
    let q = like_escape(query_text);
    let fetch = limit as i64 + 1;
    let mut users = query(
        c,
        "SELECT id, username, display_name, avatar, status_text, is_bot FROM users u
         WHERE (username ILIKE $1 || '%' OR display_name ILIKE '%' || $1 || '%')
           AND id > $2
           AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = u.id AND b.blocked_id = $3)
         ORDER BY id LIMIT $4",
        &[&q, &after.unwrap_or(0), &viewer, &fetch],
    )
    .await?
    .iter()
    .map(public_row)
    .collect::<StoreResult<Vec<_>>>()?;
    let more = users.len() > limit as usize;
    users.truncate(limit as usize);
    Ok((users, more))
}

pub(super) async fn relation<C: GenericClient>(
    c: &C,
    a: UserId,
    b: UserId,
) -> StoreResult<Relation> {
    let r = query_one(
        c,
        "SELECT
           EXISTS (SELECT 1 FROM friends WHERE user_id = $1 AND friend_id = $2),
           EXISTS (SELECT 1 FROM blocks WHERE user_id = $1 AND blocked_id = $2),
           EXISTS (SELECT 1 FROM blocks WHERE user_id = $2 AND blocked_id = $1),
           EXISTS (SELECT 1 FROM friend_requests WHERE from_id = $1 AND to_id = $2),
           EXISTS (SELECT 1 FROM friend_requests WHERE from_id = $2 AND to_id = $1),
           COALESCE((SELECT direct_policy FROM users WHERE id = $2), 'friends_only')",
        &[&a, &b],
    )
    .await?;
    Ok(Relation {
        friends: r.try_get(0)?,
        a_blocked_b: r.try_get(1)?,
        b_blocked_a: r.try_get(2)?,
        request_a_to_b: r.try_get(3)?,
        request_b_to_a: r.try_get(4)?,
        b_policy: direct_policy_of(&r.try_get::<_, String>(5)?),
    })
}

pub(super) async fn make_friends<C: GenericClient>(
    c: &C,
    a: UserId,
    b: UserId,
    now: Millis,
) -> StoreResult<()> {
    for (x, y) in [(a, b), (b, a)] {
        execute(
            c,
            "INSERT INTO friends (user_id, friend_id, since) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&x, &y, &now],
        )
        .await?;
    }
    execute(
        c,
        "DELETE FROM friend_requests
         WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
        &[&a, &b],
    )
    .await?;
    Ok(())
}

pub(super) async fn friends<C: GenericClient>(c: &C, user: UserId) -> StoreResult<Vec<Friend>> {
    let mut out = query(
        c,
        "SELECT u.id, u.username, u.display_name, u.avatar, u.status_text, f.remark, f.since,
                u.is_bot
         FROM friends f JOIN users u ON u.id = f.friend_id WHERE f.user_id = $1
         ORDER BY f.friend_id",
        &[&user],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Friend {
            user: public_row(r)?,
            remark: r.try_get(5)?,
            since: r.try_get(6)?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by_key(|f| {
        f.remark
            .clone()
            .unwrap_or_else(|| f.user.display_name.clone())
            .to_lowercase()
    });
    Ok(out)
}

pub(super) async fn friend_requests<C: GenericClient>(
    c: &C,
    user: UserId,
) -> StoreResult<(Vec<FriendRequest>, Vec<FriendRequest>)> {
    async fn load<C: GenericClient>(
        c: &C,
        sql: &str,
        user: UserId,
    ) -> StoreResult<Vec<FriendRequest>> {
        let rows = query(c, sql, &[&user]).await?;
        let mut out = vec![];
        for r in rows {
            let (from, to): (UserId, UserId) = (r.try_get(0)?, r.try_get(1)?);
            if let (Some(from), Some(to)) = (public_user(c, from).await?, public_user(c, to).await?)
            {
                out.push(FriendRequest {
                    from,
                    to,
                    note: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                });
            }
        }
        Ok(out)
    }
    Ok((
        load(
            c,
            "SELECT from_id, to_id, note, created_at FROM friend_requests WHERE to_id = $1
             ORDER BY created_at DESC",
            user,
        )
        .await?,
        load(
            c,
            "SELECT from_id, to_id, note, created_at FROM friend_requests WHERE from_id = $1
             ORDER BY created_at DESC",
            user,
        )
        .await?,
    ))
}

pub(super) async fn set_block<C: GenericClient>(
    c: &C,
    user: UserId,
    other: UserId,
    blocked: bool,
    now: Millis,
) -> StoreResult<()> {
    if blocked {
        execute(
            c,
            "INSERT INTO blocks (user_id, blocked_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&user, &other, &now],
        )
        .await?;
        execute(
            c,
            "DELETE FROM friend_requests
             WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
            &[&user, &other],
        )
        .await?;
    } else {
        execute(
            c,
            "DELETE FROM blocks WHERE user_id = $1 AND blocked_id = $2",
            &[&user, &other],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn blocked_users<C: GenericClient>(
    c: &C,
    user: UserId,
) -> StoreResult<Vec<UserPublic>> {
    query(
        c,
        "SELECT u.id, u.username, u.display_name, u.avatar, u.status_text, u.is_bot
         FROM blocks b JOIN users u ON u.id = b.blocked_id
         WHERE b.user_id = $1 ORDER BY b.created_at",
        &[&user],
    )
    .await?
    .iter()
    .map(public_row)
    .collect()
}

pub(super) fn direct_policy_str(p: DirectPolicy) -> &'static str {
    match p {
        DirectPolicy::FriendsOnly => "friends_only",
        DirectPolicy::Anyone => "anyone",
    }
}
