//! SQLite: group administration and people (friends, requests, blocks, search).

use confab_proto::{
    Content, ConversationId, DirectPolicy, Friend, FriendRequest, GroupInfo, JoinRequest, Millis,
    Role, SystemEvent, UserId, UserPublic,
};
use rusqlite::{params, Connection, OptionalExtension};

use super::sqlite::{
    direct_policy_of, insert_message, join_policy_of, join_policy_str, public_user, role_of,
    SqlResult,
};
use super::{GroupChange, MemberPref, NewMessage, Relation, StoreError, StoreResult};

fn active_role(conn: &Connection, id: ConversationId, user: UserId) -> SqlResult<Option<Role>> {
    conn.prepare_cached(
        "SELECT role FROM members WHERE conversation_id = ?1 AND user_id = ?2 AND left_seq IS NULL",
    )?
    .query_row(params![id, user], |r| r.get::<_, String>(0))
    .optional()
    .map(|r| r.map(|s| role_of(&s)))
}

fn active_count(conn: &Connection, id: ConversationId) -> SqlResult<usize> {
    conn.prepare_cached(
        "SELECT COUNT(*) FROM members WHERE conversation_id = ?1 AND left_seq IS NULL",
    )?
    .query_row([id], |r| r.get(0))
}

fn event(
    conn: &Connection,
    id: ConversationId,
    sender: UserId,
    e: SystemEvent,
    now: Millis,
) -> StoreResult<confab_proto::Message> {
    insert_message(
        conn,
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
}

/// (Re)activates a membership so that the member sees seqs after `joined_seq`.
fn activate(
    conn: &Connection,
    id: ConversationId,
    user: UserId,
    joined_seq: i64,
    now: Millis,
) -> SqlResult<()> {
    conn.prepare_cached(
        "INSERT INTO members (conversation_id, user_id, role, joined_at, joined_seq, read_seq)
         VALUES (?1, ?2, 'member', ?3, ?4, ?4)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
             role = 'member', joined_at = ?3, joined_seq = ?4, read_seq = ?4, left_seq = NULL,
             nickname = NULL, muted_until = NULL",
    )?
    .execute(params![id, user, now, joined_seq])?;
    conn.prepare_cached("DELETE FROM join_requests WHERE conversation_id = ?1 AND user_id = ?2")?
        .execute(params![id, user])?;
    Ok(())
}

fn deactivate(conn: &Connection, id: ConversationId, user: UserId, seq: i64) -> SqlResult<()> {
    conn.prepare_cached(
        "UPDATE members SET left_seq = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
    )?
    .execute(params![id, user, seq])?;
    Ok(())
}

fn set_role(conn: &Connection, id: ConversationId, user: UserId, role: Role) -> SqlResult<()> {
    conn.prepare_cached(
        "UPDATE members SET role = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
    )?
    .execute(params![id, user, role.as_str()])?;
    Ok(())
}

pub(super) fn group_apply(
    conn: &Connection,
    id: ConversationId,
    change: GroupChange,
    now: Millis,
) -> StoreResult<confab_proto::Message> {
    let dissolved: Option<bool> = conn
        .prepare_cached(
            "SELECT dissolved_at IS NOT NULL FROM conversations WHERE id = ?1 AND kind = 'group'",
        )?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match dissolved {
        None => return Err(StoreError::NotFound),
        Some(true) => return Err(StoreError::Conflict("dissolved")),
        Some(false) => {}
    }
    let need_active = |user: UserId| -> StoreResult<Role> {
        active_role(conn, id, user)?.ok_or(StoreError::Conflict("membership"))
    };
    let update = |sql: &str, value: &dyn rusqlite::ToSql| -> StoreResult<()> {
        conn.prepare_cached(sql)?.execute(params![id, value])?;
        Ok(())
    };
    Ok(match change {
        GroupChange::AddMembers {
            by,
            user_ids,
            max_members,
        } => {
            let mut new = Vec::with_capacity(user_ids.len());
            for u in user_ids {
                if active_role(conn, id, u)?.is_none() {
                    new.push(u);
                }
            }
            if new.is_empty() {
                return Err(StoreError::Conflict("membership"));
            }
            if active_count(conn, id)? + new.len() > max_members {
                return Err(StoreError::Conflict("full"));
            }
            let e = event(
                conn,
                id,
                by,
                SystemEvent::MembersAdded {
                    by,
                    user_ids: new.clone(),
                },
                now,
            )?;
            for u in new {
                activate(conn, id, u, e.seq - 1, now)?;
            }
            e
        }
        GroupChange::Join { user, max_members } => {
            if active_role(conn, id, user)?.is_some() {
                return Err(StoreError::Conflict("membership"));
            }
            if active_count(conn, id)? + 1 > max_members {
                return Err(StoreError::Conflict("full"));
            }
            let e = event(
                conn,
                id,
                user,
                SystemEvent::MemberJoined { user_id: user },
                now,
            )?;
            activate(conn, id, user, e.seq - 1, now)?;
            e
        }
        GroupChange::Leave { user } => {
            need_active(user)?;
            let e = event(
                conn,
                id,
                user,
                SystemEvent::MemberLeft { user_id: user },
                now,
            )?;
            deactivate(conn, id, user, e.seq)?;
            e
        }
        GroupChange::Kick { by, user } => {
            need_active(user)?;
            let e = event(
                conn,
                id,
                by,
                SystemEvent::MemberKicked { by, user_id: user },
                now,
            )?;
            deactivate(conn, id, user, e.seq)?;
            e
        }
        GroupChange::Rename { by, name } => {
            update("UPDATE conversations SET name = ?2 WHERE id = ?1", &name)?;
            event(conn, id, by, SystemEvent::GroupRenamed { by, name }, now)?
        }
        GroupChange::Avatar { by, avatar } => {
            update(
                "UPDATE conversations SET avatar = ?2 WHERE id = ?1",
                &avatar,
            )?;
            event(conn, id, by, SystemEvent::AvatarChanged { by }, now)?
        }
        GroupChange::Announcement { by, text } => {
            update(
                "UPDATE conversations SET announcement = ?2 WHERE id = ?1",
                &text,
            )?;
            event(
                conn,
                id,
                by,
                SystemEvent::AnnouncementUpdated { by, text },
                now,
            )?
        }
        GroupChange::JoinPolicy { by, policy } => {
            update(
                "UPDATE conversations SET join_policy = ?2 WHERE id = ?1",
                &join_policy_str(policy),
            )?;
            event(
                conn,
                id,
                by,
                SystemEvent::JoinPolicyChanged { by, policy },
                now,
            )?
        }
        GroupChange::Assistant { by, on } => {
            update(
                "UPDATE conversations SET assistant_enabled = ?2 WHERE id = ?1",
                &on,
            )?;
            event(conn, id, by, SystemEvent::AssistantChanged { by, on }, now)?
        }
        GroupChange::MuteAll { by, on } => {
            update("UPDATE conversations SET mute_all = ?2 WHERE id = ?1", &on)?;
            event(conn, id, by, SystemEvent::MuteAllChanged { by, on }, now)?
        }
        GroupChange::Transfer { from, to } => {
            if need_active(from)? != Role::Owner {
                return Err(StoreError::Conflict("membership"));
            }
            need_active(to)?;
            set_role(conn, id, from, Role::Admin)?;
            set_role(conn, id, to, Role::Owner)?;
            event(
                conn,
                id,
                from,
                SystemEvent::OwnerTransferred { from, to },
                now,
            )?
        }
        GroupChange::SetRole { by, user, role } => {
            need_active(user)?;
            set_role(conn, id, user, role)?;
            event(
                conn,
                id,
                by,
                SystemEvent::RoleChanged {
                    by,
                    user_id: user,
                    role,
                },
                now,
            )?
        }
        GroupChange::Mute { by, user, until } => {
            need_active(user)?;
            conn.prepare_cached(
                "UPDATE members SET muted_until = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id, user, until])?;
            event(
                conn,
                id,
                by,
                SystemEvent::MemberMuted {
                    by,
                    user_id: user,
                    until,
                },
                now,
            )?
        }
        GroupChange::Nickname { user, nickname } => {
            need_active(user)?;
            conn.prepare_cached(
                "UPDATE members SET nickname = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id, user, nickname])?;
            event(
                conn,
                id,
                user,
                SystemEvent::NicknameChanged {
                    user_id: user,
                    nickname,
                },
                now,
            )?
        }
        GroupChange::Dissolve { by } => {
            let e = event(conn, id, by, SystemEvent::GroupDissolved { by }, now)?;
            update(
                "UPDATE conversations SET dissolved_at = ?2 WHERE id = ?1",
                &now,
            )?;
            e
        }
    })
}

pub(super) fn group_info(
    conn: &Connection,
    id: ConversationId,
    viewer: UserId,
) -> StoreResult<Option<GroupInfo>> {
    let row = conn
        .prepare_cached(
            "SELECT name, avatar, announcement, join_policy, mute_all, invite_code,
                    dissolved_at IS NOT NULL, assistant_enabled,
                    (SELECT COUNT(*) FROM members x WHERE x.conversation_id = c.id
                       AND x.left_seq IS NULL),
                    (SELECT user_id FROM members x WHERE x.conversation_id = c.id
                       AND x.role = 'owner' AND x.left_seq IS NULL)
             FROM conversations c WHERE id = ?1 AND kind = 'group'",
        )?
        .query_row([id], |r| {
            Ok(GroupInfo {
                conversation_id: id,
                name: r.get(0)?,
                avatar: r.get(1)?,
                announcement: r.get(2)?,
                join_policy: join_policy_of(&r.get::<_, String>(3)?),
                mute_all: r.get(4)?,
                invite_code: r.get(5)?,
                dissolved: r.get(6)?,
                assistant_enabled: r.get(7)?,
                member_count: r.get(8)?,
                owner_id: r.get::<_, Option<UserId>>(9)?.unwrap_or(0),
                max_members: 0,
                my_role: None,
                my_remark: None,
                my_nickname: None,
                muted_until: None,
            })
        })
        .optional()?;
    let Some(mut info) = row else {
        return Ok(None);
    };
    let mine = conn
        .prepare_cached(
            "SELECT role, left_seq IS NULL, remark, nickname, muted_until FROM members
             WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .query_row(params![id, viewer], |r| {
            Ok((
                role_of(&r.get::<_, String>(0)?),
                r.get::<_, bool>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<Millis>>(4)?,
            ))
        })
        .optional()?;
    if let Some((role, active, remark, nickname, muted_until)) = mine {
        info.my_role = active.then_some(role);
        info.my_remark = remark;
        info.my_nickname = nickname.filter(|_| active);
        info.muted_until = muted_until.filter(|_| active);
    }
    if !info.my_role.is_some_and(Role::is_admin) {
        info.invite_code = None;
    }
    Ok(Some(info))
}

pub(super) fn set_member_pref(
    conn: &Connection,
    id: ConversationId,
    user: UserId,
    pref: MemberPref,
) -> StoreResult<bool> {
    let n = match pref {
        MemberPref::Remark(r) => conn
            .prepare_cached(
                "UPDATE members SET remark = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id, user, r])?,
        MemberPref::NotificationsMuted(m) => conn
            .prepare_cached(
                "UPDATE members SET notifications_muted = ?3
                 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id, user, m])?,
    };
    Ok(n > 0)
}

pub(super) fn join_requests(
    conn: &Connection,
    id: ConversationId,
) -> StoreResult<Vec<JoinRequest>> {
    let rows = conn
        .prepare_cached(
            "SELECT user_id, note, created_at FROM join_requests WHERE conversation_id = ?1
             ORDER BY created_at",
        )?
        .query_map([id], |r| {
            Ok((
                r.get::<_, UserId>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Millis>(2)?,
            ))
        })?
        .collect::<SqlResult<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (user, note, created_at) in rows {
        if let Some(user) = public_user(conn, user)? {
            out.push(JoinRequest {
                conversation_id: id,
                user,
                note,
                created_at,
            });
        }
    }
    Ok(out)
}

/// Escapes `%`, `_` and `\\` for a LIKE pattern with `ESCAPE '\\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn search_users(
    conn: &Connection,
    query: &str,
    viewer: UserId,
    after: Option<UserId>,
    limit: u32,
) -> StoreResult<(Vec<UserPublic>, bool)> {
    let q = like_escape(query);
    let mut users = conn
        .prepare_cached(
            "SELECT id, username, display_name, avatar, status_text, is_bot FROM users u
             WHERE (username LIKE ?1 || '%' ESCAPE '\\' OR display_name LIKE '%' || ?1 || '%' ESCAPE '\\')
               AND id > ?2
               AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = u.id AND b.blocked_id = ?3)
             ORDER BY id LIMIT ?4",
        )?
        .query_map(params![q, after.unwrap_or(0), viewer, limit + 1], |r| {
            Ok(UserPublic {
                id: r.get(0)?,
                username: r.get(1)?,
                display_name: r.get(2)?,
                avatar: r.get(3)?,
                status_text: r.get(4)?,
                is_bot: r.get(5)?,
            })
        })?
        .collect::<SqlResult<Vec<_>>>()?;
    let more = users.len() > limit as usize;
    users.truncate(limit as usize);
    Ok((users, more))
}

pub(super) fn relation(conn: &Connection, a: UserId, b: UserId) -> StoreResult<Relation> {
    Ok(conn
        .prepare_cached(
            "SELECT
               EXISTS (SELECT 1 FROM friends WHERE user_id = ?1 AND friend_id = ?2),
               EXISTS (SELECT 1 FROM blocks WHERE user_id = ?1 AND blocked_id = ?2),
               EXISTS (SELECT 1 FROM blocks WHERE user_id = ?2 AND blocked_id = ?1),
               EXISTS (SELECT 1 FROM friend_requests WHERE from_id = ?1 AND to_id = ?2),
               EXISTS (SELECT 1 FROM friend_requests WHERE from_id = ?2 AND to_id = ?1),
               COALESCE((SELECT direct_policy FROM users WHERE id = ?2), 'friends_only')",
        )?
        .query_row(params![a, b], |r| {
            Ok(Relation {
                friends: r.get(0)?,
                a_blocked_b: r.get(1)?,
                b_blocked_a: r.get(2)?,
                request_a_to_b: r.get(3)?,
                request_b_to_a: r.get(4)?,
                b_policy: direct_policy_of(&r.get::<_, String>(5)?),
            })
        })?)
}

pub(super) fn make_friends(
    conn: &Connection,
    a: UserId,
    b: UserId,
    now: Millis,
) -> StoreResult<()> {
    let mut add = conn.prepare_cached(
        "INSERT OR IGNORE INTO friends (user_id, friend_id, since) VALUES (?1, ?2, ?3)",
    )?;
    add.execute(params![a, b, now])?;
    add.execute(params![b, a, now])?;
    conn.prepare_cached(
        "DELETE FROM friend_requests WHERE (from_id = ?1 AND to_id = ?2) OR (from_id = ?2 AND to_id = ?1)",
    )?
    .execute(params![a, b])?;
    Ok(())
}

pub(super) fn friends(conn: &Connection, user: UserId) -> StoreResult<Vec<Friend>> {
    let rows = conn
        .prepare_cached("SELECT friend_id, remark, since FROM friends WHERE user_id = ?1")?
        .query_map([user], |r| {
            Ok((
                r.get::<_, UserId>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Millis>(2)?,
            ))
        })?
        .collect::<SqlResult<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, remark, since) in rows {
        if let Some(user) = public_user(conn, id)? {
            out.push(Friend {
                user,
                remark,
                since,
            });
        }
    }
    out.sort_by_key(|f| {
        f.remark
            .clone()
            .unwrap_or_else(|| f.user.display_name.clone())
            .to_lowercase()
    });
    Ok(out)
}

pub(super) fn friend_requests(
    conn: &Connection,
    user: UserId,
) -> StoreResult<(Vec<FriendRequest>, Vec<FriendRequest>)> {
    let load = |sql: &str| -> StoreResult<Vec<FriendRequest>> {
        let rows = conn
            .prepare_cached(sql)?
            .query_map([user], |r| {
                Ok((
                    r.get::<_, UserId>(0)?,
                    r.get::<_, UserId>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Millis>(3)?,
                ))
            })?
            .collect::<SqlResult<Vec<_>>>()?;
        let mut out = vec![];
        for (from, to, note, created_at) in rows {
            if let (Some(from), Some(to)) = (public_user(conn, from)?, public_user(conn, to)?) {
                out.push(FriendRequest {
                    from,
                    to,
                    note,
                    created_at,
                });
            }
        }
        Ok(out)
    };
    Ok((
        load(
            "SELECT from_id, to_id, note, created_at FROM friend_requests WHERE to_id = ?1
             ORDER BY created_at DESC",
        )?,
        load(
            "SELECT from_id, to_id, note, created_at FROM friend_requests WHERE from_id = ?1
             ORDER BY created_at DESC",
        )?,
    ))
}

pub(super) fn set_block(
    conn: &Connection,
    user: UserId,
    other: UserId,
    blocked: bool,
    now: Millis,
) -> StoreResult<()> {
    if blocked {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO blocks (user_id, blocked_id, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![user, other, now])?;
        conn.prepare_cached(
            "DELETE FROM friend_requests WHERE (from_id = ?1 AND to_id = ?2) OR (from_id = ?2 AND to_id = ?1)",
        )?
        .execute(params![user, other])?;
    } else {
        conn.prepare_cached("DELETE FROM blocks WHERE user_id = ?1 AND blocked_id = ?2")?
            .execute(params![user, other])?;
    }
    Ok(())
}

pub(super) fn blocked_users(conn: &Connection, user: UserId) -> StoreResult<Vec<UserPublic>> {
    let ids = conn
        .prepare_cached("SELECT blocked_id FROM blocks WHERE user_id = ?1 ORDER BY created_at")?
        .query_map([user], |r| r.get::<_, UserId>(0))?
        .collect::<SqlResult<Vec<_>>>()?;
    let mut out = vec![];
    for id in ids {
        if let Some(u) = public_user(conn, id)? {
            out.push(u);
        }
    }
    Ok(out)
}

pub(super) fn direct_policy_str(p: DirectPolicy) -> &'static str {
    match p {
        DirectPolicy::FriendsOnly => "friends_only",
        DirectPolicy::Anyone => "anyone",
    }
}
