//! Splitting oversized cells: PIGEON's *semantic geocell division*, on the sphere, with MAX
//! guaranteed.
//!
//! Source: Haas, Skreta, Alberti, Finn, *PIGEON: Predicting Image Geolocations*, CVPR 2024,
//! section 3.1 and appendix ("Semantic Geocells"), and its published code
//! (`dataset_creation/geocell/cell.py`, `cell_collection.py`; read, not copied). What we do:
//!
//! For each OPTICS setting `(min_samples, xi)` in turn, every cell with more than MAX points is
//! clustered ([`crate::split::optics`], xi extraction, identical to scikit-learn); the largest cluster
//! (ties: the lowest label) is carved out when it and the rest both hold at least MINSIZE
//! points. The new cell is the union of the Voronoi regions of the cluster's points within the
//! cell ([`crate::split::voronoi::cluster_region`]: Voronoi diagram of all the cell's points, clipped
//! to the cell) and the old cell keeps the difference. Both go back into the queue while above
//! MAX; a cell where the setting finds no carve waits for the next setting. Then, unlike PIGEON,
//! the cells still above MAX are split by a fallback (straight cuts, then an exact division of
//! the locations, carved the same way; see [`crate::split::division`])
//! until every cell holds at most MAX points or provably cannot be split.
//!
//! Differences from PIGEON's code, on purpose:
//! * distances are chord distances on the sphere in km by default ([`Metric::Sphere`]), and the
//!   Voronoi diagram is built in an azimuthal equidistant projection of the cell; PIGEON uses
//!   raw degrees for both ([`Metric::Degrees`] reproduces its clustering);
//! * points follow the geometry: after a carve each point goes to the cell whose polygon holds
//!   it, so every point is inside its own cell, and a carve that would leave a cell empty or
//!   below MINSIZE is not applied. No cell is identified by a hash of its points, so no carve
//!   can silently replace another cell and lose its points (PIGEON lost 244 of ~30k points);
//! * PIGEON's code also separates several large clusters at once (assigning noise to the nearest
//!   cluster centroid); we carve the largest cluster only, as the paper describes;
//! * after each carve, polygon parts of the two cells that hold fewer points than the cell's
//!   main part and touch another cell of the same family go to the neighbour with the longest
//!   shared border (with their points, if the donor keeps MINSIZE), so cells do not end up as
//!   sprays of slivers; parts touching nothing (islands) stay.
//!
//! Cells never interact across families (the admin cells of the fuse), so families are split
//! in parallel with rayon and the result does not depend on the thread count: within a family
//! the work is sequential and ordered, and cell ids are assigned family by family in the order
//! the cells were made.
//!
//! Complexity per carve: OPTICS `O(n (m + k) log n)` on the cell's `n` points, the Voronoi
//! diagram `O(n log n)`, two overlays linear-logarithmic in the cell's vertices.

use std::collections::VecDeque;
use std::time::Instant;

use geo::algorithm::indexed::IntervalTreeMultiPolygon;
use geo::{Area as _, BoundingRect, Contains};
use geo_types::{Coord, MultiPolygon, Polygon};
use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::geom::geodesy::{haversine_km, spherical_mean};
use crate::input::admin::Area;
use crate::partition::assign::AreaIndex;
use crate::partition::cells::{Cell, CellOrigin, CellSet, Labels, POINT_TOL_KM, union_tolerance};
use crate::progress::Progress;
use crate::split::optics::{
    OpticsError, OpticsParams, optics_planar_fast, optics_sphere, optics_sphere_known,
};
use crate::split::voronoi::{LocalProjection, VoronoiError, cluster_region};

/// Invalid [`SplitParams`].
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum SplitParamsError {
    /// `min_size` is zero.
    #[error("min_size must be at least 1")]
    MinSizeZero,
    /// `max_size` is below twice `min_size`, so no cell could be split into two valid halves.
    #[error(
        "max_size ({max}) must be at least twice min_size ({min}) so that an oversized cell can be split into two cells of at least min_size"
    )]
    MaxTooSmall {
        /// min_size.
        min: usize,
        /// max_size.
        max: usize,
    },
    /// An OPTICS setting is out of range.
    #[error(
        "OPTICS setting {index} (min_samples {min_samples}, xi {xi}) is invalid: min_samples must be at least 2 and xi in (0, 1)"
    )]
    BadSetting {
        /// Position in the list, from 1.
        index: usize,
        /// min_samples given.
        min_samples: usize,
        /// xi given.
        xi: f64,
    },
}

/// Errors of the split stage.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum SplitError {
    /// The parameters are out of range (an OPTICS setting, or the sizes).
    #[error(transparent)]
    Params(#[from] SplitParamsError),
    /// OPTICS failed on a cell's points.
    #[error("clustering the points of cell '{cell}': {source}")]
    Optics {
        /// Cell name.
        cell: String,
        /// The OPTICS error.
        #[source]
        source: OpticsError,
    },
    /// The Voronoi carve failed.
    #[error("carving cell '{cell}': {source}")]
    Voronoi {
        /// Cell name.
        cell: String,
        /// The Voronoi error.
        #[source]
        source: VoronoiError,
    },
    /// With [`SplitParams::check_each_carve`]: a carve broke the partition's invariants.
    #[error("carve {carve} in family {family} ('{cell}') broke the partition: {detail}")]
    CarveCheck {
        /// Family (admin cell) index.
        family: u32,
        /// Cell name.
        cell: String,
        /// Carves made in the family so far.
        carve: usize,
        /// What failed.
        detail: String,
    },
}

/// The distance OPTICS clusters with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Chord distance on the sphere in km ([`crate::split::optics::optics_sphere`]): right at every
    /// latitude and across the antimeridian. The default.
    #[default]
    Sphere,
    /// Euclidean distance on raw lon/lat degrees, as PIGEON calls scikit-learn; for comparisons.
    Degrees,
}

/// OPTICS settings of PIGEON's street-view geocells (`OPTICS_PARAMS_GEOGUESSR` in PIGEON's
/// `cell_collection.py`): `(min_samples, xi)`.
pub const PIGEON_SETTINGS: [(usize, f64); 3] = [(8, 0.05), (10, 0.025), (15, 0.015)];

/// OPTICS settings of PIGEOTTO's photo geocells (`OPTICS_PARAMS_YFCC`, the list PIGEON's
/// published code always uses).
pub const PIGEOTTO_SETTINGS: [(usize, f64); 3] = [(300, 0.05), (400, 0.005), (1000, 0.0001)];

