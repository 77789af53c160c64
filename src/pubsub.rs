//! Pub/sub state: who is subscribed to which channel, pattern and shard channel, and message
//! delivery.
//!
//! The registry maps each channel (and each shard channel) to its subscribers in a
//! [`DashMap`], so publishers on different channels rarely meet; patterns sit in one
//! `RwLock`'d map that every PUBLISH reads (there are few patterns in practice, and each is
//! glob-matched against the channel with the KEYS dialect of [`crate::storage::glob`]).
//! A client's own view of its subscriptions is [`Subscriptions`] in its session; the commands
//! in `commands/pubsub.rs` keep both directions in step.
//!
//! Delivery never touches a socket: [`PubSub::publish`] encodes the message once per protocol
//! (RESP2 array, RESP3 `>` push), shares the bytes among the subscribers, and pushes them into
//! each subscriber's outbox (see [`crate::session`]). It holds a registry lock only while
//! pushing, which takes each outbox's lock for a few instructions; a push that takes a
//! subscriber over its `client-output-buffer-limit` kills that subscriber without touching
//! the registry (its connection task unsubscribes it on the way out).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use dashmap::DashMap;
use parking_lot::RwLock;

use crate::protocol::Reply;
use crate::session::{ClientHandle, Outbound, OutputPolicy, Subscriptions};
use crate::storage::glob::glob_match;

/// The subscribers of one channel or pattern, by client id.
type Subscribers = HashMap<u64, Arc<ClientHandle>, foldhash::fast::RandomState>;

/// The three kinds of subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE channels.
    Channel,
    /// PSUBSCRIBE patterns.
    Pattern,
    /// SSUBSCRIBE shard channels.
    Shard,
}

/// Every subscription of the server.
#[derive(Debug)]
pub struct PubSub {
    channels: DashMap<Bytes, Subscribers>,
    shard_channels: DashMap<Bytes, Subscribers>,
    patterns: RwLock<HashMap<Bytes, Subscribers, foldhash::fast::RandomState>>,
    /// Output limits and the clock pushes are checked with (shared with `Shared`).
    output: Arc<OutputPolicy>,
}

impl Default for PubSub {
    fn default() -> Self {
        PubSub::new(Arc::new(OutputPolicy::default()))
    }
}

impl PubSub {
    /// An empty registry whose pushes follow `output`'s limits.
    pub fn new(output: Arc<OutputPolicy>) -> Self {
        PubSub {
            channels: DashMap::new(),
            shard_channels: DashMap::new(),
            patterns: RwLock::new(HashMap::default()),
            output,
        }
    }

    /// The output-limit policy pushes are checked against.
    pub fn output(&self) -> &OutputPolicy {
        &self.output
    }

