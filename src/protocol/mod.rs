//! The wire: request decoding (multibulk and inline), reply encoding (RESP2 and RESP3),
//! the argument cursor handlers read from, and the shared error texts.
//!
//! This is the only place bytes meet frames. The request decoder is written by hand (see
//! `parse.rs` for why) and is incremental: a partial frame keeps its progress, so a large
//! value arriving in many reads is scanned once.

pub mod args;
pub mod error;
pub mod long_double;
pub mod number;
pub mod parse;
pub mod reply;
pub mod split;

pub use args::Args;
pub use error::{CmdError, CmdResult};
pub use parse::{ParseError, RequestParser};
pub use reply::Reply;
