//! Connection commands: PING, ECHO, HELLO, AUTH, RESET, QUIT and the CLIENT family.

use redis::Value;

use crate::common::{bulk, con, con3, err, password_server, q, server, v, Raw};

#[test]
fn ping_and_echo() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
    assert_eq!(v(&mut c, &["PING", "hi"]), bulk("hi"));
    assert_eq!(v(&mut c, &["ECHO", ""]), bulk(""));
    assert_eq!(
        err(&mut c, &["PING", "a", "b"]),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(
        err(&mut c, &["ECHO"]),
        "ERR wrong number of arguments for 'echo' command"
    );
}

#[test]
fn unknown_commands_and_subcommands() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        err(&mut c, &["NOSUCH", "a", "b"]),
        "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "BOGUS"]),
        "ERR unknown subcommand 'BOGUS'. Try CLIENT HELP."
    );
    assert_eq!(
        err(&mut c, &["CLIENT"]),
        "ERR wrong number of arguments for 'client' command"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "SETNAME"]),
        "ERR wrong number of arguments for 'client|setname' command"
    );
    // The connection is still usable after errors.
    assert_eq!(v(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn unknown_command_text_keeps_its_trailing_space() {
    let s = server();
    let mut r = Raw::connect(&s);
    assert_eq!(
        r.call(&["nosuch", "x"]),
        "-ERR unknown command 'nosuch', with args beginning with: 'x' \r\n"
    );
    assert_eq!(
        r.call(&["nosuch"]),
        "-ERR unknown command 'nosuch', with args beginning with: \r\n"
    );
}

#[test]
fn hello_switches_protocols_and_reports_the_server() {
    let s = server();
    let mut r = Raw::connect(&s);
    // The exact bytes of HELLO 3 are checked in protocol.rs.
    assert!(r
        .call(&["HELLO", "3"])
        .starts_with("%7\r\n$6\r\nserver\r\n"));
    assert_eq!(r.call(&["GET", "missing"]), "_\r\n");
    // Back to RESP2: the map becomes a flat array, nulls `$-1`.
    assert!(r
        .call(&["HELLO", "2"])
        .starts_with("*14\r\n$6\r\nserver\r\n"));
    assert_eq!(r.call(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(
        r.call(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        r.call(&["HELLO", "x"]),
        "-ERR Protocol version is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["HELLO", "3", "bogus"]),
        "-ERR Syntax error in HELLO option 'bogus'\r\n"
    );
    assert_eq!(
        r.call(&["HELLO", "3", "SETNAME", "via-hello"])
            .chars()
            .next(),
        Some('%')
    );
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), "$9\r\nvia-hello\r\n");
}

#[test]
fn resp3_connection_from_the_client_library() {
    let s = server();
    let mut c = con3(&s);
    assert_eq!(v(&mut c, &["GET", "missing"]), Value::Nil);
    let info = v(&mut c, &["CLIENT", "INFO"]);
    match info {
        Value::VerbatimString { text, .. } => assert!(text.contains(" resp=3 "), "{text}"),
        other => panic!("CLIENT INFO should be verbatim in RESP3, got {other:?}"),
    }
}

#[test]
fn auth_is_required_when_a_password_is_set() {
    let s = password_server("pw");
    let mut r = Raw::connect(&s);
    assert_eq!(r.call(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        r.call(&["GET", "k"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        r.call(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        r.call(&["HELLO", "3"]),
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
    );
    assert_eq!(r.call(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
    // RESET logs the connection out again.
    assert_eq!(r.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(r.call(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(r.call(&["AUTH", "default", "pw"]), "+OK\r\n");
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");

    let mut h = Raw::connect(&s);
    assert!(h
        .call(&["HELLO", "3", "AUTH", "default", "pw"])
        .starts_with("%7\r\n"));
    assert_eq!(h.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn auth_through_the_client_library_url() {
    let s = password_server("s3cret");
    let url = format!("redis://:s3cret@{}/", s.addr());
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("v"));
}

#[test]
fn auth_without_a_configured_password() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        err(&mut c, &["AUTH", "pw"]),
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
    );
    assert_eq!(v(&mut c, &["AUTH", "default", "anything"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["AUTH", "nobody", "pw"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
}

#[test]
fn reset_restores_a_fresh_connection() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.call(&["HELLO", "3"]);
    assert_eq!(r.call(&["SELECT", "4"]), "+OK\r\n");
    assert_eq!(r.call(&["SET", "in4", "v"]), "+OK\r\n");
    assert_eq!(r.call(&["CLIENT", "SETNAME", "n"]), "+OK\r\n");
    assert_eq!(r.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(r.call(&["GET", "in4"]), "$-1\r\n", "back to db 0 and RESP2");
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), "$-1\r\n");
}

#[test]
fn quit_replies_ok_then_closes() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.send(b"QUIT\r\nPING\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    r.assert_closed();
    let mut other = con(&s);
    assert_eq!(v(&mut other, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn client_setname_getname() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["CLIENT", "GETNAME"]), Value::Nil);
    assert_eq!(v(&mut c, &["CLIENT", "SETNAME", "worker-1"]), Value::Okay);
    assert_eq!(v(&mut c, &["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(
        err(&mut c, &["CLIENT", "SETNAME", "has space"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(v(&mut c, &["CLIENT", "SETNAME", ""]), Value::Okay);
    assert_eq!(v(&mut c, &["CLIENT", "GETNAME"]), Value::Nil);
}

/// The value of `field=` in one CLIENT LIST line.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {line}"))
}

#[test]
fn client_list_and_info_describe_connections() {
    let s = server();
    let mut a = con(&s);
    let mut b = con(&s);
    assert_eq!(v(&mut a, &["CLIENT", "SETNAME", "alpha"]), Value::Okay);
    assert_eq!(v(&mut b, &["SELECT", "7"]), Value::Okay);
    let a_id: i64 = q(&mut a, &["CLIENT", "ID"]);
    let b_id: i64 = q(&mut b, &["CLIENT", "ID"]);
    let list: String = q(&mut a, &["CLIENT", "LIST"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    let line_a = lines
        .iter()
        .find(|l| field(l, "id") == a_id.to_string())
        .unwrap();
    assert_eq!(field(line_a, "name"), "alpha");
    assert_eq!(field(line_a, "cmd"), "client|list");
    assert_eq!(field(line_a, "flags"), "N");
    let line_b = lines
        .iter()
        .find(|l| field(l, "id") == b_id.to_string())
        .unwrap();
    assert_eq!(field(line_b, "db"), "7");
    assert_eq!(field(line_b, "addr"), b_id_addr(&mut b));

    let info: String = q(&mut b, &["CLIENT", "INFO"]);
    assert_eq!(field(info.trim_end(), "id"), b_id.to_string());
    assert!(info.ends_with('\n'));

    // ID filter: listed in the order asked, unknown ids skipped.
    let by_id: String = q(
        &mut a,
        &[
            "CLIENT",
            "LIST",
            "ID",
            &b_id.to_string(),
            "999999",
            &a_id.to_string(),
        ],
    );
    let ids: Vec<&str> = by_id.lines().map(|l| field(l, "id")).collect();
    assert_eq!(ids, [b_id.to_string(), a_id.to_string()]);
    assert_eq!(
        err(&mut a, &["CLIENT", "LIST", "ID", "x"]),
        "ERR Invalid client ID"
    );
    let normal: String = q(&mut a, &["CLIENT", "LIST", "TYPE", "normal"]);
    assert_eq!(normal.lines().count(), 2);
    assert_eq!(
        q::<String>(&mut a, &["CLIENT", "LIST", "TYPE", "pubsub"]),
        ""
    );
    assert_eq!(
        err(&mut a, &["CLIENT", "LIST", "TYPE", "bogus"]),
        "ERR Unknown client type 'bogus'"
    );
}

/// A connection's own address, as CLIENT INFO reports it.
fn b_id_addr(c: &mut redis::Connection) -> String {
    let info: String = q(c, &["CLIENT", "INFO"]);
    field(info.trim_end(), "addr").to_string()
}

#[test]
fn client_kill_by_id_and_addr() {
    let s = server();
    let mut admin = con(&s);
    let mut victim = Raw::connect(&s);
    let id = victim.call(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end().to_string();
    assert_eq!(v(&mut admin, &["CLIENT", "KILL", "ID", &id]), Value::Int(1));
    victim.assert_closed();
    assert_eq!(
        v(&mut admin, &["CLIENT", "KILL", "ID", "999999"]),
        Value::Int(0)
    );

    let mut victim = Raw::connect(&s);
    let info = victim.call(&["CLIENT", "INFO"]);
    let addr = info
        .split(' ')
        .find_map(|kv| kv.strip_prefix("addr="))
        .unwrap()
        .to_string();
    assert_eq!(v(&mut admin, &["CLIENT", "KILL", &addr]), Value::Okay);
    victim.assert_closed();
    assert_eq!(
        err(&mut admin, &["CLIENT", "KILL", "192.0.2.1:9"]),
        "ERR No such client"
    );
    // SKIPME defaults to yes: the caller survives a kill of every normal client.
    let mut bystander = Raw::connect(&s);
    assert_eq!(bystander.call(&["PING"]), "+PONG\r\n");
    let killed: i64 = q(&mut admin, &["CLIENT", "KILL", "TYPE", "normal"]);
    assert!(killed >= 1);
    bystander.assert_closed();
    assert_eq!(v(&mut admin, &["PING"]), Value::SimpleString("PONG".into()));
    assert_eq!(
        err(&mut admin, &["CLIENT", "KILL", "ID", "0"]),
        "ERR client-id should be greater than 0"
    );
    assert_eq!(
        err(&mut admin, &["CLIENT", "KILL", "USER", "nobody"]),
        "ERR No such user 'nobody'"
    );
    assert_eq!(
        err(&mut admin, &["CLIENT", "KILL", "SKIPME", "maybe"]),
        "ERR syntax error"
    );
    // MAXAGE is not a 7.0 filter.
    assert_eq!(
        err(&mut admin, &["CLIENT", "KILL", "MAXAGE", "10"]),
        "ERR syntax error"
    );
}

#[test]
fn client_reply_off_skip_on() {
    let s = server();
    let mut r = Raw::connect(&s);
    // OFF and SKIP are not answered; the PING after SKIP is not either.
    r.send(b"CLIENT REPLY OFF\r\nPING off\r\nCLIENT REPLY ON\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    r.send(b"CLIENT REPLY SKIP\r\nPING skipped\r\nPING shown\r\n");
    assert_eq!(r.reply(), b"$5\r\nshown\r\n");
    // Commands still run while replies are off.
    r.send(b"CLIENT REPLY OFF\r\nSET k v\r\nCLIENT REPLY ON\r\nGET k\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    assert_eq!(r.reply(), b"$1\r\nv\r\n");
    assert_eq!(
        r.call(&["CLIENT", "REPLY", "maybe"]),
        "-ERR syntax error\r\n"
    );
}

#[test]
fn client_no_evict_and_help() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["CLIENT", "NO-EVICT", "on"]), Value::Okay);
    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert_eq!(field(info.trim_end(), "flags"), "e");
    assert_eq!(v(&mut c, &["CLIENT", "NO-EVICT", "off"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["CLIENT", "NO-EVICT", "maybe"]),
        "ERR syntax error"
    );
    let help: Vec<String> = q(&mut c, &["CLIENT", "HELP"]);
    assert!(help[0].starts_with("CLIENT <subcommand>"));
    assert!(help.iter().any(|l| l.starts_with("SETNAME")));
}
