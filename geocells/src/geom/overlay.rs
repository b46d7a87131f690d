//! Polygon unions on one global integer grid, so that neighbouring cells keep identical borders.
//!
//! Boolean operations (i_overlay, under geo's `BooleanOps`) round coordinates to an integer grid
//! whose origin and spacing depend on the bounding box of each call's input. Two neighbouring
//! cells built by separate unions are then rounded to *different* grids, and their common border
//! moves by up to a grid step in each: an independent check (shapely, docs/interop.md) found 2,836
//! overlapping cell pairs on the default data, the largest 6.8e-7 deg². Here every union uses the
//! same adapter for the whole lon/lat plane — origin (0, 0), scale 2^[`GRID_BITS`] per degree,
//! so a step of 2.4e-7° (2.6 cm) — and every cell goes through it, so a border vertex shared by
//! two cells lands on the same grid point in both.
//!
//! `geo::unary_union` is also avoided because it hung on Canada's admin-1 polygons (see
//! `docs/decisions/0002-validation-and-unions.md`); i_overlay is called directly with the
//! non-zero fill rule and OGC extraction.
//!
//! Complexity: `O(s log s)` for `s` segments per call.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::core::solver::Solver;
use i_overlay::float::overlay::{FloatOverlay, OverlayOptions};
use i_overlay::i_float::adapter::FloatPointAdapter;
use i_overlay::i_float::float::rect::FloatRect;

/// Grid resolution: coordinates are multiples of 2^-GRID_BITS degrees (i_overlay's adapter for
/// the ±180 × ±90 plane picks exactly this scale).
pub const GRID_BITS: i32 = 22;

/// Rounds a coordinate to the global grid, exactly as [`union`] does.
///
/// ```
/// let s = geocells::algorithms::snap(12.3456789012345);
/// assert_eq!(geocells::algorithms::snap(s), s);
/// assert!((s - 12.3456789012345).abs() <= 0.5 * 2f64.powi(-22));
/// ```
pub fn snap(v: f64) -> f64 {
    let scale = 2f64.powi(GRID_BITS);
    (v * scale).round() / scale
}

/// The union of `polygons` (valid or not; overlapping allowed), as valid polygons with
/// counter-clockwise exteriors and clockwise holes, all coordinates on the global grid.
pub fn union<'a>(polygons: impl IntoIterator<Item = &'a Polygon<f64>>) -> MultiPolygon<f64> {
    run(WORLD, polygons, [], OverlayRule::Subject)
}

/// `a ∩ b` on the global grid.
pub fn intersection(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    run(WORLD, &a.0, &b.0, OverlayRule::Intersect)
}

/// `a − b` on the global grid.
pub fn difference(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    run(WORLD, &a.0, &b.0, OverlayRule::Difference)
}

/// The union of polygons in any planar frame (e.g. a local projection in km): the grid is
/// fitted to the polygons' bounding box.
pub fn union_planar(polygons: &[Polygon<f64>]) -> MultiPolygon<f64> {
    use geo::BoundingRect;
    let Some(b) = MultiPolygon::new(polygons.to_vec()).bounding_rect() else {
        return MultiPolygon::new(vec![]);
    };
    let rect = [b.min().x, b.max().x, b.min().y, b.max().y];
    run(rect, polygons, [], OverlayRule::Subject)
}

/// `a ∩ b` in any planar frame (longitudes beyond ±180 allowed): the grid is fitted to the
/// inputs' bounding box.
pub fn intersection_planar(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::BoundingRect;
    let all = MultiPolygon::new(a.0.iter().chain(b.0.iter()).cloned().collect());
    let Some(r) = all.bounding_rect() else {
        return MultiPolygon::new(vec![]);
    };
    run(
        [r.min().x, r.max().x, r.min().y, r.max().y],
        &a.0,
        &b.0,
        OverlayRule::Intersect,
    )
}

const WORLD: [f64; 4] = [-180.0, 180.0, -90.0, 90.0];

