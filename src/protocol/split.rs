//! Splitting one text line into arguments, the way Redis does it for inline
//! commands and for `redis.conf` lines.
//!
//! Clients such as `telnet` or `nc` send "inline" commands (plain text lines
//! instead of RESP arrays), and configuration files are written by hand, so
//! both need a small shell-like tokenizer. Users and scripts rely on the exact
//! quoting behaviour of `redis-server`, so this module reproduces it rather
//! than following any shell's rules:
//!
//! * Arguments are separated by whitespace.
//! * `"double quoted"` arguments understand the escapes `\n \r \t \b \a`,
//!   `\xHH` (exactly two hex digits) and, for any other character `c`, `\c`
//!   stands for `c` itself (so `\"` and `\\` work, and `\x` without two hex
//!   digits after it is just `x`).
//! * `'single quoted'` arguments understand only `\'`; every other backslash
//!   is kept literally.
//! * A quote may start in the middle of a word (`ab"c d"` is the single
//!   argument `abc d`), but a closing quote must be followed by whitespace or
//!   the end of the line; anything else is an error, as is a quote that is
//!   never closed.
//! * `""` and `''` produce an empty argument.
//! * A NUL byte ends the line, because Redis works on C strings here: bytes
//!   after it are ignored (inside quotes this makes the quote unterminated).

