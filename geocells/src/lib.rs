//! # geocells
//!
//! Semantic geocells for image geolocation: turn a geotagged training set and administrative
//! boundaries into a partition of the land into cells of comparable sample counts, the
//! classification targets of PIGEON / StreetCLIP / OSV-5M style models.
//!
//! The modules follow the data flow; read them top to bottom:
//!
//! | stage | module | what it does |
//! | --- | --- | --- |
//! | read | [`io`] | points (GeoParquet WKB, Parquet/CSV lon/lat) and boundaries (GeoParquet, GeoJSON, Shapefile) |
//! | admin | [`admin`] | builds the finest admin areas from one to three levels; repairs, splits at the antimeridian |
//! | | [`topology`] | resolves overlaps between areas (the first area keeps them) and measures the gaps |
//! | assign | [`assign`] | puts every point in its area (R-tree + exact point-in-polygon), snaps or rejects the rest |
//! | graph | [`graph`] | area adjacency with shared-border lengths, computed once |
//! | fuse | [`fuse`] | initial cells, empty areas attached, small cells fused (PIGEON's tiers) on the graph |
//! | cells | [`cells`] | the admin cells: polygons built once, statistics, [`cells::CellSet::validate`] |
//! | split | [`split`] | cells above MAX: OPTICS clusters ([`optics`]) carved as Voronoi regions ([`voronoi`]), 2-means fallback |
//! | labels / metrics | [`labels`], [`metrics`] | haversine label smoothing targets; prediction and partition metrics |
//! | export | [`export`] | GeoParquet, GeoJSON, point labels, rejects, `report.json`, all written atomically |
//! | | [`output`] | the output directory as one unit: lock, staging directory swapped in, run id, [`output::check`] |
//! | pipeline | [`pipeline`] | composes the stages with one [`pipeline::Params`] |
//! | merge | [`merge`] | runs restricted to some countries, and their merge into the single run's outputs |
//!
//! Baselines to compare with: [`baselines`] (H3 and an adaptive quadtree at about the same
//! number of cells).
//!
//! Review: [`map`] draws a PNG preview; [`qml`] writes a QGIS layer style (`cells.qml`) in the
//! same colours for `cells.geojson` (see `docs/qgis.md`).
//!
//! Supporting modules: [`geodesy`] (distances on the sphere), [`overlay`] (polygon unions on one
//! global grid), [`synth`] (a seeded point generator), [`memory`] (estimates checked before big
//! allocations) and [`error`].
//!
//! ```no_run
//! use geocells::pipeline::{Inputs, Params, Pipeline};
//! let inputs = Inputs::default_data(".");
//! let run = Pipeline::new(Params::default())?.run(&inputs, &geocells::pipeline::NoProgress)?;
//! run.validate()?;
//! geocells::export::write_all(&run, std::path::Path::new("out"))?;
//! # Ok::<(), geocells::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::unwrap_used)]

pub mod error;
pub mod geom;
pub mod input;
pub mod memory;
pub mod output;
pub mod partition;
pub mod pipeline;
pub mod progress;
pub mod quality;
pub mod split;
pub mod synth;

pub use error::Error;

/// Result type of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
