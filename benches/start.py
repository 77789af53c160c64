#!/usr/bin/env python3
"""Start-to-first-PONG of the emberkv binary (and, for comparison, redis-server if installed):
spawn on a fixed free port, connect-retry every 0.1 ms, send PING, time until +PONG. Median of
20 runs.

    cargo build --release && python3 benches/start.py target/release/emberkv

Last results (2 shared cores, load average ~6.5, release, 2026-12-01): emberkv 2.3-3.1 ms,
redis-server 7.0.15 10.6-12.4 ms; in-process (examples/start_time.rs) 0.14 ms.
"""

import shutil
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_pong(argv):
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv + ["--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.0001)
        s.sendall(b"PING\r\n")
        got = b""
        while not got.endswith(b"\r\n"):
            got += s.recv(64)
        took = time.perf_counter() - t0
        assert got == b"+PONG\r\n", got
        s.close()
        return took
    finally:
        proc.kill()
        proc.wait()


def median_ms(argv, runs=20):
    return statistics.median(first_pong(argv) for _ in range(runs)) * 1000


if __name__ == "__main__":
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/emberkv"
    print(f"emberkv: {median_ms([binary, '--save', '']):.2f} ms (median of 20)")
    if shutil.which("redis-server"):
        print(f"redis-server: {median_ms(['redis-server', '--save', '', '--appendonly', 'no']):.2f} ms")
