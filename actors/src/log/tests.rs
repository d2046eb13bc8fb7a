//! Unit tests of the log format: round trips, hashes, and how torn or corrupted files read.

use super::*;
use serde::Deserialize;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Header {
    seed: u64,
    name: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Frame {
    Begin { step: u64 },
    Values(Vec<f64>),
}

fn write_sample(path: &Path) -> LogDigest {
    let mut w = LogWriter::create(
        path,
        &Header {
            seed: 7,
            name: "t".into(),
        },
        Fsync::Never,
    )
    .unwrap();
    for step in 0..3u64 {
        FrameSink::<Frame>::append(&mut w, &Frame::Begin { step }).unwrap();
        FrameSink::<Frame>::append(&mut w, &Frame::Values(vec![step as f64, 0.5])).unwrap();
        FrameSink::<Frame>::end_step(&mut w).unwrap();
    }
    FrameSink::<Frame>::finish(&mut w).unwrap()
}

#[test]
fn round_trip_and_hashes_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.log");
    let digest = write_sample(&path);
    assert_eq!(digest.frames, 6);
    assert_eq!(digest.sha256, file_sha256(&path).unwrap());
    assert_eq!(digest.bytes, std::fs::metadata(&path).unwrap().len());

    let mut hs = HashSink::new(&Header {
        seed: 7,
        name: "t".into(),
    })
    .unwrap();
    for step in 0..3u64 {
        FrameSink::<Frame>::append(&mut hs, &Frame::Begin { step }).unwrap();
        FrameSink::<Frame>::append(&mut hs, &Frame::Values(vec![step as f64, 0.5])).unwrap();
    }
    assert_eq!(FrameSink::<Frame>::finish(&mut hs).unwrap(), digest);

    let mut r = LogReader::open(&path).unwrap();
    let h: Header = r.header().unwrap();
    assert_eq!(h.seed, 7);
    let (frames, err) = r.read_all::<Frame>();
    assert!(err.is_none());
    assert_eq!(frames.len(), 6);
    assert_eq!(frames[5].1, Frame::Values(vec![2.0, 0.5]));
}

#[test]
fn truncated_log_keeps_its_prefix_and_names_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.log");
    write_sample(&path);
    let full = std::fs::read(&path).unwrap();
    let mut r = LogReader::open(&path).unwrap();
    let (frames, _) = r.read_all::<Frame>();
    let last_offset = frames[5].0;
    // Cut three bytes into the last frame's payload.
    std::fs::write(&path, &full[..last_offset as usize + 11]).unwrap();
    let mut r = LogReader::open(&path).unwrap();
    let (frames, err) = r.read_all::<Frame>();
    assert_eq!(frames.len(), 5);
    let err = err.expect("truncation must be reported");
    assert_eq!(err.offset(), Some(last_offset));
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn flipped_byte_is_a_checksum_error_at_that_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.log");
    write_sample(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let (frames, _) = LogReader::open(&path).unwrap().read_all::<Frame>();
    let target = frames[2].0 as usize + 9; // first payload byte of frame 2
    bytes[target] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let (frames2, err) = LogReader::open(&path).unwrap().read_all::<Frame>();
    assert_eq!(frames2.len(), 2);
    assert!(matches!(err, Some(LogError::Checksum { offset, .. }) if offset == frames[2].0));
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_refused_not_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("run.log");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Without the check, opening a FIFO with no writer blocks this thread forever.
    let err = LogReader::open(&fifo).err().unwrap().to_string();
    assert!(err.contains("FIFO"), "{err}");
    let err = file_sha256(&fifo).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    let err = LogReader::open(Path::new("/dev/zero"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("a device"), "{err}");
}

#[test]
fn not_a_log_and_bad_version_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.log");
    std::fs::write(&path, b"hello world, not a log").unwrap();
    assert!(matches!(LogReader::open(&path), Err(LogError::BadMagic)));
    let mut v = MAGIC.to_vec();
    v.extend_from_slice(&99u32.to_le_bytes());
    std::fs::write(&path, &v).unwrap();
    assert!(matches!(
        LogReader::open(&path),
        Err(LogError::UnsupportedVersion { found: 99 })
    ));
    std::fs::write(&path, &MAGIC[..5]).unwrap();
    assert!(matches!(
        LogReader::open(&path),
        Err(LogError::Truncated { .. })
    ));
    std::fs::write(&path, b"").unwrap();
    assert!(LogReader::open(&path).is_err());
}

