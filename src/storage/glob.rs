//! Redis-compatible glob matching over raw bytes.
//!
//! `KEYS`, `SCAN … MATCH`, `PSUBSCRIBE` and `CONFIG GET` all select names with the same
//! glob dialect, and clients depend on its exact behaviour. [`glob_match`] reproduces that
//! dialect byte for byte, as observed against Redis 7.0.15:
//!
//! * `*` matches any run of bytes (consecutive stars act as one), `?` matches exactly one
//!   byte, and `\x` outside a class matches `x` literally. A lone trailing `\` matches a
//!   literal `\`.
//! * `[…]` matches one byte from a class; `[^…]` negates it. Inside a class `\x` means a
//!   literal `x`, and `a-z` is a range whose ends are swapped when reversed (`[z-a]` equals
//!   `[a-z]`). A `]` always closes the class, even first (`[]` matches nothing and `[^]`
//!   matches any byte). A class with no closing `]` runs to the end of the pattern (`[abc`
//!   behaves like `[abc]`). A member followed by `-` and any further byte is a range, even if
//!   that byte is `]`: `[a-]` is the range `]`..`a` in a class left unterminated.
//! * With `nocase`, bytes are compared after ASCII lower-casing, except the escaped byte of
//!   `\x` *inside* a class, which Redis compares exactly. Range ends are ordered before they
//!   are lower-cased, so `[N-m]` is empty under `nocase`.
//! * Range bounds compare as C `char`, which is signed on x86-64, so bytes `0x80..=0xFF` sort
//!   *below* ASCII in a range: `[a-\xff]` is `\xff`..`a` and matches `A` but not `b`.
//! * An empty text is matched only by the empty pattern: even `*` does not match it.
//!   (Redis's `KEYS *` and `SCAN` with `MATCH *` skip matching altogether, so callers that
//!   want that behaviour must short-circuit the pattern `*` themselves.)
//! * A pattern with more than 1000 star groups that are followed by something never matches:
//!   Redis bounds its recursion depth there.
//!
//! No existing crate follows these rules: `glob`, `globset` and `wildmatch` differ on `[^…]`,
//! reversed ranges, `\` escapes, unterminated classes or case folding, and most work on
//! `str` paths rather than arbitrary bytes. So this module implements them directly.
//!
//! The matcher allocates nothing and never recurses. Instead of trying every split of the
//! text at every star, it remembers only the latest star and, on a mismatch, lets that star
//! absorb one more byte. Every token other than a star consumes exactly one byte, so the
//! latest star can always stand in for the earlier ones, and the result equals the fully
//! backtracking search while costing at most O(pattern length × text length). Patterns such
//! as `a*a*a*a*a*…b` therefore cannot cause exponential work.

/// Star groups (runs of `*`) followed by more pattern that Redis accepts before it refuses
/// a match, because each one costs a level of recursion in its matcher.
const MAX_STAR_NESTING: usize = 1000;

/// Whether `text` matches the Redis glob `pattern`; `nocase` compares ASCII letters
/// case-insensitively. See the [module documentation](self) for the exact rules.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    if text.is_empty() {
        return pattern.is_empty();
    }
    if exceeds_star_nesting(pattern) {
        return false;
    }
    let mut p = 0;
    let mut t = 0;
    // After the latest star: where the rest of the pattern starts, and the text position
    // the current attempt began at (the star has absorbed everything before it).
    let mut retry: Option<(usize, usize)> = None;
    loop {
        if t == text.len() {
            return skip_stars(pattern, p) == pattern.len();
        }
        if p < pattern.len() {
            match step(pattern, p, text[t], nocase) {
                Step::Star { next } => {
                    if next == pattern.len() {
                        return true;
                    }
                    retry = Some((next, t));
                    p = next;
                    continue;
                }
                Step::Byte {
                    matched: true,
                    next,
                } => {
                    p = next;
                    t += 1;
                    continue;
                }
                Step::Byte { matched: false, .. } => {}
            }
        }
        match &mut retry {
            Some((rest, start)) => {
                *start += 1;
                p = *rest;
                t = *start;
            }
            None => return false,
        }
    }
}

