//! The cell partition: polygons built once per cell, per-cell statistics, point labels, and
//! [`CellSet::validate`], the invariant checker every pipeline test calls.

use geo::algorithm::indexed::IntervalTreeMultiPolygon;
use geo::{Area as _, ChamberlainDuquetteArea, Contains, InteriorPoint};
use geo_types::{Coord, MultiPolygon};
use rayon::prelude::*;
use thiserror::Error;

use crate::geom::geodesy::spherical_mean;
use crate::geom::repair::orient;
use crate::input::area::Area;
use crate::input::points::Points;
use crate::partition::fuse::CellPlan;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Dense id `0..K-1`.
    pub id: u32,
    /// Name: the name of the member area with most points.
    pub name: String,
    /// Admin-1 code of that area.
    pub admin1_code: String,
    /// Admin-1 name of that area.
    pub admin1_name: String,
    /// Country code of that area.
    pub country_code: String,
    /// Country name of that area.
    pub country_name: String,
    /// The admin cell (fused admin areas, before the split) this cell was carved from; for a
    /// cell that was not split, its own index in the fuse plan. Cells of one family partition
    /// the family's admin areas.
    pub family: u32,
    /// How the cell came about.
    pub origin: CellOrigin,
    /// Admin areas of the cell's family (indices into the areas), ascending. A cell that was
    /// not split covers exactly these; a carved cell covers part of them.
    pub areas: Vec<u32>,
    /// Number of points labelled with this cell.
    pub size: usize,
    /// Valid, CCW-oriented polygons.
    pub geometry: MultiPolygon<f64>,
    /// Area on the sphere in km².
    pub area_km2: f64,
    /// Mean of the cell's points on the sphere (lon, lat); `None` for a cell without points.
    pub centroid: Option<(f64, f64)>,
    /// A point inside the polygon (geo's interior point), lon/lat.
    pub rep_point: (f64, f64),
    /// Number of polygons.
    pub num_polygons: usize,
}

/// How a cell came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellOrigin {
    /// An admin cell (fused admin areas), or what remains of one after carves.
    Admin,
    /// Carved out by OPTICS with the setting at this index (0-based) of the settings list.
    Optics(u16),
    /// Carved out by the MAX fallback (a straight cut or an exact division of the locations).
    Bisect,
    /// Carved out as a cluster higher in the xi hierarchy of the OPTICS setting at this index
    /// (by the first semantic pass; no longer made, still read from its outputs).
    Hierarchy(u16),
    /// Carved out by the semantic pass as a piece of the density tree of the reachability plot
    /// of the OPTICS setting at this index (`split::density`).
    Valley(u16),
}

impl CellOrigin {
    /// Short text form: `admin`, `optics:N` (N counted from 1), `bisect`, `hierarchy:N`,
    /// `valley:N`.
    ///
    /// ```
    /// use geocells::CellOrigin;
    /// assert_eq!(CellOrigin::Optics(0).code(), "optics:1");
    /// ```
    pub fn code(&self) -> String {
        match self {
            CellOrigin::Admin => "admin".into(),
            CellOrigin::Optics(s) => format!("optics:{}", s + 1),
            CellOrigin::Bisect => "bisect".into(),
            CellOrigin::Hierarchy(s) => format!("hierarchy:{}", s + 1),
            CellOrigin::Valley(s) => format!("valley:{}", s + 1),
        }
    }

    /// Reads [`CellOrigin::code`]'s form back.
    ///
    /// ```
    /// use geocells::CellOrigin;
    /// assert_eq!(CellOrigin::parse("optics:2"), Some(CellOrigin::Optics(1)));
    /// assert_eq!(CellOrigin::parse("optics:0"), None);
    /// ```
    pub fn parse(code: &str) -> Option<CellOrigin> {
        match code {
            "admin" => Some(CellOrigin::Admin),
            "bisect" => Some(CellOrigin::Bisect),
            _ => {
                let (kind, n) = code.split_once(':')?;
                let n: u16 = n.parse().ok()?;
                let make = match kind {
                    "optics" => CellOrigin::Optics,
                    "hierarchy" => CellOrigin::Hierarchy,
                    "valley" => CellOrigin::Valley,
                    _ => return None,
                };
                n.checked_sub(1).map(make)
            }
        }
    }
}

