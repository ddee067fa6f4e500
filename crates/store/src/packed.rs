//! Token ids stored compactly: LEB128 varints (ids below 2²¹ take 3 bytes, most take
//! 2–3), then zstd, which folds the repeats of a reasoning trace.

use crate::StoreError;

/// zstd level: 3 is zstd's default, fast enough to never hold up the writer.
const LEVEL: i32 = 3;
/// No generation has 12M tokens; a frame claiming more is damaged, not allocated.
const MAX_RAW: u64 = 64 << 20;

pub fn pack_ids(ids: &[u32]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(ids.len() * 3);
    for &id in ids {
        let mut v = id;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                raw.push(byte);
                break;
            }
            raw.push(byte | 0x80);
        }
    }
    zstd::bulk::compress(&raw, LEVEL).expect("zstd compression of an in-memory buffer")
}

pub fn unpack_ids(blob: &[u8], what: &str) -> Result<Vec<u32>, StoreError> {
    let corrupt = |detail: String| StoreError::CorruptRun { run: what.to_string(), field: "token_ids", detail };
    // Each id is at least one byte, and zstd states the decompressed size up front.
    let size = zstd::zstd_safe::get_frame_content_size(blob)
        .ok()
        .flatten()
        .ok_or_else(|| corrupt("not a zstd frame with a known size".into()))?;
    if size > MAX_RAW {
        return Err(corrupt(format!("claims {size} bytes of ids")));
    }
    let raw = zstd::bulk::decompress(blob, size as usize).map_err(|e| corrupt(e.to_string()))?;
    let mut ids = Vec::with_capacity(raw.len() / 2);
    let (mut value, mut shift) = (0u64, 0u32);
    for byte in raw {
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            let id = u32::try_from(value).map_err(|_| corrupt(format!("id {value} does not fit 32 bits")))?;
            ids.push(id);
            (value, shift) = (0, 0);
        } else {
            shift += 7;
            if shift > 35 {
                return Err(corrupt("a varint runs past 5 bytes".into()));
            }
        }
    }
    if shift != 0 {
        return Err(corrupt("the last varint is cut short".into()));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_shrink() {
        let ids: Vec<u32> = (0..5000u32).map(|i| (i * 7919) % 151_936).chain([0, 127, 128, u32::MAX]).collect();
        let blob = pack_ids(&ids);
        assert_eq!(unpack_ids(&blob, "t").unwrap(), ids);
        assert!(blob.len() < ids.len() * 3, "{} bytes for {} ids", blob.len(), ids.len());
        assert_eq!(unpack_ids(&pack_ids(&[]), "t").unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn damaged_blobs_are_errors_not_panics() {
        assert!(unpack_ids(b"not zstd", "t").is_err());
        let cut = zstd::bulk::compress(&[0x80, 0x80], 3).unwrap();
        assert!(unpack_ids(&cut, "t").unwrap_err().to_string().contains("cut short"));
    }
}
