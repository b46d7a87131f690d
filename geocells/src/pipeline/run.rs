//! The pipeline: read → admin areas → assign → graph → fuse → admin cells → split, with one
//! [`Params`].
//!
//! [`Pipeline::run`] returns a [`Run`] holding every intermediate the outputs need; validation
//! ([`crate::partition::cells::CellSet::validate`]) and writing ([`crate::output::export::write_all`]) are separate
//! calls so a caller can time, skip or repeat them.

use std::path::PathBuf;
use std::time::Instant;

use crate::Error;
use crate::input::admin::{AdminAreas, build_areas};
use crate::input::points::{Reject, read_points};
use crate::partition::assign::{AreaIndex, Placement, assign_points};
use crate::partition::cells::{CellSet, Labels};
use crate::partition::fuse::{AreaPoints, CellPlan, plan_cells_with};
use crate::partition::graph::Adjacency;
use crate::pipeline::inputs::Inputs;
use crate::pipeline::params::{Params, ParamsError, ValidParams};
pub use crate::progress::{NoProgress, Progress};
use crate::split::report::SplitReport;
use crate::split::stage::split_selected;

/// A run in which no input row could be labelled (every row rejected, or none at all): there
/// is no cell to build. Carries the rejects, so that they can still be written
/// ([`crate::output::export::write_failed_run`]), and a message that counts them by reason with a hint
/// for the usual causes (longitude and latitude swapped, a decimal comma, polygons given as
/// points, boundaries of another region).
#[derive(Debug, Clone)]
pub struct NoPointsError {
    /// The points file.
    pub path: PathBuf,
    /// Rows in the points file.
    pub input_rows: usize,
    /// Every rejected row, by row.
    pub rejects: Vec<Reject>,
    /// The report of the failed run: version, parameters, inputs and counts.
    pub report: crate::pipeline::report::Report,
}

impl NoPointsError {
    fn new(
        inputs: &Inputs,
        params: &ValidParams,
        input_rows: usize,
        rejects: Vec<Reject>,
    ) -> Box<Self> {
        let report = crate::pipeline::report::Report::failed(
            params.report_section(),
            inputs,
            input_rows,
            &rejects,
        );
        Box::new(Self {
            path: inputs.points.path.clone(),
            input_rows,
            rejects,
            report,
        })
    }

    /// A hint for the most likely cause, from the reasons and the rejected coordinates.
    fn hint(&self) -> Option<&'static str> {
        let n = self.rejects.len();
        if n == 0 {
            return None;
        }
        let count = |code: &str| {
            self.rejects
                .iter()
                .filter(|r| r.reason.code() == code)
                .count()
        };
        let swapped = self
            .rejects
            .iter()
            .filter(|r| r.lat.abs() > 90.0 && r.lat.abs() <= 180.0 && r.lon.abs() <= 90.0)
            .count();
        if 2 * swapped > n {
            Some("longitude and latitude look swapped: name the columns (--lon-col / --lat-col)")
        } else if 2 * count("not_a_number") > n {
            Some(
                "the coordinate columns hold text: a decimal comma, or the wrong columns (--lon-col / --lat-col)?",
            )
        } else if 2 * count("bad_geometry") > n {
            Some(
                "the geometry column holds no usable points (polygons or lines?): give one point per row",
            )
        } else if 2 * count("off_land") > n {
            Some(
                "no point is on or near a boundary polygon: are longitude and latitude swapped, the coordinates projected, or the boundaries of another region?",
            )
        } else {
            None
        }
    }
}

impl std::fmt::Display for NoPointsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.input_rows == 0 {
            return write!(
                f,
                "{}: the file has no rows: there is no point to build cells from",
                self.path.display()
            );
        }
        let mut by_reason: std::collections::BTreeMap<&str, (usize, String)> = Default::default();
        for r in &self.rejects {
            by_reason
                .entry(r.reason.code())
                .or_insert_with(|| (0, r.reason.to_string()))
                .0 += 1;
        }
        let reasons: Vec<String> = by_reason
            .iter()
            .map(|(code, (k, example))| format!("{k} {code} ({example})"))
            .collect();
        write!(
            f,
            "{}: none of the {} rows could be labelled: {}",
            self.path.display(),
            self.input_rows,
            reasons.join(", ")
        )?;
        if let Some(h) = self.hint() {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NoPointsError {}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Run {
    /// The parameters.
    pub params: ValidParams,
    /// The admin areas.
    pub areas: AdminAreas,
    /// The fuse plan.
    pub plan: CellPlan,
    /// The cells (after the split).
    pub cells: CellSet,
    /// Number of admin cells (fuse result) before the split.
    pub admin_cells: usize,
    /// Cells above MAX among the admin cells.
    pub admin_above_max: usize,
    /// For each admin cell (fuse plan index), the id of its first cell after the split.
    pub family_first_cell: Vec<u32>,
    /// What the split did (`None` when it was turned off).
    pub split: Option<SplitReport>,
    /// The labelled points.
    pub labels: Labels,
    /// Rejected input rows, by row.
    pub rejects: Vec<Reject>,
    /// Number of rows in the points file.
    pub input_rows: usize,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
    /// The report ([`crate::pipeline::report::Report`]); callers may add to it before writing.
    pub report: crate::pipeline::report::Report,
    /// For a run restricted to some countries: which admin cells (fuse plan indices) it
    /// kept. `None`: all.
    pub families: Option<Vec<bool>>,
}

/// A configured pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    params: ValidParams,
}

