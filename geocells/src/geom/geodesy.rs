//! Distances on the sphere (mean Earth radius 6371.0088 km).
//!
//! All angles are in degrees, longitude first. Distances between points use the haversine
//! formula; distances from a point to a short segment use a local equirectangular frame centred
//! on the point, which is exact to well under 0.1 % for segments shorter than a few hundred km.

use geo_types::Coord;

/// Mean Earth radius in kilometres (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Half the Earth's circumference in km (great-circle distances never exceed it): the upper
/// bound of every distance parameter.
pub const HALF_CIRCUMFERENCE_KM: f64 = 20_015.1;

/// Kilometres per degree of latitude.
pub const KM_PER_DEG: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// Great-circle distance in km between two lon/lat points (haversine formula).
///
/// ```
/// let d = geocells::algorithms::haversine_km((0.0, 0.0), (1.0, 0.0));
/// assert!((d - 111.195).abs() < 1e-3);
/// ```
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlon = lon2 - lon1;
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Smallest longitude difference `b - a` in degrees, wrapped into `[-180, 180)`.
pub fn wrap_dlon(a: f64, b: f64) -> f64 {
    let mut d = b - a;
    while d >= 180.0 {
        d -= 360.0;
    }
    while d < -180.0 {
        d += 360.0;
    }
    d
}

/// Distance in km from point `p` to the segment `a`-`b`, computed in a local equirectangular
/// frame centred on `p` (longitudes scaled by `cos(lat_p)`, wrapped across the antimeridian).
pub fn point_segment_km(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    closest_on_segment(p, a, b).1
}

