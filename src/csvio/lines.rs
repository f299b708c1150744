//! Physical line numbers for CSV records.

use std::collections::VecDeque;
use std::io::{self, Read};

/// A reader that notes where the line breaks are, so that a record's starting byte (which the
/// csv crate reports correctly) gives its physical line. (The csv crate's own line count misses
/// line breaks inside quoted fields.)
pub(super) struct LineIndex<R> {
    inner: R,
    /// Offsets of the `\r` and `\n` bytes not yet passed (`true` for `\n`).
    breaks: VecDeque<(u64, bool)>,
    /// `\n` bytes already passed.
    passed_lines: u64,
    offset: u64,
}

impl<R: Read> LineIndex<R> {
    pub(super) fn new(inner: R) -> Self {
        LineIndex {
            inner,
            breaks: VecDeque::new(),
            passed_lines: 0,
            offset: 0,
        }
    }

    /// The 1-based line of the first byte at or after `byte` that is not a line break (a record
    /// starts after the previous one's terminator and any blank lines). Calls must not go back.
    pub(super) fn line_at(&mut self, byte: u64) -> u64 {
        while let Some(&(at, lf)) = self.breaks.front() {
            if at >= byte {
                break;
            }
            self.passed_lines += u64::from(lf);
            self.breaks.pop_front();
        }
        let mut blank_lines = 0;
        for (next, &(at, lf)) in (byte..).zip(self.breaks.iter()) {
            if at != next {
                break;
            }
            blank_lines += u64::from(lf);
        }
        1 + self.passed_lines + blank_lines
    }
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                self.breaks.push_back((self.offset + i as u64, b == b'\n'));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}