/// Parameters of the split. `Default` is the `pigeon` preset (MINSIZE 30, MAX 60,
/// [`PIGEON_SETTINGS`], sphere metric, fallback on).
///
/// MINSIZE and MAX live here only: the fuse takes MINSIZE from here
/// ([`crate::partition::fuse::plan_cells_with`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitParams {
    /// MINSIZE: neither side of a carve may hold fewer points; the fuse fuses cells below it.
    pub min_size: usize,
    /// MAX: cells above this are split.
    pub max_size: usize,
    /// OPTICS settings `(min_samples, xi)`, applied in order.
    pub optics: Vec<(usize, f64)>,
    /// OPTICS distance.
    pub metric: Metric,
    /// Split what the settings leave above MAX (straight cuts, then an exact division).
    pub fallback: bool,
    /// Check the family's invariants after every carve (slow; for tests and debugging).
    pub check_each_carve: bool,
}

impl Default for SplitParams {
    fn default() -> Self {
        Self {
            min_size: 30,
            max_size: 60,
            optics: PIGEON_SETTINGS.to_vec(),
            metric: Metric::Sphere,
            fallback: true,
            check_each_carve: false,
        }
    }
}

impl SplitParams {
    /// Sets MINSIZE.
    #[must_use]
    pub fn min_size(mut self, v: usize) -> Self {
        self.min_size = v;
        self
    }
    /// Sets MAX.
    #[must_use]
    pub fn max_size(mut self, v: usize) -> Self {
        self.max_size = v;
        self
    }
    /// Sets the OPTICS settings `(min_samples, xi)`.
    #[must_use]
    pub fn optics(mut self, v: Vec<(usize, f64)>) -> Self {
        self.optics = v;
        self
    }
    /// Sets the metric.
    #[must_use]
    pub fn metric(mut self, v: Metric) -> Self {
        self.metric = v;
        self
    }
    /// Turns the MAX fallback on or off.
    #[must_use]
    pub fn fallback(mut self, v: bool) -> Self {
        self.fallback = v;
        self
    }
    /// Turns the per-carve check on or off.
    #[must_use]
    pub fn check_each_carve(mut self, v: bool) -> Self {
        self.check_each_carve = v;
        self
    }

    /// Checks the sizes and the OPTICS settings.
    ///
    /// ```
    /// use geocells::split::driver::SplitParams;
    /// assert!(SplitParams::default().validate().is_ok());
    /// assert!(SplitParams::default().optics(vec![(1, 0.05)]).validate().is_err());
    /// assert!(SplitParams::default().min_size(40).validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`SplitParamsError::MinSizeZero`], [`SplitParamsError::MaxTooSmall`], or
    /// [`SplitParamsError::BadSetting`] naming the first bad setting.
    pub fn validate(&self) -> Result<(), SplitParamsError> {
        if self.min_size == 0 {
            return Err(SplitParamsError::MinSizeZero);
        }
        if self.max_size < self.min_size.saturating_mul(2) {
            return Err(SplitParamsError::MaxTooSmall {
                min: self.min_size,
                max: self.max_size,
            });
        }
        for (i, &(m, xi)) in self.optics.iter().enumerate() {
            if m < 2 || !(xi > 0.0 && xi < 1.0) {
                return Err(SplitParamsError::BadSetting {
                    index: i + 1,
                    min_samples: m,
                    xi,
                });
            }
        }
        Ok(())
    }
}

/// What one OPTICS setting did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingReport {
    /// min_samples.
    pub min_samples: usize,
    /// xi.
    pub xi: f64,
    /// Cells above MAX when the setting started.
    pub above_max_before: usize,
    /// Cells that had at least one cluster carved out of them.
    pub cells_split: usize,
    /// Carves made.
    pub carves: usize,
    /// Cells above MAX when the setting finished.
    pub above_max_after: usize,
    /// Wall time in seconds (the only field that varies between runs).
    #[serde(skip)]
    pub seconds: f64,
}

/// Why a cell could not be brought to MAX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unsplittable {
    /// All its points are at one location.
    AllIdentical,
    /// No division of its locations into two groups of at least MINSIZE points exists (an exact
    /// subset-sum over the locations' multiplicities; heavy duplicates).
    Duplicates,
    /// The fallback's carve would have left a side below MINSIZE once points were reassigned
    /// to the polygons holding them.
    CarveRejected,
    /// The fallback is turned off.
    FallbackOff,
    /// The exact division search would exceed its work limit
    /// ([`crate::split::division::DP_LIMIT`]), so it is not known whether the cell can be divided.
    SearchLimit,
}

/// A cell left above MAX, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftAboveMax {
    /// Final cell id.
    pub cell_id: u32,
    /// Cell name.
    pub name: String,
    /// Points.
    pub size: usize,
    /// Why.
    pub reason: Unsplittable,
}

/// What the split stage did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitReport {
    /// Metric used.
    pub metric: Metric,
    /// Cells above MAX before the split.
    pub above_max_before: usize,
    /// Per OPTICS setting, in order.
    pub settings: Vec<SettingReport>,
    /// Cells above MAX after the OPTICS settings, before the fallback.
    pub above_max_after_optics: usize,
    /// Carves made by the fallback.
    pub fallback_carves: usize,
    /// Fallback wall time in seconds.
    #[serde(skip)]
    pub fallback_seconds: f64,
    /// Cells above MAX at the end.
    pub above_max_after: usize,
    /// Those cells, with reasons.
    pub left_above_max: Vec<LeftAboveMax>,
    /// Polygon fragments handed to a neighbouring cell after carves.
    pub fragments_moved: usize,
    /// Points that moved with those fragments.
    pub fragment_points_moved: usize,
    /// Points moved after the carves to the cell `assign::CellLookup` gives them (snapped
    /// points, and points a carve left within its tolerance of their side), so that new
    /// points at a training point's position get its cell.
    pub points_reconciled: usize,
    /// Points whose cell differs from `CellLookup`'s but that could not move without taking a
    /// cell below MINSIZE or above MAX (expected 0).
    pub points_disagreeing: usize,
}

/// The partition after the split.
#[derive(Debug, Clone)]
pub struct SplitOutcome {
    /// The cells: families in order, within a family the remainder of the admin cell first,
    /// then the carved cells in the order they were made.
    pub cells: CellSet,
    /// New cell of every labelled point.
    pub cell_of_point: Vec<u32>,
    /// For each family (admin cell), the id of its first cell (the remainder).
    pub family_first_cell: Vec<u32>,
    /// What happened.
    pub report: SplitReport,
}

/// One cell of a family while it is being split, or as a shard recorded it (see
/// [`assemble_outcome`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitPart {
    /// Its polygons.
    pub geometry: MultiPolygon<f64>,
    /// Label indices of its points, ascending.
    pub points: Vec<u32>,
    /// How it came about.
    pub origin: CellOrigin,
}

