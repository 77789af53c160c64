//! The declarative command table: one [`CommandSpec`] row per command, next to its handler in
//! the family file. Dispatch (arity, auth, key locking), `COMMAND` and later MULTI queuing and
//! scripts all read these rows, so a command's rules live in one place.

use super::Ctx;
use crate::protocol::{Args, CmdResult};

/// A command handler: arguments after the name (and subcommand) → reply.
pub type Handler = fn(&mut Ctx<'_, '_>, &mut Args) -> CmdResult;

// Command flags, in the order `COMMAND INFO` prints them.
pub const WRITE: u32 = 1 << 0;
pub const READONLY: u32 = 1 << 1;
pub const DENYOOM: u32 = 1 << 2;
pub const ADMIN: u32 = 1 << 3;
pub const PUBSUB: u32 = 1 << 4;
pub const NOSCRIPT: u32 = 1 << 5;
pub const BLOCKING: u32 = 1 << 6;
pub const LOADING: u32 = 1 << 7;
pub const STALE: u32 = 1 << 8;
pub const SKIP_MONITOR: u32 = 1 << 9;
pub const SKIP_SLOWLOG: u32 = 1 << 10;
pub const FAST: u32 = 1 << 11;
pub const NO_AUTH: u32 = 1 << 12;
pub const MAY_REPLICATE: u32 = 1 << 13;
pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
pub const NO_MULTI: u32 = 1 << 15;
pub const ALLOW_BUSY: u32 = 1 << 16;
/// Not a Redis flag: the command needs the whole keyspace locked (KEYS, SCAN, FLUSHALL…).
pub const GLOBAL: u32 = 1 << 31;

const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (MAY_REPLICATE, "may_replicate"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_MULTI, "no_multi"),
    (ALLOW_BUSY, "allow_busy"),
];

// ACL categories, in the order Redis prints them. The ones implied by flags (read, write,
// admin, dangerous, pubsub, fast, slow, blocking) are added by [`CommandSpec::categories`].
pub const KEYSPACE: u32 = 1 << 0;
pub const CAT_READ: u32 = 1 << 1;
pub const CAT_WRITE: u32 = 1 << 2;
pub const SET: u32 = 1 << 3;
pub const SORTEDSET: u32 = 1 << 4;
pub const LIST: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const STRING: u32 = 1 << 7;
pub const BITMAP: u32 = 1 << 8;
pub const HYPERLOGLOG: u32 = 1 << 9;
pub const GEO: u32 = 1 << 10;
pub const STREAM: u32 = 1 << 11;
pub const CAT_PUBSUB: u32 = 1 << 12;
pub const CAT_ADMIN: u32 = 1 << 13;
pub const CAT_FAST: u32 = 1 << 14;
pub const CAT_SLOW: u32 = 1 << 15;
pub const CAT_BLOCKING: u32 = 1 << 16;
pub const DANGEROUS: u32 = 1 << 17;
pub const CONNECTION: u32 = 1 << 18;
pub const TRANSACTION: u32 = 1 << 19;
pub const SCRIPTING: u32 = 1 << 20;

pub const CATEGORY_NAMES: &[(u32, &str)] = &[
    (KEYSPACE, "keyspace"),
    (CAT_READ, "read"),
    (CAT_WRITE, "write"),
    (SET, "set"),
    (SORTEDSET, "sortedset"),
    (LIST, "list"),
    (HASH, "hash"),
    (STRING, "string"),
    (BITMAP, "bitmap"),
    (HYPERLOGLOG, "hyperloglog"),
    (GEO, "geo"),
    (STREAM, "stream"),
    (CAT_PUBSUB, "pubsub"),
    (CAT_ADMIN, "admin"),
    (CAT_FAST, "fast"),
    (CAT_SLOW, "slow"),
    (CAT_BLOCKING, "blocking"),
    (DANGEROUS, "dangerous"),
    (CONNECTION, "connection"),
    (TRANSACTION, "transaction"),
    (SCRIPTING, "scripting"),
];

/// Where a command's keys are: argv positions `first..=last` every `step` (negative `last`
/// counts from the end), as in Redis's legacy key spec. `first == 0`: no keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keys {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

impl Keys {
    pub const NONE: Keys = Keys::range(0, 0, 0);
    pub const ONE: Keys = Keys::range(1, 1, 1);
    pub const TWO: Keys = Keys::range(1, 2, 1);
    pub const ALL: Keys = Keys::range(1, -1, 1);

    pub const fn range(first: i32, last: i32, step: i32) -> Keys {
        Keys { first, last, step }
    }

    /// Positions of the keys in `argv`; empty when the spec does not fit the argument count.
    /// (An iterator, not a Vec: dispatch calls this for every command.)
    pub fn positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let argc = argc as i64;
        let first = self.first as i64;
        let last = if self.last < 0 {
            argc + self.last as i64
        } else {
            self.last as i64
        };
        let valid = self.first > 0 && self.step > 0 && first < argc && last >= first;
        let (from, to) = if valid {
            (first as usize, last.min(argc - 1) as usize)
        } else {
            (1, 0)
        };
        (from..=to).step_by(self.step.max(1) as usize)
    }
}

/// A key spec as `COMMAND INFO` shows it: keys from argv `index`, `lastkey` more positions
/// (negative: counted from the end) every `keystep`, with their access flags and notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub index: i32,
    pub lastkey: i32,
    pub keystep: i32,
    pub flags: &'static [&'static str],
    pub notes: &'static str,
}

