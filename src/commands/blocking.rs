//! Serving, timing out and unblocking blocked clients: the command-side half of
//! [`crate::blocking`] (whose module docs describe the mechanism), plus the timeout argument
//! every blocking command parses.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::{resolve, run};
use crate::blocking::{State, Waiter};
use crate::protocol::long_double::{self, Parsed};
use crate::protocol::{CmdError, Reply};
use crate::session::{BlockMode, Outbound, Session};
use crate::shared::Shared;

/// Parses a blocking command's timeout in seconds (a float; 0 = forever) as Redis does:
/// `ERR timeout is not a float or out of range` for what is not a number, `ERR timeout is
/// negative` below zero — and for values too large for a millisecond count, which Redis's
/// conversion turns negative.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let not_float = || CmdError::new("ERR timeout is not a float or out of range");
    let negative = || CmdError::new("ERR timeout is negative");
    match long_double::parse(arg).ok_or_else(not_float)? {
        Parsed::Infinite => Err(negative()),
        Parsed::Finite(_) => {
            let secs = crate::protocol::number::parse_f64(arg)
                .or_else(|| std::str::from_utf8(arg).ok()?.parse::<f64>().ok())
                .ok_or_else(not_float)?;
            let ms = (secs * 1000.0).trunc();
            if !ms.is_finite() || ms >= 9.2e18 || ms <= -9.2e18 || ms < 0.0 {
                return Err(negative());
            }
            Ok((ms > 0.0).then(|| Duration::from_millis(ms as u64)))
        }
    }
}

/// Parses a BLOCK argument in milliseconds (XREAD, XREADGROUP) as Redis does: an integer
/// (`ERR timeout is not an integer or out of range`), not negative (`ERR timeout is
/// negative`); 0 = forever.
pub fn parse_timeout_ms(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let ms = crate::protocol::number::parse_i64(arg).ok_or(CmdError::new(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

/// Serves the clients blocked on `ready` keys (written by a unit that has released its
/// locks): for each key, its waiters in arrival order, while their commands find something
/// to take. Serving may write other keys (BLMOVE's destination), which join the list.
pub fn serve_ready(shared: &Shared, mut ready: Vec<(usize, Bytes)>) {
    let mut i = 0;
    while i < ready.len() {
        let (db, key) = ready[i].clone();
        i += 1;
        // Bounded: each round serves or drops one waiter, or stops.
        loop {
            let first = shared.keyspace.lock([key.as_ref()]).first_waiter(db, &key);
            let Some(id) = first else { break };
            let Some(w) = shared.blocked.get(id) else {
                // Its connection is going away and will unqueue it; skip it meanwhile.
                drop_stale(shared, db, &key, id);
                continue;
            };
            match serve_one(shared, &w) {
                Served::Yes(more) => {
                    for k in more {
                        if !ready.contains(&k) {
                            ready.push(k);
                        }
                    }
                }
                Served::No => break,
                Served::Gone => continue,
            }
        }
    }
}

enum Served {
    /// Served; these keys became ready meanwhile.
    Yes(Vec<(usize, Bytes)>),
    /// Still nothing for it: it stays first in line.
    No,
    /// It had already ended (timed out, unblocked, disconnected).
    Gone,
}

/// Runs a waiter's command again on its behalf, under the locks of its keys.
fn serve_one(shared: &Shared, w: &Arc<Waiter>) -> Served {
    let Ok(spec) = resolve(&w.argv) else {
        return Served::Gone;
    };
    let mut locked = super::lock_for_waiting(shared, spec, &w.argv);
    if w.state() != State::Waiting {
        locked.unblock(w.db, &w.keys, w.id());
        return Served::Gone;
    }
    let mut session = Session::new(w.client.clone(), true);
    session.db = w.db;
    session.resp3 = w.resp3;
    session.block_mode = BlockMode::Serving;
    let reply = run(shared, &mut session, spec, w.argv.clone(), &mut locked);
    if session.unserved {
        return Served::No;
    }
    locked.unblock(w.db, &w.keys, w.id());
    // Reply first, state second: the connection trusts the outbox once it sees `Served`.
    // The unit is on the propagation stream before that too, so a connection that must
    // wait for the AOF (`appendfsync always`) waits for this pop as well.
    w.client.push_reply(&reply, &shared.output);
    let done = locked.finish();
    w.finish(State::Served);
    drop(locked);
    end(shared, w);
    let more = done.ready.clone();
    super::after_unit(
        shared,
        crate::storage::Finished {
            events: done.events,
            ready: Vec::new(),
        },
    );
    Served::Yes(more)
}

/// Forgets a waiter and wakes its connection.
fn end(shared: &Shared, w: &Waiter) {
    shared.blocked.remove(w.id());
    w.client.meta.lock().blocked = false;
    w.client.push(Outbound::Wake, &shared.output);
}

fn drop_stale(shared: &Shared, db: usize, key: &Bytes, id: u64) {
    let mut locked = shared.keyspace.lock([key.as_ref()]);
    locked.unblock(db, std::slice::from_ref(key), id);
}

/// Ends a wait in state `to` if it is still waiting (under its keys' locks, so exactly one
/// of serve / timeout / unblock / disconnect wins). Returns whether it did.
fn end_wait(shared: &Shared, w: &Arc<Waiter>, to: State, push: Option<&Reply>) -> bool {
    let keys: Vec<&[u8]> = w.keys.iter().map(|k| k.as_ref()).collect();
    let mut locked = shared.keyspace.lock(keys);
    if w.state() != State::Waiting {
        return false;
    }
    locked.unblock(w.db, &w.keys, w.id());
    if let Some(reply) = push {
        w.client.push_reply(reply, &shared.output);
    }
    w.finish(to);
    drop(locked);
    end(shared, w);
    true
}

/// The waiter's timeout passed: true when it ended the wait (the caller answers the timeout
/// reply); false when it was served or unblocked first (its reply is in the outbox).
pub fn time_out(shared: &Shared, w: &Arc<Waiter>) -> bool {
    end_wait(shared, w, State::TimedOut, None)
}

/// The connection of a blocked client closed.
pub fn cancel(shared: &Shared, w: &Arc<Waiter>) {
    end_wait(shared, w, State::Gone, None);
    shared.blocked.remove(w.id());
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: ends another client's wait as a timeout (its
/// timeout reply) or with `-UNBLOCKED`. True when that client was blocked.
pub fn unblock_client(shared: &Shared, client: u64, error: bool) -> bool {
    let Some(w) = shared.blocked.get(client) else {
        return false;
    };
    let reply = if error {
        Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    } else {
        w.timeout_reply.clone()
    };
    end_wait(shared, &w, State::Unblocked, Some(&reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_redis() {
        let ms = |s: &str| parse_timeout(s.as_bytes()).map(|d| d.map(|d| d.as_millis()));
        assert_eq!(ms("0"), Ok(None));
        assert_eq!(ms("1"), Ok(Some(1000)));
        assert_eq!(ms("0.01"), Ok(Some(10)));
        assert_eq!(
            ms("0.0001"),
            Ok(None),
            "under a millisecond means forever, as in Redis"
        );
        let err = |s: &str| parse_timeout(s.as_bytes()).unwrap_err().text().to_string();
        assert_eq!(err("-1"), "ERR timeout is negative");
        assert_eq!(err("inf"), "ERR timeout is negative");
        assert_eq!(err("1e20"), "ERR timeout is negative");
        assert_eq!(err("abc"), "ERR timeout is not a float or out of range");
        assert_eq!(err(" 1"), "ERR timeout is not a float or out of range");
    }
}
