//! The event port between nodes. Domain code publishes pre-encoded frames addressed to users;
//! the broker gets them to every node where those users have connections. The embedded broker
//! is this process's own hub.

use std::sync::Arc;

use confab_proto::{DeviceId, UserId};

use crate::gateway::hub::{ConnId, Frame, Hub};

pub trait Broker: Send + Sync + 'static {
    /// Delivers `frame` to every device of `users` (except connection `except` on this node).
    fn publish(&self, users: &[UserId], frame: Frame, except: Option<ConnId>);
    /// Closes the connections of one device, wherever they are (except connection `except`).
    fn close_device(&self, user: UserId, device: DeviceId, code: u16, except: Option<ConnId>);
    /// Whether the user has a connection anywhere.
    fn is_online(&self, user: UserId) -> bool;
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

impl Broker for LocalBroker {
    fn publish(&self, users: &[UserId], frame: Frame, except: Option<ConnId>) {
        self.hub.deliver(users, &frame, except);
    }

    fn close_device(&self, user: UserId, device: DeviceId, code: u16, except: Option<ConnId>) {
        self.hub.close_device(user, device, code, except);
    }

    fn is_online(&self, user: UserId) -> bool {
        self.hub.is_online(user)
    }
}
