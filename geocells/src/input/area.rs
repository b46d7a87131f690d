//! One finest-level admin area ([`Area`]), and the placeholder country of areas without one.

use geo_types::MultiPolygon;

use crate::input::levels::Level;

/// One finest-level admin area.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    /// The level it comes from.
    pub level: Level,
    /// Its code (unique among areas).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Admin-1 code (the area's own code for admin-1 areas, the country code for countries).
    pub admin1_code: String,
    /// Admin-1 name.
    pub admin1_name: String,
    /// Country code.
    pub country_code: String,
    /// Country name.
    pub country_name: String,
    /// Cleaned, valid, CCW-oriented polygons in lon/lat degrees within `[-180, 180]`.
    pub geometry: MultiPolygon<f64>,
}

/// Country code of areas whose country cannot be known (no country column, no country level,
/// no parent with a country): `XXX`, the ICAO 9303 code for an unspecified nationality. All such
/// areas form one country, so their cells can fuse with each other; name the real country with
/// [`crate::input::levels::LevelSpec::fixed_country`] (build_cells: `--admin1-fixed-country CODE:NAME`).
pub const UNKNOWN_COUNTRY_CODE: &str = "XXX";
/// Country name of areas in [`UNKNOWN_COUNTRY_CODE`].
pub const UNKNOWN_COUNTRY_NAME: &str = "Unknown country";
