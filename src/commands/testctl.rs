//! `TESTCTL`: the test controls over the wire (clock, seed, faults, connection drops), for
//! test suites in any language. The rows exist only with `enable-test-controls yes`; without
//! it `admit` answers them as unknown commands and `COMMAND` hides them. The design, the
//! syntax and the guarantees are in [`crate::testctl`]'s docs; this file is parsing and
//! replies over [`crate::testctl::Faults`], the clock and the random source.

use std::time::Duration;

use super::connection::help_reply;
use super::table::*;
use super::Ctx;
use crate::protocol::{Args, CmdError, CmdResult, Reply};

/// Test-only, never from scripts or replicated; allowed while loading so a test can drive a
/// server at any time.
const F: u32 = TEST_CONTROL | ADMIN | NOSCRIPT | LOADING | STALE;

pub(super) const COMMANDS: &[CommandSpec] = &[CommandSpec {
    flags: TEST_CONTROL,
    ..CommandSpec::container(
        "testctl",
        0,
        "A container for emberkv's test controls (with enable-test-controls yes)",
        SUBS,
    )
    .doc(
        "A container for emberkv's test controls (with enable-test-controls yes)",
        "7.0.0",
    )
}];

const SUBS: &[CommandSpec] = &[
    CommandSpec::new("testctl|clock", -3, F, 0, Keys::NONE, clock).doc(
        "Reads, moves, sets or releases the server clock (GET | ADVANCE ms | SET ms | RESUME).",
        "7.0.0",
    ),
    CommandSpec::new("testctl|seed", 3, F, 0, Keys::NONE, seed)
        .doc("Reseeds the server's random source.", "7.0.0"),
    CommandSpec::new("testctl|fail", -3, F, 0, Keys::NONE, fail).doc(
        "Fails the next commands (optionally only those named) with a chosen error.",
        "7.0.0",
    ),
    CommandSpec::new("testctl|delay", 3, F, 0, Keys::NONE, delay)
        .doc("Delays every reply by some milliseconds (0: off).", "7.0.0"),
    CommandSpec::new("testctl|stall", 2, F, 0, Keys::NONE, stall).doc(
        "Stops answering requests (connections are still accepted) until RELEASE.",
        "7.0.0",
    ),
    CommandSpec::new("testctl|release", 2, F, 0, Keys::NONE, release)
        .doc("Ends a stall: held requests run.", "7.0.0"),
    CommandSpec::new("testctl|drop", 2, F, 0, Keys::NONE, drop_all)
        .doc("Closes every other client connection now.", "7.0.0"),
    CommandSpec::new("testctl|refuse", 3, F, 0, Keys::NONE, refuse).doc(
        "Refuses new connections for some milliseconds (0: accept again).",
        "7.0.0",
    ),
    CommandSpec::new("testctl|slowfsync", 3, F, 0, Keys::NONE, slowfsync).doc(
        "Makes every AOF fsync take some milliseconds longer, as a busy disk (0: off).",
        "7.0.0",
    ),
    CommandSpec::new("testctl|reset", 2, F, 0, Keys::NONE, reset)
        .doc("Undoes every fault and resumes the wall clock.", "7.0.0"),
    CommandSpec::new("testctl|help", 2, F, 0, Keys::NONE, help).doc(
        "Returns helpful text about the different subcommands.",
        "7.0.0",
    ),
];

/// The handlers' own gate, in case a path other than `admit` (a script engine) resolves a
/// row: without `enable-test-controls` it is an unknown command there too.
fn gate(ctx: &Ctx, args: &Args) -> Result<(), CmdError> {
    if ctx.shared.test_controls {
        Ok(())
    } else {
        Err(CmdError::unknown_command(args.argv()))
    }
}

/// A non-negative integer argument (milliseconds, counts).
fn next_u64(args: &mut Args) -> Result<u64, CmdError> {
    match args.next_i64()? {
        n if n >= 0 => Ok(n as u64),
        _ => Err(CmdError::new("ERR value is out of range, must be positive")),
    }
}

/// `TESTCTL CLOCK GET | ADVANCE ms | SET ms | RESUME` — O(1).
fn clock(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    let clock = ctx.shared.clock();
    let op = args.next_bytes()?.to_ascii_lowercase();
    let reply = match op.as_slice() {
        b"get" => Reply::Int(clock.now_ms() as i64),
        b"advance" => {
            let ms = next_u64(args)?;
            clock.advance(ms);
            Reply::Int(clock.now_ms() as i64)
        }
        b"set" => {
            clock.set(next_u64(args)?);
            Reply::Ok
        }
        b"resume" => {
            clock.resume();
            Reply::Ok
        }
        _ => return Err(CmdError::syntax()),
    };
    args.finish()?;
    Ok(reply)
}