impl Pipeline {
    /// A pipeline with validated parameters ([`Params::validate`], once: the stages receive
    /// them checked).
    ///
    /// # Errors
    /// [`ParamsError`] when the parameters are invalid.
    pub fn new(params: Params) -> Result<Self, Error> {
        Ok(Self {
            params: params.validate()?,
        })
    }

    /// The validated parameters.
    pub fn params(&self) -> &ValidParams {
        &self.params
    }

    /// Runs read → admin → assign → graph → fuse → admin cells → split (unless
    /// [`Params::split_enabled`] is off).
    ///
    /// # Errors
    /// The first stage error, naming the file, feature or row at fault.
    pub fn run(&self, inputs: &Inputs, progress: &dyn Progress) -> Result<Run, Error> {
        self.run_inner(inputs, progress, None)
    }

    fn run_inner(
        &self,
        inputs: &Inputs,
        progress: &dyn Progress,
        shards: Option<&[crate::pipeline::merge::Shard]>,
    ) -> Result<Run, Error> {
        let mut timings: Vec<(String, f64)> = Vec::new();
        let mut clock = Instant::now();
        let mut lap = |name: &str, timings: &mut Vec<(String, f64)>| {
            timings.push((name.to_string(), clock.elapsed().as_secs_f64()));
            clock = Instant::now();
        };
        progress.stage("read points", 0);
        let read = read_points(&inputs.points)?;
        progress.done();
        lap("read_points", &mut timings);
        progress.stage("read boundaries", 0);
        let areas = build_areas(&inputs.boundaries)?;
        progress.done();
        lap("read_boundaries", &mut timings);

        progress.stage("assign points", read.points.len() as u64);
        let index = AreaIndex::new(&areas.areas);
        let placements = assign_points(
            &index,
            areas.areas.len(),
            &read.points,
            self.params.assign(),
        )?;
        drop(index);
        let mut keep = Vec::with_capacity(placements.len());
        let mut area_of = Vec::with_capacity(placements.len());
        let mut snap = Vec::with_capacity(placements.len());
        let mut rejects = read.rejects;
        for (i, p) in placements.into_iter().enumerate() {
            match p {
                Placement::Inside(a) => {
                    keep.push(i);
                    area_of.push(a);
                    snap.push(0.0);
                }
                Placement::Snapped(a, d) => {
                    keep.push(i);
                    area_of.push(a);
                    snap.push(d);
                }
                Placement::Rejected(reason) => rejects.push(Reject {
                    row: read.points.rows[i],
                    id: read.points.ids.display(i),
                    lon: read.points.lon[i],
                    lat: read.points.lat[i],
                    reason,
                    raw: None,
                }),
            }
        }
        rejects.sort_by_key(|r| r.row);
        if keep.is_empty() {
            return Err(NoPointsError::new(inputs, &self.params, read.total_rows, rejects).into());
        }
        let points = read.points.select(&keep);
        progress.done();
        lap("assign", &mut timings);

        progress.stage("adjacency graph", 0);
        let adjacency = Adjacency::build(&areas.areas);
        progress.done();
        lap("graph", &mut timings);

        progress.stage("fuse", 0);
        let area_points = AreaPoints::new(areas.areas.len(), &area_of, &points.lon, &points.lat);
        let plan = plan_cells_with(
            &areas.areas,
            &adjacency,
            &area_points,
            self.params.min_size(),
            self.params.fuse(),
        )?;
        progress.done();
        lap("fuse", &mut timings);

        progress.stage("build cell polygons", plan.cells.len() as u64);
        let cell: Vec<u32> = area_of
            .iter()
            .map(|&a| plan.area_cell[a as usize])
            .collect();
        let labels = Labels {
            points,
            area: area_of,
            cell,
            snap_km: snap,
        };
        let cells = CellSet::build(&areas.areas, &plan, &labels);
        progress.done();
        lap("build_cells", &mut timings);

        // A run restricted to some countries splits and keeps their admin cells only.
        let selected: Option<Vec<bool>> = match self.params.countries() {
            Some(list) => Some(crate::pipeline::merge::select_countries(&cells, list)?),
            None => None,
        };
        let chosen = |c: usize| selected.as_ref().is_none_or(|s| s[c]);
        let admin_cells = (0..cells.len()).filter(|&c| chosen(c)).count();
        let admin_above_max = cells
            .cells
            .iter()
            .enumerate()
            .filter(|(c, x)| chosen(*c) && x.size > self.params.max_size())
            .count();
        let (cells, labels, family_first_cell, split) = if self.params.split_enabled() {
            let out = match shards {
                Some(shards) => {
                    progress.stage("merge: split families from the shards", 0);
                    let out = crate::pipeline::merge::split_from_shards(
                        &cells,
                        &areas.areas,
                        &labels,
                        self.params.max_size(),
                        &self.params.split().optics,
                        self.params.split().metric,
                        shards,
                    )?;
                    progress.done();
                    out
                }
                None => split_selected(
                    &cells,
                    &areas.areas,
                    &labels,
                    self.params.split(),
                    &chosen,
                    progress,
                )?,
            };
            for (s, r) in out.report.settings.iter().enumerate() {
                timings.push((
                    format!("split_optics_{}_{}_{}", s + 1, r.min_samples, r.xi),
                    r.seconds,
                ));
            }
            timings.push(("split_fallback".into(), out.report.fallback_seconds));
            lap("split", &mut timings);
            let mut labels = labels;
            labels.cell = out.cell_of_point;
            (out.cells, labels, out.family_first_cell, Some(out.report))
        } else {
            let first = (0..cells.len() as u32).collect();
            (cells, labels, first, None)
        };

        let mut run = Run {
            params: self.params.clone(),
            areas,
            plan,
            cells,
            admin_cells,
            admin_above_max,
            family_first_cell,
            split,
            labels,
            rejects,
            input_rows: read.total_rows,
            timings,
            report: crate::pipeline::report::Report::default(),
            families: None,
        };
        if let Some(selected) = selected {
            run.restrict(selected);
        }
        run.report = run.build_report(inputs);
        Ok(run)
    }

