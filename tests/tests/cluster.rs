//! Distributed mode: nodes sharing PostgreSQL and NATS. Each test needs both services (see
//! `confab_tests::cluster::services`): without them it prints what is missing and skips,
//! unless `CONFAB_REQUIRE_SERVICES=1`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_proto::{
    Content, ConversationId, ErrorCode, Event, HistoryRequest, Message, SendRequest, Seq,
    SystemEvent, Target, UserId,
};
use confab_sdk::{Client, ClientEvent, ClientOptions};
use confab_tests::cluster::{host_port, services, Balancer, Cluster};
use confab_tests::{free_port, PgSchema, ServerProcess};

const WAIT: Duration = Duration::from_secs(10);

async fn user(base: &str, name: &str) -> (UserId, String) {
    confab_tests::register(base, name).await;
    let login = confab_tests::login(base, name, "d").await;
    (login.user.id, login.token)
}

async fn connect(base: &str, token: &str) -> Client {
    Client::connect(base, token).await.expect("connects")
}

fn is_message_in(e: &ClientEvent, conv: ConversationId, text: &str) -> bool {
    matches!(e, ClientEvent::Server(Event::Message(m))
        if m.conversation_id == conv && m.content.as_text() == Some(text))
}

/// Every message of a conversation, through history.
async fn all_messages(client: &Client, conv: ConversationId) -> Vec<Message> {
    let mut out: Vec<Message> = vec![];
    loop {
        let page = client
            .history(HistoryRequest {
                conversation_id: conv,
                after: Some(out.last().map_or(0, |m| m.seq)),
                limit: Some(200),
                ..Default::default()
            })
            .await
            .unwrap();
        out.extend(page.messages);
        if !page.has_more {
            return out;
        }
    }
}