/// Whitespace as C's `isspace` sees it in the C locale. It is used to skip
/// the gaps between arguments and to check what follows a closing quote.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The characters that end an unquoted word. Redis uses a narrower set here
/// than for skipping gaps (no vertical tab or form feed), so a `\v` inside a
/// bare word stays part of it; we keep that quirk for compatibility.
fn ends_bare_word(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Value of an ASCII hex digit, or `None` if `b` is not one.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Where the tokenizer is inside the current argument.
#[derive(Clone, Copy)]
enum Quote {
    None,
    Double,
    Single,
}

/// Splits `line` into arguments using the Redis inline-command / config-file
/// quoting rules described in the module documentation.
///
/// Returns `None` for unbalanced quotes or a closing quote that is directly
/// followed by something other than whitespace. An empty or all-whitespace
/// line gives `Some` of an empty vector. Arguments are raw bytes because
/// `\xHH` escapes can produce any byte value.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Redis stops at the first NUL (it parses a C string); do the same so an
    // inline command means the same thing to both servers.
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let line = &line[..end];
    let at = |i: usize| line.get(i).copied();

    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }

        let mut arg = Vec::new();
        let mut quote = Quote::None;
        loop {
            let c = at(i);
            match quote {
                Quote::None => match c {
                    None => break,
                    Some(b) if ends_bare_word(b) => break,
                    Some(b'"') => quote = Quote::Double,
                    Some(b'\'') => quote = Quote::Single,
                    Some(b) => arg.push(b),
                },
                Quote::Double => match c {
                    None => return None,
                    Some(b'\\') => {
                        let hex = at(i + 2)
                            .and_then(hex_value)
                            .zip(at(i + 3).and_then(hex_value));
                        match (at(i + 1), hex) {
                            (Some(b'x'), Some((hi, lo))) => {
                                arg.push((hi << 4) | lo);
                                i += 3;
                            }
                            (Some(next), _) => {
                                arg.push(match next {
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b't' => b'\t',
                                    b'b' => 0x08,
                                    b'a' => 0x07,
                                    other => other,
                                });
                                i += 1;
                            }
                            // A trailing backslash is kept; the quote is
                            // then unterminated and the loop reports it.
                            (None, _) => arg.push(b'\\'),
                        }
                    }
                    Some(b'"') => {
                        if at(i + 1).is_some_and(|b| !is_space(b)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => arg.push(b),
                },
                Quote::Single => match c {
                    None => return None,
                    Some(b'\\') if at(i + 1) == Some(b'\'') => {
                        arg.push(b'\'');
                        i += 1;
                    }
                    Some(b'\'') => {
                        if at(i + 1).is_some_and(|b| !is_space(b)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => arg.push(b),
                },
            }
            i += 1;
        }
        args.push(arg);
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    /// Splits and converts to strings, for readable assertions.
    fn split(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|args| {
            args.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    fn ok(line: &str) -> Vec<String> {
        match split(line) {
            Some(args) => args,
            None => panic!("expected {line:?} to split"),
        }
    }

    #[test]
    fn empty_and_blank_lines_give_no_args() {
        assert!(ok("").is_empty());
        assert!(ok("   \t  ").is_empty());
        assert!(ok("\r\n").is_empty());
        assert!(ok("\x0b\x0c").is_empty());
    }

    #[test]
    fn whitespace_separates_arguments() {
        assert_eq!(ok("set foo bar"), ["set", "foo", "bar"]);
        assert_eq!(ok("  set\tfoo \r\n bar  "), ["set", "foo", "bar"]);
    }

    #[test]
    fn vertical_tab_does_not_end_a_bare_word() {
        // Mirrors Redis: only space, tab, CR and LF end an unquoted word.
        assert_eq!(ok("a\x0bb c"), ["a\x0bb", "c"]);
    }

    #[test]
    fn double_quotes_group_and_unescape() {
        assert_eq!(ok(r#"set "hello world""#), ["set", "hello world"]);
        assert_eq!(
            ok(r#""a\nb\rc\td\be\af\\g\"h""#),
            ["a\nb\rc\td\x08e\x07f\\g\"h"]
        );
    }

    #[test]
    fn hex_escapes_need_two_hex_digits() {
        assert_eq!(ok(r#""\x41\x7a\x7A""#), ["Azz"]);
        // Not followed by two hex digits: backslash-x is just "x".
        assert_eq!(ok(r#""\x4""#), ["x4"]);
        assert_eq!(ok(r#""\xg1""#), ["xg1"]);
        // Any other escaped character stands for itself.
        assert_eq!(ok(r#""\q\'""#), ["q'"]);
    }

    #[test]
    fn hex_escapes_can_produce_any_byte() {
        let args = split_args(br#""\xff\x00a""#);
        assert_eq!(args, Some(vec![vec![0xff, 0x00, b'a']]));
    }

    #[test]
    fn single_quotes_only_unescape_the_quote() {
        assert_eq!(ok(r"'it\'s'"), ["it's"]);
        assert_eq!(ok(r"'a\nb\\c'"), [r"a\nb\\c"]);
        assert_eq!(ok(r#"'say "hi"'"#), [r#"say "hi""#]);
    }

    #[test]
    fn empty_quotes_give_empty_arguments() {
        assert_eq!(ok(r#"save """#), ["save", ""]);
        assert_eq!(ok("a '' b"), ["a", "", "b"]);
    }

    #[test]
    fn quote_can_start_inside_a_word() {
        assert_eq!(ok(r#"ab"c d" e"#), ["abc d", "e"]);
        assert_eq!(ok("x'y z'"), ["xy z"]);
    }

    #[test]
    fn closing_quote_must_be_followed_by_space_or_end() {
        assert_eq!(split(r#""foo"bar"#), None);
        assert_eq!(split("'foo'bar"), None);
        assert_eq!(split(r#""a""b""#), None);
        assert_eq!(split(r#"a"b"c"#), None);
        assert_eq!(ok("\"foo\"\tbar"), ["foo", "bar"]);
        assert_eq!(ok("'foo'\x0bbar"), ["foo", "bar"]);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(split(r#"set "foo"#), None);
        assert_eq!(split("set 'foo"), None);
        assert_eq!(split(r#""foo\""#), None);
        assert_eq!(split(r"'foo\'"), None);
        // A backslash as the very last character cannot close the quote.
        assert_eq!(split("\"foo\\"), None);
    }

    #[test]
    fn nul_byte_ends_the_line() {
        assert_eq!(
            split_args(b"get a\0b c"),
            Some(vec![b"get".to_vec(), b"a".to_vec()])
        );
        assert_eq!(split_args(b"get \"a\0\""), None);
    }

    #[test]
    fn non_utf8_bytes_pass_through() {
        assert_eq!(
            split_args(b"set \xfe \xff"),
            Some(vec![b"set".to_vec(), vec![0xfe], vec![0xff]])
        );
    }
}
