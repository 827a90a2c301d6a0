//! The NATS broker: many equal nodes, one NATS server (or cluster) between them.
//!
//! # Subjects (under a configurable prefix, `confab` by default)
//!
//! - `P.u.<user>`: frames for one user's devices (direct messages, read receipts, contact
//!   events, presence) and device revocation. A node subscribes while the user has a
//!   connection on it.
//! - `P.c.<conversation>`: a group's events. A node subscribes while one of its connected users
//!   is a member, and fans each event out to its own connections from its membership cache, so
//!   a group message crosses NATS once per interested node, never once per member.
//! - `P.g`: group changes, to every node: each refreshes its membership cache, updates its
//!   subscriptions for the users who joined or left, and delivers the change's event.
//! - `P.p`: presence. Each node announces its users coming and going with a version number,
//!   and a heartbeat every second with its current version; a node that missed an announcement
//!   (the versions disagree) asks that node for a full snapshot. A node not heard from for
//!   [`NODE_TTL`] is forgotten, with its users.
//!
//! The node that publishes delivers to its own connections directly and ignores its own
//! messages when NATS echoes them back.
//!
//! # Losing NATS
//!
//! While NATS is unreachable, [`Broker::health`] says so (sends are refused with `unavailable`
//! by the domain) and what cannot be published is dropped and counted. When the link comes
//! back, subscriptions are restored by the client, and the node closes its connections with
//! close code 4003 (resync) so that every device syncs what it may have missed.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use confab_proto::{ConversationId, ConversationKind, DeviceId, UserId};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::{
    change_recipients, recipients, Audience, Broker, BrokerHealth, BrokerStats, GroupChanged,
};
use crate::conversations::ConversationCache;
use crate::gateway::hub::{ConnId, Frame, Hub};
use crate::store::Store;

/// How often a node announces its presence version.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A node silent this long is taken for dead.
pub const NODE_TTL: Duration = Duration::from_secs(5);
/// Frames waiting to be handed to the NATS client; past this they are dropped and counted.
const OUTBOX: usize = 65_536;
/// How long `attach` waits for its subscriptions to reach the server.
const ATTACH_FLUSH: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// `nats://host:4222` (several separated by commas).
    pub url: String,
    /// Subject prefix: deployments (or tests) sharing one NATS server use different ones.
    pub prefix: String,
    /// This node's name, for logs and NATS's connection list.
    pub node_id: String,
}

/// What one inter-node message says, before the frame it carries.
#[derive(Debug, Serialize, Deserialize)]
enum Header {
    /// For every device of `user`.
    User { origin: u64, user: UserId },
    /// Close one device's connections.
    CloseDevice {
        origin: u64,
        user: UserId,
        device: DeviceId,
        code: u16,
    },
    /// For the group's members connected to the receiving node.
    Conversation {
        origin: u64,
        conversation_id: ConversationId,
        except_user: Option<UserId>,
    },
    /// A group changed: refresh the cache, follow the members, deliver the event.
    GroupChanged {
        origin: u64,
        conversation_id: ConversationId,
        added: Vec<UserId>,
        removed: Vec<UserId>,
    },
}

#[derive(Debug, Deserialize)]
struct Envelope<'a> {
    h: Header,
    #[serde(borrow)]
    f: &'a RawValue,
}

fn envelope(header: &Header, frame: &str) -> Bytes {
    let h = serde_json::to_string(header).expect("headers serialize");
    Bytes::from(format!("{{\"h\":{h},\"f\":{frame}}}"))
}

#[derive(Debug, Serialize, Deserialize)]
enum PresenceMsg {
    /// `user` came online (or went offline) on `node`, whose presence is now at `version`.
    Delta {
        node: u64,
        version: u64,
        user: UserId,
        online: bool,
    },
    Beat {
        node: u64,
        version: u64,
    },
    /// Asks `node` (every node when `None`) for a snapshot.
    Ask {
        node: Option<u64>,
    },
    Snapshot {
        node: u64,
        version: u64,
        users: Vec<UserId>,
    },
}

struct RemoteNode {
    version: u64,
    users: HashSet<UserId>,
    seen: Instant,
}

#[derive(Default)]
struct Presence {
    /// This node's version: bumped on every user coming or going.
    version: u64,
    local: HashSet<UserId>,
    remote: HashMap<u64, RemoteNode>,
}

struct UserSub {
    sub: AbortHandle,
    groups: HashSet<ConversationId>,
}

