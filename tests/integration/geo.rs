//! Geo commands: replies Redis 7.0.15 gives for the same data (coordinates with 17
//! decimals, distances with 4, standard geohash strings), error texts, events, and a
//! differential test against a real `redis-server` when one is installed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const SICILY: &[&str] = &[
    "GEOADD",
    "Sicily",
    "13.361389",
    "38.115556",
    "Palermo",
    "15.087269",
    "37.502669",
    "Catania",
];

fn sicily(c: &mut redis::Connection) {
    let n: i64 = q(c, SICILY);
    assert_eq!(n, 2);
}

#[test]
fn geoadd_geodist_geohash_answer_as_redis() {
    let s = server();
    let mut c = con(&s);
    sicily(&mut c);
    let n: i64 = q(&mut c, SICILY);
    assert_eq!(n, 0, "same points again: nothing added");
    let n: i64 = q(
        &mut c,
        &[
            "GEOADD", "Sicily", "CH", "13.4", "38.1", "Palermo", "1", "1", "x",
        ],
    );
    assert_eq!(n, 2, "CH counts the moved member and the new one");
    let n: i64 = q(&mut c, &["GEOADD", "Sicily", "XX", "1", "1", "nosuch"]);
    assert_eq!(n, 0);
    let _: i64 = q(&mut c, &["ZREM", "Sicily", "x"]);
    let _: i64 = q(&mut c, SICILY);
    // A geo set is a sorted set scored by its 52-bit geohash.
    let t: String = q(&mut c, &["TYPE", "Sicily"]);
    assert_eq!(t, "zset");
    let score: String = q(&mut c, &["ZSCORE", "Sicily", "Palermo"]);
    assert_eq!(score, "3479099956230698");

    let d: String = q(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania"]);
    assert_eq!(d, "166274.1516");
    let d: String = q(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "KM"]);
    assert_eq!(d, "166.2742");
    let d: String = q(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "mi"]);
    assert_eq!(d, "103.3182");
    let d: Option<String> = q(&mut c, &["GEODIST", "Sicily", "Palermo", "nosuch"]);
    assert_eq!(d, None);

    let h: Vec<Option<String>> = q(
        &mut c,
        &["GEOHASH", "Sicily", "Palermo", "Catania", "nosuch"],
    );
    assert_eq!(
        h,
        vec![Some("sqc8b49rny0".into()), Some("sqdtr74hyu0".into()), None]
    );
}

