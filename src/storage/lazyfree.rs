//! Freeing large values off the request path, as Redis's lazy free does: a value with many
//! elements (a big hash, list, set or sorted set deleted by DEL/UNLINK, a flushed database)
//! is handed to one background thread to drop, so the command that removed it answers at
//! once and its locks are held only for the unlink, not for freeing every element.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

/// Values handed over and not freed yet (INFO `lazyfree_pending_objects`), and values freed
/// so far (`lazyfreed_objects`); process-wide, like the thread.
static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

/// Values waiting to be freed in the background.
pub fn pending() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// Values freed in the background so far.
pub fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

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
                    PENDING.fetch_sub(1, Ordering::Relaxed);
                    FREED.fetch_add(1, Ordering::Relaxed);
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
            PENDING.fetch_add(1, Ordering::Relaxed);
            if tx.send(Box::new(value)).is_err() {
                PENDING.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}
