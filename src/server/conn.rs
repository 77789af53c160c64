//! One client connection: read what the socket has, execute every complete request in the
//! buffer, encode all replies into one buffer, write once (full pipelining).
//!
//! The task owns the [`Session`]; the registry holds its [`ClientHandle`] so CLIENT LIST and
//! CLIENT KILL from other connections can see and stop it. Beside the socket the task waits
//! on the handle's outbox (see `session`'s module docs): what other tasks pushed (pub/sub
//! messages…) is written in chunks, and a write stuck on a client that stopped reading is
//! abandoned as soon as the client is killed (e.g. for its output-buffer limit). Protocol errors are answered with
//! Redis's text and close this connection only.
//!
//! Statistics (see `crate::ops`): each batch reads the clock once, into the session's
//! `stat_mark` — where the time of the batch's first command starts, and the idle timeout's
//! reference — and each command then reads it once more as it ends. A wait (CLIENT PAUSE, a
//! blocked command) restarts the mark, so it is not counted as the next command's time.
//! Network byte counts go to this thread's counters.
//!
//! While a Lua script holds the server, `execute` hands a request back in
//! `Session::deferred`; the task then awaits the scripting gate (the script's end, or its
//! turning busy) without holding a worker thread, and runs the request again. Blocked-wait
//! timeouts and the WATCH cleanup of a closing connection wait for the gate the same way,
//! since both take shard locks (see `crate::scripting`).
//!
//! With `appendfsync always` (one relaxed load per batch otherwise), a batch's replies are
//! held until every write unit appended up to the end of the batch is written and fsynced
//! (`Aof::wait_synced`: the worker runs the AOF pass when it has run every ready task, as
//! Redis fsyncs at the end of its event loop's iteration): one fsync covers every connection
//! waiting.
//! If it cannot be saved, the connection closes without those replies.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::commands;
use crate::protocol::{Reply, RequestParser};
use crate::session::{ClientHandle, ReplyMode, Session};
use crate::shared::Shared;
use crate::testctl;

const READ_CHUNK: usize = 16 * 1024;
/// Replies are flushed mid-batch once this much is pending, so a huge pipeline does not
/// build an unbounded output buffer.
const FLUSH_AT: usize = 1024 * 1024;
/// A timer deadline that stands for "not armed".
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);
/// How often an idle connection wakes to check its idle timeout (and whether CONFIG SET
/// changed it), like Redis's once-a-second client cron.
const IDLE_CHECK: Duration = Duration::from_secs(1);

