//! Blocked clients (BLPOP, BLMOVE, BZPOPMIN, later XREAD BLOCK…): the one mechanism every
//! blocking command uses.
//!
//! # How a client blocks
//! A blocking command runs like any other, under the locks of its keys. When none of its keys
//! can serve it, its handler calls `Ctx::block` (in `commands`), which — still under those
//! locks — queues the client on each key in the keyspace (`Locked::block_on`: per shard, in
//! arrival order), registers a [`Waiter`] here, and leaves it in the session. The connection
//! task then stops executing its pipeline and waits on its outbox, its timeout, and its
//! socket. A blocked client holds no lock.
//!
//! # How it is served
//! Any write to a key with waiters puts the key on its unit's ready list (through the effects
//! path, `Locked::signal_ready`). When the unit (a command, an EXEC, later a script) has
//! released its locks, `commands::blocking::serve_ready` takes each ready key's first waiter,
//! locks that waiter's keys, and runs the waiter's own command again on its behalf in
//! *serving* mode: if it can now pop, its reply is pushed to the waiter's outbox and it is
//! propagated as the pop it performed; if not (the data went to someone else, or the key holds
//! another type) the waiter stays queued. Waiters on one key are served in arrival order,
//! as long as the key has data.
//!
//! # How it ends
//! Exactly one of serve, timeout, `CLIENT UNBLOCK` and disconnect wins: each takes the
//! waiter's keys' locks and moves its [`State`] out of `Waiting`; the others then see it is
//! done. A served client's reply is in its outbox before its state says `Served`, so the
//! connection task, which checks the state and then drains the outbox, never resumes its
//! pipeline ahead of that reply.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;

use crate::protocol::Reply;
use crate::session::ClientHandle;

/// Where a waiter is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Still blocked.
    Waiting = 0,
    /// Its command ran and its reply is in its outbox.
    Served = 1,
    /// Its timeout (or CLIENT UNBLOCK … TIMEOUT) ended it: it answers its timeout reply.
    TimedOut = 2,
    /// CLIENT UNBLOCK … ERROR ended it: its error reply is in its outbox.
    Unblocked = 3,
    /// Its connection closed.
    Gone = 4,
}

/// One blocked client.
#[derive(Debug)]
pub struct Waiter {
    /// The blocked client.
    pub client: Arc<ClientHandle>,
    /// The database its command runs in.
    pub db: usize,
    /// Whether the client speaks RESP3 (its replies are encoded so).
    pub resp3: bool,
    /// The blocking command as sent, run again to serve it.
    pub argv: Vec<Bytes>,
    /// The keys it is queued on.
    pub keys: Vec<Bytes>,
    /// How long it waits; `None` = until served.
    pub timeout: Option<std::time::Duration>,
    /// What it answers on timeout (a nil of the command's shape).
    pub timeout_reply: Reply,
    state: AtomicU8,
}

impl Waiter {
    /// A waiter in [`State::Waiting`] for `client`'s blocking command `argv` on `keys` of `db`.
    pub fn new(
        client: Arc<ClientHandle>,
        db: usize,
        resp3: bool,
        argv: Vec<Bytes>,
        keys: Vec<Bytes>,
        timeout: Option<std::time::Duration>,
        timeout_reply: Reply,
    ) -> Self {
        Waiter {
            client,
            db,
            resp3,
            argv,
            keys,
            timeout,
            timeout_reply,
            state: AtomicU8::new(State::Waiting as u8),
        }
    }

    /// Where the wait is now.
    pub fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            0 => State::Waiting,
            1 => State::Served,
            2 => State::TimedOut,
            3 => State::Unblocked,
            _ => State::Gone,
        }
    }

    /// Ends the wait (callers hold the waiter's keys' locks, so only one end wins).
    pub fn finish(&self, state: State) {
        self.state.store(state as u8, Ordering::Release);
    }

    /// The blocked client's id.
    pub fn id(&self) -> u64 {
        self.client.id
    }
}

/// Every blocked client, by client id.
#[derive(Debug, Default)]
pub struct Blocked {
    waiters: DashMap<u64, Arc<Waiter>>,
}

impl Blocked {
    /// Registers a blocked client (by its client id).
    pub fn insert(&self, w: Arc<Waiter>) {
        self.waiters.insert(w.id(), w);
    }

    /// The blocked client with id `client`, if any.
    pub fn get(&self, client: u64) -> Option<Arc<Waiter>> {
        self.waiters.get(&client).map(|w| w.clone())
    }

    /// Forgets the blocked client `client` (no-op when absent).
    pub fn remove(&self, client: u64) {
        self.waiters.remove(&client);
    }

    /// INFO `blocked_clients`.
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Whether no client is blocked.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Whether client `client` is blocked.
    pub fn contains(&self, client: u64) -> bool {
        self.waiters.contains_key(&client)
    }
}
