//! The map's raster: an RGB canvas in lon/lat with polygon fill (an even-odd scanline rule
//! over an edge table, `O(e + c)` for `e` edges and `c` row crossings), borders, dots,
//! blended rectangles and text.

use geo_types::{Coord, MultiPolygon};

/// The background colour.
pub(crate) const SEA: [u8; 3] = [214, 230, 242];

/// An RGB raster in lon/lat.
pub(crate) struct Canvas {
    /// Width in pixels.
    pub(crate) w: usize,
    /// Height in pixels.
    pub(crate) h: usize,
    /// Longitude of the left edge.
    pub(crate) x0: f64,
    /// Latitude of the top edge.
    pub(crate) y1: f64,
    /// Pixels per degree of longitude.
    pub(crate) scale: f64,
    /// Pixels per degree of latitude: [`Canvas::scale`] on the whole map (plate carrée); on
    /// a zoomed one, [`Canvas::scale`] over the cosine of the box's middle latitude, so that a
    /// km is as long across as down there.
    pub(crate) yscale: f64,
    /// Longitudes below this are drawn 360° further east ([`crate::output::map::render::LonWindow::cut`]).
    pub(crate) cut: f64,
    /// The pixels, row by row from the top.
    pub(crate) px: Vec<[u8; 3]>,
}

impl Canvas {
    /// Pixel coordinates of a lon/lat point.
    pub(crate) fn to_px(&self, c: Coord<f64>) -> (f64, f64) {
        let x = if c.x < self.cut { c.x + 360.0 } else { c.x };
        ((x - self.x0) * self.scale, (self.y1 - c.y) * self.yscale)
    }

    /// Fills a multipolygon (even-odd scanline rule).
    pub(crate) fn fill(&mut self, mp: &MultiPolygon<f64>, colour: [u8; 3]) {
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

    /// A straight line of dots between two pixel positions. A line reaching beyond the canvas
    /// (on a zoomed map) is first cut to it, so it costs no more than the canvas is wide.
    pub(crate) fn line(&mut self, a: (f64, f64), b: (f64, f64), colour: [u8; 3]) {
        let (w, h) = (self.w as f64, self.h as f64);
        let inside = |p: (f64, f64)| p.0 >= -1.0 && p.1 >= -1.0 && p.0 <= w + 1.0 && p.1 <= h + 1.0;
        let (a, b) = if inside(a) && inside(b) {
            (a, b)
        } else {
            match clip_segment(a, b, (-1.0, -1.0, w + 1.0, h + 1.0)) {
                Some(ab) => ab,
                None => return,
            }
        };
        let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as usize;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            self.dot(x, y, colour);
        }
    }

    /// One pixel, if inside the canvas.
    pub(crate) fn dot(&mut self, x: f64, y: f64, colour: [u8; 3]) {
        if x >= 0.0 && y >= 0.0 && (x as usize) < self.w && (y as usize) < self.h {
            self.px[y as usize * self.w + x as usize] = colour;
        }
    }

    /// How many pixels of a rectangle are not sea: cells, borders and points drawn there.
    pub(crate) fn drawn(&self, x0: usize, y0: usize, w: usize, h: usize) -> usize {
        (y0..(y0 + h).min(self.h))
            .map(|y| {
                (x0..(x0 + w).min(self.w))
                    .filter(|&x| self.px[y * self.w + x] != SEA)
                    .count()
            })
            .sum()
    }

    /// A filled rectangle, blended with `alpha` (0 to 1) over what is there.
    pub(crate) fn rect(
        &mut self,
        x0: usize,
        y0: usize,
        w: usize,
        h: usize,
        colour: [u8; 3],
        alpha: f64,
    ) {
        for y in y0..(y0 + h).min(self.h) {
            for x in x0..(x0 + w).min(self.w) {
                let p = &mut self.px[y * self.w + x];
                for k in 0..3 {
                    p[k] = (f64::from(p[k]) * (1.0 - alpha) + f64::from(colour[k]) * alpha).round()
                        as u8;
                }
            }
        }
    }

    /// Text with its top-left corner at (x, y), each font pixel `scale` pixels wide.
    pub(crate) fn text(&mut self, x: usize, y: usize, s: &str, scale: usize, colour: [u8; 3]) {
        for (k, c) in s.chars().enumerate() {
            let g = crate::output::map::font::glyph(c);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0b10000 >> col) != 0 {
                        let gx = x + (k * 6 + col) * scale;
                        let gy = y + row * scale;
                        self.rect(gx, gy, scale, scale, colour, 1.0);
                    }
                }
            }
        }
    }

    /// The rings of a multipolygon as lines.
    pub(crate) fn outline(&mut self, mp: &MultiPolygon<f64>, colour: [u8; 3]) {
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

/// The part of the segment `a`–`b` inside the rectangle `(x0, y0, x1, y1)` (Liang–Barsky),
/// `None` when none is.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x0, y0, x1, y1): (f64, f64, f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_cut_to_the_canvas() {
        let r = (0.0, 0.0, 10.0, 10.0);
        assert_eq!(
            clip_segment((-10.0, 5.0), (20.0, 5.0), r),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(
            clip_segment((2.0, 2.0), (4.0, 4.0), r),
            Some(((2.0, 2.0), (4.0, 4.0)))
        );
        assert_eq!(clip_segment((-5.0, -5.0), (-1.0, 20.0), r), None);
        assert_eq!(clip_segment((11.0, 0.0), (30.0, 10.0), r), None);
        // A line a million pixels long outside the canvas draws only its part inside.
        let mut c = Canvas {
            w: 20,
            h: 10,
            x0: 0.0,
            y1: 0.0,
            scale: 1.0,
            yscale: 1.0,
            cut: f64::NEG_INFINITY,
            px: vec![[255, 255, 255]; 200],
        };
        c.line((-1e6, 4.5), (1e6, 4.5), [0, 0, 0]);
        let dark = c.px.iter().filter(|p| **p == [0, 0, 0]).count();
        // One dot a pixel; rounding may put two dots in one pixel, as for any line.
        assert!((19..=20).contains(&dark), "{dark}");
        assert!(
            c.px[4 * 20..5 * 20]
                .iter()
                .filter(|p| **p == [0, 0, 0])
                .count()
                == dark
        );
    }

    #[test]
    fn text_lands_where_asked() {
        let mut c = Canvas {
            w: 40,
            h: 20,
            x0: 0.0,
            y1: 0.0,
            scale: 1.0,
            yscale: 1.0,
            cut: f64::NEG_INFINITY,
            px: vec![[255, 255, 255]; 800],
        };
        c.text(1, 2, "I", 2, [0, 0, 0]);
        // 'I' starts with a bar of 3 pixels (columns 1-3) on its top row, at scale 2.
        let dark = |x: usize, y: usize| c.px[y * 40 + x] == [0, 0, 0];
        assert!(!dark(1, 2) && !dark(2, 2));
        assert!(dark(3, 2) && dark(8, 3) && !dark(9, 2));
        // Column 2 (the stem) runs down all 7 rows: y 2..16.
        assert!((2..16).all(|y| dark(5, y)));
        assert!(!dark(5, 16));
    }
}