    /// Merges the outputs of runs restricted to countries ([`Params::countries`]), each in
    /// its own directory, into the run over all of them: the global stages run again here
    /// (read, assign, graph, fuse, admin cells), the split families come from the shards (see
    /// [`crate::pipeline::merge`]). The result, and every file written from it, is byte-identical to
    /// [`Pipeline::run`] with the same inputs and parameters.
    ///
    /// # Errors
    /// A stage error, or [`crate::pipeline::merge::MergeError`] when a shard is unreadable, was made
    /// with other parameters or inputs, or when a family is missing or in two shards.
    pub fn merge(
        &self,
        inputs: &Inputs,
        shard_dirs: &[PathBuf],
        progress: &dyn Progress,
    ) -> Result<Run, Error> {
        if self.params.countries().is_some() {
            return Err(ParamsError::MergeWithCountries.into());
        }
        progress.stage("merge: read shards", shard_dirs.len() as u64);
        let mut shards = Vec::with_capacity(shard_dirs.len());
        for d in shard_dirs {
            shards.push(crate::pipeline::merge::read_shard(d)?);
            progress.inc(1);
        }
        progress.done();
        let inputs_section = crate::pipeline::report::inputs_section(inputs);
        let params_section = self.params.report_section();
        for s in &shards {
            crate::pipeline::merge::check_shard(s, &params_section, &inputs_section)?;
        }
        self.run_inner(inputs, progress, Some(&shards))
    }
}

impl Run {
    /// Checks the partition's invariants ([`CellSet::validate`]); for a run restricted to some
    /// countries, over the admin areas of its families.
    ///
    /// # Errors
    /// [`crate::partition::cells::ValidationError`] listing every problem found.
    pub fn validate(
        &self,
    ) -> Result<crate::partition::cells::ValidationReport, crate::partition::cells::ValidationError>
    {
        let scope: Option<Vec<bool>> = self.families.as_ref().map(|f| {
            self.plan
                .area_cell
                .iter()
                .map(|&c| f.get(c as usize).copied().unwrap_or(false))
                .collect()
        });
        self.cells
            .validate_within(&self.areas.areas, &self.labels, scope.as_deref())
    }

