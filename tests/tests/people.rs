//! Friends, the direct-message setting, remarks, blocking and search.

use std::time::Duration;

use confab_proto::{
    ContactEvent, DirectPolicy, ErrorCode, Event, FriendRequestSend, Request, SearchUsers,
    SetFriendRemark, Settings, Target, UserRef,
};
use confab_sdk::{Client, ClientEvent};
use confab_tests::{call, TestServer};

const WAIT: Duration = Duration::from_secs(10);

async fn contact_event(c: &Client) -> ContactEvent {
    match c
        .wait_for_event(WAIT, |e| {
            matches!(e, ClientEvent::Server(Event::Contact(_)))
        })
        .await
        .expect("a contact event")
    {
        ClientEvent::Server(Event::Contact(e)) => e,
        _ => unreachable!(),
    }
}

fn request(to: i64, note: Option<&str>) -> Request {
    Request::FriendRequest(FriendRequestSend {
        user_id: to,
        note: note.map(Into::into),
    })
}

#[tokio::test]
async fn request_accept_chat_then_delete_closes_the_direct_chat() {
    let server = TestServer::start().await;
    let (ann, a) = server.client("ann").await;
    let (ben, b) = server.client("ben").await;
    let ben_laptop = Client::connect(
        &server.base_url,
        &confab_tests::login(&server.base_url, "ben", "laptop")
            .await
            .token,
    )
    .await
    .unwrap();

    // Strangers: friends-only is the default.
    let err = ann
        .send_text(Target::User(b.user.id), "hi")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotAllowed));
    assert!(
        ann.sync().await.unwrap().conversations.is_empty(),
        "no empty chat was created"
    );

    call(&ann, request(b.user.id, Some("we met at the conference")))
        .await
        .unwrap();
    for device in [&ben, &ben_laptop] {
        match contact_event(device).await {
            ContactEvent::Requested { request } => {
                assert_eq!(request.from.id, a.user.id);
                assert_eq!(request.note.as_deref(), Some("we met at the conference"));
            }
            other => panic!("{other:?}"),
        }
    }
    let lists = call(&ben, Request::FriendRequests).await.unwrap();
    assert_eq!(lists["incoming"][0]["from"]["username"], "ann");
    let lists = call(&ann, Request::FriendRequests).await.unwrap();
    assert_eq!(lists["outgoing"][0]["to"]["username"], "ben");
    assert_eq!(
        call(&ann, request(b.user.id, None)).await.map(|_| ()),
        Ok(()),
        "re-sending refreshes"
    );

    let friend = call(&ben, Request::FriendAccept(UserRef { user_id: a.user.id }))
        .await
        .unwrap();
    assert_eq!(friend["user"]["username"], "ann");
    assert!(
        matches!(contact_event(&ann).await, ContactEvent::Accepted { user } if user.id == b.user.id)
    );
    assert_eq!(
        call(&ann, Request::Friends).await.unwrap()["friends"][0]["user"]["id"],
        b.user.id
    );
    assert_eq!(
        call(&ann, request(b.user.id, None)).await.unwrap_err(),
        ErrorCode::AlreadyExists
    );

    // Friends chat.
    let sent = ann
        .send_text(Target::User(b.user.id), "hello friend")
        .await
        .unwrap();
    assert_eq!(ben.next_message(WAIT).await.unwrap().seq, sent.seq);

    // Deleting ends it both ways under friends-only.
    call(&ann, Request::FriendDelete(UserRef { user_id: b.user.id }))
        .await
        .unwrap();
    assert!(
        matches!(contact_event(&ben).await, ContactEvent::Removed { user_id } if user_id == a.user.id)
    );
    for (from, to) in [(&ann, b.user.id), (&ben, a.user.id)] {
        let err = from
            .send_text(Target::User(to), "still there?")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::NotAllowed));
        let err = from
            .send_text(Target::Conversation(sent.conversation_id), "still there?")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::NotAllowed));
    }
    // Ann opens her direct messages to anyone: Ben may write again, history intact.
    let s = call(
        &ann,
        Request::UpdateSettings(Settings {
            direct_messages: DirectPolicy::Anyone,
        }),
    )
    .await
    .unwrap();
    assert_eq!(s["direct_messages"], "anyone");
    ben.send_text(Target::User(a.user.id), "thanks for opening up")
        .await
        .unwrap();
    assert_eq!(
        call(&ben, Request::FriendDelete(UserRef { user_id: a.user.id }))
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );

    // Declining: the request disappears and nobody becomes friends.
    call(&ann, request(b.user.id, None)).await.unwrap();
    call(&ben, Request::FriendDecline(UserRef { user_id: a.user.id }))
        .await
        .unwrap();
    assert_eq!(
        call(&ben, Request::FriendRequests).await.unwrap()["incoming"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        call(&ben, Request::FriendAccept(UserRef { user_id: a.user.id }))
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn mutual_requests_make_friends_and_remarks_stay_private() {
    let server = TestServer::start().await;
    let (cat, c) = server.client("cat").await;
    let (dov, d) = server.client("dov").await;
    call(&cat, request(d.user.id, None)).await.unwrap();
    call(&dov, request(c.user.id, None)).await.unwrap();
    assert_eq!(
        call(&cat, Request::Friends).await.unwrap()["friends"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    call(
        &cat,
        Request::FriendRemark(SetFriendRemark {
            user_id: d.user.id,
            remark: "Dov from climbing".into(),
        }),
    )
    .await
    .unwrap();
    let friends = call(&cat, Request::Friends).await.unwrap();
    assert_eq!(friends["friends"][0]["remark"], "Dov from climbing");
    assert!(call(&dov, Request::Friends).await.unwrap()["friends"][0]["remark"].is_null());
    let conv = cat
        .send_text(Target::User(d.user.id), "hey")
        .await
        .unwrap()
        .conversation_id;
    assert_eq!(
        cat.get_conversation(conv).await.unwrap().remark.as_deref(),
        Some("Dov from climbing")
    );
    assert_eq!(dov.get_conversation(conv).await.unwrap().remark, None);
    // A remark for someone who is not a friend is refused.
    let (_eve, e) = server.client("eve").await;
    assert_eq!(
        call(
            &cat,
            Request::FriendRemark(SetFriendRemark {
                user_id: e.user.id,
                remark: "?".into()
            })
        )
        .await
        .unwrap_err(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn blocking_stops_messages_requests_and_presence_both_ways() {
    let server = TestServer::start().await;
    let (fay, f) = server.client("fay").await;
    let (gus, g) = server.client("gus").await;
    call(&fay, request(g.user.id, None)).await.unwrap();
    call(&gus, Request::FriendAccept(UserRef { user_id: f.user.id }))
        .await
        .unwrap();
    let conv = fay
        .send_text(Target::User(g.user.id), "hi")
        .await
        .unwrap()
        .conversation_id;
    assert_eq!(gus.presence(vec![f.user.id]).await.unwrap().len(), 1);

    call(&fay, Request::Block(UserRef { user_id: g.user.id }))
        .await
        .unwrap();
    assert_eq!(
        call(&fay, Request::Blocked).await.unwrap()["users"][0]["id"],
        g.user.id
    );
    for (from, to) in [(&fay, g.user.id), (&gus, f.user.id)] {
        assert_eq!(
            from.send_text(Target::Conversation(conv), "blocked?")
                .await
                .unwrap_err()
                .code(),
            Some(ErrorCode::NotAllowed)
        );
        assert_eq!(
            call(from, request(to, None)).await.unwrap_err(),
            ErrorCode::NotAllowed
        );
        assert!(
            from.presence(vec![to]).await.unwrap().is_empty(),
            "presence hidden"
        );
    }
    // The blocked user no longer finds the blocker.
    let found = call(
        &gus,
        Request::SearchUsers(SearchUsers {
            query: "fa".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert!(found["users"].as_array().unwrap().is_empty());
    // Groups: neither can add the other.
    assert_eq!(
        gus.create_group("g", vec![f.user.id])
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotAllowed)
    );

    call(&fay, Request::Unblock(UserRef { user_id: g.user.id }))
        .await
        .unwrap();
    gus.send_text(Target::Conversation(conv), "back again")
        .await
        .unwrap();
    assert_eq!(gus.presence(vec![f.user.id]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn search_finds_by_username_prefix_and_display_name_and_pages() {
    let server = TestServer::start().await;
    let (me, _) = server.client("searcher").await;
    for i in 0..7 {
        server.user(&format!("robin{i}")).await;
    }
    server.user("rob_tester").await;
    let page = |after: Option<i64>| {
        Request::SearchUsers(SearchUsers {
            query: "robin".into(),
            after,
            limit: Some(5),
        })
    };
    let first = call(&me, page(None)).await.unwrap();
    assert_eq!(first["users"].as_array().unwrap().len(), 5);
    assert_eq!(first["has_more"], true);
    let last_id = first["users"][4]["id"].as_i64();
    let second = call(&me, page(last_id)).await.unwrap();
    assert_eq!(second["users"].as_array().unwrap().len(), 2);
    assert_eq!(second["has_more"], false);
    // `_` is a literal, not a wildcard.
    let lit = call(
        &me,
        Request::SearchUsers(SearchUsers {
            query: "rob_".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(lit["users"].as_array().unwrap().len(), 1);
    me.update_profile(confab_proto::UpdateProfile {
        display_name: Some("Searcher Extraordinaire".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let by_name = call(
        &me,
        Request::SearchUsers(SearchUsers {
            query: "extraord".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(by_name["users"][0]["username"], "searcher");
    assert_eq!(
        call(
            &me,
            Request::SearchUsers(SearchUsers {
                query: " ".into(),
                ..Default::default()
            })
        )
        .await
        .unwrap_err(),
        ErrorCode::InvalidArgument
    );
}
