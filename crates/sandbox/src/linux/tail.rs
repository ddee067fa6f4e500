//! A byte sink that keeps only the last `cap` bytes written to it.

use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct Tail {
    buf: VecDeque<u8>,
    cap: usize,
    total: u64,
}

impl Tail {
    pub(crate) fn new(cap: usize) -> Self {
        Tail {
            buf: VecDeque::with_capacity(cap.min(64 << 10)),
            cap,
            total: 0,
        }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let keep = &bytes[bytes.len().saturating_sub(self.cap)..];
        let overflow = (self.buf.len() + keep.len()).saturating_sub(self.cap);
        self.buf.drain(..overflow);
        self.buf.extend(keep);
    }

    /// Bytes ever pushed, kept or not.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    pub(crate) fn into_string(self) -> String {
        String::from_utf8_lossy(&Vec::from(self.buf)).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_cap_bytes() {
        let mut tail = Tail::new(5);
        tail.push(b"abc");
        tail.push(b"defg");
        tail.push(b"");
        assert_eq!(tail.total(), 7);
        assert_eq!(tail.into_string(), "cdefg");
    }

    #[test]
    fn one_oversized_write_keeps_its_end() {
        let mut tail = Tail::new(4);
        tail.push(b"xy");
        tail.push(b"0123456789");
        assert_eq!(tail.total(), 12);
        assert_eq!(tail.into_string(), "6789");
    }

    #[test]
    fn zero_cap_keeps_nothing_but_counts() {
        let mut tail = Tail::new(0);
        tail.push(b"abc");
        assert_eq!(tail.total(), 3);
        assert_eq!(tail.into_string(), "");
    }
}
