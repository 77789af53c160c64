//! Keyspace notifications: `notify-keyspace-events`, the `__keyspace@<db>__` and
//! `__keyevent@<db>__` channels, Redis's event names, and `expired` fired by the background
//! expiry without anyone touching the key.

use std::time::Duration;

use crate::common::*;

/// Reads `n` messages as `(channel, payload)`.
fn messages(pubsub: &mut redis::PubSub<'_>, n: usize) -> Vec<(String, String)> {
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    (0..n)
        .map(|_| {
            let m = pubsub.get_message().expect("a message within 5 s");
            (
                m.get_channel_name().to_string(),
                m.get_payload::<String>().expect("payload"),
            )
        })
        .collect()
}

#[test]
fn expired_event_fires_without_anyone_touching_the_key() {
    let s = manual_server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__key*__:*").expect("psubscribe");
    let _: () = q(&mut c, &["SET", "session:1", "v", "PX", "100"]);
    assert_eq!(
        messages(&mut pubsub, 4),
        vec![
            ("__keyspace@0__:session:1".into(), "set".into()),
            ("__keyevent@0__:set".into(), "session:1".into()),
            ("__keyspace@0__:session:1".into(), "expire".into()),
            ("__keyevent@0__:expire".into(), "session:1".into()),
        ]
    );
    // Past the deadline, the background expiry reclaims the key on its own.
    s.clock().advance(150);
    assert_eq!(
        messages(&mut pubsub, 2),
        vec![
            ("__keyspace@0__:session:1".into(), "expired".into()),
            ("__keyevent@0__:expired".into(), "session:1".into()),
        ]
    );
    let exists: i64 = q(&mut c, &["EXISTS", "session:1"]);
    assert_eq!(exists, 0);
}

#[test]
fn classes_select_events_and_names_match_redis() {
    let s = server();
    let mut c = con(&s);
    // Only key-event messages of the generic class in db 2.
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Eg"]);
    let flags: Vec<String> = q(&mut c, &["CONFIG", "GET", "notify-keyspace-events"]);
    assert_eq!(flags, vec!["notify-keyspace-events", "gE"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__keyevent@2__:*").expect("psubscribe");
    let _: () = q(&mut c, &["SELECT", "2"]);
    // String events are filtered out (no `$`), generic ones pass.
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let _: i64 = q(&mut c, &["INCR", "a"]);
    let _: () = q(&mut c, &["RENAME", "a", "b"]);
    let _: i64 = q(&mut c, &["EXPIRE", "b", "100"]);
    let _: i64 = q(&mut c, &["PERSIST", "b"]);
    let _: i64 = q(&mut c, &["MOVE", "b", "3"]);
    let _: i64 = q(&mut c, &["DEL", "nosuch"]);
    let _: () = q(&mut c, &["SET", "x", "1"]);
    let _: i64 = q(&mut c, &["DEL", "x"]);
    let got = messages(&mut pubsub, 6);
    assert_eq!(
        got,
        vec![
            ("__keyevent@2__:rename_from".into(), "a".into()),
            ("__keyevent@2__:rename_to".into(), "b".into()),
            ("__keyevent@2__:expire".into(), "b".into()),
            ("__keyevent@2__:persist".into(), "b".into()),
            ("__keyevent@2__:move_from".into(), "b".into()),
            ("__keyevent@2__:del".into(), "x".into()),
        ]
    );
}

#[test]
fn string_events_new_keys_and_misses() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "K$nm"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__keyspace@0__:*").expect("psubscribe");
    let _: () = q(&mut c, &["SET", "k", "1"]);
    let _: i64 = q(&mut c, &["INCRBY", "k", "2"]);
    let _: String = q(&mut c, &["INCRBYFLOAT", "k", "0.5"]);
    let _: i64 = q(&mut c, &["APPEND", "k", "0"]);
    let _: i64 = q(&mut c, &["SETRANGE", "k", "0", "9"]);
    let _: Option<String> = q(&mut c, &["GET", "missing"]);
    let got: Vec<String> = messages(&mut pubsub, 7).into_iter().map(|m| m.1).collect();
    assert_eq!(
        got,
        [
            "new",
            "set",
            "incrby",
            "incrbyfloat",
            "append",
            "setrange",
            "keymiss"
        ]
    );
}

#[test]
fn notifications_are_off_by_default() {
    let s = server();
    let mut c = con(&s);
    let flags: Vec<String> = q(&mut c, &["CONFIG", "GET", "notify-keyspace-events"]);
    assert_eq!(flags, vec!["notify-keyspace-events", ""]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__key*__:*").expect("psubscribe");
    let _: () = q(&mut c, &["SET", "k", "1"]);
    // A marker published after the write arrives first: the write published nothing.
    let _: i64 = q(&mut c, &["PUBLISH", "__keyspace@0__:marker", "m"]);
    assert_eq!(
        messages(&mut pubsub, 1),
        vec![("__keyspace@0__:marker".into(), "m".into())]
    );
}
