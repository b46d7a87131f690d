//! A zoomed map's window: a lon/lat box `[min_lon, min_lat, max_lon, max_lat]` checked once
//! ([`check_bbox`]), read from text as four numbers or a city's name ([`parse_map_bbox`],
//! [`MAP_REGIONS`]), and which polygons it shows ([`intersects`]).

use geo_types::Polygon;

use crate::output::error::ExportError;

/// Named map boxes `[min_lon, min_lat, max_lon, max_lat]` (degrees, WGS84) accepted by
/// [`parse_map_bbox`] (and `build_cells --map-bbox NAME`): each city's dense core and its
/// nearest suburbs.
///
/// | name | box | covers |
/// | --- | --- | --- |
/// | `new-york` | -74.30, 40.45, -73.65, 40.95 | the five boroughs, Jersey City, Newark, southern Westchester |
/// | `los-angeles` | -118.70, 33.65, -117.65, 34.35 | the city, Long Beach, Pasadena, Anaheim |
/// | `paris` | 1.90, 48.55, 2.80, 49.10 | Paris and the petite couronne, Versailles, Roissy |
/// | `tokyo` | 139.40, 35.45, 140.05, 35.90 | the 23 wards, Kawasaki, northern Yokohama, Chiba's west |
pub const MAP_REGIONS: [(&str, [f64; 4]); 4] = [
    ("new-york", [-74.30, 40.45, -73.65, 40.95]),
    ("los-angeles", [-118.70, 33.65, -117.65, 34.35]),
    ("paris", [1.90, 48.55, 2.80, 49.10]),
    ("tokyo", [139.40, 35.45, 140.05, 35.90]),
];

/// What a map box may be, for error messages.
const EXPECTED: &str = "MIN_LON,MIN_LAT,MAX_LON,MAX_LAT in degrees (longitudes -180 to 180, \
                        latitudes -90 to 90, min below max), or new-york, los-angeles, paris, tokyo";

