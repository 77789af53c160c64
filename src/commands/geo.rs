//! Geo commands (Redis 7.0's `geo.c` command half): GEOADD, GEODIST, GEOHASH, GEOPOS, and
//! the searches GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their `_RO`
//! forms. A geo set *is* a sorted set (TYPE says `zset`): these handlers read and write
//! [`ZSetValue`]s through the sorted-set helpers, and the coordinate arithmetic lives in
//! [`crate::storage::geo`].
//!
//! GEOADD behaves as the ZADD it becomes in Redis: it fires `zadd`, counts a change per
//! member added or moved, and propagates as `zadd key [options as sent] score member …`. The
//! searches' STORE forms fire `georadiusstore` / `geosearchstore` (or `del` when nothing
//! matched) and propagate as sent.

use std::cmp::Ordering;

use bytes::Bytes;

use super::table::*;
use super::zset::{limits, parse_score, read, store_result, write};
use super::Ctx;
use crate::notify;
use crate::protocol::number::parse_i64;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::geo::{self, Shape, ShapeKind};
use crate::storage::zset::{AddFlags, Added, ScoreRange};
use crate::storage::{Expiry, Value, ZSetValue};

const RO: &[&str] = &["RO", "access"];
const OW: &[&str] = &["OW", "update"];

/// GEORADIUS's keys: the source, then the destinations after STORE and STOREDIST (Redis 7.0
/// declares them as keyword specs searched from the first option on).
const GEORADIUS_SPECS: &[KeySpec] = &[
    KeySpec::at(1, RO),
    KeySpec::keyword("STORE", 6, OW),
    KeySpec::keyword("STOREDIST", 6, OW),
];
const GEORADIUSBYMEMBER_SPECS: &[KeySpec] = &[
    KeySpec::at(1, RO),
    KeySpec::keyword("STORE", 5, OW),
    KeySpec::keyword("STOREDIST", 5, OW),
];

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, WRITE | DENYOOM, GEO, Keys::ONE, geoadd)
        .doc("Adds points (longitude, latitude, name) to a geo set, or moves existing ones; creates the key if needed.", "3.2.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("geodist", -4, READONLY, GEO, Keys::ONE, geodist)
        .doc("Returns the distance between two members of a geo set.", "3.2.0")
        .key_flags(RO),
    CommandSpec::new("geohash", -2, READONLY, GEO, Keys::ONE, geohash)
        .doc("Returns members' positions as standard geohash strings.", "3.2.0")
        .key_flags(RO),
    CommandSpec::new("geopos", -2, READONLY, GEO, Keys::ONE, geopos)
        .doc("Returns members' longitude and latitude.", "3.2.0")
        .key_flags(RO),
    CommandSpec::new("geosearch", -7, READONLY, GEO, Keys::ONE, geosearch)
        .doc("Returns the members of a geo set within a circle or a box around a member or a point.", "6.2.0")
        .key_flags(RO),
    CommandSpec::new("geosearchstore", -8, WRITE | DENYOOM, GEO, Keys::TWO, geosearchstore)
        .doc("Stores the members of a geo set within a circle or a box in another key.", "6.2.0")
        .key_specs(&[KeySpec::at(1, OW), KeySpec::at(2, RO)]),
    CommandSpec::new("georadius", -6, WRITE | DENYOOM, GEO, Keys::ONE, georadius)
        .doc("Returns (or stores) the members of a geo set within a radius of a point.", "3.2.0")
        .key_specs(GEORADIUS_SPECS)
        .keys_fn(store_key),
    CommandSpec::new("georadius_ro", -6, READONLY, GEO, Keys::ONE, georadius_ro)
        .doc("Returns the members of a geo set within a radius of a point.", "3.2.10")
        .key_flags(RO),
    CommandSpec::new("georadiusbymember", -5, WRITE | DENYOOM, GEO, Keys::ONE, georadiusbymember)
        .doc("Returns (or stores) the members of a geo set within a radius of a member.", "3.2.0")
        .key_specs(GEORADIUSBYMEMBER_SPECS)
        .keys_fn(store_key),
    CommandSpec::new("georadiusbymember_ro", -5, READONLY, GEO, Keys::ONE, georadiusbymember_ro)
        .doc("Returns the members of a geo set within a radius of a member.", "3.2.10")
        .key_flags(RO),
];

