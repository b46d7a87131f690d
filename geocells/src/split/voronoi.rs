//! Voronoi carving: the region of a cluster of points inside a parent cell.
//!
//! The region is the union of the Voronoi cells of the cluster's points, where the Voronoi
//! diagram is that of *all* the parent's points, clipped to the parent. To be right away from
//! the equator and across the antimeridian, the diagram is built in an azimuthal equidistant
//! projection centred on the points' spherical mean (distances from the centre are true
//! great-circle distances), with spade's Delaunay triangulation; four far frame sites make every
//! real site's Voronoi cell bounded. The region's boundary is densified before it is projected
//! back to lon/lat, so edges stay on the correct side of the points.
//!
//! Duplicate points are one Voronoi site; a site belongs to the cluster when its first point
//! (lowest index) does. Fewer than three distinct or collinear sites are fine: the frame sites
//! keep the triangulation two-dimensional.
//!
//! Complexity: `O(n log n)` for the triangulation, `O(r log r)` for the union of the `r`
//! region cells, plus two overlays with the parent.

use geo::BoundingRect;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use spade::{DelaunayTriangulation, Point2, Triangulation};
use thiserror::Error;

use crate::geom::geodesy::{EARTH_RADIUS_KM, spherical_mean};

/// Errors of the Voronoi carve.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum VoronoiError {
    /// Points and membership flags differ in length, or there are no points.
    #[error("{points} points but {flags} cluster flags")]
    Mismatch {
        /// Points given.
        points: usize,
        /// Flags given.
        flags: usize,
    },
    /// spade refused a coordinate.
    #[error("triangulation failed: {0}")]
    Triangulation(String),
}

/// An azimuthal equidistant projection centred on a point; coordinates in km.
#[derive(Debug, Clone, Copy)]
pub struct LocalProjection {
    lon0: f64,
    sin_lat0: f64,
    cos_lat0: f64,
}

impl LocalProjection {
    /// Centred on `(lon, lat)` degrees.
    pub fn new(lon: f64, lat: f64) -> Self {
        let lat0 = lat.to_radians();
        Self {
            lon0: lon.to_radians(),
            sin_lat0: lat0.sin(),
            cos_lat0: lat0.cos(),
        }
    }

    /// lon/lat degrees to km.
    pub fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (lam, phi) = (lon.to_radians() - self.lon0, lat.to_radians());
        let (sp, cp) = phi.sin_cos();
        let cos_c = (self.sin_lat0 * sp + self.cos_lat0 * cp * lam.cos()).clamp(-1.0, 1.0);
        let c = cos_c.acos();
        let k = if c < 1e-12 { 1.0 } else { c / c.sin() };
        let x = k * cp * lam.sin();
        let y = k * (self.cos_lat0 * sp - self.sin_lat0 * cp * lam.cos());
        (x * EARTH_RADIUS_KM, y * EARTH_RADIUS_KM)
    }

    /// km back to lon/lat degrees; the longitude is *not* wrapped into [-180, 180], so a shape
    /// across the antimeridian stays continuous.
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let (x, y) = (x / EARTH_RADIUS_KM, y / EARTH_RADIUS_KM);
        let c = (x * x + y * y).sqrt();
        if c < 1e-15 {
            return (self.lon0.to_degrees(), self.sin_lat0.asin().to_degrees());
        }
        let (sc, cc) = c.sin_cos();
        let phi = (cc * self.sin_lat0 + y * sc * self.cos_lat0 / c)
            .clamp(-1.0, 1.0)
            .asin();
        let lam = self.lon0 + (x * sc).atan2(c * self.cos_lat0 * cc - y * self.sin_lat0 * sc);
        (lam.to_degrees(), phi.to_degrees())
    }
}