type Part = SplitPart;

/// A split family as [`assemble_outcome`] takes it: the admin cell at `position` of the admin
/// cells and its parts in creation order (the remainder first).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitFamily {
    /// Position of the admin cell in the admin [`CellSet`].
    pub position: usize,
    /// The parts, remainder first, then in the order they were carved.
    pub parts: Vec<SplitPart>,
    /// Parts (by index) left above MAX, with the reason.
    pub unsplittable: Vec<(usize, Unsplittable)>,
}

/// A family being split.
#[derive(Debug)]
struct Family {
    index: u32,
    name: String,
    /// Planar area of the admin cell (square degrees), for the per-carve check.
    area: f64,
    parts: Vec<Part>,
    carves: usize,
    fragments_moved: usize,
    fragment_points_moved: usize,
    unsplittable: Vec<(usize, Unsplittable)>,
    /// Points a carve left on a side whose polygon does not hold them (within the tolerance):
    /// checked again by [`reconcile`].
    uncertain: Vec<u32>,
    /// Points [`reconcile`] moved to the cell `CellLookup` gives them.
    reconciled: usize,
    /// Points whose cell differs from `CellLookup`'s but could not move (MINSIZE / MAX).
    disagreeing: usize,
}

/// Splits every cell above MAX (see the module docs) and returns the new partition.
///
/// `cells` must be the admin cells of the fuse (one family each) and `labels` their points.
/// The progress bar counts families per setting.
///
/// # Errors
/// [`SplitError`] for bad settings, or when a carve fails (never for data that merely cannot
/// be split: those cells are reported in [`SplitReport::left_above_max`]).
pub fn split_cells(
    cells: &CellSet,
    areas: &[Area],
    labels: &Labels,
    params: &SplitParams,
    progress: &dyn Progress,
) -> Result<SplitOutcome, SplitError> {
    params.validate()?;
    split_selected(cells, areas, labels, params, &|_| true, progress)
}

