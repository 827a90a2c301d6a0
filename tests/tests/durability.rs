//! What was acknowledged survives a SIGKILL; a reader that stops reading is cut off instead of
//! growing the server's memory, and catches up by sync; shutdown drains.

use std::time::Duration;

use confab_proto::{HistoryRequest, Target};
use confab_sdk::{Client, ClientEvent};
use confab_tests::{free_port, RawWs, ServerProcess, TestServer};

#[tokio::test]
async fn acknowledged_messages_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = ServerProcess::start(dir.path(), port).await;
    confab_tests::register(&server.base_url, "alice").await;
    confab_tests::register(&server.base_url, "bob").await;
    let a = confab_tests::login(&server.base_url, "alice", "d").await;
    let b = confab_tests::login(&server.base_url, "bob", "d").await;

    // Several devices send concurrently so the server commits them in groups.
    let mut acked = vec![];
    let mut tasks = vec![];
    for device in 0..4 {
        let token = a.token.clone();
        let base = server.base_url.clone();
        let bob = b.user.id;
        tasks.push(tokio::spawn(async move {
            let c = Client::connect(&base, &token).await.unwrap();
            let mut out = vec![];
            for i in 0..50 {
                let r = c
                    .send_text(Target::User(bob), format!("d{device}-m{i}"))
                    .await
                    .unwrap();
                out.push((r.seq, format!("d{device}-m{i}")));
            }
            out
        }));
    }
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    // Kill at once after the last acknowledgement.
    server.kill9();
    drop(server);

    let server = ServerProcess::start(dir.path(), port).await;
    let bob = Client::connect(&server.base_url, &b.token).await.unwrap();
    let conv = bob.sync().await.unwrap().conversations[0].id;
    let mut stored = vec![];
    let mut after = 0;
    loop {
        let page = bob
            .history(HistoryRequest {
                conversation_id: conv,
                after: Some(after),
                limit: Some(200),
                ..Default::default()
            })
            .await
            .unwrap();
        for m in &page.messages {
            stored.push((m.seq, m.content.as_text().unwrap().to_owned()));
        }
        after = stored.last().map_or(after, |s| s.0);
        if !page.has_more {
            break;
        }
    }
    acked.sort();
    assert_eq!(acked.len(), 200);
    assert_eq!(
        stored, acked,
        "every acknowledged message is stored, at its seq"
    );
    let seqs: Vec<i64> = stored.iter().map(|s| s.0).collect();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
}

#[tokio::test]
async fn a_reader_that_stops_reading_is_disconnected_and_resumes_by_sync() {
    let server = TestServer::open_with(|c| c.outbox_frames = 16).await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let alice = Client::connect(&server.base_url, &a.token).await.unwrap();

    // Bob's socket never reads.
    let mut stalled = RawWs::connect(&server.ws_url(), Some(&b.token)).await;

    // Alice floods Bob with large messages; her sends never block on Bob.
    let text = "x".repeat(3000);
    let mut last = None;
    for _ in 0..2000 {
        last = Some(
            alice
                .send_text(Target::User(b.user.id), text.clone())
                .await
                .unwrap(),
        );
    }
    let last = last.unwrap();
    let disconnects = server
        .server
        .as_ref()
        .unwrap()
        .state
        .hub
        .slow_consumer_disconnects
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(disconnects, 1, "the stalled connection was cut once");
    assert_eq!(
        server.server.as_ref().unwrap().state.hub.connection_count(),
        1,
        "only Alice is still connected"
    );

    // When Bob finally reads, he finds what the socket buffers held, then the end of the
    // connection (with close code 4000 when it still fitted in the socket).
    let mut frames = 0;
    let code = loop {
        match stalled.next_json().await {
            Ok(_) => frames += 1,
            Err(code) => break code,
        }
    };
    assert!(
        matches!(code, None | Some(confab_proto::close::SLOW_CONSUMER)),
        "{code:?}"
    );
    assert!(
        frames < 2000,
        "got {frames} frames: the server did not keep everything queued"
    );

    // He reconnects and catches up by sync.
    let bob = Client::connect(&server.base_url, &b.token).await.unwrap();
    let c = bob.sync().await.unwrap().conversations.remove(0);
    assert_eq!((c.last_seq, c.unread), (last.seq, 2000));
}

#[tokio::test]
async fn the_sdk_reconnects_after_a_slow_consumer_close_and_fills_the_gap() {
    let server = TestServer::open_with(|c| c.outbox_frames = 8).await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let alice = Client::connect(&server.base_url, &a.token).await.unwrap();
    let bob = Client::connect(&server.base_url, &b.token).await.unwrap();
    let first = alice
        .send_text(Target::User(b.user.id), "first")
        .await
        .unwrap();
    assert_eq!(
        bob.next_message(Duration::from_secs(10)).await.unwrap().seq,
        first.seq
    );

    // Kick Bob's connection from the server side as a full outbox would.
    let hub = server.server.as_ref().unwrap().state.hub.clone();
    hub.close_device(
        b.user.id,
        b.device_id,
        confab_proto::close::SLOW_CONSUMER,
        None,
    );
    for i in 0..5 {
        alice
            .send_text(Target::User(b.user.id), format!("while away {i}"))
            .await
            .unwrap();
    }
    // Bob's SDK reconnects and delivers the missed messages in order, once.
    let mut seqs = vec![];
    while seqs.len() < 5 {
        match bob
            .next_event_timeout(Duration::from_secs(10))
            .await
            .unwrap()
        {
            ClientEvent::Server(confab_proto::Event::Message(m)) => seqs.push(m.seq),
            _ => continue,
        }
    }
    assert_eq!(seqs, vec![2, 3, 4, 5, 6]);
    assert!(
        bob.next_message(Duration::from_millis(300)).await.is_err(),
        "no duplicates"
    );
}

#[tokio::test]
async fn shutdown_finishes_in_flight_sends_and_tells_clients_to_come_back() {
    let mut server = TestServer::open().await;
    let a = server.user("alice").await;
    let b = server.user("bob").await;
    let mut raw = RawWs::connect(&server.ws_url(), Some(&a.token)).await;
    raw.next_json().await.unwrap();
    for i in 0..20 {
        raw.send_text(format!(
            r#"{{"id":{i},"type":"send","data":{{"to":{{"user":{}}},"client_msg_id":"s{i}","content":{{"type":"text","text":"m{i}"}}}}}}"#,
            b.user.id
        ))
        .await;
    }
    // Wait for the first answer so the requests are in flight, then shut down.
    let first = raw.response().await;
    assert!(first["ok"]["seq"].is_i64());
    server.stop().await;
    let mut answered = 1;
    let code = loop {
        match raw.next_json().await {
            Ok(v) if v.get("ok").is_some() => answered += 1,
            Ok(_) => {}
            Err(code) => break code,
        }
    };
    assert_eq!(code, Some(confab_proto::close::SERVER_SHUTDOWN));
    // Every request answered before the close was stored.
    let stored = server.count("SELECT COUNT(*) FROM messages").await;
    assert!(stored >= answered, "stored {stored}, answered {answered}");
}
