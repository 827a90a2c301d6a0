//! The registry of this node's live connections, by user. Fan-out pushes pre-encoded frames
//! into each connection's bounded outbox and never waits: a full outbox closes that connection
//! with the "slow consumer" code, and the device catches up by sync when it reconnects.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;

use confab_proto::{DeviceId, UserId};
use dashmap::DashMap;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub type ConnId = u64;

/// An encoded text frame; clones share the bytes, so one fan-out encodes once.
pub type Frame = axum::extract::ws::Utf8Bytes;

/// One authenticated WebSocket connection, as the rest of the server sees it.
#[derive(Debug)]
pub struct Conn {
    pub id: ConnId,
    pub user_id: UserId,
    pub device_id: DeviceId,
    outbox: mpsc::Sender<Frame>,
    /// Cancelled to close the connection at once with `close_code`.
    kill: CancellationToken,
    close_code: Arc<AtomicU16>,
}

/// What happened to a frame pushed into an outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    Queued,
    /// The outbox was full: the connection is being closed.
    Overflow,
    /// The connection is already gone.
    Gone,
}

impl Conn {
    pub fn new(
        id: ConnId,
        user_id: UserId,
        device_id: DeviceId,
        outbox: mpsc::Sender<Frame>,
    ) -> Conn {
        Conn {
            id,
            user_id,
            device_id,
            outbox,
            kill: CancellationToken::new(),
            close_code: Arc::new(AtomicU16::new(0)),
        }
    }

    pub fn push(&self, frame: Frame) -> Push {
        match self.outbox.try_send(frame) {
            Ok(()) => Push::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close(confab_proto::close::SLOW_CONSUMER);
                Push::Overflow
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Push::Gone,
        }
    }

    /// Closes the connection with `code`; the first code given wins.
    pub fn close(&self, code: u16) {
        let _ = self
            .close_code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
        self.kill.cancel();
    }

    pub fn killed(&self) -> &CancellationToken {
        &self.kill
    }

    /// The code to close with when the connection ends on its own (flushing its outbox first).
    pub fn set_final_code(&self, code: u16) {
        let _ = self
            .close_code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Handles for the writer task, which must not keep the outbox sender alive.
    pub fn writer_handles(&self) -> (CancellationToken, Arc<AtomicU16>) {
        (self.kill.clone(), self.close_code.clone())
    }

    pub fn close_code(&self) -> Option<u16> {
        match self.close_code.load(Ordering::Acquire) {
            0 => None,
            c => Some(c),
        }
    }
}

#[derive(Debug, Default)]
pub struct Hub {
    users: DashMap<UserId, Vec<Arc<Conn>>>,
    next_id: AtomicU64,
    /// Connections closed because their outbox overflowed.
    pub slow_consumer_disconnects: AtomicU64,
    /// Frames queued by fan-out.
    pub frames_queued: AtomicU64,
}

impl Hub {
    pub fn next_conn_id(&self) -> ConnId {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Adds a connection; true when it is the user's first (they came online).
    pub fn register(&self, conn: Arc<Conn>) -> bool {
        let mut entry = self.users.entry(conn.user_id).or_default();
        entry.push(conn);
        entry.len() == 1
    }

    /// Removes a connection; true when it was the user's last (they went offline).
    pub fn unregister(&self, conn: &Conn) -> bool {
        let mut last = false;
        self.users.remove_if_mut(&conn.user_id, |_, conns| {
            conns.retain(|c| c.id != conn.id);
            last = conns.is_empty();
            last
        });
        last
    }

    /// How many connections the user has on this node.
    pub fn user_connections(&self, user: UserId) -> usize {
        self.users.get(&user).map_or(0, |c| c.len())
    }

    pub fn is_online(&self, user: UserId) -> bool {
        self.users.get(&user).is_some_and(|c| !c.is_empty())
    }

    /// Pushes `frame` to every connection of every user in `users`, except connection
    /// `except`. Returns the number of connections it was queued on.
    pub fn deliver(&self, users: &[UserId], frame: &Frame, except: Option<ConnId>) -> usize {
        let mut queued = 0;
        for user in users {
            if let Some(conns) = self.users.get(user) {
                for c in conns.iter() {
                    if Some(c.id) == except {
                        continue;
                    }
                    match c.push(frame.clone()) {
                        Push::Queued => queued += 1,
                        Push::Overflow => {
                            self.slow_consumer_disconnects
                                .fetch_add(1, Ordering::Relaxed);
                        }
                        Push::Gone => {}
                    }
                }
            }
        }
        self.frames_queued
            .fetch_add(queued as u64, Ordering::Relaxed);
        queued
    }

    /// Closes every connection of one device (its session was revoked).
    pub fn close_device(&self, user: UserId, device: DeviceId, code: u16, except: Option<ConnId>) {
        if let Some(conns) = self.users.get(&user) {
            for c in conns
                .iter()
                .filter(|c| c.device_id == device && Some(c.id) != except)
            {
                c.close(code);
            }
        }
    }

    /// Closes every connection on this node with `code`; returns how many.
    pub fn close_all(&self, code: u16) -> usize {
        let mut n = 0;
        for entry in self.users.iter() {
            for c in entry.value() {
                c.close(code);
                n += 1;
            }
        }
        n
    }

    pub fn connection_count(&self) -> usize {
        self.users.iter().map(|e| e.value().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(hub: &Hub, user: UserId, cap: usize) -> (Arc<Conn>, mpsc::Receiver<Frame>) {
        let (tx, rx) = mpsc::channel(cap);
        let c = Arc::new(Conn::new(hub.next_conn_id(), user, 1, tx));
        hub.register(c.clone());
        (c, rx)
    }

    #[test]
    fn delivers_to_every_device_but_the_excluded_one() {
        let hub = Hub::default();
        let (a1, mut r1) = conn(&hub, 1, 4);
        let (_a2, mut r2) = conn(&hub, 1, 4);
        let (_b, mut r3) = conn(&hub, 2, 4);
        let frame = Frame::from("x");
        assert_eq!(hub.deliver(&[1, 2], &frame, Some(a1.id)), 2);
        assert!(r1.try_recv().is_err());
        assert_eq!(r2.try_recv().unwrap().as_str(), "x");
        assert_eq!(r3.try_recv().unwrap().as_str(), "x");
    }

    #[test]
    fn a_full_outbox_closes_the_connection_instead_of_growing() {
        let hub = Hub::default();
        let (c, _rx) = conn(&hub, 1, 2);
        let frame = Frame::from("x");
        assert_eq!(c.push(frame.clone()), Push::Queued);
        assert_eq!(c.push(frame.clone()), Push::Queued);
        assert_eq!(c.push(frame), Push::Overflow);
        assert!(c.killed().is_cancelled());
        assert_eq!(c.close_code(), Some(confab_proto::close::SLOW_CONSUMER));
    }

    #[test]
    fn online_follows_the_first_and_last_connection() {
        let hub = Hub::default();
        let (tx, _rx) = mpsc::channel(1);
        let a = Arc::new(Conn::new(1, 9, 1, tx.clone()));
        let b = Arc::new(Conn::new(2, 9, 2, tx));
        assert!(hub.register(a.clone()));
        assert!(!hub.register(b.clone()));
        assert!(!hub.unregister(&a));
        assert!(hub.is_online(9));
        assert!(hub.unregister(&b));
        assert!(!hub.is_online(9));
    }
}
