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

use polars::prelude::DataFrame;
use sha2::{Digest, Sha256};

use crate::input::levels::{BoundaryFeature, BoundarySpec, LevelSpec};
use crate::input::points::{MemoryPoints, PointIds, PointsSpec};

/// The inputs of a run: the training points and the boundary levels.
///
/// ```no_run
/// use geo::wkt;
/// use geocells::input::levels::{BoundaryFeature, BoundarySpec, LevelSpec};
/// use geocells::input::points::PointsSpec;
/// use geocells::pipeline::inputs::Inputs;
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

/// The report entry of an input held in memory (`None` for a file): `role`, `path` (the
/// in-memory label), `kind` (`lonlat`, `dataframe` or `polygons`), `rows` or `features`, and
/// `sha256`, a deterministic SHA-256 of the data (`bytes` is null).
pub(crate) fn memory_input(
    role: &str,
    points: Option<&PointsSpec>,
    level: Option<&LevelSpec>,
) -> Option<crate::pipeline::report::InputFile> {
    let mut h = Sha256::new();
    let (path, kind, count_key, count) = if let Some(p) = points {
        let m = p.memory.as_ref()?;
        let kind = match m {
            MemoryPoints::LonLat { lon, lat, ids } => {
                hash_f64s(&mut h, lon);
                hash_f64s(&mut h, lat);
                match ids {
                    None => h.update(b"ids:rows"),
                    Some(PointIds::Int(v)) => {
                        h.update(b"ids:int");
                        for x in v {
                            h.update(x.to_le_bytes());
                        }
                    }
                    Some(PointIds::Str(v)) => {
                        h.update(b"ids:str");
                        for s in v {
                            hash_str(&mut h, s);
                        }
                    }
                }
                "lonlat"
            }
            MemoryPoints::Frame(df) => {
                hash_frame(&mut h, df);
                "dataframe"
            }
        };
        (&p.path, kind, "rows", m.len())
    } else {
        let l = level?;
        let features = l.features.as_ref()?;
        for f in features.iter() {
            hash_feature(&mut h, f);
        }
        (&l.path, "polygons", "features", features.len())
    };
    let (rows, features) = if count_key == "rows" {
        (Some(count), None)
    } else {
        (None, Some(count))
    };
    Some(crate::pipeline::report::InputFile {
        bytes: None,
        columns: None,
        features,
        kind: Some(kind.to_string()),
        path: path.display().to_string(),
        role: role.to_string(),
        rows,
        sha256: Some(format!("{:x}", h.finalize())),
    })
}

fn hash_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

fn hash_opt(h: &mut Sha256, s: &Option<String>) {
    match s {
        Some(s) => {
            h.update([1]);
            hash_str(h, s);
        }
        None => h.update([0]),
    }
}

fn hash_f64s(h: &mut Sha256, v: &[f64]) {
    h.update((v.len() as u64).to_le_bytes());
    for x in v {
        h.update(x.to_le_bytes());
    }
}

fn hash_feature(h: &mut Sha256, f: &BoundaryFeature) {
    hash_str(h, &f.code);
    for s in [
        &f.name,
        &f.admin1_code,
        &f.admin1_name,
        &f.country_code,
        &f.country_name,
    ] {
        hash_opt(h, s);
    }
    h.update((f.geometry.0.len() as u64).to_le_bytes());
    for p in &f.geometry.0 {
        h.update((p.interiors().len() as u64 + 1).to_le_bytes());
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            h.update((ring.0.len() as u64).to_le_bytes());
            for c in &ring.0 {
                h.update(c.x.to_le_bytes());
                h.update(c.y.to_le_bytes());
            }
        }
    }
}

/// Every column of `df`: its name, type and values as text (null marked apart).
fn hash_frame(h: &mut Sha256, df: &DataFrame) {
    h.update((df.height() as u64).to_le_bytes());
    for col in df.columns() {
        hash_str(h, col.name().as_str());
        hash_str(h, &col.dtype().to_string());
        let s = col.as_materialized_series();
        for i in 0..s.len() {
            match s.get(i) {
                Ok(v) if v.is_null() => h.update([0]),
                Ok(v) => {
                    h.update([1]);
                    hash_str(h, &v.to_string());
                }
                Err(_) => h.update([2]),
            }
        }
    }
}
