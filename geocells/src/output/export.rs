//! Writing a run: every output of a run into its output directory as one unit ([`write_run`],
//! [`write_all`]), each file atomically ([`crate::output::atomic`]):
//!
//! * `cells.parquet` and `cells.geojson`: the cells ([`crate::output::cells_files`]);
//! * `cells.qml`: the QGIS style QGIS loads with `cells.geojson` (one colour per cell, as in
//!   `map.png`, up to [`crate::output::qml::MAX_CATEGORIES`] cells; [`crate::output::qml`]);
//! * `points.parquet`: one row per labelled point: input id and row, lon, lat, cell_id, snap
//!   distance, admin codes and names ([`crate::output::points_files`]);
//! * `targets.parquet`: label-smoothing targets, top-k (cell_id, weight) per point
//!   ([`crate::output::targets_file`]);
//! * `rejects.parquet`: one row per rejected input row with its reason (no rows when nothing
//!   was rejected; [`crate::output::points_files`]);
//! * `report.json`: parameters, input hashes, counts, split, quality and baselines, size
//!   distribution, repairs, timings; `report.md` the same for a reader;
//! * `map.png`: a preview map ([`crate::output::map`]).
//!
//! Parquet is written by [`crate::output::parquet`]: identical inputs give byte-identical files.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::output::atomic::write_atomic;
use crate::output::cells_files::{write_cells_geojson, write_cells_parquet};
use crate::output::dir::{OutputDir, RUN_ID_KEY};
use crate::output::error::ExportError;
use crate::output::map::render::MapColour;
use crate::output::points_files::{write_points_parquet, write_rejects_parquet};
use crate::output::targets_file::write_targets_parquet;
use crate::pipeline::report::{OutputFile, Report};
use crate::pipeline::run::Run;

/// Writes `report.json` (pretty-printed).
pub fn write_report(report: &Report, path: &Path) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, report).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(|e| e.to_string())
    })
}

/// Files written by [`write_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Paths written, in order (in the output directory, after the swap).
    pub files: Vec<PathBuf>,
}

/// Output choices for [`write_all_with`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportOptions {
    /// How `map.png` is drawn; an empty caption is filled in from the report.
    pub map: crate::output::map::render::MapParams,
}

impl ExportOptions {
    /// Sets [`ExportOptions::map`].
    #[must_use]
    pub fn map(mut self, v: crate::output::map::render::MapParams) -> Self {
        self.map = v;
        self
    }
}

/// Writes every output of a run into `dir` with default [`ExportOptions`]; see
/// [`write_all_with`].
///
/// ```
/// # use geocells::{BoundarySpec, Inputs, LevelSpec, NoProgress, Params, Pipeline, PointsSpec};
/// # let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures/matrix");
/// # let inputs = Inputs::new(
/// #     PointsSpec::new(data.join("armenia_azerbaijan_geonames.csv")),
/// #     BoundarySpec { admin1: Some(LevelSpec::admin1(data.join("armenia_azerbaijan.geojson"))), ..Default::default() },
/// # );
/// let run = Pipeline::new(Params::default().min_size(10).max_size(40))?.run(&inputs, &NoProgress)?;
/// let out = std::env::temp_dir().join(format!("geocells-write-all-{}", std::process::id()));
/// let written = geocells::write_all(&run, &out)?;
/// assert_eq!(written.files.len(), geocells::RUN_FILES.len());
/// assert!(out.join("cells.parquet").is_file() && out.join("report.json").is_file());
/// # std::fs::remove_dir_all(&out).ok();
/// # Ok::<(), geocells::Error>(())
/// ```
///
/// # Errors
/// [`ExportError`] naming the file that could not be written.
pub fn write_all(run: &Run, dir: &Path) -> Result<Written, ExportError> {
    write_all_with(run, dir, &ExportOptions::default())
}

/// Writes every output of a run into `dir` as one unit ([`OutputDir::prepare`], then
/// [`write_run`]): `dir` afterwards holds this run's complete set of files, or, if anything
/// failed, still the earlier run's.
///
/// # Errors
/// [`ExportError::Output`] when `dir` cannot be an output directory (a file, foreign files,
/// another run writing it) and [`ExportError`] naming the file that could not be written.
pub fn write_all_with(
    run: &Run,
    dir: &Path,
    options: &ExportOptions,
) -> Result<Written, ExportError> {
    write_run(run, OutputDir::prepare(dir)?, options)
}

/// The export options that shape the files, for the run id. The map's box and colouring are
/// named only when set, so that a run with the default map keeps its run id.
fn options_json(options: &ExportOptions) -> serde_json::Value {
    let mut json = serde_json::json!({
        "map_width": options.map.width,
        "map_points": options.map.points,
        "map_caption": options.map.caption,
        "map_scale_bar": options.map.scale_bar,
    });
    if let Some(b) = options.map.bbox {
        json["map_bbox"] = serde_json::json!(b);
    }
    if options.map.colour != MapColour::Cell {
        json["map_colour"] = serde_json::json!(options.map.colour.name());
    }
    json
}