/// The destination GEORADIUS[BYMEMBER] actually writes: the operand of the *last* STORE or
/// STOREDIST, walking the options as the handler does. The keyword specs find the first of
/// each, which `COMMAND GETKEYS` reports as Redis does; locking adds this one so a repeated
/// STORE never writes outside the locked shards.
fn store_key(argv: &[Bytes], found: &mut dyn FnMut(usize, usize)) {
    let Some(name) = argv.first() else { return };
    let base = if name.eq_ignore_ascii_case(b"georadius") {
        6
    } else {
        5
    };
    let mut dst = None;
    let mut i = base;
    while i < argv.len() {
        let a = &argv[i];
        let has = |n: usize| i + n < argv.len();
        if a.eq_ignore_ascii_case(b"count") && has(1) {
            i += 1;
        } else if (a.eq_ignore_ascii_case(b"store") || a.eq_ignore_ascii_case(b"storedist"))
            && has(1)
        {
            let spec = if a.eq_ignore_ascii_case(b"store") {
                1
            } else {
                2
            };
            dst = Some((i + 1, spec));
            i += 1;
        }
        i += 1;
    }
    if argv.len() > 1 {
        found(1, 0);
    }
    if let Some((pos, spec)) = dst {
        found(pos, spec);
    }
}

const PAIR_ERROR_PREFIX: &str = "ERR invalid longitude,latitude pair";
const BAD_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const NO_MEMBER: &str = "ERR could not decode requested zset member";

/// A double argument as Redis's `getDoubleFromObject` reads it, with `error` when it is not.
fn double_arg(arg: &[u8], error: &'static str) -> Result<f64, CmdError> {
    parse_score(arg).ok_or(CmdError::new(error))
}