/// The point of segment `a`-`b` nearest to `p`, and its distance in km, in the same local frame
/// as [`point_segment_km`]. The returned longitude is continuous with `p`'s (it may lie beyond
/// ±180 by the wrap) and then wrapped into [-180, 180].
pub fn closest_on_segment(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> (Coord<f64>, f64) {
    let k = p.y.to_radians().cos().max(1e-6);
    let ax = wrap_dlon(p.x, a.x) * k;
    let ay = a.y - p.y;
    let bx = wrap_dlon(p.x, b.x) * k;
    let by = b.y - p.y;
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (ax + t * dx, ay + t * dy);
    let mut lon = p.x + cx / k;
    if lon > 180.0 {
        lon -= 360.0;
    } else if lon < -180.0 {
        lon += 360.0;
    }
    // Exactly on an endpoint when t is 0 or 1, so the point is a vertex of the ring.
    let c = if t == 0.0 {
        a
    } else if t == 1.0 {
        b
    } else {
        Coord {
            x: lon,
            y: p.y + cy,
        }
    };
    (c, (cx * cx + cy * cy).sqrt() * KM_PER_DEG)
}

/// Half-widths in degrees (longitude, latitude) of a box that contains every point within
/// `km` of a point at latitude `lat`. Longitude half-width is capped at 180.
pub fn degree_box(lat: f64, km: f64) -> (f64, f64) {
    let dlat = km / KM_PER_DEG;
    let c = (lat.abs() + dlat).min(90.0).to_radians().cos();
    let dlon = if c < 1e-9 {
        180.0
    } else {
        (dlat / c).min(180.0)
    };
    (dlon, dlat)
}

/// Where a point `p` off every polygon stands once snapped to its nearest boundary point `q` on
/// the ring segment `a`→`b` (rings are oriented with the interior on their left; `prev` is the
/// vertex before `a`, `next` the one after `b`): [`snap_step_km`] inside the polygon from `q`
/// (more for points that came from farther).
///
/// * `q` inside the segment: along the segment's inward normal (the line from `p` through `q`);
/// * `q` at a vertex: into the corner, along its inward bisector turned by the angle at which
///   `p` lies from the outward bisector (scaled to stay within the corner), so points from
///   different directions stay apart.
///
/// Points with different coordinates that snap to the same boundary point (a cape, a coastline
/// vertex) so stay different locations inside the polygon, and identical coordinates one. The
/// same rule serves the assignment to admin areas ([`crate::partition::assign::AreaIndex::snap`]), the
/// split and the labelling of new points ([`crate::partition::assign::CellLookup`]). Computed in a local
/// frame in km (longitudes scaled by the cosine of the latitude, wrapped across ±180).
pub fn snap_site(
    p: Coord<f64>,
    q: Coord<f64>,
    a: Coord<f64>,
    b: Coord<f64>,
    prev: Coord<f64>,
    next: Coord<f64>,
) -> (f64, f64) {
    let k = q.y.to_radians().cos().max(1e-6);
    // Local frame around q, km.
    let local = |c: Coord<f64>| {
        (
            wrap_dlon(q.x, c.x) * k * KM_PER_DEG,
            (c.y - q.y) * KM_PER_DEG,
        )
    };
    let unit = |v: (f64, f64)| {
        let n = (v.0 * v.0 + v.1 * v.1).sqrt();
        (n > 0.0 && n.is_finite()).then(|| (v.0 / n, v.1 / n))
    };
    let left = |u: (f64, f64), w: (f64, f64)| unit((-(w.1 - u.1), w.0 - u.0));
    let pl = local(p);
    let d = (pl.0 * pl.0 + pl.1 * pl.1).sqrt();
    let (la, lb) = (local(a), local(b));
    let edge = left(la, lb);
    let corner = if q == a {
        Some((left(local(prev), la), edge))
    } else if q == b {
        Some((edge, left(lb, local(next))))
    } else {
        None
    };
    let dir = match corner {
        Some((Some(n1), Some(n2))) => match unit((n1.0 + n2.0, n1.1 + n2.1)) {
            Some(bis) => {
                // beta: angle between the two inward normals; a convex corner's interior angle
                // is pi - beta, and an outside point p whose nearest point is the corner lies
                // within beta / 2 of the outward bisector.
                let cos_b = (n1.0 * n2.0 + n1.1 * n2.1).clamp(-1.0, 1.0);
                let beta = cos_b.acos();
                let convex = n1.0 * n2.1 - n1.1 * n2.0 >= 0.0;
                let alpha = match unit((-pl.0, -pl.1)) {
                    // Angle of (q - p) from the inward bisector.
                    Some(v) => (bis.0 * v.1 - bis.1 * v.0).atan2(bis.0 * v.0 + bis.1 * v.1),
                    None => 0.0,
                };
                let phi = if convex && beta > 1e-9 {
                    (alpha / beta.max(1e-9)).clamp(-0.5, 0.5) * 0.8 * (std::f64::consts::PI - beta)
                } else {
                    0.0
                };
                Some((
                    bis.0 * phi.cos() - bis.1 * phi.sin(),
                    bis.0 * phi.sin() + bis.1 * phi.cos(),
                ))
            }
            None => edge,
        },
        Some(_) | None => edge,
    };
    let Some(dir) = dir.or_else(|| unit((-pl.0, -pl.1))) else {
        return (q.x, q.y);
    };
    let step_km = snap_step_km(d);
    let lon = q.x + dir.0 * step_km / (k * KM_PER_DEG);
    let lat = (q.y + dir.1 * step_km / KM_PER_DEG).clamp(-90.0, 90.0);
    let lon = if lon > 180.0 {
        lon - 360.0
    } else if lon < -180.0 {
        lon + 360.0
    } else {
        lon
    };
    (lon, lat)
}

/// How far inside the polygon [`snap_site`] puts a point that was `d_km` off it: 25 cm plus 1 %
/// of the distance, at most 50 m more. Sites of points that snap to one boundary point so stay
/// farther apart than the overlay grid (2.6 cm) rounds, and a cell holding the site is at most
/// `d_km` plus this from the point.
pub fn snap_step_km(d_km: f64) -> f64 {
    0.000_25 + (0.01 * d_km).min(0.05)
}

/// The nearest boundary point of the rings to `p` (km, [`closest_on_segment`]; ties to the
/// first segment) and where `p` stands once snapped there ([`snap_site`]), with the distance.
/// Rings are closed (first vertex repeated last). `None` without a segment.
pub fn snap_to_rings<'a>(
    rings: impl IntoIterator<Item = &'a [Coord<f64>]>,
    p: Coord<f64>,
) -> Option<((f64, f64), f64)> {
    let mut best: Option<(f64, Coord<f64>, [Coord<f64>; 4])> = None;
    for ring in rings {
        let n = ring.len();
        if n < 2 {
            continue;
        }
        for i in 0..n - 1 {
            let (a, b) = (ring[i], ring[i + 1]);
            let (c, d) = closest_on_segment(p, a, b);
            if best.is_none_or(|x| d < x.0) {
                let prev = if i == 0 {
                    ring[n.saturating_sub(2)]
                } else {
                    ring[i - 1]
                };
                let next = if i + 2 < n {
                    ring[i + 2]
                } else {
                    ring[1.min(n - 1)]
                };
                best = Some((d, c, [a, b, prev, next]));
            }
        }
    }
    best.map(|(d, q, [a, b, prev, next])| (snap_site(p, q, a, b, prev, next), d))
}