struct ConvSub {
    refs: usize,
    sub: AbortHandle,
}

#[derive(Default)]
struct Interest {
    users: HashMap<UserId, UserSub>,
    convs: HashMap<ConversationId, ConvSub>,
}

struct Inner {
    client: async_nats::Client,
    options: NatsOptions,
    /// Random per process: a restarted node is a new node to the others.
    instance: u64,
    hub: Arc<Hub>,
    cache: Arc<ConversationCache>,
    store: Arc<dyn Store>,
    out: mpsc::Sender<(String, Bytes)>,
    inbound: mpsc::Sender<async_nats::Message>,
    interest: tokio::sync::Mutex<Interest>,
    presence: Mutex<Presence>,
    connected: AtomicBool,
    published: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    stop: CancellationToken,
}

pub struct NatsBroker {
    inner: Arc<Inner>,
}

impl NatsBroker {
    /// Connects (retrying in the background if NATS is not up yet) and starts the node's
    /// background tasks.
    pub async fn start(
        options: NatsOptions,
        hub: Arc<Hub>,
        cache: Arc<ConversationCache>,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<NatsBroker> {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let client = async_nats::ConnectOptions::new()
            .name(format!("confab-server {}", options.node_id))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .ping_interval(Duration::from_secs(5))
            .client_capacity(4096)
            .subscription_capacity(16_384)
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((100u64 << attempts.min(5) as u64).min(2000))
            })
            .event_callback(move |event| {
                let tx = events_tx.clone();
                async move {
                    let _ = tx.send(event);
                }
            })
            .connect(options.url.as_str())
            .await
            .map_err(|e| anyhow::anyhow!("NATS at {}: {e}", options.url))?;
        let (out_tx, out_rx) = mpsc::channel(OUTBOX);
        let (in_tx, in_rx) = mpsc::channel(16_384);
        let inner = Arc::new(Inner {
            connected: AtomicBool::new(
                client.connection_state() == async_nats::connection::State::Connected,
            ),
            client,
            options,
            instance: rand::random::<u64>() >> 1,
            hub,
            cache,
            store,
            out: out_tx,
            inbound: in_tx,
            interest: Default::default(),
            presence: Default::default(),
            published: AtomicU64::new(0),
            received: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            stop: CancellationToken::new(),
        });
        tokio::spawn(publisher(inner.clone(), out_rx));
        tokio::spawn(receiver(inner.clone(), in_rx));
        tokio::spawn(link_events(inner.clone(), events_rx));
        // Shared subjects every node listens to.
        for subject in [inner.subject("g"), inner.subject("p")] {
            inner.subscribe(subject).await?;
        }
        tokio::spawn(heartbeat(inner.clone()));
        inner.presence_publish(&PresenceMsg::Ask { node: None });
        tracing::info!(
            node = %inner.options.node_id,
            url = %inner.options.url,
            prefix = %inner.options.prefix,
            "NATS broker started"
        );
        Ok(NatsBroker { inner })
    }

    /// Stops the background tasks (the server is shutting down).
    pub fn close(&self) {
        self.inner.stop.cancel();
    }
}

impl Drop for NatsBroker {
    fn drop(&mut self) {
        self.inner.stop.cancel();
    }
}

impl Inner {
    fn subject(&self, tail: &str) -> String {
        format!("{}.{tail}", self.options.prefix)
    }

    fn user_subject(&self, user: UserId) -> String {
        self.subject(&format!("u.{user}"))
    }

    fn conv_subject(&self, id: ConversationId) -> String {
        self.subject(&format!("c.{id}"))
    }

    fn publish(&self, subject: String, payload: Bytes) {
        if self.out.try_send((subject, payload)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("NATS outbox full: an event for other nodes was dropped");
        }
    }

    fn presence_publish(&self, msg: &PresenceMsg) {
        let payload = serde_json::to_vec(msg).expect("presence serializes");
        // Presence is not counted with events: it is not what fan-out costs.
        let client = self.client.clone();
        let subject = self.subject("p");
        tokio::spawn(async move {
            let _ = client.publish(subject, payload.into()).await;
        });
    }

