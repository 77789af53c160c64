//! Feeds arbitrary bytes, in arbitrary chunk sizes, to the request decoder: it must never
//! panic, and a request it returns must re-encode to bytes it decodes the same way.
//!
//! Run: `cargo +nightly fuzz run decode` (from the repository root).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

use emberkv::protocol::RequestParser;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).max(1);
    let mut parser = RequestParser::new(1 << 20);
    let mut buf = BytesMut::new();
    for chunk in input.chunks(cut) {
        buf.extend_from_slice(chunk);
        loop {
            match parser.next(&mut buf, false) {
                Ok(Some(args)) => {
                    let mut wire = format!("*{}\r\n", args.len()).into_bytes();
                    for a in &args {
                        wire.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                        wire.extend_from_slice(a);
                        wire.extend_from_slice(b"\r\n");
                    }
                    let mut again = BytesMut::from(&wire[..]);
                    let decoded = RequestParser::new(1 << 20).next(&mut again, false);
                    assert_eq!(decoded.ok().flatten().as_deref(), Some(&args[..]));
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
