//! A family while it is being split: one admin cell of the fuse, its parts (the remainder
//! first, then the cells carved out of it, in order) and the counts the report sums. Families
//! never interact, so each is split on its own.

use geo::Area as _;

use crate::partition::cells::{Cell, CellOrigin, PointCells};
use crate::split::report::{SplitPart, Unsplittable};

/// A family being split.
#[derive(Debug)]
pub(crate) struct Family {
    pub(crate) index: u32,
    pub(crate) name: String,
    /// Planar area of the admin cell (square degrees), for the per-carve check.
    pub(crate) area: f64,
    pub(crate) parts: Vec<SplitPart>,
    pub(crate) carves: usize,
    pub(crate) fragments_moved: usize,
    pub(crate) fragment_points_moved: usize,
    pub(crate) unsplittable: Vec<(usize, Unsplittable)>,
    /// Points a carve left on a side whose polygon does not hold them (within the tolerance):
    /// checked again by [`crate::split::fallback::reconcile`].
    pub(crate) uncertain: Vec<u32>,
    /// Points [`crate::split::fallback::reconcile`] moved to the cell `CellLookup` gives them.
    pub(crate) reconciled: usize,
    /// Points whose cell differs from `CellLookup`'s but could not move (MINSIZE / MAX).
    pub(crate) disagreeing: usize,
    /// Reachability plots of the last OPTICS setting for the parts it left above MAX and has
    /// not changed since, by part: the semantic pass divides them without a new run.
    pub(crate) plots: std::collections::BTreeMap<usize, crate::split::density::Plot>,
}

impl Family {
    /// The family of admin cell `index` (`cell`): one part, the whole cell, holding `points`.
    pub(crate) fn new(index: u32, cell: &Cell, points: Vec<u32>) -> Family {
        Family {
            index,
            name: cell.name.clone(),
            area: cell.geometry.unsigned_area(),
            parts: vec![SplitPart {
                geometry: cell.geometry.clone(),
                points,
                origin: CellOrigin::Admin,
            }],
            carves: 0,
            fragments_moved: 0,
            fragment_points_moved: 0,
            unsplittable: Vec::new(),
            uncertain: Vec::new(),
            reconciled: 0,
            disagreeing: 0,
            plots: std::collections::BTreeMap::new(),
        }
    }
}

/// The input position (lon, lat) of labelled point `i`.
pub(crate) fn pos_of(labels: &PointCells, i: u32) -> (f64, f64) {
    (labels.points.lon[i as usize], labels.points.lat[i as usize])
}
