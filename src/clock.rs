//! The one clock every expiry decision reads, in milliseconds since the Unix epoch.
//!
//! Production uses the system clock. Tests build a [`Clock::manual`] clock and move it with
//! [`Clock::advance`], so TTL behaviour is tested without sleeping and without timing races:
//! lazy expiry, active expiry, `TTL` and `OBJECT IDLETIME` all read the same value.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A millisecond clock: the system's, or a manual one shared by clones.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system wall clock.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// A clock frozen at `start_ms` that only moves through [`Clock::advance`] / [`Clock::set`].
    pub fn manual(start_ms: u64) -> Self {
        Clock {
            manual: Some(Arc::new(AtomicU64::new(start_ms))),
        }
    }

    /// Milliseconds since the Unix epoch.
    #[inline]
    pub fn now_ms(&self) -> u64 {
        match &self.manual {
            Some(t) => t.load(Ordering::Relaxed),
            None => system_ms(),
        }
    }

    /// Moves a manual clock forward; a no-op on the system clock.
    pub fn advance(&self, ms: u64) {
        if let Some(t) = &self.manual {
            t.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// Sets a manual clock; a no-op on the system clock.
    pub fn set(&self, ms: u64) {
        if let Some(t) = &self.manual {
            t.store(ms, Ordering::Relaxed);
        }
    }

    /// Whether this clock only moves when told to.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

/// Wall-clock milliseconds; 0 if the system clock is before 1970.
pub fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = Clock::manual(1_000);
        let c2 = c.clone();
        assert_eq!(c.now_ms(), 1_000);
        c2.advance(500);
        assert_eq!(c.now_ms(), 1_500);
        c.set(42);
        assert_eq!(c2.now_ms(), 42);
        assert!(c.is_manual());
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(Clock::system().now_ms() > 1_577_836_800_000);
    }
}
