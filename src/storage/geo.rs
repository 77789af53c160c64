//! Geo indexes: the arithmetic behind GEOADD, GEOPOS, GEODIST, GEOHASH and the searches.
//!
//! A geo set is an ordinary sorted set ([`super::ZSetValue`]); what makes it geographic is
//! the score of each member, a 52-bit *interleaved geohash* stored as a double (exact: 52
//! bits fit a double's significand). This module only converts between coordinates,
//! geohash cells and scores, measures distances, and says which cells a search must read;
//! the commands read those cells from the sorted set as score ranges.
//!
//! # The geohash
//! Longitude `[-180, 180]` and latitude `[-85.05112878, 85.05112878]` (the Web-Mercator
//! limits, as Redis uses) are each scaled to a 26-bit integer cell index; the two indexes
//! are interleaved bit by bit, longitude in the odd bits and latitude in the even bits, so
//! the most significant bit is the longitude's. A prefix of `2 * step` bits is a cell of
//! resolution `step`; the cells of one prefix are one contiguous score range, which is what
//! makes a search a handful of range scans. A point decodes to the centre of its step-26
//! cell (about 0.6 m wide), clamped to the limits, so coordinates read back differ from
//! those written by up to half a cell.
//!
//! # Searches
//! [`search_cells`] picks a resolution where one cell is about as large as the search area,
//! takes the centre's cell and its eight neighbours, drops the neighbours the area cannot
//! reach, and lists them in a fixed order (centre, N, S, E, W, NE, NW, SE, SW). Readers scan
//! each cell's score range and keep the points [`Shape::distance_if_within`] accepts. The
//! order of the cells is observable (results without `ASC`/`DESC`, and `COUNT … ANY`), so
//! it is part of the interface and matches Redis's.
//!
//! # Float behaviour
//! Replies print coordinates with 17 decimals and distances with 4, so the arithmetic is
//! arranged to give the same doubles as Redis 7.0 on x86-64: degrees to radians by
//! multiplying with `π/180` (and back by dividing), haversine with the latitude-only
//! shortcut when the longitudes agree, and scores that are not geohashes (a plain ZADD can
//! put anything in the set) converted to 64-bit integers the way the x86-64 instructions a
//! C cast compiles to do.

use std::cmp::Ordering;
use std::f64::consts::PI;

/// The westmost longitude, degrees.
pub const LON_MIN: f64 = -180.0;
/// The eastmost longitude, degrees.
pub const LON_MAX: f64 = 180.0;
/// The southmost latitude a point may have, degrees (Web-Mercator's limit).
pub const LAT_MIN: f64 = -85.05112878;
/// The northmost latitude a point may have, degrees (Web-Mercator's limit).
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per coordinate of a stored point.
pub const STEP_MAX: u8 = 26;
/// The Earth radius Redis measures with, in metres.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Half the Earth's circumference in Web-Mercator metres: the largest useful search.
const MERCATOR_MAX: f64 = 20037726.37;
const DEG_TO_RAD: f64 = PI / 180.0;

/// A closed interval of one coordinate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// The lower end.
    pub min: f64,
    /// The upper end.
    pub max: f64,
}

/// The ranges the index uses (latitude limited to Web-Mercator).
pub const LON_RANGE: Range = Range {
    min: LON_MIN,
    max: LON_MAX,
};
/// The latitude range of stored points (Web-Mercator's, see [`LAT_MIN`]).
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};
/// The latitude range of standard geohash strings (GEOHASH re-encodes with it).
pub const LAT_RANGE_STD: Range = Range {
    min: -90.0,
    max: 90.0,
};

/// A geohash cell: the top `2 * step` bits of an interleaved hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The cell's hash: the interleaved latitude/longitude bits, `2 * step` of them.
    pub bits: u64,
    /// Bits per coordinate (precision), up to [`STEP_MAX`].
    pub step: u8,
}

impl Cell {
    /// The score range `[min, max)` holding every point of this cell.
    pub fn score_range(self) -> (f64, f64) {
        let shift = 52 - 2 * u32::from(self.step);
        (
            (self.bits << shift) as f64,
            ((self.bits + 1) << shift) as f64,
        )
    }