pub(super) async fn serve(
    mut socket: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    shared
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
    let epoch = shared.config_epoch.load(Ordering::Acquire);
    let (maxclients, requirepass, timeout, max_bulk, qbuf_limit) = {
        let c = shared.config.read();
        (
            c.maxclients,
            c.requirepass.clone(),
            c.timeout,
            c.proto_max_bulk_len,
            c.client_query_buffer_limit,
        )
    };
    if shared.clients.len() >= maxclients {
        shared
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = socket
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let laddr = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    #[cfg(unix)]
    let fd = std::os::fd::AsRawFd::as_raw_fd(&socket) as i64;
    #[cfg(not(unix))]
    let fd = -1;
    let id = shared.next_client_id();
    let handle = Arc::new(ClientHandle::new(
        id,
        peer.to_string(),
        laddr,
        fd,
        shared.now_ms(),
    ));
    shared.clients.insert(id, handle.clone());
    let mut session = Session::new(handle.clone(), requirepass.is_none());
    let mut parser = RequestParser::new(max_bulk);
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut wbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut live = Live {
        epoch,
        idle: (timeout > 0).then(|| Duration::from_secs(timeout)),
        qbuf_limit,
    };
    // When the client last sent something, as a raw `crate::ops::ticks` reading.
    let mut last_io = crate::ops::ticks();
    // Built once and polled by reference in every read: re-creating notification futures
    // per read showed up in profiles of the request loop.
    let killer = handle.clone();
    let closed = async move {
        tokio::select! {
            _ = killer.killed() => {}
            _ = stop.changed() => {}
        }
    };
    tokio::pin!(closed);
    // Not reset per read (that costs a timer-wheel update): it fires at most once a second
    // and compares the time of the last read with the current timeout.
    let idle_timer = tokio::time::sleep(live.idle.map_or(IDLE_CHECK, |d| d.min(IDLE_CHECK)));
    tokio::pin!(idle_timer);

    // The outbox's wake-up, re-armed each time it fires (see `session`'s module docs).
    let outbox_wake = handle.outbox.notified();
    tokio::pin!(outbox_wake);
    // While blocked (BLPOP…): the wait, and its timeout. The pipeline is not read meanwhile.
    let mut blocked: Option<Arc<crate::blocking::Waiter>> = None;
    let block_timer = tokio::time::sleep(NEVER);
    tokio::pin!(block_timer);

    'conn: loop {
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 2 {
            rbuf.reserve(READ_CHUNK);
        }
        let event = tokio::select! {
            biased;
            r = socket.read_buf(&mut rbuf) => Event::Read(r),
            _ = &mut outbox_wake => Event::Outbox,
            _ = &mut closed => Event::Closed,
            _ = &mut block_timer, if blocked.as_ref().is_some_and(|w| w.timeout.is_some()) => {
                Event::BlockTimeout
            }
            _ = &mut idle_timer => Event::Idle,
        };
        match event {
            Event::Read(read) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => shared.ops.stats.net_input(n as u64),
                }
                // Killed (CLIENT KILL, TESTCTL DROP) before this batch was read: the requests
                // in it arrived after the kill and are not answered.
                if handle.is_killed() {
                    break;
                }
                // The batch's one clock read: the start of its first command's time (see
                // `crate::ops`) and the idle timeout's reference.
                session.stat_mark = crate::ops::ticks();
                last_io = session.stat_mark;
                live.refresh(&shared, &mut parser, &mut session);
            }
            Event::Closed => break,
            Event::Idle => {
                live.refresh(&shared, &mut parser, &mut session);
                let idle_for =
                    Duration::from_nanos(crate::ops::nanos_between(last_io, crate::ops::ticks()));
                // Subscribers and blocked clients are exempt from the idle timeout, as in Redis.
                let left = live.idle.map(|d| d.saturating_sub(idle_for));
                if left.is_some_and(|l| l.is_zero())
                    && session.subs.total() == 0
                    && blocked.is_none()
                {
                    break;
                }
                let wait = left
                    .filter(|l| !l.is_zero())
                    .map_or(IDLE_CHECK, |l| l.min(IDLE_CHECK));
                idle_timer
                    .as_mut()
                    .reset(tokio::time::Instant::now() + wait);
                continue;
            }
            Event::Outbox => {
                outbox_wake.set(handle.outbox.notified());
                // A wait someone else ended (served, CLIENT UNBLOCK): its reply is already in
                // the outbox once the state says so, so check the state before draining.
                let unblocked = blocked
                    .as_ref()
                    .is_some_and(|w| w.state() != crate::blocking::State::Waiting);
                // `appendfsync always`: a pop served by another client's write is answered
                // only once the AOF holds it, as the pushing client's reply is.
                let served = blocked
                    .as_ref()
                    .is_some_and(|w| w.state() == crate::blocking::State::Served);
                if served
                    && shared.aof.always()
                    && !shared
                        .aof
                        .wait_synced(&shared, shared.keyspace.propagation.aof_seq())
                        .await
                {
                    break 'conn;
                }
                loop {
                    let d = handle.outbox.drain_into(&mut wbuf, FLUSH_AT);
                    if !wbuf.is_empty()
                        && !flush(&mut socket, &mut wbuf, &shared, &handle, closed.as_mut()).await
                    {
                        break 'conn;
                    }
                    if !d.more {
                        break;
                    }
                }
                if handle.is_killed() {
                    break;
                }
                if !unblocked {
                    continue;
                }
                // Served: go on with the pipeline it held back (its time starts now).
                blocked = None;
                session.stat_mark = crate::ops::ticks();
            }
            Event::BlockTimeout => {
                // Timing out takes the key's shard: never while a script holds it.
                while shared.scripting.running() {
                    shared.scripting.wait(true).await;
                }
                if let Some(w) = blocked.take() {
                    if commands::blocking::time_out(&shared, &w) {
                        send(&mut session, &w.timeout_reply, false, &mut wbuf);
                        session.stat_mark = crate::ops::ticks();
                    } else {
                        // Served or unblocked a moment ago: its wake-up is on its way.
                        block_timer
                            .as_mut()
                            .reset(tokio::time::Instant::now() + NEVER);
                        blocked = Some(w);
                        continue;
                    }
                }
            }
        }
        // Injected stalls and delays (see `crate::testctl`): one relaxed load per batch; a
        // batch is held once, before its first request that is not TESTCTL.
        let mut hold = shared.faults.armed() & (testctl::STALL | testctl::DELAY) != 0;
        // `appendfsync always`: the AOF units already appended before this batch.
        let aof_mark = shared
            .aof
            .always()
            .then(|| shared.keyspace.propagation.aof_seq());
        while blocked.is_none() {
            match parser.next(&mut rbuf, !session.authenticated) {
                Ok(Some(argv)) => {
                    if is_http_probe(&argv) {
                        tracing::warn!(
                            "Possible SECURITY ATTACK detected: a client at {peer} sent an HTTP request. Connection aborted."
                        );
                        break 'conn;
                    }
                    if shared.ops.pause.maybe_active() {
                        if !wait_while_paused(&shared, &session, &argv, closed.as_mut()).await {
                            break 'conn;
                        }
                        // Time spent paused is not the command's.
                        session.stat_mark = crate::ops::ticks();
                    }
                    if hold && !is_testctl(&argv) {
                        hold = false;
                        if !shared.faults.hold(closed.as_mut()).await {
                            break 'conn;
                        }
                        // Time spent held is not the command's.
                        session.stat_mark = crate::ops::ticks();
                    }
                    let suppress = std::mem::take(&mut session.skip_next);
                    let mut reply = commands::execute(&shared, &mut session, argv);
                    // A script holds the server: wait for it without holding a worker,
                    // then run the command (see `crate::scripting`).
                    while let Some((argv, until_end)) = session.deferred.take() {
                        tokio::select! {
                            _ = shared.scripting.wait(until_end) => {}
                            _ = &mut closed => break 'conn,
                        }
                        // Time spent waiting for the script is not the command's.
                        session.stat_mark = crate::ops::ticks();
                        reply = commands::execute(&shared, &mut session, argv);
                    }
                    if let Some(w) = session.blocked.take() {
                        // Blocked: no reply now, and nothing more from the pipeline until
                        // the wait ends.
                        if let Some(t) = w.timeout {
                            block_timer.as_mut().reset(tokio::time::Instant::now() + t);
                        }
                        blocked = Some(w);
                        break;
                    }
                    // What this command pushed to its own client (a RESP3 subscriber
                    // publishing to itself) precedes its reply, as in Redis.
                    if handle.outbox.has_queued() {
                        handle.outbox.drain_into(&mut wbuf, usize::MAX);
                    }
                    send(&mut session, &reply, suppress, &mut wbuf);
                    if session.close_after_reply {
                        break;
                    }
                    if wbuf.len() >= FLUSH_AT
                        && (!aof_durable(&shared, aof_mark).await
                            || !flush(&mut socket, &mut wbuf, &shared, &handle, closed.as_mut())
                                .await)
                    {
                        break 'conn;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    shared.ops.record_error("ERR");
                    Reply::Error(format!("ERR {}", e.0).into()).encode(&mut wbuf, session.resp3);
                    session.close_after_reply = true;
                    break;
                }
            }
        }
        if rbuf.len() as u64 > live.qbuf_limit {
            tracing::warn!("closing client {peer} that reached max query buffer length");
            break;
        }
        {
            // Once per batch rather than per command: CLIENT LIST shows idle time in seconds.
            let mut meta = handle.meta.lock();
            meta.last_active_ms = shared.now_ms();
            meta.query_buf = rbuf.len();
            meta.query_buf_free = rbuf.capacity() - rbuf.len();
        }
        if aof_mark.is_some() && !aof_durable(&shared, aof_mark).await {
            break;
        }
        if !wbuf.is_empty()
            && !flush(&mut socket, &mut wbuf, &shared, &handle, closed.as_mut()).await
        {
            break;
        }
        if session.close_after_reply || handle.is_killed() {
            break;
        }
        // Give back memory after a burst of large requests or replies.
        if wbuf.capacity() > 4 * FLUSH_AT {
            wbuf = BytesMut::with_capacity(READ_CHUNK);
        }
    }
    let _ = socket.shutdown().await;
    // Cleaning up WATCHes and a wait takes shards: not while a script holds them.
    if blocked.is_some() || !session.watched.is_empty() {
        while shared.scripting.running() {
            shared.scripting.wait(true).await;
        }
    }
    if let Some(w) = blocked.take() {
        commands::blocking::cancel(&shared, &w);
    }
    commands::transaction::discard_transaction(&shared, &mut session);
    if session.monitor {
        shared.ops.remove_monitor(id);
    }
    shared.pubsub.unsubscribe_all(id, &mut session.subs);
    session.sync_subs();
    handle.outbox.clear();
    shared.clients.remove(&id);
}

