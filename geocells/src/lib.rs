//! # geocells
//!
//! Semantic geocells for image geolocation: turn a geotagged training set and administrative
//! boundaries into a partition of the land into cells of comparable sample counts, the
//! classification targets of PIGEON / StreetCLIP / OSV-5M style models.
//!
//! Every point is put in its admin area; one cell is made per area with points; areas without
//! points join the nearest cell, so the cells cover all land; cells below MINSIZE are fused with
//! neighbours (same admin-1 first, then the same country); cells above MAX are split: for each
//! OPTICS setting in turn the largest cluster of a cell's points is carved out as the union of
//! its points' Voronoi regions, and what OPTICS cannot split is divided by straight cuts or an
//! exact division of its locations. The result is byte-identical at any thread count.
//!
//! ## From files
//!
//! Points from a CSV or (Geo)Parquet file, boundaries from GeoJSON, GeoParquet or a shapefile
//! (here a small fixture shipped in `data/`: 514 GeoNames places around Armenia and
//! Azerbaijan and the 89 Natural Earth admin-1 areas of the two countries):
//!
//! ```
//! use geocells::{BoundarySpec, Inputs, LevelSpec, NoProgress, Params, Pipeline, PointsSpec};
//!
//! let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures/matrix");
//! let inputs = Inputs::new(
//!     PointsSpec::new(data.join("armenia_azerbaijan_geonames.csv")),
//!     BoundarySpec {
//!         admin1: Some(LevelSpec::admin1(data.join("armenia_azerbaijan.geojson"))),
//!         ..Default::default()
//!     },
//! );
//! let params = Params::default().min_size(10).max_size(40);
//! let run = Pipeline::new(params)?.run(&inputs, &NoProgress)?;
//! run.validate()?; // disjoint, covering, every point inside its own cell
//! assert!(run.cells().cells().iter().all(|c| c.size <= 40));
//! assert_eq!(run.point_cells().len() + run.rejects().len(), run.input_rows());
//!
//! // All outputs (cells.parquet, cells.geojson, points.parquet, targets.parquet, report.json,
//! // ...) into one directory, swapped in whole:
//! let out = std::env::temp_dir().join(format!("geocells-doc-{}", std::process::id()));
//! geocells::write_all(&run, &out)?;
//! assert!(geocells::check_output(&out)?.problems.is_empty());
//! # std::fs::remove_dir_all(&out).ok();
//! # Ok::<(), geocells::Error>(())
//! ```
//!
//! `cargo run --release --example build_cells` does the same from the command line on the
//! world data shipped in `data/`.
//!
//! ## From memory
//!
//! Points the program already holds (longitude and latitude vectors, or a polars `DataFrame`
//! with [`PointsSpec::frame`]) and boundaries as geo-types polygons with their codes and names;
//! nothing is read from or written to disk:
//!
//! ```
//! use geo_types::{MultiPolygon, Rect, coord};
//! use geocells::{BoundaryFeature, BoundarySpec, Inputs, LevelSpec, NoProgress, Params, Pipeline, PointsSpec};
//!
//! // Two provinces of one country, side by side.
//! let square = |x0: f64| -> MultiPolygon<f64> {
//!     Rect::new(coord! { x: x0, y: 0.0 }, coord! { x: x0 + 1.0, y: 1.0 }).to_polygon().into()
//! };
//! let provinces = [
//!     BoundaryFeature::new("W", square(0.0)).name("West").country("AAA", "Aland"),
//!     BoundaryFeature::new("E", square(1.0)).name("East").country("AAA", "Aland"),
//! ];
//! // 300 points on a grid, most of them in the west.
//! let (mut lon, mut lat) = (Vec::new(), Vec::new());
//! for i in 0..300 {
//!     let x = if i % 4 == 0 { 1.05 + 0.9 * ((i / 4) % 10) as f64 / 10.0 } else { 0.05 + 0.9 * (i % 17) as f64 / 17.0 };
//!     lon.push(x);
//!     lat.push(0.05 + 0.9 * (i % 13) as f64 / 13.0);
//! }
//! let inputs = Inputs::new(
//!     PointsSpec::lonlat(lon, lat),
//!     BoundarySpec { admin1: Some(LevelSpec::polygons(provinces)), ..Default::default() },
//! );
//! let run = Pipeline::new(Params::default().min_size(20).max_size(80))?.run(&inputs, &NoProgress)?;
//! run.validate()?;
//! assert!(run.cells().len() >= 300 / 80);
//! // Which cell holds each point, as a polars DataFrame (the columns of points.parquet):
//! let labels = run.labels_frame().expect("frame");
//! assert_eq!(labels.height(), 300);
//! # Ok::<(), geocells::Error>(())
//! ```
//!
//! `cargo run --release --example in_memory` prints such a run.
//!
//! ## What is where
//!
//! The crate root holds what a pipeline user needs: [`Pipeline`], [`Params`] (made of the
//! stage parameters [`AssignParams`], [`FuseParams`], [`SplitParams`], [`SmoothingParams`] and
//! checked once into [`ValidParams`]), [`Inputs`], the [`Run`] with its [`CellSet`] and typed
//! [`Report`], the writers ([`write_all`], [`check_output`]) and one error enum per stage
//! wrapped by [`Error`]. Three modules gather the lower-level pieces:
//! [`stages`] (each stage on its own, to compose another pipeline), [`algorithms`] (OPTICS,
//! Voronoi carving, overlay, geodesy, baselines, a seeded point generator) and [`files`]
//! (Parquet writing, atomic files, run ids, memory estimates).
//!
//! The source follows the data flow, one folder per stage (`docs/ARCHITECTURE.md`):
//! `input/` → `partition/` → `split/` → `output/` and `quality/`, composed by `pipeline/`,
//! on the shared geometry of `geom/`.
#![forbid(unsafe_code)]