/// Point labels: for every accepted point, its area and cell, and how far it was snapped.
#[derive(Debug, Clone, PartialEq)]
pub struct PointCells {
    /// The labelled points, in input order.
    pub points: Points,
    /// Area of each point.
    pub area: Vec<u32>,
    /// Cell of each point.
    pub cell: Vec<u32>,
    /// Distance in km the point was moved onto land (0 for points inside their area).
    pub snap_km: Vec<f64>,
}

impl PointCells {
    /// Labelled points.
    pub fn len(&self) -> usize {
        self.cell.len()
    }

    /// True when no point was labelled.
    pub fn is_empty(&self) -> bool {
        self.cell.is_empty()
    }

    /// The labelled points of each of the cells `0..cells`, ascending; points labelled with a
    /// cell outside that range are left out. The grouping the split and the merge start from.
    pub(crate) fn points_per_cell(&self, cells: usize) -> Vec<Vec<u32>> {
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); cells];
        for (i, &c) in self.cell.iter().enumerate() {
            if let Some(m) = members.get_mut(c as usize) {
                m.push(i as u32);
            }
        }
        members
    }
}

/// The cells of a partition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CellSet {
    /// The cells, `cells[i].id == i`.
    pub(crate) cells: Vec<Cell>,
}

/// A failed invariant check: every problem found, each naming the cells or points at fault.
#[derive(Debug, Error)]
#[error("the cell partition breaks {} invariant(s): {}", problems.len(), problems.iter().take(10).cloned().collect::<Vec<_>>().join("; "))]
pub struct ValidationError {
    /// The problems.
    pub problems: Vec<String>,
}

/// What [`CellSet::validate`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationReport {
    /// Sum of the cells' planar areas (square degrees).
    pub sum_cell_area: f64,
    /// Total area of all pairwise overlaps between cells (square degrees): numerical slivers
    /// from rounding to the overlay grid where input borders do not share vertices.
    pub overlap_area: f64,
    /// Number of cell pairs that overlap by any positive area.
    pub overlapping_pairs: usize,
    /// Sum of the admin areas' planar areas (the land; admin areas are disjoint).
    pub land_area: f64,
    /// Points checked against their own cell.
    pub points_checked: usize,
}

/// Relative tolerance for area comparisons: i_overlay snaps coordinates to a grid of about
/// 2^-31 of the input extent, which shifts areas by about this much at world scale.
pub const AREA_RTOL: f64 = 1e-6;

/// How far (km) a point may be outside its own cell's polygon and still pass: boolean operations
/// snap vertices by millimetres, which moves points lying on a border.
pub const POINT_TOL_KM: f64 = 0.001;

impl Cell {
    /// A cell with its statistics: `geometry` loses zero-area polygons and is oriented; the
    /// size and centroid come from `points` (lon/lat of the cell's labelled points); names come
    /// from `dominant`.
    pub fn assemble(
        id: u32,
        family: u32,
        origin: CellOrigin,
        dominant: &Area,
        areas: Vec<u32>,
        mut geometry: MultiPolygon<f64>,
        points: impl Iterator<Item = (f64, f64)>,
    ) -> Cell {
        geometry.0.retain(|p| p.unsigned_area() > 0.0);
        let geometry = orient(geometry);
        let mut size = 0usize;
        let centroid = spherical_mean(points.inspect(|_| size += 1));
        Cell {
            id,
            name: dominant.name.clone(),
            admin1_code: dominant.admin1_code.clone(),
            admin1_name: dominant.admin1_name.clone(),
            country_code: dominant.country_code.clone(),
            country_name: dominant.country_name.clone(),
            family,
            origin,
            areas,
            size,
            area_km2: geometry.chamberlain_duquette_unsigned_area() / 1e6,
            centroid,
            rep_point: geometry
                .interior_point()
                .map_or((f64::NAN, f64::NAN), |p| (p.x(), p.y())),
            num_polygons: geometry.0.len(),
            geometry,
        }
    }
}