/// CLIENT PAUSE: waits, holding no lock, while a pause covers this command (every command
/// under ALL; under WRITE, writes and commands that may replicate, including an EXEC whose
/// queue holds one). MONITOR clients are never paused, as Redis exempts them with replicas.
/// False when the client was closed meanwhile.
#[cold]
async fn wait_while_paused<F: std::future::Future<Output = ()>>(
    shared: &Shared,
    session: &Session,
    argv: &[bytes::Bytes],
    mut closed: std::pin::Pin<&mut F>,
) -> bool {
    use crate::commands::table::{MAY_REPLICATE, WRITE};
    if session.monitor {
        return true;
    }
    let Ok(spec) = commands::resolve(argv) else {
        return true;
    };
    let writes = spec.has(WRITE | MAY_REPLICATE)
        || (spec.name == "exec"
            && session.multi.as_ref().is_some_and(|m| {
                m.queue
                    .iter()
                    .any(|q| commands::resolve(q).is_ok_and(|s| s.has(WRITE | MAY_REPLICATE)))
            }));
    loop {
        let pause = &shared.ops.pause;
        let changed = pause.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let now = shared.now_ms();
        let Some((end, all)) = pause.current(now) else {
            return true;
        };
        if !all && !writes {
            return true;
        }
        let left = Duration::from_millis(end - now);
        tokio::select! {
            _ = &mut changed => {}
            _ = tokio::time::sleep(left) => {}
            _ = closed.as_mut() => return false,
        }
    }
}