    /// The cell `dlon` columns east and `dlat` rows north, wrapping around at the edges.
    /// Only a coordinate that moves is cut to the cell's bits: a point on the upper limit
    /// (index `2^step`, see [`encode_in`]) keeps that index in the other coordinate, so its
    /// north and south neighbours lie off the map and hold nothing, as in Redis.
    fn moved(self, dlon: i32, dlat: i32) -> Cell {
        let (lat, lon) = deinterleave(self.bits);
        let mask = (1u64 << self.step) - 1;
        let shift = |v: u32, d: i32| {
            if d == 0 {
                v
            } else {
                ((i64::from(v) + i64::from(d)) as u64 & mask) as u32
            }
        };
        Cell {
            bits: interleave(shift(lat, dlat), shift(lon, dlon)),
            step: self.step,
        }
    }
}

/// The rectangle a cell covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    /// Its longitudes, degrees.
    pub lon: Range,
    /// Its latitudes, degrees.
    pub lat: Range,
}

/// Spreads the 32 bits of `v` over the even bits of a u64.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `x` into a u32 (the inverse of [`spread`]).
fn gather(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0xFFFF_FFFF) as u32
}

/// Latitude index in the even bits, longitude index in the odd bits.
pub fn interleave(lat: u32, lon: u32) -> u64 {
    spread(lat) | (spread(lon) << 1)
}

/// `(latitude index, longitude index)` of an interleaved hash.
pub fn deinterleave(bits: u64) -> (u32, u32) {
    (gather(bits), gather(bits >> 1))
}

/// Whether a longitude/latitude pair can be indexed (GEOADD's and the searches' check).
pub fn valid_lonlat(lon: f64, lat: f64) -> bool {
    (LON_MIN..=LON_MAX).contains(&lon) && (LAT_MIN..=LAT_MAX).contains(&lat)
}

/// The cell of resolution `step` (1..=32) holding a point, within the given ranges. `None`
/// for a point outside the index limits or the ranges.
pub fn encode_in(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Cell> {
    if !(1..=32).contains(&step) || !valid_lonlat(lon, lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    // The offsets lie in [0, 2^step]: truncation toward zero, as a C cast does. A point on
    // the upper limit gets index 2^step, a bit above the cell's width (Redis does the same,
    // and GEOPOS clamps it back).
    Some(Cell {
        bits: interleave(lat_off as u32, lon_off as u32),
        step,
    })
}

/// The cell of a point in the index's ranges.
pub fn encode(lon: f64, lat: f64, step: u8) -> Option<Cell> {
    encode_in(LON_RANGE, LAT_RANGE, lon, lat, step)
}

/// The score GEOADD stores for a valid point.
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode(lon, lat, STEP_MAX).map(|c| c.bits)
}

/// The rectangle of a cell, in the given ranges. The upper index is computed in 32-bit
/// arithmetic (it wraps for the all-ones index of a non-geohash score, as in Redis).
pub fn decode_in(lon_r: Range, lat_r: Range, cell: Cell) -> Area {
    let (ilat, ilon) = deinterleave(cell.bits);
    let scale = (1u64 << cell.step) as f64;
    let (lat_w, lon_w) = (lat_r.max - lat_r.min, lon_r.max - lon_r.min);
    Area {
        lat: Range {
            min: lat_r.min + (f64::from(ilat) / scale) * lat_w,
            max: lat_r.min + (f64::from(ilat.wrapping_add(1)) / scale) * lat_w,
        },
        lon: Range {
            min: lon_r.min + (f64::from(ilon) / scale) * lon_w,
            max: lon_r.min + (f64::from(ilon.wrapping_add(1)) / scale) * lon_w,
        },
    }
}

fn decode(cell: Cell) -> Area {
    decode_in(LON_RANGE, LAT_RANGE, cell)
}

/// The centre of a cell, clamped to the index limits: `(longitude, latitude)`.
pub fn cell_center(cell: Cell) -> (f64, f64) {
    let a = decode(cell);
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// `cvttsd2si`: truncation to i64, `i64::MIN` for NaN and anything out of range.
fn x86_to_i64(d: f64) -> i64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO63..TWO63).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// A score as a C `(uint64_t)` cast turns it into bits on x86-64: below 2^63 the signed
/// conversion (so -1 becomes all ones), from 2^63 the conversion of `d - 2^63` with the top
/// bit flipped. Geohash scores are small integers and convert exactly.
pub fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if score < TWO63 {
        x86_to_i64(score) as u64
    } else {
        (x86_to_i64(score - TWO63) as u64) ^ (1 << 63)
    }
}

