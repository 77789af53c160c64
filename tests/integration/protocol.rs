//! The wire, byte for byte, over a raw `TcpStream`: inline commands, pipelining, partial
//! frames, protocol errors (which close only the offending connection), RESP3 frames and the
//! limits applied before authentication.

use crate::common::{password_server, server, Raw};

#[test]
fn inline_ping() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.send(b"PING\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
    // A bare `\n` ends an inline command too; blank lines are skipped.
    r.send(b"\r\n\r\nping\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
}

#[test]
fn inline_commands_with_quotes_and_escapes() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.send(b"SET greeting \"hello world\"\r\nGET greeting\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    assert_eq!(r.reply(), b"$11\r\nhello world\r\n");
    r.send(b"ECHO \"\\x41\\tB\\n\"\r\n");
    assert_eq!(r.reply(), b"$4\r\nA\tB\n\r\n");
    r.send(b"ECHO 'it\\'s'\r\n");
    assert_eq!(r.reply(), b"$4\r\nit's\r\n");
    r.send(b"ECHO \"\"\r\n");
    assert_eq!(r.reply(), b"$0\r\n\r\n");
}

#[test]
fn pipelined_commands_answer_in_order() {
    let s = server();
    let mut r = Raw::connect(&s);
    let mut batch = Vec::new();
    for i in 0..200 {
        batch.extend_from_slice(format!("SET k{i} {i}\r\n").as_bytes());
        batch.extend_from_slice(
            format!(
                "*2\r\n$4\r\nINCR\r\n${}\r\nk{i}\r\n",
                1 + i.to_string().len()
            )
            .as_bytes(),
        );
    }
    batch.extend_from_slice(b"DBSIZE\r\n");
    r.send(&batch);
    for i in 0..200 {
        assert_eq!(r.reply(), b"+OK\r\n");
        assert_eq!(r.reply(), format!(":{}\r\n", i + 1).as_bytes());
    }
    assert_eq!(r.reply(), b":200\r\n");
}

#[test]
fn partial_frames_sent_byte_by_byte() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.stream.set_nodelay(true).unwrap();
    for &b in b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n".iter() {
        r.send(&[b]);
    }
    assert_eq!(r.reply(), b"+OK\r\n");
    for &b in b"GET key\r\n".iter() {
        r.send(&[b]);
    }
    assert_eq!(r.reply(), b"$5\r\nva\r\nl\r\n");
}

#[test]
fn large_value_across_many_reads() {
    let s = server();
    let mut r = Raw::connect(&s);
    let value = vec![b'x'; 3 * 1024 * 1024 + 7];
    r.send_cmd(&[b"SET", b"big", &value]);
    assert_eq!(r.reply(), b"+OK\r\n");
    r.send_cmd(&[b"STRLEN", b"big"]);
    assert_eq!(r.reply(), format!(":{}\r\n", value.len()).as_bytes());
    r.send_cmd(&[b"GET", b"big"]);
    let reply = r.reply();
    let header = format!("${}\r\n", value.len());
    assert!(reply.starts_with(header.as_bytes()));
    assert_eq!(reply.len(), header.len() + value.len() + 2);
    assert!(reply[header.len()..header.len() + value.len()]
        .iter()
        .all(|&b| b == b'x'));
}

#[test]
fn empty_multibulk_and_binary_arguments() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.send(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
    r.send(b"*3\r\n$3\r\nSET\r\n$3\r\na\x00b\r\n$4\r\n\r\n\xff\x00\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    r.send(b"*2\r\n$3\r\nGET\r\n$3\r\na\x00b\r\n");
    assert_eq!(r.reply(), b"$4\r\n\r\n\xff\x00\r\n");
}

/// Sends `bad`, expects `-ERR Protocol error: <text>` and then the connection closed, while
/// another connection keeps working.
fn protocol_error_closes_the_connection(bad: &[u8], text: &str) {
    let s = server();
    let mut bystander = Raw::connect(&s);
    assert_eq!(bystander.call(&["SET", "k", "v"]), "+OK\r\n");
    let mut r = Raw::connect(&s);
    r.send(bad);
    assert_eq!(
        String::from_utf8_lossy(&r.reply()),
        format!("-ERR Protocol error: {text}\r\n"),
        "{:?}",
        String::from_utf8_lossy(bad)
    );
    r.assert_closed();
    assert_eq!(bystander.call(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn invalid_bulk_length() {
    protocol_error_closes_the_connection(b"*1\r\n$x\r\n", "invalid bulk length");
    protocol_error_closes_the_connection(b"*1\r\n$-1\r\n", "invalid bulk length");
    protocol_error_closes_the_connection(b"*1\r\n$536870913\r\n", "invalid bulk length");
}

#[test]
fn invalid_multibulk_length() {
    protocol_error_closes_the_connection(b"*x\r\n", "invalid multibulk length");
    protocol_error_closes_the_connection(b"*3000000000\r\n", "invalid multibulk length");
}

#[test]
fn expected_dollar() {
    protocol_error_closes_the_connection(b"*1\r\nxPING\r\n", "expected '$', got 'x'");
}

#[test]
fn unbalanced_quotes() {
    protocol_error_closes_the_connection(b"SET k \"oops\r\n", "unbalanced quotes in request");
    protocol_error_closes_the_connection(b"ECHO 'a\r\n", "unbalanced quotes in request");
}

#[test]
fn replies_before_a_protocol_error_are_still_sent() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.send(b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
    assert_eq!(
        r.reply(),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    r.assert_closed();
}

#[test]
fn http_requests_are_dropped_silently() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.send(b"POST / HTTP/1.1\r\nHost: example\r\n\r\n");
    r.assert_closed();
}

#[test]
fn hello_3_answers_a_resp3_map() {
    let s = server();
    let mut r = Raw::connect(&s);
    let id = r.call(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end();
    r.send(b"HELLO 3\r\n");
    let want = format!(
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&r.reply()), want);
    // RESP3 frames from here on: null, map, verbatim string, set.
    assert_eq!(r.call(&["GET", "missing"]), "_\r\n");
    r.call(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
    assert!(r
        .call(&["LCS", "a", "b", "IDX"])
        .starts_with("%2\r\n$7\r\nmatches\r\n"));
    assert!(r.call(&["CLIENT", "INFO"]).starts_with('='));
    assert!(r
        .call(&["COMMAND", "INFO", "get"])
        .starts_with("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n"));
}

#[test]
fn resp2_frames() {
    let s = server();
    let mut r = Raw::connect(&s);
    assert_eq!(r.call(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(r.call(&["SET", "n", "5"]), "+OK\r\n");
    assert_eq!(r.call(&["INCR", "n"]), ":6\r\n");
    assert_eq!(r.call(&["MGET", "n", "x"]), "*2\r\n$1\r\n6\r\n$-1\r\n");
    assert_eq!(
        r.call(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
}

#[test]
fn noauth_before_auth() {
    let s = password_server("pw");
    let mut r = Raw::connect(&s);
    r.send(b"PING\r\n");
    assert_eq!(r.reply(), b"-NOAUTH Authentication required.\r\n");
    r.send(b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\nPING\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
}

#[test]
fn unauthenticated_clients_get_tight_limits() {
    let s = password_server("pw");
    let mut r = Raw::connect(&s);
    r.send(b"*11\r\n");
    assert_eq!(
        r.reply(),
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    r.assert_closed();
    let mut r = Raw::connect(&s);
    r.send(b"*1\r\n$16385\r\n");
    assert_eq!(
        r.reply(),
        b"-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    r.assert_closed();
}
