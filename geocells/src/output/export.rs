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
use crate::output::points_files::{write_points_parquet, write_rejects_parquet};
use crate::output::targets_file::write_targets_parquet;
use crate::pipeline::run::Run;

/// `report.md`: the report's main numbers for a reader: counts, the split per setting, and the
/// partition quality of the semantic cells next to each baseline at about the same number of
/// cells. Made from the `report.json` value, so the two always agree.
pub fn report_markdown(report: &serde_json::Value) -> String {
    use std::fmt::Write as _;
    let mut md = String::from("# geocells report\n\n");
    if let Some(id) = report["run_id"].as_str() {
        let _ = writeln!(md, "Run id ({RUN_ID_KEY}): `{id}`\n");
    }
    let c = &report["counts"];
    let _ = writeln!(
        md,
        "{} input rows: {} labelled ({} snapped to land), {} rejected. {} admin areas, {} admin cells after the fuse ({} above MAX), **{} cells** ({} below MINSIZE, {} above MAX).\n",
        c["input_rows"],
        c["points_labelled"],
        c["points_snapped"],
        c["rejects"],
        c["areas"],
        c["admin_cells"],
        c["admin_cells_above_max"],
        c["cells"],
        c["cells_below_min"],
        c["cells_above_max"]
    );
    if let Some(w) = report["warnings"].as_array().filter(|w| !w.is_empty()) {
        md.push_str("Warnings:\n\n");
        for x in w {
            let _ = writeln!(md, "* {}", x.as_str().unwrap_or_default());
        }
        md.push('\n');
    }
    let p = &report["params"];
    let _ = writeln!(md, "{}\n", settings_sentence(p));
    let admin = &report["admin"];
    let fuse = &report["fuse"];
    let guard = match p["fuse_max_km"].as_f64() {
        Some(km) => format!(
            "{} island cell(s) kept from a cell of their country more than {km} km away",
            fuse["guard"].as_array().map_or(0, Vec::len)
        ),
        None => {
            "fuse guard off (islands join the nearest cell of their country, as in PIGEON)".into()
        }
    };
    let _ = writeln!(
        md,
        "Boundaries: {} overlap(s) between areas resolved ({:.3} km²), {} gap(s) inside countries ({:.3} km²); {guard}.\n",
        admin["overlaps_resolved"]["count"].as_u64().unwrap_or(0),
        admin["overlaps_resolved"]["km2"].as_f64().unwrap_or(0.0),
        admin["gaps"]["count"].as_u64().unwrap_or(0),
        admin["gaps"]["km2"].as_f64().unwrap_or(0.0),
    );
    if report["split"].is_null() && p["split"].as_bool() == Some(false) {
        md.push_str("Split off: cells above MAX were left as the fuse made them.\n\n");
    }
    if let Some(settings) = report["split"]["settings"].as_array() {
        md.push_str("## Split\n\n| OPTICS setting | cells above MAX before | cells split | carves | above MAX after |\n| --- | ---: | ---: | ---: | ---: |\n");
        for s in settings {
            let _ = writeln!(
                md,
                "| ({}, {}) | {} | {} | {} | {} |",
                s["min_samples"],
                s["xi"],
                s["above_max_before"],
                s["cells_split"],
                s["carves"],
                s["above_max_after"]
            );
        }
        let sp = &report["split"];
        let fallback = if p["fallback"].as_bool() == Some(false) {
            "off".to_string()
        } else {
            format!("{} carves", sp["fallback_carves"])
        };
        let _ = writeln!(
            md,
            "\nFallback (straight cuts, then an exact division of the locations): {fallback}; cells above MAX at the end: {}.\n",
            sp["above_max_after"]
        );
    }
    let mut columns: Vec<(String, &serde_json::Value)> =
        vec![("semantic cells".to_string(), &report["quality"])];
    if let Some(b) = report["baselines"].as_array() {
        for x in b {
            columns.push((
                format!(
                    "{} ({})",
                    x["name"].as_str().unwrap_or("baseline"),
                    x["parameter"].as_str().unwrap_or("")
                ),
                &x["quality"],
            ));
        }
    }
    md.push_str("## Partition quality\n\n| | ");
    md.push_str(
        &columns
            .iter()
            .map(|c| c.0.clone())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    md.push_str(" |\n| --- |");
    md.push_str(&" ---: |".repeat(columns.len()));
    md.push('\n');
    let num = |v: &serde_json::Value, digits: usize| {
        v.as_f64()
            .map_or_else(|| "n/a".to_string(), |x| format!("{x:.digits$}"))
    };
    type Row<'a> = (&'a str, Box<dyn Fn(&serde_json::Value) -> String + 'a>);
    let rows: Vec<Row> = vec![
        (
            "cells",
            Box::new(|q: &serde_json::Value| q["cells"].to_string()),
        ),
        (
            "Gini of sizes",
            Box::new(move |q: &serde_json::Value| num(&q["gini"], 3)),
        ),
        (
            "normalised entropy",
            Box::new(move |q: &serde_json::Value| num(&q["entropy_normalised"], 4)),
        ),
        (
            "effective classes",
            Box::new(move |q: &serde_json::Value| num(&q["effective_classes"], 0)),
        ),
        (
            "median km to cell centroid",
            Box::new(move |q: &serde_json::Value| num(&q["quantization"]["median_km"], 1)),
        ),
        (
            "mean km to cell centroid",
            Box::new(move |q: &serde_json::Value| num(&q["quantization"]["mean_km"], 1)),
        ),
        (
            "oracle GeoGuessr score",
            Box::new(move |q: &serde_json::Value| num(&q["quantization"]["geoguessr"], 0)),
        ),
    ];
    for (name, f) in &rows {
        let _ = writeln!(
            md,
            "| {name} | {} |",
            columns
                .iter()
                .map(|c| f(c.1))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    for (k, km) in crate::quality::metrics::THRESHOLDS_KM.iter().enumerate() {
        let _ = writeln!(
            md,
            "| oracle accuracy at {km} km | {} |",
            columns
                .iter()
                .map(|c| num(&c.1["quantization"]["accuracy"][k]["fraction"], 4))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    md.push_str("\nOracle: every point predicted as its cell's centroid (the best a classifier over these cells can do).\n");
    if columns.iter().any(|c| c.0.starts_with("H3")) {
        md.push_str("H3 cell counts grow about sevenfold per resolution; the resolution shown is the one whose count of occupied cells is closest to the semantic cells'.\n");
    }
    md
}

/// The fields of `report.json`'s `params` overridden after choosing the preset
/// ([`crate::pipeline::params::Params::preset_overrides`]).
fn preset_overrides(p: &serde_json::Value) -> Vec<&str> {
    p["preset_overrides"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default()
}

/// OPTICS settings from `report.json`'s `params.optics` as `(8, 0.05) (10, 0.025)`.
fn optics_settings(v: &serde_json::Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| format!("({}, {})", s["min_samples"], s["xi"]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The sentence of `report.md` that says which settings ran (from `report.json`'s `params`):
/// the preset's, the preset's with some values overridden (each shown with the preset's value),
/// or custom settings (no preset).
fn settings_sentence(p: &serde_json::Value) -> String {
    let metric = p["metric"].as_str().unwrap_or("n/a");
    let overrides = preset_overrides(p);
    let Some(name) = p["preset"].as_str() else {
        return format!(
            "Custom settings (no preset): MINSIZE {}, MAX {}, OPTICS settings {}, OPTICS metric {metric}.",
            p["min_size"],
            p["max_size"],
            optics_settings(&p["optics"])
        );
    };
    if overrides.is_empty() {
        return format!(
            "Preset `{name}`: MINSIZE {}, MAX {}, OPTICS metric {metric}.",
            p["min_size"], p["max_size"]
        );
    }
    // The preset's own values, to show next to the ones that replaced them.
    let preset = crate::pipeline::params::Params::preset(name)
        .map(|q| q.report_json())
        .unwrap_or_default();
    let shown = |key: &str, label: &str, value: String, preset_value: String| {
        if overrides.contains(&key) && !preset.is_null() {
            format!("{label} {value} (preset {preset_value})")
        } else {
            format!("{label} {value}")
        }
    };
    let mut parts = vec![
        shown(
            "min_size",
            "MINSIZE",
            p["min_size"].to_string(),
            preset["min_size"].to_string(),
        ),
        shown(
            "max_size",
            "MAX",
            p["max_size"].to_string(),
            preset["max_size"].to_string(),
        ),
    ];
    if overrides.contains(&"optics") {
        parts.push(shown(
            "optics",
            "OPTICS settings",
            optics_settings(&p["optics"]),
            optics_settings(&preset["optics"]),
        ));
    }
    parts.push(format!("OPTICS metric {metric}"));
    let names: Vec<&str> = overrides
        .iter()
        .map(|k| match *k {
            "min_size" => "MINSIZE",
            "max_size" => "MAX",
            "optics" => "the OPTICS settings",
            other => other,
        })
        .collect();
    format!(
        "Preset `{name}` with {} overridden: {}.",
        and_list(&names),
        parts.join(", ")
    )
}

/// Writes `report.json` (pretty-printed).
pub fn write_report(report: &serde_json::Value, path: &Path) -> Result<(), ExportError> {
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
    pub fn map(mut self, v: crate::output::map::render::MapParams) -> Self {
        self.map = v;
        self
    }
}

/// The caption of `map.png`: cell and point counts, the settings (preset, which of its values
/// were overridden, or custom) and what the colours mean.
pub fn map_caption(report: &serde_json::Value) -> Vec<String> {
    let c = &report["counts"];
    let p = &report["params"];
    let overrides: Vec<&str> = preset_overrides(p)
        .into_iter()
        .map(|k| match k {
            "min_size" => "MIN",
            "max_size" => "MAX",
            "optics" => "OPTICS",
            other => other,
        })
        .collect();
    let settings = match p["preset"].as_str() {
        None => "CUSTOM SETTINGS".to_string(),
        Some(name) if overrides.is_empty() => format!("PRESET {name}"),
        Some(name) => format!("PRESET {name} WITH {} OVERRIDDEN", overrides.join(", ")),
    };
    let mut lines = vec![format!(
        "GEOCELLS {}: {} CELLS, {} POINTS, {settings} (MIN {}, MAX {})",
        env!("CARGO_PKG_VERSION"),
        c["cells"],
        c["points_labelled"],
        p["min_size"],
        p["max_size"],
    )];
    lines.push("FILL: ONE COLOUR PER CELL (AS IN CELLS.QML). LINES: CELL BORDERS.".into());
    lines
}

/// Writes every output of a run into `dir` with default [`ExportOptions`]; see
/// [`write_all_with`].
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

/// The export options that shape the files, for the run id.
fn options_json(options: &ExportOptions) -> serde_json::Value {
    serde_json::json!({
        "map_width": options.map.width,
        "map_points": options.map.points,
        "map_caption": options.map.caption,
        "map_scale_bar": options.map.scale_bar,
    })
}

/// Writes every output of a run into the staging directory of `out` and swaps it in
/// ([`OutputDir::commit`]): `cells.parquet`, `cells.geojson`, `cells.qml` (its QGIS style, see
/// [`crate::output::qml`]), `points.parquet`, `targets.parquet`, `rejects.parquet` (no rows when
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
    let run_id = crate::output::dir::run_id(&run.report, &options_json(options));
    let dir = out.staging().to_path_buf();
    let mut report = run.report.clone();
    report["run_id"] = run_id.clone().into();
    report["status"] = "complete".into();
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
        map.caption = map_caption(&run.report);
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
    let md = report_markdown(&report);
    write_atomic(&dir.join("report.md"), |w| {
        w.write_all(md.as_bytes()).map_err(|e| e.to_string())
    })?;
    staged("report.md")?;
    if let Some(t) = report["timings_s"].as_object_mut() {
        let s = started.elapsed().as_secs_f64();
        t.insert("export".into(), ((s * 1000.0).round() / 1000.0).into());
    }
    finish(report, &names, out)
}

/// Adds the manifest of the staged `names` to `report`, writes it as `report.json` (the last
/// file) and swaps the staging directory in.
fn finish(
    mut report: serde_json::Value,
    names: &[&'static str],
    out: OutputDir,
) -> Result<Written, ExportError> {
    let mut manifest = Vec::with_capacity(names.len());
    for name in names {
        let (sha256, bytes) = crate::output::dir::file_digest(&out.staging().join(name))?;
        manifest.push(serde_json::json!({"file": name, "bytes": bytes, "sha256": sha256}));
    }
    report["outputs"] = manifest.into();
    write_report(&report, &out.staging().join("report.json"))?;
    out.checkpoint("report.json")?;
    let target = out.commit()?;
    let mut files: Vec<PathBuf> = names.iter().map(|n| target.join(n)).collect();
    files.push(target.join("report.json"));
    Ok(Written { files })
}

/// Writes the outputs of a run that could label no point ([`crate::pipeline::run::NoPointsError`])
/// as one unit, like [`write_run`]: `rejects.parquet` (every input row with its reason) and
/// `report.json` (`status: "failed"`, the error, the counts, the run id and the manifest).
/// An output directory thus always says what its last run did.
///
/// # Errors
/// [`ExportError`] naming the file that could not be written; the target is then unchanged.
pub fn write_failed_run(
    failure: &crate::pipeline::run::NoPointsError,
    out: OutputDir,
) -> Result<Written, ExportError> {
    let mut report = failure.report.clone();
    let run_id = crate::output::dir::run_id(&report, &serde_json::json!("failed"));
    report["run_id"] = run_id.clone().into();
    report["status"] = "failed".into();
    report["error"] = failure.to_string().into();
    write_rejects_parquet(
        &failure.rejects,
        &out.staging().join("rejects.parquet"),
        &run_id,
    )?;
    out.checkpoint("rejects.parquet")?;
    finish(report, &["rejects.parquet"], out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::params::Params;

    /// A report with `params` and a split that made 3 fallback carves (or none: split off).
    fn report(params: &Params) -> serde_json::Value {
        serde_json::json!({
            "params": params.report_json(),
            "counts": {"cells": 7, "points_labelled": 100},
            "split": params.split_enabled.then(|| serde_json::json!({
                "settings": [], "fallback_carves": 3, "above_max_after": 0,
            })),
            "quality": {},
            "baselines": [],
        })
    }

    #[test]
    fn report_md_names_the_preset_only_when_its_values_ran() {
        let md = |p: &Params| report_markdown(&report(p));
        let plain = md(&Params::default());
        assert!(
            plain.contains("\nPreset `pigeon`: MINSIZE 30, MAX 60, OPTICS metric sphere.\n"),
            "{plain}"
        );
        assert!(plain.contains("\nFallback (straight cuts, then an exact division of the locations): 3 carves; cells above MAX"));
        // Overridden sizes: each next to the preset's.
        let sizes = md(&Params::default().min_size(5).max_size(10));
        assert!(
            sizes.contains(
                "\nPreset `pigeon` with MINSIZE and MAX overridden: MINSIZE 5 (preset 30), MAX 10 (preset 60), OPTICS metric sphere.\n"
            ),
            "{sizes}"
        );
        let one = md(&Params::preset("pigeotto").expect("preset").max_size(5000));
        assert!(
            one.contains("Preset `pigeotto` with MAX overridden: MINSIZE 1000, MAX 5000 (preset 2000), OPTICS metric sphere."),
            "{one}"
        );
        let optics = md(&Params::default().optics(vec![(5, 0.1)]));
        assert!(
            optics.contains(
                "Preset `pigeon` with the OPTICS settings overridden: MINSIZE 30, MAX 60, OPTICS settings (5, 0.1) (preset (8, 0.05) (10, 0.025) (15, 0.015)), OPTICS metric sphere."
            ),
            "{optics}"
        );
        // No preset at all.
        let custom = Params {
            preset: None,
            ..Params::default().min_size(5).max_size(10)
        };
        let text = md(&custom);
        assert!(
            text.contains(
                "Custom settings (no preset): MINSIZE 5, MAX 10, OPTICS settings (8, 0.05) (10, 0.025) (15, 0.015), OPTICS metric sphere."
            ),
            "{text}"
        );
        assert!(!text.contains("Preset"));
        // The fallback and the split, when off, say so.
        let no_fallback = md(&Params::default().fallback(false));
        assert!(
            no_fallback
                .contains("\nFallback (straight cuts, then an exact division of the locations): off; cells above MAX at the end: 0.\n"),
            "{no_fallback}"
        );
        let no_split = md(&Params::default().split(false));
        assert!(no_split.contains("Split off:"), "{no_split}");
        assert!(!no_split.contains("Fallback"));
    }

    #[test]
    fn report_md_lists_the_warnings_and_the_run_id() {
        let mut r = report(&Params::default());
        r["run_id"] = "0123456789abcdef".into();
        r["warnings"] = serde_json::json!(["a.shp: no .prj file; read as lon/lat"]);
        let md = report_markdown(&r);
        assert!(
            md.contains("Run id (geocells:run_id): `0123456789abcdef`"),
            "{md}"
        );
        assert!(
            md.contains("Warnings:\n\n* a.shp: no .prj file; read as lon/lat\n"),
            "{md}"
        );
        r["warnings"] = serde_json::json!([]);
        assert!(!report_markdown(&r).contains("Warnings"));
    }

    #[test]
    fn the_map_caption_names_overrides_too() {
        let caption = |p: &Params| map_caption(&report(p))[0].clone();
        assert!(caption(&Params::default()).ends_with("PRESET pigeon (MIN 30, MAX 60)"));
        assert!(
            caption(&Params::default().min_size(5).max_size(10))
                .ends_with("PRESET pigeon WITH MIN, MAX OVERRIDDEN (MIN 5, MAX 10)")
        );
        let custom = Params {
            preset: None,
            ..Params::default()
        };
        assert!(caption(&custom).ends_with("CUSTOM SETTINGS (MIN 30, MAX 60)"));
    }
}