/// [`split_cells`] on the admin cells for which `selected(position)` holds; the others are
/// kept as they are (and counted in no report figure). Families never interact, so the
/// selected families come out exactly as in a run over all of them: this is what runs per
/// country (`Params::countries`) rely on. `params` must be valid ([`SplitParams::validate`]:
/// the pipeline validates them once, in `Pipeline::new`).
///
/// # Errors
/// As [`split_cells`], but for bad parameters.
pub(crate) fn split_selected(
    cells: &CellSet,
    areas: &[Area],
    labels: &Labels,
    params: &SplitParams,
    selected: &(dyn Fn(usize) -> bool + Sync),
    progress: &dyn Progress,
) -> Result<SplitOutcome, SplitError> {
    let max = params.max_size;
    let n = labels.points.len();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); cells.len()];
    for (i, &c) in labels.cell.iter().enumerate() {
        if let Some(m) = members.get_mut(c as usize) {
            m.push(i as u32);
        }
    }
    let big: Vec<usize> = (0..cells.len())
        .filter(|&c| members[c].len() > max && selected(c))
        .collect();
    // Positions the split works with: a snapped point (off every polygon) stands just inside
    // its area, next to its nearest boundary point, so it is inside the polygon being cut.
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|i| (labels.points.lon[i], labels.points.lat[i]))
        .collect();
    let moved: Vec<(u32, (f64, f64))> = big
        .par_iter()
        .flat_map_iter(|&c| {
            members[c]
                .iter()
                .filter(|&&i| labels.snap_km[i as usize] > 0.0)
                .map(|&i| {
                    // The snap rule of the assignment (crate::geom::geodesy::snap_site), on the
                    // point's own area: the position lies inside that area, next to its edge.
                    let p = pos_of(labels, i);
                    let area = &areas[labels.area[i as usize] as usize].geometry;
                    let rings = area
                        .0
                        .iter()
                        .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
                        .map(|r| r.0.as_slice());
                    let site = crate::geom::geodesy::snap_to_rings(rings, Coord { x: p.0, y: p.1 })
                        .map_or(p, |(s, _)| s);
                    (i, site)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (i, p) in moved {
        pos[i as usize] = p;
    }

    let mut families: Vec<Family> = big
        .iter()
        .map(|&c| Family {
            index: c as u32,
            name: cells.cells[c].name.clone(),
            area: cells.cells[c].geometry.unsigned_area(),
            parts: vec![Part {
                geometry: cells.cells[c].geometry.clone(),
                points: std::mem::take(&mut members[c]),
                origin: CellOrigin::Admin,
            }],
            carves: 0,
            fragments_moved: 0,
            fragment_points_moved: 0,
            unsplittable: Vec::new(),
            uncertain: Vec::new(),
            reconciled: 0,
            disagreeing: 0,
        })
        .collect();
    let above = |fams: &[Family]| -> usize {
        fams.iter()
            .flat_map(|f| f.parts.iter())
            .filter(|p| p.points.len() > max)
            .count()
    };
    let above_max_before = above(&families);

    let mut settings = Vec::new();
    for (s, &(m, xi)) in params.optics.iter().enumerate() {
        let t = Instant::now();
        let before = above(&families);
        progress.stage(
            &format!(
                "split: OPTICS setting {} of {} ({m}, {xi})",
                s + 1,
                params.optics.len()
            ),
            families.len() as u64,
        );
        let opt = OpticsParams::new(m, xi);
        let results: Vec<Result<(usize, usize), SplitError>> = families
            .par_iter_mut()
            .map(|f| {
                let r = run_setting(f, s as u16, &opt, &pos, labels, params);
                progress.inc(1);
                r
            })
            .collect();
        progress.done();
        let (mut cells_split, mut carves) = (0, 0);
        for r in results {
            let (a, b) = r?;
            cells_split += a;
            carves += b;
        }
        settings.push(SettingReport {
            min_samples: m,
            xi,
            above_max_before: before,
            cells_split,
            carves,
            above_max_after: above(&families),
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    let above_max_after_optics = above(&families);

    let t = Instant::now();
    let mut fallback_carves = 0;
    if params.fallback {
        progress.stage(
            "split: MAX fallback (straight cuts, exact division)",
            families.len() as u64,
        );
        let results: Vec<Result<usize, SplitError>> = families
            .par_iter_mut()
            .map(|f| {
                let r = run_fallback(f, &pos, labels, params);
                progress.inc(1);
                r
            })
            .collect();
        progress.done();
        for r in results {
            fallback_carves += r?;
        }
    } else {
        for f in &mut families {
            for (k, p) in f.parts.iter().enumerate() {
                if p.points.len() > max {
                    f.unsplittable.push((k, Unsplittable::FallbackOff));
                }
            }
        }
    }
    families
        .par_iter_mut()
        .for_each(|f| reconcile(f, labels, params));
    let fallback_seconds = t.elapsed().as_secs_f64();

    let report = SplitReport {
        metric: params.metric,
        above_max_before,
        settings,
        above_max_after_optics,
        fallback_carves,
        fallback_seconds,
        above_max_after: 0,
        left_above_max: Vec::new(),
        fragments_moved: families.iter().map(|f| f.fragments_moved).sum(),
        fragment_points_moved: families.iter().map(|f| f.fragment_points_moved).sum(),
        points_reconciled: families.iter().map(|f| f.reconciled).sum(),
        points_disagreeing: families.iter().map(|f| f.disagreeing).sum(),
    };
    let families = families
        .into_iter()
        .map(|f| SplitFamily {
            position: f.index as usize,
            parts: f.parts,
            unsplittable: f.unsplittable,
        })
        .collect();
    Ok(assemble_outcome(
        cells, areas, labels, families, max, report,
    ))
}

/// Builds the partition from the admin cells and the split families: families in admin-cell
/// order, parts in creation order, cell ids dense in that order; fills in
/// [`SplitReport::above_max_after`] and [`SplitReport::left_above_max`]. [`split_cells`] ends
/// here, and so does a merge of per-country runs ([`crate::pipeline::merge`]), which is why both give
/// the same bytes.
pub fn assemble_outcome(
    cells: &CellSet,
    areas: &[Area],
    labels: &Labels,
    families: Vec<SplitFamily>,
    max: usize,
    mut report: SplitReport,
) -> SplitOutcome {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); cells.len()];
    for (i, &c) in labels.cell.iter().enumerate() {
        if let Some(m) = members.get_mut(c as usize) {
            m.push(i as u32);
        }
    }
    let mut split_of: Vec<Option<usize>> = vec![None; cells.len()];
    for (k, f) in families.iter().enumerate() {
        split_of[f.position] = Some(k);
    }
    let mut cell_of_point = labels.cell.clone();
    let mut family_first_cell = Vec::with_capacity(cells.len());
    let mut out: Vec<Cell> = Vec::with_capacity(cells.len());
    let mut left_above_max = Vec::new();
    let mut pending: Vec<(u32, Part)> = Vec::new();
    for (c, cell) in cells.cells.iter().enumerate() {
        family_first_cell.push((out.len() + pending.len()) as u32);
        match split_of[c] {
            None => {
                let mut cell = cell.clone();
                cell.id = (out.len() + pending.len()) as u32;
                for i in &members[c] {
                    cell_of_point[*i as usize] = cell.id;
                }
                flush(&mut out, &mut pending, cells, areas, labels);
                out.push(cell);
            }
            Some(k) => {
                let f = &families[k];
                for (j, part) in f.parts.iter().enumerate() {
                    let id = (out.len() + pending.len()) as u32;
                    for i in &part.points {
                        cell_of_point[*i as usize] = id;
                    }
                    if let Some((_, reason)) = f.unsplittable.iter().find(|(p, _)| *p == j) {
                        left_above_max.push(LeftAboveMax {
                            cell_id: id,
                            name: cell.name.clone(),
                            size: part.points.len(),
                            reason: *reason,
                        });
                    }
                    pending.push((c as u32, part.clone()));
                }
            }
        }
    }
    flush(&mut out, &mut pending, cells, areas, labels);
    report.above_max_after = out.iter().filter(|c| c.size > max).count();
    report.left_above_max = left_above_max;
    SplitOutcome {
        cells: CellSet { cells: out },
        cell_of_point,
        family_first_cell,
        report,
    }
}

/// Builds the pending carved cells (in parallel, in order) and appends them to `out`.
fn flush(
    out: &mut Vec<Cell>,
    pending: &mut Vec<(u32, Part)>,
    cells: &CellSet,
    areas: &[Area],
    labels: &Labels,
) {
    if pending.is_empty() {
        return;
    }
    let start = out.len() as u32;
    let built: Vec<Cell> = std::mem::take(pending)
        .into_par_iter()
        .enumerate()
        .map(|(k, (position, part))| {
            let Part {
                geometry,
                points,
                origin,
            } = part;
            let fam = &cells.cells[position as usize];
            // Names from the member area holding most of this cell's points.
            let mut counts: std::collections::BTreeMap<u32, usize> = Default::default();
            for &i in &points {
                *counts.entry(labels.area[i as usize]).or_default() += 1;
            }
            let dominant = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(&a, _)| a)
                .unwrap_or(fam.areas[0]);
            Cell::assemble(
                start + k as u32,
                fam.family,
                origin,
                &areas[dominant as usize],
                fam.areas.clone(),
                geometry,
                points.iter().map(|&i| pos_of(labels, i)),
            )
        })
        .collect();
    out.extend(built);
}

fn pos_of(labels: &Labels, i: u32) -> (f64, f64) {
    (labels.points.lon[i as usize], labels.points.lat[i as usize])
}

/// One OPTICS setting on one family: carve until no cell above MAX yields a carve. Returns
/// (cells split, carves).
fn run_setting(
    f: &mut Family,
    setting: u16,
    opt: &OpticsParams,
    pos: &[(f64, f64)],
    labels: &Labels,
    params: &SplitParams,
) -> Result<(usize, usize), SplitError> {
    let max = params.max_size;
    let mut queue: VecDeque<usize> = (0..f.parts.len())
        .filter(|&k| f.parts[k].points.len() > max)
        .collect();
    let mut split = std::collections::BTreeSet::new();
    let mut carves = 0;
    // The last OPTICS run's points (ascending) and core distances, to skip recomputing the
    // core distances a carve cannot have changed.
    let mut cache: Option<(Vec<u32>, Vec<f64>)> = None;
    while let Some(k) = queue.pop_front() {
        if f.parts[k].points.len() <= max {
            continue;
        }
        let Some(flags) = optics_flags(&f.parts[k], opt, pos, params, &f.name, &mut cache)? else {
            continue;
        };
        if let Some(changed) = carve(
            f,
            k,
            &flags,
            pos,
            labels,
            params,
            CellOrigin::Optics(setting),
        )? {
            carves += 1;
            split.insert(k);
            for c in changed {
                if f.parts[c].points.len() > max && !queue.contains(&c) {
                    queue.push_back(c);
                }
            }
        }
    }
    Ok((split.len(), carves))
}

/// The largest OPTICS cluster of a cell, as flags over its points, if it and the rest both
/// reach MINSIZE.
fn optics_flags(
    part: &Part,
    opt: &OpticsParams,
    pos: &[(f64, f64)],
    params: &SplitParams,
    name: &str,
    cache: &mut Option<(Vec<u32>, Vec<f64>)>,
) -> Result<Option<Vec<bool>>, SplitError> {
    let n = part.points.len();
    if n < opt.min_samples.max(2) {
        return Ok(None);
    }
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    // A cell at one location has nothing to cluster (and the fallback reports it).
    if coords.iter().all(|c| c == &coords[0]) {
        return Ok(None);
    }
    let result = match params.metric {
        Metric::Sphere => match cache.as_ref() {
            Some((before, core)) => {
                let known = known_cores(&part.points, before, core, pos);
                optics_sphere_known(&coords, opt, &known)
            }
            None => optics_sphere(&coords, opt),
        }
        .inspect(|r| *cache = Some((part.points.clone(), r.core_distances.clone()))),
        Metric::Degrees => {
            let planar: Vec<[f64; 2]> = coords.iter().map(|&(x, y)| [x, y]).collect();
            optics_planar_fast(&planar, opt)
        }
    }
    .map_err(|source| SplitError::Optics {
        cell: name.to_string(),
        source,
    })?;
    let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
    for &l in &result.labels {
        if l >= 0 {
            *counts.entry(l).or_default() += 1;
        }
    }
    // Largest cluster, ties to the lowest label (numpy argmax over sorted labels).
    let Some((&label, &size)) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) else {
        return Ok(None);
    };
    if size < params.min_size || n - size < params.min_size {
        return Ok(None);
    }
    Ok(Some(result.labels.iter().map(|&l| l == label).collect()))
}

/// Core distances of `points` that an OPTICS run on `before` (with core distances `core`)
/// already gives exactly: a point's core distance is the distance to its `min_samples`-th
/// nearest neighbour, so it stays the same when every point added or removed since lies
/// farther away than it (strictly, with a margin far above rounding). Both lists ascend.
/// Cost: a merge of the two lists, an R-tree of the changed points and one nearest-neighbour
/// query per kept point, against `O(m log n)` per point for recomputing.
fn known_cores(
    points: &[u32],
    before: &[u32],
    core: &[f64],
    pos: &[(f64, f64)],
) -> Vec<Option<f64>> {
    use crate::split::optics::{dist, unit_sphere_km};
    // Walk both ascending lists: points also in `before` (with their index there) and the
    // changed ones (in one list only).
    let mut changed: Vec<(f64, f64)> = Vec::new();
    let mut was: Vec<Option<usize>> = Vec::with_capacity(points.len());
    let (mut a, mut b) = (0, 0);
    while a < points.len() || b < before.len() {
        match (points.get(a), before.get(b)) {
            (Some(&x), Some(&y)) if x == y => {
                was.push(Some(b));
                a += 1;
                b += 1;
            }
            (Some(&x), Some(&y)) if x < y => {
                was.push(None);
                changed.push(pos[x as usize]);
                a += 1;
            }
            (Some(&x), None) => {
                was.push(None);
                changed.push(pos[x as usize]);
                a += 1;
            }
            (_, Some(&y)) => {
                changed.push(pos[y as usize]);
                b += 1;
            }
            (None, None) => break,
        }
    }
    if changed.is_empty() {
        return was.iter().map(|w| w.map(|b| core[b])).collect();
    }
    let tree = rstar::RTree::bulk_load(unit_sphere_km(&changed));
    let here = unit_sphere_km(&points.iter().map(|&i| pos[i as usize]).collect::<Vec<_>>());
    was.par_iter()
        .zip(here.par_iter())
        .with_min_len(1024)
        .map(|(w, p)| {
            let c = core[(*w)?];
            let nearest = tree
                .nearest_neighbor(p)
                .map_or(f64::INFINITY, |q| dist(*p, *q));
            (nearest > c * (1.0 + 1e-9) + 1e-9).then_some(c)
        })
        .collect()
}

/// The fallback on one family: divide every cell above MAX until none is left or the rest
/// provably cannot be divided. Returns the carves made.
fn run_fallback(
    f: &mut Family,
    pos: &[(f64, f64)],
    labels: &Labels,
    params: &SplitParams,
) -> Result<usize, SplitError> {
    let max = params.max_size;
    let mut queue: VecDeque<usize> = (0..f.parts.len())
        .filter(|&k| f.parts[k].points.len() > max)
        .collect();
    let mut carves = 0;
    let mut given_up: Vec<(usize, Unsplittable)> = Vec::new();
    while let Some(k) = queue.pop_front() {
        if f.parts[k].points.len() <= max {
            continue;
        }
        let divisions = match divisions(&f.parts[k], pos, params.min_size) {
            Ok(x) => x,
            Err(reason) => {
                given_up.push((k, reason));
                continue;
            }
        };
        // Straight cuts first (the 2-means axis, then other directions), the subset-sum
        // division last; the first carve that keeps MINSIZE on both sides once points are
        // reassigned to the polygons holding them is taken.
        let mut done = None;
        for flags in divisions {
            if let Some(changed) = carve(f, k, &flags, pos, labels, params, CellOrigin::Bisect)? {
                done = Some(changed);
                break;
            }
        }
        match done {
            Some(changed) => {
                carves += 1;
                given_up.retain(|(p, _)| !changed.contains(p));
                for c in changed {
                    if f.parts[c].points.len() > max && !queue.contains(&c) {
                        queue.push_back(c);
                    }
                }
            }
            None => given_up.push((k, Unsplittable::CarveRejected)),
        }
    }
    given_up.sort_by_key(|g| g.0);
    given_up.dedup_by_key(|g| g.0);
    given_up.retain(|(k, _)| f.parts[*k].points.len() > max);
    f.unsplittable = given_up;
    Ok(carves)
}

/// After the carves, gives every point of the family that may sit on the wrong side of a border
/// (snapped points, and points a carve kept within its tolerance) the part
/// [`AreaIndex::locate`] gives its input position — the rule `assign::CellLookup` applies to
/// new points — when the move keeps both parts within MINSIZE and MAX; counts the points that
/// could not move. Points are visited in index order, so the result is deterministic.
fn reconcile(f: &mut Family, labels: &Labels, params: &SplitParams) {
    if f.parts.len() < 2 {
        return;
    }
    let mut check: Vec<(u32, usize)> = Vec::new();
    let uncertain: std::collections::BTreeSet<u32> = f.uncertain.iter().copied().collect();
    for (j, p) in f.parts.iter().enumerate() {
        for &i in &p.points {
            if labels.snap_km[i as usize] > 0.0 || uncertain.contains(&i) {
                check.push((i, j));
            }
        }
    }
    if check.is_empty() {
        return;
    }
    check.sort_unstable();
    let geoms: Vec<&MultiPolygon<f64>> = f.parts.iter().map(|p| &p.geometry).collect();
    let index = AreaIndex::from_polygons(&geoms);
    let wanted: Vec<Option<usize>> = check
        .par_iter()
        .map(|&(i, j)| {
            let (lon, lat) = pos_of(labels, i);
            index
                .locate(lon, lat)
                .map(|(t, _)| t as usize)
                .filter(|&t| t != j)
        })
        .collect();
    let mut sizes: Vec<usize> = f.parts.iter().map(|p| p.points.len()).collect();
    let mut moves: Vec<(u32, usize, usize)> = Vec::new();
    for (&(i, j), t) in check.iter().zip(wanted) {
        let Some(t) = t else { continue };
        if sizes[t] < params.max_size && sizes[j] > params.min_size {
            sizes[t] += 1;
            sizes[j] -= 1;
            moves.push((i, j, t));
        } else {
            f.disagreeing += 1;
        }
    }
    f.reconciled += moves.len();
    for (i, j, t) in moves {
        f.parts[j].points.retain(|&x| x != i);
        f.parts[t].points.push(i);
    }
    for p in &mut f.parts {
        p.points.sort_unstable();
    }
    let max = params.max_size;
    let parts = &f.parts;
    f.unsplittable.retain(|(k, _)| parts[*k].points.len() > max);
}

/// Cuts tried along the 2-means axis before other directions.
const MAX_CUT_TRIES: usize = 16;

/// Directions tried after the 2-means axis, evenly spaced over 180 degrees.
const AXIS_DIRECTIONS: usize = 180;

/// The divisions of a cell the fallback tries, in order, as flags over its points (the flagged
/// points are carved out), lazily: first cuts perpendicular to the 2-means axis in a local
/// azimuthal equidistant frame (km), nearest-first to the 2-means boundary; then the cut
/// nearest to an even split along each of [`AXIS_DIRECTIONS`] directions; then a division
/// found by the exact subset-sum search of [`crate::split::division`]. No division splits a location
/// and each leaves at least `min` points on both sides.
///
/// # Errors
/// The [`Unsplittable`] reason when no division exists (or the search is too large to decide).
fn divisions(
    part: &Part,
    pos: &[(f64, f64)],
    min: usize,
) -> Result<impl Iterator<Item = Vec<bool>> + use<>, Unsplittable> {
    use crate::split::division::{Locations, Subset, axis_cuts, subset_in_range};
    let n = part.points.len();
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    let locs = Locations::group(&coords);
    if locs.len() < 2 {
        return Err(Unsplittable::AllIdentical);
    }
    let (lon0, lat0) = spherical_mean(coords.iter().copied()).unwrap_or(coords[0]);
    let proj = LocalProjection::new(lon0, lat0);
    let xy: Vec<(f64, f64)> = locs.at.iter().map(|&(x, y)| proj.forward(x, y)).collect();
    let (dir, target) = two_means_axis(&xy, &locs.weight);
    let (order, cuts) = axis_cuts(&xy, &locs.weight, dir, min, target, MAX_CUT_TRIES);
    let subset = match subset_in_range(&locs.weight, min, &order) {
        Subset::Found(f) => f,
        Subset::Impossible => return Err(Unsplittable::Duplicates),
        Subset::TooLarge => return Err(Unsplittable::SearchLimit),
    };
    let nloc = locs.len();
    let prefix = move |order: &[usize], cut: usize| {
        let mut f = vec![false; nloc];
        for &l in &order[..cut] {
            f[l] = true;
        }
        f
    };
    let first: Vec<Vec<bool>> = cuts.iter().map(|&c| prefix(&order, c)).collect();
    let weights = locs.weight.clone();
    let others = (0..AXIS_DIRECTIONS).filter_map(move |k| {
        let a = std::f64::consts::PI * k as f64 / AXIS_DIRECTIONS as f64;
        let (order, cuts) = axis_cuts(&xy, &weights, (a.cos(), a.sin()), min, n / 2, 1);
        cuts.first().map(|&c| prefix(&order, c))
    });
    let of_point = locs.of_point;
    Ok(first
        .into_iter()
        .chain(others)
        .chain(std::iter::once(subset))
        .map(move |f| of_point.iter().map(|&l| f[l as usize]).collect()))
}

/// 2-means on weighted locations in a planar frame: the direction between the two means and
/// the number of points on the first mean's side (the cut the fallback prefers).
/// Deterministic: the means start at the location farthest from the weighted centre and the
/// location farthest from that one (lowest index on ties).
fn two_means_axis(xy: &[(f64, f64)], w: &[usize]) -> ((f64, f64), usize) {
    let d2 = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2);
    let total: f64 = w.iter().map(|&x| x as f64).sum();
    let centre = xy.iter().zip(w).fold((0.0, 0.0), |c, (p, &k)| {
        (c.0 + p.0 * k as f64 / total, c.1 + p.1 * k as f64 / total)
    });
    let farthest = |from: (f64, f64)| {
        let mut best = (0usize, -1.0f64);
        for (i, &p) in xy.iter().enumerate() {
            let d = d2(p, from);
            if d > best.1 {
                best = (i, d);
            }
        }
        best.0
    };
    let a = farthest(centre);
    let b = farthest(xy[a]);
    let (mut ca, mut cb) = (xy[a], xy[b]);
    let mut side: Vec<bool> = vec![false; xy.len()];
    let mut on_a = 0usize;
    for _ in 0..100 {
        let mut changed = false;
        let (mut sa, mut sb) = ((0.0, 0.0, 0usize), (0.0, 0.0, 0usize));
        for (i, &p) in xy.iter().enumerate() {
            let to_a = d2(p, ca) <= d2(p, cb);
            if to_a != side[i] {
                side[i] = to_a;
                changed = true;
            }
            let s = if to_a { &mut sa } else { &mut sb };
            s.0 += p.0 * w[i] as f64;
            s.1 += p.1 * w[i] as f64;
            s.2 += w[i];
        }
        if sa.2 > 0 {
            ca = (sa.0 / sa.2 as f64, sa.1 / sa.2 as f64);
        }
        if sb.2 > 0 {
            cb = (sb.0 / sb.2 as f64, sb.1 / sb.2 as f64);
        }
        on_a = sa.2;
        if !changed {
            break;
        }
    }
    let dir = (cb.0 - ca.0, cb.1 - ca.1);
    let dir = if dir.0 == 0.0 && dir.1 == 0.0 {
        (xy[b].0 - xy[a].0, xy[b].1 - xy[a].1)
    } else {
        dir
    };
    // Along `dir`, mean a comes first: the first `on_a` points are a's side.
    (dir, on_a)
}

/// Carves the flagged points of part `k` out as a new part. Returns the parts that changed
/// (`k`, the new one, and any that received fragments), or `None` when the carve would leave
/// an empty cell or a side below MINSIZE (nothing is changed then).
fn carve(
    f: &mut Family,
    k: usize,
    flags: &[bool],
    pos: &[(f64, f64)],
    labels: &Labels,
    params: &SplitParams,
    origin: CellOrigin,
) -> Result<Option<Vec<usize>>, SplitError> {
    let part = &f.parts[k];
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    let flags = &flags_by_location(&coords, flags);
    let mut region =
        cluster_region(&coords, flags, &part.geometry).map_err(|source| SplitError::Voronoi {
            cell: f.name.clone(),
            source,
        })?;
    region.0.retain(|p| p.unsigned_area() > 0.0);
    if region.0.is_empty() {
        return Ok(None);
    }
    let mut rest = crate::geom::overlay::difference(&part.geometry, &region);
    rest.0.retain(|p| p.unsigned_area() > 0.0);
    if rest.0.is_empty() {
        return Ok(None);
    }
    // Points follow the geometry: a point stays on its side if it is inside that side's polygon
    // or within POINT_TOL_KM of it (points on the cut, grid rounding); otherwise it goes to the
    // polygon holding it, or the nearer one. Snapped points stand at their site inside their
    // area (crate::geom::geodesy::snap_site), so they follow the same rule; `reconcile` checks them
    // against the lookup rule for new points once the family is done.
    let sides = AreaIndex::from_polygons(&[&region, &rest]);
    let (mut new_pts, mut old_pts) = (Vec::new(), Vec::new());
    let mut uncertain = Vec::new();
    for (j, &i) in part.points.iter().enumerate() {
        let to_new = {
            let c = Coord {
                x: pos[i as usize].0,
                y: pos[i as usize].1,
            };
            let (own, own_side, other, other_side) = if flags[j] {
                (&region, 0, &rest, 1)
            } else {
                (&rest, 1, &region, 0)
            };
            let inside = sides.contains(own_side, c);
            let stays = inside
                || crate::partition::cells::distance_to_boundary_km(own, c) <= POINT_TOL_KM
                || (!sides.contains(other_side, c)
                    && crate::partition::cells::distance_to_boundary_km(own, c)
                        <= crate::partition::cells::distance_to_boundary_km(other, c));
            if !inside {
                uncertain.push(i);
            }
            stays == flags[j]
        };
        if to_new {
            new_pts.push(i);
        } else {
            old_pts.push(i);
        }
    }
    if new_pts.len() < params.min_size || old_pts.len() < params.min_size {
        return Ok(None);
    }
    f.uncertain.extend(uncertain);
    f.parts[k].geometry = rest;
    f.parts[k].points = old_pts;
    f.parts.push(Part {
        geometry: region,
        points: new_pts,
        origin,
    });
    f.carves += 1;
    let j = f.parts.len() - 1;
    let mut changed = vec![k, j];
    for recipient in clean_fragments(f, &[k, j], pos, params.min_size) {
        if !changed.contains(&recipient) {
            changed.push(recipient);
        }
    }
    if params.check_each_carve {
        check_family(f, pos, labels).map_err(|detail| SplitError::CarveCheck {
            family: f.index,
            cell: f.name.clone(),
            carve: f.carves,
            detail,
        })?;
    }
    Ok(Some(changed))
}

/// Makes the flags agree at each location: points at one position are one Voronoi site, so
/// they all join the cluster when at least half of them are in it (OPTICS can put duplicates
/// on both sides).
fn flags_by_location(coords: &[(f64, f64)], flags: &[bool]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..coords.len()).collect();
    let key = |i: usize| (coords[i].0.to_bits(), coords[i].1.to_bits());
    order.sort_by_key(|&i| (key(i), i));
    let mut out = flags.to_vec();
    let mut s = 0;
    while s < order.len() {
        let mut e = s + 1;
        while e < order.len() && key(order[e]) == key(order[s]) {
            e += 1;
        }
        if e - s > 1 {
            let yes = order[s..e].iter().filter(|&&i| flags[i]).count();
            let v = 2 * yes >= e - s;
            for &i in &order[s..e] {
                out[i] = v;
            }
        }
        s = e;
    }
    out
}

