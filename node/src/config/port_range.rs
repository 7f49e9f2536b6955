//! Inclusive port ranges, written `[start, end]` in the file.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An inclusive range of ports, never empty and never containing port 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "Vec<u16>", into = "[u16; 2]")]
pub struct PortRange {
    start: u16,
    end: u16,
}

impl PortRange {
    /// A range from `start` to `end` inclusive.
    ///
    /// # Panics
    /// When `start > end` or `start == 0`; use `TryFrom<[u16; 2]>` for untrusted input.
    pub const fn new(start: u16, end: u16) -> Self {
        assert!(start != 0 && start <= end, "invalid port range");
        Self { start, end }
    }

    /// First port.
    pub fn start(self) -> u16 {
        self.start
    }

    /// Last port (inclusive).
    pub fn end(self) -> u16 {
        self.end
    }

    /// Number of ports in the range.
    pub fn len(self) -> u32 {
        u32::from(self.end) - u32::from(self.start) + 1
    }

    /// Always false: a range holds at least one port. Present for `len`'s sake.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Whether `port` lies in the range.
    pub fn contains(self, port: u16) -> bool {
        (self.start..=self.end).contains(&port)
    }

    /// Whether the two ranges share a port.
    pub fn overlaps(self, other: Self) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

impl TryFrom<[u16; 2]> for PortRange {
    type Error = String;

    fn try_from([start, end]: [u16; 2]) -> Result<Self, Self::Error> {
        if start == 0 {
            return Err("port 0 is not a usable port".to_owned());
        }
        if start > end {
            return Err(format!("start {start} is greater than end {end}"));
        }
        Ok(Self { start, end })
    }
}

/// The file form: exactly two ports. (A `[u16; 2]` would let serde drop a third element.)
impl TryFrom<Vec<u16>> for PortRange {
    type Error = String;

    fn try_from(ports: Vec<u16>) -> Result<Self, Self::Error> {
        match ports[..] {
            [start, end] => Self::try_from([start, end]),
            _ => Err(format!(
                "expected [start, end], got {} numbers",
                ports.len()
            )),
        }
    }
}

impl From<PortRange> for [u16; 2] {
    fn from(range: PortRange) -> Self {
        [range.start, range.end]
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_overlap() {
        let media = PortRange::new(40_000, 49_999);
        assert_eq!(media.len(), 10_000);
        assert!(media.contains(40_000) && media.contains(49_999) && !media.contains(50_000));
        assert!(media.overlaps(PortRange::new(49_999, 50_100)));
        assert!(!media.overlaps(PortRange::new(33_000, 39_999)));
        assert_eq!(PortRange::new(65_535, 65_535).len(), 1);
    }

    #[test]
    fn rejects_reversed_and_zero() {
        assert_eq!(
            PortRange::try_from([50_000, 40_000]).unwrap_err(),
            "start 50000 is greater than end 40000"
        );
        assert!(PortRange::try_from([0, 10]).is_err());
        assert_eq!(
            PortRange::try_from(vec![1, 2, 3]).unwrap_err(),
            "expected [start, end], got 3 numbers"
        );
    }
}
