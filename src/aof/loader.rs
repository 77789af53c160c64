//! Loading the append-only file at start: every file the manifest names, base first, each
//! command replayed through [`commands::execute`] by an internal session (client id 0, which
//! dispatch lets through while `loading` answers `-LOADING` to everyone else).
//!
//! The reader streams each file (a 1 MB buffer; the file is never held in memory) and
//! tracks the byte offset of the last complete command:
//! - a file that ends inside a command (or inside a `MULTI` block) is *truncated*: when it is
//!   the last file and `aof-load-truncated yes`, the incomplete tail is dropped with a
//!   warning and the file is truncated to the last good command, as Redis does; otherwise
//!   loading fails;
//! - bytes that are not the RESP multibulk form (or a `#` annotation line) are *corrupt*:
//!   loading fails with an error naming the file and the byte offset;
//! - a file the manifest names that does not exist is an error, never an empty dataset;
//! - a base file in RDB form (`aof-use-rdb-preamble yes` in Redis) is refused by name.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::manifest::{FileInfo, Kind, Manifest};
use crate::commands;
use crate::session::{ClientHandle, Session};
use crate::shared::Shared;

/// The loader's client id: never given to a real client (they start at 1).
pub const LOADER_ID: u64 = 0;

/// Longest bulk or count the loader accepts (Redis's proto-max-bulk-len ceiling).
const MAX_BULK: u64 = 1 << 40;

/// Why one file stopped being read.
enum Stop {
    /// The file ended at a command boundary.
    Eof,
    /// The file ends inside a command; the last complete one ends at this offset.
    Truncated(u64),
    /// Malformed content at this offset.
    Corrupt(u64, String),
}

/// Loads every file of `manifest` in `dir`. Returns the number of commands replayed.
pub fn load(shared: &Shared, dir: &Path, manifest: &Manifest) -> Result<u64, String> {
    let start = Instant::now();
    let files: Vec<&FileInfo> = manifest.base.iter().chain(manifest.incrs.iter()).collect();
    let mut total = 0u64;
    for f in &files {
        let path = dir.join(&f.name);
        match std::fs::metadata(&path) {
            Ok(m) => total += m.len(),
            Err(e) => {
                return Err(format!(
                    "The AOF file {} named in the manifest could not be opened: {}",
                    f.name,
                    super::io_text(&e)
                ))
            }
        }
    }
    let aof = &shared.aof;
    aof.load_total.store(total, Ordering::Relaxed);
    aof.load_done.store(0, Ordering::Relaxed);
    let handle = Arc::new(ClientHandle::new(
        LOADER_ID,
        "aof-loader".into(),
        String::new(),
        -1,
        shared.now_ms(),
    ));
    let mut session = Session::new(handle, true);
    shared.keyspace.freeze_expiry(true);
    let result = load_all(shared, dir, &files, &mut session, start);
    commands::transaction::discard_transaction(shared, &mut session);
    shared.keyspace.freeze_expiry(false);
    let commands = result?;
    let secs = start.elapsed().as_secs_f64();
    let keys: usize = (0..shared.keyspace.databases())
        .map(|db| shared.keyspace.db_stats(db, 0).0)
        .sum();
    tracing::info!(
        "DB loaded from append only file: {secs:.3} seconds ({commands} commands, {keys} keys, {:.1} MB/s)",
        total as f64 / 1e6 / secs.max(1e-6)
    );
    Ok(commands)
}

/// Replays every file in order; the number of commands replayed.
fn load_all(
    shared: &Shared,
    dir: &Path,
    files: &[&FileInfo],
    session: &mut Session,
    start: Instant,
) -> Result<u64, String> {
    let mut commands = 0u64;
    let mut done_before = 0u64;
    let last = files.len().saturating_sub(1);
    for (i, f) in files.iter().enumerate() {
        let path = dir.join(&f.name);
        if f.kind == Kind::Base {
            tracing::info!("Reading the base file {} on AOF loading...", f.name);
        }
        let (n, stop) = load_file(shared, session, &path, &f.name, done_before, start)?;
        commands += n;
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        done_before += size;
        match stop {
            Stop::Eof => {}
            Stop::Corrupt(at, why) => {
                return Err(format!(
                    "Bad file format reading the append only file {} at byte offset {at}: {why}. \
                     Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
                    f.name
                ));
            }
            Stop::Truncated(at) => {
                let truncate_ok = shared.config.read().aof_load_truncated;
                if i != last {
                    return Err(format!(
                        "Fatal error: the truncated file {} (cut at byte offset {at}) is not the last file",
                        f.name
                    ));
                }
                if !truncate_ok {
                    return Err(format!(
                        "Unexpected end of file reading the append only file {} (last complete command ends at byte offset {at}). \
                         You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. \
                         2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                        f.name
                    ));
                }
                tracing::warn!(
                    "!!! Warning: short read while loading the AOF file {}!!!",
                    f.name
                );
                tracing::warn!("!!! Truncating the AOF {} at offset {at} !!!", f.name);
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|file| file.set_len(at).and_then(|_| file.sync_all()));
                if let Err(e) = file {
                    return Err(format!(
                        "Error truncating the AOF file {}: {}",
                        f.name,
                        super::io_text(&e)
                    ));
                }
                tracing::warn!(
                    "AOF {} loaded anyway because aof-load-truncated is enabled",
                    f.name
                );
            }
        }
    }
    Ok(commands)
}

/// A reader that counts the bytes consumed.
struct Counted<R> {
    inner: BufReader<R>,
    pos: u64,
}

impl<R: Read> Counted<R> {
    /// Reads a line ending in `\n`; `None` at EOF before any byte, `Err(())` when the file
    /// ends inside the line.
    fn line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
        buf.clear();
        let n = self.inner.read_until(b'\n', buf)?;
        self.pos += n as u64;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(buf.last() == Some(&b'\n')))
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        Ok(self.inner.fill_buf()?.first().copied())
    }
}

