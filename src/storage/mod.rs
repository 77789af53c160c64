//! Stored data: the sharded keyspace, its hash table, value types, glob matching.
//!
//! Commands reach data only through [`Keyspace`] → [`Locked`] → [`Db`]; they never see a
//! lock or a map.

pub mod bitops;
pub mod dict;
pub mod effects;
pub mod geo;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod keyspace;
pub mod lazyfree;
pub mod list;
pub mod set;
pub mod small;
pub mod stream;
pub mod usage;
pub mod value;
pub mod zset;

pub use effects::{Effects, KeyEvent, Propagation};
pub use hash::HashValue;
pub use keyspace::{
    Db, EvictOutcome, Expiry, Finished, Keyspace, Locked, ShardDumper, ShardView, SHARDS,
};
pub use list::ListValue;
pub use set::SetValue;
pub use small::SmallBytes;
pub use stream::Stream;
pub use value::{Entry, StrValue, Value, ValueType};
pub use zset::ZSetValue;
