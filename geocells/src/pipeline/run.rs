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
use crate::input::points::{PointsRead, Reject, read_points};
use crate::partition::assign::{AreaIndex, Placement, assign_points};
use crate::partition::cells::{CellSet, PointCells};
use crate::partition::fuse::{AreaPoints, CellPlan, plan_cells_with};
use crate::partition::graph::Adjacency;
use crate::pipeline::assigned::{AssignedDataset, Placed};
use crate::pipeline::inputs::Inputs;
use crate::pipeline::no_points::NoPointsError;
use crate::pipeline::params::{Params, ParamsError, ValidParams};
use crate::progress::Progress;
use crate::split::driver::split_selected;
use crate::split::report::SplitReport;

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Run {
    /// The parameters.
    pub(crate) params: ValidParams,
    /// The admin areas.
    pub(crate) areas: AdminAreas,
    /// The fuse plan.
    pub(crate) plan: CellPlan,
    /// The cells (after the split).
    pub(crate) cells: CellSet,
    /// Number of admin cells (fuse result) before the split.
    pub(crate) admin_cells: usize,
    /// Cells above MAX among the admin cells.
    pub(crate) admin_above_max: usize,
    /// For each admin cell (fuse plan index), the id of its first cell after the split.
    pub(crate) family_first_cell: Vec<u32>,
    /// What the split did (`None` when it was turned off).
    pub(crate) split: Option<SplitReport>,
    /// The labelled points.
    pub(crate) labels: PointCells,
    /// Rejected input rows, by row.
    pub(crate) rejects: Vec<Reject>,
    /// Number of rows in the points file.
    pub(crate) input_rows: usize,
    /// Seconds per stage, in order.
    pub(crate) timings: Vec<(String, f64)>,
    /// The report ([`crate::pipeline::report::Report`]).
    pub(crate) report: crate::pipeline::report::Report,
    /// For a run restricted to some countries: which admin cells (fuse plan indices) it
    /// kept. `None`: all.
    pub(crate) families: Option<Vec<bool>>,
}

impl Run {
    /// The parameters the run used.
    pub fn params(&self) -> &ValidParams {
        &self.params
    }
    /// The admin areas (finest level), repaired and made disjoint.
    pub fn areas(&self) -> &AdminAreas {
        &self.areas
    }
    /// The fuse plan: which admin areas make each admin cell, and why small cells stayed small.
    pub fn plan(&self) -> &CellPlan {
        &self.plan
    }
    /// The cells (after the split): `cells().cells()[i].id == i`.
    pub fn cells(&self) -> &CellSet {
        &self.cells
    }
    /// Admin cells (the fuse's cells, before the split).
    pub fn admin_cells(&self) -> usize {
        self.admin_cells
    }
    /// Admin cells above MAX.
    pub fn admin_above_max(&self) -> usize {
        self.admin_above_max
    }
    /// For each admin cell (fuse plan index), the id of its first cell after the split
    /// (`u32::MAX` for an admin cell a run restricted to some countries left out).
    pub fn family_first_cell(&self) -> &[u32] {
        &self.family_first_cell
    }
    /// What the split did (`None` when it was turned off).
    pub fn split(&self) -> Option<&SplitReport> {
        self.split.as_ref()
    }
    /// The labelled points with their area, cell and snap distance, in input order
    /// ([`Run::labels_frame`] gives them as a polars `DataFrame`).
    pub fn point_cells(&self) -> &PointCells {
        &self.labels
    }
    /// The rejected input rows, by row, each with its reason.
    pub fn rejects(&self) -> &[Reject] {
        &self.rejects
    }
    /// Rows of the points input (labelled + rejected).
    pub fn input_rows(&self) -> usize {
        self.input_rows
    }
    /// Seconds per stage, in order (the only output that varies between identical runs).
    pub fn timings(&self) -> &[(String, f64)] {
        &self.timings
    }
    /// The report (`report.json` without the export's additions).
    pub fn report(&self) -> &crate::pipeline::report::Report {
        &self.report
    }
    /// For a run restricted to some countries: which admin cells (fuse plan indices) it kept;
    /// `None`: all.
    pub fn families(&self) -> Option<&[bool]> {
        self.families.as_deref()
    }
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
    /// ```
    /// use geocells::{BoundarySpec, Inputs, LevelSpec, NoProgress, Params, Pipeline, PointsSpec};
    ///
    /// let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures/matrix");
    /// let inputs = Inputs::new(
    ///     PointsSpec::new(data.join("armenia_azerbaijan_geonames.csv")),
    ///     BoundarySpec {
    ///         admin1: Some(LevelSpec::admin1(data.join("armenia_azerbaijan.geojson"))),
    ///         ..Default::default()
    ///     },
    /// );
    /// let run = Pipeline::new(Params::default().min_size(10).max_size(40))?.run(&inputs, &NoProgress)?;
    /// // Every labelled point is in exactly one cell, and the sizes count them.
    /// let sizes: usize = run.cells().cells().iter().map(|c| c.size).sum();
    /// assert_eq!(sizes, run.point_cells().len());
    /// assert!(run.split().is_some_and(|s| s.above_max_after == 0));
    /// # Ok::<(), geocells::Error>(())
    /// ```
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
        let mut laps = Laps::default();
        // The points: a file (or data) to read and assign, or an assigned dataset
        // (`pipeline::assigned`) whose points are read after the fuse, only those needed.
        progress.stage("read points", 0);
        let source = match AssignedDataset::open(&inputs.points.path)? {
            Some(dataset) => Source::Assigned(Box::new(dataset)),
            None => Source::Read(read_points(&inputs.points)?),
        };
        progress.done();
        stop_if_cancelled(progress)?;
        laps.lap("read_points");
        progress.stage("read boundaries", 0);
        let areas = build_areas(&inputs.boundaries)?;
        progress.done();
        stop_if_cancelled(progress)?;
        laps.lap("read_boundaries");