    /// Delivers `message` to the subscribers of `channel` (and of patterns matching it);
    /// returns how many received it. Never waits for a subscriber.
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        let mut n = 0;
        if let Some(subs) = self.channels.get(channel) {
            let words: [&[u8]; 3] = [b"message", channel, message];
            let mut frame = Frame::new(&words);
            for c in subs.values() {
                c.push(frame.get(c.resp3()), &self.output);
                n += 1;
            }
        }
        let patterns = self.patterns.read();
        for (pattern, subs) in patterns.iter() {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            let words: [&[u8]; 4] = [b"pmessage", pattern, channel, message];
            let mut frame = Frame::new(&words);
            for c in subs.values() {
                c.push(frame.get(c.resp3()), &self.output);
                n += 1;
            }
        }
        n
    }

    /// SPUBLISH: delivers `message` to the subscribers of shard channel `channel`.
    pub fn spublish(&self, channel: &[u8], message: &[u8]) -> usize {
        let Some(subs) = self.shard_channels.get(channel) else {
            return 0;
        };
        let words: [&[u8]; 3] = [b"smessage", channel, message];
        let mut frame = Frame::new(&words);
        for c in subs.values() {
            c.push(frame.get(c.resp3()), &self.output);
        }
        subs.len()
    }

    /// Adds `client` to the subscribers of `name`.
    pub fn subscribe(&self, kind: Kind, name: Bytes, client: &Arc<ClientHandle>) {
        match kind {
            Kind::Channel => add(&self.channels, name, client),
            Kind::Shard => add(&self.shard_channels, name, client),
            Kind::Pattern => {
                self.patterns
                    .write()
                    .entry(name)
                    .or_default()
                    .insert(client.id, client.clone());
            }
        }
    }

    /// Removes client `id` from the subscribers of `name`, dropping the entry once empty.
    pub fn unsubscribe(&self, kind: Kind, name: &[u8], id: u64) {
        match kind {
            Kind::Channel => remove(&self.channels, name, id),
            Kind::Shard => remove(&self.shard_channels, name, id),
            Kind::Pattern => {
                let mut patterns = self.patterns.write();
                if let Some(subs) = patterns.get_mut(name) {
                    subs.remove(&id);
                    if subs.is_empty() {
                        patterns.remove(name);
                    }
                }
            }
        }
    }

    /// Removes every subscription of a client (RESET, disconnect).
    pub fn unsubscribe_all(&self, id: u64, subs: &mut Subscriptions) {
        for ch in subs.channels.drain() {
            remove(&self.channels, &ch, id);
        }
        for ch in subs.shard_channels.drain() {
            remove(&self.shard_channels, &ch, id);
        }
        if !subs.patterns.is_empty() {
            let mut patterns = self.patterns.write();
            for p in subs.patterns.drain() {
                if let Some(s) = patterns.get_mut(&p) {
                    s.remove(&id);
                    if s.is_empty() {
                        patterns.remove(&p);
                    }
                }
            }
        }
    }

    /// Subscribers of a channel (PUBSUB NUMSUB) or shard channel (SHARDNUMSUB).
    pub fn numsub(&self, kind: Kind, name: &[u8]) -> usize {
        let map = match kind {
            Kind::Shard => &self.shard_channels,
            _ => &self.channels,
        };
        map.get(name).map_or(0, |s| s.len())
    }

    /// Channels (or shard channels) with subscribers (INFO `pubsub_channels`).
    pub fn channel_count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard_channels.len(),
            Kind::Pattern => self.numpat(),
            Kind::Channel => self.channels.len(),
        }
    }

    /// Distinct patterns subscribed to (PUBSUB NUMPAT).
    pub fn numpat(&self) -> usize {
        self.patterns.read().len()
    }

    /// Channels (or shard channels) with subscribers, those matching `pattern` if given.
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = match kind {
            Kind::Shard => &self.shard_channels,
            _ => &self.channels,
        };
        map.iter()
            .map(|e| e.key().clone())
            .filter(|ch| pattern.is_none_or(|p| glob_match(p, ch, false)))
            .collect()
    }
}

fn add(map: &DashMap<Bytes, Subscribers>, name: Bytes, client: &Arc<ClientHandle>) {
    map.entry(name)
        .or_default()
        .insert(client.id, client.clone());
}

fn remove(map: &DashMap<Bytes, Subscribers>, name: &[u8], id: u64) {
    map.remove_if_mut(name, |_, subs| {
        subs.remove(&id);
        subs.is_empty()
    });
}

/// A message frame encoded lazily, once per protocol, and shared by every subscriber.
struct Frame<'a> {
    words: &'a [&'a [u8]],
    encoded: [Option<Bytes>; 2],
}