#[test]
fn geopos_prints_cell_centres_with_17_decimals_in_both_protocols() {
    let s = server();
    let mut c = con(&s);
    sicily(&mut c);
    let mut r = Raw::connect(&s);
    assert_eq!(
        r.call(&["GEOPOS", "Sicily", "Palermo", "nosuch"]),
        "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
    );
    r.call(&["HELLO", "3"]);
    assert_eq!(
        r.call(&["GEOPOS", "Sicily", "Palermo", "nosuch"]),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
    // The limits decode clamped; the upper ones carry a bit past the 52 of a cell.
    let _: i64 = q(
        &mut c,
        &["GEOADD", "l", "180", "85.05112878", "ne", "0", "0", "zero"],
    );
    assert_eq!(
        r.call(&["GEOPOS", "l", "ne", "zero"]),
        "*2\r\n*2\r\n,180\r\n,85.0511287799999991\r\n*2\r\n,0.00000268220901489\r\n,0.00000126736058093\r\n"
    );
}

#[test]
fn geosearch_replies_byte_for_byte() {
    let s = server();
    let mut c = con(&s);
    sicily(&mut c);
    let mut r = Raw::connect(&s);
    let search = [
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "ASC",
        "WITHCOORD",
        "WITHDIST",
        "WITHHASH",
    ];
    assert_eq!(
        r.call(&search),
        "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n\
         *4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"
    );
    r.call(&["HELLO", "3"]);
    assert_eq!(
        r.call(&search),
        "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n\
         *4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"
    );
    let m: Vec<String> = q(
        &mut c,
        &["GEORADIUSBYMEMBER", "Sicily", "Palermo", "100", "km"],
    );
    assert_eq!(m, ["Palermo"]);
    let m: Vec<String> = q(
        &mut c,
        &[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "150",
            "km",
        ],
    );
    // Palermo is 190 km away but 124 km north: outside a box 150 km tall.
    assert_eq!(m, ["Catania"]);
    let m: Vec<String> = q(
        &mut c,
        &[
            "GEORADIUS_RO",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "COUNT",
            "1",
            "DESC",
        ],
    );
    assert_eq!(m, ["Palermo"]);
}

/// Among members at the same distance, a full sort keeps the order they were found in,
/// while COUNT below the number of matches uses a partial quicksort that does not: Redis
/// answers `g l f` for the three nearest here, not the `f g l` a full sort starts with.
#[test]
fn count_orders_ties_as_redis_partial_sort_does() {
    let s = server();
    let mut c = con(&s);
    let mut add = vec!["GEOADD", "t"];
    for p in [
        "3 2 a", "2 2 b", "3 2 c", "3 2 d", "3 1 e", "2 1 f", "2 1 g", "3 2 h", "3 1 i", "3 1 j",
        "3 2 k", "2 1 l",
    ] {
        add.extend(p.split(' '));
    }
    let _: i64 = q(&mut c, &add);
    let near = [
        "GEOSEARCH",
        "t",
        "FROMLONLAT",
        "0",
        "0",
        "BYRADIUS",
        "1000",
        "km",
    ];
    let all: Vec<String> = q(&mut c, &[&near[..], &["ASC"]].concat());
    assert_eq!(all.concat(), "fglbeijacdhk");
    let three: Vec<String> = q(&mut c, &[&near[..], &["ASC", "COUNT", "3"]].concat());
    assert_eq!(three.concat(), "glf");
}

#[test]
fn store_forms_write_sorted_sets_and_fire_redis_events() {
    let s = server();
    let mut c = con(&s);
    sicily(&mut c);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").expect("psubscribe");
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut next_event = || {
        let m = pubsub.get_message().expect("an event");
        let channel = m.get_channel_name().to_string();
        let key: String = m.get_payload().expect("payload");
        (
            channel.trim_start_matches("__keyevent@0__:").to_string(),
            key,
        )
    };
    let n: i64 = q(&mut c, &["GEOADD", "g", "1", "1", "a"]);
    assert_eq!(n, 1);
    // GEOADD is a ZADD underneath, and says so.
    assert_eq!(next_event(), ("zadd".into(), "g".into()));

    let n: i64 = q(
        &mut c,
        &[
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "STOREDIST",
        ],
    );
    assert_eq!(n, 2);
    assert_eq!(next_event(), ("geosearchstore".into(), "d".into()));
    let z: Vec<String> = q(&mut c, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]);
    assert_eq!(
        z,
        [
            "Catania",
            "56.441257870158204",
            "Palermo",
            "190.44242984775784"
        ]
    );
    let n: i64 = q(
        &mut c,
        &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"],
    );
    assert_eq!(n, 2);
    assert_eq!(next_event(), ("georadiusstore".into(), "d".into()));
    let z: Vec<String> = q(&mut c, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]);
    assert_eq!(
        z,
        ["Palermo", "3479099956230698", "Catania", "3479447370796909"]
    );
    // Nothing matched: the destination is deleted.
    let n: i64 = q(
        &mut c,
        &[
            "GEORADIUSBYMEMBER",
            "Sicily",
            "Palermo",
            "1",
            "km",
            "STOREDIST",
            "d",
        ],
    );
    assert_eq!(n, 1, "Palermo itself is within 1 km");
    assert_eq!(next_event(), ("georadiusstore".into(), "d".into()));
    let n: i64 = q(
        &mut c,
        &["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "d"],
    );
    assert_eq!(n, 0);
    assert_eq!(next_event(), ("del".into(), "d".into()));
    let e: i64 = q(&mut c, &["EXISTS", "d"]);
    assert_eq!(e, 0);
}

#[test]
fn errors_use_redis_texts() {
    let s = server();
    let mut c = con(&s);
    sicily(&mut c);
    let cases: &[(&[&str], &str)] = &[
        (
            &["GEOADD", "k", "200", "10", "m"],
            "ERR invalid longitude,latitude pair 200.000000,10.000000",
        ),
        (
            &["GEOADD", "k", "10", "-85.05112879", "m"],
            "ERR invalid longitude,latitude pair 10.000000,-85.051129",
        ),
        (&["GEOADD", "k", "abc", "1", "m"], "ERR value is not a valid float"),
        (&["GEOADD", "k", "NX", "XX", "1", "2", "m"], "ERR syntax error"),
        (&["GEOADD", "k", "1", "2", "m", "extra"], "ERR syntax error"),
        (
            &["GEODIST", "Sicily", "Palermo", "Catania", "yards"],
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ),
        (
            &["GEOSEARCH", "Sicily", "FROMMEMBER", "nosuch", "BYRADIUS", "1", "km"],
            "ERR could not decode requested zset member",
        ),
        (
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "COUNT", "0"],
            "ERR COUNT must be > 0",
        ),
        (
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"],
            "ERR the ANY argument requires COUNT argument",
        ),
        (
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "-1", "km"],
            "ERR radius cannot be negative",
        ),
        (
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "-1", "km"],
            "ERR height or width cannot be negative",
        ),
        (
            &["GeoSearch", "Sicily", "BYRADIUS", "1", "km", "WITHDIST", "ASC"],
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch",
        ),
        (
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "WITHDIST"],
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            &["GEORADIUS", "Sicily", "1", "2", "1", "km", "WITHHASH", "STORE", "d"],
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            &["GEORADIUS_RO", "Sicily", "1", "2", "1", "km", "STORE", "d"],
            "ERR syntax error",
        ),
    ];
    for (words, want) in cases {
        assert_eq!(&err(&mut c, words), want, "{words:?}");
    }
    let _: () = q(&mut c, &["SET", "str", "x"]);
    assert!(err(&mut c, &["GEOPOS", "str", "a"]).starts_with("WRONGTYPE"));
}

