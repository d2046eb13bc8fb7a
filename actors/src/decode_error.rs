//! Why a frame or snapshot payload did not decode, in words: bincode's own `Display` prints
//! its error's `Debug` form (`UnexpectedEnd { additional: 1 }`), which a user cannot act on.

use bincode::error::DecodeError;

/// A decode error as a sentence about the bytes.
pub(crate) fn describe(e: &DecodeError) -> String {
    match e {
        DecodeError::UnexpectedEnd { additional } => format!(
            "the payload ends too early (at least {additional} more byte{} expected)",
            if *additional == 1 { "" } else { "s" }
        ),
        DecodeError::LimitExceeded => {
            "the payload declares more data than any valid one holds".to_string()
        }
        DecodeError::UnexpectedVariant {
            type_name, found, ..
        } => format!("the payload names variant {found} of {type_name}, which does not exist"),
        DecodeError::Utf8 { inner } => format!("a text in the payload is not UTF-8 ({inner})"),
        DecodeError::InvalidBooleanValue(v) => {
            format!("a yes/no value in the payload is {v}, neither 0 nor 1")
        }
        DecodeError::InvalidCharEncoding(_) => "a character in the payload is invalid".into(),
        DecodeError::OutsideUsizeRange(v) => {
            format!("a length in the payload ({v}) is too large for this machine")
        }
        DecodeError::Io { inner, .. } => format!("reading the payload failed: {inner}"),
        DecodeError::Other(m) => (*m).to_string(),
        DecodeError::OtherString(m) => m.clone(),
        other => format!("the payload is not a valid value ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use crate::log::{LogError, decode_bounded, encode_payload};

    #[test]
    fn a_truncated_payload_is_described_in_words() {
        let mut bytes = Vec::new();
        encode_payload(&(7u64, "seven".to_string()), &mut bytes).unwrap();
        let err = decode_bounded::<(u64, String), 1024>(&bytes[..bytes.len() - 1], 40).unwrap_err();
        let LogError::Decode { offset, message } = err else {
            panic!("{err}")
        };
        assert_eq!(offset, 40);
        assert_eq!(
            message,
            "the payload ends too early (at least 1 more byte expected)"
        );
    }

    #[test]
    fn a_declared_length_past_the_limit_is_described_in_words() {
        let mut bytes = Vec::new();
        encode_payload(&"x".repeat(100), &mut bytes).unwrap();
        let err = decode_bounded::<String, 10>(&bytes, 0).unwrap_err();
        assert!(err.to_string().contains("declares more data"), "{err}");
        assert!(!err.to_string().contains('{'), "{err}");
    }
}