impl<'a> Frame<'a> {
    fn new(words: &'a [&'a [u8]]) -> Self {
        Frame {
            words,
            encoded: [None, None],
        }
    }

    fn get(&mut self, resp3: bool) -> Outbound {
        let words = self.words;
        let b = self.encoded[resp3 as usize].get_or_insert_with(|| {
            let len: usize = words.iter().map(|w| w.len() + 16).sum();
            let mut out = BytesMut::with_capacity(len + 8);
            Reply::push_of(words, None).encode(&mut out, resp3);
            out.freeze()
        });
        Outbound::Frame(b.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64) -> Arc<ClientHandle> {
        Arc::new(ClientHandle::new(id, "a".into(), "l".into(), -1, 0))
    }

    fn drained(c: &ClientHandle) -> String {
        let mut out = BytesMut::new();
        c.outbox.drain_into(&mut out, usize::MAX);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn publish_counts_channel_and_pattern_receivers() {
        let ps = PubSub::default();
        let (a, b) = (client(1), client(2));
        ps.subscribe(Kind::Channel, Bytes::from("news"), &a);
        ps.subscribe(Kind::Pattern, Bytes::from("n*"), &a);
        ps.subscribe(Kind::Pattern, Bytes::from("n*"), &b);
        assert_eq!(ps.publish(b"news", b"hi"), 3);
        assert_eq!(ps.publish(b"other", b"hi"), 0);
        assert_eq!(
            drained(&a),
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
        assert_eq!(ps.numpat(), 1);
        assert_eq!(ps.numsub(Kind::Channel, b"news"), 1);
        assert_eq!(ps.channels(Kind::Channel, Some(b"x*")), Vec::<Bytes>::new());
        assert_eq!(ps.channels(Kind::Channel, None), vec![Bytes::from("news")]);
    }

    #[test]
    fn unsubscribe_drops_empty_entries() {
        let ps = PubSub::default();
        let a = client(1);
        let mut subs = Subscriptions::default();
        subs.channels.insert(Bytes::from("c"));
        subs.patterns.insert(Bytes::from("p*"));
        subs.shard_channels.insert(Bytes::from("s"));
        ps.subscribe(Kind::Channel, Bytes::from("c"), &a);
        ps.subscribe(Kind::Pattern, Bytes::from("p*"), &a);
        ps.subscribe(Kind::Shard, Bytes::from("s"), &a);
        assert_eq!(ps.spublish(b"s", b"m"), 1);
        assert_eq!(ps.publish(b"s", b"m"), 0);
        ps.unsubscribe_all(1, &mut subs);
        assert_eq!(subs.total(), 0);
        assert_eq!(ps.numpat(), 0);
        assert!(ps.channels(Kind::Channel, None).is_empty());
        assert!(ps.channels(Kind::Shard, None).is_empty());
        assert_eq!(ps.publish(b"c", b"m"), 0);
    }

    #[test]
    fn resp3_subscribers_get_push_frames() {
        let ps = PubSub::default();
        let a = client(1);
        let mut s = crate::session::Session::new(a.clone(), true);
        s.set_resp3(true);
        ps.subscribe(Kind::Shard, Bytes::from("s"), &a);
        ps.spublish(b"s", b"m");
        assert_eq!(
            drained(&a),
            ">3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n"
        );
    }

    #[test]
    fn a_subscriber_over_the_hard_limit_is_killed_and_its_queue_freed() {
        use crate::config::OutputLimit;
        let lim = OutputLimit {
            hard: 100,
            soft: 0,
            soft_seconds: 0,
        };
        let output = Arc::new(OutputPolicy::new(
            &[lim, lim, lim],
            crate::clock::Clock::manual(0),
        ));
        let ps = PubSub::new(output);
        let a = client(1);
        a.sub.store(1, std::sync::atomic::Ordering::Relaxed);
        ps.subscribe(Kind::Channel, Bytes::from("c"), &a);
        for _ in 0..10 {
            ps.publish(b"c", b"0123456789");
        }
        assert!(a.is_killed());
        assert_eq!(a.outbox.stats(), (0, 0));
        // Publishing still counts it until its connection unsubscribes it.
        assert_eq!(ps.publish(b"c", b"x"), 1);
    }

    #[test]
    fn soft_limit_needs_its_seconds() {
        use crate::config::OutputLimit;
        let clock = crate::clock::Clock::manual(0);
        let lim = OutputLimit {
            hard: 0,
            soft: 50,
            soft_seconds: 2,
        };
        let ps = PubSub::new(Arc::new(OutputPolicy::new(&[lim, lim, lim], clock.clone())));
        let a = client(1);
        a.sub.store(1, std::sync::atomic::Ordering::Relaxed);
        ps.subscribe(Kind::Channel, Bytes::from("c"), &a);
        for _ in 0..10 {
            ps.publish(b"c", b"0123456789");
        }
        assert!(!a.is_killed());
        clock.advance(2500);
        ps.publish(b"c", b"0123456789");
        assert!(a.is_killed());
    }
}
