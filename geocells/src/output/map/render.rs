//! Drawing the map: its frame (the cells' longitude window, across the antimeridian when that
//! is narrower, and their latitude range; or a box, [`MapParams::bbox`]), the cells, points,
//! caption, legend and scale bar ([`render_png`]), and writing `map.png` ([`write_map`]).
//!
//! Colours come from the cell id ([`crate::output::palette::colour_of`]), so the same cells
//! always give the same picture; or from the rule that made each cell ([`MapColour::Rule`],
//! [`crate::output::map::legend`]).

use std::io::Write as _;
use std::path::Path;

use geo_types::{Coord, MultiPolygon};

use crate::output::atomic::write_atomic;
use crate::output::error::ExportError;
use crate::output::map::bbox::{check_bbox, intersects};
use crate::output::map::canvas::{Canvas, SEA};
use crate::output::map::legend::{Rule, draw_legend, legend_lines, legend_size, rule_colour};
use crate::output::map::png::encode_png;
use crate::output::palette::{BORDER, colour_of};
use crate::partition::cells::CellSet;

/// How the cells are coloured ([`MapParams::colour`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapColour {
    /// One colour per cell, from its id (as in `cells.qml`). The default.
    #[default]
    Cell,
    /// One colour per rule that made the cell (admin cell, OPTICS xi cluster, xi hierarchy
    /// cluster, density valley, geometric fallback; [`crate::CellOrigin`]), with a legend
    /// counting the cells drawn of each.
    Rule,
}

impl MapColour {
    /// The names [`MapColour::parse`] reads.
    pub const NAMES: &'static str = "cell, rule";

    /// The name: `cell` or `rule`.
    pub fn name(self) -> &'static str {
        match self {
            MapColour::Cell => "cell",
            MapColour::Rule => "rule",
        }
    }

    /// Reads a name of [`MapColour::NAMES`] (case-insensitive).
    ///
    /// ```
    /// use geocells::MapColour;
    /// assert_eq!(MapColour::parse("rule")?, MapColour::Rule);
    /// assert!(MapColour::parse("admin").is_err());
    /// # Ok::<(), geocells::ExportError>(())
    /// ```
    ///
    /// # Errors
    /// [`ExportError::BadMapColour`] naming the text and the names there are.
    pub fn parse(text: &str) -> Result<MapColour, ExportError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cell" => Ok(MapColour::Cell),
            "rule" => Ok(MapColour::Rule),
            _ => Err(ExportError::BadMapColour {
                value: text.to_string(),
                allowed: MapColour::NAMES,
            }),
        }
    }
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct MapParams {
    /// Width in pixels (height follows from the extent).
    pub width: u32,
    /// Draw the points as dots.
    pub points: bool,
    /// Caption lines drawn in a box at the top left, or the top right when the box would hide
    /// part of the map at the left and nothing at the right (upper-cased; characters outside `0-9 A-Z . , : - / ( ) = % + < > _ # ?` print
    /// as `?`). Empty: no box.
    pub caption: Vec<String>,
    /// Draw a scale bar (km at the map's middle latitude) at the bottom left, or the bottom
    /// right when its box would hide part of the map at the left and nothing at the right.
    pub scale_bar: bool,
    /// Text chunks (`tEXt`: keyword, text; Latin-1) written into the PNG, e.g. the run id.
    pub text: Vec<(String, String)>,
    /// Draw only this box `[min_lon, min_lat, max_lon, max_lat]` (degrees; checked by
    /// [`crate::check_map_bbox`], not across the antimeridian): the map's frame is the box,
    /// without margins, [`MapParams::width`] pixels wide, and a km as long across as down at
    /// the box's middle latitude; only polygons meeting the box are drawn. `None` (the
    /// default): the cells' extent, in plate carrée.
    pub bbox: Option<[f64; 4]>,
    /// How the cells are coloured; [`MapColour::Cell`] by default.
    pub colour: MapColour,
}

impl Default for MapParams {
    fn default() -> Self {
        Self {
            width: 2400,
            points: false,
            caption: Vec::new(),
            scale_bar: true,
            text: Vec::new(),
            bbox: None,
            colour: MapColour::Cell,
        }
    }
}

/// The widest map drawn, in pixels.
pub const MAX_WIDTH: u32 = 10_000;
/// The most pixels drawn: a taller extent is drawn narrower than asked to stay below it
/// (about 6 bytes a pixel are held while encoding, so at most about 300 MB).
pub const MAX_PIXELS: usize = 50_000_000;

