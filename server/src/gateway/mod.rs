//! The WebSocket edge: authenticate, decode, enforce limits, hand each request to the domain,
//! and write responses and events back. It holds no business rules.

pub mod dispatch;
pub mod hub;
pub mod session;
