//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB.
//!
//! Parsing and replies only; the registry and delivery live in [`crate::pubsub`], a client's
//! own subscriptions in its session. Confirmations are one frame per channel: a RESP3 push
//! (`>3`) or a RESP2 array.
//!
//! SUBSCRIBE's confirmations go out through the client's own outbox, each pushed *before* its
//! channel is registered: a message published the moment the channel is registered is then
//! queued behind the confirmation, so a client never sees a message before it learned of its
//! subscription (Redis gets that order for free from its single thread). Unsubscribe
//! confirmations are plain [`Reply::Multi`] replies: the connection writes what is queued
//! before a command's reply, so messages that arrived before the unsubscription come first.

use bytes::{Bytes, BytesMut};

use super::connection::help_reply;
use super::table::*;
use super::Ctx;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::pubsub::Kind;
use crate::session::{Outbound, Session};

const SUB_FLAGS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;
const PUB_FLAGS: u32 = PUBSUB | LOADING | STALE | FAST;
const INFO_FLAGS: u32 = PUBSUB | LOADING | STALE;
const SHARD_KEYS: &[KeySpec] = &[KeySpec::at(1, &["not_key"]).range(-1, 1, 0)];

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB_FLAGS, 0, Keys::NONE, subscribe)
        .doc("Listens for messages published to channels.", "2.0.0"),
    CommandSpec::new("unsubscribe", -1, SUB_FLAGS, 0, Keys::NONE, unsubscribe)
        .doc("Stops listening to messages posted to channels.", "2.0.0"),
    CommandSpec::new("psubscribe", -2, SUB_FLAGS, 0, Keys::NONE, psubscribe).doc(
        "Listens for messages published to channels matching patterns.",
        "2.0.0",
    ),
    CommandSpec::new("punsubscribe", -1, SUB_FLAGS, 0, Keys::NONE, punsubscribe).doc(
        "Stops listening to messages published to channel patterns.",
        "2.0.0",
    ),
    CommandSpec::new("publish", 3, PUB_FLAGS, 0, Keys::NONE, publish)
        .doc("Posts a message to a channel.", "2.0.0"),
    CommandSpec::new("ssubscribe", -2, SUB_FLAGS, 0, Keys::ALL, ssubscribe)
        .key_specs(SHARD_KEYS)
        .doc("Listens for messages published to shard channels.", "7.0.0"),
    CommandSpec::new("sunsubscribe", -1, SUB_FLAGS, 0, Keys::ALL, sunsubscribe)
        .key_specs(SHARD_KEYS)
        .doc(
            "Stops listening to messages posted to shard channels.",
            "7.0.0",
        ),
    CommandSpec::new("spublish", 3, PUB_FLAGS, 0, Keys::ONE, spublish)
        .key_specs(&[KeySpec::at(1, &["not_key"])])
        .doc("Posts a message to a shard channel.", "7.0.0"),
    CommandSpec::container(
        "pubsub",
        0,
        "A container for pub/sub commands.",
        PUBSUB_SUBS,
    )
    .doc("A container for pub/sub commands.", "2.8.0"),
];

const PUBSUB_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "pubsub|channels",
        -2,
        INFO_FLAGS,
        0,
        Keys::NONE,
        pubsub_channels,
    )
    .doc("Returns the active channels.", "2.8.0"),
    CommandSpec::new("pubsub|numpat", 2, INFO_FLAGS, 0, Keys::NONE, pubsub_numpat)
        .doc("Returns a count of unique pattern subscriptions.", "2.8.0"),
    CommandSpec::new(
        "pubsub|numsub",
        -2,
        INFO_FLAGS,
        0,
        Keys::NONE,
        pubsub_numsub,
    )
    .doc("Returns a count of subscribers to channels.", "2.8.0"),
    CommandSpec::new(
        "pubsub|shardchannels",
        -2,
        INFO_FLAGS,
        0,
        Keys::NONE,
        pubsub_shardchannels,
    )
    .doc("Returns the active shard channels.", "7.0.0"),
    CommandSpec::new(
        "pubsub|shardnumsub",
        -2,
        INFO_FLAGS,
        0,
        Keys::NONE,
        pubsub_shardnumsub,
    )
    .doc(
        "Returns the count of subscribers of shard channels.",
        "7.0.0",
    ),
    CommandSpec::new(
        "pubsub|help",
        2,
        LOADING | STALE,
        0,
        Keys::NONE,
        pubsub_help,
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "6.2.0",
    ),
];

/// The confirmation verbs of each kind: (subscribe, unsubscribe).
fn verbs(kind: Kind) -> (&'static [u8], &'static [u8]) {
    match kind {
        Kind::Channel => (b"subscribe", b"unsubscribe"),
        Kind::Pattern => (b"psubscribe", b"punsubscribe"),
        Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
    }
}

fn set_of(session: &mut Session, kind: Kind) -> &mut std::collections::HashSet<Bytes> {
    match kind {
        Kind::Channel => &mut session.subs.channels,
        Kind::Pattern => &mut session.subs.patterns,
        Kind::Shard => &mut session.subs.shard_channels,
    }
}

/// The count a confirmation reports: channels + patterns, or shard channels alone.
fn count_of(session: &Session, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => session.subs.shard_channels.len() as i64,
        _ => session.subs.count() as i64,
    }
}