#[tokio::test]
async fn users_on_different_nodes_chat_read_recall_type_and_see_presence() {
    let Some(services) = services("cluster chat").await else {
        return;
    };
    let cluster = Cluster::start(&services, 3).await;
    let (n0, n1, n2) = (&cluster.urls[0], &cluster.urls[1], &cluster.urls[2]);
    let (_, a) = user(n0, "alice").await;
    let (bob_id, b) = user(n1, "bob").await;
    let (carol_id, c) = user(n2, "carol").await;
    let alice = connect(n0, &a).await;
    let bob = connect(n1, &b).await;
    let carol = connect(n2, &c).await;

    // One to one, alice on node 0 and bob on node 1.
    let sent = alice
        .send_text(Target::User(bob_id), "hello from node 0")
        .await
        .unwrap();
    let dm = sent.conversation_id;
    let got = bob.next_message(WAIT).await.unwrap();
    assert_eq!(got.content.as_text(), Some("hello from node 0"));
    assert_eq!(got.seq, sent.seq);

    // Read receipt back to node 0.
    bob.mark_read(dm, sent.seq).await.unwrap();
    let ev = alice
        .wait_for_event(WAIT, |e| matches!(e, ClientEvent::Server(Event::Read(_))))
        .await
        .unwrap();
    assert!(matches!(ev, ClientEvent::Server(Event::Read(r))
        if r.user_id == bob_id && r.read_seq == sent.seq && r.conversation_id == dm));

    // Typing crosses nodes.
    bob.typing(dm).await.unwrap();
    alice
        .wait_for_event(
            WAIT,
            |e| matches!(e, ClientEvent::Server(Event::Typing(t)) if t.user_id == bob_id),
        )
        .await
        .unwrap();

    // Presence: bob (node 1) is online as seen from node 0, then offline once he leaves.
    let deadline = Instant::now() + WAIT;
    loop {
        let p = alice.presence(vec![bob_id]).await.unwrap();
        if p[0].online {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bob never showed online on node 0"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A group spread over the three nodes.
    let group = alice
        .create_group("across", vec![bob_id, carol_id])
        .await
        .unwrap();
    for client in [&bob, &carol] {
        client
            .wait_for_event(WAIT, |e| {
                matches!(e, ClientEvent::Server(Event::Message(m))
                if m.conversation_id == group.id
                    && matches!(m.content, Content::System(SystemEvent::GroupCreated { .. })))
            })
            .await
            .unwrap();
    }
    let from_carol = carol
        .send_text(Target::Conversation(group.id), "hi all, from node 2")
        .await
        .unwrap();
    for client in [&alice, &bob] {
        client
            .wait_for_event(WAIT, |e| is_message_in(e, group.id, "hi all, from node 2"))
            .await
            .unwrap();
    }
    // Group typing reaches the others, not the typist.
    carol.typing(group.id).await.unwrap();
    for client in [&alice, &bob] {
        client
            .wait_for_event(WAIT, |e| {
                matches!(e, ClientEvent::Server(Event::Typing(t))
                    if t.user_id == carol_id && t.conversation_id == group.id)
            })
            .await
            .unwrap();
    }

    // Recall on node 2 reaches nodes 0 and 1, and the content is gone everywhere.
    carol.recall(group.id, from_carol.seq).await.unwrap();
    for client in [&alice, &bob] {
        client
            .wait_for_event(WAIT, |e| {
                matches!(e, ClientEvent::Server(Event::Message(m))
                if matches!(m.content, Content::System(SystemEvent::MessageRecalled { seq, .. })
                    if seq == from_carol.seq))
            })
            .await
            .unwrap();
    }
    let history = all_messages(&bob, group.id).await;
    assert!(history
        .iter()
        .find(|m| m.seq == from_carol.seq)
        .unwrap()
        .is_recalled());

    // Membership changes reach every node's cache: carol (node 2) is removed on node 0 and is
    // refused on node 2 at once.
    confab_tests::call(
        &alice,
        confab_proto::Request::GroupKick(confab_proto::GroupUser {
            conversation_id: group.id,
            user_id: carol_id,
        }),
    )
    .await
    .unwrap();
    carol
        .wait_for_event(WAIT, |e| {
            matches!(e, ClientEvent::Server(Event::Message(m))
            if matches!(m.content, Content::System(SystemEvent::MemberKicked { user_id, .. })
                if user_id == carol_id))
        })
        .await
        .unwrap();
    assert_eq!(
        carol
            .send_text(Target::Conversation(group.id), "still here?")
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::NotMember)
    );
    alice
        .send_text(Target::Conversation(group.id), "after carol")
        .await
        .unwrap();
    bob.wait_for_event(WAIT, |e| is_message_in(e, group.id, "after carol"))
        .await
        .unwrap();

    // Bob leaves node 1: alice (node 0) sees him go offline.
    bob.close().await.unwrap();
    alice
        .wait_for_event(WAIT, |e| {
            matches!(e, ClientEvent::Server(Event::Presence(p)) if p.user_id == bob_id && !p.online)
        })
        .await
        .unwrap();
    let p = alice.presence(vec![bob_id]).await.unwrap();
    assert!(!p[0].online);
    println!("cluster chat: direct, group, read, typing, presence, recall and kick crossed nodes");
}

#[tokio::test]
async fn a_group_message_crosses_nats_at_most_once_per_node() {
    confab_tests::raise_fd_limit();
    let Some(services) = services("cluster fan-out").await else {
        return;
    };
    let cluster = Cluster::start(&services, 3).await;
    let (owner_id, owner_token) = user(&cluster.urls[0], "owner").await;
    let owner = connect(&cluster.urls[0], &owner_token).await;
    const N: usize = 999;
    let mut members = Vec::with_capacity(N);
    let mut joins = tokio::task::JoinSet::new();
    for i in 0..N {
        let base = cluster.urls[i % 3].clone();
        joins.spawn(async move {
            let (id, token) = user(&base, &format!("member{i:04}")).await;
            (id, Client::connect(&base, &token).await.unwrap())
        });
        if joins.len() >= 32 {
            members.push(joins.join_next().await.unwrap().unwrap());
        }
    }
    while let Some(r) = joins.join_next().await {
        members.push(r.unwrap());
    }
    let ids: Vec<UserId> = members.iter().map(|(id, _)| *id).collect();
    let group = owner.create_group("everyone", ids).await.unwrap();
    assert_eq!(group.member_count as usize, N + 1);
    let _ = owner_id;

    // Everyone has the group before counting.
    let mut waits = tokio::task::JoinSet::new();
    for (_, client) in members {
        let conv = group.id;
        waits.spawn(async move {
            let m = client.next_message(Duration::from_secs(60)).await.unwrap();
            assert_eq!(m.conversation_id, conv);
            client
        });
    }
    let mut members = vec![];
    while let Some(r) = waits.join_next().await {
        members.push(r.unwrap());
    }
    let before: Vec<_> = cluster
        .nodes
        .iter()
        .flatten()
        .map(|n| n.state.broker.stats())
        .collect();

    let sent = owner
        .send_text(Target::Conversation(group.id), "all hands")
        .await
        .unwrap();
    let mut waits = tokio::task::JoinSet::new();
    for client in members {
        waits.spawn(async move {
            let m = client.next_message(Duration::from_secs(60)).await.unwrap();
            m.seq == sent.seq && m.content.as_text() == Some("all hands")
        });
    }
    let mut received = 0;
    while let Some(r) = waits.join_next().await {
        assert!(r.unwrap());
        received += 1;
    }
    assert_eq!(received, N);

    let after: Vec<_> = cluster
        .nodes
        .iter()
        .flatten()
        .map(|n| n.state.broker.stats())
        .collect();
    let published: Vec<u64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a.published - b.published)
        .collect();
    let got: Vec<u64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a.received - b.received)
        .collect();
    println!(
        "cluster fan-out: one message to {} members on 3 nodes: NATS messages published per node \
         {published:?}, received per node {got:?}, devices reached {received}",
        N + 1
    );
    assert!(published.iter().sum::<u64>() <= 3 && published.iter().all(|&p| p <= 1));
    assert!(got.iter().all(|&g| g <= 1), "at most one per node: {got:?}");
    assert_eq!(published[0], 1, "the sender's node published it once");
    assert_eq!(&got[1..], &[1, 1], "each other node received it once");
}