// ---------------------------------------------------------------------------------------
// Differential: the same commands to a real redis-server, replies compared as bytes.

/// A `redis-server` child process, killed on drop.
struct RedisServer {
    child: Child,
    addr: SocketAddr,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `redis-server` on a free port (bound, then closed, to pick it), or `None` when
/// it is not installed.
fn start_redis() -> Option<RedisServer> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("redis-server did not start: {e}"),
    };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let server = RedisServer { child, addr };
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(server)
}

/// Points around Sicily, some sharing coordinates (ties in distance), from a fixed
/// pseudo-random sequence.
fn differential_points() -> Vec<String> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut words = vec!["GEOADD".to_string(), "pts".to_string()];
    let mut last = (14.0, 37.5);
    for i in 0..300 {
        if i % 7 != 3 {
            last = (12.0 + 4.0 * next(), 36.0 + 3.0 * next());
        }
        words.push(format!("{:.6}", last.0));
        words.push(format!("{:.6}", last.1));
        words.push(format!("p{i}"));
    }
    words
}

#[test]
fn geosearch_matches_a_real_redis_byte_for_byte() {
    let Some(redis) = start_redis() else {
        eprintln!("redis-server is not installed: skipping the differential geo test");
        return;
    };
    let ours = server();
    let add = differential_points();
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    let queries: &[&[&str]] = &[
        &[
            "GEOSEARCH",
            "pts",
            "FROMLONLAT",
            "14",
            "37.5",
            "BYRADIUS",
            "120",
            "km",
            "WITHDIST",
            "WITHCOORD",
            "ASC",
        ],
        &[
            "GEOSEARCH",
            "pts",
            "FROMMEMBER",
            "p3",
            "BYRADIUS",
            "50",
            "mi",
            "WITHDIST",
            "WITHCOORD",
            "ASC",
        ],
        &[
            "GEOSEARCH",
            "pts",
            "FROMLONLAT",
            "13",
            "37",
            "BYRADIUS",
            "80000",
            "m",
            "WITHDIST",
            "WITHHASH",
            "DESC",
            "COUNT",
            "15",
        ],
        &[
            "GEOSEARCH",
            "pts",
            "FROMLONLAT",
            "15.5",
            "38",
            "BYBOX",
            "200",
            "120",
            "km",
            "WITHCOORD",
        ],
        &[
            "GEOSEARCH",
            "pts",
            "FROMLONLAT",
            "14",
            "37",
            "BYRADIUS",
            "300",
            "km",
            "COUNT",
            "10",
            "ANY",
        ],
        &[
            "GEORADIUS",
            "pts",
            "14",
            "37.5",
            "60",
            "km",
            "WITHDIST",
            "COUNT",
            "20",
        ],
        &["GEOPOS", "pts", "p0", "p3", "p299", "nosuch"],
        &["GEODIST", "pts", "p0", "p299", "ft"],
        &["GEOHASH", "pts", "p0", "p1", "p2"],
    ];
    for resp3 in [false, true] {
        let mut a = Raw::connect_to(redis.addr);
        let mut b = Raw::connect(&ours);
        if resp3 {
            a.call(&["HELLO", "3"]);
            b.call(&["HELLO", "3"]);
        }
        assert_eq!(a.call(&["FLUSHALL"]), b.call(&["FLUSHALL"]));
        assert_eq!(a.call(&add), b.call(&add));
        for words in queries {
            let (want, got) = (a.call(words), b.call(words));
            assert!(want.len() > 8, "{words:?}: {want}");
            assert_eq!(got, want, "{words:?} (resp3: {resp3})");
        }
    }
}