/// `TESTCTL SEED n` — O(1). `n` is any 64-bit integer.
fn seed(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    let n = args.next_i64()?;
    ctx.shared.rng().reseed(n as u64);
    Ok(Reply::Ok)
}

/// `TESTCTL FAIL count [ERR text | ERROR line] [COMMANDS name ...]` — O(names). `ERR text`
/// answers `-ERR text`; `ERROR line` answers `-line` as given (`LOADING …`, `READONLY …`).
fn fail(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    let count = next_u64(args)?;
    let mut error = String::new();
    let mut names: Vec<String> = Vec::new();
    while !args.is_empty() {
        let opt = args.next_bytes()?.to_ascii_lowercase();
        match opt.as_slice() {
            b"err" => {
                let text = args.next_bytes()?;
                error = format!("ERR {}", String::from_utf8_lossy(&text));
            }
            b"error" => error = String::from_utf8_lossy(&args.next_bytes()?).into_owned(),
            b"commands" => {
                if args.is_empty() {
                    return Err(CmdError::syntax());
                }
                names.extend(
                    args.rest()
                        .iter()
                        .map(|n| String::from_utf8_lossy(n).into_owned()),
                );
            }
            _ => return Err(CmdError::syntax()),
        }
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    ctx.shared.faults.fail_next_commands(count, &error, &refs);
    Ok(Reply::Ok)
}

/// `TESTCTL DELAY ms` — O(1).
fn delay(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    let ms = next_u64(args)?;
    ctx.shared.faults.delay(Duration::from_millis(ms));
    Ok(Reply::Ok)
}

/// `TESTCTL SLOWFSYNC ms` — O(1).
fn slowfsync(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    let ms = next_u64(args)?;
    ctx.shared.faults.slow_fsync(Duration::from_millis(ms));
    Ok(Reply::Ok)
}

/// `TESTCTL STALL` — O(1).
fn stall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    ctx.shared.faults.stall();
    Ok(Reply::Ok)
}

/// `TESTCTL RELEASE` — O(1).
fn release(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    ctx.shared.faults.release();
    Ok(Reply::Ok)
}

/// `TESTCTL DROP` — O(clients): every connection but the caller's is closed now, through
/// the CLIENT KILL path; replies how many.
fn drop_all(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    let n = crate::testctl::drop_connections(ctx.shared, Some(ctx.session.id));
    Ok(Reply::Int(n as i64))
}

/// `TESTCTL REFUSE ms` — O(1); 0 accepts again.
fn refuse(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    match next_u64(args)? {
        0 => ctx.shared.faults.accept_connections(),
        ms => ctx
            .shared
            .faults
            .refuse_connections(Some(Duration::from_millis(ms))),
    }
    Ok(Reply::Ok)
}

/// `TESTCTL RESET` — O(1): every fault undone, the clock back on the wall clock.
fn reset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    ctx.shared.faults.reset();
    ctx.shared.clock().resume();
    Ok(Reply::Ok)
}

/// `TESTCTL HELP`.
fn help(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    gate(ctx, args)?;
    Ok(help_reply(
        "TESTCTL",
        &[
            ("CLOCK GET", "Return the server time in milliseconds."),
            (
                "CLOCK ADVANCE <ms>",
                "Freeze the clock (at the current time the first time) and move it forward.",
            ),
            (
                "CLOCK SET <ms>",
                "Freeze the clock at <ms> since the Unix epoch.",
            ),
            ("CLOCK RESUME", "Follow the wall clock again."),
            (
                "SEED <n>",
                "Reseed the random source (RANDOMKEY, SPOP, eviction...).",
            ),
            (
                "FAIL <count> [ERR <text>|ERROR <line>] [COMMANDS <name> ...]",
                "Fail the next <count> commands (only those named) with an error; 0 disarms.",
            ),
            (
                "DELAY <ms>",
                "Delay every reply by <ms> milliseconds; 0 disables.",
            ),
            ("STALL", "Stop answering requests until RELEASE."),
            ("RELEASE", "Answer requests again."),
            ("DROP", "Close every other client connection now."),
            (
                "REFUSE <ms>",
                "Refuse new connections for <ms> milliseconds; 0 accepts.",
            ),
            (
                "SLOWFSYNC <ms>",
                "Make every AOF fsync take <ms> milliseconds longer (a busy disk); 0 disables.",
            ),
            ("RESET", "Undo every fault and follow the wall clock again."),
            ("HELP", "Print this help."),
        ],
    ))
}