/// The text form of a box, as it appears in errors.
fn show(b: &[f64; 4]) -> String {
    b.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Checks a map box `[min_lon, min_lat, max_lon, max_lat]`: finite, longitudes in
/// `[-180, 180]`, latitudes in `[-90, 90]`, each minimum below its maximum. A box across the
/// antimeridian (`min_lon > max_lon`) is refused: draw each side on its own.
///
/// ```
/// use geocells::check_map_bbox;
/// assert!(check_map_bbox(&[2.2, 48.8, 2.5, 48.9]).is_ok());
/// let e = check_map_bbox(&[178.0, -20.0, -178.0, -15.0]).unwrap_err().to_string();
/// assert!(e.contains("antimeridian"), "{e}");
/// ```
///
/// # Errors
/// [`ExportError::BadMapBox`] naming the box and what is wrong with it.
pub fn check_bbox(b: &[f64; 4]) -> Result<(), ExportError> {
    let bad = |problem: String| ExportError::BadMapBox {
        value: show(b),
        problem,
        expected: EXPECTED,
    };
    let [x0, y0, x1, y1] = *b;
    if let Some(v) = b.iter().find(|v| !v.is_finite()) {
        return Err(bad(format!("{v} is not a finite number")));
    }
    for (name, v) in [("min_lon", x0), ("max_lon", x1)] {
        if !(-180.0..=180.0).contains(&v) {
            return Err(bad(format!("{name} {v} is outside -180 to 180")));
        }
    }
    for (name, v) in [("min_lat", y0), ("max_lat", y1)] {
        if !(-90.0..=90.0).contains(&v) {
            return Err(bad(format!("{name} {v} is outside -90 to 90")));
        }
    }
    if x0 > x1 {
        return Err(bad(format!(
            "min_lon {x0} is east of max_lon {x1}: a box across the antimeridian is not \
             supported (draw each side on its own)"
        )));
    }
    if x0 == x1 {
        return Err(bad(format!(
            "min_lon and max_lon are both {x0}: an empty box"
        )));
    }
    if y0 >= y1 {
        return Err(bad(format!("min_lat {y0} is not below max_lat {y1}")));
    }
    Ok(())
}

/// Reads a map box from text: four comma-separated numbers `MIN_LON,MIN_LAT,MAX_LON,MAX_LAT`
/// (spaces allowed) or a name of [`MAP_REGIONS`] (case-insensitive, `_` or space for `-`),
/// checked by [`check_bbox`].
///
/// ```
/// use geocells::parse_map_bbox;
/// assert_eq!(parse_map_bbox("Paris")?, [1.90, 48.55, 2.80, 49.10]);
/// assert_eq!(parse_map_bbox("2.2, 48.8, 2.5, 48.9")?, [2.2, 48.8, 2.5, 48.9]);
/// assert!(parse_map_bbox("2.2,48.8,2.5").is_err());
/// # Ok::<(), geocells::ExportError>(())
/// ```
///
/// # Errors
/// [`ExportError::BadMapBox`] naming the text and what is wrong with it.
pub fn parse_map_bbox(text: &str) -> Result<[f64; 4], ExportError> {
    let bad = |problem: String| ExportError::BadMapBox {
        value: text.to_string(),
        problem,
        expected: EXPECTED,
    };
    let name = text.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    if let Some((_, b)) = MAP_REGIONS.iter().find(|(n, _)| *n == name) {
        return Ok(*b);
    }
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() != 4 {
        return Err(bad(if parts.len() == 1 {
            "neither a known name nor four numbers".to_string()
        } else {
            format!("{} values, not 4", parts.len())
        }));
    }
    let mut b = [0.0; 4];
    for (v, p) in b.iter_mut().zip(&parts) {
        *v = p
            .parse()
            .map_err(|_| bad(format!("'{p}' is not a number")))?;
    }
    check_bbox(&b)?;
    Ok(b)
}

/// Whether a polygon's bounding box meets the box `[min_lon, min_lat, max_lon, max_lat]`
/// (touching counts).
pub(crate) fn intersects(p: &Polygon<f64>, b: &[f64; 4]) -> bool {
    use geo::BoundingRect;
    p.bounding_rect().is_some_and(|r| {
        r.max().x >= b[0] && r.min().x <= b[2] && r.max().y >= b[1] && r.min().y <= b[3]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_checked_and_errors_say_why() {
        for (b, says) in [
            ([f64::NAN, 0.0, 1.0, 1.0], "NaN is not a finite number"),
            ([0.0, 0.0, f64::INFINITY, 1.0], "inf is not a finite number"),
            (
                [-181.0, 0.0, 1.0, 1.0],
                "min_lon -181 is outside -180 to 180",
            ),
            ([0.0, 0.0, 190.0, 1.0], "max_lon 190 is outside -180 to 180"),
            ([0.0, -91.0, 1.0, 1.0], "min_lat -91 is outside -90 to 90"),
            ([0.0, 0.0, 1.0, 95.0], "max_lat 95 is outside -90 to 90"),
            ([178.0, 0.0, -178.0, 1.0], "across the antimeridian"),
            ([3.0, 0.0, 3.0, 1.0], "an empty box"),
            ([0.0, 2.0, 1.0, 1.0], "min_lat 2 is not below max_lat 1"),
            ([0.0, 1.0, 1.0, 1.0], "min_lat 1 is not below max_lat 1"),
        ] {
            let e = check_bbox(&b).expect_err(says).to_string();
            assert!(e.contains(says), "{e}");
            assert!(e.starts_with("map bbox "), "{e}");
        }
        assert!(check_bbox(&[-180.0, -90.0, 180.0, 90.0]).is_ok());
        for (_, b) in MAP_REGIONS {
            assert!(check_bbox(&b).is_ok());
        }
    }

    #[test]
    fn text_is_four_numbers_or_a_name() {
        assert_eq!(parse_map_bbox("new-york").ok(), Some(MAP_REGIONS[0].1));
        assert_eq!(parse_map_bbox(" Los_Angeles ").ok(), Some(MAP_REGIONS[1].1));
        assert_eq!(parse_map_bbox("TOKYO").ok(), Some(MAP_REGIONS[3].1));
        assert_eq!(
            parse_map_bbox("-74.3,40.45,-73.65,40.95").ok(),
            Some([-74.3, 40.45, -73.65, 40.95])
        );
        for (text, says) in [
            ("berlin", "'berlin': neither a known name nor four numbers"),
            ("1,2,3", "'1,2,3': 3 values, not 4"),
            ("1,2,3,4,5", "5 values, not 4"),
            ("1,2,x,4", "'x' is not a number"),
            ("1,,3,4", "'' is not a number"),
            ("3,2,1,4", "min_lon 3 is east of max_lon 1"),
            ("1,2,3,nan", "NaN is not a finite number"),
        ] {
            let e = parse_map_bbox(text).expect_err(text).to_string();
            assert!(e.contains(says), "{text}: {e}");
            assert!(e.contains("new-york, los-angeles, paris, tokyo"), "{e}");
        }
    }
}
