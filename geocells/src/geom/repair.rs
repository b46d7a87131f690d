//! Polygon repair: validity test ([`is_valid_fast`]), repair of invalid polygons ([`repair`]),
//! orientation ([`orient`]) and the whole cleaning of one boundary feature ([`clean_geometry`]).

use geo::line_intersection::{LineIntersection, line_intersection};
use geo::{Area as _, BooleanOps, Contains, MakeValid, Orient, orient::Direction};
use geo_types::{Coord, Line, LineString, MultiPolygon, Polygon};
use rstar::{AABB, RTree, RTreeObject};

use crate::geom::antimeridian::{crosses_antimeridian, cut_at_antimeridian};

/// What [`clean_geometry`] did to one feature's polygons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Some polygon crossed the antimeridian and was cut at it.
    pub antimeridian_split: bool,
    /// The polygons were invalid and repaired.
    pub repaired: bool,
}

/// Orients a multipolygon: exteriors counter-clockwise, holes clockwise (RFC 7946).
pub fn orient(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.orient(Direction::Default)
}

/// Cleans one feature's polygons: degenerate rings dropped, antimeridian cut, repair,
/// orientation. Returns the cleaned polygons and what was done.
pub fn clean_geometry(mp: MultiPolygon<f64>) -> (MultiPolygon<f64>, Cleaned) {
    let mut out: Vec<Polygon<f64>> = Vec::new();
    let mut done = Cleaned::default();
    for poly in mp.0 {
        let poly = drop_degenerate_rings(poly);
        if poly.exterior().0.len() < 4 {
            continue;
        }
        if crosses_antimeridian(&poly) {
            done.antimeridian_split = true;
            out.extend(cut_at_antimeridian(&poly).0);
        } else {
            out.push(poly);
        }
    }
    let mut mp = MultiPolygon::new(out);
    if !is_valid_fast(&mp) {
        done.repaired = true;
        mp = repair(&mp);
    }
    (orient(mp), done)
}

/// Repairs an invalid multipolygon: each polygon with geo's `MakeValid` (prepair), then the
/// parts dissolved with [`crate::geom::overlay::union`]; polygons `MakeValid` refuses go through the
/// union alone (non-zero fill).
pub fn repair(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let mut parts: Vec<Polygon<f64>> = Vec::new();
    for p in &mp.0 {
        if is_valid_fast(&MultiPolygon::new(vec![p.clone()])) {
            parts.push(p.clone());
            continue;
        }
        match p.make_valid() {
            Ok(fixed) => parts.extend(fixed.0),
            Err(_) => parts.extend(
                MultiPolygon::new(vec![p.clone()])
                    .union(&MultiPolygon::new(vec![]))
                    .0,
            ),
        }
    }
    let mut fixed = crate::geom::overlay::union(parts.iter());
    fixed.0.retain(|p| p.unsigned_area() > 0.0);
    fixed
}

#[derive(Clone, Copy)]
struct RingSeg {
    line: Line<f64>,
    /// (polygon, ring) the segment belongs to.
    ring: (u32, u32),
    /// Position in the ring and the ring's segment count.
    pos: u32,
    len: u32,
}

impl RTreeObject for RingSeg {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(
            [self.line.start.x, self.line.start.y],
            [self.line.end.x, self.line.end.y],
        )
    }
}

