//! `HdrHistogram`'s interchange encoding (V2, compressed, base64) of a
//! [`LatencyHistogram`], so a histogram written by one archbench process
//! (a shard of a distributed load test) is read by another, or by any
//! `HdrHistogram` tool, bucket for bucket.
//!
//! The buckets are `HdrHistogram`'s own (a unit of one nanosecond, 2 × 2^bits
//! sub-buckets: three significant digits at 10 bits, two at 7), so a
//! bucket's index is its index in `HdrHistogram`'s counts array. The layout,
//! as the reference implementation (Java) writes it, all big-endian:
//!
//! - compressed: cookie `0x1c849314`, the compressed length (i32), then the
//!   uncompressed encoding deflated in zlib's format;
//! - uncompressed: cookie `0x1c849313`, payload length (i32), normalizing
//!   index offset (i32, 0), significant digits (i32), lowest discernible
//!   value (i64, 1), highest trackable value (i64), integer-to-double ratio
//!   (f64, 1.0); then the counts from index 0 to the largest value's, each
//!   a `ZigZag` LEB128 number (at most 9 bytes), a run of two or more zeros
//!   written as minus its length.
//!
//! The exact sum, smallest and largest value are not in the encoding (it
//! holds buckets only); a decoded histogram takes its bucket's lowest
//! values, and callers that carry the exact figures beside the text restore
//! them with [`decode_exact`].

use super::LatencyHistogram;

const COOKIE: u32 = 0x1c84_9313;
const COMPRESSED_COOKIE: u32 = 0x1c84_9314;
const HEADER: usize = 40;

/// Why an encoded histogram cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HdrError {
    /// Not base64.
    #[error("not base64 text at character {0}")]
    Base64(usize),
    /// Too short for what its header says.
    #[error("the encoded histogram is cut short")]
    Short,
    /// Not the V2 encoding.
    #[error("cookie {0:#010x} is not HdrHistogram's V2 encoding (0x1c849313 or 0x1c849314)")]
    Cookie(u32),
    /// The compressed part does not inflate.
    #[error("the compressed histogram does not inflate: {0}")]
    Inflate(String),
    /// A precision archbench does not keep.
    #[error(
        "{digits} significant digits with a lowest discernible value of {lowest}: archbench reads 2 or 3 digits in units of 1 ns"
    )]
    Precision {
        /// The header's significant digits.
        digits: u32,
        /// The header's lowest discernible value.
        lowest: u64,
    },
    /// A count or a run that does not fit.
    #[error("a count in the encoded histogram is malformed at byte {0}")]
    Count(usize),
}

/// Significant digits for the layout of `bits`, as `HdrHistogram` derives
/// its sub-buckets from them (2 × 10^digits rounded up to a power of two).
fn digits_of(bits: u32) -> Option<u32> {
    match bits {
        4 => Some(1),
        7 => Some(2),
        10 => Some(3),
        14 => Some(4),
        17 => Some(5),
        _ => None,
    }
}