/// The region of the cluster's points within `parent`, in lon/lat (on the global overlay grid).
///
/// `points` are lon/lat degrees, `in_cluster[i]` says whether point `i` is in the cluster. An
/// empty region comes back when no site is in the cluster, the whole parent when every site is.
///
/// # Errors
/// [`VoronoiError`] on mismatched inputs or a triangulation failure.
pub fn cluster_region(
    points: &[(f64, f64)],
    in_cluster: &[bool],
    parent: &MultiPolygon<f64>,
) -> Result<MultiPolygon<f64>, VoronoiError> {
    if points.len() != in_cluster.len() || points.is_empty() {
        return Err(VoronoiError::Mismatch {
            points: points.len(),
            flags: in_cluster.len(),
        });
    }
    let (lon0, lat0) = spherical_mean(points.iter().copied()).unwrap_or(points[0]);
    let proj = LocalProjection::new(lon0, lat0);
    // Distinct sites, each with the membership of its first point.
    let mut sites: Vec<((f64, f64), bool, usize)> = points
        .iter()
        .zip(in_cluster)
        .enumerate()
        .map(|(i, (&(lon, lat), &c))| (proj.forward(lon, lat), c, i))
        .collect();
    sites.sort_by(|a, b| {
        (a.0.0.to_bits(), a.0.1.to_bits(), a.2).cmp(&(b.0.0.to_bits(), b.0.1.to_bits(), b.2))
    });
    sites.dedup_by(|b, a| a.0.0.to_bits() == b.0.0.to_bits() && a.0.1.to_bits() == b.0.1.to_bits());
    sites.sort_by_key(|s| s.2);
    let n_in = sites.iter().filter(|s| s.1).count();
    if n_in == 0 {
        return Ok(MultiPolygon::new(vec![]));
    }
    if n_in == sites.len() {
        return Ok(crate::geom::overlay::union(parent.0.iter()));
    }
    // Frame sites far outside everything.
    let mut extent = 1.0f64;
    for s in &sites {
        extent = extent.max(s.0.0.abs()).max(s.0.1.abs());
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for s in &sites {
        (x0, x1, y0, y1) = (x0.min(s.0.0), x1.max(s.0.0), y0.min(s.0.1), y1.max(s.0.1));
    }
    for p in parent.0.iter().flat_map(|p| p.exterior().0.iter()) {
        let (x, y) = proj.forward(p.x, p.y);
        extent = extent.max(x.abs()).max(y.abs());
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let f = extent * 8.0;
    let mut input: Vec<Point2<f64>> = sites.iter().map(|s| Point2::new(s.0.0, s.0.1)).collect();
    input.extend([
        Point2::new(-f, -f),
        Point2::new(f, -f),
        Point2::new(f, f),
        Point2::new(-f, f),
    ]);
    let tri: DelaunayTriangulation<Point2<f64>> = DelaunayTriangulation::bulk_load_stable(input)
        .map_err(|e| VoronoiError::Triangulation(format!("{e:?}")))?;
    // Voronoi cells of the cluster's sites, in the projected plane.
    let mut cells: Vec<Polygon<f64>> = Vec::new();
    for (vi, v) in tri.vertices().enumerate() {
        if vi >= sites.len() || !sites[vi].1 {
            continue;
        }
        let mut ring: Vec<Coord<f64>> = Vec::new();
        for e in v.as_voronoi_face().adjacent_edges() {
            if let Some(p) = e.from().position() {
                ring.push(Coord { x: p.x, y: p.y });
            }
        }
        if ring.len() >= 3 {
            ring.push(ring[0]);
            let poly = Polygon::new(LineString::new(ring), vec![]);
            cells.push(geo::Orient::orient(&poly, geo::orient::Direction::Default));
        }
    }
    // Only the part over the parent matters: clip to the parent's projected box (with a margin
    // for edges that bow between vertices) before projecting back. The Voronoi cells of hull
    // sites reach out to the frame, and beyond a quarter of the globe the azimuthal inverse
    // folds them over (a 1,500 km cell in Siberia lost sites that way).
    let margin = 0.1 * extent + 10.0;
    let window = MultiPolygon::new(vec![
        geo_types::Rect::new(
            Coord {
                x: x0 - margin,
                y: y0 - margin,
            },
            Coord {
                x: x1 + margin,
                y: y1 + margin,
            },
        )
        .to_polygon(),
    ]);
    let region = crate::geom::overlay::intersection_planar(
        &crate::geom::overlay::union_planar(&cells),
        &window,
    );
    // Back to lon/lat, densified so that no edge is longer than 1 % of the extent.
    let step = (extent / 100.0).max(0.5);
    let back = |ring: &LineString<f64>| {
        let mut out: Vec<Coord<f64>> = Vec::new();
        for w in ring.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
            let k = (len / step).ceil().max(1.0) as usize;
            for j in 0..k {
                let t = j as f64 / k as f64;
                let (lon, lat) = proj.inverse(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y));
                out.push(Coord { x: lon, y: lat });
            }
        }
        if let Some(first) = out.first().copied() {
            out.push(first);
        }
        LineString::new(out)
    };
    let lonlat: Vec<Polygon<f64>> = region
        .0
        .iter()
        .map(|p| Polygon::new(back(p.exterior()), p.interiors().iter().map(back).collect()))
        .collect();
    let lonlat = wrap_longitudes(MultiPolygon::new(lonlat));
    Ok(crate::geom::overlay::intersection(&lonlat, parent))
}

