//! Runs per country and their merge: the split, the one expensive stage, in pieces.
//!
//! Cells never interact across countries: the fuse never joins cells of two countries, and the
//! split works inside one admin cell (a *family*) at a time. So a run restricted to some
//! countries ([`crate::pipeline::params::Params::countries`]) splits exactly the families of those
//! countries, exactly as the whole run would. Such a run still reads every point and every
//! boundary and runs the cheap global stages (assign, graph, fuse, admin cells: a few seconds
//! per million points), because which admin cell a country's points end in depends on all of
//! them (an empty neighbouring country may join one of its cells); then it splits and writes
//! only its countries' cells and points, ids dense within the run, `family_id` global.
//!
//! [`crate::pipeline::run::Pipeline::merge`] reruns the global stages, takes every split family from
//! the run that made it ([`read_shard`], [`split_from_shards`]: the parts' polygons from
//! `cells.parquet`, their points from `points.parquet`, the split figures from `report.json`)
//! and assembles the partition with the same code as the split itself
//! ([`crate::split::driver::assemble_outcome`]). Cell ids, polygons, labels, targets and reports are
//! then those of the single run, byte for byte; a test checks it.
//!
//! Each shard is checked against the merge's own parameters and input hashes, every split
//! family must come from exactly one shard, and its parts must hold exactly the family's points.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo_types::MultiPolygon;
use thiserror::Error;

use crate::input::area::Area;
use crate::partition::cells::{CellOrigin, CellSet, PointCells};
use crate::partition::fuse::CellPlan;
use crate::split::driver::assemble_outcome;
use crate::split::report::{SettingReport, SplitFamily, SplitOutcome, SplitPart, SplitReport};

/// Errors of per-country runs and of the merge.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A requested country matches no admin cell.
    #[error(
        "--countries: '{requested}' matches no country code or name of a cell with points (for example: {examples})"
    )]
    UnknownCountry {
        /// What was asked for.
        requested: String,
        /// Some codes that exist.
        examples: String,
    },
    /// A shard directory lacks a file or has an unreadable one.
    #[error("shard {dir}: {message}")]
    Shard {
        /// The shard directory.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A shard was made with other parameters or inputs.
    #[error("shard {dir} was made with a different {what} than this merge: {detail}")]
    Mismatch {
        /// The shard directory.
        dir: PathBuf,
        /// `parameters` or `inputs`.
        what: &'static str,
        /// The first difference.
        detail: String,
    },
    /// A family to split is in no shard.
    #[error(
        "admin cell {family} ('{name}', {country}) is above MAX but no shard has it: run its country too"
    )]
    Missing {
        /// Family id (admin cell index).
        family: u32,
        /// Its name.
        name: String,
        /// Its country.
        country: String,
    },
    /// A family is in two shards.
    #[error("admin cell {family} is in two shards: {first} and {second}")]
    Duplicate {
        /// Family id.
        family: u32,
        /// One shard.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A shard's family does not hold the points the inputs give it.
    #[error(
        "shard {dir}: admin cell {family} ('{name}') holds {got} points, the inputs give it {expected}"
    )]
    Points {
        /// The shard directory.
        dir: PathBuf,
        /// Family id.
        family: u32,
        /// Its name.
        name: String,
        /// Points found in the shard.
        got: usize,
        /// Points the merge's own run gives the family.
        expected: usize,
    },
}

