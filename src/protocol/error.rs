//! Client-visible error replies, with Redis 7.0's exact texts.
//!
//! A [`CmdError`] is a value: the handler returns it, dispatch encodes it as `-TEXT\r\n`, and
//! the connection stays usable. Only protocol errors (see `parse.rs`) close a connection.

use std::borrow::Cow;

use super::reply::Reply;

/// Result of a command handler.
pub type CmdResult = Result<Reply, CmdError>;

/// An error reply. The text includes the error code (`ERR`, `WRONGTYPE`, …) but not the `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

/// `WRONGTYPE` text, shared by every type family.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// The generic syntax error.
pub const SYNTAX: &str = "ERR syntax error";
/// An argument that should be a 64-bit integer is not one.
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// An argument that should be a float is not one.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// INCR/DECR and friends would leave the 64-bit range.
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
/// The key does not exist (RENAME, LSET…).
pub const NO_SUCH_KEY: &str = "ERR no such key";
/// SELECT/MOVE/SWAPDB with a database index out of range.
pub const DB_OUT_OF_RANGE: &str = "ERR DB index is out of range";
/// A command before AUTH when a password is required.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// A string would exceed `proto-max-bulk-len`.
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// SCAN and friends with a cursor that is not a number.
pub const INVALID_CURSOR: &str = "ERR invalid cursor";

impl CmdError {
    /// An error with a fixed text.
    pub const fn new(text: &'static str) -> Self {
        CmdError(Cow::Borrowed(text))
    }

    /// An error whose text is built at run time.
    pub fn msg(text: String) -> Self {
        CmdError(Cow::Owned(text))
    }

    /// [`SYNTAX`].
    pub const fn syntax() -> Self {
        Self::new(SYNTAX)
    }

    /// [`WRONGTYPE`].
    pub const fn wrongtype() -> Self {
        Self::new(WRONGTYPE)
    }

    /// [`NOT_INTEGER`].
    pub const fn not_integer() -> Self {
        Self::new(NOT_INTEGER)
    }

    /// [`NOT_FLOAT`].
    pub const fn not_float() -> Self {
        Self::new(NOT_FLOAT)
    }

    /// `ERR wrong number of arguments for 'name' command` (`name` is the full name, e.g.
    /// `client|setname`).
    pub fn arity(name: &str) -> Self {
        Self::msg(format!(
            "ERR wrong number of arguments for '{name}' command"
        ))
    }

    /// `ERR invalid expire time in 'set' command`.
    pub fn invalid_expire(cmd: &str) -> Self {
        Self::msg(format!("ERR invalid expire time in '{cmd}' command"))
    }

    /// `ERR unknown subcommand 'x'. Try CLIENT HELP.`
    pub fn unknown_subcommand(sub: &[u8], container: &str) -> Self {
        let shown = lossy_prefix(sub, 128);
        Self::msg(format!(
            "ERR unknown subcommand '{shown}'. Try {} HELP.",
            container.to_ascii_uppercase()
        ))
    }

    /// `ERR unknown command 'foo', with args beginning with: 'a' 'b' `.
    pub fn unknown_command(argv: &[bytes::Bytes]) -> Self {
        let name = argv
            .first()
            .map(|a| lossy_prefix(a, 128))
            .unwrap_or_default();
        let mut args = String::new();
        for a in argv.iter().skip(1) {
            if args.len() >= 128 {
                break;
            }
            let room = 128 - args.len();
            args.push('\'');
            args.push_str(&lossy_prefix(a, room));
            args.push_str("' ");
        }
        Self::msg(format!(
            "ERR unknown command '{name}', with args beginning with: {args}"
        ))
    }

    /// The error text, code included, without the leading `-`.
    pub fn text(&self) -> &str {
        &self.0
    }
}

/// The error line as Redis sends it (without the `-`), so `CmdError` works with `?` in
/// tests that use the direct data access ([`crate::testctl::DbAccess`]).
impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CmdError {}

/// At most `max` bytes of `b` as text; like Redis's `%.*s`, a NUL byte ends it.
fn lossy_prefix(b: &[u8], max: usize) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len()).min(max);
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl From<CmdError> for Reply {
    fn from(e: CmdError) -> Reply {
        Reply::Error(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn unknown_command_lists_args_with_trailing_space() {
        let argv = vec![Bytes::from("foo"), Bytes::from("a"), Bytes::from("b")];
        assert_eq!(
            CmdError::unknown_command(&argv).text(),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        let argv = vec![Bytes::from("foo")];
        assert_eq!(
            CmdError::unknown_command(&argv).text(),
            "ERR unknown command 'foo', with args beginning with: "
        );
    }

    #[test]
    fn arity_and_subcommand_texts() {
        assert_eq!(
            CmdError::arity("get").text(),
            "ERR wrong number of arguments for 'get' command"
        );
        assert_eq!(
            CmdError::unknown_subcommand(b"nope", "client").text(),
            "ERR unknown subcommand 'nope'. Try CLIENT HELP."
        );
    }
}