    /// [`Run::validate`], with the outcome recorded in the report's `validation` section:
    /// `ok`, the `problems` found (empty when ok), and what the check measured. A failed check
    /// never discards the run: callers write the outputs anyway (they are what the problems
    /// refer to) and signal the failure, as `build_cells` does with its exit status.
    ///
    /// # Errors
    /// [`crate::partition::cells::ValidationError`] listing every problem found (also in the report).
    pub fn validate_and_record(
        &mut self,
    ) -> Result<crate::partition::cells::ValidationReport, crate::partition::cells::ValidationError>
    {
        let t = Instant::now();
        let result = self.validate();
        self.timings
            .push(("validate".into(), t.elapsed().as_secs_f64()));
        self.report.validation = Some(crate::pipeline::report::ValidationSection::new(&result));
        result
    }

    /// Keeps the cells of the admin cells in `families` (fuse plan indices) and their points,
    /// with cell ids dense again in the same order; other admin cells' first-cell entries
    /// become `u32::MAX`. Rejects stay: they belong to no country.
    fn restrict(&mut self, families: Vec<bool>) {
        let keep_cell: Vec<bool> = self
            .cells
            .cells
            .iter()
            .map(|c| families.get(c.family as usize).copied().unwrap_or(false))
            .collect();
        let mut new_id = vec![u32::MAX; self.cells.len()];
        let mut next = 0u32;
        for (i, k) in keep_cell.iter().enumerate() {
            if *k {
                new_id[i] = next;
                next += 1;
            }
        }
        let cells = std::mem::take(&mut self.cells.cells);
        self.cells.cells = cells
            .into_iter()
            .filter(|c| keep_cell[c.id as usize])
            .map(|mut c| {
                c.id = new_id[c.id as usize];
                c
            })
            .collect();
        let keep: Vec<usize> = (0..self.labels.points.len())
            .filter(|&i| keep_cell[self.labels.cell[i] as usize])
            .collect();
        let l = &self.labels;
        self.labels = Labels {
            points: l.points.select(&keep),
            area: keep.iter().map(|&i| l.area[i]).collect(),
            cell: keep.iter().map(|&i| new_id[l.cell[i] as usize]).collect(),
            snap_km: keep.iter().map(|&i| l.snap_km[i]).collect(),
        };
        for f in &mut self.family_first_cell {
            *f = new_id.get(*f as usize).copied().unwrap_or(u32::MAX);
        }
        let max = self.params.max_size();
        if let Some(split) = &mut self.split {
            split
                .left_above_max
                .retain(|l| keep_cell[l.cell_id as usize]);
            for l in &mut split.left_above_max {
                l.cell_id = new_id[l.cell_id as usize];
            }
            split.above_max_after = self.cells.cells.iter().filter(|c| c.size > max).count();
        }
        self.families = Some(families);
    }

    /// Partition quality of the cells on the labelled points (see [`crate::quality::metrics`]): size
    /// inequality, entropy, quantization error and oracle accuracy against the cell centroids.
    pub fn quality(&self) -> crate::quality::metrics::PartitionQuality {
        let l = &self.labels;
        let pts: Vec<(f64, f64)> = (0..l.points.len())
            .map(|i| (l.points.lon[i], l.points.lat[i]))
            .collect();
        let centroids: Vec<(f64, f64)> = self
            .cells
            .centroids()
            .into_iter()
            .map(|c| c.unwrap_or((f64::NAN, f64::NAN)))
            .collect();
        crate::quality::metrics::partition_quality(&pts, &l.cell, &centroids)
    }

    /// Cells above `max_size`.
    pub fn above_max(&self) -> usize {
        self.cells
            .cells
            .iter()
            .filter(|c| c.size > self.params.max_size())
            .count()
    }

    /// Builds the report ([`crate::pipeline::report::Report::build`]): parameters, inputs with
    /// hashes, counts, size distribution, repairs, small cells with their reasons and timings
    /// (the only part that varies run to run).
    pub fn build_report(&self, inputs: &Inputs) -> crate::pipeline::report::Report {
        crate::pipeline::report::Report::build(crate::pipeline::report::ReportParts {
            params: self.params.report_section(),
            inputs,
            areas: &self.areas,
            plan: &self.plan,
            cells: &self.cells,
            family_first_cell: &self.family_first_cell,
            split: self.split.as_ref(),
            labels: &self.labels,
            rejects: &self.rejects,
            input_rows: self.input_rows,
            admin_cells: self.admin_cells,
            admin_above_max: self.admin_above_max,
            timings: &self.timings,
            quality: self.quality(),
        })
    }
}
