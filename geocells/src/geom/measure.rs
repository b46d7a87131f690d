//! Measures on polygons the stages check their partitions with: overlaps between polygons, the
//! area the overlay's grid rounding may change, and the distance from a point to a boundary.

use geo::{Area as _, BooleanOps};
use geo_types::{Coord, MultiPolygon};
use rayon::prelude::*;

use crate::geom::geodesy::point_segment_km;

/// Pairs `(i, j)`, `i < j`, of polygons whose intersection is larger than `min_area` square
/// degrees, with that area; candidates come from an R-tree of bounding boxes.
pub(crate) fn overlapping(geoms: &[MultiPolygon<f64>], min_area: f64) -> Vec<(u32, u32, f64)> {
    use rstar::RTree;
    let boxes = crate::geom::bbox::box_entries(geoms);
    let tree = RTree::bulk_load(boxes.clone());
    let mut candidates = Vec::new();
    for b in &boxes {
        for o in tree.locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(b.geom())) {
            if o.data > b.data {
                candidates.push((b.data, o.data));
            }
        }
    }
    candidates.sort_unstable();
    candidates
        .par_iter()
        .filter_map(|&(a, b)| {
            let x = geoms[a as usize]
                .intersection(&geoms[b as usize])
                .unsigned_area();
            (x > min_area).then_some((a, b, x))
        })
        .collect()
}

/// How much [`crate::geom::overlay::union`] may change the area of `mp`: every vertex is rounded to
/// the global grid (step 2^-[`crate::geom::overlay::GRID_BITS`] degrees), so each boundary moves by at
/// most a step and the area changes by at most perimeter × step (planar square degrees).
pub(crate) fn union_tolerance(mp: &MultiPolygon<f64>) -> f64 {
    use geo::{Euclidean, Length};
    let perimeter: f64 =
        mp.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| Euclidean.length(r))
            .sum();
    2.0 * perimeter * 2f64.powi(-crate::geom::overlay::GRID_BITS) + 1e-12
}

/// Distance in km from `p` to the nearest boundary segment of `mp`.
pub fn distance_to_boundary_km(mp: &MultiPolygon<f64>, p: Coord<f64>) -> f64 {
    mp.0.iter()
        .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
        .flat_map(|ring| ring.0.windows(2).map(|w| point_segment_km(p, w[0], w[1])))
        .fold(f64::INFINITY, f64::min)
}