/// Parses `<prefix><digits>\r\n`.
fn header_number(line: &[u8], prefix: u8) -> Option<u64> {
    let body = line.strip_prefix(&[prefix])?.strip_suffix(b"\r\n")?;
    if body.is_empty() || body.len() > 19 || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(body).ok()?.parse().ok()
}

fn load_file(
    shared: &Shared,
    session: &mut Session,
    path: &Path,
    name: &str,
    done_before: u64,
    start: Instant,
) -> Result<(u64, Stop), String> {
    let open_err = |e: std::io::Error| {
        format!(
            "The AOF file {name} named in the manifest could not be opened: {}",
            super::io_text(&e)
        )
    };
    let file = File::open(path).map_err(open_err)?;
    let mut r = Counted {
        inner: BufReader::with_capacity(1 << 20, file),
        pos: 0,
    };
    let io =
        |e: std::io::Error| format!("Error reading the AOF file {name}: {}", super::io_text(&e));
    // A base in RDB form starts with "REDIS".
    if r.inner.fill_buf().map_err(io)?.starts_with(b"REDIS") || name.ends_with(".rdb") {
        return Err(format!(
            "The AOF file {name} is in RDB form (written with aof-use-rdb-preamble yes); \
             emberkv only loads AOF-form files. Convert it with redis-server: \
             CONFIG SET aof-use-rdb-preamble no, then BGREWRITEAOF"
        ));
    }
    let mut line = Vec::with_capacity(64);
    let mut n = 0u64;
    // Offset where the last complete command (or the MULTI of an open transaction) began.
    let mut valid = 0u64;
    let mut multi_start: Option<u64> = None;
    let mut last_report = Instant::now();
    loop {
        let cmd_start = r.pos;
        let first = match r.peek().map_err(io)? {
            None => break,
            Some(b) => b,
        };
        if first == b'#' {
            // An annotation (`#TS:...`): skipped.
            match r.line(&mut line).map_err(io)? {
                Some(true) => {
                    if multi_start.is_none() {
                        valid = r.pos;
                    }
                    continue;
                }
                _ => return Ok((n, Stop::Truncated(multi_start.unwrap_or(valid)))),
            }
        }
        if first != b'*' {
            return Ok((
                n,
                Stop::Corrupt(cmd_start, format!("expected '*', found byte 0x{first:02x}")),
            ));
        }
        match r.line(&mut line).map_err(io)? {
            Some(true) => {}
            _ => return Ok((n, Stop::Truncated(multi_start.unwrap_or(valid)))),
        }
        let Some(argc) = header_number(&line, b'*').filter(|c| (1..=MAX_BULK).contains(c)) else {
            return Ok((
                n,
                Stop::Corrupt(cmd_start, "invalid multibulk length".into()),
            ));
        };
        let mut argv: Vec<Bytes> = Vec::with_capacity(argc.min(1024) as usize);
        for _ in 0..argc {
            let at = r.pos;
            match r.line(&mut line).map_err(io)? {
                Some(true) => {}
                _ => return Ok((n, Stop::Truncated(multi_start.unwrap_or(valid)))),
            }
            let Some(len) = header_number(&line, b'$').filter(|&l| l <= MAX_BULK) else {
                return Ok((n, Stop::Corrupt(at, "invalid bulk length".into())));
            };
            let mut data = vec![0u8; len as usize + 2];
            let mut got = 0;
            while got < data.len() {
                let k = r.inner.read(&mut data[got..]).map_err(io)?;
                if k == 0 {
                    break;
                }
                got += k;
            }
            r.pos += got as u64;
            if got < data.len() {
                return Ok((n, Stop::Truncated(multi_start.unwrap_or(valid))));
            }
            if !data.ends_with(b"\r\n") {
                return Ok((
                    n,
                    Stop::Corrupt(at, "bulk string not terminated by CRLF".into()),
                ));
            }
            data.truncate(len as usize);
            argv.push(Bytes::from(data));
        }
        if commands::lookup(&argv[0]).is_none() {
            return Err(format!(
                "Unknown command '{}' reading the append only file {name} at byte offset {cmd_start}",
                String::from_utf8_lossy(&argv[0])
            ));
        }
        let is_multi = argv[0].eq_ignore_ascii_case(b"multi");
        let is_exec = argv[0].eq_ignore_ascii_case(b"exec");
        if is_multi {
            multi_start = Some(cmd_start);
        }
        let _ = commands::execute(shared, session, argv);
        n += 1;
        if is_exec {
            multi_start = None;
        }
        if multi_start.is_none() {
            valid = r.pos;
        }
        let aof = &shared.aof;
        aof.load_done.store(done_before + r.pos, Ordering::Relaxed);
        if n.is_multiple_of(1024) && last_report.elapsed().as_secs() >= 1 {
            last_report = Instant::now();
            let done = done_before + r.pos;
            let secs = start.elapsed().as_secs_f64().max(1e-6);
            let keys: usize = (0..shared.keyspace.databases())
                .map(|db| shared.keyspace.db_stats(db, 0).0)
                .sum();
            tracing::info!(
                "Loading AOF {name}: {keys} keys loaded, {:.1} MB read, {:.1} MB/s",
                done as f64 / 1e6,
                done as f64 / 1e6 / secs
            );
        }
    }
    if let Some(at) = multi_start {
        // The file ends inside MULTI … EXEC: the transaction never ran; drop it.
        commands::transaction::discard_transaction(shared, session);
        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
        return Ok((n, Stop::Truncated(at)));
    }
    Ok((n, Stop::Eof))
}