/// Hands the minor polygons of the given parts to the neighbouring part (same family) with the
/// longest shared border. The main polygon of a part is the one holding most of its points
/// (ties: larger area). A minor polygon with points moves only if the donor keeps `min`
/// points. Returns the parts that received something.
fn clean_fragments(f: &mut Family, which: &[usize], pos: &[(f64, f64)], min: usize) -> Vec<usize> {
    let mut recipients = Vec::new();
    for &k in which {
        if f.parts[k].geometry.0.len() < 2 {
            continue;
        }
        let polys = f.parts[k].geometry.0.clone();
        // Points per polygon: the polygon holding the point, else the nearest.
        let prepared: Vec<IntervalTreeMultiPolygon<f64>> = polys
            .iter()
            .map(|p| IntervalTreeMultiPolygon::new(&MultiPolygon::new(vec![p.clone()])))
            .collect();
        let mut holder: Vec<usize> = Vec::with_capacity(f.parts[k].points.len());
        let mut count = vec![0usize; polys.len()];
        for &i in &f.parts[k].points {
            let c = Coord {
                x: pos[i as usize].0,
                y: pos[i as usize].1,
            };
            let h = prepared
                .iter()
                .position(|t| t.contains(&c))
                .unwrap_or_else(|| {
                    let mut best = (0usize, f64::INFINITY);
                    for (q, p) in polys.iter().enumerate() {
                        let d = crate::partition::cells::distance_to_boundary_km(
                            &MultiPolygon::new(vec![p.clone()]),
                            c,
                        );
                        if d < best.1 {
                            best = (q, d);
                        }
                    }
                    best.0
                });
            count[h] += 1;
            holder.push(h);
        }
        let areas: Vec<f64> = polys.iter().map(|p| p.unsigned_area()).collect();
        let main = (0..polys.len())
            .max_by(|&a, &b| {
                count[a]
                    .cmp(&count[b])
                    .then(areas[a].total_cmp(&areas[b]))
                    .then(b.cmp(&a))
            })
            .unwrap_or(0);
        let mut keep = vec![true; polys.len()];
        let mut remaining = f.parts[k].points.len();
        for q in 0..polys.len() {
            if q == main || (count[q] > 0 && remaining - count[q] < min) {
                continue;
            }
            let Some(to) = longest_border(&polys[q], f, k) else {
                continue;
            };
            // Move polygon q and its points to part `to`.
            keep[q] = false;
            remaining -= count[q];
            let mut merged: Vec<Polygon<f64>> = f.parts[to].geometry.0.clone();
            merged.push(polys[q].clone());
            f.parts[to].geometry =
                crate::input::admin::orient(crate::geom::overlay::union(merged.iter()));
            let moving: Vec<u32> = f.parts[k]
                .points
                .iter()
                .zip(&holder)
                .filter(|(_, h)| **h == q)
                .map(|(i, _)| *i)
                .collect();
            f.fragment_points_moved += moving.len();
            f.fragments_moved += 1;
            f.parts[to].points.extend(&moving);
            f.parts[to].points.sort_unstable();
            if !recipients.contains(&to) {
                recipients.push(to);
            }
        }
        if keep.iter().any(|k| !k) {
            let part = &mut f.parts[k];
            let kept: Vec<Polygon<f64>> = polys
                .into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(p, _)| p)
                .collect();
            let gone: std::collections::BTreeSet<usize> = holder
                .iter()
                .enumerate()
                .filter(|(_, h)| !keep[**h])
                .map(|(j, _)| j)
                .collect();
            part.geometry = MultiPolygon::new(kept);
            let pts = std::mem::take(&mut part.points);
            part.points = pts
                .into_iter()
                .enumerate()
                .filter(|(j, _)| !gone.contains(j))
                .map(|(_, i)| i)
                .collect();
        }
    }
    recipients
}

