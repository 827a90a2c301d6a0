//! Group administration: the authorization matrix, removal and re-invitation, convergence of
//! settings on every device, and a 2,000-member group.

use std::collections::HashMap;
use std::time::Duration;

use confab_proto::{
    Content, ConversationRef, ErrorCode, GroupMute, GroupSetRole, GroupText, GroupUpdate,
    GroupUser, GroupUsers, HistoryRequest, InviteCodeRequest, MembersRequest, RecallRequest,
    Request, Role, SendRequest, SystemEvent, Target,
};
use confab_sdk::Client;
use confab_tests::{call, TestServer};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum As {
    Owner,
    Admin,
    Member,
    MutedMember,
    NonMember,
    KickedMember,
    /// A member of a group its owner dissolved.
    AfterDissolve,
}

const STATES: [As; 7] = [
    As::Owner,
    As::Admin,
    As::Member,
    As::MutedMember,
    As::NonMember,
    As::KickedMember,
    As::AfterDissolve,
];

#[derive(Clone, Copy, Debug)]
enum Action {
    Send,
    Invite,
    Kick,
    Mute,
    Announce,
    Rename,
    MuteAll,
    MakeAdmin,
    Transfer,
    Dissolve,
    Leave,
    Nickname,
    RecallOthers,
    InviteCode,
    JoinRequests,
    Members,
    History,
}

/// Reading actions add nothing to the conversation's sequence even when allowed.
fn writes(a: Action) -> bool {
    !matches!(
        a,
        Action::InviteCode | Action::JoinRequests | Action::Members | Action::History
    )
}

use ErrorCode::{Forbidden as F, GroupDissolved as GD, Muted as MU, NotMember as NM};
const OK: Option<ErrorCode> = None;
const fn no(c: ErrorCode) -> Option<ErrorCode> {
    Some(c)
}