/// A score as a C `(long long)` cast gives it (WITHHASH prints this).
pub fn score_hash(score: f64) -> i64 {
    x86_to_i64(score)
}

/// The point a score stands for: the centre of its step-26 cell, `(longitude, latitude)`.
pub fn score_to_lonlat(score: f64) -> (f64, f64) {
    cell_center(Cell {
        bits: score_bits(score),
        step: STEP_MAX,
    })
}

/// The 11-character standard geohash (latitude range ±90) of a stored score, as GEOHASH
/// prints it: ten characters from the 50 top bits of a 52-bit hash, and a final `0`.
pub fn standard_geohash(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = score_to_lonlat(score);
    let bits = encode_in(LON_RANGE, LAT_RANGE_STD, lon, lat, STEP_MAX).map_or(0, |c| c.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

fn rad(deg: f64) -> f64 {
    deg * DEG_TO_RAD
}

fn deg(rad: f64) -> f64 {
    rad / DEG_TO_RAD
}

/// The distance along a meridian between two latitudes, in metres.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (rad(lat2) - rad(lat1)).abs()
}

/// The great-circle (haversine) distance between two points, in metres.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let half_dlon = ((rad(lon2) - rad(lon1)) / 2.0).sin();
    if half_dlon == 0.0 {
        // Same meridian: the haversine reduces to the latitude difference.
        return lat_distance(lat1, lat2);
    }
    let (phi1, phi2) = (rad(lat1), rad(lat2));
    let half_dlat = ((phi2 - phi1) / 2.0).sin();
    let a = half_dlat * half_dlat + phi1.cos() * phi2.cos() * half_dlon * half_dlon;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// A distance unit and its length in metres (`m`, `km`, `ft`, `mi`, any case).
pub fn unit_to_meters(unit: &[u8]) -> Option<f64> {
    let u = unit.to_ascii_lowercase();
    match u.as_slice() {
        b"m" => Some(1.0),
        b"km" => Some(1000.0),
        b"ft" => Some(0.3048),
        b"mi" => Some(1609.34),
        _ => None,
    }
}

/// The area a search covers, in the units it was given (`to_m` metres each).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    /// `BYRADIUS`: a circle of this radius.
    Radius(f64),
    /// `BYBOX`: a rectangle around the centre.
    Box {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
    },
}

/// A search: its centre, its area and its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// The centre's longitude, degrees.
    pub lon: f64,
    /// The centre's latitude, degrees.
    pub lat: f64,
    /// The area around the centre.
    pub kind: ShapeKind,
    /// Metres per unit.
    pub to_m: f64,
}

