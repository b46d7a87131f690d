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