impl KeySpec {
    /// The single key at argv `index`.
    pub const fn at(index: i32, flags: &'static [&'static str]) -> KeySpec {
        KeySpec {
            index,
            lastkey: 0,
            keystep: 1,
            flags,
            notes: "",
        }
    }

    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = notes;
        self
    }

    /// Whether argv position `pos` of an `argc`-long command is one of this spec's keys.
    pub fn covers(&self, pos: usize, argc: usize) -> bool {
        let last = if self.lastkey < 0 {
            argc as i64 + self.lastkey as i64
        } else {
            self.index as i64 + self.lastkey as i64
        };
        let pos = pos as i64;
        pos >= self.index as i64
            && pos <= last
            && (pos - self.index as i64) % self.keystep.max(1) as i64 == 0
    }
}

/// One command (or subcommand: `name` is then `container|sub`).
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    /// Exact argument count (name included) when positive, minimum when negative.
    pub arity: i32,
    pub flags: u32,
    /// The family's ACL categories (those not implied by flags).
    pub acl: u32,
    pub keys: Keys,
    /// Key-spec flags for `COMMAND INFO` (e.g. `["RW", "access", "update"]`); derived from
    /// the command flags when empty.
    pub key_flags: &'static [&'static str],
    /// Key specs, when one derived from `keys` and `key_flags` does not describe the command
    /// (keys in different roles, notes).
    pub key_specs: &'static [KeySpec],
    pub tips: &'static [&'static str],
    pub summary: &'static str,
    pub since: &'static str,
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        acl: u32,
        keys: Keys,
        handler: Handler,
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            acl,
            keys,
            key_flags: &[],
            key_specs: &[],
            tips: &[],
            summary: "",
            since: "1.0.0",
            handler: Some(handler),
            subcommands: &[],
        }
    }

    /// A container command (CLIENT, OBJECT, COMMAND…) dispatching on its first argument.
    pub const fn container(
        name: &'static str,
        acl: u32,
        summary: &'static str,
        subcommands: &'static [CommandSpec],
    ) -> Self {
        CommandSpec {
            name,
            arity: -2,
            flags: 0,
            acl,
            keys: Keys::NONE,
            key_flags: &[],
            key_specs: &[],
            tips: &[],
            summary,
            since: "1.0.0",
            handler: None,
            subcommands,
        }
    }

    pub const fn doc(mut self, summary: &'static str, since: &'static str) -> Self {
        self.summary = summary;
        self.since = since;
        self
    }

    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    pub const fn key_flags(mut self, flags: &'static [&'static str]) -> Self {
        self.key_flags = flags;
        self
    }

    pub const fn key_specs(mut self, specs: &'static [KeySpec]) -> Self {
        self.key_specs = specs;
        self
    }

    /// The key specs `COMMAND INFO` and `COMMAND GETKEYSANDFLAGS` report: the explicit ones,
    /// or one derived from the legacy range and the key flags (`RW update` for writes, `RO
    /// access` otherwise, when none are given).
    pub fn specs(&self) -> Vec<KeySpec> {
        if !self.key_specs.is_empty() {
            return self.key_specs.to_vec();
        }
        let k = self.keys;
        if k.first <= 0 {
            return Vec::new();
        }
        let flags: &'static [&'static str] = if !self.key_flags.is_empty() {
            self.key_flags
        } else if self.has(WRITE) {
            &["RW", "update"]
        } else {
            &["RO", "access"]
        };
        vec![KeySpec {
            index: k.first,
            lastkey: if k.last < 0 { k.last } else { k.last - k.first },
            keystep: k.step,
            flags,
            notes: "",
        }]
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The part after `|` for subcommands.
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    /// The container's name for subcommands, the name itself otherwise.
    pub fn group_name(&self) -> &'static str {
        self.name.split('|').next().unwrap_or(self.name)
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Flag names as `COMMAND INFO` lists them.
    pub fn flag_names(&self) -> Vec<&'static str> {
        FLAG_NAMES
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    /// ACL categories, the family's plus those its flags imply (as Redis derives them).
    pub fn categories(&self) -> u32 {
        let mut c = self.acl;
        if self.has(WRITE) {
            c |= CAT_WRITE;
        }
        if self.has(READONLY) && c & SCRIPTING == 0 {
            c |= CAT_READ;
        }
        if self.has(ADMIN) {
            c |= CAT_ADMIN | DANGEROUS;
        }
        if self.has(PUBSUB) {
            c |= CAT_PUBSUB;
        }
        if self.has(FAST) {
            c |= CAT_FAST;
        }
        if self.has(BLOCKING) {
            c |= CAT_BLOCKING;
        }
        if c & CAT_FAST == 0 {
            c |= CAT_SLOW;
        }
        c
    }

    pub fn category_names(&self) -> Vec<&'static str> {
        let c = self.categories();
        CATEGORY_NAMES
            .iter()
            .filter(|(bit, _)| c & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_positions_follow_first_last_step() {
        let pos = |k: Keys, argc| k.positions(argc).collect::<Vec<_>>();
        assert_eq!(pos(Keys::ONE, 2), vec![1]);
        assert_eq!(pos(Keys::ALL, 4), vec![1, 2, 3]);
        assert_eq!(pos(Keys::range(1, -1, 2), 5), vec![1, 3]);
        assert_eq!(pos(Keys::range(2, 2, 1), 3), vec![2]);
        assert!(pos(Keys::NONE, 3).is_empty());
        assert!(pos(Keys::ONE, 1).is_empty());
    }

    #[test]
    fn key_specs_cover_their_positions() {
        let src = KeySpec::at(1, &["RO"]);
        assert!(src.covers(1, 3) && !src.covers(2, 3));
        let pairs = KeySpec {
            index: 1,
            lastkey: -1,
            keystep: 2,
            flags: &["OW"],
            notes: "",
        };
        assert!(pairs.covers(1, 5) && pairs.covers(3, 5) && !pairs.covers(2, 5));
        assert!(!pairs.covers(5, 5));
    }
}