#[test]
fn absurd_length_is_not_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.log");
    write_sample(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let (frames, _) = LogReader::open(&path).unwrap().read_all::<Frame>();
    let at = frames[1].0 as usize;
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let (_, err) = LogReader::open(&path).unwrap().read_all::<Frame>();
    assert!(matches!(err, Some(LogError::FrameTooLarge { .. })));
}

/// The fuzz target's finds: frames with valid checksums whose strings declare 2^62 and
/// 2^63 + 1 bytes aborted the process (allocation failure) or panicked (capacity
/// overflow) in the decoder. They are decode errors at the frame's offset now.
#[test]
fn declared_lengths_beyond_the_frame_are_decode_errors_not_aborts() {
    let frame = |payload: &[u8]| {
        let mut f = (payload.len() as u32).to_le_bytes().to_vec();
        f.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        f.extend_from_slice(payload);
        f
    };
    let log = |frames: &[Vec<u8>]| {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        for f in frames {
            bytes.extend_from_slice(f);
        }
        bytes
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.log");
    // A header (a String) declaring 2^62 and 2^63 + 1 bytes: varint tag 0xfd, u64 LE.
    for len in [1u64 << 62, (1u64 << 63) + 1] {
        let mut payload = vec![0xfd];
        payload.extend_from_slice(&len.to_le_bytes());
        std::fs::write(&path, log(&[frame(&payload)])).unwrap();
        let reader = LogReader::open(&path).unwrap();
        let err = reader.header::<String>().unwrap_err();
        assert!(matches!(err, LogError::Decode { offset: 12, .. }), "{err}");
    }
    // A frame after an empty header: a variant whose string claims 2^62 bytes.
    let mut payload = vec![0x01, 0xfd];
    payload.extend_from_slice(&(1u64 << 62).to_le_bytes());
    std::fs::write(&path, log(&[frame(&[]), frame(&payload)])).unwrap();
    let (frames, err) = LogReader::open(&path).unwrap().read_all::<(u8, String)>();
    assert!(frames.is_empty());
    assert!(
        matches!(err, Some(LogError::Decode { offset: 20, .. })),
        "{err:?}"
    );
    // A vector of a billion f64 claimed by a 10-byte frame: refused before allocating.
    let mut payload = vec![0xfc];
    payload.extend_from_slice(&1_000_000_000u32.to_le_bytes());
    std::fs::write(&path, log(&[frame(&[]), frame(&payload)])).unwrap();
    let (_, err) = LogReader::open(&path).unwrap().read_all::<Vec<f64>>();
    assert!(matches!(err, Some(LogError::Decode { .. })), "{err:?}");
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // 64 cases in the test suite; PROPTEST_CASES=1000000 for the long run.
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        ))]
        /// Any corruption of any byte after the preamble is either caught or leaves a
        /// prefix of the original frames: the reader never panics and never invents frames.
        #[test]
        fn corrupted_logs_never_panic(pos in 12usize..400, xor in 1u8..=255, cut in 0usize..400) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("run.log");
            write_sample(&path);
            let original: Vec<Frame> = LogReader::open(&path).unwrap().read_all::<Frame>().0.into_iter().map(|f| f.1).collect();
            let mut bytes = std::fs::read(&path).unwrap();
            if pos < bytes.len() { bytes[pos] ^= xor; }
            bytes.truncate(bytes.len().saturating_sub(cut % 64));
            std::fs::write(&path, &bytes).unwrap();
            if let Ok(mut r) = LogReader::open(&path) {
                let (frames, _) = r.read_all::<Frame>();
                for (i, (_, f)) in frames.iter().enumerate() {
                    // A flip inside a payload is caught by the CRC, so surviving frames match.
                    prop_assert_eq!(f, &original[i]);
                }
            }
        }
    }
}
