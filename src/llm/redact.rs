//! Keeping the API key out of everything a server sends back: answers, error messages and raw
//! bodies are scrubbed of it before anything reads, logs or stores them.

use std::sync::Arc;

/// Replaces every occurrence of the API key in what a server sent back (a server may reflect
/// the request's headers into an error or an answer). Keys shorter than 8 characters are not
/// secrets worth the damage that replacing them everywhere would do to answers.
#[derive(Clone, Default)]
pub struct Redactor {
    key: Option<Arc<str>>,
}

impl Redactor {
    pub const MARK: &'static str = "[redacted]";

    pub fn new(key: Option<&str>) -> Redactor {
        Redactor {
            key: key.filter(|k| k.len() >= 8).map(Arc::from),
        }
    }

    pub fn scrub(&self, text: String) -> String {
        match &self.key {
            Some(k) if text.contains(&**k) => text.replace(&**k, Self::MARK),
            _ => text,
        }
    }

    /// [`Redactor::scrub`] on raw bytes, for a body before anything parses it (a body need
    /// not be UTF-8).
    pub fn scrub_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let Some(k) = &self.key else { return bytes };
        let finder = memchr::memmem::Finder::new(k.as_bytes());
        let mut hits = finder.find_iter(&bytes).peekable();
        if hits.peek().is_none() {
            return bytes;
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut from = 0;
        for at in hits {
            out.extend_from_slice(&bytes[from..at]);
            out.extend_from_slice(Self::MARK.as_bytes());
            from = at + k.len();
        }
        out.extend_from_slice(&bytes[from..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_scrubbed_and_short_keys_are_left_alone() {
        let r = Redactor::new(Some("sk-secret-123"));
        assert_eq!(
            r.scrub("authorization: Bearer sk-secret-123".into()),
            "authorization: Bearer [redacted]"
        );
        assert_eq!(Redactor::new(Some("x")).scrub("xx".into()), "xx");
        assert_eq!(Redactor::new(None).scrub("a".into()), "a");
    }

    #[test]
    fn the_key_is_scrubbed_from_bytes_that_are_not_text() {
        let r = Redactor::new(Some("sk-secret-123"));
        assert_eq!(
            r.scrub_bytes(b"\xff sk-secret-123 and sk-secret-123\xfe".to_vec()),
            b"\xff [redacted] and [redacted]\xfe".to_vec()
        );
        assert_eq!(r.scrub_bytes(b"sk-secret-12".to_vec()), b"sk-secret-12");
        assert_eq!(Redactor::new(None).scrub_bytes(b"ab".to_vec()), b"ab");
    }
}