mod error;
mod geom;
mod input;
mod memory;
mod output;
mod partition;
mod pipeline;
mod progress;
mod quality;
mod split;
mod synth;

// Running the pipeline.
pub use error::Error;
pub use pipeline::inputs::Inputs;
pub use pipeline::no_points::NoPointsError;
pub use pipeline::params::{Params, ParamsError, ValidParams};
pub use pipeline::report::Report;
pub use pipeline::run::{Pipeline, Run};
pub use progress::{NoProgress, Progress};

// Inputs: points and boundaries, from files or memory.
pub use input::admin::{AdminAreas, AdminError, AdminNotes};
pub use input::area::{Area, UNKNOWN_COUNTRY_CODE, UNKNOWN_COUNTRY_NAME};
pub use input::files::IoError;
pub use input::levels::{BoundaryFeature, BoundarySpec, Level, LevelSpec};
pub use input::points::{PointIds, Points, PointsSpec, Reject, RejectReason};

// The stages' parameters, results and errors.
pub use output::targets::{
    LabelsError, Smoother, SmoothingParams, SmoothingParamsError, smoothed_targets,
};
pub use partition::assign::{AssignError, AssignParams, AssignParamsError, CellLookup};
pub use partition::cells::{
    Cell, CellOrigin, CellSet, PointCells, ValidationError, ValidationReport,
};
pub use partition::fuse::{FuseError, FuseParams, FuseParamsError, SmallReason};
pub use split::optics::OpticsError;
pub use split::params::{
    Metric, PIGEON_SETTINGS, PIGEOTTO_SETTINGS, SplitError, SplitParams, SplitParamsError,
};
pub use split::report::{LeftAboveMax, SettingReport, SplitReport, Unsplittable};
pub use split::voronoi::VoronoiError;