/// The outcome of reading the pattern token at some position against one text byte.
enum Step {
    /// A run of stars; `next` is the position after it.
    Star { next: usize },
    /// A token that consumes exactly one byte; `next` is the position after it.
    Byte { matched: bool, next: usize },
}

/// Reads the token at `pattern[p]` (which must exist) and tests it against `byte`.
fn step(pattern: &[u8], p: usize, byte: u8, nocase: bool) -> Step {
    match pattern[p..] {
        [b'*', ..] => Step::Star {
            next: skip_stars(pattern, p),
        },
        [b'?', ..] => Step::Byte {
            matched: true,
            next: p + 1,
        },
        [b'[', ..] => class(pattern, p + 1, byte, nocase),
        [b'\\', escaped, ..] => Step::Byte {
            matched: same(escaped, byte, nocase),
            next: p + 2,
        },
        [literal, ..] => Step::Byte {
            matched: same(literal, byte, nocase),
            next: p + 1,
        },
        [] => unreachable!("step called past the end of the pattern"),
    }
}

/// Reads a class whose body starts at `pattern[i]` (just after the `[`) and tests `byte`.
fn class(pattern: &[u8], mut i: usize, byte: u8, nocase: bool) -> Step {
    let negated = pattern.get(i) == Some(&b'^');
    if negated {
        i += 1;
    }
    let mut found = false;
    loop {
        match pattern[i..] {
            // The end of the pattern closes an unterminated class.
            [] => break,
            // Escapes come first, so `\]` is a member rather than the end; an escaped byte
            // is compared exactly, even with `nocase`.
            [b'\\', escaped, ..] => {
                found |= escaped == byte;
                i += 2;
            }
            [b']', ..] => {
                i += 1;
                break;
            }
            [low, b'-', high, ..] => {
                found |= in_range(low, high, byte, nocase);
                i += 3;
            }
            [member, ..] => {
                found |= same(member, byte, nocase);
                i += 1;
            }
        }
    }
    Step::Byte {
        matched: found != negated,
        next: i,
    }
}

/// Whether `byte` lies in the range `low`-`high`, ordered as signed C `char`s (as Redis
/// does on x86-64), with the ends swapped when reversed and lower-cased only afterwards.
fn in_range(low: u8, high: u8, byte: u8, nocase: bool) -> bool {
    let (low, high) = if (low as i8) > (high as i8) {
        (high, low)
    } else {
        (low, high)
    };
    let signed = |b: u8| fold(b, nocase) as i8;
    (signed(low)..=signed(high)).contains(&signed(byte))
}

fn same(a: u8, b: u8, nocase: bool) -> bool {
    fold(a, nocase) == fold(b, nocase)
}

fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// The first position at or after `p` that is not a `*`.
fn skip_stars(pattern: &[u8], mut p: usize) -> usize {
    while pattern.get(p) == Some(&b'*') {
        p += 1;
    }
    p
}

