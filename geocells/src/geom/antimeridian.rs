//! Polygons that cross the antimeridian: detection ([`crosses_antimeridian`]) and the cut into
//! parts within `[-180, 180]` ([`cut_at_antimeridian`]).

use geo::{Area as _, BooleanOps};
use geo_types::{Coord, MultiPolygon, Polygon, Rect};

/// True when a consecutive pair of exterior vertices is more than 180 degrees of longitude
/// apart and not both on the ±180 map edge (a polygon around a pole, like Antarctica, runs
/// along that edge legitimately).
pub fn crosses_antimeridian(p: &Polygon<f64>) -> bool {
    p.exterior().0.windows(2).any(|w| {
        (w[1].x - w[0].x).abs() > 180.0 && !(w[0].x.abs() == 180.0 && w[1].x.abs() == 180.0)
    })
}

/// Cuts a polygon whose rings cross the antimeridian into parts within `[-180, 180]`:
/// longitudes are shifted into `[0, 360)`, the shape is clipped to the two hemispheres of
/// the shifted frame and the eastern part is moved back by 360 degrees.
pub fn cut_at_antimeridian(p: &Polygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    let shifted = p.map_coords(|c| Coord {
        x: if c.x < 0.0 { c.x + 360.0 } else { c.x },
        y: c.y,
    });
    let shifted = MultiPolygon::new(vec![shifted]);
    let west = Rect::new(Coord { x: 0.0, y: -90.0 }, Coord { x: 180.0, y: 90.0 }).to_polygon();
    let east = Rect::new(Coord { x: 180.0, y: -90.0 }, Coord { x: 360.0, y: 90.0 }).to_polygon();
    let mut parts = shifted.intersection(&MultiPolygon::new(vec![west])).0;
    let east_part = shifted
        .intersection(&MultiPolygon::new(vec![east]))
        .map_coords(|c| Coord {
            x: c.x - 360.0,
            y: c.y,
        });
    parts.extend(east_part.0);
    parts.retain(|p| p.unsigned_area() > 0.0);
    // The overlay rounds to its grid, which can put the cut a hair beyond ±180: clamp.
    MultiPolygon::new(parts).map_coords(|c| Coord {
        x: c.x.clamp(-180.0, 180.0),
        y: c.y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::wkt;

    #[test]
    fn antimeridian_polygon_is_cut_in_two() {
        let p = wkt!(POLYGON((
            179.0 - 17.0,
            -179.0 - 17.0,
            -179.0 - 16.0,
            179.0 - 16.0,
            179.0 - 17.0
        )));
        assert!(crosses_antimeridian(&p));
        let cut = cut_at_antimeridian(&p);
        assert_eq!(cut.0.len(), 2);
        for part in &cut.0 {
            let b = geo::BoundingRect::bounding_rect(part).expect("bbox");
            assert!(b.min().x >= -180.0 && b.max().x <= 180.0);
            assert!((part.unsigned_area() - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn polar_ring_along_the_map_edge_is_not_cut() {
        let p = wkt!(POLYGON((
            -180.0 - 90.0,
            180.0 - 90.0,
            180.0 - 70.0,
            -180.0 - 70.0,
            -180.0 - 90.0
        )));
        assert!(!crosses_antimeridian(&p));
    }
}
