//! One body of Store rules run against both implementations: SQLite, and PostgreSQL reached
//! through several independent pools, as several nodes reach it. The PostgreSQL half needs the
//! database (see `confab_tests::cluster::services`).

use std::sync::Arc;
use std::time::Duration;

use confab_proto::{Content, ConversationId, DirectPolicy, UserId};
use confab_server::store::postgres::{PgOptions, PostgresStore};
use confab_server::store::sqlite::SqliteStore;
use confab_server::store::{GroupChange, NewGroup, NewMessage, NewUser, Store, StoreError};
use confab_tests::PgSchema;

async fn new_user(store: &dyn Store, name: &str) -> UserId {
    store
        .create_user(NewUser {
            username: name.into(),
            password_hash: "x".into(),
            display_name: name.into(),
            direct_policy: DirectPolicy::Anyone,
            now: 1,
        })
        .await
        .unwrap()
        .id
}

fn text(conv: ConversationId, sender: UserId, key: Option<String>, body: &str) -> NewMessage {
    NewMessage {
        conversation_id: conv,
        sender_id: sender,
        client_msg_id: key,
        content: Content::Text { text: body.into() },
        reply_to: None,
        mentions: vec![],
        mention_all: false,
        now: 2,
    }
}

/// `nodes` all reach the same data.
async fn conformance(nodes: Vec<Arc<dyn Store>>) {
    let first = nodes[0].clone();
    let alice = new_user(first.as_ref(), "alice").await;
    let bob = new_user(first.as_ref(), "bob").await;
    assert!(matches!(
        nodes[nodes.len() - 1]
            .create_user(NewUser {
                username: "ALICE".into(),
                password_hash: "x".into(),
                display_name: "A".into(),
                direct_policy: DirectPolicy::Anyone,
                now: 1,
            })
            .await,
        Err(StoreError::Conflict("username"))
    ));

    // The first messages of two users race: one direct conversation.
    let mut opens = tokio::task::JoinSet::new();
    for n in &nodes {
        let n = n.clone();
        opens.spawn(async move { n.direct_conversation(alice, bob, 2).await.unwrap() });
    }
    let mut ids = vec![];
    let mut created = 0;
    while let Some(r) = opens.join_next().await {
        let (id, new) = r.unwrap();
        ids.push(id);
        created += new as usize;
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(created, 1);
    let conv = ids[0];

    // Concurrent sends through every node: seqs 1..=N, no gap, no repeat.
    const PER_TASK: usize = 25;
    let tasks = 4 * nodes.len();
    let mut sends = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let n = nodes[t % nodes.len()].clone();
        sends.spawn(async move {
            let mut seqs = vec![];
            for i in 0..PER_TASK {
                let sender = if i % 2 == 0 { alice } else { bob };
                let m = text(conv, sender, Some(format!("t{t}-{i}")), "hi");
                let a = n.append_message(m).await.unwrap();
                assert!(!a.duplicate);
                seqs.push(a.message.seq);
            }
            seqs
        });
    }
    let mut seqs = vec![];
    while let Some(r) = sends.join_next().await {
        seqs.extend(r.unwrap());
    }
    seqs.sort_unstable();
    let total = (tasks * PER_TASK) as i64;
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());

    // The same retry through every node at once: stored once, the same seq for all.
    let mut retries = tokio::task::JoinSet::new();
    for n in nodes.iter().cycle().take(nodes.len() * 3) {
        let n = n.clone();
        retries.spawn(async move {
            n.append_message(text(conv, alice, Some("retry".into()), "once"))
                .await
                .unwrap()
        });
    }
    let mut answers = vec![];
    while let Some(r) = retries.join_next().await {
        answers.push(r.unwrap());
    }
    assert_eq!(answers.iter().filter(|a| !a.duplicate).count(), 1);
    assert!(answers.iter().all(|a| a.message.seq == total + 1));
    let last = total + 1;

    // Read positions move forward only and stop at the last seq.
    // (A sender's position is already at their own latest message.)
    let (before, unread) = first.mark_read(conv, bob, 1).await.unwrap();
    assert!(before > 1 && before < last && unread > 0);
    assert_eq!(first.mark_read(conv, bob, 1).await.unwrap().0, before);
    assert_eq!(
        first.mark_read(conv, bob, last + 50).await.unwrap(),
        (last, 0)
    );

    // Recall erases the content and appends its event at the next seq.
    let recalled = nodes[nodes.len() - 1]
        .recall(conv, last, alice, 3, Box::new(|_| Ok(())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recalled.seq, last + 1);
    assert!(first
        .message(conv, last)
        .await
        .unwrap()
        .unwrap()
        .is_recalled());

    // A group: two nodes let the same user join at once; one wins.
    let carol = new_user(first.as_ref(), "carol").await;
    let created = first
        .create_group(NewGroup {
            name: "g".into(),
            owner: alice,
            members: vec![bob],
            now: 4,
        })
        .await
        .unwrap();
    let g = created.conversation_id;
    assert_eq!(created.seq, 1);
    let mut joins = tokio::task::JoinSet::new();
    for n in &nodes {
        let n = n.clone();
        joins.spawn(async move {
            n.group_apply(
                g,
                GroupChange::Join {
                    user: carol,
                    max_members: 10,
                },
                5,
            )
            .await
        });
    }
    let mut ok = 0;
    while let Some(r) = joins.join_next().await {
        match r.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict("membership")) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1);
    let meta = first.conversation_meta(g).await.unwrap().unwrap();
    assert_eq!(meta.members.len(), 3);
    let mut groups = first.group_ids(carol).await.unwrap();
    groups.sort_unstable();
    assert_eq!(groups, vec![g]);
    let (page, _) = first
        .history(confab_server::store::HistoryQuery {
            conversation_id: g,
            after: Some(0),
            before: None,
            limit: 10,
            visible_after: 0,
            visible_until: None,
        })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
}

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    conformance(vec![store.clone(), store]).await;
}

#[tokio::test]
async fn postgres_store_conforms_from_three_nodes() {
    if confab_tests::cluster::services("store conformance on PostgreSQL")
        .await
        .is_none()
    {
        return;
    }
    let schema = PgSchema::create().await;
    let options = PgOptions {
        url: schema.url(),
        pool_size: 4,
        timeout: Duration::from_secs(10),
    };
    let mut nodes: Vec<Arc<dyn Store>> = vec![];
    for _ in 0..3 {
        nodes.push(Arc::new(PostgresStore::connect(&options).await.unwrap()));
    }
    conformance(nodes).await;
}

#[tokio::test]
async fn postgres_store_answers_unavailable_when_the_database_is_unreachable() {
    // Nothing listens on this port: every call fails fast and clearly.
    let port = confab_tests::free_port();
    let store = PostgresStore::open(&PgOptions {
        url: format!("postgres://postgres@127.0.0.1:{port}/none"),
        pool_size: 2,
        timeout: Duration::from_secs(1),
    })
    .unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(
        store.user_by_id(1).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(3));
}