/// Writes every output of a run into the staging directory of `out` and swaps it in
/// ([`OutputDir::commit`]): `cells.parquet`, `cells.geojson`, `cells.qml` (its QGIS style, see
/// `output::qml`), `points.parquet`, `targets.parquet`, `rejects.parquet` (no rows when
/// nothing was rejected), `map.png`, `report.md`, and last `report.json`, which gets the run
/// id ([`crate::output::dir::run_id`]), `status: "complete"`, the export time in `timings_s` and
/// the manifest `outputs` (each file's name, bytes and SHA-256; see [`crate::output::dir::check`]).
/// Every file carries the run id.
///
/// # Errors
/// [`ExportError`] naming the file that could not be written; the target is then unchanged.
pub fn write_run(
    run: &Run,
    out: OutputDir,
    options: &ExportOptions,
) -> Result<Written, ExportError> {
    let started = std::time::Instant::now();
    // Map options are checked before any file is written.
    options.map.validate()?;
    let run_id = crate::output::dir::run_id(&run.report.to_value(), &options_json(options));
    let dir = out.staging().to_path_buf();
    let mut report = run.report.clone();
    report.run_id = Some(run_id.clone());
    report.status = Some("complete".into());
    let codes: Vec<String> = run.areas.areas.iter().map(|a| a.code.clone()).collect();
    let mut names = Vec::new();
    let mut staged = |name: &'static str| -> Result<(), ExportError> {
        out.checkpoint(name)?;
        names.push(name);
        Ok(())
    };
    write_cells_parquet(&run.cells, &dir.join("cells.parquet"), &codes, &run_id)?;
    staged("cells.parquet")?;
    write_cells_geojson(&run.cells, &dir.join("cells.geojson"), &run_id)?;
    staged("cells.geojson")?;
    crate::output::qml::write_qml(&run.cells, &dir.join("cells.qml"), &run_id)?;
    staged("cells.qml")?;
    write_points_parquet(run, &dir.join("points.parquet"), &run_id)?;
    staged("points.parquet")?;
    write_targets_parquet(run, &dir.join("targets.parquet"), &run_id)?;
    staged("targets.parquet")?;
    write_rejects_parquet(&run.rejects, &dir.join("rejects.parquet"), &run_id)?;
    staged("rejects.parquet")?;
    let mut map = options.map.clone();
    if map.caption.is_empty() {
        map.caption = crate::output::report::map_caption(&run.report, &map);
        if map.points {
            map.caption.push("DOTS: LABELLED POINTS.".into());
        }
    }
    map.text = vec![(RUN_ID_KEY.to_string(), run_id.clone())];
    let lonlat: Vec<(f64, f64)> = if map.points {
        let l = &run.labels.points;
        (0..l.len()).map(|i| (l.lon[i], l.lat[i])).collect()
    } else {
        Vec::new()
    };
    crate::output::map::render::write_map(&run.cells, &lonlat, &map, &dir.join("map.png"))?;
    staged("map.png")?;
    let md = crate::output::report::report_markdown(&report);
    write_atomic(&dir.join("report.md"), |w| {
        w.write_all(md.as_bytes()).map_err(|e| e.to_string())
    })?;
    staged("report.md")?;
    if let Some(t) = report.timings_s.as_mut() {
        let s = started.elapsed().as_secs_f64();
        t.insert("export".into(), (s * 1000.0).round() / 1000.0);
    }
    finish(report, &names, out)
}

/// Adds the manifest of the staged `names` to `report`, writes it as `report.json` (the last
/// file) and swaps the staging directory in.
fn finish(
    mut report: Report,
    names: &[&'static str],
    out: OutputDir,
) -> Result<Written, ExportError> {
    let mut manifest = Vec::with_capacity(names.len());
    for name in names {
        let (sha256, bytes) = crate::output::dir::file_digest(&out.staging().join(name))?;
        manifest.push(OutputFile {
            bytes,
            file: (*name).to_string(),
            sha256,
        });
    }
    report.outputs = Some(manifest);
    write_report(&report, &out.staging().join("report.json"))?;
    out.checkpoint("report.json")?;
    let target = out.commit()?;
    let mut files: Vec<PathBuf> = names.iter().map(|n| target.join(n)).collect();
    files.push(target.join("report.json"));
    Ok(Written { files })
}

/// Writes the outputs of a run that could label no point ([`crate::pipeline::no_points::NoPointsError`])
/// as one unit, like [`write_run`]: `rejects.parquet` (every input row with its reason) and
/// `report.json` (`status: "failed"`, the error, the counts, the run id and the manifest).
/// An output directory thus always says what its last run did.
///
/// # Errors
/// [`ExportError`] naming the file that could not be written; the target is then unchanged.
pub fn write_failed_run(
    failure: &crate::pipeline::no_points::NoPointsError,
    out: OutputDir,
) -> Result<Written, ExportError> {
    let mut report = failure.report.clone();
    let run_id = crate::output::dir::run_id(&report.to_value(), &serde_json::json!("failed"));
    report.run_id = Some(run_id.clone());
    report.status = Some("failed".into());
    report.error = Some(failure.to_string());
    write_rejects_parquet(
        &failure.rejects,
        &out.staging().join("rejects.parquet"),
        &run_id,
    )?;
    out.checkpoint("rejects.parquet")?;
    finish(report, &["rejects.parquet"], out)
}
