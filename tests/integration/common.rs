//! Helpers shared by the integration tests: in-process servers, `redis` crate connections,
//! error texts, and a raw RESP client for byte-level checks.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use emberkv::{BackgroundServer, Clock, Server};

/// A start time for manual clocks: 2023-11-14T22:13:20Z.
pub const T0: u64 = 1_700_000_000_000;

/// A server on an ephemeral port with the system clock.
pub fn server() -> BackgroundServer {
    Server::builder()
        .port(0)
        .start_background()
        .expect("server starts")
}

/// A server whose clock only moves with `server.clock().advance(ms)`, starting at [`T0`].
pub fn manual_server() -> BackgroundServer {
    Server::builder()
        .port(0)
        .clock(Clock::manual(T0))
        .start_background()
        .expect("server starts")
}

/// A server that requires `AUTH pw`.
pub fn password_server(pw: &str) -> BackgroundServer {
    Server::builder()
        .port(0)
        .requirepass(pw)
        .start_background()
        .expect("server starts")
}

/// A RESP2 connection.
pub fn con(s: &BackgroundServer) -> redis::Connection {
    redis::Client::open(s.url())
        .expect("valid url")
        .get_connection()
        .expect("connects")
}

/// A RESP3 connection (the client sends `HELLO 3` first).
pub fn con3(s: &BackgroundServer) -> redis::Connection {
    let url = format!("redis://{}/?protocol=resp3", s.addr());
    redis::Client::open(url)
        .expect("valid url")
        .get_connection()
        .expect("connects")
}

/// Builds a command from words.
pub fn cmd(words: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(words[0]);
    for w in &words[1..] {
        c.arg(*w);
    }
    c
}

/// Runs a command and converts its reply.
pub fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, words: &[&str]) -> T {
    cmd(words)
        .query(con)
        .unwrap_or_else(|e| panic!("{words:?} failed: {e}"))
}

/// Runs a command and returns its raw reply value.
pub fn v(con: &mut redis::Connection, words: &[&str]) -> redis::Value {
    q(con, words)
}

/// Runs a command that must fail and returns the error line as the server sent it
/// (without the leading `-`), e.g. `ERR syntax error`.
pub fn err(con: &mut redis::Connection, words: &[&str]) -> String {
    match cmd(words).query::<redis::Value>(con) {
        Ok(v) => panic!("{words:?} should fail, got {v:?}"),
        Err(e) => match (e.code(), e.detail()) {
            (Some(code), Some(detail)) => format!("{code} {detail}"),
            (Some(code), None) => code.to_string(),
            _ => panic!("{words:?}: not a server error: {e}"),
        },
    }
}

/// A bulk string reply.
pub fn bulk(s: &str) -> redis::Value {
    redis::Value::BulkString(s.as_bytes().to_vec())
}

/// Polls `f` every 10 ms until it holds, for at most `limit`; returns whether it held. For
/// the background work (active expiry) that tests cannot drive directly.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A raw TCP client that reads whole RESP frames, for protocol-level tests.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(s: &BackgroundServer) -> Raw {
        Raw::connect_to(s.addr())
    }

    /// A raw client of any server (a `redis-server` started for a differential test).
    pub fn connect_to(addr: std::net::SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a command as a multibulk request.
    /// Writes bytes; false when the server has already closed the connection.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    pub fn send_cmd(&mut self, words: &[&[u8]]) {
        let mut out = format!("*{}\r\n", words.len()).into_bytes();
        for w in words {
            out.extend_from_slice(format!("${}\r\n", w.len()).as_bytes());
            out.extend_from_slice(w);
            out.extend_from_slice(b"\r\n");
        }
        self.send(&out);
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }

    fn line(&mut self) -> Vec<u8> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                return self.buf.drain(..i + 2).collect();
            }
            assert!(self.fill(), "connection closed mid-reply");
        }
    }

    /// Reads exactly one reply frame (nested frames included) and returns its bytes.
    pub fn reply(&mut self) -> Vec<u8> {
        let line = self.line();
        let n = || -> i64 {
            std::str::from_utf8(&line[1..line.len() - 2])
                .expect("ascii length")
                .parse()
                .expect("length")
        };
        let mut out = line.clone();
        match line[0] {
            b'$' | b'=' | b'!' if n() >= 0 => {
                let want = n() as usize + 2;
                while self.buf.len() < want {
                    assert!(self.fill(), "connection closed mid-reply");
                }
                out.extend(self.buf.drain(..want));
            }
            b'*' | b'~' | b'>' | b'%' if n() >= 0 => {
                let items = if line[0] == b'%' { 2 * n() } else { n() };
                for _ in 0..items {
                    out.extend(self.reply());
                }
            }
            _ => {}
        }
        out
    }

    /// Sends a command and returns its reply as text (lossy), e.g. `"+PONG\r\n"`.
    pub fn call(&mut self, words: &[&str]) -> String {
        let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        self.send_cmd(&words);
        String::from_utf8_lossy(&self.reply()).into_owned()
    }

    /// Asserts that the server closes the connection without sending anything more.
    pub fn assert_closed(&mut self) {
        assert!(self.buf.is_empty(), "unread bytes: {:?}", self.buf);
        let mut b = [0u8; 64];
        match self.stream.read(&mut b) {
            Ok(0) => {}
            Ok(n) => panic!("expected EOF, got {:?}", String::from_utf8_lossy(&b[..n])),
            // A reset also means the server closed the connection.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected EOF, got {e}"),
        }
    }
}

/// A real `redis-server` on a free port, for differential tests; killed when dropped.
/// [`RedisOracle::start`] answers `None` (and the test skips) when it is not installed.
pub struct RedisOracle {
    child: std::process::Child,
    pub port: u16,
}

impl RedisOracle {
    pub fn start() -> Option<RedisOracle> {
        // A port the system just handed out and that nothing holds any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let spawned = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("redis-server is not installed: skipping the comparison");
                return None;
            }
            Err(e) => panic!("redis-server did not start: {e}"),
        };
        let oracle = RedisOracle { child, port };
        let up = eventually(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "redis-server did not listen on {port}");
        Some(oracle)
    }

    pub fn con(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("valid url")
            .get_connection()
            .expect("connects to redis-server")
    }
}

impl Drop for RedisOracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until INFO reports `n` blocked clients (bounded; no timing assert).
pub fn wait_blocked(c: &mut redis::Connection, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = q(c, &["INFO", "clients"]);
        if info.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {n} blocked clients: {info}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
