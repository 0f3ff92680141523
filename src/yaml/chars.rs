//! The characters of a text read a line at a time, for a YAML stream that never holds the text whole.

use std::cell::Cell;
use std::io::BufRead;
use std::rc::Rc;

/// The characters `reader` gives, without a leading byte-order mark. A read error,
/// invalid UTF-8, or more than its bound of bytes ends them early, which
/// [`ReadFailure::failed`] tells: the characters before are then not the whole text.
pub struct LineChars<R> {
    reader: R,
    line: String,
    at: usize,
    /// Bytes that may still be read.
    left: u64,
    first: bool,
    failure: ReadFailure,
}

/// Whether a [`LineChars`] ended before the end of its text.
#[derive(Clone, Default)]
pub struct ReadFailure(Rc<Cell<bool>>);

impl ReadFailure {
    pub fn failed(&self) -> bool {
        self.0.get()
    }
}

impl<R: BufRead> LineChars<R> {
    /// The characters of at most `bound` bytes of `reader`, and what tells whether it
    /// failed.
    pub fn new(reader: R, bound: u64) -> (LineChars<R>, ReadFailure) {
        let failure = ReadFailure::default();
        let chars = LineChars {
            reader,
            line: String::new(),
            at: 0,
            left: bound,
            first: true,
            failure: failure.clone(),
        };
        (chars, failure)
    }

    /// Reads the next line; false at the end or on a failure.
    fn next_line(&mut self) -> bool {
        self.line.clear();
        self.at = 0;
        match self.reader.read_line(&mut self.line) {
            Ok(0) => false,
            Ok(read) if read as u64 > self.left => {
                self.failure.0.set(true);
                false
            }
            Ok(read) => {
                self.left -= read as u64;
                if std::mem::take(&mut self.first) && self.line.starts_with('\u{feff}') {
                    self.at = '\u{feff}'.len_utf8();
                }
                true
            }
            Err(_) => {
                self.failure.0.set(true);
                false
            }
        }
    }
}

impl<R: BufRead> Iterator for LineChars<R> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        loop {
            if let Some(c) = self.line[self.at..].chars().next() {
                self.at += c.len_utf8();
                return Some(c);
            }
            if !self.next_line() {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], bound: u64) -> (String, bool) {
        let (chars, failure) = LineChars::new(bytes, bound);
        let text = chars.collect();
        (text, failure.failed())
    }

    #[test]
    fn gives_every_character_but_a_leading_byte_order_mark() {
        let text = "\u{feff}a: é\r\nb: |\n  x\u{feff}\n\nc";
        assert_eq!(
            read(text.as_bytes(), 1 << 20),
            (text[3..].to_string(), false)
        );
    }

    #[test]
    fn invalid_utf8_and_a_text_past_its_bound_end_it_as_failed() {
        assert_eq!(read(b"a: 1\nb: \xff\n", 100), ("a: 1\n".to_string(), true));
        assert_eq!(read(b"a: 1\nb: 2\n", 8), ("a: 1\n".to_string(), true));
        assert_eq!(
            read(b"a: 1\nb: 2\n", 10),
            ("a: 1\nb: 2\n".to_string(), false)
        );
    }
}