/// Mean of points on the unit sphere, returned as lon/lat degrees; `None` for an empty input or
/// when the points cancel out (antipodal sets).
///
/// ```
/// let c = geocells::algorithms::spherical_mean([(179.0, 0.0), (-179.0, 0.0)]).unwrap();
/// assert!((c.0.abs() - 180.0).abs() < 1e-9 && c.1.abs() < 1e-9);
/// ```
pub fn spherical_mean(points: impl IntoIterator<Item = (f64, f64)>) -> Option<(f64, f64)> {
    let (mut x, mut y, mut z, mut n) = (0.0, 0.0, 0.0, 0usize);
    for (lon, lat) in points {
        let (lo, la) = (lon.to_radians(), lat.to_radians());
        x += la.cos() * lo.cos();
        y += la.cos() * lo.sin();
        z += la.sin();
        n += 1;
    }
    let r = (x * x + y * y + z * z).sqrt();
    if n == 0 || r < 1e-12 {
        return None;
    }
    Some((y.atan2(x).to_degrees(), (z / r).asin().to_degrees()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn closest_on_segment_example() {
        use geo_types::Coord;
        let (c, d) = crate::geom::geodesy::closest_on_segment(
            Coord { x: 0.5, y: 1.0 },
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 1.0, y: 0.0 },
        );
        assert!((c.x - 0.5).abs() < 1e-12 && c.y.abs() < 1e-12);
        assert!((d - crate::geom::geodesy::KM_PER_DEG).abs() < 1e-6);
    }

    #[test]
    fn snap_site_example() {
        use geo_types::Coord;
        let c = |x: f64, y: f64| Coord { x, y };
        // The unit square's bottom edge, from outside below the middle: straight up into it.
        let s = crate::geom::geodesy::snap_site(
            c(0.5, -1.0),
            c(0.5, 0.0),
            c(0.0, 0.0),
            c(1.0, 0.0),
            c(0.0, 1.0),
            c(1.0, 1.0),
        );
        assert!(s.1 > 0.0 && s.1 < 1e-3 && (s.0 - 0.5).abs() < 1e-12);
        // Its corner (1, 0), from the south-east: into the square.
        let s = crate::geom::geodesy::snap_site(
            c(2.0, -1.0),
            c(1.0, 0.0),
            c(0.0, 0.0),
            c(1.0, 0.0),
            c(0.0, 1.0),
            c(1.0, 1.0),
        );
        assert!(s.0 < 1.0 && s.1 > 0.0);
    }

    #[test]
    fn snap_step_km_example() {
        assert_eq!(crate::geom::geodesy::snap_step_km(0.0), 0.000_25);
        assert!((crate::geom::geodesy::snap_step_km(10.0) - 0.050_25).abs() < 1e-12);
    }

    use super::*;

    #[test]
    fn haversine_known_distance_paris_london() {
        // Paris (2.3522, 48.8566) to London (-0.1276, 51.5072): about 343.5 km.
        let d = haversine_km((2.3522, 48.8566), (-0.1276, 51.5072));
        assert!((d - 343.5).abs() < 1.0, "{d}");
    }

    #[test]
    fn segment_distance_across_antimeridian() {
        let p = Coord { x: 179.9, y: 0.0 };
        let a = Coord { x: -179.9, y: -1.0 };
        let b = Coord { x: -179.9, y: 1.0 };
        let d = point_segment_km(p, a, b);
        assert!((d - 0.2 * KM_PER_DEG).abs() < 1e-6, "{d}");
    }

    #[test]
    fn degree_box_grows_with_latitude() {
        let (lon0, lat0) = degree_box(0.0, 25.0);
        let (lon60, lat60) = degree_box(60.0, 25.0);
        assert!((lat0 - lat60).abs() < 1e-12);
        assert!(lon60 > 1.9 * lon0);
    }
}