/// The part of `f` (other than `k`) sharing the longest border with `poly`, found by probing
/// just outside the middle of each boundary segment (polygons are oriented, so outside is to
/// the right of every ring). `None` when `poly` touches no other part.
fn longest_border(poly: &Polygon<f64>, f: &Family, k: usize) -> Option<usize> {
    const PROBE_DEG: f64 = 1e-6;
    let candidates: Vec<(usize, &Polygon<f64>, geo_types::Rect<f64>)> = f
        .parts
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != k)
        .flat_map(|(j, p)| {
            p.geometry
                .0
                .iter()
                .filter_map(move |q| q.bounding_rect().map(|r| (j, q, r)))
        })
        .collect();
    let mut border: std::collections::BTreeMap<usize, f64> = Default::default();
    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
        for w in ring.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let len = (dx * dx + dy * dy).sqrt();
            if len == 0.0 {
                continue;
            }
            let probe = Coord {
                x: (a.x + b.x) / 2.0 + dy / len * PROBE_DEG,
                y: (a.y + b.y) / 2.0 - dx / len * PROBE_DEG,
            };
            for (j, q, r) in &candidates {
                if probe.x >= r.min().x
                    && probe.x <= r.max().x
                    && probe.y >= r.min().y
                    && probe.y <= r.max().y
                    && q.contains(&probe)
                {
                    *border.entry(*j).or_default() += haversine_km((a.x, a.y), (b.x, b.y));
                    break;
                }
            }
        }
    }
    border
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(j, _)| j)
}

