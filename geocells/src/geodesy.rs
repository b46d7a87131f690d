//! Distances on the sphere (mean Earth radius 6371.0088 km).
//!
//! All angles are in degrees, longitude first. Distances between points use the haversine
//! formula; distances from a point to a short segment use a local equirectangular frame centred
//! on the point, which is exact to well under 0.1 % for segments shorter than a few hundred km.

use geo_types::Coord;

/// Mean Earth radius in kilometres (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Kilometres per degree of latitude.
pub const KM_PER_DEG: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// Great-circle distance in km between two lon/lat points (haversine formula).
///
/// ```
/// let d = geocells::geodesy::haversine_km((0.0, 0.0), (1.0, 0.0));
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
///
/// ```
/// use geo_types::Coord;
/// let (c, d) = geocells::geodesy::closest_on_segment(
///     Coord { x: 0.5, y: 1.0 }, Coord { x: 0.0, y: 0.0 }, Coord { x: 1.0, y: 0.0 });
/// assert!((c.x - 0.5).abs() < 1e-12 && c.y.abs() < 1e-12);
/// assert!((d - geocells::geodesy::KM_PER_DEG).abs() < 1e-6);
/// ```
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

/// Where a point off every polygon stands once snapped: `q`, the nearest boundary point, moved
/// on along the line from `p` through `q` by 25 to 75 cm (more for points that came from
/// farther; `p` itself when it lies on `q`). Points with different coordinates that snap to the
/// same boundary point (a cape, a coastline vertex) so stay apart, and the polygon that holds
/// the moved point is the one the point is snapped into. The same rule serves the assignment to
/// admin areas ([`crate::assign::AreaIndex::snap`]), the split and the labelling of new points
/// ([`crate::assign::CellLookup`]).
///
/// ```
/// let s = geocells::geodesy::nudge_inward((0.0, 1.0), (0.0, 0.0));
/// assert!(s.1 < 0.0 && s.1 > -1e-5 && s.0 == 0.0);
/// ```
pub fn nudge_inward(p: (f64, f64), q: (f64, f64)) -> (f64, f64) {
    let k = q.1.to_radians().cos().max(1e-6);
    let dx = wrap_dlon(p.0, q.0) * k * KM_PER_DEG;
    let dy = (q.1 - p.1) * KM_PER_DEG;
    let d = (dx * dx + dy * dy).sqrt();
    if d == 0.0 || !d.is_finite() {
        return q;
    }
    let step_km = 0.000_25 + 0.000_5 * d / (d + 1.0);
    let lon = q.0 + dx / d * step_km / (k * KM_PER_DEG);
    let lat = (q.1 + dy / d * step_km / KM_PER_DEG).clamp(-90.0, 90.0);
    let lon = if lon > 180.0 {
        lon - 360.0
    } else if lon < -180.0 {
        lon + 360.0
    } else {
        lon
    };
    (lon, lat)
}

/// Mean of points on the unit sphere, returned as lon/lat degrees; `None` for an empty input or
/// when the points cancel out (antipodal sets).
///
/// ```
/// let c = geocells::geodesy::spherical_mean([(179.0, 0.0), (-179.0, 0.0)]).unwrap();
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
