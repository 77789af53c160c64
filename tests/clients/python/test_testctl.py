"""emberkv as the Redis of a pytest suite: start the binary on an ephemeral port, read the port
from its log line, travel in time and inject faults with TESTCTL.

    python -m venv .venv && .venv/bin/pip install redis pytest
    EMBERKV=target/release/emberkv .venv/bin/pytest tests/clients/python
"""

import os
import re
import subprocess

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

EMBERKV = os.environ.get("EMBERKV", "emberkv")


@pytest.fixture
def emberkv_port():
    """A fresh server per test: port 0, no persistence, test controls on."""
    proc = subprocess.Popen(
        [EMBERKV, "--port", "0", "--save", "", "--appendonly", "no",
         "--enable-test-controls", "yes"],
        stdout=subprocess.PIPE, text=True,
    )
    port = None
    for line in proc.stdout:  # "... Ready to accept connections on 127.0.0.1:PORT addr=... port=PORT pid=..."
        m = re.search(r"Ready to accept connections .*\bport=(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "emberkv did not report its port"
    yield port
    proc.terminate()
    proc.wait(timeout=5)


def test_ttl_without_sleeping(emberkv_port):
    r = redis.Redis(port=emberkv_port)
    r.set("session", "abc", ex=3600)
    r.execute_command("TESTCTL", "CLOCK", "ADVANCE", 3_601_000)  # one hour and a second
    assert r.get("session") is None


def test_error_then_dropped_connection_then_normal_service(emberkv_port):
    ctl = redis.Redis(port=emberkv_port)  # the test's control connection
    # The code under test: one connection, no automatic retries, so it sees what happens.
    # (A pooled client checks a connection before reusing it and would silently reconnect.)
    app = redis.Redis(port=emberkv_port, single_connection_client=True,
                      retry=Retry(NoBackoff(), 0))
    app.set("k", "v")

    ctl.execute_command("TESTCTL", "FAIL", 1, "ERR", "injected by the test")
    with pytest.raises(redis.ResponseError, match="injected by the test"):
        app.get("k")

    assert ctl.execute_command("TESTCTL", "DROP") >= 1  # every other connection, now
    with pytest.raises(redis.ConnectionError):
        app.get("k")

    assert app.get("k") == b"v"  # it reconnects: normal service