/// The per-carve check: the family's parts still cover the admin cell's area, do not overlap,
/// and hold every one of their points.
fn check_family(f: &Family, pos: &[(f64, f64)], labels: &Labels) -> Result<(), String> {
    let mut area = 0.0;
    let mut tolerance = 0.0;
    for p in &f.parts {
        area += p.geometry.unsigned_area();
        tolerance += union_tolerance(&p.geometry);
        if !crate::input::admin::is_valid_fast(&p.geometry) {
            return Err("a cell polygon is invalid".into());
        }
    }
    if (area - f.area).abs() > tolerance.max(crate::partition::cells::AREA_RTOL * f.area) {
        return Err(format!(
            "the cells cover {area:.9} deg², the admin cell {:.9}",
            f.area
        ));
    }
    let geoms: Vec<MultiPolygon<f64>> = f.parts.iter().map(|p| p.geometry.clone()).collect();
    let overlaps = crate::partition::cells::overlapping(&geoms, tolerance.max(1e-12));
    if let Some((a, b, x)) = overlaps.first() {
        return Err(format!("cells {a} and {b} overlap by {x:.3e} deg²"));
    }
    for (k, p) in f.parts.iter().enumerate() {
        let t = IntervalTreeMultiPolygon::new(&p.geometry);
        for &i in &p.points {
            let c = Coord {
                x: pos[i as usize].0,
                y: pos[i as usize].1,
            };
            if !t.contains(&c) {
                let d = crate::partition::cells::distance_to_boundary_km(&p.geometry, c);
                if d > POINT_TOL_KM {
                    return Err(format!(
                        "point {} is {d:.4} km outside its cell (part {k})",
                        labels.points.ids.display(i as usize)
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_core_distances_give_the_same_optics() {
        // Three blobs of seeded points in Bavaria; a run on all of them, then on the set after
        // carving out one blob and adding a few far points (as fragments may bring).
        let mut rng = crate::synth::SplitMix64::new(7);
        let mut pos: Vec<(f64, f64)> = Vec::new();
        for (cx, cy, n) in [(11.5, 48.1, 400), (12.1, 49.0, 300), (10.9, 49.4, 350)] {
            for _ in 0..n {
                pos.push((cx + rng.next_normal() * 0.05, cy + rng.next_normal() * 0.05));
            }
        }
        for _ in 0..20 {
            pos.push((11.0 + rng.next_f64(), 48.5 + rng.next_f64()));
        }
        let before: Vec<u32> = (0..1040).collect();
        let after: Vec<u32> = (400..1070).collect(); // first blob out, 30 points in
        let opt = OpticsParams::new(20, 0.05);
        let coords =
            |ids: &[u32]| -> Vec<(f64, f64)> { ids.iter().map(|&i| pos[i as usize]).collect() };
        let first = optics_sphere(&coords(&before), &opt).expect("optics");
        let known = known_cores(&after, &before, &first.core_distances, &pos);
        let reused = known.iter().filter(|k| k.is_some()).count();
        assert!(reused > 400 && reused < after.len() - 30, "{reused}");
        let fresh = optics_sphere(&coords(&after), &opt).expect("optics");
        let fast = optics_sphere_known(&coords(&after), &opt, &known).expect("optics");
        assert_eq!(fresh, fast);
        // A wrong "known" value changes the result: the check above can fail.
        let mut wrong = known.clone();
        let i = wrong.iter().position(Option::is_some).expect("some known");
        wrong[i] = wrong[i].map(|c| c * 2.0);
        let bad = optics_sphere_known(&coords(&after), &opt, &wrong).expect("optics");
        assert_ne!(fresh.core_distances, bad.core_distances);
    }
}