/// action × (owner, admin, member, muted member, non-member, kicked member, after dissolve)
#[rustfmt::skip]
const MATRIX: &[(Action, [Option<ErrorCode>; 7])] = &[
    //                     owner    admin    member   muted    non-mem  kicked   dissolved
    (Action::Send,        [OK,      OK,      OK,      no(MU),  no(NM),  no(NM),  no(GD)]),
    (Action::Invite,      [OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Kick,        [OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Mute,        [OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Announce,    [OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Rename,      [OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::MuteAll,     [OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::MakeAdmin,   [OK,      no(F),   no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Transfer,    [OK,      no(F),   no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Dissolve,    [OK,      no(F),   no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Leave,       [no(F),   OK,      OK,      OK,      no(NM),  no(NM),  no(GD)]),
    (Action::Nickname,    [OK,      OK,      OK,      OK,      no(NM),  no(NM),  no(GD)]),
    (Action::RecallOthers,[OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::InviteCode,  [OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::JoinRequests,[OK,      OK,      no(F),   no(F),   no(NM),  no(NM),  no(GD)]),
    (Action::Members,     [OK,      OK,      OK,      OK,      no(NM),  no(NM),  OK    ]),
    (Action::History,     [OK,      OK,      OK,      OK,      no(NM),  OK,      OK    ]),
];

struct Cast {
    clients: HashMap<&'static str, Client>,
    ids: HashMap<&'static str, i64>,
}

impl Cast {
    fn c(&self, name: &str) -> &Client {
        &self.clients[name]
    }
    fn id(&self, name: &str) -> i64 {
        self.ids[name]
    }
}

fn text(s: &str) -> Content {
    Content::text(s)
}

fn send(conv: i64, body: &str) -> Request {
    Request::Send(SendRequest {
        to: Target::Conversation(conv),
        client_msg_id: confab_sdk::new_client_msg_id(),
        content: text(body),
        reply_to: None,
        mentions: vec![],
        mention_all: false,
    })
}

/// A fresh group: owner, admin, member, muted member, kicked member and a target member with
/// one message; dissolved when the cell asks for it. Returns (group, target's message seq).
async fn fresh_group(cast: &Cast, dissolve: bool) -> (i64, i64) {
    let o = cast.c("owner");
    let members = ["admin", "member", "muted", "kicked", "target"]
        .iter()
        .map(|n| cast.id(n))
        .collect();
    let g = o.create_group("cell", members).await.unwrap().id;
    let ok = |r: Result<Value, ErrorCode>| r.expect("setup step");
    ok(call(
        o,
        Request::GroupSetRole(GroupSetRole {
            conversation_id: g,
            user_id: cast.id("admin"),
            role: Role::Admin,
        }),
    )
    .await);
    ok(call(
        o,
        Request::GroupMute(GroupMute {
            conversation_id: g,
            user_id: cast.id("muted"),
            duration_secs: 3600,
        }),
    )
    .await);
    let seq = ok(call(cast.c("target"), send(g, "target's message")).await)["seq"]
        .as_i64()
        .unwrap();
    ok(call(
        o,
        Request::GroupKick(GroupUser {
            conversation_id: g,
            user_id: cast.id("kicked"),
        }),
    )
    .await);
    if dissolve {
        ok(call(
            o,
            Request::GroupDissolve(ConversationRef { conversation_id: g }),
        )
        .await);
    }
    (g, seq)
}

fn request_for(action: Action, g: i64, cast: &Cast, target_seq: i64) -> Request {
    let t = cast.id("target");
    match action {
        Action::Send => send(g, "hello"),
        Action::Invite => Request::GroupInvite(GroupUsers {
            conversation_id: g,
            user_ids: vec![cast.id("newcomer")],
        }),
        Action::Kick => Request::GroupKick(GroupUser {
            conversation_id: g,
            user_id: t,
        }),
        Action::Mute => Request::GroupMute(GroupMute {
            conversation_id: g,
            user_id: t,
            duration_secs: 60,
        }),
        Action::Announce => Request::GroupUpdate(GroupUpdate {
            conversation_id: g,
            announcement: Some("read this".into()),
            ..Default::default()
        }),
        Action::Rename => Request::GroupUpdate(GroupUpdate {
            conversation_id: g,
            name: Some("renamed".into()),
            ..Default::default()
        }),
        Action::MuteAll => Request::GroupUpdate(GroupUpdate {
            conversation_id: g,
            mute_all: Some(true),
            ..Default::default()
        }),
        Action::MakeAdmin => Request::GroupSetRole(GroupSetRole {
            conversation_id: g,
            user_id: t,
            role: Role::Admin,
        }),
        Action::Transfer => Request::GroupTransfer(GroupUser {
            conversation_id: g,
            user_id: t,
        }),
        Action::Dissolve => Request::GroupDissolve(ConversationRef { conversation_id: g }),
        Action::Leave => Request::GroupLeave(ConversationRef { conversation_id: g }),
        Action::Nickname => Request::GroupNickname(GroupText {
            conversation_id: g,
            text: "nick".into(),
        }),
        Action::RecallOthers => Request::Recall(RecallRequest {
            conversation_id: g,
            seq: target_seq,
        }),
        Action::InviteCode => Request::GroupInviteCode(InviteCodeRequest {
            conversation_id: g,
            reset: false,
        }),
        Action::JoinRequests => Request::GroupJoinRequests(ConversationRef { conversation_id: g }),
        Action::Members => Request::Members(MembersRequest {
            conversation_id: g,
            after_user: None,
            limit: None,
        }),
        Action::History => Request::History(HistoryRequest {
            conversation_id: g,
            ..Default::default()
        }),
    }
}

async fn last_seq(owner: &Client, g: i64) -> i64 {
    owner.get_conversation(g).await.unwrap().last_seq
}

#[tokio::test]
async fn authorization_matrix() {
    let server = TestServer::start().await;
    let mut cast = Cast {
        clients: HashMap::new(),
        ids: HashMap::new(),
    };
    for name in [
        "owner", "admin", "member", "muted", "outsider", "kicked", "target", "newcomer",
    ] {
        let (client, login) = server.client(name).await;
        cast.ids.insert(name, login.user.id);
        cast.clients.insert(name, client);
    }
    let actor_name = |s: As| match s {
        As::Owner => "owner",
        As::Admin => "admin",
        As::Member | As::AfterDissolve => "member",
        As::MutedMember => "muted",
        As::NonMember => "outsider",
        As::KickedMember => "kicked",
    };

    let mut failures = vec![];
    let mut checked = 0;
    for (action, row) in MATRIX {
        for (state, expected) in STATES.iter().zip(row.iter()) {
            let (g, target_seq) = fresh_group(&cast, *state == As::AfterDissolve).await;
            let before = last_seq(cast.c("owner"), g).await;
            let actor = cast.c(actor_name(*state));
            let got = call(actor, request_for(*action, g, &cast, target_seq)).await;
            let after = last_seq(cast.c("owner"), g).await;
            checked += 1;
            let outcome = got.as_ref().err().copied();
            if outcome != *expected {
                failures.push(format!(
                    "{action:?} as {state:?}: expected {expected:?}, got {got:?}"
                ));
                continue;
            }
            match expected {
                None if writes(*action) && after <= before => failures.push(format!(
                    "{action:?} as {state:?}: allowed but recorded no event"
                )),
                Some(_) if after != before => failures.push(format!(
                    "{action:?} as {state:?}: refused but changed the group"
                )),
                _ => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, MATRIX.len() * STATES.len());
}

fn system(m: &confab_proto::Message) -> Option<&SystemEvent> {
    match &m.content {
        Content::System(e) => Some(e),
        _ => None,
    }
}

#[tokio::test]
async fn a_kicked_member_stops_receiving_and_a_reinvited_one_sees_from_the_new_join() {
    let server = TestServer::start().await;
    let (owner, _) = server.client("owner").await;
    let (kicked, k) = server.client("kim").await;
    let (stays, s) = server.client("sam").await;
    let g = owner
        .create_group("crew", vec![k.user.id, s.user.id])
        .await
        .unwrap()
        .id;
    kicked.next_message(WAIT).await.unwrap(); // group_created
    owner
        .send_text(Target::Conversation(g), "before")
        .await
        .unwrap();
    assert_eq!(
        kicked.next_message(WAIT).await.unwrap().content.as_text(),
        Some("before")
    );

    call(
        &owner,
        Request::GroupKick(GroupUser {
            conversation_id: g,
            user_id: k.user.id,
        }),
    )
    .await
    .unwrap();
    // Kim is told: the kick event reaches her devices, and her view turns read-only.
    let m = kicked.next_message(WAIT).await.unwrap();
    assert_eq!(
        system(&m),
        Some(&SystemEvent::MemberKicked {
            by: owner.user().id,
            user_id: k.user.id
        })
    );
    let kick_seq = m.seq;
    assert!(kicked.get_conversation(g).await.unwrap().read_only);

    // From now on she receives nothing, and cannot send or read what follows.
    owner
        .send_text(Target::Conversation(g), "after")
        .await
        .unwrap();
    assert!(stays
        .wait_for_event(WAIT, |e| e.message().and_then(|m| m.content.as_text())
            == Some("after"))
        .await
        .is_ok());
    assert!(kicked
        .next_message(Duration::from_millis(500))
        .await
        .is_err());
    assert_eq!(
        kicked
            .send_text(Target::Conversation(g), "hey")
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotMember)
    );
    let page = kicked
        .history(HistoryRequest {
            conversation_id: g,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.messages.last().unwrap().seq, kick_seq);
    assert!(page
        .messages
        .iter()
        .all(|m| m.content.as_text() != Some("after")));
    let page = kicked
        .history(HistoryRequest {
            conversation_id: g,
            after: Some(kick_seq),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.messages.is_empty());

    // Re-invited: she sees messages from the new join onward only.
    owner
        .send_text(Target::Conversation(g), "while away")
        .await
        .unwrap();
    call(
        &owner,
        Request::GroupInvite(GroupUsers {
            conversation_id: g,
            user_ids: vec![k.user.id],
        }),
    )
    .await
    .unwrap();
    let added = kicked.next_message(WAIT).await.unwrap();
    assert!(matches!(
        system(&added),
        Some(SystemEvent::MembersAdded { .. })
    ));
    owner
        .send_text(Target::Conversation(g), "welcome back")
        .await
        .unwrap();
    assert_eq!(
        kicked.next_message(WAIT).await.unwrap().content.as_text(),
        Some("welcome back")
    );
    let page = kicked
        .history(HistoryRequest {
            conversation_id: g,
            ..Default::default()
        })
        .await
        .unwrap();
    let seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        vec![added.seq, added.seq + 1],
        "nothing from before the new join"
    );
    assert!(!kicked.get_conversation(g).await.unwrap().read_only);
}

#[tokio::test]
async fn settings_nicknames_and_remarks_converge_on_every_device() {
    let server = TestServer::start().await;
    let (owner, o) = server.client("olga").await;
    let (bob_phone, b) = server.client("bob").await;
    let g = owner
        .create_group("Old name", vec![b.user.id])
        .await
        .unwrap()
        .id;

    call(
        &owner,
        Request::GroupUpdate(GroupUpdate {
            conversation_id: g,
            announcement: Some("Standup at 10".into()),
            name: Some("New name".into()),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    call(
        &bob_phone,
        Request::GroupNickname(GroupText {
            conversation_id: g,
            text: "Bobby".into(),
        }),
    )
    .await
    .unwrap();
    call(
        &bob_phone,
        Request::GroupRemark(GroupText {
            conversation_id: g,
            text: "work chat".into(),
        }),
    )
    .await
    .unwrap();

    // Bob's laptop was never online: it converges by sync.
    let laptop = Client::connect(
        &server.base_url,
        &confab_tests::login(&server.base_url, "bob", "laptop")
            .await
            .token,
    )
    .await
    .unwrap();
    let summary = laptop.get_conversation(g).await.unwrap();
    assert_eq!(summary.name, "New name");
    assert_eq!(summary.remark.as_deref(), Some("work chat"));
    let info = call(
        &laptop,
        Request::GroupInfo(ConversationRef { conversation_id: g }),
    )
    .await
    .unwrap();
    assert_eq!(info["announcement"], "Standup at 10");
    assert_eq!(info["my_nickname"], "Bobby");
    assert_eq!(info["my_remark"], "work chat");
    let page = laptop
        .history(HistoryRequest {
            conversation_id: g,
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: Vec<&SystemEvent> = page.messages.iter().filter_map(system).collect();
    assert!(kinds.iter().any(|e| matches!(e, SystemEvent::AnnouncementUpdated { text: Some(t), .. } if t == "Standup at 10")));
    assert!(kinds
        .iter()
        .any(|e| matches!(e, SystemEvent::GroupRenamed { name, .. } if name == "New name")));
    assert!(kinds.iter().any(
        |e| matches!(e, SystemEvent::NicknameChanged { nickname: Some(n), .. } if n == "Bobby")
    ));

    // The owner sees the nickname in the member list, but not Bob's private remark.
    let members = owner
        .members(MembersRequest {
            conversation_id: g,
            after_user: None,
            limit: None,
        })
        .await
        .unwrap();
    let bob_row = members
        .members
        .iter()
        .find(|m| m.user.id == b.user.id)
        .unwrap();
    assert_eq!(bob_row.nickname.as_deref(), Some("Bobby"));
    assert_eq!(owner.get_conversation(g).await.unwrap().remark, None);
    let info = call(
        &owner,
        Request::GroupInfo(ConversationRef { conversation_id: g }),
    )
    .await
    .unwrap();
    assert!(info["my_remark"].is_null());
    assert!(info["invite_code"].is_null() || info["invite_code"].is_string());
    assert_eq!(info["owner_id"], o.user.id);

    // Joining by invite code, and by request with approval.
    let (carol, c) = server.client("carol").await;
    let code = call(
        &owner,
        Request::GroupInviteCode(InviteCodeRequest {
            conversation_id: g,
            reset: false,
        }),
    )
    .await
    .unwrap()["invite_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let joined = call(
        &carol,
        Request::GroupJoin(confab_proto::GroupJoin {
            invite_code: Some(code.clone()),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(joined["outcome"], "joined");
    let (dan, d) = server.client("dan").await;
    let pending = call(
        &dan,
        Request::GroupJoin(confab_proto::GroupJoin {
            conversation_id: Some(g),
            note: Some("let me in".into()),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(pending["outcome"], "pending");
    assert_eq!(
        dan.send_text(Target::Conversation(g), "hi?")
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotMember)
    );
    let reqs = call(
        &owner,
        Request::GroupJoinRequests(ConversationRef { conversation_id: g }),
    )
    .await
    .unwrap();
    assert_eq!(reqs["requests"][0]["user"]["id"], d.user.id);
    assert_eq!(reqs["requests"][0]["note"], "let me in");
    call(
        &owner,
        Request::GroupApprove(GroupUser {
            conversation_id: g,
            user_id: d.user.id,
        }),
    )
    .await
    .unwrap();
    dan.send_text(Target::Conversation(g), "thanks!")
        .await
        .unwrap();
    // A reset code stops the old one from working.
    call(
        &owner,
        Request::GroupInviteCode(InviteCodeRequest {
            conversation_id: g,
            reset: true,
        }),
    )
    .await
    .unwrap();
    call(
        &carol,
        Request::GroupLeave(ConversationRef { conversation_id: g }),
    )
    .await
    .unwrap();
    assert_eq!(
        call(
            &carol,
            Request::GroupJoin(confab_proto::GroupJoin {
                invite_code: Some(code),
                ..Default::default()
            })
        )
        .await
        .unwrap_err(),
        ErrorCode::NotFound
    );
    let _ = c;
    // Mute-all silences members but not admins; dissolve freezes the group.
    call(
        &owner,
        Request::GroupUpdate(GroupUpdate {
            conversation_id: g,
            mute_all: Some(true),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        laptop
            .send_text(Target::Conversation(g), "psst")
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::Muted)
    );
    owner
        .send_text(Target::Conversation(g), "owner may speak")
        .await
        .unwrap();
    call(
        &owner,
        Request::GroupDissolve(ConversationRef { conversation_id: g }),
    )
    .await
    .unwrap();
    assert!(laptop.get_conversation(g).await.unwrap().read_only);
    let page = laptop
        .history(HistoryRequest {
            conversation_id: g,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(
        system(page.messages.last().unwrap()),
        Some(SystemEvent::GroupDissolved { .. })
    ));
}

#[tokio::test]
async fn a_2000_member_group_reaches_every_online_member_and_pages_its_members() {
    confab_tests::raise_fd_limit();
    let server = TestServer::start().await;
    let (owner, o) = server.client("owner").await;
    const N: usize = 1999;
    // Register and connect everyone, a few at a time.
    let mut members = Vec::with_capacity(N);
    let mut joins = tokio::task::JoinSet::new();
    let base = server.base_url.clone();
    for i in 0..N {
        let base = base.clone();
        joins.spawn(async move {
            let name = format!("member{i:04}");
            confab_tests::register(&base, &name).await;
            let login = confab_tests::login(&base, &name, "d").await;
            let client = Client::connect(&base, &login.token).await.unwrap();
            (login.user.id, client)
        });
        if joins.len() >= 32 {
            members.push(joins.join_next().await.unwrap().unwrap());
        }
    }
    while let Some(r) = joins.join_next().await {
        members.push(r.unwrap());
    }
    let ids: Vec<i64> = members.iter().map(|(id, _)| *id).collect();
    let group = owner.create_group("everyone", ids.clone()).await.unwrap();
    assert_eq!(group.member_count as usize, N + 1);

    let sent = owner
        .send_text(Target::Conversation(group.id), "all hands")
        .await
        .unwrap();
    let mut waits = tokio::task::JoinSet::new();
    for (_, client) in members {
        waits.spawn(async move {
            loop {
                let m = client.next_message(Duration::from_secs(60)).await.unwrap();
                if m.seq == sent.seq {
                    return m.content.as_text() == Some("all hands");
                }
            }
        });
    }
    let mut received = 0;
    while let Some(r) = waits.join_next().await {
        assert!(r.unwrap());
        received += 1;
    }
    assert_eq!(received, N);

    // The member list pages exactly: every member once, ordered by id.
    let mut seen = vec![];
    let mut after = None;
    loop {
        let page = owner
            .members(MembersRequest {
                conversation_id: group.id,
                after_user: after,
                limit: Some(300),
            })
            .await
            .unwrap();
        assert!(page.members.len() <= 300);
        seen.extend(page.members.iter().map(|m| m.user.id));
        after = page.members.last().map(|m| m.user.id);
        if !page.has_more {
            break;
        }
    }
    let mut expected = ids;
    expected.push(o.user.id);
    expected.sort_unstable();
    assert_eq!(seen, expected);

    // The limit holds.
    let (extra, x) = server.client("one-too-many").await;
    let _ = extra;
    assert_eq!(
        call(
            &owner,
            Request::GroupInvite(GroupUsers {
                conversation_id: group.id,
                user_ids: vec![x.user.id]
            })
        )
        .await
        .unwrap_err(),
        ErrorCode::GroupFull
    );
}