    /// Subscribes and forwards what arrives to the receiver task; aborting the returned handle
    /// unsubscribes.
    async fn subscribe(&self, subject: String) -> anyhow::Result<AbortHandle> {
        let mut sub = self
            .client
            .subscribe(subject.clone())
            .await
            .map_err(|e| anyhow::anyhow!("subscribing to {subject}: {e}"))?;
        let tx = self.inbound.clone();
        let task = tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
        });
        Ok(task.abort_handle())
    }

    async fn add_conv(&self, interest: &mut Interest, id: ConversationId) {
        if let Some(c) = interest.convs.get_mut(&id) {
            c.refs += 1;
            return;
        }
        match self.subscribe(self.conv_subject(id)).await {
            Ok(sub) => {
                interest.convs.insert(id, ConvSub { refs: 1, sub });
            }
            Err(e) => tracing::warn!(error = %e, conversation_id = id, "group subscription failed"),
        }
    }

    fn remove_conv(&self, interest: &mut Interest, id: ConversationId) {
        if let Some(c) = interest.convs.get_mut(&id) {
            c.refs -= 1;
            if c.refs == 0 {
                c.sub.abort();
                interest.convs.remove(&id);
            }
        }
    }

    fn set_local_presence(&self, user: UserId, online: bool) {
        let msg = {
            let mut p = self.presence.lock().unwrap();
            let changed = if online {
                p.local.insert(user)
            } else {
                p.local.remove(&user)
            };
            if !changed {
                return;
            }
            p.version += 1;
            PresenceMsg::Delta {
                node: self.instance,
                version: p.version,
                user,
                online,
            }
        };
        self.presence_publish(&msg);
    }

    fn snapshot(&self) -> PresenceMsg {
        let p = self.presence.lock().unwrap();
        PresenceMsg::Snapshot {
            node: self.instance,
            version: p.version,
            users: p.local.iter().copied().collect(),
        }
    }

    fn on_presence(&self, msg: PresenceMsg) {
        let now = Instant::now();
        let mut ask = None;
        {
            let mut p = self.presence.lock().unwrap();
            match msg {
                PresenceMsg::Delta {
                    node,
                    version,
                    user,
                    online,
                } if node != self.instance => match p.remote.get_mut(&node) {
                    Some(n) if version == n.version + 1 => {
                        n.version = version;
                        n.seen = now;
                        if online {
                            n.users.insert(user);
                        } else {
                            n.users.remove(&user);
                        }
                    }
                    Some(n) if version <= n.version => n.seen = now,
                    _ => ask = Some(node),
                },
                PresenceMsg::Beat { node, version } if node != self.instance => {
                    match p.remote.get_mut(&node) {
                        Some(n) if n.version == version => n.seen = now,
                        _ => ask = Some(node),
                    }
                }
                PresenceMsg::Snapshot {
                    node,
                    version,
                    users,
                } if node != self.instance => {
                    p.remote.insert(
                        node,
                        RemoteNode {
                            version,
                            users: users.into_iter().collect(),
                            seen: now,
                        },
                    );
                }
                PresenceMsg::Ask { node } if node.is_none_or(|n| n == self.instance) => {
                    drop(p);
                    self.presence_publish(&self.snapshot());
                    return;
                }
                _ => {}
            }
        }
        if let Some(node) = ask {
            self.presence_publish(&PresenceMsg::Ask { node: Some(node) });
        }
    }

    async fn on_message(&self, msg: async_nats::Message) {
        if msg.subject.as_str() == self.subject("p") {
            match serde_json::from_slice::<PresenceMsg>(&msg.payload) {
                Ok(p) => self.on_presence(p),
                Err(e) => tracing::warn!(error = %e, "malformed presence message"),
            }
            return;
        }
        let env: Envelope<'_> = match serde_json::from_slice(&msg.payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, subject = %msg.subject, "malformed broker message");
                return;
            }
        };
        let mine = |origin: u64| origin == self.instance;
        let frame = || Frame::from(env.f.get());
        match env.h {
            Header::User { origin, user } => {
                if !mine(origin) {
                    self.received.fetch_add(1, Ordering::Relaxed);
                    self.hub.deliver(&[user], &frame(), None);
                }
            }
            Header::CloseDevice {
                origin,
                user,
                device,
                code,
            } => {
                if !mine(origin) {
                    self.received.fetch_add(1, Ordering::Relaxed);
                    self.hub.close_device(user, device, code, None);
                }
            }
            Header::Conversation {
                origin,
                conversation_id,
                except_user,
            } => {
                if mine(origin) {
                    return;
                }
                self.received.fetch_add(1, Ordering::Relaxed);
                match self.cache.get(self.store.as_ref(), conversation_id).await {
                    Ok(Some(conv)) => {
                        let users = recipients(&Audience {
                            conversation_id,
                            kind: conv.kind,
                            members: &conv.member_ids,
                            except_user,
                        });
                        self.hub.deliver(&users, &frame(), None);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(
                        error = %e, conversation_id, "could not load members for fan-out"
                    ),
                }
            }
            Header::GroupChanged {
                origin,
                conversation_id,
                added,
                removed,
            } => {
                self.cache.invalidate(conversation_id);
                {
                    let mut interest = self.interest.lock().await;
                    for &u in &added {
                        if interest.users.contains_key(&u) {
                            self.add_conv(&mut interest, conversation_id).await;
                            if let Some(s) = interest.users.get_mut(&u) {
                                s.groups.insert(conversation_id);
                            }
                        }
                    }
                    for u in &removed {
                        let had = interest
                            .users
                            .get_mut(u)
                            .is_some_and(|s| s.groups.remove(&conversation_id));
                        if had {
                            self.remove_conv(&mut interest, conversation_id);
                        }
                    }
                }
                if mine(origin) {
                    return;
                }
                self.received.fetch_add(1, Ordering::Relaxed);
                let members = match self.cache.get(self.store.as_ref(), conversation_id).await {
                    Ok(Some(conv)) => conv.member_ids.to_vec(),
                    Ok(None) => vec![],
                    Err(e) => {
                        tracing::warn!(error = %e, conversation_id, "could not reload members");
                        added.clone()
                    }
                };
                let users = change_recipients(&GroupChanged {
                    conversation_id,
                    members: &members,
                    added: &added,
                    removed: &removed,
                });
                self.hub.deliver(&users, &frame(), None);
            }
        }
    }
}