impl Shape {
    /// The distance from the centre to a point in metres, when the point is inside.
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.to_m).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                // Latitude first: it is the cheaper test.
                if lat_distance(lat, self.lat) > height * self.to_m / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > width * self.to_m / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` of the area, in degrees. Longitudes widen
    /// towards the pole: the edge nearer to it (top in the north, bottom in the south)
    /// decides.
    pub fn bounds(&self) -> [f64; 4] {
        let (half_h, half_w) = match self.kind {
            ShapeKind::Radius(r) => (self.to_m * r, self.to_m * r),
            ShapeKind::Box { width, height } => {
                (self.to_m * (height / 2.0), self.to_m * (width / 2.0))
            }
        };
        let dlat = deg(half_h / EARTH_RADIUS_M);
        let dlon_top = deg(half_w / EARTH_RADIUS_M / rad(self.lat + dlat).cos());
        let dlon_bottom = deg(half_w / EARTH_RADIUS_M / rad(self.lat - dlat).cos());
        let dlon = if self.lat < 0.0 {
            dlon_bottom
        } else {
            dlon_top
        };
        [
            self.lon - dlon,
            self.lat - dlat,
            self.lon + dlon,
            self.lat + dlat,
        ]
    }

    /// The distance from the centre to the farthest point of the area, in metres.
    fn reach_m(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Radius(r) => r,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.to_m
    }
}

/// The resolution whose cells are about as wide as a search reaching `range_m` metres from
/// a centre at latitude `lat`: halve the Mercator width until it fits, back off two steps
/// so the neighbours cover the area, and one or two more near the poles where meridians
/// converge.
pub fn estimate_step(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return STEP_MAX;
    }
    let mut range = range_m;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if lat.abs() > 66.0 {
        step -= 1;
        if lat.abs() > 80.0 {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

/// The centre cell and its neighbours, in scan order.
struct Neighbourhood {
    /// Centre, N, S, E, W, NE, NW, SE, SW; `None` once excluded.
    cells: [Option<Cell>; 9],
    centre_area: Area,
}

const N: usize = 1;
const S: usize = 2;
const E: usize = 3;
const W: usize = 4;
const NE: usize = 5;
const NW: usize = 6;
const SE: usize = 7;
const SW: usize = 8;

fn neighbourhood(lon: f64, lat: f64, step: u8) -> Option<Neighbourhood> {
    let c = encode(lon, lat, step)?;
    let at = |dlon, dlat| Some(c.moved(dlon, dlat));
    Some(Neighbourhood {
        cells: [
            Some(c),
            at(0, 1),
            at(0, -1),
            at(1, 0),
            at(-1, 0),
            at(1, 1),
            at(-1, 1),
            at(1, -1),
            at(-1, -1),
        ],
        centre_area: decode(c),
    })
}

/// The cells a search reads, in order, each at most once in a row (a very large area can
/// make neighbours wrap onto each other). Empty when the centre cannot be indexed.
pub fn search_cells(shape: &Shape) -> Vec<Cell> {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounds();
    let mut step = estimate_step(shape.reach_m(), shape.lat);
    let Some(mut hood) = neighbourhood(shape.lon, shape.lat, step) else {
        return Vec::new();
    };
    // Near a cell edge the neighbours at this resolution may still not reach the bounds:
    // one step coarser then.
    let area = |i: usize| hood.cells[i].map(decode);
    let short = area(N).is_some_and(|a| a.lat.max < max_lat)
        || area(S).is_some_and(|a| a.lat.min > min_lat)
        || area(E).is_some_and(|a| a.lon.max < max_lon)
        || area(W).is_some_and(|a| a.lon.min > min_lon);
    if step > 1 && short {
        step -= 1;
        match neighbourhood(shape.lon, shape.lat, step) {
            Some(h) => hood = h,
            None => return Vec::new(),
        }
    }
    // Drop the neighbours on a side the area does not reach past the centre cell.
    if step >= 2 {
        let a = hood.centre_area;
        let mut drop = |sides: [usize; 3]| sides.iter().for_each(|&i| hood.cells[i] = None);
        if a.lat.min < min_lat {
            drop([S, SW, SE]);
        }
        if a.lat.max > max_lat {
            drop([N, NE, NW]);
        }
        if a.lon.min < min_lon {
            drop([W, SW, NW]);
        }
        if a.lon.max > max_lon {
            drop([E, SE, NE]);
        }
    }
    let mut out: Vec<Cell> = Vec::with_capacity(9);
    // A cell equal to the one read just before is skipped; the centre never counts as
    // "just before" (Redis compares only with a neighbour it read).
    let mut last: Option<Cell> = None;
    for cell in hood.cells.iter().flatten() {
        if out.is_empty() {
            out.push(*cell);
            continue;
        }
        if last == Some(*cell) {
            continue;
        }
        out.push(*cell);
        last = Some(*cell);
    }
    out
}

/// Orders `v` by `cmp` far enough that positions `lo..=hi` hold what a full sort would put
/// there (the rest is partitioned around them), as Redis does for `COUNT` below the number
/// of matches.
///
/// This is Bentley and McIlroy's quicksort ("Engineering a Sort Function", 1993: median of
/// three or ninther pivot, three-way partition gathering equal keys at the ends, insertion
/// sort below 7 elements; no switch to insertion sort after a pass that swapped nothing),
/// which skips the partitions lying wholly outside `lo..=hi`. It is not stable: among equal keys (points at the same
/// distance) the order it leaves is part of what clients see, so it is reproduced exactly.
/// A full sort (`COUNT` absent or not below the matches) is stable instead, as glibc's
/// merge-sort `qsort` is.
pub fn partial_sort<T>(v: &mut [T], lo: usize, hi: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    if v.len() > 1 && lo <= hi {
        partial_sort_at(v, 0, v.len(), lo, hi, cmp);
    }
}

fn overlaps(start: usize, len: usize, lo: usize, hi: usize) -> bool {
    !(hi < start || lo >= start + len)
}

fn insertion_sort<T>(v: &mut [T], a: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for m in a + 1..a + n {
        let mut l = m;
        while l > a && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
            v.swap(l, l - 1);
            l -= 1;
        }
    }
}

fn median3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    use Ordering::{Greater, Less};
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

fn swap_runs<T>(v: &mut [T], i: usize, j: usize, n: usize) {
    for k in 0..n {
        v.swap(i + k, j + k);
    }
}

fn partial_sort_at<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    lo: usize,
    hi: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
) {
    use Ordering::{Equal, Greater, Less};
    loop {
        if n < 7 {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let (mut pl, mut pn) = (a, a + n - 1);
            if n > 40 {
                let d = n / 8;
                pl = median3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = median3(v, pm - d, pm, pm + d, cmp);
                pn = median3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        // v[a] is the pivot; equal keys collect in a+1..pa and pd+1..a+n.
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let end = a + n;
        let r = (pa - a).min(pb - pa);
        swap_runs(v, a, pb - r, r);
        let r = (pd - pc).min(end - pd - 1);
        swap_runs(v, pb, end - r, r);
        let below = pb - pa;
        if below > 1 && overlaps(a, below, lo, hi) {
            partial_sort_at(v, a, below, lo, hi, cmp);
        }
        let above = pd - pc;
        if above > 1 && overlaps(end - above, above, lo, hi) {
            a = end - above;
            n = above;
            continue;
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_round_trips() {
        for (lat, lon) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (0x3FF_FFFF, 0x155_5555),
            (u32::MAX, 7),
        ] {
            assert_eq!(deinterleave(interleave(lat, lon)), (lat, lon));
        }
        // Longitude owns the odd bits, so it has the top bit of a 52-bit hash.
        assert_eq!(interleave(0, 1 << 25), 1 << 51);
        assert_eq!(interleave(1 << 25, 0), 1 << 50);
    }

    #[test]
    fn encodes_known_points_like_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(-180.0, -85.05112878), Some(0));
        // The upper limits give index 2^26: bits beyond the 52 of a cell (as in Redis).
        let top = score_of(180.0, 85.05112878).unwrap();
        assert!(top >= 1 << 52);
        assert_eq!(score_of(180.000001, 0.0), None);
        assert_eq!(score_of(0.0, 85.051129), None);
        assert_eq!(score_of(0.0, -85.05112879), None);
        assert_eq!(score_of(f64::INFINITY, 0.0), None);
    }

    #[test]
    fn decodes_cell_centres_clamped_to_the_limits() {
        let (lon, lat) = score_to_lonlat(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        let (lon, lat) = score_to_lonlat(0.0);
        assert_eq!(format!("{lon:.17}"), "-179.99999731779098511");
        assert_eq!(format!("{lat:.17}"), "-85.05112751263942528");
        // Past the upper limit: clamped.
        let top = score_of(180.0, 85.05112878).unwrap() as f64;
        assert_eq!(score_to_lonlat(top), (180.0, LAT_MAX));
        // Scores that are not geohashes convert as a C cast does on x86-64.
        assert_eq!(score_bits(-1.0), u64::MAX);
        assert_eq!(score_bits(1e20), 0);
        assert_eq!(score_bits(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_bits(1.5), 1);
        assert_eq!(score_hash(1e19), i64::MIN);
        assert_eq!(score_to_lonlat(-1.0), (180.0, LAT_MAX));
    }

    #[test]
    fn standard_geohash_strings() {
        assert_eq!(&standard_geohash(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&standard_geohash(3479447370796909.0), b"sqdtr74hyu0");
        assert_eq!(&standard_geohash(0.0), b"00bh0hbj200");
        assert_eq!(&standard_geohash(-1.0), b"bp05b5048p0");
    }

    #[test]
    fn distances_follow_the_haversine() {
        let (p, c) = (
            score_to_lonlat(3479099956230698.0),
            score_to_lonlat(3479447370796909.0),
        );
        let d = distance(p.0, p.1, c.0, c.1);
        assert!((d - 166274.1516).abs() < 1e-4, "{d}");
        assert_eq!(distance(1.0, 2.0, 1.0, 2.0), 0.0);
        // Same meridian: exactly the latitude distance.
        assert_eq!(distance(5.0, 10.0, 5.0, 11.0), lat_distance(10.0, 11.0));
        // Half the equator.
        let half = distance(0.0, 0.0, 180.0, 0.0);
        assert!((half - PI * EARTH_RADIUS_M).abs() < 1e-6);
    }

    #[test]
    fn shapes_filter_by_radius_and_box() {
        let circle = Shape {
            lon: 15.0,
            lat: 37.0,
            kind: ShapeKind::Radius(100.0),
            to_m: 1000.0,
        };
        assert!(circle.distance_if_within(15.087269, 37.502669).is_some());
        assert!(circle.distance_if_within(13.361389, 38.115556).is_none());
        let boxed = Shape {
            kind: ShapeKind::Box {
                width: 400.0,
                height: 100.0,
            },
            ..circle
        };
        // 190 km away but within 200 km east-west and 50 km north-south? No: 124 km north.
        assert!(boxed.distance_if_within(13.361389, 38.115556).is_none());
        let tall = Shape {
            kind: ShapeKind::Box {
                width: 400.0,
                height: 400.0,
            },
            ..circle
        };
        let d = tall.distance_if_within(13.361389, 38.115556).unwrap();
        assert!((d / 1000.0 - 190.4424).abs() < 1e-4);
        let b = circle.bounds();
        assert!(b[0] < 15.0 && b[2] > 15.0 && b[1] < 37.0 && b[3] > 37.0);
        assert!((b[3] - 37.0 - 100_000.0 / EARTH_RADIUS_M / DEG_TO_RAD).abs() < 1e-12);
    }

    #[test]
    fn partial_sort_orders_the_requested_positions() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for len in [0usize, 1, 2, 6, 7, 8, 40, 41, 100, 500] {
            for _ in 0..20 {
                let v: Vec<u64> = (0..len).map(|_| next() % 50).collect();
                let mut full = v.clone();
                full.sort();
                let hi = if len == 0 { 0 } else { (next() as usize) % len };
                let mut part = v.clone();
                partial_sort(&mut part, 0, hi, &|a: &u64, b: &u64| a.cmp(b));
                assert_eq!(
                    part[..len.min(hi + 1)],
                    full[..len.min(hi + 1)],
                    "{len} {hi}"
                );
                let mut whole = v.clone();
                partial_sort(&mut whole, 0, len.saturating_sub(1), &|a: &u64, b: &u64| {
                    a.cmp(b)
                });
                assert_eq!(whole, full);
            }
        }
        // Unstable among equal keys, in the algorithm's own way: the middle element is
        // swapped to the front as the pivot, and nothing else moves.
        let mut v = vec![
            (1, 'a'),
            (1, 'b'),
            (1, 'c'),
            (1, 'd'),
            (1, 'e'),
            (1, 'f'),
            (1, 'g'),
        ];
        partial_sort(&mut v, 0, 1, &|a: &(i32, char), b: &(i32, char)| {
            a.0.cmp(&b.0)
        });
        assert_eq!(v.iter().map(|p| p.1).collect::<String>(), "dbcaefg");
    }

    #[test]
    fn steps_shrink_with_the_radius() {
        assert_eq!(estimate_step(0.0, 0.0), 26);
        assert_eq!(estimate_step(5e7, 0.0), 1);
        assert!(estimate_step(1000.0, 0.0) > estimate_step(100_000.0, 0.0));
        assert_eq!(estimate_step(1000.0, 70.0) + 1, estimate_step(1000.0, 0.0));
        assert_eq!(estimate_step(1000.0, -85.0) + 2, estimate_step(1000.0, 0.0));
        assert_eq!(estimate_step(0.001, 0.0), 26);
    }

    #[test]
    fn search_cells_cover_the_centre_and_stay_distinct_in_a_row() {
        let s = Shape {
            lon: 15.0,
            lat: 37.0,
            kind: ShapeKind::Radius(200.0),
            to_m: 1000.0,
        };
        let cells = search_cells(&s);
        assert!(!cells.is_empty() && cells.len() <= 9);
        let centre = score_of(15.0, 37.0).unwrap() as f64;
        let (lo, hi) = cells[0].score_range();
        assert!(lo <= centre && centre < hi);
        for w in cells[1..].windows(2) {
            assert_ne!(w[0], w[1]);
        }
        // The whole world at step 1: four cells, which wrap onto each other.
        let world = Shape {
            kind: ShapeKind::Radius(50_000.0),
            ..s
        };
        let cells = search_cells(&world);
        assert!(cells.iter().all(|c| c.step == 1));
        let off_map = Shape { lat: 89.0, ..s };
        assert!(search_cells(&off_map).is_empty());
    }
}
