//! The inputs of a run ([`Inputs`]): training points and boundary levels, each a file or data
//! held in memory.
//!
//! Points are a file ([`PointsSpec::new`]), coordinates with optional ids
//! ([`PointsSpec::lonlat`]) or a polars `DataFrame` ([`PointsSpec::frame`]); each boundary level
//! is a file ([`LevelSpec::new`]) or geo-types polygons with their codes, names and parent codes
//! ([`LevelSpec::polygons`]). In-memory data takes the same path as a file's rows and features
//! (rejects with their reasons; repair, antimeridian cut and overlaps), and the report records
//! what it was (kind, rows or features) and a SHA-256 of its content in place of a file's
//! ([`memory_input`]), so the run id stays reproducible.

use std::path::Path;

use crate::input::levels::{BoundarySpec, LevelSpec};
use crate::input::points::PointsSpec;
use serde::{Deserialize, Serialize};

/// The inputs of a run: the training points and the boundary levels.
///
/// ```
/// use geo::wkt;
/// use geocells::{BoundaryFeature, BoundarySpec, LevelSpec};
/// use geocells::PointsSpec;
/// use geocells::Inputs;
/// let square = wkt!(POLYGON((0. 0., 1. 0., 1. 1., 0. 1., 0. 0.)));
/// let inputs = Inputs::new(
///     PointsSpec::lonlat(vec![0.5, 0.25], vec![0.5, 0.75]),
///     BoundarySpec {
///         admin1: Some(LevelSpec::polygons([BoundaryFeature::new("A", square)
///             .name("Square")
///             .country("SQR", "Squareland")])),
///         ..Default::default()
///     },
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The training points.
    pub points: PointsSpec,
    /// The boundary levels.
    pub boundaries: BoundarySpec,
}

impl Inputs {
    /// Inputs from points and boundary levels, each a file or data held in memory.
    pub fn new(points: PointsSpec, boundaries: BoundarySpec) -> Self {
        Self { points, boundaries }
    }

    /// The data shipped in `data/` under `root`: GeoNames places, world countries and admin-1
    /// (Natural Earth) and US counties.
    pub fn default_data(root: impl AsRef<Path>) -> Self {
        let d = root.as_ref().join("data");
        Self {
            points: PointsSpec::new(d.join("geonames_cities1000.parquet")),
            boundaries: BoundarySpec {
                country: Some(LevelSpec::country(d.join("admin0_world.parquet"))),
                admin1: Some(LevelSpec::admin1(d.join("admin1_world.parquet"))),
                admin2: Some(LevelSpec::admin2(d.join("admin2_us.parquet"))),
            },
        }
    }
}

/// One input file of `report.json`'s `inputs`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InputFile {
    /// Its size; `None` if unreadable.
    pub bytes: Option<u64>,
    /// The column options given for a boundary level (left out when none were given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<ColumnOptions>,
    /// Features of boundaries held in memory (left out for files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<usize>,
    /// What data held in memory is: `lonlat`, `dataframe` or `polygons` (left out for files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its path, as given (for data held in memory, its label).
    pub path: String,
    /// `points`, `country`, `admin1` or `admin2`.
    pub role: String,
    /// Rows of points held in memory (left out for files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    /// SHA-256 (hex; with the shapefile sidecars); `None` if unreadable.
    pub sha256: Option<String>,
}

/// The column options given for a boundary level ([`LevelSpec`](crate::LevelSpec)); only those given are written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnOptions {
    /// The admin-1 code column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin1_code: Option<String>,
    /// The admin-1 name column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin1_name: Option<String>,
    /// The code column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The country code column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// The country name column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_name: Option<String>,
    /// The country every feature belongs to, as (code, name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_country: Option<(String, String)>,
    /// The name column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The parts of a list of report input entries two runs must share to be combined: each
/// entry's role, SHA-256 and column options, as JSON (paths may differ between machines).
pub(crate) fn comparable_inputs(inputs: &[InputFile]) -> Vec<(String, String)> {
    fn json<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap_or_default()
    }
    inputs
        .iter()
        .map(|i| {
            (
                json(&i.role),
                format!("{} {}", json(&i.sha256), json(&i.columns)),
            )
        })
        .collect()
}
