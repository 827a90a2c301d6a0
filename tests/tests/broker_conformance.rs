//! One body of Broker rules run against both implementations: the in-process broker (one node)
//! and the NATS broker (two nodes on one NATS server, sharing a store). Connections are bare
//! hub entries, so what each one receives is read straight from its outbox.

use std::sync::Arc;
use std::time::Duration;

use confab_proto::{ConversationKind, DirectPolicy, UserId};
use confab_server::broker::nats::{NatsBroker, NatsOptions};
use confab_server::broker::{Audience, Broker, GroupChanged, LocalBroker};
use confab_server::conversations::ConversationCache;
use confab_server::gateway::hub::{Conn, Frame, Hub};
use confab_server::store::sqlite::SqliteStore;
use confab_server::store::{NewGroup, NewUser, Store};
use tokio::sync::mpsc;

/// One node as the tests see it.
struct Node {
    hub: Arc<Hub>,
    broker: Arc<dyn Broker>,
}

struct Device {
    conn: Arc<Conn>,
    rx: mpsc::Receiver<Frame>,
}

impl Device {
    async fn connect(node: &Node, user: UserId, device: i64) -> Device {
        let (tx, rx) = mpsc::channel(64);
        let conn = Arc::new(Conn::new(node.hub.next_conn_id(), user, device, tx));
        if node.hub.register(conn.clone()) {
            node.broker.attach(user).await;
        }
        Device { conn, rx }
    }

    async fn expect(&mut self, text: &str) {
        let got = tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no frame {text:?} within 5 s"))
            .unwrap();
        assert_eq!(got.as_str(), text);
    }

    async fn expect_nothing(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(300), self.rx.recv()).await;
        assert!(got.is_err(), "unexpected {:?}", got.ok().flatten());
    }
}

async fn users(store: &dyn Store, names: &[&str]) -> Vec<UserId> {
    let mut ids = vec![];
    for n in names {
        ids.push(
            store
                .create_user(NewUser {
                    username: (*n).into(),
                    password_hash: "x".into(),
                    display_name: (*n).into(),
                    direct_policy: DirectPolicy::Anyone,
                    now: 1,
                })
                .await
                .unwrap()
                .id,
        );
    }
    ids
}

/// `a` and `b` may be the same node (one-node broker) or two nodes.
async fn conformance(store: Arc<dyn Store>, a: &Node, b: &Node) {
    let ids = users(store.as_ref(), &["ann", "ben", "cat"]).await;
    let (ann, ben, cat) = (ids[0], ids[1], ids[2]);
    let group = store
        .create_group(NewGroup {
            name: "g".into(),
            owner: ann,
            members: vec![ben, cat],
            now: 1,
        })
        .await
        .unwrap()
        .conversation_id;
    let mut ann_dev = Device::connect(a, ann, 1).await;
    let mut ben_dev = Device::connect(b, ben, 2).await;
    let mut cat_dev = Device::connect(b, cat, 3).await;

    // To users, wherever they are; the sending connection is skipped.
    a.broker
        .publish_users(&[ann, ben], Frame::from("\"u\""), Some(ann_dev.conn.id));
    ben_dev.expect("\"u\"").await;
    ann_dev.expect_nothing().await;

    // To a group's members, once each, without the excluded user.
    let members = [ann, ben, cat];
    a.broker.publish_conversation(
        Audience {
            conversation_id: group,
            kind: ConversationKind::Group,
            members: &members,
            except_user: Some(cat),
        },
        Frame::from("\"g\""),
        None,
    );
    ann_dev.expect("\"g\"").await;
    ben_dev.expect("\"g\"").await;
    cat_dev.expect_nothing().await;
    ben_dev.expect_nothing().await;

    // A group change reaches the member who was removed by it.
    a.broker.publish_group_change(
        GroupChanged {
            conversation_id: group,
            members: &[ann, ben],
            added: &[],
            removed: &[cat],
        },
        Frame::from("\"kicked\""),
        None,
    );
    ann_dev.expect("\"kicked\"").await;
    ben_dev.expect("\"kicked\"").await;
    cat_dev.expect("\"kicked\"").await;

    // Presence is seen from the other node.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !a.broker.is_online(ben) {
        assert!(tokio::time::Instant::now() < deadline, "ben never online");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!a.broker.is_online(9999));

    // Revoking a device closes it wherever it is.
    a.broker.close_device(cat, 3, 4101, None);
    tokio::time::timeout(Duration::from_secs(5), cat_dev.conn.killed().cancelled())
        .await
        .expect("the device was closed");
    assert_eq!(cat_dev.conn.close_code(), Some(4101));

    // Gone from one node, gone everywhere.
    b.hub.unregister(&ben_dev.conn);
    b.broker.detach(ben).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while a.broker.is_online(ben) {
        assert!(tokio::time::Instant::now() < deadline, "ben still online");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn local_broker_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let hub = Arc::new(Hub::default());
    let node = Node {
        hub: hub.clone(),
        broker: Arc::new(LocalBroker::new(hub)),
    };
    conformance(store, &node, &node).await;
}

#[tokio::test]
async fn nats_broker_conforms_across_two_nodes() {
    let Some(services) = confab_tests::cluster::services("broker conformance on NATS").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let prefix = format!("bc{:08x}", confab_tests::rand_u32());
    let mut nodes = vec![];
    for i in 0..2 {
        let hub = Arc::new(Hub::default());
        let broker = NatsBroker::start(
            NatsOptions {
                url: services.nats_url.clone(),
                prefix: prefix.clone(),
                node_id: format!("n{i}"),
            },
            hub.clone(),
            Arc::new(ConversationCache::default()),
            store.clone(),
        )
        .await
        .unwrap();
        nodes.push(Node {
            hub,
            broker: Arc::new(broker),
        });
    }
    for n in &nodes {
        while !n.broker.health().ok {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    conformance(store, &nodes[0], &nodes[1]).await;
    let published: u64 = nodes.iter().map(|n| n.broker.stats().published).sum();
    assert!(published > 0, "the nodes talked through NATS");
}
