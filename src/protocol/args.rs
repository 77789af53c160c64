//! A cursor over one command's arguments.
//!
//! Handlers read arguments in order and end with [`Args::finish`] where leftovers are a
//! syntax error. Every conversion failure maps to Redis's own error text, so handlers can use
//! `?` and still answer exactly what Redis answers.

use bytes::Bytes;

use super::error::{CmdError, NOT_FLOAT, NOT_INTEGER};
use super::number::{parse_f64, parse_i64};

/// The arguments after the command name (and after the subcommand, for container commands).
#[derive(Debug)]
pub struct Args {
    argv: Vec<Bytes>,
    pos: usize,
}

impl Args {
    /// `skip` is how many leading words (command, subcommand) the cursor starts past.
    pub fn new(argv: Vec<Bytes>, skip: usize) -> Self {
        Args { argv, pos: skip }
    }

    /// The whole request, command name included.
    pub fn argv(&self) -> &[Bytes] {
        &self.argv
    }

    /// Takes the whole request out (the cursor is then empty): the default propagation of a
    /// write moves the argv instead of cloning it.
    pub fn take_argv(&mut self) -> Vec<Bytes> {
        self.pos = 0;
        std::mem::take(&mut self.argv)
    }

    /// How many arguments are left.
    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    /// Whether no arguments are left.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument; a syntax error when there is none.
    pub fn next_bytes(&mut self) -> Result<Bytes, CmdError> {
        let a = self.argv.get(self.pos).cloned().ok_or(CmdError::syntax())?;
        self.pos += 1;
        Ok(a)
    }

    /// The next argument, if any, without consuming it.
    pub fn peek(&self) -> Option<&Bytes> {
        self.argv.get(self.pos)
    }

    /// Consumes the next argument when it equals `word` (ASCII case-insensitive).
    pub fn eat(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(word.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// The next argument as an integer (`ERR value is not an integer or out of range`).
    pub fn next_i64(&mut self) -> Result<i64, CmdError> {
        let a = self.next_bytes()?;
        parse_i64(&a).ok_or(CmdError::new(NOT_INTEGER))
    }

    /// The next argument as a float (`ERR value is not a valid float`).
    pub fn next_f64(&mut self) -> Result<f64, CmdError> {
        let a = self.next_bytes()?;
        parse_f64(&a).ok_or(CmdError::new(NOT_FLOAT))
    }

    /// All remaining arguments.
    pub fn rest(&mut self) -> Vec<Bytes> {
        let out = self.argv[self.pos.min(self.argv.len())..].to_vec();
        self.pos = self.argv.len();
        out
    }

    /// Fails with a syntax error when arguments are left over.
    pub fn finish(&self) -> Result<(), CmdError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(CmdError::syntax())
        }
    }
}

/// Iterates the remaining arguments.
impl Iterator for Args {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let a = self.argv.get(self.pos).cloned();
        if a.is_some() {
            self.pos += 1;
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Args {
        Args::new(
            words.iter().map(|w| Bytes::from(w.to_string())).collect(),
            1,
        )
    }

    #[test]
    fn reads_in_order_and_finishes() {
        let mut a = args(&["incrby", "k", "5"]);
        assert_eq!(a.next_bytes().unwrap(), "k");
        assert_eq!(a.next_i64().unwrap(), 5);
        assert!(a.finish().is_ok());
        assert_eq!(a.next_bytes().unwrap_err(), CmdError::syntax());
    }

    #[test]
    fn conversions_use_redis_texts() {
        let mut a = args(&["x", "abc", "1.5x"]);
        assert_eq!(a.next_i64().unwrap_err().text(), NOT_INTEGER);
        assert_eq!(a.next_f64().unwrap_err().text(), NOT_FLOAT);
    }

    #[test]
    fn eat_is_case_insensitive_and_leftovers_are_syntax_errors() {
        let mut a = args(&["set", "NX", "extra"]);
        assert!(!a.eat("xx"));
        assert!(a.eat("nx"));
        assert_eq!(a.finish().unwrap_err(), CmdError::syntax());
    }
}