/// A validity test for polygonal areas in `O(s log s)` for `s` segments (geo's `Validation`
/// tests ring self-intersection pairwise, which took a minute on Natural Earth admin-1).
///
/// Invalid when: a ring has fewer than 4 points or non-finite coordinates; two segments of
/// one ring cross, overlap, or touch anywhere but at their shared vertex; segments of two rings
/// cross properly or overlap along a line; a polygon's shell starts inside another polygon of
/// the same multipolygon (nested shells); a hole starts outside its shell. Rings of different
/// rings touching at single points are allowed, as in the OGC model.
///
/// ```
/// use geo::wkt;
/// assert!(geocells::algorithms::is_valid_fast(&wkt!(MULTIPOLYGON(((0. 0., 1. 0., 1. 1., 0. 1., 0. 0.))))));
/// assert!(!geocells::algorithms::is_valid_fast(&wkt!(MULTIPOLYGON(((0. 0., 2. 2., 2. 0., 0. 2., 0. 0.))))));
/// ```
pub fn is_valid_fast(mp: &MultiPolygon<f64>) -> bool {
    let mut segs = Vec::new();
    for (pi, p) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            let c = &ring.0;
            if c.len() < 4 || c.first() != c.last() {
                return false;
            }
            if c.iter().any(|c| !(c.x.is_finite() && c.y.is_finite())) {
                return false;
            }
            let len = (c.len() - 1) as u32;
            for (k, w) in c.windows(2).enumerate() {
                if w[0] == w[1] {
                    return false;
                }
                segs.push(RingSeg {
                    line: Line::new(w[0], w[1]),
                    ring: (pi as u32, ri as u32),
                    pos: k as u32,
                    len,
                });
            }
        }
    }
    let tree = RTree::bulk_load(segs.clone());
    for a in &segs {
        for b in tree.locate_in_envelope_intersecting(&a.envelope()) {
            // Each unordered pair once: compare by (ring, pos).
            if (b.ring, b.pos) <= (a.ring, a.pos) {
                continue;
            }
            let Some(x) = line_intersection(a.line, b.line) else {
                continue;
            };
            let same_ring = a.ring == b.ring;
            let adjacent = same_ring && (a.pos + 1 == b.pos || (a.pos == 0 && b.pos + 1 == a.len));
            match x {
                LineIntersection::Collinear { .. } => return false,
                LineIntersection::SinglePoint {
                    is_proper: true, ..
                } => return false,
                LineIntersection::SinglePoint {
                    is_proper: false, ..
                } => {
                    if same_ring && !adjacent {
                        return false;
                    }
                }
            }
        }
    }
    // Nesting: holes inside their shell, shells not inside one another.
    for p in &mp.0 {
        let shell = Polygon::new(p.exterior().clone(), vec![]);
        for hole in p.interiors() {
            if hole.0.iter().all(|c| !shell.contains(c)) {
                return false;
            }
        }
    }
    if mp.0.len() > 1 {
        let boxes = crate::geom::bbox::box_entries(&mp.0);
        let tree = RTree::bulk_load(boxes);
        for (i, p) in mp.0.iter().enumerate() {
            // A vertex of this shell not on any other ring tells whether it is inside another.
            for c in p.exterior().0.iter().take(3) {
                for other in tree
                    .locate_all_at_point(&[c.x, c.y])
                    .filter(|o| o.data as usize != i)
                {
                    if mp.0[other.data as usize].contains(c) {
                        return false;
                    }
                }
            }
        }
    }
    true
}

fn drop_degenerate_rings(p: Polygon<f64>) -> Polygon<f64> {
    let (ext, ints) = p.into_inner();
    let dedup = |ls: LineString<f64>| {
        let mut v: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len());
        for c in ls.0 {
            if !(c.x.is_finite() && c.y.is_finite()) {
                continue;
            }
            if v.last() != Some(&c) {
                v.push(c);
            }
        }
        if v.len() >= 3 && v.first() != v.last() {
            let first = v[0];
            v.push(first);
        }
        LineString::new(v)
    };
    let ext = dedup(ext);
    let ints = ints
        .into_iter()
        .map(dedup)
        .filter(|r| r.0.len() >= 4)
        .collect();
    Polygon::new(ext, ints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::wkt;

    #[test]
    fn bow_tie_is_repaired_into_two_triangles() {
        let bow = wkt!(MULTIPOLYGON(((0.0 0.0, 2.0 2.0, 2.0 0.0, 0.0 2.0, 0.0 0.0))));
        assert!(!is_valid_fast(&bow));
        assert!(!geo::Validation::is_valid(&bow));
        let (fixed, done) = clean_geometry(bow);
        assert!(is_valid_fast(&fixed));
        assert!(geo::Validation::is_valid(&fixed));
        assert!(done.repaired && !done.antimeridian_split);
        assert!(
            (fixed.unsigned_area() - 2.0).abs() < 1e-9,
            "{}",
            fixed.unsigned_area()
        );
    }
}