/// Brings polygons with continuous (unwrapped) longitudes back into `[-180, 180]`, cutting
/// them at the antimeridian.
pub fn wrap_longitudes(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    let Some(b) = mp.bounding_rect() else {
        return mp;
    };
    if b.min().x >= -180.0 && b.max().x <= 180.0 {
        return mp;
    }
    let planar = |mp: &MultiPolygon<f64>, x0: f64, x1: f64| {
        let bx =
            geo_types::Rect::new(Coord { x: x0, y: -90.0 }, Coord { x: x1, y: 90.0 }).to_polygon();
        crate::geom::overlay::intersection_planar(mp, &MultiPolygon::new(vec![bx]))
    };
    let mut parts = planar(&mp, -180.0, 180.0).0;
    parts.extend(
        planar(&mp, 180.0, 540.0)
            .map_coords(|c| Coord {
                x: c.x - 360.0,
                y: c.y,
            })
            .0,
    );
    parts.extend(
        planar(&mp, -540.0, -180.0)
            .map_coords(|c| Coord {
                x: c.x + 360.0,
                y: c.y,
            })
            .0,
    );
    crate::geom::overlay::union(parts.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_round_trips_and_keeps_distances_from_the_centre() {
        let p = LocalProjection::new(10.0, 60.0);
        let (x, y) = p.forward(12.0, 61.0);
        let (lon, lat) = p.inverse(x, y);
        assert!((lon - 12.0).abs() < 1e-9 && (lat - 61.0).abs() < 1e-9);
        let d = (x * x + y * y).sqrt();
        let h = crate::geom::geodesy::haversine_km((10.0, 60.0), (12.0, 61.0));
        assert!((d - h).abs() < 1e-6, "{d} vs {h}");
    }

    #[test]
    fn two_distinct_locations_with_duplicates_halve_a_square_with_a_hole() {
        use geo::{Area, Contains};
        // Ten copies of each of two locations: two sites, no triangle among them; the parent
        // has a hole straddling the border.
        let outer = LineString::from(vec![
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (0.0, 1.0),
            (0.0, 0.0),
        ]);
        let hole = LineString::from(vec![
            (0.9, 0.4),
            (0.9, 0.6),
            (1.1, 0.6),
            (1.1, 0.4),
            (0.9, 0.4),
        ]);
        let parent = MultiPolygon::new(vec![Polygon::new(outer, vec![hole])]);
        let mut pts = Vec::new();
        let mut flags = Vec::new();
        for _ in 0..10 {
            pts.push((0.5, 0.5));
            flags.push(true);
            pts.push((1.5, 0.5));
            flags.push(false);
        }
        let region = cluster_region(&pts, &flags, &parent).expect("region");
        let a = region.unsigned_area();
        let half = parent.unsigned_area() / 2.0;
        assert!((a - half).abs() < 1e-3 * half, "{a} vs {half}");
        assert!(region.contains(&Coord { x: 0.5, y: 0.5 }));
        assert!(!region.contains(&Coord { x: 1.5, y: 0.5 }));
        assert!(
            !region.contains(&Coord { x: 0.95, y: 0.5 }),
            "the hole stays a hole"
        );
    }

    #[test]
    fn two_groups_split_a_square_between_them() {
        use geo::Area;
        let parent = MultiPolygon::new(vec![
            geo_types::Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 2.0, y: 1.0 }).to_polygon(),
        ]);
        let mut pts = Vec::new();
        let mut flags = Vec::new();
        for i in 0..10 {
            pts.push((0.2 + 0.05 * f64::from(i), 0.5));
            flags.push(true);
            pts.push((1.3 + 0.05 * f64::from(i), 0.5));
            flags.push(false);
        }
        let region = cluster_region(&pts, &flags, &parent).expect("region");
        let a = region.unsigned_area();
        assert!(a > 0.3 && a < 1.7, "{a}");
        use geo::Contains;
        for (p, &f) in pts.iter().zip(&flags) {
            assert_eq!(region.contains(&Coord { x: p.0, y: p.1 }), f, "{p:?}");
        }
    }
}