/// A longitude and a latitude, each a valid float, together inside the index's limits.
fn lonlat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let lon = double_arg(lon, crate::protocol::error::NOT_FLOAT)?;
    let lat = double_arg(lat, crate::protocol::error::NOT_FLOAT)?;
    if !geo::valid_lonlat(lon, lat) {
        return Err(CmdError::msg(format!(
            "{PAIR_ERROR_PREFIX} {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    geo::unit_to_meters(arg).ok_or(CmdError::new(BAD_UNIT))
}

/// `radius unit`: the radius and metres per unit.
fn radius_arg(radius: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = double_arg(radius, "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(CmdError::new("ERR radius cannot be negative"));
    }
    Ok((r, unit(u)?))
}

/// `width height unit`.
fn box_arg(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let width = double_arg(w, "ERR need numeric width")?;
    let height = double_arg(h, "ERR need numeric height")?;
    if width < 0.0 || height < 0.0 {
        return Err(CmdError::new("ERR height or width cannot be negative"));
    }
    Ok((width, height, unit(u)?))
}

/// A distance as Redis prints it: four decimals.
fn distance_text(d: f64) -> Bytes {
    Bytes::from(format!("{d:.4}"))
}

// ---------------------------------------------------------------------------------------
// GEOADD, GEODIST, GEOHASH, GEOPOS.

/// `GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]` —
/// O(log n) per member. Replies as ZADD (added, or changed with CH).
fn geoadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let (mut nx, mut xx, mut ch) = (false, false, false);
    // The option words as sent: the propagated ZADD repeats them.
    let mut options = Vec::new();
    while let Some(w) = args.peek() {
        match w.to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"ch" => ch = true,
            _ => break,
        }
        options.push(args.next_bytes()?);
    }
    let rest = args.rest();
    if !rest.len().is_multiple_of(3) || (nx && xx) || rest.is_empty() {
        return Err(CmdError::syntax());
    }
    let mut points = Vec::with_capacity(rest.len() / 3);
    for t in rest.chunks_exact(3) {
        let (lon, lat) = lonlat(&t[0], &t[1])?;
        // A valid pair always encodes; the error is unreachable.
        let bits = geo::score_of(lon, lat).ok_or_else(CmdError::syntax)?;
        points.push((bits, t[2].clone()));
    }
    let f = AddFlags {
        nx,
        xx,
        ..AddFlags::default()
    };
    let limits = limits(ctx);
    let mut db = ctx.db();
    let (mut added, mut updated) = (0usize, 0usize);
    let mut apply = |z: &mut ZSetValue| {
        for (bits, member) in &points {
            match z.add(member, *bits as f64, f, limits) {
                Added::Added(_) => added += 1,
                Added::Updated(_) => updated += 1,
                _ => {}
            }
        }
    };
    match write(&mut db, &key)? {
        Some(z) => apply(z),
        None if xx => {}
        None => {
            let mut z = ZSetValue::new(points.len(), points[0].1.len(), limits);
            apply(&mut z);
            db.set(&key, Value::ZSet(Box::new(z)), Expiry::Persist);
        }
    }
    let changed = added + updated;
    if changed > 0 {
        ctx.modified(&key, notify::ZSET, "zadd");
        ctx.modified_many((changed - 1) as u64);
        if ctx.propagating() {
            let mut argv = vec![Bytes::from_static(b"zadd"), key.clone()];
            argv.extend(options);
            for (bits, member) in points {
                argv.push(Bytes::from(bits.to_string()));
                argv.push(member);
            }
            ctx.propagate(argv);
        }
    }
    Ok(Reply::Int(if ch { changed } else { added } as i64))
}

/// `GEODIST key member1 member2 [M|KM|FT|MI]` — O(log n). Nil when either member is missing.
fn geodist(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let (a, b) = (args.next_bytes()?, args.next_bytes()?);
    let to_m = match args.remaining() {
        0 => 1.0,
        1 => unit(&args.next_bytes()?)?,
        _ => return Err(CmdError::syntax()),
    };
    let mut db = ctx.db();
    let Some(z) = read(&mut db, &key)? else {
        return Ok(Reply::Nil);
    };
    let (Some(sa), Some(sb)) = (z.score(&a), z.score(&b)) else {
        return Ok(Reply::Nil);
    };
    let (p, q) = (geo::score_to_lonlat(sa), geo::score_to_lonlat(sb));
    Ok(Reply::Bulk(distance_text(
        geo::distance(p.0, p.1, q.0, q.1) / to_m,
    )))
}

/// `GEOHASH key [member ...]` — O(log n) per member: 11-character standard geohashes.
fn geohash(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut db = ctx.db();
    let z = read(&mut db, &key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| match z.and_then(|z| z.score(m)) {
                Some(s) => Reply::Bulk(Bytes::copy_from_slice(&geo::standard_geohash(s))),
                None => Reply::Nil,
            })
            .collect(),
    ))
}

/// `GEOPOS key [member ...]` — O(log n) per member: `[longitude, latitude]` of each, the
/// centre of its cell, or a null array for a missing member.
fn geopos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut db = ctx.db();
    let z = read(&mut db, &key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| match z.and_then(|z| z.score(m)) {
                Some(s) => coords(geo::score_to_lonlat(s)),
                None => Reply::NilArray,
            })
            .collect(),
    ))
}

fn coords((lon, lat): (f64, f64)) -> Reply {
    Reply::Array(vec![Reply::HumanDouble(lon), Reply::HumanDouble(lat)])
}

// ---------------------------------------------------------------------------------------
// The searches.

/// Which search command runs: where its fixed arguments end and what it may do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// GEORADIUS[_RO] key lon lat radius unit …
    Radius { store: bool },
    /// GEORADIUSBYMEMBER[_RO] key member radius unit …
    ByMember { store: bool },
    /// GEOSEARCH key …
    Search,
    /// GEOSEARCHSTORE dst src …
    SearchStore,
}

impl Form {
    fn base(self) -> usize {
        match self {
            Form::Radius { .. } => 6,
            Form::ByMember { .. } => 5,
            Form::Search => 2,
            Form::SearchStore => 3,
        }
    }