/// The V2 compressed encoding of `histogram`, in base64.
pub fn encode(histogram: &LatencyHistogram) -> String {
    let bits = histogram.bits();
    let digits = digits_of(bits).unwrap_or(3);
    let mut payload = Vec::new();
    let mut next = 0;
    for (index, count) in histogram.recorded() {
        let zeros = index - next;
        match zeros {
            0 => {}
            1 => put_zigzag(&mut payload, 0),
            n => put_zigzag(&mut payload, -(i64::try_from(n).unwrap_or(i64::MAX))),
        }
        put_zigzag(&mut payload, i64::try_from(count).unwrap_or(i64::MAX));
        next = index + 1;
    }
    let mut plain = Vec::with_capacity(HEADER + payload.len());
    plain.extend_from_slice(&COOKIE.to_be_bytes());
    plain.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    plain.extend_from_slice(&0_u32.to_be_bytes());
    plain.extend_from_slice(&digits.to_be_bytes());
    plain.extend_from_slice(&1_u64.to_be_bytes());
    plain.extend_from_slice(&histogram.max_ns().max(2).to_be_bytes());
    plain.extend_from_slice(&1.0_f64.to_be_bytes());
    plain.extend_from_slice(&payload);
    let deflated = miniz_oxide::deflate::compress_to_vec_zlib(&plain, 6);
    let mut out = Vec::with_capacity(8 + deflated.len());
    out.extend_from_slice(&COMPRESSED_COOKIE.to_be_bytes());
    out.extend_from_slice(
        &u32::try_from(deflated.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(&deflated);
    base64(&out)
}

/// Reads a V2 encoding (compressed or not) from base64 text; values take
/// their bucket's lowest value.
pub fn decode(text: &str) -> Result<LatencyHistogram, HdrError> {
    let bytes = unbase64(text.trim())?;
    let cookie = be_u32(&bytes, 0)?;
    let plain = match cookie {
        COMPRESSED_COOKIE => {
            let length = be_u32(&bytes, 4)? as usize;
            let deflated = bytes.get(8..8 + length).ok_or(HdrError::Short)?;
            miniz_oxide::inflate::decompress_to_vec_zlib(deflated)
                .map_err(|e| HdrError::Inflate(format!("{:?}", e.status)))?
        }
        COOKIE => bytes,
        other => return Err(HdrError::Cookie(other)),
    };
    let inner = be_u32(&plain, 0)?;
    if inner != COOKIE {
        return Err(HdrError::Cookie(inner));
    }
    let length = be_u32(&plain, 4)? as usize;
    let digits = be_u32(&plain, 12)?;
    let lowest = u64::from(be_u32(&plain, 16)?) << 32 | u64::from(be_u32(&plain, 20)?);
    let bits = match (digits, lowest) {
        (2, 1) => 7,
        (3, 1) => 10,
        _ => return Err(HdrError::Precision { digits, lowest }),
    };
    let payload = plain.get(HEADER..HEADER + length).ok_or(HdrError::Short)?;
    let mut histogram = LatencyHistogram::with_bits(bits);
    let (mut at, mut index) = (0, 0_usize);
    while at < payload.len() {
        let start = at;
        let value = get_zigzag(payload, &mut at).ok_or(HdrError::Count(HEADER + start))?;
        if value < 0 {
            let run = usize::try_from(value.unsigned_abs())
                .map_err(|_| HdrError::Count(HEADER + start))?;
            index = index
                .checked_add(run)
                .ok_or(HdrError::Count(HEADER + start))?;
            continue;
        }
        if value > 0 {
            // Past the largest bucket of u64 values: malformed.
            if index > histogram.index(u64::MAX) {
                return Err(HdrError::Count(HEADER + start));
            }
            histogram.record_n(histogram.lowest(index), value.unsigned_abs());
        }
        index += 1;
    }
    Ok(histogram)
}

/// [`decode`], then the exact sum, smallest and largest value restored
/// (as carried beside the encoding), when there are values.
pub fn decode_exact(
    text: &str,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
) -> Result<LatencyHistogram, HdrError> {
    let mut histogram = decode(text)?;
    if histogram.count() > 0 {
        histogram.set_exact(sum_ns, min_ns, max_ns);
    }
    Ok(histogram)
}

fn be_u32(bytes: &[u8], at: usize) -> Result<u32, HdrError> {
    let word = bytes.get(at..at + 4).ok_or(HdrError::Short)?;
    Ok(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

/// `ZigZag`, then LEB128 in at most 9 bytes (the ninth holds 8 bits).
fn put_zigzag(out: &mut Vec<u8>, value: i64) {
    #[expect(clippy::cast_sign_loss, reason = "ZigZag's bit pattern")]
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    for _ in 0..8 {
        if v >> 7 == 0 {
            #[expect(clippy::cast_possible_truncation, reason = "below 128")]
            out.push(v as u8);
            return;
        }
        #[expect(clippy::cast_possible_truncation, reason = "the low 7 bits")]
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    #[expect(clippy::cast_possible_truncation, reason = "the last 8 bits")]
    out.push(v as u8);
}

fn get_zigzag(bytes: &[u8], at: &mut usize) -> Option<i64> {
    let mut v = 0_u64;
    for k in 0..9 {
        let byte = *bytes.get(*at)?;
        *at += 1;
        if k == 8 {
            v |= u64::from(byte) << 56;
            break;
        }
        v |= u64::from(byte & 0x7f) << (7 * k);
        if byte & 0x80 == 0 {
            break;
        }
    }
    #[expect(clippy::cast_possible_wrap, reason = "ZigZag's bit pattern")]
    Some((v >> 1) as i64 ^ -((v & 1) as i64))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * k)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(text: &str) -> Result<Vec<u8>, HdrError> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut have) = (0_u32, 0);
    for (at, c) in text.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return Err(HdrError::Base64(at)),
        };
        acc = acc << 6 | u32::from(v);
        have += 6;
        if have >= 8 {
            have -= 8;
            #[expect(clippy::cast_possible_truncation, reason = "one byte")]
            out.push((acc >> have) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_numbers_round_trip_at_every_width() {
        for value in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            8191,
            -8192,
            i64::MAX,
            i64::MIN,
            1 << 40,
            -(1 << 55),
        ] {
            let mut bytes = Vec::new();
            put_zigzag(&mut bytes, value);
            assert!(bytes.len() <= 9);
            let mut at = 0;
            assert_eq!(get_zigzag(&bytes, &mut at), Some(value));
            assert_eq!(at, bytes.len());
        }
    }

    #[test]
    fn base64_round_trips_every_tail_length() {
        for n in 0..10_u8 {
            let bytes: Vec<u8> = (0..n).map(|k| k.wrapping_mul(97)).collect();
            assert_eq!(unbase64(&base64(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
    }
}
