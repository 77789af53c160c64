//! emberkv's integration tests: one binary (so the suite links once), one module per command
//! family under `tests/integration/`. Every test starts its own in-process server on an
//! ephemeral port — with a manual clock where TTLs matter, so nothing sleeps — and checks
//! what a client would see.

#[path = "integration/bitmap.rs"]
mod bitmap;
#[path = "integration/blocking.rs"]
mod blocking;
#[path = "integration/command.rs"]
mod command;
#[path = "integration/common.rs"]
mod common;
#[path = "integration/config.rs"]
mod config;
#[path = "integration/connection.rs"]
mod connection;
#[path = "integration/geo.rs"]
mod geo;
#[path = "integration/hash.rs"]
mod hash;
#[path = "integration/hll.rs"]
mod hll;
#[path = "integration/keys.rs"]
mod keys;
#[path = "integration/limits.rs"]
mod limits;
#[path = "integration/list.rs"]
mod list;
#[path = "integration/memory.rs"]
mod memory;
#[path = "integration/notifications.rs"]
mod notifications;
#[path = "integration/ops.rs"]
mod ops;
#[path = "integration/protocol.rs"]
mod protocol;
#[path = "integration/pubsub.rs"]
mod pubsub;
#[path = "integration/server.rs"]
mod server;
#[path = "integration/set.rs"]
mod set;
#[path = "integration/sort.rs"]
mod sort;
#[path = "integration/stream.rs"]
mod stream;
#[path = "integration/strings.rs"]
mod strings;
#[path = "integration/testctl.rs"]
mod testctl;
#[path = "integration/transactions.rs"]
mod transactions;
#[path = "integration/zset.rs"]
mod zset;