/// Subscribes to every name in `args`; confirmations go through the outbox (module docs).
fn subscribe_to(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    let (verb, _) = verbs(kind);
    let handle = ctx.session.handle.clone();
    let resp3 = ctx.session.resp3;
    let mut inline = Vec::new();
    for name in args.by_ref() {
        let new = set_of(ctx.session, kind).insert(name.clone());
        ctx.session.sync_subs();
        let confirm = Reply::push_of(
            &[verb, &name],
            Some(Reply::Int(count_of(ctx.session, kind))),
        );
        if ctx.session.in_exec {
            inline.push(confirm);
        } else {
            let mut out = BytesMut::new();
            confirm.encode(&mut out, resp3);
            handle.push(Outbound::Frame(out.freeze()), &ctx.shared.output);
        }
        if new {
            ctx.shared.pubsub.subscribe(kind, name, &handle);
        }
    }
    Ok(Reply::Multi(inline))
}

/// Unsubscribes from the names in `args`, or from everything of `kind` when there are none.
fn unsubscribe_from(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    let (_, verb) = verbs(kind);
    let names: Vec<Bytes> = if args.is_empty() {
        set_of(ctx.session, kind).iter().cloned().collect()
    } else {
        args.rest()
    };
    if names.is_empty() {
        return Ok(Reply::Push(vec![
            Reply::bulk(verb),
            Reply::Nil,
            Reply::Int(count_of(ctx.session, kind)),
        ]));
    }
    let id = ctx.session.id;
    let mut frames = Vec::with_capacity(names.len());
    for name in names {
        if set_of(ctx.session, kind).remove(&name) {
            ctx.shared.pubsub.unsubscribe(kind, &name, id);
        }
        let count = count_of(ctx.session, kind);
        frames.push(Reply::Push(vec![
            Reply::bulk(verb),
            Reply::Bulk(name),
            Reply::Int(count),
        ]));
    }
    ctx.session.sync_subs();
    Ok(Reply::Multi(frames))
}

/// `SUBSCRIBE channel [channel ...]` — O(N) channels.
fn subscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_to(ctx, args, Kind::Channel)
}

/// `UNSUBSCRIBE [channel ...]` — O(N) channels; all of them without arguments.
fn unsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Channel)
}

/// `PSUBSCRIBE pattern [pattern ...]` — O(N) patterns.
fn psubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_to(ctx, args, Kind::Pattern)
}

/// `PUNSUBSCRIBE [pattern ...]` — O(N) patterns; all of them without arguments.
fn punsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Pattern)
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]` — O(N) channels.
fn ssubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_to(ctx, args, Kind::Shard)
}

/// `SUNSUBSCRIBE [shardchannel ...]` — O(N) channels; all of them without arguments.
fn sunsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Shard)
}

/// `PUBLISH channel message` — O(N+M): subscribers of the channel plus patterns. Replies
/// with the number of receivers (a client matching twice counts twice).
fn publish(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    Ok(Reply::Int(
        ctx.shared.pubsub.publish(&channel, &message) as i64
    ))
}

/// `SPUBLISH shardchannel message` — O(N) subscribers.
fn spublish(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    Ok(Reply::Int(
        ctx.shared.pubsub.spublish(&channel, &message) as i64
    ))
}

/// The optional pattern of PUBSUB CHANNELS / SHARDCHANNELS.
fn optional_pattern(args: &mut Args, sub: &str) -> Result<Option<Bytes>, CmdError> {
    match args.remaining() {
        0 => Ok(None),
        1 => Ok(Some(args.next_bytes()?)),
        _ => Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try PUBSUB HELP."
        ))),
    }
}

fn channel_list(ctx: &mut Ctx, args: &mut Args, kind: Kind, sub: &str) -> CmdResult {
    let pattern = optional_pattern(args, sub)?;
    Ok(Reply::bulks(
        ctx.shared.pubsub.channels(kind, pattern.as_deref()),
    ))
}

fn numsub_of(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    // A flat array even in RESP3, as Redis 7.0 replies.
    let mut items = Vec::with_capacity(2 * args.remaining());
    for ch in args.by_ref() {
        let n = ctx.shared.pubsub.numsub(kind, &ch);
        items.push(Reply::Bulk(ch));
        items.push(Reply::Int(n as i64));
    }
    Ok(Reply::Array(items))
}

/// `PUBSUB CHANNELS [pattern]` — O(N) active channels.
fn pubsub_channels(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    channel_list(ctx, args, Kind::Channel, "channels")
}

/// `PUBSUB SHARDCHANNELS [pattern]` — O(N) active shard channels.
fn pubsub_shardchannels(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    channel_list(ctx, args, Kind::Shard, "shardchannels")
}

/// `PUBSUB NUMSUB [channel ...]` — O(N) channels asked for.
fn pubsub_numsub(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    numsub_of(ctx, args, Kind::Channel)
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]` — O(N) channels asked for.
fn pubsub_shardnumsub(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    numsub_of(ctx, args, Kind::Shard)
}

/// `PUBSUB NUMPAT` — O(1): distinct patterns with subscribers.
fn pubsub_numpat(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Int(ctx.shared.pubsub.numpat() as i64))
}

/// `PUBSUB HELP`.
fn pubsub_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "PUBSUB",
        &[
            (
                "CHANNELS [<pattern>]",
                "List the channels that have subscribers, those matching <pattern> if given.",
            ),
            (
                "NUMPAT",
                "Count the distinct patterns clients are subscribed to.",
            ),
            (
                "NUMSUB [<channel> ...]",
                "Count the subscribers of each <channel> (pattern subscribers not included).",
            ),
            (
                "SHARDCHANNELS [<pattern>]",
                "List the shard channels that have subscribers, those matching <pattern> if given.",
            ),
            (
                "SHARDNUMSUB [<shardchannel> ...]",
                "Count the subscribers of each shard <channel>.",
            ),
            ("HELP", "Print this help."),
        ],
    ))
}
