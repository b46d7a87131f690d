//! PNG encoding of the map: truecolour, a deflate stream (flate2), CRCs (crc32fast) and `tEXt`
//! chunks.

use std::io::Write as _;

/// A truecolour PNG (no filtering, deflate level 6).
pub(crate) fn encode_png(w: usize, h: usize, px: &[[u8; 3]], text: &[(String, String)]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(h * (1 + 3 * w));
    for row in px.chunks(w) {
        raw.push(0u8);
        for p in row {
            raw.extend_from_slice(p);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    };
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(w as u32).to_be_bytes());
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    for (key, value) in text {
        // tEXt: a Latin-1 keyword of 1 to 79 characters, a NUL, the text.
        let mut data: Vec<u8> = key.bytes().filter(|&b| b != 0).take(79).collect();
        data.push(0);
        data.extend(value.bytes().filter(|&b| b != 0));
        chunk(&mut out, b"tEXt", &data);
    }
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}