/// The settings a connection keeps copies of, refreshed when CONFIG SET changed any.
struct Live {
    /// The `config_epoch` the copies were taken at.
    epoch: u64,
    idle: Option<Duration>,
    qbuf_limit: u64,
}

impl Live {
    /// Re-reads the copies once CONFIG SET has changed anything (one relaxed load when
    /// nothing changed). A password set later does not log out a connection that is already
    /// in, as in Redis; clearing the password lets everyone in.
    fn refresh(&mut self, shared: &Shared, parser: &mut RequestParser, session: &mut Session) {
        let now = shared.config_epoch.load(Ordering::Relaxed);
        if now == self.epoch {
            return;
        }
        self.epoch = now;
        let c = shared.config.read();
        parser.set_max_bulk(c.proto_max_bulk_len);
        self.qbuf_limit = c.client_query_buffer_limit;
        self.idle = (c.timeout > 0).then(|| Duration::from_secs(c.timeout));
        if c.requirepass.is_none() {
            session.authenticated = true;
        }
    }
}

/// What woke the connection task.
enum Event {
    Read(std::io::Result<usize>),
    Outbox,
    Closed,
    Idle,
    /// A blocked command's timeout passed.
    BlockTimeout,
}

/// Writes and clears the output buffer; false when the peer is gone or the client was
/// killed meanwhile (a write to a client that stopped reading can wait forever, so the kill
/// signal interrupts it). While the write is pending its bytes count as the client's
/// unflushed output for the output-buffer limits.
async fn flush<F: std::future::Future<Output = ()>>(
    socket: &mut TcpStream,
    wbuf: &mut BytesMut,
    shared: &Shared,
    handle: &ClientHandle,
    closed: std::pin::Pin<&mut F>,
) -> bool {
    handle.outbox.set_inflight(wbuf.len());
    let written = tokio::select! {
        biased;
        r = socket.write_all(wbuf) => r.is_ok(),
        _ = closed => false,
    };
    handle.outbox.set_inflight(0);
    if !written {
        return false;
    }
    shared.ops.stats.net_output(wbuf.len() as u64);
    wbuf.clear();
    true
}

/// `appendfsync always`: waits until the AOF units appended since `mark` (the count before
/// the batch) are fsynced; false when they could not be saved (the replies must not go out).
async fn aof_durable(shared: &Shared, mark: Option<u64>) -> bool {
    let Some(before) = mark else {
        return true;
    };
    let after = shared.keyspace.propagation.aof_seq();
    after == before || shared.aof.wait_synced(shared, after).await
}

/// Encodes a reply unless CLIENT REPLY says not to.
fn send(session: &mut Session, reply: &Reply, suppress: bool, out: &mut BytesMut) {
    match session.reply_mode {
        ReplyMode::Off => {}
        ReplyMode::Skip => {
            session.reply_mode = ReplyMode::On;
            session.skip_next = true;
        }
        ReplyMode::On => {
            if !suppress {
                reply.encode(out, session.resp3);
            }
        }
    }
}

/// Whether a request is a `TESTCTL` command, which injected stalls and delays let through
/// (a test must always be able to release them).
fn is_testctl(argv: &[bytes::Bytes]) -> bool {
    argv.first()
        .is_some_and(|a| a.eq_ignore_ascii_case(b"testctl"))
}

/// Redis drops connections whose first words look like an HTTP request (`POST`, `Host:`),
/// a defence against cross-protocol scripting from browsers.
fn is_http_probe(argv: &[bytes::Bytes]) -> bool {
    argv.first()
        .is_some_and(|a| a.eq_ignore_ascii_case(b"post") || a.eq_ignore_ascii_case(b"host:"))
}
