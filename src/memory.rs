//! Memory accounting: a thin counting allocator and process memory readings.
//!
//! `used_memory` has to be real — INFO reports it, and maxmemory/eviction depend on it — so
//! the binary installs [`CountingAlloc`] as its global allocator. It forwards to the system
//! allocator and counts requested bytes in a per-thread delta that is folded into one global
//! counter every 64 KiB, so the hot path costs a thread-local add (no shared cache line).
//! The reading is exact to within 64 KiB per thread. Where the allocator is not installed
//! (the library inside someone else's binary), [`used_memory`] falls back to the resident
//! set size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};

static ALLOCATED: AtomicIsize = AtomicIsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);
static PEAK: AtomicUsize = AtomicUsize::new(0);
const FLUSH_AT: isize = 64 * 1024;

thread_local! {
    static LOCAL: Cell<isize> = const { Cell::new(0) };
}

#[inline]
fn account(delta: isize) {
    let flushed = LOCAL.try_with(|c| {
        let v = c.get() + delta;
        if v.abs() >= FLUSH_AT {
            ALLOCATED.fetch_add(v, Ordering::Relaxed);
            c.set(0);
        } else {
            c.set(v);
        }
    });
    if flushed.is_err() {
        // The thread is shutting down and its local cell is gone: count directly.
        ALLOCATED.fetch_add(delta, Ordering::Relaxed);
    }
}

/// The system allocator, counting bytes in use.
pub struct CountingAlloc;

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the only
// addition is bookkeeping that never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            if !INSTALLED.load(Ordering::Relaxed) {
                INSTALLED.store(true, Ordering::Relaxed);
            }
            account(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        account(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Bytes allocated by the process (the counting allocator's total, or the RSS without it).
pub fn used_memory() -> usize {
    let used = if INSTALLED.load(Ordering::Relaxed) {
        ALLOCATED.load(Ordering::Relaxed).max(0) as usize
    } else {
        rss()
    };
    // Read first: most calls do not raise the peak, and a plain load keeps the cache line
    // shared between the threads that call this per command (under maxmemory).
    if used > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(used, Ordering::Relaxed);
    }
    used
}

/// The highest [`used_memory`] seen so far.
pub fn peak_memory() -> usize {
    PEAK.load(Ordering::Relaxed).max(used_memory())
}

/// Whether [`CountingAlloc`] is the global allocator.
pub fn counting() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Resident set size in bytes (Linux `/proc/self/statm`; 0 elsewhere).
pub fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Physical memory of the machine in bytes (Linux `/proc/meminfo`; 0 elsewhere).
pub fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Redis's human-readable byte count: `1.50M`, `512B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_like_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1024), "1.00K");
        assert_eq!(human_bytes(1536 * 1024), "1.50M");
        assert_eq!(human_bytes(4 * 1024 * 1024 * 1024), "4.00G");
    }

    #[test]
    fn process_readings_are_plausible() {
        assert!(rss() > 0);
        assert!(total_system_memory() > rss() as u64);
        assert!(used_memory() > 0);
    }
}
