//! The one clock every time-dependent decision reads, in milliseconds since the Unix epoch.
//!
//! Production uses the system clock. Tests move time instead of sleeping: lazy and active
//! expiry, `TTL`/`PTTL`, `OBJECT IDLETIME`, LRU/LFU ages, stream IDs (`XADD *`), INFO's
//! uptime and `TIME` all read this value.
//!
//! # Modes
//! A clock is shared by its clones (one `Arc<AtomicU64>`) and is in one of two modes:
//! - **system** ([`Clock::system`]): [`Clock::now_ms`] reads the wall clock;
//! - **manual** ([`Clock::manual`]): time stands still at a stored instant and moves only
//!   through [`Clock::advance`] and [`Clock::set`].
//!
//! Moving a system clock ([`Clock::advance`], [`Clock::set`]) switches it to manual mode,
//! frozen at the moved-to instant (`advance` starts from the current wall time). That is what
//! a test against a server started with the defaults wants — `handle.clock().advance(..)`
//! just works — and what `TESTCTL CLOCK ADVANCE` does over the wire. [`Clock::resume`]
//! returns to the wall clock (time may then jump backwards; that is the caller's choice).
//! Nothing in the server moves its own clock: only test code and `TESTCTL` (which exists
//! only when `enable-test-controls` is on) do.
//!
//! Reading costs one relaxed atomic load plus, in system mode, the wall-clock read.
//!
//! ```
//! use std::time::Duration;
//! use emberkv::Clock;
//!
//! let clock = Clock::manual(1_000);
//! clock.advance_by(Duration::from_secs(2));
//! assert_eq!(clock.now_ms(), 3_000);
//!
//! let wall = Clock::system();
//! assert!(!wall.is_manual());
//! wall.advance(60_000); // now frozen one minute ahead of the wall clock
//! assert!(wall.is_manual());
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The stored value that means "read the wall clock".
const SYSTEM: u64 = u64::MAX;

/// A millisecond clock shared by its clones: the system's, or a manual one (see the
/// [module docs](self)).
#[derive(Clone, Debug)]
pub struct Clock {
    /// [`SYSTEM`], or the frozen time in ms.
    state: Arc<AtomicU64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    /// The system wall clock (switches to manual mode the first time it is moved).
    pub fn system() -> Self {
        Clock {
            state: Arc::new(AtomicU64::new(SYSTEM)),
        }
    }

    /// A clock frozen at `start_ms` that only moves through [`Clock::advance`] /
    /// [`Clock::set`].
    pub fn manual(start_ms: u64) -> Self {
        Clock {
            state: Arc::new(AtomicU64::new(start_ms.min(SYSTEM - 1))),
        }
    }

    /// Milliseconds since the Unix epoch.
    #[inline]
    pub fn now_ms(&self) -> u64 {
        match self.state.load(Ordering::Relaxed) {
            SYSTEM => system_ms(),
            t => t,
        }
    }

    /// Moves the clock forward by `ms`. A system clock is first frozen at the current wall
    /// time, then moved (it stays manual).
    pub fn advance(&self, ms: u64) {
        let _ = self
            .state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                let base = if t == SYSTEM { system_ms() } else { t };
                Some(base.saturating_add(ms).min(SYSTEM - 1))
            });
    }

    /// [`Clock::advance`] by a [`Duration`] (whole milliseconds).
    pub fn advance_by(&self, d: Duration) {
        self.advance(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    }

    /// Sets the clock to `ms` since the Unix epoch (a system clock becomes manual).
    pub fn set(&self, ms: u64) {
        self.state.store(ms.min(SYSTEM - 1), Ordering::Relaxed);
    }

    /// [`Clock::set`] from a [`SystemTime`] (times before 1970 count as 0).
    pub fn set_time(&self, t: SystemTime) {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        self.set(ms);
    }

    /// Switches back to the wall clock.
    pub fn resume(&self) {
        self.state.store(SYSTEM, Ordering::Relaxed);
    }

    /// Whether this clock only moves when told to.
    pub fn is_manual(&self) -> bool {
        self.state.load(Ordering::Relaxed) != SYSTEM
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

    #[test]
    fn moving_a_system_clock_freezes_it_and_resume_returns_to_the_wall() {
        let c = Clock::system();
        let before = system_ms();
        c.advance_by(Duration::from_secs(3600));
        assert!(c.is_manual());
        let t = c.now_ms();
        assert!(t >= before + 3_600_000);
        assert_eq!(c.now_ms(), t, "frozen");
        c.resume();
        assert!(!c.is_manual());
        assert!(c.now_ms() < t);
    }
}