impl MapParams {
    /// Checks the width (16 to [`MAX_WIDTH`] pixels) and the box ([`crate::check_map_bbox`]).
    ///
    /// # Errors
    /// [`ExportError::BadParam`] for the width, [`ExportError::BadMapBox`] for the box.
    pub fn validate(&self) -> Result<(), ExportError> {
        if !(16..=MAX_WIDTH).contains(&self.width) {
            return Err(ExportError::BadParam {
                name: "map width",
                value: self.width.to_string(),
                allowed: format!("16 to {MAX_WIDTH} pixels"),
            });
        }
        if let Some(b) = &self.bbox {
            check_bbox(b)?;
        }
        Ok(())
    }
    /// Sets [`MapParams::bbox`].
    #[must_use]
    pub fn bbox(mut self, v: Option<[f64; 4]>) -> Self {
        self.bbox = v;
        self
    }
    /// Sets [`MapParams::colour`].
    #[must_use]
    pub fn colour(mut self, v: MapColour) -> Self {
        self.colour = v;
        self
    }
    /// Sets [`MapParams::width`].
    #[must_use]
    pub fn width(mut self, v: u32) -> Self {
        self.width = v;
        self
    }
    /// Sets [`MapParams::points`].
    #[must_use]
    pub fn points(mut self, v: bool) -> Self {
        self.points = v;
        self
    }
    /// Sets [`MapParams::caption`].
    #[must_use]
    pub fn caption(mut self, v: Vec<String>) -> Self {
        self.caption = v;
        self
    }
    /// Sets [`MapParams::scale_bar`].
    #[must_use]
    pub fn scale_bar(mut self, v: bool) -> Self {
        self.scale_bar = v;
        self
    }
}

/// A longitude window of the map ([`lon_window`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonWindow {
    /// Western edge in degrees, in `[-180, 180]`.
    pub west: f64,
    /// Eastern edge in degrees, above 180 when the window crosses the antimeridian.
    pub east: f64,
    /// Longitudes below this are drawn 360° further east (in the middle of the empty gap west
    /// of `west`); `-inf` when the window does not cross the antimeridian.
    pub cut: f64,
}

impl LonWindow {
    /// Whether the window crosses the antimeridian (some longitudes are drawn shifted).
    pub fn crosses_antimeridian(&self) -> bool {
        self.cut.is_finite()
    }

    /// Width in degrees.
    pub fn width(&self) -> f64 {
        self.east - self.west
    }

    /// `lon` as drawn in this window: shifted by 360° east if below [`LonWindow::cut`].
    pub fn unwrap(&self, lon: f64) -> f64 {
        if lon < self.cut { lon + 360.0 } else { lon }
    }
}

/// The narrowest longitude window holding the intervals `[west, east]` (degrees in
/// `[-180, 180]`, e.g. the polygons' bounding boxes): the circle of longitudes without its
/// largest empty gap. When that gap is the one across ±180 (or ties with it) the window is
/// simply `[min west, max east]`; otherwise it crosses the antimeridian and runs from the
/// gap's eastern end to its western end plus 360°. `None` for no intervals.
///
/// Intervals touching ±180 on both sides (Alaska with the Aleutians, Fiji, Chukotka) leave no
/// gap there, so the window crosses the antimeridian unless a wider gap lies elsewhere.
///
/// ```
/// use geocells::algorithms::lon_window;
/// // The Aleutians (172°E to 180 and -180 to -130) and the contiguous US.
/// let w = lon_window(&[(172.0, 180.0), (-180.0, -130.0), (-125.0, -65.0)]).unwrap();
/// assert!(w.crosses_antimeridian());
/// assert_eq!((w.west, w.east), (172.0, 295.0));
/// assert_eq!(w.unwrap(-100.0), 260.0);
/// // Europe: no crossing.
/// let w = lon_window(&[(-10.0, 30.0), (25.0, 40.0)]).unwrap();
/// assert_eq!((w.west, w.east, w.crosses_antimeridian()), (-10.0, 40.0, false));
/// ```
///
/// `O(n log n)` for `n` intervals.
pub fn lon_window(intervals: &[(f64, f64)]) -> Option<LonWindow> {
    let mut sorted: Vec<(f64, f64)> = intervals
        .iter()
        .copied()
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    sorted.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
    let first = *sorted.first()?;
    // Merge overlapping intervals; track the widest gap between consecutive ones.
    let mut end = first.1;
    let mut widest: Option<(f64, f64)> = None; // (gap start, gap end)
    for &(a, b) in &sorted[1..] {
        if a > end && widest.is_none_or(|(s, e)| a - end > e - s) {
            widest = Some((end, a));
        }
        end = end.max(b);
    }
    // The gap across ±180, from the easternmost end round to the westernmost start.
    let wrap_gap = first.0 + 360.0 - end;
    match widest {
        Some((s, e)) if e - s > wrap_gap => Some(LonWindow {
            west: e,
            east: s + 360.0,
            cut: (s + e) / 2.0,
        }),
        _ => Some(LonWindow {
            west: first.0,
            east: end,
            cut: f64::NEG_INFINITY,
        }),
    }
}

