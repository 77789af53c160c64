//! Freeing large values off the request path, as Redis's lazy free does: a value with many
//! elements (a big hash, list, set or sorted set deleted by DEL/UNLINK, a flushed database)
//! is handed to one background thread to drop, so the command that removed it answers at
//! once and its locks are held only for the unlink, not for freeing every element.

use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

/// Values with more elements than this are freed in the background (Redis's
/// `LAZYFREE_THRESHOLD`).
pub const THRESHOLD: usize = 64;

type Garbage = Box<dyn Send>;

fn sender() -> Option<&'static Mutex<Sender<Garbage>>> {
    static TX: OnceLock<Option<Mutex<Sender<Garbage>>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        let spawned = std::thread::Builder::new()
            .name("emberkv-lazyfree".into())
            .spawn(move || {
                for garbage in rx {
                    drop(garbage);
                }
            });
        match spawned {
            Ok(_) => Some(Mutex::new(tx)),
            Err(e) => {
                tracing::warn!("lazy free thread failed to start ({e}); values are freed inline");
                None
            }
        }
    })
    .as_ref()
}

/// Drops `value` on the background thread (inline when that thread could not start).
pub fn drop_later<T: Send + 'static>(value: T) {
    if let Some(tx) = sender() {
        if let Ok(tx) = tx.lock() {
            // A send fails only if the thread died; the value is then dropped here.
            let _ = tx.send(Box::new(value));
        }
    }
}
