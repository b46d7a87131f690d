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
//! * distances are chord distances on the sphere in km by default ([`crate::split::params::Metric::Sphere`]), and the
//!   Voronoi diagram is built in an azimuthal equidistant projection of the cell; PIGEON uses
//!   raw degrees for both ([`crate::split::params::Metric::Degrees`] reproduces its clustering);
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
//!
//! The steps, in order: [`crate::split::setting`] (one OPTICS setting on a family),
//! [`crate::split::fallback`] (straight cuts and exact divisions, then reconciling points near
//! borders), both carving through [`crate::split::carve`]; [`assemble_outcome`] numbers the cells.

use std::time::Instant;

use geo_types::Coord;
use rayon::prelude::*;

use crate::input::area::Area;
use crate::partition::cells::{Cell, CellSet, PointCells};
use crate::progress::Progress;
use crate::split::fallback::{reconcile, run_fallback};
use crate::split::family::{Family, pos_of};
use crate::split::optics::OpticsParams;
use crate::split::params::{SplitError, SplitParams};
use crate::split::report::SemanticReport;
use crate::split::report::{
    LeftAboveMax, SettingReport, SplitFamily, SplitOutcome, SplitPart, SplitReport, Unsplittable,
};
use crate::split::setting::{RuleCounts, Rules, run_setting};

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
    labels: &PointCells,
    params: &SplitParams,
    progress: &dyn Progress,
) -> Result<SplitOutcome, SplitError> {
    params.validate()?;
    split_selected(cells, areas, labels, params, &|_| true, progress)
}

/// Cells above `max` across the families.
fn above_max(families: &[Family], max: usize) -> usize {
    families
        .iter()
        .flat_map(|f| f.parts.iter())
        .filter(|p| p.points.len() > max)
        .count()
}

/// The semantic pass (`SplitParams::semantic`): the cells still above MAX are divided by the
/// density tree of the last setting's run ([`Rules::Semantic`]; the run kept in
/// `Family::plots` when the cell has not changed since, else made again).
fn semantic_pass(
    families: &mut [Family],
    (setting, min_samples, xi): (u16, usize, f64),
    pos: &[(f64, f64)],
    labels: &PointCells,
    params: &SplitParams,
    progress: &dyn Progress,
) -> Result<SemanticReport, SplitError> {
    let t = Instant::now();
    let max = params.max_size;
    let above = |fams: &[Family]| above_max(fams, max);
    let before = above(families);
    progress.stage("split: semantic pass (density tree)", families.len() as u64);
    let opt = OpticsParams::new(min_samples, xi);
    let results: Vec<Result<RuleCounts, SplitError>> = families
        .par_iter_mut()
        .map(|f| {
            if progress.cancelled() {
                return Err(SplitError::Cancelled);
            }
            let r = run_setting(f, setting, &opt, pos, labels, params, Rules::Semantic);
            f.plots.clear();
            progress.inc(1);
            r
        })
        .collect();
    progress.done();
    let mut total = RuleCounts::default();
    for r in results {
        let c = r?;
        total.cells_split += c.cells_split;
        total.xi += c.xi;
        total.valley += c.valley;
        total.refused += c.refused;
    }
    Ok(SemanticReport {
        min_samples,
        xi,
        above_max_before: before,
        cells_split: total.cells_split,
        carves_xi: total.xi,
        carves_valley: total.valley,
        divisions_refused: total.refused,
        above_max_after: above(families),
        seconds: t.elapsed().as_secs_f64(),
    })
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
    labels: &PointCells,
    params: &SplitParams,
    selected: &(dyn Fn(usize) -> bool + Sync),
    progress: &dyn Progress,
) -> Result<SplitOutcome, SplitError> {
    let max = params.max_size;
    let n = labels.points.len();
    let mut members = labels.points_per_cell(cells.len());
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
        .map(|&c| Family::new(c as u32, &cells.cells[c], std::mem::take(&mut members[c])))
        .collect();
    let above = |fams: &[Family]| above_max(fams, max);
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
        let results: Vec<Result<RuleCounts, SplitError>> = families
            .par_iter_mut()
            .map(|f| {
                if progress.cancelled() {
                    return Err(SplitError::Cancelled);
                }
                let rules = if params.semantic {
                    Rules::XiAll {
                        keep_plots: s + 1 == params.optics.len(),
                    }
                } else {
                    Rules::Xi
                };
                let r = run_setting(f, s as u16, &opt, &pos, labels, params, rules);
                progress.inc(1);
                r
            })
            .collect();
        progress.done();
        let (mut cells_split, mut carves) = (0, 0);
        for r in results {
            let c = r?;
            cells_split += c.cells_split;
            carves += c.carves();
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
    let semantic = match params.optics.last() {
        Some(&(m, xi)) if params.semantic => Some(semantic_pass(
            &mut families,
            ((params.optics.len() - 1) as u16, m, xi),
            &pos,
            labels,
            params,
            progress,
        )?),
        _ => None,
    };
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
                if progress.cancelled() {
                    return Err(SplitError::Cancelled);
                }
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
        semantic,
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
pub(crate) fn assemble_outcome(
    cells: &CellSet,
    areas: &[Area],
    labels: &PointCells,
    families: Vec<SplitFamily>,
    max: usize,
    mut report: SplitReport,
) -> SplitOutcome {
    let members = labels.points_per_cell(cells.len());
    let mut split_of: Vec<Option<usize>> = vec![None; cells.len()];
    for (k, f) in families.iter().enumerate() {
        split_of[f.position] = Some(k);
    }
    let mut cell_of_point = labels.cell.clone();
    let mut family_first_cell = Vec::with_capacity(cells.len());
    let mut out: Vec<Cell> = Vec::with_capacity(cells.len());
    let mut left_above_max = Vec::new();
    let mut pending: Vec<(u32, SplitPart)> = Vec::new();
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
    pending: &mut Vec<(u32, SplitPart)>,
    cells: &CellSet,
    areas: &[Area],
    labels: &PointCells,
) {
    if pending.is_empty() {
        return;
    }
    let start = out.len() as u32;
    let built: Vec<Cell> = std::mem::take(pending)
        .into_par_iter()
        .enumerate()
        .map(|(k, (position, part))| {
            let SplitPart {
                geometry,
                points,
                origin,
            } = part;
            let fam = &cells.cells[position as usize];
            // Names from the member area holding most of this cell's points.
            let mut counts: std::collections::BTreeMap<u32, usize> =
                std::collections::BTreeMap::default();
            for &i in &points {
                *counts.entry(labels.area[i as usize]).or_default() += 1;
            }
            let dominant = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(fam.areas[0], |(&a, _)| a);
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
