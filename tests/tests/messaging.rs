//! Core messaging through the SDK against a real server: offline delivery to several devices,
//! unread counts and read receipts, idempotent sends, groups, recall, history paging.

use std::time::Duration;

use confab_proto::{
    Content, ConversationKind, ErrorCode, Event, HistoryRequest, Message, SendRequest, SystemEvent,
    Target,
};
use confab_sdk::{Client, ClientEvent};
use confab_tests::TestServer;

const WAIT: Duration = Duration::from_secs(10);

async fn connect(server: &TestServer, token: &str) -> Client {
    Client::connect(&server.base_url, token)
        .await
        .expect("connects")
}

fn text(m: &Message) -> &str {
    m.content.as_text().unwrap_or("")
}

/// Waits for the next read event on `client` and returns it.
async fn next_read(client: &Client) -> confab_proto::ReadEvent {
    match client
        .wait_for_event(WAIT, |e| matches!(e, ClientEvent::Server(Event::Read(_))))
        .await
        .expect("a read event")
    {
        ClientEvent::Server(Event::Read(r)) => r,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn offline_messages_reach_every_device_and_reads_converge() {
    let server = TestServer::open().await;
    let a = server.user("alice").await;
    let b_id = {
        confab_tests::register(&server.base_url, "bob").await;
        Client::connect(&server.base_url, &a.token)
            .await
            .unwrap()
            .get_user_by_name("bob")
            .await
            .unwrap()
            .id
    };
    let alice = connect(&server, &a.token).await;

    // Bob is offline (never logged in): Alice sends three messages.
    let mut seqs = vec![];
    for t in ["one", "two", "three"] {
        seqs.push(alice.send_text(Target::User(b_id), t).await.unwrap());
    }
    let conv = seqs[0].conversation_id;
    assert_eq!(
        seqs.iter().map(|s| s.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(seqs.iter().all(|s| s.conversation_id == conv));

    // Bob logs in on two devices; each syncs and pulls what it lacks.
    let b1 = confab_tests::login(&server.base_url, "bob", "phone").await;
    let b2 = confab_tests::login(&server.base_url, "bob", "laptop").await;
    let phone = connect(&server, &b1.token).await;
    let laptop = connect(&server, &b2.token).await;
    for device in [&phone, &laptop] {
        let sync = device.sync().await.unwrap();
        assert_eq!(sync.total_unread, 3);
        let c = &sync.conversations[0];
        assert_eq!(
            (c.id, c.kind, c.last_seq, c.read_seq, c.unread),
            (conv, ConversationKind::Direct, 3, 0, 3)
        );
        assert_eq!(c.peer.as_ref().unwrap().username, "alice");
        assert_eq!(c.last_message.as_ref().map(text), Some("three"));
        let page = device
            .history(HistoryRequest {
                conversation_id: conv,
                after: Some(c.read_seq),
                ..Default::default()
            })
            .await
            .unwrap();
        let got: Vec<_> = page
            .messages
            .iter()
            .map(|m| (m.seq, text(m).to_owned()))
            .collect();
        assert_eq!(
            got,
            vec![(1, "one".into()), (2, "two".into()), (3, "three".into())]
        );
        assert!(!page.has_more);
    }

    // Bob reads on his phone: the laptop's count drops to 0 without reconnecting, and Alice
    // gets the receipt.
    let r = phone.mark_read(conv, 3).await.unwrap();
    assert_eq!((r.read_seq, r.unread), (3, 0));
    let on_laptop = next_read(&laptop).await;
    assert_eq!(
        (
            on_laptop.conversation_id,
            on_laptop.read_seq,
            on_laptop.unread
        ),
        (conv, 3, Some(0))
    );
    let receipt = next_read(&alice).await;
    assert_eq!((receipt.user_id, receipt.read_seq), (b_id, 3));
    assert_eq!(laptop.sync().await.unwrap().total_unread, 0);

    // Live delivery: a new message reaches both of Bob's devices, once each.
    let sent = alice
        .send_text(Target::Conversation(conv), "four")
        .await
        .unwrap();
    for device in [&phone, &laptop] {
        let m = device.next_message(WAIT).await.unwrap();
        assert_eq!((m.seq, text(&m)), (sent.seq, "four"));
    }
    // Read positions never move backwards.
    assert_eq!(phone.mark_read(conv, 1).await.unwrap().read_seq, 3);
}

#[tokio::test]
async fn a_retried_send_returns_the_same_seq_and_stores_once() {
    let server = TestServer::open().await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let alice = connect(&server, &a.token).await;
    let req = SendRequest {
        to: Target::User(b.user.id),
        client_msg_id: "retry-me".into(),
        content: Content::text("only once"),
        reply_to: None,
        mentions: vec![],
        mention_all: false,
    };
    let first = alice.send(req.clone()).await.unwrap();
    let second = alice.send(req.clone()).await.unwrap();
    assert_eq!(first.seq, second.seq);
    assert!(!first.duplicate);
    assert!(second.duplicate);
    // Another device of the same user retrying the same id also gets the original.
    let a2 = confab_tests::login(&server.base_url, "alice", "second").await;
    let third = connect(&server, &a2.token).await.send(req).await.unwrap();
    assert_eq!(third.seq, first.seq);

    let page = alice
        .history(HistoryRequest {
            conversation_id: first.conversation_id,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 1);
    let n = server
        .count("SELECT COUNT(*) FROM messages WHERE client_msg_id = 'retry-me'")
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_big_groups_creation_event_names_the_first_members_and_counts_them_all() {
    let server = TestServer::open().await;
    let owner = server.user("owner").await;
    let mut ids = vec![];
    for i in 0..24 {
        ids.push(server.user(&format!("member{i:02}")).await.user.id);
    }
    let last = server.user("member24").await;
    ids.push(last.user.id);
    let member = connect(&server, &last.token).await;
    let alice = connect(&server, &owner.token).await;
    let group = alice.create_group("Big", ids.clone()).await.unwrap();
    assert_eq!(group.member_count, 26);

    let event = member.next_message(WAIT).await.unwrap();
    let Content::System(SystemEvent::GroupCreated {
        by,
        members,
        member_count,
        ..
    }) = event.content
    else {
        panic!("expected group_created, got {:?}", event.content);
    };
    assert_eq!(by, owner.user.id);
    assert_eq!(
        member_count, 25,
        "every initial member but the owner is counted"
    );
    assert_eq!(members.len(), confab_proto::GROUP_CREATED_LISTED);
    // The first 20 by user id (the order the members are stored in).
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(members, sorted[..confab_proto::GROUP_CREATED_LISTED]);
    // Everyone is a member all the same.
    let listed = alice
        .members(confab_proto::MembersRequest {
            conversation_id: group.id,
            after_user: None,
            limit: Some(100),
        })
        .await
        .unwrap();
    assert_eq!(listed.members.len(), 26);
}

#[tokio::test]
async fn group_members_get_each_message_once_and_outsiders_are_refused() {
    let server = TestServer::open().await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let c = server.user("carol").await;
    let d = server.user("dave").await;
    let alice = connect(&server, &a.token).await;
    let bob = connect(&server, &b.token).await;
    let carol = connect(&server, &c.token).await;
    let dave = connect(&server, &d.token).await;

    let group = alice
        .create_group("Project", vec![b.user.id, c.user.id])
        .await
        .unwrap();
    assert_eq!(
        (group.kind, group.member_count, group.last_seq),
        (ConversationKind::Group, 3, 1)
    );
    assert_eq!(group.role, confab_proto::Role::Owner);
    // Members see the creation event.
    for member in [&bob, &carol] {
        let m = member.next_message(WAIT).await.unwrap();
        assert!(matches!(
            m.content,
            Content::System(SystemEvent::GroupCreated { .. })
        ));
    }

    let s1 = alice
        .send_text(Target::Conversation(group.id), "hello team")
        .await
        .unwrap();
    let s2 = bob
        .send_text(Target::Conversation(group.id), "hi!")
        .await
        .unwrap();
    assert_eq!((s1.seq, s2.seq), (2, 3));

    // Each member device gets each message exactly once (the sender's own device gets the ack).
    let drain = |c: Client| async move {
        let mut got = vec![];
        while let Ok(m) = c.next_message(Duration::from_millis(500)).await {
            got.push(m.seq);
        }
        got
    };
    assert_eq!(drain(carol).await, vec![2, 3]);
    assert_eq!(drain(bob).await, vec![2]);
    assert_eq!(drain(alice).await, vec![3]);

    // Dave is not a member: send, history, recall, read and members are refused.
    let err = dave
        .send_text(Target::Conversation(group.id), "let me in")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotMember));
    let err = dave
        .history(HistoryRequest {
            conversation_id: group.id,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotMember));
    assert_eq!(
        dave.recall(group.id, 2).await.unwrap_err().code(),
        Some(ErrorCode::NotMember)
    );
    assert_eq!(
        dave.mark_read(group.id, 2).await.unwrap_err().code(),
        Some(ErrorCode::NotMember)
    );
    assert_eq!(
        dave.get_conversation(group.id).await.unwrap_err().code(),
        Some(ErrorCode::NotMember)
    );
    assert!(
        dave.next_message(Duration::from_millis(300)).await.is_err(),
        "dave got nothing"
    );

    // Nothing changed: the group still ends at seq 3 with both texts intact.
    let fresh = connect(&server, &a.token).await;
    let page = fresh
        .history(HistoryRequest {
            conversation_id: group.id,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 3);
    assert_eq!(text(&page.messages[1]), "hello team");

    // "Read by N": Bob has read Alice's message (he replied after it, which moves his read
    // position); once Carol reads, it shows read by 2.
    let carol = connect(&server, &c.token).await;
    let rb = fresh.read_by(group.id, 2).await.unwrap();
    assert_eq!((rb.count, rb.user_ids.clone()), (1, vec![b.user.id]));
    assert_eq!(fresh.read_by(group.id, 3).await.unwrap().count, 0);
    carol.mark_read(group.id, 2).await.unwrap();
    let rb = fresh.read_by(group.id, 2).await.unwrap();
    assert_eq!(rb.count, 2);
    assert_eq!(rb.user_ids, vec![b.user.id, c.user.id]);
}

#[tokio::test]
async fn mentions_and_replies_are_checked_and_kept() {
    let server = TestServer::open().await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let c = server.user("carol").await;
    let alice = connect(&server, &a.token).await;
    let g = alice.create_group("G", vec![b.user.id]).await.unwrap();
    let first = alice
        .send_text(Target::Conversation(g.id), "question?")
        .await
        .unwrap();
    let reply = alice
        .send(SendRequest {
            to: Target::Conversation(g.id),
            client_msg_id: "m2".into(),
            content: Content::text("@bob see above"),
            reply_to: Some(first.seq),
            mentions: vec![b.user.id, c.user.id],
            mention_all: false,
        })
        .await
        .unwrap();
    let bob = connect(&server, &b.token).await;
    let page = bob
        .history(HistoryRequest {
            conversation_id: g.id,
            after: Some(first.seq),
            ..Default::default()
        })
        .await
        .unwrap();
    let m = &page.messages[0];
    assert_eq!(m.seq, reply.seq);
    assert_eq!(m.reply_to, Some(first.seq));
    assert_eq!(
        m.mentions,
        vec![b.user.id],
        "non-members are dropped from mentions"
    );
    let summary = bob.get_conversation(g.id).await.unwrap();
    assert!(summary.mentioned);

    // @all marks everyone; replying to a seq that does not exist is refused.
    alice
        .send(SendRequest {
            to: Target::Conversation(g.id),
            client_msg_id: "m3".into(),
            content: Content::text("@all meeting"),
            reply_to: None,
            mentions: vec![],
            mention_all: true,
        })
        .await
        .unwrap();
    bob.mark_read(g.id, reply.seq).await.unwrap();
    assert!(bob.get_conversation(g.id).await.unwrap().mentioned);
    let err = alice
        .send(SendRequest {
            to: Target::Conversation(g.id),
            client_msg_id: "m4".into(),
            content: Content::text("?"),
            reply_to: Some(99),
            mentions: vec![],
            mention_all: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
}

#[tokio::test]
async fn recall_erases_content_within_the_window_only() {
    let server = TestServer::open_with(|c| c.recall_window_secs = 2).await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let alice = connect(&server, &a.token).await;
    let bob = connect(&server, &b.token).await;

    let secret = "the launch code is 0451-SWORDFISH";
    let sent = alice
        .send_text(Target::User(b.user.id), secret)
        .await
        .unwrap();
    let conv = sent.conversation_id;
    assert_eq!(text(&bob.next_message(WAIT).await.unwrap()), secret);

    // Someone else's message: refused.
    assert_eq!(
        bob.recall(conv, sent.seq).await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );

    // Own message within the window: the recall is itself an event at the next seq.
    let recall = alice.recall(conv, sent.seq).await.unwrap();
    assert_eq!(recall.seq, sent.seq + 1);
    let ev = bob.next_message(WAIT).await.unwrap();
    assert_eq!(
        ev.content,
        Content::System(SystemEvent::MessageRecalled {
            by: a.user.id,
            seq: sent.seq
        })
    );
    let page = bob
        .history(HistoryRequest {
            conversation_id: conv,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.messages[0].is_recalled());
    assert_eq!(
        alice.recall(conv, sent.seq).await.unwrap_err().code(),
        Some(ErrorCode::AlreadyRecalled)
    );
    // Unread no longer counts it.
    assert_eq!(bob.get_conversation(conv).await.unwrap().unread, 0);

    // The content is gone from the database (for SQLite, from its files).
    assert!(
        !server.stored_anywhere("SWORDFISH").await,
        "recalled text still in the database"
    );

    // After the window: refused.
    let late = alice
        .send_text(Target::Conversation(conv), "too late to take back")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(
        alice.recall(conv, late.seq).await.unwrap_err().code(),
        Some(ErrorCode::RecallWindowPassed)
    );
    // System events cannot be recalled, and unknown seqs are not found.
    assert_eq!(
        alice.recall(conv, recall.seq).await.unwrap_err().code(),
        Some(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        alice.recall(conv, 999).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn history_pages_are_exact_and_the_list_follows_activity() {
    let server = TestServer::open_with(|c| c.history_page_max = 20).await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let c = server.user("carol").await;
    let alice = connect(&server, &a.token).await;
    let mut conv = 0;
    for i in 1..=45 {
        conv = alice
            .send_text(Target::User(b.user.id), format!("m{i}"))
            .await
            .unwrap()
            .conversation_id;
    }
    let page = |after: Option<i64>, before: Option<i64>, limit: Option<u32>| {
        let alice = &alice;
        async move {
            let p = alice
                .history(HistoryRequest {
                    conversation_id: conv,
                    after,
                    before,
                    limit,
                })
                .await
                .unwrap();
            (
                p.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
                p.has_more,
            )
        }
    };
    assert_eq!(page(None, None, Some(5)).await, ((41..=45).collect(), true));
    assert_eq!(
        page(Some(10), None, Some(3)).await,
        (vec![11, 12, 13], true)
    );
    assert_eq!(
        page(None, Some(10), Some(4)).await,
        (vec![6, 7, 8, 9], true)
    );
    assert_eq!(page(None, Some(3), Some(10)).await, (vec![1, 2], false));
    assert_eq!(
        page(Some(40), None, Some(10)).await,
        ((41..=45).collect(), false)
    );
    assert_eq!(
        page(Some(10), Some(14), None).await,
        (vec![11, 12, 13], false)
    );
    assert_eq!(page(Some(45), None, None).await, (vec![], false));
    // The page size is capped by the server.
    assert_eq!(page(Some(0), None, Some(1000)).await.0.len(), 20);

    // Conversation list: newest activity first.
    let g = alice.create_group("later", vec![c.user.id]).await.unwrap();
    let ids =
        |s: confab_proto::SyncResponse| s.conversations.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(alice.sync().await.unwrap()), vec![g.id, conv]);
    tokio::time::sleep(Duration::from_millis(5)).await;
    alice
        .send_text(Target::Conversation(conv), "bump")
        .await
        .unwrap();
    assert_eq!(ids(alice.sync().await.unwrap()), vec![conv, g.id]);
}

#[tokio::test]
async fn typing_and_presence_reach_people_who_share_a_conversation() {
    let server = TestServer::open().await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let s = server.user("stranger").await;
    let alice = connect(&server, &a.token).await;
    let conv = alice
        .send_text(Target::User(b.user.id), "hi")
        .await
        .unwrap()
        .conversation_id;

    let bob = connect(&server, &b.token).await;
    // Alice sees Bob come online.
    let ev = alice
        .wait_for_event(WAIT, |e| {
            matches!(e, ClientEvent::Server(Event::Presence(_)))
        })
        .await
        .unwrap();
    assert!(
        matches!(ev, ClientEvent::Server(Event::Presence(p)) if p.user_id == b.user.id && p.online)
    );

    bob.typing(conv).await.unwrap();
    let ev = alice
        .wait_for_event(WAIT, |e| matches!(e, ClientEvent::Server(Event::Typing(_))))
        .await
        .unwrap();
    assert!(
        matches!(ev, ClientEvent::Server(Event::Typing(t)) if t.user_id == b.user.id && t.conversation_id == conv)
    );

    let p = alice.presence(vec![b.user.id, s.user.id]).await.unwrap();
    assert_eq!(
        p.len(),
        1,
        "no presence for someone who shares no conversation"
    );
    assert!(p[0].online);

    bob.close().await.unwrap();
    let ev = alice
        .wait_for_event(WAIT, |e| {
            matches!(e, ClientEvent::Server(Event::Presence(_)))
        })
        .await
        .unwrap();
    assert!(
        matches!(ev, ClientEvent::Server(Event::Presence(p)) if !p.online && p.last_seen.is_some())
    );

    let stranger = connect(&server, &s.token).await;
    assert_eq!(
        stranger.typing(conv).await.unwrap_err().code(),
        Some(ErrorCode::NotMember)
    );
}

#[tokio::test]
async fn devices_are_listed_and_revoking_one_disconnects_it() {
    let server = TestServer::open().await;
    let a = server.user("alice").await;
    let second = confab_tests::login(&server.base_url, "alice", "tablet").await;
    let main = connect(&server, &a.token).await;
    let tablet = connect(&server, &second.token).await;
    let devices = main.list_devices().await.unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().any(|d| d.current && d.id == a.device_id));
    assert!(devices.iter().any(|d| !d.current && d.name == "tablet"));

    main.revoke_device(second.device_id).await.unwrap();
    let ev = tablet
        .wait_for_event(WAIT, |e| matches!(e, ClientEvent::Disconnected { .. }))
        .await
        .unwrap();
    assert!(
        matches!(ev, ClientEvent::Disconnected { code: Some(c), .. } if c == confab_proto::close::SESSION_REVOKED)
    );
    assert_eq!(main.list_devices().await.unwrap().len(), 1);
    assert_eq!(
        main.revoke_device(second.device_id)
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotFound)
    );

    // Profile edits are validated and visible to others.
    let me = main
        .update_profile(confab_proto::UpdateProfile {
            display_name: Some("Alice A.".into()),
            status_text: Some("in a meeting".into()),
            avatar: None,
        })
        .await
        .unwrap();
    assert_eq!(me.display_name, "Alice A.");
    let err = main
        .update_profile(confab_proto::UpdateProfile {
            display_name: Some("x".repeat(65)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::TooLong));
    assert_eq!(
        main.get_user(a.user.id)
            .await
            .unwrap()
            .status_text
            .as_deref(),
        Some("in a meeting")
    );
}