/// The map's extent: the longitude window of the cells' polygons ([`lon_window`]) and their
/// latitude range, or the world for no cells.
fn extent(cells: &CellSet) -> (LonWindow, f64, f64) {
    use geo::BoundingRect;
    let mut lons = Vec::new();
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in cells.cells.iter().flat_map(|c| &c.geometry.0) {
        if let Some(r) = p.bounding_rect() {
            lons.push((r.min().x, r.max().x));
            y0 = y0.min(r.min().y);
            y1 = y1.max(r.max().y);
        }
    }
    match lon_window(&lons) {
        Some(w) => (w, y0, y1),
        None => (
            LonWindow {
                west: -180.0,
                east: 180.0,
                cut: f64::NEG_INFINITY,
            },
            -90.0,
            90.0,
        ),
    }
}

/// The drawn map's longitude window, its extent `[west, east, south, north]` (with margins;
/// none for a box), its size in pixels and the pixels per degree of latitude per pixel per
/// degree of longitude (1, or for a box 1 / cos of its middle latitude).
fn map_frame(cells: &CellSet, params: &MapParams) -> (LonWindow, [f64; 4], usize, usize, f64) {
    if let Some([x0, y0, x1, y1]) = params.bbox {
        let window = LonWindow {
            west: x0,
            east: x1,
            cut: f64::NEG_INFINITY,
        };
        // A km as long across as down at the middle latitude (at least 1/100 of a degree
        // of longitude per degree of latitude near the poles).
        let stretch = 1.0 / ((y0 + y1) / 2.0).to_radians().cos().max(0.01);
        let asked = f64::from(params.width.clamp(16, MAX_WIDTH));
        let aspect = ((y1 - y0) * stretch / (x1 - x0)).max(1e-6);
        let w = asked.min((MAX_PIXELS as f64 / aspect).sqrt()).max(16.0) as usize;
        let yscale = w as f64 / (x1 - x0) * stretch;
        let h = (((y1 - y0) * yscale).ceil() as usize).clamp(16, (MAX_PIXELS / w).max(16));
        return (window, [x0, x1, y0, y1], w, h, stretch);
    }
    let (window, y0, y1) = extent(cells);
    let (x0, x1) = (window.west, window.east);
    let (mx, my) = (((x1 - x0) * 0.02).max(0.01), ((y1 - y0) * 0.02).max(0.01));
    let (x0, x1) = if window.crosses_antimeridian() {
        let mx = mx.min((360.0 - (x1 - x0)) / 2.0);
        (x0 - mx, x1 + mx)
    } else {
        ((x0 - mx).max(-180.0), (x1 + mx).min(180.0))
    };
    let (y0, y1) = ((y0 - my).max(-90.0), (y1 + my).min(90.0));
    // Bounded: at most MAX_WIDTH wide and MAX_PIXELS in all (a tall extent is drawn narrower).
    let asked = f64::from(params.width.clamp(16, MAX_WIDTH));
    let aspect = ((y1 - y0) / (x1 - x0)).max(1e-6);
    let w = asked.min((MAX_PIXELS as f64 / aspect).sqrt()).max(16.0) as usize;
    let scale = w as f64 / (x1 - x0);
    let h = (((y1 - y0) * scale).ceil() as usize).clamp(16, (MAX_PIXELS / w).max(16));
    (window, [x0, x1, y0, y1], w, h, 1.0)
}

/// Width and height in pixels of the map of `cells` drawn with `params`.
pub fn map_size(cells: &CellSet, params: &MapParams) -> (usize, usize) {
    let (_, _, w, h, _) = map_frame(cells, params);
    (w, h)
}

/// The cells drawn with `params`, as (index into `cells.cells`, the polygons drawn): every
/// cell with all its polygons, or with [`MapParams::bbox`] the cells with a polygon whose
/// bounding box meets the box, with those polygons.
pub(crate) fn drawn_cells<'a>(
    cells: &'a CellSet,
    params: &MapParams,
) -> Vec<(usize, std::borrow::Cow<'a, MultiPolygon<f64>>)> {
    use std::borrow::Cow;
    match &params.bbox {
        None => cells
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| (i, Cow::Borrowed(&c.geometry)))
            .collect(),
        Some(b) => cells
            .cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                if c.geometry.0.iter().all(|p| intersects(p, b)) {
                    return Some((i, Cow::Borrowed(&c.geometry)));
                }
                let parts: Vec<_> = c
                    .geometry
                    .0
                    .iter()
                    .filter(|p| intersects(p, b))
                    .cloned()
                    .collect();
                (!parts.is_empty()).then_some((i, Cow::Owned(MultiPolygon(parts))))
            })
            .collect(),
    }
}

