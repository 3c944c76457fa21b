//! Output capture with a fixed memory cost: the first and the last bytes, and a count.
//!
//! A program under test may print without end (a loop gone wrong). The sandbox must keep
//! reading — a full pipe would block the program and turn a flood into a false timeout — but it
//! must not keep everything. The beginning usually says what went wrong and the end says how it
//! ended, so both are kept and the middle is replaced by a marker line.

use crate::scenario::Captured;

/// Bytes kept from the start of the output.
pub const HEAD_BYTES: usize = 16 * 1024;
/// Bytes kept from the end of the output.
pub const TAIL_BYTES: usize = 16 * 1024;

#[derive(Debug, Default)]
pub struct Capture {
    head: Vec<u8>,
    /// The latest bytes past the head; trimmed to [`TAIL_BYTES`] now and then (amortised).
    tail: Vec<u8>,
    total: u64,
}

impl Capture {
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = HEAD_BYTES - self.head.len();
        let to_head = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..to_head]);
        bytes = &bytes[to_head..];
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * TAIL_BYTES {
            self.tail.drain(..self.tail.len() - TAIL_BYTES);
        }
    }

    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    pub fn finish(mut self) -> Captured {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let cut_from_tail = self.tail.len().saturating_sub(TAIL_BYTES);
        self.tail.drain(..cut_from_tail);
        let cut = self.total - (kept - cut_from_tail as u64);
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if cut > 0 {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("[... {cut} bytes not kept ...]\n"));
        }
        text.push_str(&String::from_utf8_lossy(&self.tail));
        Captured {
            text,
            total_bytes: self.total,
            truncated: cut > 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        let mut capture = Capture::default();
        capture.push(b"hello ");
        capture.push(b"world\n");
        let captured = capture.finish();
        assert_eq!(captured.text, "hello world\n");
        assert_eq!((captured.total_bytes, captured.truncated), (12, false));
    }

    #[test]
    fn exactly_head_plus_tail_is_not_cut() {
        let mut capture = Capture::default();
        capture.push(&vec![b'a'; HEAD_BYTES + TAIL_BYTES]);
        let captured = capture.finish();
        assert!(!captured.truncated);
        assert_eq!(captured.text.len(), HEAD_BYTES + TAIL_BYTES);
    }

    #[test]
    fn a_flood_keeps_head_and_tail_and_counts_everything() {
        let mut capture = Capture::default();
        capture.push(b"first line\n");
        for _ in 0..1000 {
            capture.push(&[b'x'; 1000]);
        }
        capture.push(b"\nlast line\n");
        let captured = capture.finish();
        assert!(captured.truncated);
        assert_eq!(captured.total_bytes, 11 + 1_000_000 + 11);
        assert!(captured.text.starts_with("first line\nxxx"));
        assert!(captured.text.ends_with("xxx\nlast line\n"));
        let cut = 11 + 1_000_000 + 11 - (HEAD_BYTES + TAIL_BYTES);
        assert!(
            captured
                .text
                .contains(&format!("\n[... {cut} bytes not kept ...]\n"))
        );
        assert!(captured.text.len() < HEAD_BYTES + TAIL_BYTES + 100);
    }
}
