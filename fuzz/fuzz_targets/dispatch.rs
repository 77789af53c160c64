//! Runs arbitrary requests (decoded from the fuzzer's bytes) through dispatch against one
//! keyspace: no input may panic, and every reply must encode.
//!
//! Run: `cargo +nightly fuzz run dispatch` (from the repository root).
#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

use emberkv::commands::execute;
use emberkv::session::{ClientHandle, Session};
use emberkv::shared::Shared;
use emberkv::{Clock, Config};

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared::new(Config::default(), Clock::manual(1_700_000_000_000)))
}

fuzz_target!(|data: &[u8]| {
    let shared = shared();
    let handle = Arc::new(ClientHandle::new(1, "fuzz".into(), "fuzz".into(), -1, 0));
    let mut session = Session::new(handle, true);
    // Requests are separated by '\n'; arguments by ' ' (so the fuzzer finds command names).
    for line in data.split(|&b| b == b'\n').take(32) {
        let argv: Vec<Bytes> = line
            .split(|&b| b == b' ')
            .map(Bytes::copy_from_slice)
            .collect();
        let first = argv[0].to_ascii_lowercase();
        // SHUTDOWN and CLIENT KILL act on the process and other clients, not on data.
        let kill = first == b"client"
            && argv.get(1).is_some_and(|s| s.eq_ignore_ascii_case(b"kill"));
        if first == b"shutdown" || kill {
            continue;
        }
        let reply = execute(shared, &mut session, argv);
        let mut out = BytesMut::new();
        reply.encode(&mut out, session.resp3);
        assert!(!out.is_empty());
        shared.clock().advance(100);
    }
});