impl CellSet {
    /// The cells, in id order (`cells()[i].id == i`).
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }
    /// Builds the cells of `plan`: one union of the member areas' polygons per cell (in
    /// parallel, deterministic), then statistics from the labelled points.
    pub fn build(areas: &[Area], plan: &CellPlan, labels: &PointCells) -> CellSet {
        let mut point_lists: Vec<Vec<usize>> = vec![Vec::new(); plan.cells.len()];
        for (i, &c) in labels.cell.iter().enumerate() {
            point_lists[c as usize].push(i);
        }
        let cells = plan
            .cells
            .par_iter()
            .enumerate()
            .map(|(id, pc)| {
                // Every cell, even a single area, goes through the same global-grid union so
                // neighbouring cells keep identical borders (see `overlay`).
                let geometry = crate::geom::overlay::union(
                    pc.areas
                        .iter()
                        .flat_map(|&a| areas[a as usize].geometry.0.iter()),
                );
                let pts = &point_lists[id];
                Cell::assemble(
                    id as u32,
                    id as u32,
                    CellOrigin::Admin,
                    &areas[pc.dominant as usize],
                    pc.areas.clone(),
                    geometry,
                    pts.iter()
                        .map(|&i| (labels.points.lon[i], labels.points.lat[i])),
                )
            })
            .collect();
        CellSet { cells }
    }

    /// The centroid of every cell for training targets and metrics: the mean of its points, or
    /// its representative point when it has none (`None` only if that is missing too).
    pub fn centroids(&self) -> Vec<Option<(f64, f64)>> {
        self.cells
            .iter()
            .map(|c| {
                c.centroid.or_else(|| {
                    (c.rep_point.0.is_finite() && c.rep_point.1.is_finite()).then_some(c.rep_point)
                })
            })
            .collect()
    }

    /// Dense parent ids for hierarchical heads: `(admin1_id, country_id)` of every cell, numbered
    /// in the sorted order of `(country_code, admin1_code)` and of `country_code`.
    ///
    /// ```
    /// let cells = geocells::CellSet::default();
    /// assert_eq!(cells.parent_ids(), (vec![], vec![]));
    /// ```
    pub fn parent_ids(&self) -> (Vec<u32>, Vec<u32>) {
        use std::collections::BTreeMap;
        let mut admin1: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        let mut country: BTreeMap<&str, u32> = BTreeMap::new();
        for c in &self.cells {
            admin1.insert((&c.country_code, &c.admin1_code), 0);
            country.insert(&c.country_code, 0);
        }
        for (i, v) in admin1.values_mut().enumerate() {
            *v = i as u32;
        }
        for (i, v) in country.values_mut().enumerate() {
            *v = i as u32;
        }
        self.cells
            .iter()
            .map(|c| {
                (
                    admin1[&(c.country_code.as_str(), c.admin1_code.as_str())],
                    country[c.country_code.as_str()],
                )
            })
            .unzip()
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True when there are no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Checks the partition's invariants:
    /// * ids are dense and in order, every polygon is valid and non-empty;
    /// * cells are pairwise disjoint: every pair of cells with intersecting bounding boxes is
    ///   intersected, and any overlap above a millionth of the tolerance is named;
    /// * cells cover the land: each admin area is in exactly one family (the cells carved from
    ///   one admin cell), each family's polygons have the area of its admin areas (tolerance:
    ///   the grid rounding of every cell's boundary, or `AREA_RTOL`), and the cells' areas
    ///   sum to the land's;
    /// * every labelled point is inside its own cell (within `POINT_TOL_KM`), or, if it was
    ///   snapped from off the land, within its snap distance (plus
    ///   `geom::geodesy::snap_step_km`) of the cell;
    /// * each cell's size equals the number of points labelled with it;
    /// * no cell holds points of two countries (the countries of the points' admin areas).
    ///
    /// Cost: one intersection per pair of neighbouring cells plus one point-in-polygon per
    /// point; parallel.
    ///
    /// # Errors
    /// [`ValidationError`] listing every problem found.
    pub fn validate(
        &self,
        areas: &[Area],
        labels: &PointCells,
    ) -> Result<ValidationReport, ValidationError> {
        self.validate_within(areas, labels, None)
    }

    /// [`CellSet::validate`] for the cells of part of the land, as a run restricted to some
    /// countries makes them: `scope[a]` says whether admin area `a` must be covered (exactly
    /// once); areas out of scope must not be in any cell. `None` is the whole land.
    ///
    /// # Errors
    /// As [`CellSet::validate`].
    pub fn validate_within(
        &self,
        areas: &[Area],
        labels: &PointCells,
        scope: Option<&[bool]>,
    ) -> Result<ValidationReport, ValidationError> {
        let in_scope = |a: usize| scope.is_none_or(|s| s.get(a).copied().unwrap_or(false));
        let mut problems = Vec::new();
        for (i, c) in self.cells.iter().enumerate() {
            if c.id as usize != i {
                problems.push(format!("cell at position {i} has id {}", c.id));
            }
            if c.geometry.0.is_empty() || c.geometry.unsigned_area() <= 0.0 {
                problems.push(format!("cell {} ({}) has an empty polygon", c.id, c.name));
            } else if !crate::geom::repair::is_valid_fast(&c.geometry) {
                problems.push(format!("cell {} ({}) has an invalid polygon", c.id, c.name));
            }
        }
        // Covering and disjointness without one world-wide union (i_overlay took over ten
        // minutes and 24 GB on the union of the world's 7,686 areas, and mis-nested a hole on
        // Canada's; see docs/decisions/0002-validation-and-unions.md):
        // * each cell's polygon has the area of its member admin areas (its union lost or
        //   added nothing), and the cells' areas sum to the land's, so every area is covered;
        // * no two cells overlap: every pair with intersecting bounding boxes is intersected.
        let area_of: Vec<f64> = areas
            .par_iter()
            .map(|a| a.geometry.unsigned_area())
            .collect();
        let land_area: f64 = area_of
            .iter()
            .enumerate()
            .filter(|(a, _)| in_scope(*a))
            .map(|(_, x)| x)
            .sum();
        let mut assigned = vec![0u32; areas.len()];
        let mut sum_cell_area = 0.0;
        // Tolerances come from the geometry: every cell boundary may have moved by a grid step
        // in the unions and carves (see `crate::geom::measure::union_tolerance`).
        let mut total_tolerance = 0.0;
        // Cells grouped by family (the admin cell they were carved from): the family's cells
        // name the same admin areas, and their areas add up to those areas' area.
        let mut families: std::collections::BTreeMap<u32, Vec<usize>> =
            std::collections::BTreeMap::default();
        for (i, c) in self.cells.iter().enumerate() {
            families.entry(c.family).or_default().push(i);
        }
        for (family, members_of) in &families {
            let first = &self.cells[members_of[0]];
            let mut cell_area = 0.0;
            let mut tolerance = 0.0;
            for &i in members_of {
                let c = &self.cells[i];
                let a = c.geometry.unsigned_area();
                sum_cell_area += a;
                cell_area += a;
                tolerance += crate::geom::measure::union_tolerance(&c.geometry);
                if c.areas != first.areas {
                    problems.push(format!(
                        "cells {} and {} of family {family} name different admin areas",
                        first.id, c.id
                    ));
                }
            }
            let mut members = 0.0;
            for &a in &first.areas {
                if let Some(x) = area_of.get(a as usize) {
                    members += x;
                    assigned[a as usize] += 1;
                } else {
                    problems.push(format!(
                        "cell {} names area {a}, which does not exist",
                        first.id
                    ));
                }
            }
            total_tolerance += tolerance;
            if (cell_area - members).abs() > tolerance.max(AREA_RTOL * members) {
                let what = if members_of.len() == 1 {
                    format!("cell {} ({})", first.id, first.name)
                } else {
                    format!(
                        "the {} cells of family {family} ({})",
                        members_of.len(),
                        first.name
                    )
                };
                problems.push(format!(
                    "{what} have area {cell_area:.6} deg² but their admin areas cover {members:.6}"
                ));
            }
        }
        let unassigned: Vec<String> = assigned
            .iter()
            .enumerate()
            .filter(|(a, n)| **n != u32::from(in_scope(*a)))
            .map(|(a, n)| format!("{} ({n} cells)", areas[a].code))
            .collect();
        if !unassigned.is_empty() {
            problems.push(format!(
                "{} admin areas are not in exactly one cell (or, out of scope, in none): {}",
                unassigned.len(),
                unassigned
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if (sum_cell_area - land_area).abs() > total_tolerance.max(AREA_RTOL * land_area) {
            problems.push(format!(
                "cells do not cover the land: their areas sum to {sum_cell_area:.6} deg², the land is {land_area:.6}"
            ));
        }
        let all_pairs = self.overlapping_pairs(0.0);
        let overlap_area: f64 = all_pairs.iter().map(|p| p.2).sum();
        let overlapping_pairs = all_pairs.len();
        // An overlap is a problem when it is wider than grid rounding: boundaries that a union
        // or carve moved by up to a grid step overlap by at most the shorter cell's perimeter
        // times two steps.
        let pairs: Vec<_> = all_pairs
            .into_iter()
            .filter(|p| {
                let rounding =
                    crate::geom::measure::union_tolerance(&self.cells[p.0 as usize].geometry).min(
                        crate::geom::measure::union_tolerance(&self.cells[p.1 as usize].geometry),
                    );
                p.2 > rounding
            })
            .collect();
        if !pairs.is_empty() {
            problems.push(format!(
                "{} pairs of cells overlap: {}",
                pairs.len(),
                pairs
                    .iter()
                    .take(10)
                    .map(|(a, b, x)| format!("{a}&{b} ({x:.2e} deg²)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // Points.
        let n = labels.points.len();
        if labels.cell.len() != n || labels.area.len() != n || labels.snap_km.len() != n {
            problems.push("label columns differ in length".into());
        } else {
            let mut sizes = vec![0usize; self.cells.len()];
            let mut bad_cell = Vec::new();
            for (i, &c) in labels.cell.iter().enumerate() {
                match sizes.get_mut(c as usize) {
                    Some(s) => *s += 1,
                    None => bad_cell.push(i),
                }
            }
            if !bad_cell.is_empty() {
                problems.push(format!("{} points have no such cell", bad_cell.len()));
            }
            // One country per cell: the countries of its points' areas.
            let mut country_of: Vec<Option<&str>> = vec![None; self.cells.len()];
            let mut mixed: std::collections::BTreeSet<(u32, String, String)> =
                std::collections::BTreeSet::default();
            for (&c, &a) in labels.cell.iter().zip(&labels.area) {
                let (Some(slot), Some(area)) =
                    (country_of.get_mut(c as usize), areas.get(a as usize))
                else {
                    continue;
                };
                match slot {
                    None => *slot = Some(&area.country_code),
                    Some(k) if *k != area.country_code => {
                        mixed.insert((c, k.to_string(), area.country_code.clone()));
                    }
                    Some(_) => {}
                }
            }
            if !mixed.is_empty() {
                problems.push(format!(
                    "{} cells hold points of two countries: {}",
                    mixed.len(),
                    mixed
                        .iter()
                        .take(10)
                        .map(|(c, a, b)| format!("cell {c} ({a} and {b})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            for (c, s) in self.cells.iter().zip(&sizes) {
                if c.size != *s {
                    problems.push(format!(
                        "cell {} has size {} but {} points",
                        c.id, c.size, s
                    ));
                }
            }
            let prepared: Vec<IntervalTreeMultiPolygon<f64>> = self
                .cells
                .par_iter()
                .map(|c| IntervalTreeMultiPolygon::new(&c.geometry))
                .collect();
            let outside: Vec<String> = (0..n)
                .into_par_iter()
                .with_min_len(1024)
                .filter_map(|i| {
                    let c = *labels.cell.get(i)? as usize;
                    let cell = self.cells.get(c)?;
                    let p = Coord { x: labels.points.lon[i], y: labels.points.lat[i] };
                    if prepared[c].contains(&p) {
                        return None;
                    }
                    let d = crate::geom::measure::distance_to_boundary_km(&cell.geometry, p);
                    let snap = labels.snap_km[i];
                    let step = if snap > 0.0 { crate::geom::geodesy::snap_step_km(snap) } else { 0.0 };
                    let allowed = snap + step + POINT_TOL_KM;
                    (d > allowed).then(|| {
                        format!(
                            "point {} ({:.6}, {:.6}) is {d:.3} km outside its cell {} (allowed {allowed:.3})",
                            labels.points.ids.display(i), p.x, p.y, c
                        )
                    })
                })
                .collect();
            if !outside.is_empty() {
                problems.push(format!(
                    "{} points lie outside their own cell: {}",
                    outside.len(),
                    outside
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        }
        if problems.is_empty() {
            Ok(ValidationReport {
                sum_cell_area,
                overlap_area,
                overlapping_pairs,
                land_area,
                points_checked: n,
            })
        } else {
            Err(ValidationError { problems })
        }
    }

    /// Pairs of cells whose polygons overlap by more than `min_area` square degrees.
    pub fn overlapping_pairs(&self, min_area: f64) -> Vec<(u32, u32, f64)> {
        let geoms: Vec<MultiPolygon<f64>> = self.cells.iter().map(|c| c.geometry.clone()).collect();
        crate::geom::measure::overlapping(&geoms, min_area)
    }
}
