//! `HdrHistogram`'s interchange encoding: blobs written by the reference
//! library's Python port (`hdrhistogram` 0.10, `HdrHistogram(1, 3600e9, d)`
//! then `encode()`) read to the buckets archbench fills with the same
//! values; encoding and decoding keep every bucket and the exact figures;
//! a histogram split at random into parts, each encoded and decoded, merges
//! back to the original exactly; and damaged text is an error, never a
//! panic.

use archbench::stats::LatencyHistogram;
use archbench::stats::hdr::{self, HdrError};

use crate::support::Draws as Rng;

/// Latency-like values: log-uniform from 1 ns to about 100 s.
fn latency(rng: &mut Rng) -> u64 {
    let exponent = (rng.next() % 37) as u32;
    (1_u64 << exponent) + rng.next() % (1_u64 << exponent)
}

fn filled(mut histogram: LatencyHistogram, values: &[u64]) -> LatencyHistogram {
    for &v in values {
        histogram.record(v);
    }
    histogram
}

#[test]
fn the_reference_librarys_blobs_read_to_archbenchs_buckets() {
    // Three significant digits.
    let python = "HISTFAAAADt4nJNpmSzMwMAgxQABzFCaEch0M9ixgMH+A1SAieUkP9NqASaW3/xME/2Y1howLZzPyNQfxwQAFeoLBQ==";
    let values = [
        1,
        2,
        2,
        1000,
        2047,
        2048,
        2049,
        4095,
        123_456,
        999_999,
        1_000_000_000,
        60_000_000_000,
    ];
    let read = hdr::decode(python).unwrap();
    let ours = filled(LatencyHistogram::new(), &values);
    assert_eq!(read.count(), 12);
    // Bucket for bucket: what we write of the same values reads the same.
    assert_eq!(read, hdr::decode(&hdr::encode(&ours)).unwrap());
    // 2048 and 2049 share a bucket of width 2; 60 s is within 0.1%.
    assert!((2048..=2049).contains(&read.quantile_ns(0.5)));
    let top = read.max_ns() as f64;
    assert!((top / 60e9 - 1.0).abs() < 1e-3, "{top}");

    // Two significant digits.
    let python = "HISTFAAAAC94nJNpmSzMwMDAxwABTFCakYGB2c1gxwIG+w8QAU6mj4xMTEw/gcRTcSYAoqkHVw==";
    let values = [5, 127, 128, 129, 255, 256, 1_000_000];
    let read = hdr::decode(python).unwrap();
    let ours = filled(LatencyHistogram::coarse(), &values);
    assert_eq!(read, hdr::decode(&hdr::encode(&ours)).unwrap());
    assert_eq!(read.count(), 7);
}

#[test]
fn encoding_keeps_every_bucket_and_the_exact_figures() {
    let mut rng = Rng(7);
    for precise in [true, false] {
        let values: Vec<u64> = (0..20_000).map(|_| latency(&mut rng)).collect();
        let histogram = filled(
            if precise {
                LatencyHistogram::new()
            } else {
                LatencyHistogram::coarse()
            },
            &values,
        );
        let text = hdr::encode(&histogram);
        assert!(text.starts_with("HISTF"), "the compressed V2 cookie");
        let back = hdr::decode_exact(
            &text,
            histogram.sum_ns(),
            histogram.min_ns(),
            histogram.max_ns(),
        )
        .unwrap();
        assert_eq!(back, histogram);
    }
    // Empty.
    let empty = LatencyHistogram::new();
    assert_eq!(hdr::decode(&hdr::encode(&empty)).unwrap(), empty);
}

#[test]
fn parts_encoded_apart_merge_to_the_whole_exactly() {
    let mut rng = Rng(11);
    let values: Vec<u64> = (0..50_000).map(|_| latency(&mut rng)).collect();
    let whole = filled(LatencyHistogram::new(), &values);
    for parts in [2, 3, 7] {
        let mut split = vec![LatencyHistogram::new(); parts];
        for &v in &values {
            split[usize::try_from(rng.next() % parts as u64).unwrap()].record(v);
        }
        let mut merged = LatencyHistogram::new();
        for part in &split {
            let text = hdr::encode(part);
            let read =
                hdr::decode_exact(&text, part.sum_ns(), part.min_ns(), part.max_ns()).unwrap();
            merged.merge(&read);
        }
        assert_eq!(merged, whole, "{parts} parts");
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(merged.quantile_ns(q), whole.quantile_ns(q));
        }
    }
}

#[test]
fn damaged_text_is_an_error_never_a_panic() {
    assert_eq!(hdr::decode("HIST!").unwrap_err(), HdrError::Base64(4));
    assert_eq!(hdr::decode("").unwrap_err(), HdrError::Short);
    // A V1 cookie.
    let v1 = "HISTEAAAAA==";
    assert!(matches!(hdr::decode(v1), Err(HdrError::Cookie(_))));
    let mut rng = Rng(3);
    let values: Vec<u64> = (0..2_000).map(|_| latency(&mut rng)).collect();
    let text = hdr::encode(&filled(LatencyHistogram::new(), &values));
    // Every byte changed in turn, and every cut: an answer, not a panic.
    let bytes = text.as_bytes();
    for at in 0..bytes.len() {
        let mut damaged = bytes.to_vec();
        damaged[at] = if damaged[at] == b'A' { b'z' } else { b'A' };
        let _ = hdr::decode(std::str::from_utf8(&damaged).unwrap());
        let _ = hdr::decode(&text[..at]);
    }
}
