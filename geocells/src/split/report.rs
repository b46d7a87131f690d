//! What the split stage gives back: the new partition ([`SplitOutcome`]), the parts of a split
//! family ([`SplitPart`], [`SplitFamily`], as shards record them) and what happened
//! ([`SplitReport`]: per OPTICS setting, the fallback, and the cells left above MAX with their
//! [`Unsplittable`] reason).

use geo_types::MultiPolygon;
use serde::Serialize;

use crate::partition::cells::{CellOrigin, CellSet};
use crate::split::params::Metric;

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

/// What the semantic pass did ([`crate::split::params::SplitParams::semantic`]): after the
/// OPTICS settings, each cell still above MAX is divided by the density tree of the last
/// setting's OPTICS run (`crate::split::density::density_tree`; the run is kept from the
/// setting when the cell has not changed since, else made again, and its xi clusters come
/// first), unless the compactness gate refuses the division.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SemanticReport {
    /// min_samples (of the last setting).
    pub min_samples: usize,
    /// xi (of the last setting).
    pub xi: f64,
    /// Cells above MAX when the pass started.
    pub above_max_before: usize,
    /// Cells that had at least one carve.
    pub cells_split: usize,
    /// Carves of xi clusters (of a run made again because the cell had changed).
    pub carves_xi: usize,
    /// Carves of density-tree pieces (runs of the ordering between density valleys).
    pub carves_valley: usize,
    /// Cells whose density-tree division the compactness gate refused
    /// ([`crate::split::params::SplitParams::semantic_tolerance`]): they go to the fallback.
    pub divisions_refused: usize,
    /// Cells above MAX when the pass finished.
    pub above_max_after: usize,
    /// Wall time in seconds.
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
    /// (`split::division::DP_LIMIT`), so it is not known whether the cell can be divided.
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
    /// Cells above MAX after the OPTICS settings (and the semantic pass), before the fallback.
    pub above_max_after_optics: usize,
    /// The semantic pass, when on.
    pub semantic: Option<SemanticReport>,
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
/// [`crate::split::driver::assemble_outcome`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitPart {
    /// Its polygons.
    pub geometry: MultiPolygon<f64>,
    /// Label indices of its points, ascending.
    pub points: Vec<u32>,
    /// How it came about.
    pub origin: CellOrigin,
}

/// A split family as [`crate::split::driver::assemble_outcome`] takes it: the admin cell at `position` of the admin
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