    fn is_search(self) -> bool {
        matches!(self, Form::Search | Form::SearchStore)
    }

    fn may_store(self) -> bool {
        matches!(
            self,
            Form::Radius { store: true } | Form::ByMember { store: true }
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One match.
struct Point {
    member: Bytes,
    score: f64,
    /// From the centre, in metres.
    dist: f64,
    lon: f64,
    lat: f64,
}

/// The options of a search, once parsed.
struct Request {
    shape: Shape,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    any: bool,
    sort: Sort,
    count: usize,
    store: Option<Bytes>,
    storedist: bool,
}

/// Parses a search exactly in Redis's order: the fixed arguments, then each option in turn
/// (so the first bad one decides the error), then the cross-option checks. `z` is the
/// source set (FROMMEMBER and GEORADIUSBYMEMBER read their centre from it); without it the
/// member is not looked up and the shape is left unset, as the caller then answers without
/// searching.
fn parse_search(argv: &[Bytes], form: Form, z: Option<&ZSetValue>) -> Result<Request, CmdError> {
    let member_centre = |m: &[u8]| -> Result<(f64, f64), CmdError> {
        match z.and_then(|z| z.score(m)) {
            Some(s) => Ok(geo::score_to_lonlat(s)),
            None => Err(CmdError::new(NO_MEMBER)),
        }
    };
    let mut shape = Shape {
        lon: 0.0,
        lat: 0.0,
        kind: ShapeKind::Radius(0.0),
        to_m: 1.0,
    };
    match form {
        Form::Radius { .. } => {
            (shape.lon, shape.lat) = lonlat(&argv[2], &argv[3])?;
            let (r, to_m) = radius_arg(&argv[4], &argv[5])?;
            (shape.kind, shape.to_m) = (ShapeKind::Radius(r), to_m);
        }
        // A missing source: the radius is not even read (Redis answers from the options).
        Form::ByMember { .. } if z.is_none() => {}
        Form::ByMember { .. } => {
            (shape.lon, shape.lat) = member_centre(&argv[2])?;
            let (r, to_m) = radius_arg(&argv[3], &argv[4])?;
            (shape.kind, shape.to_m) = (ShapeKind::Radius(r), to_m);
        }
        Form::Search | Form::SearchStore => {}
    }
    let mut req = Request {
        shape,
        withdist: false,
        withhash: false,
        withcoord: false,
        any: false,
        sort: Sort::None,
        count: 0,
        store: (form == Form::SearchStore).then(|| argv[1].clone()),
        storedist: false,
    };
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let base = form.base();
    let opts = &argv[base.min(argv.len())..];
    let mut i = 0;
    while i < opts.len() {
        let arg = opts[i].to_ascii_lowercase();
        let left = opts.len() - i - 1;
        match arg.as_slice() {
            b"withdist" => req.withdist = true,
            b"withhash" => req.withhash = true,
            b"withcoord" => req.withcoord = true,
            b"any" => req.any = true,
            b"asc" => req.sort = Sort::Asc,
            b"desc" => req.sort = Sort::Desc,
            b"count" if left >= 1 => {
                let n = parse_i64(&opts[i + 1]).ok_or(CmdError::not_integer())?;
                if n <= 0 {
                    return Err(CmdError::new("ERR COUNT must be > 0"));
                }
                req.count = usize::try_from(n).unwrap_or(usize::MAX);
                i += 1;
            }
            b"store" | b"storedist" if left >= 1 && form.may_store() => {
                req.store = Some(opts[i + 1].clone());
                req.storedist = arg == b"storedist";
                i += 1;
            }
            b"storedist" if form == Form::SearchStore => req.storedist = true,
            b"frommember" if left >= 1 && form.is_search() && !fromloc => {
                if z.is_some() {
                    (req.shape.lon, req.shape.lat) = member_centre(&opts[i + 1])?;
                }
                frommember = true;
                i += 1;
            }
            b"fromlonlat" if left >= 2 && form.is_search() && !frommember => {
                (req.shape.lon, req.shape.lat) = lonlat(&opts[i + 1], &opts[i + 2])?;
                fromloc = true;
                i += 2;
            }
            b"byradius" if left >= 2 && form.is_search() && !bybox => {
                let (r, to_m) = radius_arg(&opts[i + 1], &opts[i + 2])?;
                (req.shape.kind, req.shape.to_m) = (ShapeKind::Radius(r), to_m);
                byradius = true;
                i += 2;
            }
            b"bybox" if left >= 3 && form.is_search() && !byradius => {
                let (width, height, to_m) = box_arg(&opts[i + 1], &opts[i + 2], &opts[i + 3])?;
                (req.shape.kind, req.shape.to_m) = (ShapeKind::Box { width, height }, to_m);
                bybox = true;
                i += 3;
            }
            _ => return Err(CmdError::syntax()),
        }
        i += 1;
    }
    if req.store.is_some() && (req.withdist || req.withhash || req.withcoord) {
        let who = if form == Form::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::msg(format!(
            "ERR {who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = || String::from_utf8_lossy(&argv[0]).into_owned();
    if form.is_search() && !(frommember || fromloc) {
        return Err(CmdError::msg(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            name()
        )));
    }
    if form.is_search() && !(byradius || bybox) {
        return Err(CmdError::msg(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            name()
        )));
    }
    if req.any && req.count == 0 {
        return Err(CmdError::new(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    // The closest N need an order; ANY takes the first N found instead.
    if req.count > 0 && req.sort == Sort::None && !req.any {
        req.sort = Sort::Asc;
    }
    Ok(req)
}

/// The points of `z` inside the request's shape, in the order the cells are read (or the
/// first `count` found, with ANY).
fn find_points(z: &ZSetValue, req: &Request) -> Vec<Point> {
    let limit = if req.any { req.count } else { 0 };
    let mut out = Vec::new();
    for cell in geo::search_cells(&req.shape) {
        if limit > 0 && out.len() >= limit {
            break;
        }
        let (min, max) = cell.score_range();
        let (from, to) = z.score_span(&ScoreRange {
            min,
            minex: false,
            max,
            maxex: true,
        });
        for (member, score) in z.range(from, to, false) {
            let (lon, lat) = geo::score_to_lonlat(score);
            if let Some(dist) = req.shape.distance_if_within(lon, lat) {
                out.push(Point {
                    member,
                    score,
                    dist,
                    lon,
                    lat,
                });
                if limit > 0 && out.len() >= limit {
                    break;
                }
            }
        }
    }
    out
}

/// Runs a search: parse, read the source, then reply or store.
fn search(ctx: &mut Ctx, args: &mut Args, form: Form) -> CmdResult {
    let argv = args.argv().to_vec();
    let src = if form == Form::SearchStore {
        &argv[2]
    } else {
        &argv[1]
    };
    let mut db = ctx.db();
    let z = read(&mut db, src)?;
    let req = parse_search(&argv, form, z)?;
    let Some(z) = z else {
        return Ok(match &req.store {
            Some(dst) => store_result(ctx, dst, Vec::new(), "del"),
            None => Reply::Array(Vec::new()),
        });
    };
    let mut points = find_points(z, &req);
    let keep = if req.count > 0 {
        req.count.min(points.len())
    } else {
        points.len()
    };
    if req.sort != Sort::None {
        let desc = req.sort == Sort::Desc;
        let by_dist = |a: &Point, b: &Point| {
            let o = a.dist.partial_cmp(&b.dist).unwrap_or(Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        };
        // Redis sorts every match with the C library's (stable) qsort, or only the first
        // COUNT with its partial quicksort, whose order among equal distances differs.
        if keep == points.len() {
            points.sort_by(by_dist);
        } else {
            geo::partial_sort(&mut points, 0, keep - 1, &by_dist);
        }
    }
    points.truncate(keep);
    let to_m = req.shape.to_m;
    if let Some(dst) = &req.store {
        let mut items: Vec<(f64, Bytes)> = points
            .into_iter()
            .map(|p| {
                let score = if req.storedist {
                    p.dist / to_m
                } else {
                    p.score
                };
                (score, p.member)
            })
            .collect();
        items.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let n = items.len();
        let event = if form.is_search() {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        let reply = store_result(ctx, dst, items, event);
        ctx.modified_many(n.saturating_sub(1) as u64);
        return Ok(reply);
    }
    let extras = usize::from(req.withdist) + usize::from(req.withhash) + usize::from(req.withcoord);
    Ok(Reply::Array(
        points
            .into_iter()
            .map(|p| {
                if extras == 0 {
                    return Reply::Bulk(p.member);
                }
                let mut item = Vec::with_capacity(extras + 1);
                item.push(Reply::Bulk(p.member));
                if req.withdist {
                    item.push(Reply::Bulk(distance_text(p.dist / to_m)));
                }
                if req.withhash {
                    item.push(Reply::Int(geo::score_hash(p.score)));
                }
                if req.withcoord {
                    item.push(coords((p.lon, p.lat)));
                }
                Reply::Array(item)
            })
            .collect(),
    ))
}

/// `GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS radius unit|BYBOX width
/// height unit [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]` —
/// O(n + log m), n the points in the cells read, m the set's size.
fn geosearch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    search(ctx, args, Form::Search)
}

/// `GEOSEARCHSTORE dst src FROMMEMBER …|FROMLONLAT … BYRADIUS …|BYBOX … [ASC|DESC]
/// [COUNT count [ANY]] [STOREDIST]` — as GEOSEARCH, plus storing the matches.
fn geosearchstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    search(ctx, args, Form::SearchStore)
}

/// `GEORADIUS key lon lat radius unit [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]]
/// [ASC|DESC] [STORE key|STOREDIST key]` — as GEOSEARCH … FROMLONLAT … BYRADIUS.
fn georadius(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    search(ctx, args, Form::Radius { store: true })
}

/// `GEORADIUS_RO key lon lat radius unit [options]` — GEORADIUS without STORE.
fn georadius_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    search(ctx, args, Form::Radius { store: false })
}

/// `GEORADIUSBYMEMBER key member radius unit [options] [STORE key|STOREDIST key]` — as
/// GEOSEARCH … FROMMEMBER … BYRADIUS.
fn georadiusbymember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    search(ctx, args, Form::ByMember { store: true })
}

/// `GEORADIUSBYMEMBER_RO key member radius unit [options]` — without STORE.
fn georadiusbymember_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    search(ctx, args, Form::ByMember { store: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|w| Bytes::from(w.to_string()))
            .collect()
    }

    #[test]
    fn store_key_is_the_last_store_option() {
        let keys = |line: &str| {
            let a = argv(line);
            let mut out = Vec::new();
            store_key(&a, &mut |p, s| {
                out.push((String::from_utf8_lossy(&a[p]).into_owned(), s))
            });
            out
        };
        let k = |s: &str, i| (s.to_string(), i);
        assert_eq!(keys("georadius k 1 2 3 m"), [k("k", 0)]);
        assert_eq!(
            keys("georadius k 1 2 3 m store a storedist b"),
            [k("k", 0), k("b", 2)]
        );
        assert_eq!(
            keys("georadius k 1 2 3 m store a store b"),
            [k("k", 0), k("b", 1)]
        );
        assert_eq!(keys("georadius k 1 2 3 m count store"), [k("k", 0)]);
        assert_eq!(
            keys("georadiusbymember k m 3 m store d"),
            [k("k", 0), k("d", 1)]
        );
        assert_eq!(keys("georadius k 1 2 3 m store"), [k("k", 0)]);
    }

    #[test]
    fn distances_print_with_four_decimals() {
        assert_eq!(distance_text(166274.15156960033), "166274.1516");
        assert_eq!(distance_text(0.0), "0.0000");
        assert_eq!(distance_text(56.441_257_870_158_2), "56.4413");
        // Exact ties round to even, as glibc's printf does.
        assert_eq!(distance_text(0.03125), "0.0312");
        assert_eq!(distance_text(0.09375), "0.0938");
    }
}