/// Which admin cells (fuse plan indices) belong to the requested countries: a cell matches
/// when the country code or name of its dominant area (which names the cell) equals a
/// requested entry (ASCII case-insensitive).
///
/// # Errors
/// [`MergeError::UnknownCountry`] for an entry that matches no cell.
pub fn select_countries(
    plan: &CellPlan,
    areas: &[Area],
    countries: &[String],
) -> Result<Vec<bool>, MergeError> {
    let country = |c: &crate::partition::fuse::PlannedCell| {
        areas.get(c.dominant as usize).map_or(("", ""), |a| {
            (a.country_code.as_str(), a.country_name.as_str())
        })
    };
    let matches = |c: &crate::partition::fuse::PlannedCell, want: &str| {
        let (code, name) = country(c);
        code.eq_ignore_ascii_case(want) || name.eq_ignore_ascii_case(want)
    };
    for want in countries {
        if !plan.cells.iter().any(|c| matches(c, want.trim())) {
            let mut codes: Vec<&str> = plan.cells.iter().map(|c| country(c).0).collect();
            codes.sort_unstable();
            codes.dedup();
            return Err(MergeError::UnknownCountry {
                requested: want.clone(),
                examples: codes
                    .iter()
                    .take(12)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(plan
        .cells
        .iter()
        .map(|c| countries.iter().any(|w| matches(c, w.trim())))
        .collect())
}

/// One cell as a shard wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardCell {
    /// Its id within the shard.
    pub id: u32,
    /// Its family (global admin cell index).
    pub family: u32,
    /// How it came about.
    pub origin: CellOrigin,
    /// Its polygons, as written (WKB keeps every bit of the coordinates).
    pub geometry: MultiPolygon<f64>,
}

/// What the merge needs from one per-country run's output directory.
#[derive(Debug, Clone)]
pub struct Shard {
    /// The directory.
    pub dir: PathBuf,
    /// Its `report.json`.
    pub report: crate::pipeline::report::Report,
    /// Its cells, in id order.
    pub cells: Vec<ShardCell>,
    /// Its points: (input row, cell id within the shard).
    pub points: Vec<(u64, u32)>,
}

/// Reads a per-country run's `report.json`, `cells.parquet` and `points.parquet`.
///
/// # Errors
/// [`MergeError::Shard`] naming the directory and the file at fault.
pub fn read_shard(dir: &Path) -> Result<Shard, MergeError> {
    let err = |message: String| MergeError::Shard {
        dir: dir.to_path_buf(),
        message,
    };
    // A shard must be one complete run (not a mix, not an interrupted or failed one).
    let checked = crate::output::dir::check(dir).map_err(|e| err(e.to_string()))?;
    if !checked.is_consistent() {
        return Err(err(format!(
            "not one complete run: {}",
            checked.problems.join("; ")
        )));
    }
    if checked.status.as_deref() != Some("complete") {
        return Err(err("its run failed (report.json → error)".into()));
    }
    let text = std::fs::read_to_string(dir.join("report.json"))
        .map_err(|e| err(format!("report.json: {e}")))?;
    let report: crate::pipeline::report::Report =
        serde_json::from_str(&text).map_err(|e| err(format!("report.json: {e}")))?;
    let cols: Vec<String> = ["cell_id", "family_id", "origin"]
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let file = crate::input::boundaries::read_boundaries(&dir.join("cells.parquet"), &cols)
        .map_err(|e| err(e.to_string()))?;
    let mut cells = Vec::with_capacity(file.features.len());
    for f in file.features {
        let field = |name: &str| f.props.get(name).cloned().unwrap_or_default();
        let bad = |name: &str| err(format!("cells.parquet row {}: bad {name}", f.index));
        cells.push(ShardCell {
            id: field("cell_id").parse().map_err(|_| bad("cell_id"))?,
            family: field("family_id").parse().map_err(|_| bad("family_id"))?,
            origin: CellOrigin::parse(&field("origin")).ok_or_else(|| bad("origin"))?,
            geometry: f.geometry,
        });
    }
    if cells.iter().enumerate().any(|(i, c)| c.id as usize != i) {
        return Err(err("cells.parquet: cell ids are not 0..K-1 in order".into()));
    }
    let path = dir.join("points.parquet");
    let df = crate::input::files::read_parquet_columns(
        &path,
        &["row".to_string(), "cell_id".to_string()],
    )
    .map_err(|e| err(e.to_string()))?;
    let int_column = |name: &str| -> Result<Vec<i64>, MergeError> {
        let col = df
            .column(name)
            .and_then(|c| c.cast(&polars::prelude::DataType::Int64))
            .map_err(|e| err(format!("points.parquet: {e}")))?;
        let ca = col.i64().map_err(|e| err(format!("points.parquet: {e}")))?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| err(format!("points.parquet row {i}: {name} is null"))))
            .collect()
    };
    let rows = int_column("row")?;
    let ids = int_column("cell_id")?;
    let mut points = Vec::with_capacity(rows.len());
    for (i, (&r, &c)) in rows.iter().zip(&ids).enumerate() {
        if r < 0 || c < 0 || c as usize >= cells.len() {
            return Err(err(format!(
                "points.parquet row {i}: row {r} / cell_id {c} out of range"
            )));
        }
        points.push((r as u64, c as u32));
    }
    Ok(Shard {
        dir: dir.to_path_buf(),
        report,
        cells,
        points,
    })
}

/// The parts of a report's `params` two runs must share to be merged: all but `countries`,
/// as JSON (to name the first difference).
fn comparable_params(params: &crate::pipeline::report::ParamsSection) -> serde_json::Value {
    let mut p = serde_json::to_value(params).unwrap_or_default();
    if let Some(o) = p.as_object_mut() {
        o.remove("countries");
        // Follows from preset, min_size, max_size and optics, compared already; shards
        // written before it was reported lack it.
        o.remove("preset_overrides");
    }
    p
}

/// Checks that `shard` was made with `params` (a report's `params`) and inputs `inputs` (a
/// report's `inputs`).
///
/// # Errors
/// [`MergeError::Mismatch`] naming the first difference.
pub fn check_shard(
    shard: &Shard,
    params: &crate::pipeline::report::ParamsSection,
    inputs: &[crate::pipeline::report::InputFile],
) -> Result<(), MergeError> {
    let ours = comparable_params(params);
    let theirs = comparable_params(&shard.report.params);
    if ours != theirs {
        // The first key, of either side (a parameter left out when off is absent from one),
        // whose values differ.
        let keys: std::collections::BTreeSet<&String> = ours
            .as_object()
            .into_iter()
            .chain(theirs.as_object())
            .flat_map(|o| o.keys())
            .collect();
        let shown = |v: Option<&serde_json::Value>| {
            v.map_or("absent (off)".to_string(), ToString::to_string)
        };
        let detail = keys
            .into_iter()
            .find(|k| ours.get(k.as_str()) != theirs.get(k.as_str()))
            .map_or_else(
                || "the parameter sets differ".into(),
                |k| {
                    format!(
                        "{k}: {} here, {} in the shard",
                        shown(ours.get(k.as_str())),
                        shown(theirs.get(k.as_str()))
                    )
                },
            );
        return Err(MergeError::Mismatch {
            dir: shard.dir.clone(),
            what: "parameters",
            detail,
        });
    }
    let ours = crate::pipeline::inputs::comparable_inputs(inputs);
    let theirs = crate::pipeline::inputs::comparable_inputs(&shard.report.inputs);
    if ours != theirs {
        return Err(MergeError::Mismatch {
            dir: shard.dir.clone(),
            what: "inputs",
            detail: format!(
                "input hashes and column options {ours:?} here, {theirs:?} in the shard"
            ),
        });
    }
    Ok(())
}

/// The split outcome of the whole run, from the admin cells and labels of the merge's own
/// global stages and the split families of the shards (see the module docs).
///
/// # Errors
/// [`MergeError`] when a family is missing, duplicated, or does not hold the points it
/// should.
pub fn split_from_shards(
    admin: &CellSet,
    areas: &[Area],
    labels: &PointCells,
    params: &crate::split::params::SplitParams,
    shards: &[Shard],
) -> Result<SplitOutcome, MergeError> {
    let (max_size, optics, metric, semantic) = (
        params.max_size,
        params.optics.as_slice(),
        params.metric,
        params.semantic,
    );
    let members = labels.points_per_cell(admin.len());
    // Where each family's cells are: (shard, cell indices in id order).
    let mut found: BTreeMap<u32, (usize, Vec<usize>)> = BTreeMap::new();
    for (s, shard) in shards.iter().enumerate() {
        for (k, c) in shard.cells.iter().enumerate() {
            match found.get_mut(&c.family) {
                Some((t, list)) if *t == s => list.push(k),
                Some((t, _)) => {
                    return Err(MergeError::Duplicate {
                        family: c.family,
                        first: shards[*t].dir.clone(),
                        second: shard.dir.clone(),
                    });
                }
                None => {
                    found.insert(c.family, (s, vec![k]));
                }
            }
        }
    }
    // Labelled point of each input row (rows ascend with the labels).
    let rows = &labels.points.rows;
    let mut families = Vec::new();
    let mut report = SplitReport {
        metric,
        above_max_before: 0,
        settings: optics
            .iter()
            .map(|&(m, xi)| SettingReport {
                min_samples: m,
                xi,
                above_max_before: 0,
                cells_split: 0,
                carves: 0,
                above_max_after: 0,
                seconds: 0.0,
            })
            .collect(),
        above_max_after_optics: 0,
        semantic: optics
            .last()
            .filter(|_| semantic)
            .map(|&(min_samples, xi)| crate::split::report::SemanticReport {
                min_samples,
                xi,
                above_max_before: 0,
                cells_split: 0,
                carves_xi: 0,
                carves_valley: 0,
                divisions_refused: 0,
                above_max_after: 0,
                seconds: 0.0,
            }),
        fallback_carves: 0,
        fallback_seconds: 0.0,
        above_max_after: 0,
        left_above_max: Vec::new(),
        fragments_moved: 0,
        fragment_points_moved: 0,
        points_reconciled: 0,
        points_disagreeing: 0,
    };
    for (position, cell) in admin.cells.iter().enumerate() {
        if members[position].len() <= max_size {
            continue;
        }
        let family = cell.family;
        let Some((s, list)) = found.get(&family) else {
            return Err(MergeError::Missing {
                family,
                name: cell.name.clone(),
                country: cell.country_code.clone(),
            });
        };
        let shard = &shards[*s];
        let part_of: BTreeMap<u32, usize> = list
            .iter()
            .enumerate()
            .map(|(j, &k)| (shard.cells[k].id, j))
            .collect();
        let mut parts: Vec<SplitPart> = list
            .iter()
            .map(|&k| SplitPart {
                geometry: shard.cells[k].geometry.clone(),
                points: Vec::new(),
                origin: shard.cells[k].origin,
            })
            .collect();
        let mut got = 0usize;
        for &(row, c) in &shard.points {
            if let Some(&j) = part_of.get(&c) {
                got += 1;
                if let Ok(i) = rows.binary_search(&row) {
                    parts[j].points.push(i as u32);
                }
            }
        }
        for p in &mut parts {
            p.points.sort_unstable();
        }
        let mut all: Vec<u32> = parts
            .iter()
            .flat_map(|p| p.points.iter().copied())
            .collect();
        all.sort_unstable();
        if got != members[position].len() || all != members[position] {
            return Err(MergeError::Points {
                dir: shard.dir.clone(),
                family,
                name: cell.name.clone(),
                got,
                expected: members[position].len(),
            });
        }
        let unsplittable = shard
            .report
            .split
            .iter()
            .flatten()
            .flat_map(|sp| &sp.left_above_max)
            .filter_map(|l| part_of.get(&l.cell_id).map(|&j| (j, l.reason)))
            .collect();
        families.push(SplitFamily {
            position,
            parts,
            unsplittable,
        });
    }
    // Split figures add up over the shards (each counts its own families only).
    for sp in shards
        .iter()
        .filter_map(|s| s.report.split.as_ref().and_then(Option::as_ref))
    {
        report.above_max_before += sp.above_max_before;
        report.above_max_after_optics += sp.above_max_after_optics;
        report.fallback_carves += sp.fallback_carves;
        report.fragments_moved += sp.fragments_moved;
        report.fragment_points_moved += sp.fragment_points_moved;
        report.points_reconciled += sp.points_reconciled;
        report.points_disagreeing += sp.points_disagreeing;
        if let (Some(s), Some(t)) = (report.semantic.as_mut(), sp.semantic.as_ref()) {
            s.above_max_before += t.above_max_before;
            s.cells_split += t.cells_split;
            s.carves_xi += t.carves_xi;
            s.carves_valley += t.carves_valley;
            s.divisions_refused += t.divisions_refused;
            s.above_max_after += t.above_max_after;
        }
        for (s, t) in report.settings.iter_mut().zip(&sp.settings) {
            s.above_max_before += t.above_max_before;
            s.cells_split += t.cells_split;
            s.carves += t.carves;
            s.above_max_after += t.above_max_after;
        }
    }
    Ok(assemble_outcome(
        admin, areas, labels, families, max_size, report,
    ))
}