        let (placed, area_points) = match source {
            Source::Read(read) => {
                let placed = self.place(inputs, &areas, read, progress)?;
                let area_points = AreaPoints::new(
                    areas.areas.len(),
                    &placed.area_of,
                    &placed.points.lon,
                    &placed.points.lat,
                );
                (Points::Placed(placed), area_points)
            }
            Source::Assigned(dataset) => {
                progress.stage("check the assigned points", 0);
                let mut ours = crate::pipeline::report::inputs_section(inputs);
                ours.retain(|i| i.role != "points");
                dataset.check_inputs(&ours, self.params.assign().snap_km, &areas)?;
                let area_points = dataset.area_points(&areas)?;
                progress.done();
                (Points::Assigned(dataset), area_points)
            }
        };
        stop_if_cancelled(progress)?;
        laps.lap("assign");

        progress.stage("adjacency graph", 0);
        let adjacency = Adjacency::build(&areas.areas);
        progress.done();
        stop_if_cancelled(progress)?;
        laps.lap("graph");

        progress.stage("fuse", 0);
        let plan = plan_cells_with(
            &areas.areas,
            &adjacency,
            &area_points,
            self.params.min_size(),
            self.params.fuse(),
        )?;
        drop(adjacency);
        progress.done();
        stop_if_cancelled(progress)?;
        laps.lap("fuse");

        // A run restricted to some countries splits and keeps their admin cells only.
        let selected: Option<Vec<bool>> = match self.params.countries() {
            Some(list) => Some(crate::pipeline::merge::select_countries(
                &plan,
                &areas.areas,
                list,
            )?),
            None => None,
        };
        let Placed {
            points,
            area_of,
            snap_km: snap,
            rejects,
            total_rows,
        } = match placed {
            Points::Placed(placed) => placed,
            Points::Assigned(dataset) => {
                progress.stage("read assigned points", 0);
                let placed =
                    dataset.read_points(&areas, &plan, &area_points, selected.as_deref())?;
                progress.done();
                stop_if_cancelled(progress)?;
                laps.lap("read_assigned_points");
                placed
            }
        };
        drop(area_points);

