//! A PNG preview map of the cells: an equirectangular world (or the cells' extent), each cell
//! filled with its own colour, borders in dark grey, optionally the points as dots.
//!
//! Polygons are filled with an even-odd scanline rule (an edge table, `O(e + c)` for `e` edges
//! and `c` row crossings); the PNG is written with a deflate stream (flate2) and CRCs
//! (crc32fast), both already in the dependency tree. Colours come from the cell id through
//! SplitMix64, so the same cells always give the same picture.

use std::io::Write as _;
use std::path::Path;

use geo_types::{Coord, MultiPolygon};

use crate::cells::CellSet;
use crate::export::{ExportError, write_atomic};

/// What to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapParams {
    /// Width in pixels (height follows from the extent).
    pub width: u32,
    /// Draw the points as dots.
    pub points: bool,
}

impl Default for MapParams {
    fn default() -> Self {
        Self {
            width: 2400,
            points: false,
        }
    }
}

/// An RGB raster in lon/lat.
struct Canvas {
    w: usize,
    h: usize,
    x0: f64,
    y1: f64,
    scale: f64,
    px: Vec<[u8; 3]>,
}

impl Canvas {
    fn to_px(&self, c: Coord<f64>) -> (f64, f64) {
        ((c.x - self.x0) * self.scale, (self.y1 - c.y) * self.scale)
    }

    fn fill(&mut self, mp: &MultiPolygon<f64>, colour: [u8; 3]) {
        // Rows crossed by each edge, all rings together (even-odd: holes stay empty).
        let mut rows: Vec<Vec<f64>> = vec![Vec::new(); self.h];
        for p in &mp.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for w in ring.0.windows(2) {
                    let (a, b) = (self.to_px(w[0]), self.to_px(w[1]));
                    let (top, bottom) = if a.1 <= b.1 { (a, b) } else { (b, a) };
                    // Pixel rows whose centre y + 0.5 lies in [top.y, bottom.y).
                    let first = (top.1 - 0.5).ceil().max(0.0) as usize;
                    let last = ((bottom.1 - 0.5).ceil() as isize).min(self.h as isize);
                    let last = (last.max(0) as usize).max(first);
                    for (r, xs) in rows.iter_mut().enumerate().take(last).skip(first) {
                        let y = r as f64 + 0.5;
                        let t = (y - top.1) / (bottom.1 - top.1);
                        xs.push(top.0 + t * (bottom.0 - top.0));
                    }
                }
            }
        }
        for (r, xs) in rows.iter_mut().enumerate() {
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                let from = (pair[0] - 0.5).ceil().max(0.0) as usize;
                let to = ((pair[1] - 0.5).ceil().max(0.0) as usize).min(self.w);
                for x in from..to {
                    self.px[r * self.w + x] = colour;
                }
            }
        }
    }

    fn line(&mut self, a: (f64, f64), b: (f64, f64), colour: [u8; 3]) {
        let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as usize;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            self.dot(x, y, colour);
        }
    }

    fn dot(&mut self, x: f64, y: f64, colour: [u8; 3]) {
        if x >= 0.0 && y >= 0.0 && (x as usize) < self.w && (y as usize) < self.h {
            self.px[y as usize * self.w + x as usize] = colour;
        }
    }

    fn outline(&mut self, mp: &MultiPolygon<f64>, colour: [u8; 3]) {
        for p in &mp.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for w in ring.0.windows(2) {
                    let (a, b) = (self.to_px(w[0]), self.to_px(w[1]));
                    self.line(a, b, colour);
                }
            }
        }
    }
}

/// A light colour for cell `id` (deterministic).
fn colour_of(id: u32) -> [u8; 3] {
    let mut rng = crate::synth::SplitMix64::new(u64::from(id) ^ 0x9e37_79b9);
    let mut c = [0u8; 3];
    for v in &mut c {
        *v = 90 + (rng.next_u64() % 150) as u8;
    }
    c
}

/// Renders the cells (and optionally `points`, lon/lat) into PNG bytes. The extent is the
/// cells' bounding box with a 2 % margin, clamped to the world.
pub fn render_png(cells: &CellSet, points: &[(f64, f64)], params: &MapParams) -> Vec<u8> {
    use geo::BoundingRect;
    let mut bb: Option<(f64, f64, f64, f64)> = None;
    for c in &cells.cells {
        if let Some(r) = c.geometry.bounding_rect() {
            bb = Some(match bb {
                None => (r.min().x, r.max().x, r.min().y, r.max().y),
                Some(b) => (
                    b.0.min(r.min().x),
                    b.1.max(r.max().x),
                    b.2.min(r.min().y),
                    b.3.max(r.max().y),
                ),
            });
        }
    }
    let (x0, x1, y0, y1) = bb.unwrap_or((-180.0, 180.0, -90.0, 90.0));
    let (mx, my) = (((x1 - x0) * 0.02).max(0.01), ((y1 - y0) * 0.02).max(0.01));
    let (x0, x1) = ((x0 - mx).max(-180.0), (x1 + mx).min(180.0));
    let (y0, y1) = ((y0 - my).max(-90.0), (y1 + my).min(90.0));
    let w = params.width.max(16) as usize;
    let scale = w as f64 / (x1 - x0);
    let h = (((y1 - y0) * scale).ceil() as usize).max(16);
    let mut canvas = Canvas {
        w,
        h,
        x0,
        y1,
        scale,
        px: vec![[214, 230, 242]; w * h],
    };
    for c in &cells.cells {
        canvas.fill(&c.geometry, colour_of(c.id));
    }
    for c in &cells.cells {
        canvas.outline(&c.geometry, [60, 60, 60]);
    }
    if params.points {
        for &(x, y) in points {
            let (px, py) = canvas.to_px(Coord { x, y });
            canvas.dot(px, py, [20, 20, 20]);
        }
    }
    encode_png(canvas.w, canvas.h, &canvas.px)
}

/// A truecolour PNG (no filtering, deflate level 6).
fn encode_png(w: usize, h: usize, px: &[[u8; 3]]) -> Vec<u8> {
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
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Writes `map.png` (atomically).
///
/// # Errors
/// [`ExportError`] when the file cannot be written.
pub fn write_map(
    cells: &CellSet,
    points: &[(f64, f64)],
    params: &MapParams,
    path: &Path,
) -> Result<(), ExportError> {
    let bytes = render_png(cells, points, params);
    write_atomic(path, |w| w.write_all(&bytes).map_err(|e| e.to_string()))
}
