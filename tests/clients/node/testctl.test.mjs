// emberkv as the Redis of a Node test (node:test, no dependencies): start the binary on an
// ephemeral port, read the port from its log line, travel in time and inject a fault.
//
//     EMBERKV=target/release/emberkv node --test tests/clients/node/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';

const EMBERKV = process.env.EMBERKV ?? 'emberkv';

function startEmberkv() {
  const proc = spawn(EMBERKV, ['--port', '0', '--save', '', '--enable-test-controls', 'yes']);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/Ready to accept connections .*\bport=(\d+)/);
      if (m) resolve({ proc, port: Number(m[1]) });
    });
    proc.on('exit', (code) => reject(new Error(`emberkv exited with ${code}`)));
  });
}

// A minimal RESP client: one command at a time, replies as strings, numbers, arrays, or
// Error objects for `-ERR ...` replies.
function connect(port) {
  const sock = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  const waiting = [];
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const r = parse(buf, 0);
      if (!r) break;
      buf = buf.subarray(r.end);
      waiting.shift()?.resolve(r.value);
    }
  });
  sock.on('close', () => waiting.splice(0).forEach((w) => w.reject(new Error('connection closed'))));
  return {
    call(...args) {
      let req = `*${args.length}\r\n`;
      for (const a of args.map(String)) req += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
      return new Promise((resolve, reject) => { waiting.push({ resolve, reject }); sock.write(req); });
    },
    close: () => sock.destroy(),
  };
}

function parse(b, i) {
  const nl = b.indexOf('\r\n', i);
  if (nl < 0) return null;
  const line = b.toString('utf8', i + 1, nl);
  const end = nl + 2;
  switch (b[i]) {
    case 43: return { value: line, end };                       // +
    case 45: return { value: new Error(line), end };            // -
    case 58: return { value: Number(line), end };               // :
    case 36: {                                                  // $
      const n = Number(line);
      if (n < 0) return { value: null, end };
      if (b.length < end + n + 2) return null;
      return { value: b.toString('utf8', end, end + n), end: end + n + 2 };
    }
    case 42: {                                                  // *
      const items = [];
      let at = end;
      for (let k = 0; k < Number(line); k++) {
        const r = parse(b, at);
        if (!r) return null;
        items.push(r.value);
        at = r.end;
      }
      return { value: items, end: at };
    }
    default: throw new Error(`unexpected reply ${line}`);
  }
}

test('a one-hour TTL expires when the clock moves, and an injected error reaches the client', async () => {
  const { proc, port } = await startEmberkv();
  try {
    const r = connect(port);
    assert.equal(await r.call('SET', 'session', 'abc', 'EX', 3600), 'OK');
    await r.call('TESTCTL', 'CLOCK', 'ADVANCE', 3_601_000);
    assert.equal(await r.call('GET', 'session'), null);

    await r.call('TESTCTL', 'FAIL', 1, 'ERR', 'injected by the test');
    const e = await r.call('GET', 'session');
    assert.ok(e instanceof Error && /injected by the test/.test(e.message));
    assert.equal(await r.call('PING'), 'PONG');
    r.close();
  } finally {
    proc.kill();
  }
});