        progress.stage("build cell polygons", plan.cells.len() as u64);
        let cell: Vec<u32> = area_of
            .iter()
            .map(|&a| plan.area_cell[a as usize])
            .collect();
        let labels = PointCells {
            points,
            area: area_of,
            cell,
            snap_km: snap,
        };
        let cells = CellSet::build(&areas.areas, &plan, &labels);
        progress.done();
        stop_if_cancelled(progress)?;
        laps.lap("build_cells");

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
                        self.params.split(),
                        shards,
                    )?;
                    progress.done();
                    stop_if_cancelled(progress)?;
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
                laps.timings.push((
                    format!("split_optics_{}_{}_{}", s + 1, r.min_samples, r.xi),
                    r.seconds,
                ));
            }
            laps.timings
                .push(("split_fallback".into(), out.report.fallback_seconds));
            laps.lap("split");
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
            input_rows: total_rows,
            timings: laps.timings,
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
    /// `pipeline::merge`). The result, and every file written from it, is byte-identical to
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
        stop_if_cancelled(progress)?;
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
        self.labels = PointCells {
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

    /// Partition quality of the cells on the labelled points (see `quality::metrics`): size
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

    /// Builds the report (`pipeline::report::Report::build`): parameters, inputs with
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

/// Where a run's points come from.
enum Source {
    /// Read from the input, still to be assigned.
    Read(PointsRead),
    /// An assigned dataset.
    Assigned(Box<AssignedDataset>),
}

/// A run's points once placed, or the dataset to read them from after the fuse.
enum Points {
    /// Assigned here.
    Placed(Placed),
    /// In an assigned dataset.
    Assigned(Box<AssignedDataset>),
}

/// Stage timings: seconds since the previous lap.
struct Laps {
    clock: Instant,
    timings: Vec<(String, f64)>,
}

impl Default for Laps {
    fn default() -> Self {
        Self {
            clock: Instant::now(),
            timings: Vec::new(),
        }
    }
}

impl Laps {
    fn lap(&mut self, name: &str) {
        self.timings
            .push((name.to_string(), self.clock.elapsed().as_secs_f64()));
        self.clock = Instant::now();
    }
}

impl Pipeline {
    /// Assigns the points read to the admin areas: the labelled ones with their area and
    /// snap distance, the others among the rejects with their reason.
    ///
    /// # Errors
    /// [`crate::partition::assign::AssignError`]; [`NoPointsError`] when no point is labelled.
    pub(crate) fn place(
        &self,
        inputs: &Inputs,
        areas: &AdminAreas,
        read: PointsRead,
        progress: &dyn Progress,
    ) -> Result<Placed, Error> {
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
        Ok(Placed {
            points,
            area_of,
            snap_km: snap,
            rejects,
            total_rows: read.total_rows,
        })
    }
}

/// [`Error::Cancelled`] once the caller's progress says stop.
pub(crate) fn stop_if_cancelled(progress: &dyn Progress) -> Result<(), Error> {
    if progress.cancelled() {
        Err(Error::Cancelled)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::input::levels::{BoundarySpec, LevelSpec};
    use crate::input::points::PointsSpec;
    use crate::pipeline::inputs::Inputs;
    use crate::pipeline::params::Params;
    use crate::pipeline::run::Pipeline;
    use crate::progress::NoProgress;

    #[test]
    fn a_failed_check_still_writes_every_output_and_says_so() {
        // A finished run is never thrown away: break one invariant on purpose (only the crate
        // can: the cells are read-only outside it), then record and write as build_cells does.
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures/matrix");
        let inputs = Inputs::new(
            PointsSpec::new(data.join("armenia_azerbaijan_geonames.csv")),
            BoundarySpec {
                admin1: Some(LevelSpec::admin1(data.join("armenia_azerbaijan.geojson"))),
                ..Default::default()
            },
        );
        let mut run = Pipeline::new(Params::default())
            .expect("params")
            .run(&inputs, &NoProgress)
            .expect("run");
        run.cells.cells[0].size += 1;
        let err = run.validate_and_record().expect_err("the check fails");
        assert!(err.problems.iter().any(|p| p.contains("has size")));
        let v = run.report().to_value();
        assert_eq!(v["validation"]["ok"], false);
        assert_eq!(
            v["validation"]["problems"].as_array().map(Vec::len),
            Some(err.problems.len())
        );
        let out =
            std::env::temp_dir().join(format!("geocells-failed-check-{}", std::process::id()));
        crate::output::export::write_all(&run, &out).expect("write");
        for f in [
            "cells.parquet",
            "points.parquet",
            "report.json",
            "cells.geojson",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("read"))
                .expect("json");
        assert_eq!(report["validation"]["ok"], false);
        let _ = std::fs::remove_dir_all(out);
    }
}
