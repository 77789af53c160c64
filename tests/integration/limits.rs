//! Configured limits a user can hit: maxclients, idle timeout, proto-max-bulk-len,
//! client-query-buffer-limit, and databases.

use emberkv::{BackgroundServer, Config, Server};

use crate::common::*;

fn server_with(edit: impl FnOnce(&mut Config)) -> BackgroundServer {
    let mut config = Config::default();
    edit(&mut config);
    Server::builder()
        .config(config)
        .port(0)
        .start_background()
        .expect("server starts")
}

#[test]
fn maxclients_refuses_the_connection_over_the_limit() {
    let s = server_with(|c| c.maxclients = 1);
    let mut first = Raw::connect(&s);
    assert_eq!(first.call(&["PING"]), "+PONG\r\n");
    let mut second = Raw::connect(&s);
    assert_eq!(
        String::from_utf8_lossy(&second.reply()),
        "-ERR max number of clients reached\r\n"
    );
    second.assert_closed();
    assert_eq!(first.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = server_with(|c| c.timeout = 1);
    let mut idle = Raw::connect(&s);
    assert_eq!(idle.call(&["PING"]), "+PONG\r\n");
    // The server closes it after one idle second; the read waits for that (up to 10 s).
    idle.assert_closed();
}

#[test]
fn bulk_arguments_over_proto_max_bulk_len_are_a_protocol_error() {
    let s = server_with(|c| c.proto_max_bulk_len = 1024 * 1024);
    let mut r = Raw::connect(&s);
    r.send(b"*2\r\n$3\r\nGET\r\n$1048577\r\n");
    assert_eq!(
        String::from_utf8_lossy(&r.reply()),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    r.assert_closed();
    // exactly at the limit is fine, and the string limit applies to APPEND too
    let mut c = con(&s);
    let big = "x".repeat(1024 * 1024);
    let _: () = q(&mut c, &["SET", "k", &big]);
    assert_eq!(
        err(&mut c, &["APPEND", "k", "y"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
}

#[test]
fn a_client_whose_query_buffer_outgrows_the_limit_is_closed() {
    let s = server_with(|c| c.client_query_buffer_limit = 1024 * 1024);
    let mut bystander = con(&s);
    let mut r = Raw::connect(&s);
    // A 3 MB argument (allowed by proto-max-bulk-len) of which 1.5 MB is sent: the unparsed
    // input piles up past the 1 MB buffer limit and can never complete.
    r.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n");
    let chunk = vec![b'a'; 64 * 1024];
    let mut closed = false;
    for _ in 0..24 {
        if !r.try_send(&chunk) {
            closed = true;
            break;
        }
    }
    if !closed {
        r.assert_closed();
    }
    let pong: String = q(&mut bystander, &["PING"]);
    assert_eq!(pong, "PONG");
}

#[test]
fn databases_bounds_select() {
    let s = server_with(|c| c.databases = 4);
    let mut c = con(&s);
    let _: () = q(&mut c, &["SELECT", "3"]);
    assert_eq!(
        err(&mut c, &["SELECT", "4"]),
        "ERR DB index is out of range"
    );
}
