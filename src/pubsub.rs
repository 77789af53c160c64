//! Pub/sub state: channel and pattern subscriptions and message delivery.
//!
//! (Stub: the pub/sub work fills this in; keyspace notifications publish through
//! [`PubSub::publish`].)

/// Every subscription of the server.
#[derive(Debug, Default)]
pub struct PubSub {}

impl PubSub {
    /// Delivers `message` to the subscribers of `channel` (and of patterns matching it);
    /// returns how many received it. Never waits for a subscriber.
    pub fn publish(&self, _channel: &[u8], _message: &[u8]) -> usize {
        0
    }
}