// Outputs.
pub use output::dir::{
    OutputCheck, OutputDir, OutputError, RUN_FILES, check as check_output,
    recover as recover_output,
};
pub use output::error::ExportError;
pub use output::export::{
    ExportOptions, Written, write_all, write_all_with, write_failed_run, write_run,
};
pub use output::map::bbox::{MAP_REGIONS, check_bbox as check_map_bbox, parse_map_bbox};
pub use output::map::render::{MapColour, MapParams};

// Quality, the per-country runs and assigning once.
pub use pipeline::assign_once::prepare_dataset_dir;
pub use pipeline::assigned::{
    AssignedDataset, AssignedError, DatasetFile, Manifest as AssignedManifest, Partition,
};
pub use pipeline::merge::MergeError;
pub use quality::metrics::{
    Accuracy, ErrorStats, EvaluateError, Evaluation, PartitionQuality, Predicted, evaluate_file,
    partition_quality, prediction_metrics,
};

/// Result type of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Each stage on its own, for a pipeline of your own: read, build the admin areas, assign,
/// build the area graph, plan the fused cells, split. [`Pipeline::run`] chains them.
pub mod stages {
    pub use crate::input::admin::build_areas;
    pub use crate::input::boundaries::{
        BoundaryFile, Feature, read_boundaries, read_boundaries_with,
    };
    pub use crate::input::points::{PointsRead, read_points};
    pub use crate::partition::assign::{AreaIndex, Placement, assign_points};
    pub use crate::partition::fuse::{CellPlan, DEFAULT_FUSE_MAX_KM, anchor, plan_cells};
    pub use crate::partition::graph::Adjacency;
    pub use crate::split::driver::split_cells;
    pub use crate::split::report::SplitOutcome;
}

/// The algorithms under the stages, usable on their own: OPTICS with xi extraction (checked
/// against scikit-learn), Voronoi carving of a cluster on the sphere, polygon overlay on one
/// global grid, distances on the sphere, polygon validity, the baselines the report compares
/// with, and a seeded point generator.
pub mod algorithms {
    pub use crate::geom::geodesy::{EARTH_RADIUS_KM, KM_PER_DEG, haversine_km, spherical_mean};
    pub use crate::geom::measure::distance_to_boundary_km;
    pub use crate::geom::overlay::{difference, intersection, snap, union};
    pub use crate::geom::repair::is_valid_fast;
    pub use crate::output::map::render::{LonWindow, lon_window};
    pub use crate::quality::baselines::{H3Partition, Quadtree, h3_partition, quadtree};
    pub use crate::quality::metrics::{entropy, error_stats, geoguessr_score, gini};
    pub use crate::split::division::{Locations, Subset, subset_in_range};
    pub use crate::split::optics::{
        Optics, OpticsParams, optics_planar, optics_planar_fast, optics_sphere,
        optics_sphere_known, optics_sphere_reference,
    };
    pub use crate::split::voronoi::{LocalProjection, cluster_region};
    pub use crate::synth::{SplitMix64, geonames_places, scatter};
}

/// Files at a lower level than [`write_all`]: Parquet tables and atomic writes, the run id and
/// the keys that carry it, the pieces `assign_cells` and the examples use, memory estimates
/// and coordinate reference systems.
pub mod files {
    pub use crate::input::columns::Profile;
    pub use crate::input::crs::{
        projjson_is_lonlat, projjson_name, reprojector, wkt_is_wgs84_lonlat, wkt_name,
    };
    pub use crate::memory::{available_bytes, map_bytes, points_rows, run_bytes};
    pub use crate::output::atomic::write_atomic;
    pub use crate::output::dir::{
        Hook, INPUT_ROWS_KEY, OutputFile, RUN_ID_KEY, assignment_run_id, check_assigned, run_id,
    };
    pub use crate::output::map::render::{MAX_PIXELS, MAX_WIDTH};
    pub use crate::output::parquet::{Column, geo_metadata, write_parquet};
    pub use crate::output::points_files::{
        write_located_parquet, write_lonlat_parquet, write_rejects_parquet,
    };
    pub use crate::output::report::report_markdown;
}
