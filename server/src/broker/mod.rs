//! The event port between nodes. Domain code publishes pre-encoded frames addressed to users
//! or to a conversation's members; the broker gets them to every node where those users have
//! connections. Two implementations: [`LocalBroker`], this process's own hub (one node), and
//! [`nats::NatsBroker`], many nodes linked by NATS. Both deliver to this node's connections at
//! once; the NATS broker also publishes once for the other nodes.
//!
//! Delivery is at-least-once with gaps filled by sync: a frame that cannot reach another node
//! (the link is down) is logged and counted, never retried, because everything that matters is
//! already stored and devices converge by sync.

use std::sync::Arc;

use async_trait::async_trait;
use confab_proto::{ConversationId, ConversationKind, DeviceId, UserId};

use crate::gateway::hub::{ConnId, Frame, Hub};

pub mod nats;

/// Who should get a conversation's event.
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    pub conversation_id: ConversationId,
    pub kind: ConversationKind,
    /// The current members, as the publishing node's membership cache knows them. Other nodes
    /// use their own cache for a group (so the frame does not carry the member list).
    pub members: &'a [UserId],
    /// Skip every device of this user (e.g. the one typing).
    pub except_user: Option<UserId>,
}

/// A group's membership or settings changed: every node refreshes its membership cache before
/// it delivers the event that records the change.
#[derive(Debug, Clone, Copy)]
pub struct GroupChanged<'a> {
    pub conversation_id: ConversationId,
    /// Members after the change.
    pub members: &'a [UserId],
    /// Users who joined with this change.
    pub added: &'a [UserId],
    /// Users who left or were removed with this change; they still get its event.
    pub removed: &'a [UserId],
}

/// The state of the link to the other nodes, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerHealth {
    pub ok: bool,
    pub detail: String,
}

/// Counters for `/metrics` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrokerStats {
    /// Messages handed to the inter-node link.
    pub published: u64,
    /// Messages received from other nodes.
    pub received: u64,
    /// Messages that could not be published (link down, queue full).
    pub dropped: u64,
}

#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// Delivers `frame` to every device of `users` (except connection `except` on this node).
    fn publish_users(&self, users: &[UserId], frame: Frame, except: Option<ConnId>);
    /// Delivers a conversation's event to its members' devices.
    fn publish_conversation(&self, audience: Audience<'_>, frame: Frame, except: Option<ConnId>);
    /// Publishes a group change and its event (membership caches are refreshed everywhere).
    fn publish_group_change(&self, change: GroupChanged<'_>, frame: Frame, except: Option<ConnId>);
    /// Closes the connections of one device, wherever they are (except connection `except`).
    fn close_device(&self, user: UserId, device: DeviceId, code: u16, except: Option<ConnId>);
    /// Whether the user has a connection anywhere.
    fn is_online(&self, user: UserId) -> bool;
    /// The user's first connection on this node opened: start receiving what it needs.
    async fn attach(&self, user: UserId);
    /// The user's last connection on this node closed.
    async fn detach(&self, user: UserId);
    /// Whether events reach the other nodes right now.
    fn health(&self) -> BrokerHealth;
    fn stats(&self) -> BrokerStats;
}

/// The in-process broker: one node, delivery straight into the hub.
pub struct LocalBroker {
    hub: Arc<Hub>,
}

impl LocalBroker {
    pub fn new(hub: Arc<Hub>) -> LocalBroker {
        LocalBroker { hub }
    }
}

/// The members to deliver to, without `except_user`.
pub(crate) fn recipients(audience: &Audience<'_>) -> Vec<UserId> {
    audience
        .members
        .iter()
        .copied()
        .filter(|&u| Some(u) != audience.except_user)
        .collect()
}

/// Members after a change plus those removed by it.
pub(crate) fn change_recipients(change: &GroupChanged<'_>) -> Vec<UserId> {
    let mut users: Vec<UserId> = change
        .members
        .iter()
        .chain(change.removed)
        .copied()
        .collect();
    users.sort_unstable();
    users.dedup();
    users
}

#[async_trait]
impl Broker for LocalBroker {
    fn publish_users(&self, users: &[UserId], frame: Frame, except: Option<ConnId>) {
        self.hub.deliver(users, &frame, except);
    }

    fn publish_conversation(&self, audience: Audience<'_>, frame: Frame, except: Option<ConnId>) {
        self.hub.deliver(&recipients(&audience), &frame, except);
    }

    fn publish_group_change(&self, change: GroupChanged<'_>, frame: Frame, except: Option<ConnId>) {
        self.hub
            .deliver(&change_recipients(&change), &frame, except);
    }

    fn close_device(&self, user: UserId, device: DeviceId, code: u16, except: Option<ConnId>) {
        self.hub.close_device(user, device, code, except);
    }

    fn is_online(&self, user: UserId) -> bool {
        self.hub.is_online(user)
    }

    async fn attach(&self, _user: UserId) {}

    async fn detach(&self, _user: UserId) {}

    fn health(&self) -> BrokerHealth {
        BrokerHealth {
            ok: true,
            detail: "in-process".into(),
        }
    }

    fn stats(&self) -> BrokerStats {
        BrokerStats::default()
    }
}
