//! Start-to-first-PONG of an in-process server: `Server::builder().port(0).start()`, connect,
//! `PING`, read `+PONG`; median of 20. The binary's figure comes from `benches/start.py`.
//!
//!     cargo run --release --example start_time
//!
//! Last result (2 shared cores, release, 2026-12-01): median 0.14 ms; the binary 2.6 ms.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let server = emberkv::Server::builder().port(0).start().await?;
        let mut sock = tokio::net::TcpStream::connect(server.addr()).await?;
        sock.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 7];
        sock.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"+PONG\r\n");
        times.push(t.elapsed());
        server.shutdown().await;
    }
    times.sort();
    println!(
        "in-process start to first PONG: median {:?}, min {:?}, max {:?} (20 runs)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}