/// Whether the pattern has more than [`MAX_STAR_NESTING`] star groups followed by more
/// pattern. Redis recurses once per such group and gives up past that depth, so it can
/// never match such a pattern.
fn exceeds_star_nesting(pattern: &[u8]) -> bool {
    // Each counted group needs a star plus at least one byte after it.
    if pattern.len() < 2 * (MAX_STAR_NESTING + 1) {
        return false;
    }
    let mut groups = 0;
    let mut p = 0;
    while p < pattern.len() {
        p = match step(pattern, p, 0, false) {
            Step::Star { next } => {
                if next < pattern.len() {
                    groups += 1;
                    if groups > MAX_STAR_NESTING {
                        return true;
                    }
                }
                next
            }
            Step::Byte { next, .. } => next,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `(pattern, text, matches)`, each checked against Redis 7.0.15 (x86-64) with
    /// `PSUBSCRIBE pattern` + `PUBLISH text`, which runs the case-sensitive matcher directly.
    const CASE_SENSITIVE: &[(&[u8], &[u8], bool)] = &[
        // `?`, `*` and plain classes.
        (b"h?llo", b"hello", true),
        (b"h?llo", b"hllo", false),
        (b"h*llo", b"hllo", true),
        (b"h*llo", b"heeeello", true),
        (b"h[ae]llo", b"hallo", true),
        (b"h[ae]llo", b"hillo", false),
        (b"h[^e]llo", b"hallo", true),
        (b"h[^e]llo", b"hello", false),
        (b"h[a-b]llo", b"hbllo", true),
        (b"h[b-a]llo", b"hbllo", true),
        (b"h[b-a]llo", b"hcllo", false),
        (b"*a*b", b"aab", true),
        (b"a*b*c", b"abc", true),
        (b"ab*", b"ab", true),
        (b"a*", b"a", true),
        (b"a**", b"a", true),
        (b"*", b"a", true),
        // Escapes outside a class.
        (b"\\*", b"*", true),
        (b"\\*", b"a", false),
        (b"a\\", b"a\\", true),
        (b"a\\", b"a", false),
        (b"\\", b"\\", true),
        (b"\\\\", b"\\", true),
        // Escapes inside a class.
        (b"[\\]]", b"]", true),
        (b"[\\]]", b"\\", false),
        (b"[\\]", b"]", true),
        (b"[\\]", b"\\", false),
        (b"[\\", b"\\", true),
        (b"[\\", b"a", false),
        (b"h[\\-]llo", b"h-llo", true),
        // Unterminated classes run to the end of the pattern.
        (b"[abc", b"a", true),
        (b"[abc", b"[", false),
        (b"[abc", b"d", false),
        (b"[abc", b"ab", false),
        (b"x[abc", b"xc", true),
        (b"[", b"[", false),
        (b"[", b"a", false),
        (b"[^", b"a", true),
        (b"[^", b"^", true),
        (b"[^", b"ab", false),
        // `]` first closes the class.
        (b"[]", b"]", false),
        (b"[]", b"a", false),
        (b"[]a", b"a", false),
        (b"[]a", b"]a", false),
        (b"[^]", b"a", true),
        (b"[^]", b"]", true),
        (b"[^]", b"^", true),
        (b"[^]]", b"a", false),
        (b"[^]]", b"a]", true),
        // `-` handling: `[a-]` is the range `]`..`a`, unterminated.
        (b"[a-]", b"a", true),
        (b"[a-]", b"-", false),
        (b"[a-]", b"]", true),
        (b"[a-]", b"_", true),
        (b"[a-]x", b"x", true),
        (b"[a-]x", b"ax", false),
        (b"[a-]]", b"]", true),
        (b"[a-]]", b"a]", false),
        (b"[-a]", b"-", true),
        (b"[a-c-e]", b"d", false),
        (b"[a-c-e]", b"-", true),
        // Ranges compare bytes as signed chars.
        (b"[a-\xff]", b"\xc0", false),
        (b"[a-\xff]", b"b", false),
        (b"[a-\xff]", b"\xff", true),
        (b"[a-\xff]", b"A", true),
        (b"[\x01-\xff]", b"b", false),
        (b"[\x01-\xff]", b"\x00", true),
        (b"[\x80-\xff]", b"\x90", true),
        (b"[^a-z]", b"\xe9", true),
        // Binary safety.
        (b"a\x00b", b"a\x00b", true),
        (b"?", b"\x00", true),
        (b"*\x00", b"ab\x00", true),
        // Empty pattern and empty text.
        (b"", b"", true),
        (b"", b"a", false),
        (b"*", b"", false),
        (b"**", b"", false),
        (b"?", b"", false),
        (b"*a", b"", false),
        (b"[]", b"", false),
        (b"[^]", b"", false),
    ];

    /// `(pattern, name, matches)`, checked with Redis 7.0.15's `CONFIG GET`, which matches
    /// parameter names with `nocase`.
    const NOCASE: &[(&[u8], &[u8], bool)] = &[
        (b"MAXMEMOR?", b"maxmemory", true),
        (b"?AXMEMORY", b"maxmemory", true),
        (b"[M]axmemory", b"maxmemory", true),
        (b"[^M]axmemory", b"maxmemory", false),
        (b"[M-M]axmemory", b"maxmemory", true),
        (b"maxmemor[Y-Y]", b"maxmemory", true),
        (b"[M-n]axmemory", b"maxmemory", true),
        (b"[n-M]axmemory", b"maxmemory", true),
        (b"[A-z]axmemory", b"maxmemory", true),
        // Ends are ordered first, then lower-cased: `n`..`m` is empty.
        (b"[N-m]axmemory", b"maxmemory", false),
        (b"[Z-a]axmemory", b"maxmemory", false),
        (b"[a-Z]axmemory", b"maxmemory", false),
        // An escape outside a class folds case; one inside a class does not.
        (b"\\Maxmemor?", b"maxmemory", true),
        (b"\\maxmemor?", b"maxmemory", true),
        (b"[\\m]axmemor?", b"maxmemory", true),
        (b"[\\M]axmemor?", b"maxmemory", false),
        (b"maxmemor\\Y*", b"maxmemory-samples", true),
    ];

    #[test]
    fn matches_redis_case_sensitive() {
        for &(pattern, text, expected) in CASE_SENSITIVE {
            assert_eq!(
                glob_match(pattern, text, false),
                expected,
                "pattern {:?} text {:?}",
                pattern.escape_ascii().to_string(),
                text.escape_ascii().to_string(),
            );
        }
    }

    #[test]
    fn matches_redis_nocase() {
        for &(pattern, text, expected) in NOCASE {
            assert_eq!(
                glob_match(pattern, text, true),
                expected,
                "pattern {:?} text {:?}",
                pattern.escape_ascii().to_string(),
                text.escape_ascii().to_string(),
            );
        }
    }

    #[test]
    fn nocase_only_affects_ascii_letters() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(!glob_match(b"\xc9", b"\xe9", true));
        // `@`/`` ` `` and `[`/`{` differ like upper/lower case letters, but are not letters.
        assert!(!glob_match(b"@", b"`", true));
        assert!(!glob_match(b"\\[", b"{", true));
    }

    /// Checked against Redis 7.0.15: a key of 1200 `a`s with `*a` repeated n times.
    #[test]
    fn star_nesting_limit() {
        let text = vec![b'a'; 1200];
        let repeated = |unit: &[u8], n: usize, tail: &[u8]| {
            let mut p = unit.repeat(n);
            p.extend_from_slice(tail);
            p
        };
        assert!(glob_match(&repeated(b"*a", 1000, b""), &text, false));
        assert!(glob_match(&repeated(b"*a", 1000, b"*"), &text, false));
        assert!(glob_match(&repeated(b"*?", 1000, b""), &text, false));
        assert!(!glob_match(&repeated(b"*a", 1001, b""), &text, false));
        assert!(!glob_match(&repeated(b"*a", 1001, b"*"), &text, false));
        assert!(!glob_match(&repeated(b"*?", 1001, b""), &text, false));
        // Escaped stars and stars inside classes are not star groups.
        assert!(glob_match(
            &repeated(b"\\*", 1200, b""),
            &[b'*'; 1200],
            false
        ));
        assert!(glob_match(
            &repeated(b"[*]", 1200, b""),
            &[b'*'; 1200],
            false
        ));
    }

    #[test]
    fn pathological_patterns_are_fast() {
        let mut pattern = b"a*".repeat(500);
        pattern.push(b'b');
        let text = vec![b'a'; 10_000];
        let started = std::time::Instant::now();
        assert!(!glob_match(&pattern, &text, false));
        let mut text = text;
        text.push(b'b');
        assert!(glob_match(&pattern, &text, false));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// A direct transcription of the rules as a recursive search, shaped like Redis's own
    /// matcher: a star hands every non-empty remainder of the text to the rest of the
    /// pattern, and running out of text only succeeds if at most stars remain.
    fn reference(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
        let (mut p, mut t) = (pattern, text);
        while !p.is_empty() && !t.is_empty() {
            if p[0] == b'*' {
                let rest = trim_stars(p);
                if rest.is_empty() {
                    return true;
                }
                return (0..t.len()).any(|i| reference(rest, &t[i..], nocase));
            }
            let (matched, len) = reference_single(p, t[0], nocase);
            if !matched {
                return false;
            }
            p = &p[len..];
            t = &t[1..];
            if t.is_empty() {
                p = trim_stars(p);
            }
        }
        p.is_empty() && t.is_empty()
    }

    fn trim_stars(mut p: &[u8]) -> &[u8] {
        while p.first() == Some(&b'*') {
            p = &p[1..];
        }
        p
    }

    /// Matches one non-star token at the start of `p`; returns the result and its length.
    fn reference_single(p: &[u8], c: u8, nocase: bool) -> (bool, usize) {
        let lower = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
        match p[0] {
            b'?' => (true, 1),
            b'\\' if p.len() >= 2 => (lower(p[1]) == lower(c), 2),
            b'[' => {
                let mut j = 1;
                let negate = p.get(j) == Some(&b'^');
                if negate {
                    j += 1;
                }
                let mut hit = false;
                while j < p.len() {
                    let left = p.len() - j;
                    if p[j] == b'\\' && left >= 2 {
                        hit = hit || p[j + 1] == c;
                        j += 2;
                    } else if p[j] == b']' {
                        j += 1;
                        return (hit != negate, j);
                    } else if left >= 3 && p[j + 1] == b'-' {
                        let (mut a, mut b) = (i32::from(p[j] as i8), i32::from(p[j + 2] as i8));
                        if a > b {
                            std::mem::swap(&mut a, &mut b);
                        }
                        let low = |v: i32| i32::from(lower(v as u8) as i8);
                        let x = low(i32::from(c as i8));
                        hit = hit || (low(a) <= x && x <= low(b));
                        j += 3;
                    } else {
                        hit = hit || lower(p[j]) == lower(c);
                        j += 1;
                    }
                }
                (hit != negate, j)
            }
            b => (lower(b) == lower(c), 1),
        }
    }

    #[test]
    fn reference_agrees_with_redis_cases() {
        for &(pattern, text, expected) in CASE_SENSITIVE {
            assert_eq!(reference(pattern, text, false), expected);
        }
        for &(pattern, text, expected) in NOCASE {
            assert_eq!(reference(pattern, text, true), expected);
        }
    }

    fn escape(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for &b in text {
            if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\' | b'^' | b'-') {
                out.push(b'\\');
            }
            out.push(b);
        }
        out
    }

    /// Bytes that exercise every pattern feature, plus letters of both cases and
    /// high and NUL bytes.
    const ALPHABET: &[u8] = b"ab*?[]^-\\A\x00\xe9";

    fn small(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(ALPHABET), 0..=max)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn escaped_text_matches_exactly_itself(
            text in proptest::collection::vec(any::<u8>(), 0..32),
            other in proptest::collection::vec(any::<u8>(), 0..32),
            nocase in any::<bool>(),
        ) {
            let pattern = escape(&text);
            prop_assert!(glob_match(&pattern, &text, false));
            prop_assert!(glob_match(&pattern, &text, nocase));
            prop_assert_eq!(glob_match(&pattern, &other, false), other == text);
        }

        #[test]
        fn star_matches_any_non_empty_text(
            text in proptest::collection::vec(any::<u8>(), 1..64),
            stars in 1usize..4,
            nocase in any::<bool>(),
        ) {
            prop_assert!(glob_match(&b"*".repeat(stars), &text, nocase));
        }

        #[test]
        fn agrees_with_recursive_reference(
            pattern in small(8),
            text in small(8),
            nocase in any::<bool>(),
        ) {
            prop_assert_eq!(
                glob_match(&pattern, &text, nocase),
                reference(&pattern, &text, nocase),
                "pattern {:?} text {:?}",
                pattern.escape_ascii().to_string(),
                text.escape_ascii().to_string(),
            );
        }
    }
}