/// What one sender saw acknowledged: (conversation, seq, client_msg_id, text).
type Acked = (ConversationId, Seq, String, String);

/// The user index in a chaos-test key `u<i>-m<n>`.
fn sender_of(key: &str) -> usize {
    key[1..].split('-').next().unwrap().parse().unwrap()
}

/// Sends with retries of the same `client_msg_id` until acknowledged or `deadline`.
async fn send_until_acked(
    client: &Client,
    to: Target,
    key: String,
    text: String,
    deadline: Instant,
) -> Option<Acked> {
    loop {
        let req = SendRequest {
            to,
            client_msg_id: key.clone(),
            content: Content::Text { text: text.clone() },
            reply_to: None,
            mentions: vec![],
            mention_all: false,
        };
        match client.send(req).await {
            Ok(r) => return Some((r.conversation_id, r.seq, key, text)),
            Err(e) => {
                if Instant::now() > deadline {
                    eprintln!("gave up on {key}: {e}");
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Collects the messages a client receives, per conversation, in arrival order.
fn collect_messages(events: confab_sdk::Events) -> Arc<Mutex<HashMap<ConversationId, Vec<Seq>>>> {
    let seen = Arc::new(Mutex::new(HashMap::<ConversationId, Vec<Seq>>::new()));
    let out = seen.clone();
    let mut events = events;
    tokio::spawn(async move {
        while let Some(e) = events.next().await {
            if let ClientEvent::Server(Event::Message(m)) = e {
                out.lock()
                    .unwrap()
                    .entry(m.conversation_id)
                    .or_default()
                    .push(m.seq);
            }
        }
    });
    seen
}

/// Checks one conversation's stored history against what was acknowledged: seqs 1..=last
/// without a gap, each acknowledged message exactly once at its seq.
fn check_history(conv: ConversationId, history: &[Message], acked: &[&Acked]) -> usize {
    let seqs: Vec<Seq> = history.iter().map(|m| m.seq).collect();
    let expected: Vec<Seq> = (1..=history.len() as Seq).collect();
    assert_eq!(seqs, expected, "conversation {conv}: seqs skip or repeat");
    let mut keys = BTreeMap::new();
    for m in history {
        if let Some(k) = &m.client_msg_id {
            *keys.entry(k.clone()).or_insert(0) += 1;
        }
    }
    for (c, seq, key, text) in acked {
        assert_eq!(*c, conv);
        let m = &history[(*seq - 1) as usize];
        assert_eq!(
            m.content.as_text(),
            Some(text.as_str()),
            "acked {key} at {seq}"
        );
        assert_eq!(keys.get(key), Some(&1), "{key} stored exactly once");
    }
    history.len()
}

#[tokio::test]
async fn a_node_killed_under_load_loses_nothing_acknowledged() {
    let Some(services) = services("cluster chaos").await else {
        return;
    };
    let cluster = Cluster::start(&services, 0).await;
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes = vec![];
    for (i, &port) in ports.iter().enumerate() {
        nodes.push(ServerProcess::spawn(port, &cluster.process_args(i)).await);
    }
    let addrs: Vec<std::net::SocketAddr> = ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}").parse().unwrap())
        .collect();
    let balancer = Balancer::start(addrs.clone()).await;
    let base = balancer.base_url();

    // Six users, each connected through the balancer (so spread over the nodes), in one group
    // and in three direct pairs.
    const USERS: usize = 6;
    let mut ids = vec![];
    let mut clients = vec![];
    let mut received = vec![];
    let options = ClientOptions::default()
        .request_timeout(Duration::from_secs(5))
        .backoff(Duration::from_millis(50), Duration::from_millis(500));
    for i in 0..USERS {
        let (id, token) = user(&base, &format!("user{i}")).await;
        let c = Client::connect_with(&base, &token, options.clone())
            .await
            .unwrap();
        received.push(collect_messages(c.take_events().await.unwrap()));
        ids.push(id);
        clients.push(Arc::new(c));
    }
    let group = clients[0]
        .create_group("chaos", ids[1..].to_vec())
        .await
        .unwrap();

    // Steady load: every user sends alternately to the group and to its pair.
    const PER_USER: usize = 60;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut senders = tokio::task::JoinSet::new();
    for i in 0..USERS {
        let client = clients[i].clone();
        let peer = ids[i ^ 1];
        let group_id = group.id;
        senders.spawn(async move {
            let mut acked = vec![];
            for n in 0..PER_USER {
                let to = if n % 2 == 0 {
                    Target::Conversation(group_id)
                } else {
                    Target::User(peer)
                };
                let key = format!("u{i}-m{n}");
                if let Some(a) =
                    send_until_acked(&client, to, key.clone(), format!("text {key}"), deadline)
                        .await
                {
                    acked.push(a);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            acked
        });
    }
    let load_started = Instant::now();
    // Kill node 1 in the middle of it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    nodes[1].kill9();
    balancer.set_backends(vec![addrs[0], addrs[2]]);
    let killed_at = Instant::now();

    let mut acked: Vec<Acked> = vec![];
    while let Some(r) = senders.join_next().await {
        acked.extend(r.unwrap());
    }
    assert_eq!(
        acked.len(),
        USERS * PER_USER,
        "every send was acknowledged in the end"
    );

    // Stored: every acknowledged message exactly once, no seq skipped or repeated.
    let mut by_conv: BTreeMap<ConversationId, Vec<&Acked>> = BTreeMap::new();
    for a in &acked {
        by_conv.entry(a.0).or_default().push(a);
    }
    let mut last_seq = BTreeMap::new();
    let mut stored = 0;
    for (&conv, list) in &by_conv {
        // Any member reads it: the sender of its first acknowledged message is one.
        let reader = clients[sender_of(&list[0].2)].clone();
        let history = all_messages(&reader, conv).await;
        stored += check_history(conv, &history, list);
        last_seq.insert(conv, history.len() as Seq);
    }

    // Every device has every message of its conversations, in seq order: what it received
    // plus what it sent itself.
    let mut own: Vec<BTreeMap<ConversationId, BTreeSet<Seq>>> = vec![BTreeMap::new(); USERS];
    for (conv, seq, key, _) in &acked {
        own[sender_of(key)].entry(*conv).or_default().insert(*seq);
    }
    let settle = Instant::now() + Duration::from_secs(30);
    let mut delivered = 0;
    for i in 0..USERS {
        for (&conv, &last) in &last_seq {
            // The group, or the direct chat of the pair (i, i ^ 1).
            let member =
                conv == group.id || own[i].contains_key(&conv) || own[i ^ 1].contains_key(&conv);
            if !member {
                continue;
            }
            loop {
                let got = received[i]
                    .lock()
                    .unwrap()
                    .get(&conv)
                    .cloned()
                    .unwrap_or_default();
                assert!(
                    got.windows(2).all(|w| w[0] < w[1]),
                    "device {i} got conversation {conv} out of order or twice: {got:?}"
                );
                let mut all: BTreeSet<Seq> = got.iter().copied().collect();
                all.extend(own[i].get(&conv).into_iter().flatten().copied());
                // The group's first event (seq 1) is the creator's own.
                if conv == group.id && i == 0 {
                    all.insert(1);
                }
                if all.len() as Seq == last && all.iter().copied().eq(1..=last) {
                    delivered += got.len();
                    break;
                }
                assert!(
                    Instant::now() < settle,
                    "device {i} lacks messages of conversation {conv}: has {} of {last}",
                    all.len()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    println!(
        "cluster chaos: node 1 killed {:?} into the load; {} sends acknowledged, {} stored \
         messages checked in {} conversations (no gap, no duplicate), {} deliveries checked on \
         {USERS} devices",
        killed_at.duration_since(load_started),
        acked.len(),
        stored,
        by_conv.len(),
        delivered
    );
    drop(nodes);
}

async fn healthz(base: &str) -> (u16, serde_json::Value) {
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn restarting_nats_during_traffic_drops_nothing_and_delivery_resumes() {
    let Some(services) = services("cluster NATS restart").await else {
        return;
    };
    // A private NATS server, so the shared one is not disturbed.
    let nats_bin = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(nats_bin) = nats_bin else {
        if std::env::var("CONFAB_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("cluster NATS restart: the nats-server binary is missing");
        }
        confab_tests::cluster::skip("SKIPPED cluster NATS restart: needs the nats-server binary");
        return;
    };
    let port = free_port();
    let start_nats = || {
        std::process::Command::new(nats_bin)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server starts")
    };
    let mut nats = start_nats();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut private = services.clone();
    private.nats_url = format!("nats://127.0.0.1:{port}");
    let cluster = Cluster::start(&private, 2).await;
    let (alice_id, a) = user(&cluster.urls[0], "alice").await;
    let (bob_id, b) = user(&cluster.urls[1], "bob").await;
    let _ = alice_id;
    let options = ClientOptions::default()
        .request_timeout(Duration::from_secs(5))
        .backoff(Duration::from_millis(50), Duration::from_millis(500));
    let alice = Client::connect_with(&cluster.urls[0], &a, options.clone())
        .await
        .unwrap();
    let bob = Client::connect_with(&cluster.urls[1], &b, options)
        .await
        .unwrap();
    let bob_got = collect_messages(bob.take_events().await.unwrap());

    let mut acked = vec![];
    let mut refused = 0;
    let mut other_errors = 0;
    let mut restarted = false;
    let began = Instant::now();
    for n in 0..120 {
        if n == 30 {
            let _ = nats.kill();
            let _ = nats.wait();
        }
        if n == 50 {
            // The node says which dependency is down.
            let (status, body) = healthz(&cluster.urls[0]).await;
            assert_eq!(status, 503, "{body}");
            assert_eq!(body["store"], "ok");
            assert_ne!(body["broker"], "ok");
        }
        if n == 60 {
            nats = start_nats();
            restarted = true;
        }
        let key = format!("m{n}");
        let req = SendRequest {
            to: Target::User(bob_id),
            client_msg_id: key.clone(),
            content: Content::Text {
                text: format!("text {key}"),
            },
            reply_to: None,
            mentions: vec![],
            mention_all: false,
        };
        match alice.send(req).await {
            Ok(r) => acked.push((r.conversation_id, r.seq, key.clone(), format!("text {key}"))),
            Err(e) if e.code() == Some(ErrorCode::Unavailable) => refused += 1,
            Err(_) => other_errors += 1,
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(restarted);
    assert!(refused > 0, "sends were refused while NATS was down");
    cluster.wait_linked().await;
    let (status, body) = healthz(&cluster.urls[0]).await;
    assert_eq!(status, 200, "{body}");

    // Delivery resumes without restarting nodes: a new message reaches bob live.
    let last = send_until_acked(
        &alice,
        Target::User(bob_id),
        "after".into(),
        "after the restart".into(),
        Instant::now() + Duration::from_secs(20),
    )
    .await
    .expect("sending works again");
    acked.push(last.clone());
    let conv = last.0;

    // Nothing acknowledged was dropped: stored exactly once, and bob ends up with all of it.
    let history = all_messages(&alice, conv).await;
    let refs: Vec<&Acked> = acked.iter().collect();
    let stored = check_history(conv, &history, &refs);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = bob_got
            .lock()
            .unwrap()
            .get(&conv)
            .cloned()
            .unwrap_or_default();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "in order, once: {got:?}"
        );
        if got.len() == history.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bob has {} of {} messages",
            got.len(),
            history.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "cluster NATS restart: {} sends acknowledged, {refused} refused with `unavailable`, \
         {other_errors} other errors (connection closed to resync), {stored} stored, all \
         delivered to the peer; took {:?}",
        acked.len(),
        began.elapsed()
    );
    let _ = nats.kill();
    let _ = nats.wait();
}

#[tokio::test]
async fn losing_postgres_briefly_answers_unavailable_and_recovers() {
    let Some(services) = services("cluster PostgreSQL outage").await else {
        return;
    };
    // The node reaches PostgreSQL through a relay that the test can cut.
    let schema = PgSchema::create().await;
    let pg = host_port(&services.postgres_url, 5432).unwrap();
    let relay = Balancer::start(vec![pg.parse().unwrap()]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = confab_server::config::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        argon2_memory_kib: 256,
        argon2_iterations: 1,
        open_direct_messages: true,
        postgres_url: Some(schema.url().replacen(&pg, &relay.addr.to_string(), 1)),
        db_timeout_secs: 2,
        ..Default::default()
    };
    let server = confab_server::RunningServer::start(config).await.unwrap();
    let base = format!("http://{}", server.addr);
    let (_, a) = user(&base, "alice").await;
    let (bob_id, _) = user(&base, "bob").await;
    let alice = connect(&base, &a).await;
    let mut acked = vec![];
    let first = alice
        .send_text(Target::User(bob_id), "before")
        .await
        .unwrap();
    acked.push((
        first.conversation_id,
        first.seq,
        String::new(),
        "before".to_owned(),
    ));

    relay.cut();
    let started = Instant::now();
    let err = alice
        .send_text(Target::User(bob_id), "during")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unavailable), "{err}");
    let refused_after = started.elapsed();
    let (status, body) = healthz(&base).await;
    assert_eq!(status, 503, "{body}");
    assert_ne!(body["store"], "ok");

    // The database comes back: the same node serves again, nothing restarted.
    relay.set_backends(vec![pg.parse().unwrap()]);
    let back = send_until_acked(
        &alice,
        Target::User(bob_id),
        "after-outage".into(),
        "after".into(),
        Instant::now() + Duration::from_secs(20),
    )
    .await
    .expect("sends work again");
    let recovered_after = started.elapsed();
    let history = all_messages(&alice, back.0).await;
    let texts: Vec<_> = history.iter().filter_map(|m| m.content.as_text()).collect();
    assert_eq!(texts.first(), Some(&"before"));
    assert_eq!(texts.last(), Some(&"after"));
    assert_eq!(healthz(&base).await.0, 200);
    println!(
        "cluster PostgreSQL outage: refused with `unavailable` after {refused_after:?}, \
         serving again {recovered_after:?} after the cut ({} messages stored)",
        history.len()
    );
    server.shutdown();
}
