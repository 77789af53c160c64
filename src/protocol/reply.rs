//! Replies as values, encoded straight into a connection's output buffer in RESP2 or RESP3.
//!
//! Handlers build a [`Reply`]; the connection encodes it in the protocol the client chose with
//! `HELLO`. RESP3-only shapes degrade the way Redis degrades them for RESP2 clients: maps
//! become flat arrays, sets arrays, doubles bulk strings, booleans integers, both nulls `$-1`
//! or `*-1`. Keeping replies as values (rather than bytes) lets MULTI/EXEC collect them and
//! lets scripts read them back without re-parsing.

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};

use super::long_double::LongDouble;
use super::number::format_g17;

/// One reply frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// A simple string: `+text`.
    Status(Cow<'static, str>),
    /// An error: `-text` (text carries the code, e.g. `ERR …`).
    Error(Cow<'static, str>),
    /// `:n`, an integer.
    Int(i64),
    /// `$len`, a bulk string.
    Bulk(Bytes),
    /// Null bulk string: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// Null array: `*-1` in RESP2, `_` in RESP3.
    NilArray,
    /// `*n`, an array.
    Array(Vec<Reply>),
    /// `%` in RESP3; a flat array of key, value, … in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// `~` in RESP3; an array in RESP2.
    Set(Vec<Reply>),
    /// `,` in RESP3; a bulk string formatted with `%.17g` in RESP2.
    Double(f64),
    /// A double printed like `%.17Lf` with trailing zeros trimmed (Redis's "human" long
    /// double, GEOPOS coordinates): `,` in RESP3, a bulk string in RESP2.
    HumanDouble(f64),
    /// `#t`/`#f` in RESP3; `:1`/`:0` in RESP2.
    Bool(bool),
    /// `=` with a three-letter format in RESP3; a bulk string in RESP2.
    Verbatim(&'static str, Bytes),
    /// `>` in RESP3 (out-of-band); an array in RESP2.
    Push(Vec<Reply>),
    /// `(` in RESP3; a bulk string in RESP2 (only scripts produce it: `{big_number=…}`).
    BigNumber(Bytes),
    /// Several frames answering one command, written one after another (SUBSCRIBE a b
    /// confirms each channel in a frame of its own). Never nested inside another reply.
    Multi(Vec<Reply>),
}

impl Reply {
    /// A bulk string.
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    /// A simple string (`+text`).
    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    /// An error (`-text`; the text carries the code).
    pub fn error(s: &'static str) -> Reply {
        Reply::Error(Cow::Borrowed(s))
    }

    /// A bulk string, or `Nil` for `None`.
    pub fn opt_bulk(b: Option<Bytes>) -> Reply {
        b.map_or(Reply::Nil, Reply::Bulk)
    }

    /// An array of bulk strings.
    pub fn bulks<I: IntoIterator<Item = Bytes>>(items: I) -> Reply {
        Reply::Array(items.into_iter().map(Reply::Bulk).collect())
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// A pub/sub frame of bulk strings followed by optional further items (`message`,
    /// `subscribe` confirmations): a push in RESP3, an array in RESP2.
    pub fn push_of(words: &[&[u8]], tail: Option<Reply>) -> Reply {
        let mut items: Vec<Reply> = words
            .iter()
            .map(|w| Reply::Bulk(Bytes::copy_from_slice(w)))
            .collect();
        items.extend(tail);
        Reply::Push(items)
    }

    /// Encodes this reply for a RESP2 (`resp3 == false`) or RESP3 client.
    pub fn encode(&self, out: &mut BytesMut, resp3: bool) {
        match self {
            Reply::Ok => out.put_slice(b"+OK\r\n"),
            Reply::Status(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(s) => {
                // Redis never lets an error text break the frame: newlines become spaces.
                out.put_u8(b'-');
                out.extend(
                    s.bytes()
                        .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
                );
                out.put_slice(b"\r\n");
            }
            Reply::Int(n) => int_line(out, b':', *n),
            Reply::Bulk(b) => bulk(out, b),
            Reply::Nil => out.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NilArray => out.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => {
                int_line(out, b'*', items.len() as i64);
                for r in items {
                    r.encode(out, resp3);
                }
            }
            Reply::Map(pairs) => {
                if resp3 {
                    int_line(out, b'%', pairs.len() as i64);
                } else {
                    int_line(out, b'*', pairs.len() as i64 * 2);
                }
                for (k, v) in pairs {
                    k.encode(out, resp3);
                    v.encode(out, resp3);
                }
            }
            Reply::Set(items) | Reply::Push(items) => {
                let tag = match (self, resp3) {
                    (_, false) => b'*',
                    (Reply::Set(_), true) => b'~',
                    _ => b'>',
                };
                int_line(out, tag, items.len() as i64);
                for r in items {
                    r.encode(out, resp3);
                }
            }
            Reply::Multi(frames) => {
                for r in frames {
                    r.encode(out, resp3);
                }
            }
            Reply::Double(d) => {
                let text = format_g17(*d);
                if resp3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::HumanDouble(d) => {
                let text =
                    LongDouble::from_f64(*d).map_or_else(|| format_g17(*d), |l| l.to_human());
                if resp3 {
                    line(out, b',', text.as_bytes());
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) => {
                if resp3 {
                    out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
                } else {
                    out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" });
                }
            }
            Reply::BigNumber(digits) => {
                if resp3 {
                    line(out, b'(', digits);
                } else {
                    bulk(out, digits);
                }
            }
            Reply::Verbatim(fmt, data) => {
                if resp3 {
                    int_line(out, b'=', (data.len() + 4) as i64);
                    out.put_slice(fmt.as_bytes());
                    out.put_u8(b':');
                    out.put_slice(data);
                    out.put_slice(b"\r\n");
                } else {
                    bulk(out, data);
                }
            }
        }
    }
}

fn line(out: &mut BytesMut, tag: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(tag);
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

fn int_line(out: &mut BytesMut, tag: u8, n: i64) {
    let mut buf = itoa::Buffer::new();
    line(out, tag, buf.format(n).as_bytes());
}

fn bulk(out: &mut BytesMut, data: &[u8]) {
    int_line(out, b'$', data.len() as i64);
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, resp3: bool) -> String {
        let mut out = BytesMut::new();
        r.encode(&mut out, resp3);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn nulls_differ_by_protocol() {
        assert_eq!(enc(&Reply::Nil, false), "$-1\r\n");
        assert_eq!(enc(&Reply::NilArray, false), "*-1\r\n");
        assert_eq!(enc(&Reply::Nil, true), "_\r\n");
        assert_eq!(enc(&Reply::NilArray, true), "_\r\n");
    }

    #[test]
    fn maps_flatten_in_resp2() {
        let m = Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))]);
        assert_eq!(enc(&m, true), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, false), "*2\r\n$1\r\na\r\n:1\r\n");
    }

    #[test]
    fn doubles_bools_verbatim_sets() {
        assert_eq!(enc(&Reply::Double(1.5), true), ",1.5\r\n");
        assert_eq!(enc(&Reply::Double(1.5), false), "$3\r\n1.5\r\n");
        assert_eq!(
            enc(&Reply::HumanDouble(13.361389338970184), true),
            ",13.36138933897018433\r\n"
        );
        assert_eq!(enc(&Reply::HumanDouble(180.0), false), "$3\r\n180\r\n");
        assert_eq!(enc(&Reply::HumanDouble(-0.0), false), "$1\r\n0\r\n");
        assert_eq!(enc(&Reply::Bool(true), true), "#t\r\n");
        assert_eq!(enc(&Reply::Bool(false), false), ":0\r\n");
        let v = Reply::Verbatim("txt", Bytes::from("hi"));
        assert_eq!(enc(&v, true), "=6\r\ntxt:hi\r\n");
        assert_eq!(enc(&v, false), "$2\r\nhi\r\n");
        let s = Reply::Set(vec![Reply::Int(1)]);
        assert_eq!(enc(&s, true), "~1\r\n:1\r\n");
        assert_eq!(enc(&s, false), "*1\r\n:1\r\n");
    }

    #[test]
    fn multi_writes_frames_back_to_back() {
        let sub = |c: &str, n| Reply::push_of(&[b"subscribe", c.as_bytes()], Some(Reply::Int(n)));
        let m = Reply::Multi(vec![sub("a", 1), sub("b", 2)]);
        assert_eq!(
            enc(&m, false),
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        );
        assert!(enc(&m, true).starts_with(">3\r\n$9\r\nsubscribe\r\n"));
    }

    #[test]
    fn error_text_never_breaks_the_frame() {
        let e = Reply::Error(Cow::Owned("ERR a\r\nb".into()));
        assert_eq!(enc(&e, false), "-ERR a  b\r\n");
    }
}