/// How many of the drawn cells ([`drawn_cells`]) each rule made, in [`Rule::ALL`]'s order.
fn rule_counts(
    cells: &CellSet,
    drawn: &[(usize, std::borrow::Cow<'_, MultiPolygon<f64>>)],
) -> [usize; 5] {
    let mut counts = [0; 5];
    for (i, _) in drawn {
        let rule = Rule::of(cells.cells[*i].origin);
        if let Some(k) = Rule::ALL.iter().position(|r| *r == rule) {
            counts[k] += 1;
        }
    }
    counts
}

/// Renders the cells (and optionally `points`, lon/lat) into PNG bytes. The extent is the
/// cells' longitude window ([`lon_window`]: across the antimeridian when that is narrower)
/// and latitude range with a 2 % margin, clamped to the world (a window across the
/// antimeridian to 360° of longitude), or [`MapParams::bbox`]. The size is [`map_size`]:
/// `params.width` wide, at most [`MAX_WIDTH`], and narrower for a tall extent so as to stay
/// below [`MAX_PIXELS`]. With [`MapColour::Rule`] a legend box goes below the caption.
pub fn render_png(cells: &CellSet, points: &[(f64, f64)], params: &MapParams) -> Vec<u8> {
    let (window, [x0, x1, y0, y1], w, h, stretch) = map_frame(cells, params);
    let scale = w as f64 / (x1 - x0);
    let mut canvas = Canvas {
        w,
        h,
        x0,
        y1,
        scale,
        yscale: scale * stretch,
        cut: window.cut,
        px: vec![SEA; w * h],
    };
    let drawn = drawn_cells(cells, params);
    for (i, geometry) in &drawn {
        let c = &cells.cells[*i];
        let colour = match params.colour {
            MapColour::Cell => colour_of(c.id),
            MapColour::Rule => rule_colour(c.id, c.origin),
        };
        canvas.fill(geometry, colour);
    }
    for (_, geometry) in &drawn {
        canvas.outline(geometry, BORDER);
    }
    if params.points {
        for &(x, y) in points {
            let (px, py) = canvas.to_px(Coord { x, y });
            canvas.dot(px, py, [20, 20, 20]);
        }
    }
    // Text and bars scale with the width: 2 pixels per font pixel at 2,400 px.
    let scale = (w / 1200).max(1);
    let pad = 6 * scale;
    // Each box goes to the left corner unless it would hide something there (cells at the
    // window's edge, e.g. Guam at the western end of the US) and nothing in the right one.
    let corner_x = |canvas: &Canvas, y: usize, bw: usize, bh: usize| {
        let right = w.saturating_sub(pad + bw);
        if canvas.drawn(right, y, bw, bh) == 0 && canvas.drawn(pad, y, bw, bh) > 0 {
            right
        } else {
            pad
        }
    };
    let caption = (!params.caption.is_empty()).then(|| {
        let line_h = 10 * scale;
        let longest = params
            .caption
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let (bw, bh) = (
            longest * 6 * scale + 2 * pad,
            params.caption.len() * line_h + 2 * pad,
        );
        (corner_x(&canvas, pad, bw, bh), bw, bh, line_h)
    });
    let legend = (params.colour == MapColour::Rule).then(|| {
        let lines = legend_lines(&rule_counts(cells, &drawn));
        let (lw, lh) = legend_size(&lines, scale, pad);
        let ly = caption.map_or(pad, |(_, _, bh, _)| 2 * pad + bh);
        ((corner_x(&canvas, ly, lw, lh), ly), lines)
    });
    let bar = params.scale_bar.then(|| {
        // Equirectangular: one degree of longitude is 111.32 cos(latitude) km.
        let mid = (y0 + y1) / 2.0;
        let km_per_px = 111.32 * mid.to_radians().cos() / canvas.scale;
        let target = km_per_px * w as f64 / 5.0;
        let nice = nice_length(target);
        let len = (nice as f64 / km_per_px).round() as usize;
        let label = format!(
            "{} KM AT {:.0} {}",
            nice,
            mid.abs(),
            if mid >= 0.0 { "N" } else { "S" }
        );
        let by = h.saturating_sub(pad + 14 * scale + 4 * scale);
        let (box_w, box_h) = (
            len.max(label.len() * 6 * scale) + 2 * pad,
            18 * scale + 2 * pad,
        );
        let bx = corner_x(&canvas, by.saturating_sub(pad), box_w, box_h);
        (bx, by, box_w, box_h, len, label)
    });
    if let Some((cx, bw, bh, line_h)) = caption {
        canvas.rect(cx, pad, bw, bh, [255, 255, 255], 0.85);
        for (i, line) in params.caption.iter().enumerate() {
            canvas.text(cx + pad, 2 * pad + i * line_h, line, scale, [20, 20, 20]);
        }
    }
    if let Some((at, lines)) = legend {
        draw_legend(&mut canvas, at, &lines, scale, pad);
    }
    if let Some((bx, by, box_w, box_h, len, label)) = bar {
        canvas.rect(
            bx,
            by.saturating_sub(pad),
            box_w,
            box_h,
            [255, 255, 255],
            0.85,
        );
        canvas.text(bx + pad, by, &label, scale, [20, 20, 20]);
        canvas.rect(bx + pad, by + 10 * scale, len, 3 * scale, [20, 20, 20], 1.0);
    }
    encode_png(canvas.w, canvas.h, &canvas.px, &params.text)
}

/// The largest 1, 2 or 5 times a power of ten not above `km` (at least 1).
fn nice_length(km: f64) -> u64 {
    let mut best = 1u64;
    let mut p = 1u64;
    while p as f64 <= km {
        for m in [1, 2, 5] {
            if (m * p) as f64 <= km {
                best = m * p;
            }
        }
        p *= 10;
    }
    best
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
    params.validate()?;
    let (w, h) = map_size(cells, params);
    let need = crate::memory::map_bytes(w, h);
    if let Some(available) = crate::memory::available_bytes()
        && need > available
    {
        return Err(ExportError::BadParam {
            name: "map width",
            value: params.width.to_string(),
            allowed: format!(
                "a map this machine can hold: {w} x {h} px needs about {} MB, {} MB are available",
                need >> 20,
                available >> 20
            ),
        });
    }
    let bytes = render_png(cells, points, params);
    write_atomic(path, |w| w.write_all(&bytes).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_lengths() {
        assert_eq!(nice_length(4999.0), 2000);
        assert_eq!(nice_length(5000.0), 5000);
        assert_eq!(nice_length(73.0), 50);
        assert_eq!(nice_length(0.3), 1);
    }

    /// A cell of axis-aligned boxes `(west, south, east, north)`.
    fn boxes(id: u32, rects: &[(f64, f64, f64, f64)]) -> crate::partition::cells::Cell {
        let geometry = MultiPolygon(
            rects
                .iter()
                .map(|&(x0, y0, x1, y1)| {
                    geo_types::Polygon::new(
                        geo_types::LineString::from(vec![
                            (x0, y0),
                            (x1, y0),
                            (x1, y1),
                            (x0, y1),
                            (x0, y0),
                        ]),
                        vec![],
                    )
                })
                .collect(),
        );
        crate::partition::cells::Cell {
            id,
            name: String::new(),
            admin1_code: String::new(),
            admin1_name: String::new(),
            country_code: String::new(),
            country_name: String::new(),
            family: id,
            origin: crate::partition::cells::CellOrigin::Admin,
            areas: vec![id],
            size: 1,
            num_polygons: geometry.0.len(),
            geometry,
            area_km2: 1.0,
            centroid: None,
            rep_point: (0.0, 0.0),
        }
    }

    /// Width, height and pixels of a PNG from [`crate::output::map::png::encode_png`].
    fn decode(png: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
        use std::io::Read as _;
        let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
        let (w, h) = (be(16) as usize, be(20) as usize);
        // IHDR (8 + 25 bytes), then the IDAT chunk.
        let idat_len = be(33) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&png[41..41 + idat_len])
            .read_to_end(&mut raw)
            .expect("inflate");
        let px = raw
            .chunks(1 + 3 * w)
            .flat_map(|row| row[1..].chunks(3).map(|p| [p[0], p[1], p[2]]))
            .collect();
        (w, h, px)
    }

    /// Four cells in a row along the equator (lon 0-10, 10-20, 20-30, 30-40; lat 0-10), the
    /// second carved by OPTICS, the third by the fallback, the fourth with a far island at
    /// lon 99-100.
    fn row_of_cells() -> CellSet {
        let mut cells = CellSet {
            cells: vec![
                boxes(0, &[(0.0, 0.0, 10.0, 10.0)]),
                boxes(1, &[(10.0, 0.0, 20.0, 10.0)]),
                boxes(2, &[(20.0, 0.0, 30.0, 10.0)]),
                boxes(3, &[(30.0, 0.0, 40.0, 10.0), (99.0, 0.0, 100.0, 1.0)]),
            ],
        };
        cells.cells[1].origin = crate::partition::cells::CellOrigin::Optics(0);
        cells.cells[2].origin = crate::partition::cells::CellOrigin::Bisect;
        cells
    }

    #[test]
    fn the_default_map_is_the_map_without_box_in_cell_colours() {
        let cells = row_of_cells();
        let default = MapParams::default().width(1040);
        let explicit = MapParams::default()
            .width(1040)
            .bbox(None)
            .colour(MapColour::Cell);
        assert_eq!(default.bbox, None);
        assert_eq!(default.colour, MapColour::Cell);
        let png = render_png(&cells, &[], &default);
        assert_eq!(png, render_png(&cells, &[], &explicit));
        // Plate carrée over the cells' extent with 2 % margins: 104 x 10.4 degrees, 10 px a
        // degree both ways, every cell in its id's colour, the far island too.
        let (w, h, px) = decode(&png);
        assert_eq!((w, h), (1040, 104));
        let at = |lon: f64, lat: f64| {
            px[((10.2 - lat) * 10.0) as usize * w + ((lon + 2.0) * 10.0) as usize]
        };
        for (id, lon, lat) in [
            (0, 5.0, 5.5),
            (1, 15.0, 5.5),
            (2, 25.0, 5.5),
            (3, 35.0, 5.5),
            (3, 99.5, 0.5),
        ] {
            assert_eq!(at(lon, lat), colour_of(id), "{id} at {lon}");
        }
        assert_eq!(at(10.0, 5.5), BORDER);
        assert_eq!(at(60.0, 5.5), SEA);
    }

    #[test]
    fn a_box_draws_only_the_cells_in_it() {
        let cells = row_of_cells();
        // Lon 12 to 28, lat 2 to 8: cells 1 and 2 only, 50 px a degree across, 50 / cos 5°
        // down (a km as long across as down at the box's middle latitude).
        let params = MapParams::default()
            .width(800)
            .scale_bar(false)
            .bbox(Some([12.0, 2.0, 28.0, 8.0]));
        let drawn: Vec<usize> = drawn_cells(&cells, &params)
            .iter()
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(drawn, [1, 2]);
        let png = render_png(&cells, &[], &params);
        assert_ne!(
            png,
            render_png(&cells, &[], &MapParams::default().width(800))
        );
        let (w, h, px) = decode(&png);
        let stretch = 1.0 / 5.0f64.to_radians().cos();
        assert_eq!(w, 800);
        assert_eq!(h, (6.0 * 50.0 * stretch).ceil() as usize);
        // Every pixel is cell 1, cell 2, their shared border at lon 20, nothing else.
        let colours: std::collections::BTreeSet<[u8; 3]> = px.iter().copied().collect();
        let expected = [colour_of(1), colour_of(2), BORDER].into_iter().collect();
        assert_eq!(colours, expected);
        assert_eq!(px[h / 2 * w + 10], colour_of(1));
        assert_eq!(px[h / 2 * w + 400], BORDER);
        assert_eq!(px[h / 2 * w + 790], colour_of(2));
        // A box over cell 3's far island draws that polygon only, not the cell's main part.
        let island = MapParams::default()
            .width(100)
            .bbox(Some([98.0, -1.0, 101.0, 2.0]));
        let drawn = drawn_cells(&cells, &island);
        assert_eq!(drawn.len(), 1);
        assert_eq!((drawn[0].0, drawn[0].1.0.len()), (3, 1));
        let (w, h, px) = decode(&render_png(&cells, &[], &island));
        assert_eq!(px[h / 2 * w + w / 2], colour_of(3));
        // A box with no cells is all sea (a caption-less map without scale bar).
        let empty = island
            .clone()
            .bbox(Some([60.0, 20.0, 70.0, 30.0]))
            .scale_bar(false);
        let (_, _, px) = decode(&render_png(&cells, &[], &empty));
        assert!(px.iter().all(|p| *p == SEA));
        // A box is checked with the width.
        let e = MapParams::default()
            .bbox(Some([10.0, 5.0, 0.0, 6.0]))
            .validate()
            .expect_err("box across the antimeridian")
            .to_string();
        assert!(
            e.contains("map bbox '10,5,0,6': min_lon 10 is east of max_lon 0"),
            "{e}"
        );
        let e = MapParams::default()
            .bbox(Some([0.0, 5.0, 10.0, 95.0]))
            .validate()
            .expect_err("latitude beyond the pole")
            .to_string();
        assert!(e.contains("max_lat 95 is outside -90 to 90"), "{e}");
        assert!(island.validate().is_ok());
    }

    #[test]
    fn colouring_by_rule_fills_by_origin_with_a_legend() {
        use crate::output::map::legend::Rule;
        // Without the island: cells in both top corners, so the legend stays at the left.
        let mut cells = row_of_cells();
        cells.cells[3].geometry.0.truncate(1);
        let params = MapParams::default()
            .width(1040)
            .scale_bar(false)
            .colour(MapColour::Rule);
        // 41.6 x 10.4 degrees, 25 px a degree.
        let (w, h, px) = decode(&render_png(&cells, &[], &params));
        assert_eq!((w, h), (1040, 260));
        let at = |lon: f64, lat: f64| {
            px[((10.2 - lat) * 25.0) as usize * w + ((lon + 0.8) * 25.0) as usize]
        };
        // Below the legend box, each cell has its rule's colour (cell-dependent shade).
        for (id, origin) in [
            (0, crate::partition::cells::CellOrigin::Admin),
            (1, crate::partition::cells::CellOrigin::Optics(0)),
            (2, crate::partition::cells::CellOrigin::Bisect),
        ] {
            assert_eq!(at(5.0 + 10.0 * f64::from(id), 0.5), rule_colour(id, origin));
        }
        assert_ne!(at(15.0, 0.5), colour_of(1));
        // The legend's swatches: at 1,040 px one pixel per font pixel, the box at (6, 6) with
        // 6 px padding, lines 10 px apart, the title first; a swatch's inside 1 px in.
        let swatch = |px: &[[u8; 3]], k: usize| px[(12 + 10 * (k + 1) + 3) * w + 12 + 5];
        for (k, rule) in Rule::ALL.iter().enumerate() {
            assert_eq!(swatch(&px, k), rule.colour(), "{rule:?}");
        }
        // The default colouring has no legend: the swatches' pixels are the map's margin.
        let plain = params.clone().colour(MapColour::Cell);
        let (_, _, plain) = decode(&render_png(&cells, &[], &plain));
        assert!((0..5).all(|k| swatch(&plain, k) == SEA));
    }

    #[test]
    fn the_window_crosses_the_antimeridian_when_that_is_narrower() {
        // East and west of ±180 (the Aleutians, split at ±180) and the contiguous US.
        let us = [(170.0, 180.0), (-180.0, -170.0), (-125.0, -65.0)];
        let w = lon_window(&us).expect("window");
        assert!(w.crosses_antimeridian());
        assert_eq!((w.west, w.east), (170.0, 295.0));
        assert!(w.width() < 360.0);
        // Everything west of the gap's middle moves east by 360°; the rest stays.
        assert_eq!(w.unwrap(-180.0), 180.0);
        assert_eq!(w.unwrap(-65.0), 295.0);
        assert_eq!(w.unwrap(170.0), 170.0);
        // Guam (144.8°E) moves the western edge, the window still crosses.
        let w = lon_window(&[(144.6, 145.0), us[0], us[1], us[2]]).expect("window");
        assert_eq!((w.west, w.east), (144.6, 295.0));
        // The whole world, in one piece or in parts touching ±180, is the whole world.
        for world in [
            vec![(-180.0, 180.0)],
            vec![
                (-180.0, -170.0),
                (-175.0, 10.0),
                (5.0, 170.0),
                (170.0, 180.0),
            ],
        ] {
            let w = lon_window(&world).expect("window");
            assert!(!w.crosses_antimeridian());
            assert_eq!((w.west, w.east), (-180.0, 180.0));
        }
        // A tie between the gap across ±180 and another keeps the plain window.
        let w = lon_window(&[(-170.0, -10.0), (10.0, 170.0)]).expect("window");
        assert_eq!(
            (w.west, w.east, w.crosses_antimeridian()),
            (-170.0, 170.0, false)
        );
        assert_eq!(lon_window(&[]), None);
    }

    #[test]
    fn cells_across_the_antimeridian_are_drawn_in_one_piece() {
        let cells = CellSet {
            cells: vec![
                boxes(0, &[(170.0, 50.0, 180.0, 55.0)]),
                boxes(1, &[(-180.0, 50.0, -170.0, 55.0)]),
                boxes(2, &[(-125.0, 25.0, -65.0, 50.0)]),
            ],
        };
        let params = MapParams::default().width(1300).scale_bar(false);
        let (w, h, px) = decode(&render_png(&cells, &[], &params));
        // 125° of longitude and 2 % margins: 130° over 1,300 px, 10 px a degree; 30° of
        // latitude and its margins: 312 px (the whole world would give 1,300 / 360 px a degree).
        assert_eq!(w, 1300);
        assert!((312..=313).contains(&h), "{h}");
        let at = |lon: f64, lat: f64| {
            let x = ((lon - 167.5) * 10.0) as usize;
            let y = ((55.6 - lat) * 10.0) as usize;
            px[y * w + x]
        };
        // The cells either side of ±180 meet at 180 (x = 125, their shared border).
        assert_eq!(at(175.0, 52.5), colour_of(0));
        assert_eq!(at(179.85, 52.5), colour_of(0));
        assert_eq!(at(180.0, 52.5), BORDER);
        assert_eq!(at(180.15, 52.5), colour_of(1));
        assert_eq!(at(185.0, 52.5), colour_of(1));
        // The contiguous US 360° east of its longitudes, the gap between them sea.
        assert_eq!(at(-100.0 + 360.0, 40.0), colour_of(2));
        assert_eq!(at(200.0, 40.0), SEA);
    }

    #[test]
    fn the_map_size_is_bounded() {
        // The world at the widest allowed width: 10,000 x ~5,000 px, within MAX_PIXELS.
        let world = CellSet {
            cells: vec![boxes(0, &[(-179.0, -89.0, 179.0, 89.0)])],
        };
        let (w, h) = map_size(&world, &MapParams::default().width(MAX_WIDTH));
        assert_eq!(w, MAX_WIDTH as usize);
        assert!(w * h <= MAX_PIXELS, "{w} x {h}");
        // A tall extent (1° x 80°) asked 10,000 px wide is drawn narrower to stay in bounds.
        let tall = CellSet {
            cells: vec![boxes(0, &[(10.0, -40.0, 11.0, 40.0)])],
        };
        let (w, h) = map_size(&tall, &MapParams::default().width(MAX_WIDTH));
        assert!(w < MAX_WIDTH as usize && w * h <= MAX_PIXELS, "{w} x {h}");
        // Widths beyond the bounds are refused.
        assert!(MapParams::default().width(100_000).validate().is_err());
        assert!(MapParams::default().width(8).validate().is_err());
        assert!(MapParams::default().validate().is_ok());
    }

    #[test]
    fn the_run_id_goes_in_a_text_chunk() {
        let cells = CellSet {
            cells: vec![boxes(0, &[(0.0, 0.0, 4.0, 2.0)])],
        };
        let mut params = MapParams::default().width(64);
        params.text = vec![("geocells:run_id".into(), "0123456789abcdef".into())];
        let png = render_png(&cells, &[], &params);
        let chunk = b"tEXtgeocells:run_id\x000123456789abcdef";
        assert!(png.windows(chunk.len()).any(|w| w == chunk));
    }

    #[test]
    fn the_scale_bar_leaves_a_cell_in_its_corner_visible() {
        // 41.6° by 4.16° over 1,200 px: 28.8 px a degree, 120 px high, the scale bar's box
        // on the bottom 30 rows. A cell in the bottom-left corner, another along the top.
        let cells = CellSet {
            cells: vec![
                boxes(0, &[(0.0, 0.0, 4.0, 2.0)]),
                boxes(1, &[(10.0, 2.0, 40.0, 4.0)]),
            ],
        };
        let params = MapParams::default().width(1200);
        let (w, h, px) = decode(&render_png(&cells, &[], &params));
        assert_eq!(w, 1200);
        assert!((120..=121).contains(&h), "{h}");
        // The box over sea: white at 85 %.
        let boxed = SEA.map(|v| (f64::from(v) * 0.15 + 255.0 * 0.85).round() as u8);
        let at = |px: &[[u8; 3]], x: usize| px[(h - 10) * w + x];
        assert_eq!(at(&px, 60), colour_of(0));
        assert_eq!(at(&px, w - 20), boxed);
        // Where the right corner is not clear either, the box stays at the left.
        let one = CellSet {
            cells: vec![boxes(0, &[(0.0, 0.0, 40.0, 4.0)])],
        };
        let (_, _, px) = decode(&render_png(&one, &[], &params));
        assert_eq!(at(&px, 20), boxed);
        assert_eq!(at(&px, w - 40), colour_of(0));
        let mut both = cells.clone();
        both.cells.push(boxes(2, &[(38.0, 0.0, 40.0, 1.0)]));
        let (_, _, px) = decode(&render_png(&both, &[], &params));
        assert_ne!(at(&px, 60), colour_of(0));
        assert_eq!(at(&px, w - 40), colour_of(2));
    }
}