fn run<'a, 'b>(
    rect: [f64; 4],
    subject: impl IntoIterator<Item = &'a Polygon<f64>>,
    clip: impl IntoIterator<Item = &'b Polygon<f64>>,
    rule: OverlayRule,
) -> MultiPolygon<f64> {
    let world = rect == WORLD;
    let adapter =
        FloatPointAdapter::<[f64; 2], f64>::new(FloatRect::new(rect[0], rect[1], rect[2], rect[3]));
    let options = OverlayOptions {
        preserve_input_collinear: true,
        preserve_output_collinear: true,
        ..OverlayOptions::ogc()
    };
    let mut overlay = FloatOverlay::new_custom(adapter, options, Solver::default(), 0);
    let mut contour: Vec<[f64; 2]> = Vec::new();
    let shape_types = [
        i_overlay::core::overlay::ShapeType::Subject,
        i_overlay::core::overlay::ShapeType::Clip,
    ];
    let subject: Vec<&Polygon<f64>> = subject.into_iter().collect();
    let clip: Vec<&Polygon<f64>> = clip.into_iter().collect();
    for (polys, shape_type) in [(subject, shape_types[0]), (clip, shape_types[1])] {
        for p in polys {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                contour.clear();
                contour.extend(ring.0.iter().map(|c| {
                    if world {
                        [c.x.clamp(-180.0, 180.0), c.y.clamp(-90.0, 90.0)]
                    } else {
                        [c.x, c.y]
                    }
                }));
                if contour.len() > 1 && contour.first() == contour.last() {
                    contour.pop();
                }
                if contour.len() >= 3 {
                    overlay = overlay.unsafe_add_contour(&contour, shape_type);
                }
            }
        }
    }
    let shapes = overlay.overlay(rule, FillRule::NonZero);
    // i_overlay's output usually has counter-clockwise exteriors and clockwise holes, but not
    // always (a hole came out counter-clockwise after a difference on Jawa Timur, and the next
    // non-zero overlay then filled it): orient every ring explicitly.
    let mp = MultiPolygon::new(
        shapes
            .into_iter()
            .filter_map(|shape| {
                let mut rings = shape.into_iter().map(|path| {
                    let mut v: Vec<Coord<f64>> = path
                        .into_iter()
                        .map(|p| Coord { x: p[0], y: p[1] })
                        .collect();
                    if let Some(first) = v.first().copied() {
                        v.push(first);
                    }
                    LineString::new(v)
                });
                let exterior = rings.next()?;
                Some(Polygon::new(exterior, rings.collect()))
            })
            .collect(),
    );
    geo::Orient::orient(&mp, geo::orient::Direction::Default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, wkt};

    #[test]
    fn adjacent_squares_merge_and_land_on_the_grid() {
        let a = wkt!(POLYGON((0.1 0.1, 1.1 0.1, 1.1 1.1, 0.1 1.1, 0.1 0.1)));
        let b = wkt!(POLYGON((1.1 0.1, 2.1 0.1, 2.1 1.1, 1.1 1.1, 1.1 0.1)));
        let u = union([&a, &b]);
        assert_eq!(u.0.len(), 1);
        assert!((u.unsigned_area() - 2.0).abs() < 1e-6);
        for c in &u.0[0].exterior().0 {
            assert_eq!(snap(c.x), c.x);
            assert_eq!(snap(c.y), c.y);
        }
    }

    #[test]
    fn neighbours_unioned_separately_share_their_border_exactly() {
        // Two cells made of two areas each, built by separate unions with different extents:
        // their common border must coincide, so they do not overlap at all.
        let a1 = wkt!(POLYGON((0.0 0.0, 0.3333333 0.0, 0.3333333 1.0, 0.0 1.0, 0.0 0.0)));
        let a2 = wkt!(POLYGON((0.3333333 0.0, 0.7777777 0.1234567, 0.7777777 1.0, 0.3333333 1.0, 0.3333333 0.0)));
        let b1 = wkt!(POLYGON((0.7777777 0.1234567, 50.0 0.0, 50.0 1.0, 0.7777777 1.0, 0.7777777 0.1234567)));
        let left = union([&a1, &a2]);
        let right = union([&b1]);
        use geo::BooleanOps;
        assert_eq!(left.intersection(&right).unsigned_area(), 0.0);
    }
}