/// Hands queued messages to the NATS client, in order.
async fn publisher(inner: Arc<Inner>, mut rx: mpsc::Receiver<(String, Bytes)>) {
    loop {
        let next = tokio::select! {
            _ = inner.stop.cancelled() => return,
            next = rx.recv() => next,
        };
        let Some((subject, payload)) = next else {
            return;
        };
        match inner.client.publish(subject, payload).await {
            Ok(()) => {
                inner.published.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                inner.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "publishing to NATS failed");
            }
        }
    }
}

/// Handles what arrives on every subscription, one message at a time (so a group change is
/// applied before the events after it).
async fn receiver(inner: Arc<Inner>, mut rx: mpsc::Receiver<async_nats::Message>) {
    loop {
        let next = tokio::select! {
            _ = inner.stop.cancelled() => return,
            next = rx.recv() => next,
        };
        match next {
            Some(msg) => inner.on_message(msg).await,
            None => return,
        }
    }
}

async fn heartbeat(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let version = {
            let mut p = inner.presence.lock().unwrap();
            let now = Instant::now();
            p.remote.retain(|node, n| {
                let alive = now.duration_since(n.seen) < NODE_TTL;
                if !alive {
                    tracing::info!(node, "a node went silent; forgetting its users");
                }
                alive
            });
            p.version
        };
        inner.presence_publish(&PresenceMsg::Beat {
            node: inner.instance,
            version,
        });
    }
}

/// Follows the link's state; after an outage, every device here is told to resync.
async fn link_events(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<async_nats::Event>) {
    let mut was_lost = false;
    loop {
        let event = tokio::select! {
            _ = inner.stop.cancelled() => return,
            e = rx.recv() => match e { Some(e) => e, None => return },
        };
        match event {
            async_nats::Event::Connected => {
                inner.connected.store(true, Ordering::Release);
                tracing::info!(url = %inner.options.url, "NATS link up");
                inner.presence_publish(&PresenceMsg::Ask { node: None });
                inner.presence_publish(&inner.snapshot());
                if was_lost {
                    // Events published while the link was down are gone: every device here
                    // reconnects and syncs.
                    let n = inner.hub.close_all(confab_proto::close::RESYNC);
                    tracing::warn!(
                        connections = n,
                        "NATS link restored; devices told to resync"
                    );
                }
                was_lost = false;
            }
            async_nats::Event::Disconnected => {
                inner.connected.store(false, Ordering::Release);
                was_lost = true;
                tracing::warn!(url = %inner.options.url, "NATS link lost");
            }
            other => tracing::debug!(event = %other, "NATS event"),
        }
    }
}

