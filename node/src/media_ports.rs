//! The media port allocator: RTP/RTCP pairs from `media.port_range`.
//!
//! RTP takes the even port and RTCP the odd one above it (RFC 3550 §11). Pairs are handed out
//! round-robin from a cursor that wraps at the end of the range, so a pair just released is the
//! last to be reused and stray packets of an ended call do not land in a new one. A [`PortPair`]
//! returns itself to the pool when dropped; running out is an error, never a panic.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::PortRange;

/// The pool of RTP/RTCP pairs. Cheap to clone: clones share the pool.
#[derive(Clone, Debug)]
pub struct MediaPorts {
    inner: Arc<Mutex<Pool>>,
    first_rtp: u16,
    range: PortRange,
}

#[derive(Debug)]
struct Pool {
    in_use: Vec<bool>,
    used: usize,
    cursor: usize,
}

/// One RTP/RTCP port pair, released when dropped.
#[derive(Debug)]
pub struct PortPair {
    rtp: u16,
    index: usize,
    pool: Arc<Mutex<Pool>>,
}

/// Every pair of the range is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("all {pairs} media port pairs of {range} are in use")]
pub struct PortsExhausted {
    /// The configured range.
    pub range: PortRange,
    /// How many pairs it holds.
    pub pairs: usize,
}

impl MediaPorts {
    /// A pool over `range`. The first pair starts at the first even port of the range; a range
    /// too small for any pair yields an empty pool (config validation prevents that).
    pub fn new(range: PortRange) -> Self {
        let first_rtp = range.start() + range.start() % 2;
        // Whole pairs only: an odd last port has no RTCP partner.
        let ports_from_first = (u32::from(range.end()) + 1).saturating_sub(u32::from(first_rtp));
        let pairs = (ports_from_first / 2) as usize;
        Self {
            inner: Arc::new(Mutex::new(Pool {
                in_use: vec![false; pairs],
                used: 0,
                cursor: 0,
            })),
            first_rtp,
            range,
        }
    }

    /// Takes the next free pair after the cursor, wrapping around the range.
    pub fn allocate(&self) -> Result<PortPair, PortsExhausted> {
        let mut pool = lock(&self.inner);
        let pairs = pool.in_use.len();
        let start = pool.cursor;
        let index = (0..pairs)
            .map(|step| (start + step) % pairs)
            .find(|&i| !pool.in_use[i])
            .ok_or(PortsExhausted {
                range: self.range,
                pairs,
            })?;
        pool.in_use[index] = true;
        pool.used += 1;
        pool.cursor = (index + 1) % pairs;
        let offset = u16::try_from(index * 2).expect("a pair index fits the u16 port range");
        Ok(PortPair {
            rtp: self.first_rtp + offset,
            index,
            pool: Arc::clone(&self.inner),
        })
    }

    /// Ports currently allocated (two per pair).
    pub fn ports_in_use(&self) -> usize {
        lock(&self.inner).used * 2
    }

    /// Ports the pool can hand out (two per pair).
    pub fn ports_total(&self) -> usize {
        self.pairs_total() * 2
    }

    /// Pairs the pool can hand out.
    pub fn pairs_total(&self) -> usize {
        lock(&self.inner).in_use.len()
    }

    /// The configured range.
    pub fn range(&self) -> PortRange {
        self.range
    }
}

impl PortPair {
    /// The RTP port (even).
    pub fn rtp(&self) -> u16 {
        self.rtp
    }

    /// The RTCP port (`rtp + 1`).
    pub fn rtcp(&self) -> u16 {
        self.rtp + 1
    }
}

impl Drop for PortPair {
    fn drop(&mut self) {
        let mut pool = lock(&self.pool);
        debug_assert!(pool.in_use[self.index]);
        pool.in_use[self.index] = false;
        pool.used -= 1;
    }
}

/// The pool's invariants hold between statements, so a panic elsewhere while the lock was held
/// leaves it consistent: ignore poisoning rather than take the node down.
fn lock(pool: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(start: u16, end: u16) -> MediaPorts {
        MediaPorts::new(PortRange::new(start, end))
    }

    #[test]
    fn pairs_start_on_an_even_port() {
        let ports = pool(40_001, 40_010);
        assert_eq!(ports.pairs_total(), 4); // 40002..=40009, 40010 has no RTCP partner
        let pair = ports.allocate().unwrap();
        assert_eq!((pair.rtp(), pair.rtcp()), (40_002, 40_003));
        assert_eq!(pool(40_000, 49_999).ports_total(), 10_000);
    }

    #[test]
    fn exhaustion_is_an_error_and_release_frees() {
        let ports = pool(40_000, 40_099);
        let mut held: Vec<_> = (0..50).map(|_| ports.allocate().unwrap()).collect();
        assert_eq!(ports.ports_in_use(), 100);
        let err = ports.allocate().unwrap_err();
        assert_eq!(err.pairs, 50);
        assert_eq!(
            err.to_string(),
            "all 50 media port pairs of [40000, 40099] are in use"
        );

        let freed = held.remove(10);
        let freed_port = freed.rtp();
        drop(freed);
        assert_eq!(ports.ports_in_use(), 98);
        assert_eq!(ports.allocate().unwrap().rtp(), freed_port); // dropped again at once
        assert_eq!(ports.ports_in_use(), 98);
        drop(held);
        assert_eq!(ports.ports_in_use(), 0);
    }

    #[test]
    fn cursor_wraps_and_skips_pairs_in_use() {
        let ports = pool(40_000, 40_007); // pairs at 40000, 40002, 40004, 40006
        let a = ports.allocate().unwrap();
        let _b = ports.allocate().unwrap();
        let c = ports.allocate().unwrap();
        assert_eq!([a.rtp(), c.rtp()], [40_000, 40_004]);
        drop(a);
        // round-robin: the pair freed a moment ago is not reused while another is free
        let d = ports.allocate().unwrap();
        assert_eq!(d.rtp(), 40_006);
        // the cursor wraps to the start of the range
        let e = ports.allocate().unwrap();
        assert_eq!(e.rtp(), 40_000);
        drop(c);
        // the cursor sits on 40002 (in use): it is skipped and 40004 is taken
        let f = ports.allocate().unwrap();
        assert_eq!(f.rtp(), 40_004);
        assert!(ports.allocate().is_err());
        assert_eq!(ports.ports_in_use(), 8);
    }

    #[test]
    fn release_from_another_thread() {
        let ports = pool(40_000, 40_099);
        let pair = ports.allocate().unwrap();
        std::thread::spawn(move || drop(pair)).join().unwrap();
        assert_eq!(ports.ports_in_use(), 0);
    }
}