#[async_trait]
impl Broker for NatsBroker {
    fn publish_users(&self, users: &[UserId], frame: Frame, except: Option<ConnId>) {
        let inner = &self.inner;
        inner.hub.deliver(users, &frame, except);
        for &user in users {
            let header = Header::User {
                origin: inner.instance,
                user,
            };
            inner.publish(inner.user_subject(user), envelope(&header, frame.as_str()));
        }
    }

    fn publish_conversation(&self, audience: Audience<'_>, frame: Frame, except: Option<ConnId>) {
        let inner = &self.inner;
        let users = recipients(&audience);
        inner.hub.deliver(&users, &frame, except);
        match audience.kind {
            // Direct chats travel on their two users' subjects.
            ConversationKind::Direct => {
                for user in users {
                    let header = Header::User {
                        origin: inner.instance,
                        user,
                    };
                    inner.publish(inner.user_subject(user), envelope(&header, frame.as_str()));
                }
            }
            ConversationKind::Group => {
                let header = Header::Conversation {
                    origin: inner.instance,
                    conversation_id: audience.conversation_id,
                    except_user: audience.except_user,
                };
                inner.publish(
                    inner.conv_subject(audience.conversation_id),
                    envelope(&header, frame.as_str()),
                );
            }
        }
    }

    fn publish_group_change(&self, change: GroupChanged<'_>, frame: Frame, except: Option<ConnId>) {
        let inner = &self.inner;
        inner
            .hub
            .deliver(&change_recipients(&change), &frame, except);
        let header = Header::GroupChanged {
            origin: inner.instance,
            conversation_id: change.conversation_id,
            added: change.added.to_vec(),
            removed: change.removed.to_vec(),
        };
        inner.publish(inner.subject("g"), envelope(&header, frame.as_str()));
    }

    fn close_device(&self, user: UserId, device: DeviceId, code: u16, except: Option<ConnId>) {
        let inner = &self.inner;
        inner.hub.close_device(user, device, code, except);
        let header = Header::CloseDevice {
            origin: inner.instance,
            user,
            device,
            code,
        };
        inner.publish(inner.user_subject(user), envelope(&header, "null"));
    }

    fn is_online(&self, user: UserId) -> bool {
        if self.inner.hub.is_online(user) {
            return true;
        }
        let p = self.inner.presence.lock().unwrap();
        let now = Instant::now();
        p.remote
            .values()
            .any(|n| now.duration_since(n.seen) < NODE_TTL && n.users.contains(&user))
    }

    async fn attach(&self, user: UserId) {
        let inner = &self.inner;
        {
            let mut interest = inner.interest.lock().await;
            if interest.users.contains_key(&user) || !inner.hub.is_online(user) {
                return;
            }
            let groups = match inner.store.group_ids(user).await {
                Ok(g) => g,
                Err(e) => {
                    tracing::warn!(error = %e, user, "could not load the user's groups");
                    vec![]
                }
            };
            let sub = match inner.subscribe(inner.user_subject(user)).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, user, "user subscription failed");
                    return;
                }
            };
            for &g in &groups {
                inner.add_conv(&mut interest, g).await;
            }
            interest.users.insert(
                user,
                UserSub {
                    sub,
                    groups: groups.into_iter().collect(),
                },
            );
        }
        // The subscriptions reach the server before the device hears `hello` and syncs.
        let _ = tokio::time::timeout(ATTACH_FLUSH, inner.client.flush()).await;
        inner.set_local_presence(user, true);
    }

    async fn detach(&self, user: UserId) {
        let inner = &self.inner;
        {
            let mut interest = inner.interest.lock().await;
            if inner.hub.is_online(user) {
                return; // Connected again meanwhile.
            }
            if let Some(s) = interest.users.remove(&user) {
                s.sub.abort();
                for g in s.groups {
                    inner.remove_conv(&mut interest, g);
                }
            }
        }
        inner.set_local_presence(user, false);
    }

    fn health(&self) -> BrokerHealth {
        let connected =
            self.inner.client.connection_state() == async_nats::connection::State::Connected;
        self.inner.connected.store(connected, Ordering::Release);
        BrokerHealth {
            ok: connected,
            detail: if connected {
                format!("nats connected (node {})", self.inner.options.node_id)
            } else {
                format!("nats unreachable at {}", self.inner.options.url)
            },
        }
    }

    fn stats(&self) -> BrokerStats {
        BrokerStats {
            published: self.inner.published.load(Ordering::Relaxed),
            received: self.inner.received.load(Ordering::Relaxed),
            dropped: self.inner.dropped.load(Ordering::Relaxed),
        }
    }
}
