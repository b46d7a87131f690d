//! `report.json` as a type: [`Report`] and its sections, built from a run's parts
//! ([`Report::build`]) or from a run that labelled no point ([`Report::failed`]), and read back
//! with `serde_json::from_str::<Report>` (as the merge reads its shards).
//!
//! Every struct lists its fields in alphabetical order: `report.json` has always been written
//! with its keys sorted (it was a `serde_json::Value`, whose maps are sorted), and a struct
//! serializes its fields in order, so the file stays byte for byte what it was. Sections that
//! only a complete run has are `Option`s left out of a failed run's report. Numbers that can be
//! NaN (no points) are written as `null`, as before, and read back as NaN.
//!
//! This module names no type of [`crate::pipeline::run`] (which holds the [`Report`] of a run):
//! the run hands its parts over in [`ReportParts`], its parameters as a [`ParamsSection`].

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::input::admin::AdminAreas;
use crate::input::levels::{BoundaryFeature, LevelSpec};
use crate::input::points::{MemoryPoints, PointIds, PointsSpec, Reject};
use crate::partition::cells::{CellSet, PointCells, ValidationError, ValidationReport};
use crate::partition::fuse::CellPlan;
use crate::pipeline::inputs::Inputs;
use crate::quality::baselines::Baseline;
use crate::quality::metrics::{Accuracy, ErrorStats, PartitionQuality};
use crate::split::report::{LeftAboveMax, SettingReport, SplitReport, Unsplittable};

/// The contents of `report.json`. Fields in alphabetical order, as the file has them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Report {
    /// Repairs, overlaps, gaps and the columns read from the boundary files (complete runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminSection>,
    /// The H3 and quadtree baselines at about the same number of cells (complete runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baselines: Option<Vec<BaselineSection>>,
    /// Row, point, area and cell counts.
    pub counts: CountsSection,
    /// The error of a failed run (set by the export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the fuse did (complete runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuse: Option<FuseSection>,
    /// The crate version that made the run.
    pub geocells_version: String,
    /// Every input file with its hash.
    pub inputs: Vec<InputFile>,
    /// The manifest of the files written, `report.json` aside (set by the export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<OutputFile>>,
    /// The parameters.
    pub params: ParamsSection,
    /// Partition quality of the cells (complete runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<QualitySection>,
    /// The run id ([`crate::output::dir::run_id`]; set by the export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Distribution of the cell sizes (complete runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<SizesSection>,
    /// What the split did: absent in a failed run, `Some(None)` (`null`) with the split off.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub split: Option<Option<SplitSection>>,
    /// `complete`, or `failed` for a run that labelled no point (set by the export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Wall time of each stage in seconds, rounded to ms (the only part that varies run to run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings_s: Option<BTreeMap<String, f64>>,
    /// The partition check ([`crate::partition::cells::CellSet::validate`]), when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationSection>,
    /// Warnings of the boundary readers (complete runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

/// A field that is there (even as `null`) is `Some`; a missing one is `None` (serde's default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A number that may have been written as `null` (NaN or infinite): NaN then.
fn number_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// `report.json`'s `params`: the run's parameters (see [`crate::pipeline::run::Params`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ParamsSection {
    /// The countries the run was restricted to; `None`: the whole world.
    pub countries: Option<Vec<String>>,
    /// Bring every cell to MAX by bisection after the OPTICS settings.
    pub fallback: bool,
    /// The fuse's distance guard in km; `None`: off.
    pub fuse_max_km: Option<f64>,
    /// MAX.
    pub max_size: usize,
    /// The OPTICS metric (`sphere`, `planar`).
    pub metric: String,
    /// MINSIZE.
    pub min_size: usize,
    /// The OPTICS settings, in order.
    pub optics: Vec<OpticsSetting>,
    /// The preset the values started from, if any.
    pub preset: Option<String>,
    /// The preset's fields overridden since (`min_size`, `max_size`, `optics`); left out when
    /// empty (and absent from reports written before it was reported).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preset_overrides: Vec<String>,
    /// The semantic pass before the fallback (`SplitParams::semantic`); left out when off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub semantic: bool,
    /// The semantic pass's compactness gate (`SplitParams::semantic_tolerance`); left out
    /// when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic_tolerance: Option<f64>,
    /// Snap distance in km for points on no polygon.
    pub snap_km: f64,
    /// Split cells above MAX at all.
    pub split: bool,
    /// Label-smoothing temperature in km.
    pub tau_km: f64,
    /// Smoothed weights kept per point.
    pub top_k: usize,
}

/// One OPTICS setting.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct OpticsSetting {
    /// min_samples.
    pub min_samples: usize,
    /// xi.
    pub xi: f64,
}

pub use crate::pipeline::inputs::{ColumnOptions, InputFile};

/// `report.json`'s `counts`. A failed run has only the input rows, the points labelled (0)
/// and the rejects; the other counts are left out of its report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CountsSection {
    /// Admin cells after the fuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_cells: Option<usize>,
    /// Admin cells above MAX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_cells_above_max: Option<usize>,
    /// Admin areas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub areas: Option<usize>,
    /// Admin areas holding points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub areas_with_points: Option<usize>,
    /// Cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<usize>,
    /// Cells above MAX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells_above_max: Option<usize>,
    /// Cells below MINSIZE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells_below_min: Option<usize>,
    /// Rows of the points file.
    pub input_rows: usize,
    /// Cells of more than one polygon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipolygon_cells: Option<usize>,
    /// Points labelled.
    pub points_labelled: usize,
    /// Points snapped to land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_snapped: Option<usize>,
    /// Rows rejected.
    pub rejects: usize,
    /// Rows rejected, by [`crate::input::points::RejectReason::code`].
    pub rejects_by_reason: BTreeMap<String, usize>,
}

/// `report.json`'s `sizes`: points per cell (nearest-rank quantiles).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SizesSection {
    /// Largest (`None`: no cell).
    pub max: Option<usize>,
    /// Mean (0 without cells).
    pub mean: f64,
    /// Median.
    pub median: usize,
    /// Smallest (`None`: no cell).
    pub min: Option<usize>,
    /// 10th percentile.
    pub p10: usize,
    /// 25th percentile.
    pub p25: usize,
    /// 75th percentile.
    pub p75: usize,
    /// 90th percentile.
    pub p90: usize,
}

/// `report.json`'s `fuse`: what the fuse stage did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FuseSection {
    /// Cells left below MINSIZE, with the reason.
    pub cells_below_min: Vec<SmallCell>,
    /// Areas without points attached to a neighbour.
    pub empty_areas_attached: usize,
    /// Of those, attached to the nearest cell (no neighbour).
    pub empty_areas_by_distance: usize,
    /// Cells the distance guard kept from a fuse.
    pub guard: Vec<GuardedCell>,
    /// Cells before the fuse (areas with points).
    pub initial_cells: usize,
    /// Merges of island cells.
    pub island_merges: usize,
    /// The guard's distance in km; `None`: off.
    pub max_km: Option<f64>,
    /// Merges.
    pub merges: usize,
}

/// A cell left below MINSIZE.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SmallCell {
    /// Cell id.
    pub cell_id: u32,
    /// Its country.
    pub country: String,
    /// Its name.
    pub name: String,
    /// Why it stayed small ([`crate::partition::fuse`]'s reason code).
    pub reason: String,
    /// Points.
    pub size: usize,
}

/// A cell the fuse's distance guard kept from fusing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GuardedCell {
    /// Cell id.
    pub cell_id: u32,
    /// Its country.
    pub country: String,
    /// Distance in km to the cell it was not fused with (rounded to 0.1).
    pub km: f64,
    /// Its name.
    pub name: String,
    /// The area leading the cell it was not fused with.
    pub not_fused_with: String,
    /// That area's admin-1 name.
    pub not_fused_with_admin1: String,
    /// Points.
    pub size: usize,
}

/// `report.json`'s `split` ([`SplitReport`], wall times aside).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SplitSection {
    /// Cells above MAX at the end.
    pub above_max_after: usize,
    /// Cells above MAX after the OPTICS settings, before the fallback.
    pub above_max_after_optics: usize,
    /// Cells above MAX before the split.
    pub above_max_before: usize,
    /// Carves made by the fallback.
    pub fallback_carves: usize,
    /// Points moved with polygon fragments.
    pub fragment_points_moved: usize,
    /// Polygon fragments handed to a neighbouring cell.
    pub fragments_moved: usize,
    /// Cells left above MAX, with reasons.
    pub left_above_max: Vec<LeftAboveMaxCell>,
    /// The OPTICS metric.
    pub metric: String,
    /// Points whose cell could not be reconciled (expected 0).
    pub points_disagreeing: usize,
    /// Points moved to the cell that holds them.
    pub points_reconciled: usize,
    /// The semantic pass, when on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic: Option<SemanticSection>,
    /// Per OPTICS setting, in order.
    pub settings: Vec<SettingSection>,
}

/// What the semantic pass did ([`crate::split::report::SemanticReport`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SemanticSection {
    /// Cells above MAX when the pass finished.
    pub above_max_after: usize,
    /// Cells above MAX when the pass started.
    pub above_max_before: usize,
    /// Carves of density-tree pieces.
    pub carves_valley: usize,
    /// Carves by the largest xi cluster.
    pub carves_xi: usize,
    /// Cells split.
    pub cells_split: usize,
    /// Cells whose density-tree division the compactness gate refused.
    pub divisions_refused: usize,
    /// min_samples.
    pub min_samples: usize,
    /// xi.
    pub xi: f64,
}

/// What one OPTICS setting did ([`SettingReport`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SettingSection {
    /// Cells above MAX when the setting finished.
    pub above_max_after: usize,
    /// Cells above MAX when the setting started.
    pub above_max_before: usize,
    /// Carves made.
    pub carves: usize,
    /// Cells split.
    pub cells_split: usize,
    /// min_samples.
    pub min_samples: usize,
    /// xi.
    pub xi: f64,
}

/// A cell left above MAX ([`LeftAboveMax`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftAboveMaxCell {
    /// Final cell id.
    pub cell_id: u32,
    /// Cell name.
    pub name: String,
    /// Why.
    pub reason: Unsplittable,
    /// Points.
    pub size: usize,
}

/// Partition quality ([`PartitionQuality`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QualitySection {
    /// Classes.
    pub cells: usize,
    /// `exp(entropy)`.
    #[serde(deserialize_with = "number_or_nan")]
    pub effective_classes: f64,
    /// Normalised entropy.
    #[serde(deserialize_with = "number_or_nan")]
    pub entropy_normalised: f64,
    /// Gini coefficient of the sizes.
    #[serde(deserialize_with = "number_or_nan")]
    pub gini: f64,
    /// Points.
    pub points: usize,
    /// Distance from each point to its class centroid.
    pub quantization: QuantizationSection,
}

/// Error statistics ([`ErrorStats`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QuantizationSection {
    /// Accuracy at [`crate::quality::metrics::THRESHOLDS_KM`].
    pub accuracy: Vec<AccuracySection>,
    /// Mean GeoGuessr score.
    #[serde(deserialize_with = "number_or_nan")]
    pub geoguessr: f64,
    /// Mean error in km.
    #[serde(deserialize_with = "number_or_nan")]
    pub mean_km: f64,
    /// Median error in km.
    #[serde(deserialize_with = "number_or_nan")]
    pub median_km: f64,
    /// Samples.
    pub n: usize,
}

/// Accuracy at one threshold ([`Accuracy`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct AccuracySection {
    /// Fraction of samples within it.
    #[serde(deserialize_with = "number_or_nan")]
    pub fraction: f64,
    /// Threshold in km.
    #[serde(deserialize_with = "number_or_nan")]
    pub km: f64,
}

/// A baseline ([`Baseline`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BaselineSection {
    /// What it is.
    pub name: String,
    /// Its parameter.
    pub parameter: String,
    /// Its quality on the same points.
    pub quality: QualitySection,
}

/// `report.json`'s `admin`: what building the admin areas found and did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AdminSection {
    /// Polygons cut at the antimeridian.
    pub antimeridian_split: Vec<String>,
    /// The columns read from each boundary file, as [`crate::input::columns::Columns::report`]
    /// gives them.
    pub columns: Vec<serde_json::Value>,
    /// Features dropped because their polygons have no area.
    pub dropped_empty: Vec<String>,
    /// Codes shared by several features of one file.
    pub duplicate_codes: Vec<DuplicateCodeSection>,
    /// Land between areas that no area covers.
    pub gaps: GapsSection,
    /// Overlaps between areas, resolved.
    pub overlaps_resolved: OverlapsSection,
    /// Parent codes found by location.
    pub parents_by_location: usize,
    /// Areas whose parent was looked for by location but not found.
    pub parents_not_located: Vec<String>,
    /// Parent areas replaced by their children.
    pub parents_replaced_by_children: usize,
    /// Invalid polygons repaired.
    pub repaired: Vec<String>,
    /// Files whose features got the placeholder country.
    pub unknown_country: Vec<String>,
}

/// Features of one file that share a code.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DuplicateCodeSection {
    /// The shared code.
    pub code: String,
    /// The features' zero-based indices in the file.
    pub features: Vec<usize>,
    /// The level.
    pub level: String,
    /// The distinct names seen, in file order.
    pub names: Vec<String>,
    /// The file.
    pub path: String,
}

/// Gaps between areas ([`crate::input::topology::GapSummary`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GapsSection {
    /// Number of gap polygons.
    pub count: usize,
    /// Their total area in km².
    pub km2: f64,
    /// The largest gaps.
    pub largest: Vec<GapSection>,
}

/// One gap ([`crate::input::topology::Gap`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GapSection {
    /// The country whose areas surround it.
    pub country: String,
    /// Its area in km².
    pub km2: f64,
    /// A point inside it (lon, lat).
    pub point: (f64, f64),
}

/// The overlaps resolved between areas.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OverlapsSection {
    /// Number of overlaps.
    pub count: usize,
    /// Their total area in km².
    pub km2: f64,
    /// Each overlap.
    pub pairs: Vec<OverlapSection>,
    /// Which area keeps a shared part.
    pub rule: String,
}

/// One resolved overlap ([`crate::input::topology::Overlap`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OverlapSection {
    /// Code of the area it was cut out of.
    pub cut_from: String,
    /// Area in square degrees.
    pub deg2: f64,
    /// Code of the area that kept the shared part.
    pub kept_by: String,
    /// Area in km².
    pub km2: f64,
}

/// One file of `report.json`'s `outputs` manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutputFile {
    /// Its size.
    pub bytes: u64,
    /// Its name in the output directory.
    pub file: String,
    /// Its SHA-256 (hex).
    pub sha256: String,
}

/// `report.json`'s `validation`: the outcome of the partition check. The measures are there
/// only when the check passed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValidationSection {
    /// Land area of the admin areas in square degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub land_area_deg2: Option<f64>,
    /// Whether the check passed.
    pub ok: bool,
    /// Overlap between cells in square degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_area_deg2: Option<f64>,
    /// Overlapping cell pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlapping_pairs: Option<usize>,
    /// Points checked against their cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_checked: Option<usize>,
    /// The problems found (empty when ok).
    pub problems: Vec<String>,
    /// Sum of the cell areas in square degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_cell_area_deg2: Option<f64>,
}

impl ValidationSection {
    /// The section for the outcome of [`crate::partition::cells::CellSet::validate`].
    pub fn new(result: &Result<ValidationReport, ValidationError>) -> Self {
        match result {
            Ok(v) => Self {
                land_area_deg2: Some(v.land_area),
                ok: true,
                overlap_area_deg2: Some(v.overlap_area),
                overlapping_pairs: Some(v.overlapping_pairs),
                points_checked: Some(v.points_checked),
                problems: Vec::new(),
                sum_cell_area_deg2: Some(v.sum_cell_area),
            },
            Err(e) => Self {
                ok: false,
                problems: e.problems.clone(),
                ..Self::default()
            },
        }
    }
}

impl From<&SettingReport> for SettingSection {
    fn from(s: &SettingReport) -> Self {
        Self {
            above_max_after: s.above_max_after,
            above_max_before: s.above_max_before,
            carves: s.carves,
            cells_split: s.cells_split,
            min_samples: s.min_samples,
            xi: s.xi,
        }
    }
}

impl From<&LeftAboveMax> for LeftAboveMaxCell {
    fn from(l: &LeftAboveMax) -> Self {
        Self {
            cell_id: l.cell_id,
            name: l.name.clone(),
            reason: l.reason,
            size: l.size,
        }
    }
}

impl From<&SplitReport> for SplitSection {
    fn from(s: &SplitReport) -> Self {
        Self {
            above_max_after: s.above_max_after,
            above_max_after_optics: s.above_max_after_optics,
            above_max_before: s.above_max_before,
            fallback_carves: s.fallback_carves,
            fragment_points_moved: s.fragment_points_moved,
            fragments_moved: s.fragments_moved,
            left_above_max: s.left_above_max.iter().map(Into::into).collect(),
            metric: metric_name(s.metric),
            points_disagreeing: s.points_disagreeing,
            points_reconciled: s.points_reconciled,
            semantic: s.semantic.as_ref().map(|x| SemanticSection {
                above_max_after: x.above_max_after,
                above_max_before: x.above_max_before,
                carves_valley: x.carves_valley,
                carves_xi: x.carves_xi,
                cells_split: x.cells_split,
                divisions_refused: x.divisions_refused,
                min_samples: x.min_samples,
                xi: x.xi,
            }),
            settings: s.settings.iter().map(Into::into).collect(),
        }
    }
}

impl From<&Accuracy> for AccuracySection {
    fn from(a: &Accuracy) -> Self {
        Self {
            fraction: a.fraction,
            km: a.km,
        }
    }
}

impl From<&ErrorStats> for QuantizationSection {
    fn from(e: &ErrorStats) -> Self {
        Self {
            accuracy: e.accuracy.iter().map(Into::into).collect(),
            geoguessr: e.geoguessr,
            mean_km: e.mean_km,
            median_km: e.median_km,
            n: e.n,
        }
    }
}

impl From<&PartitionQuality> for QualitySection {
    fn from(q: &PartitionQuality) -> Self {
        Self {
            cells: q.cells,
            effective_classes: q.effective_classes,
            entropy_normalised: q.entropy_normalised,
            gini: q.gini,
            points: q.points,
            quantization: (&q.quantization).into(),
        }
    }
}

impl From<&Baseline> for BaselineSection {
    fn from(b: &Baseline) -> Self {
        Self {
            name: b.name.clone(),
            parameter: b.parameter.clone(),
            quality: (&b.quality).into(),
        }
    }
}

/// The name a [`crate::split::params::Metric`] serializes to (`sphere`, `planar`).
pub(crate) fn metric_name(m: crate::split::params::Metric) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What [`Report::build`] reads of a run (the fields of [`crate::pipeline::run::Run`]).
pub(crate) struct ReportParts<'a> {
    /// The parameters.
    pub params: ParamsSection,
    /// The inputs (files or data held in memory).
    pub inputs: &'a Inputs,
    /// The admin areas.
    pub areas: &'a AdminAreas,
    /// The fuse plan.
    pub plan: &'a CellPlan,
    /// The cells.
    pub cells: &'a CellSet,
    /// First cell of each family (`u32::MAX`: not in this run).
    pub family_first_cell: &'a [u32],
    /// The split's report.
    pub split: Option<&'a SplitReport>,
    /// The labelled points.
    pub labels: &'a PointCells,
    /// The rejected rows.
    pub rejects: &'a [Reject],
    /// Rows of the points file.
    pub input_rows: usize,
    /// Admin cells after the fuse.
    pub admin_cells: usize,
    /// Of those, above MAX.
    pub admin_above_max: usize,
    /// Stage wall times.
    pub timings: &'a [(String, f64)],
    /// Partition quality of the cells.
    pub quality: PartitionQuality,
}

/// Rejects counted by reason code.
fn rejects_by_reason(rejects: &[Reject]) -> BTreeMap<String, usize> {
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for r in rejects {
        *by_reason.entry(r.reason.code().to_string()).or_default() += 1;
    }
    by_reason
}

impl Report {
    /// The report of a run: parameters, inputs with hashes, counts, size distribution,
    /// repairs, small cells with their reasons and timings (the only part that varies run to
    /// run).
    pub(crate) fn build(r: ReportParts<'_>) -> Self {
        let mut sizes: Vec<usize> = r.cells.cells.iter().map(|c| c.size).collect();
        sizes.sort_unstable();
        let notes = &r.areas.notes;
        let small: Vec<SmallCell> = r
            .plan
            .below_min
            .iter()
            .filter(|(c, _)| r.family_first_cell[*c as usize] != u32::MAX)
            .map(|(c, reason)| {
                let id = r.family_first_cell[*c as usize];
                let cell = &r.cells.cells[id as usize];
                SmallCell {
                    cell_id: id,
                    country: cell.country_name.clone(),
                    name: cell.name.clone(),
                    reason: reason.code().to_string(),
                    size: cell.size,
                }
            })
            .collect();
        let guard: Vec<GuardedCell> = r
            .plan
            .guard
            .iter()
            .filter(|g| r.family_first_cell[g.cell as usize] != u32::MAX)
            .map(|g| {
                let cell = &r.cells.cells[r.family_first_cell[g.cell as usize] as usize];
                let blocked = &r.plan.cells[g.blocked as usize];
                let b = &r.areas.areas[blocked.dominant as usize];
                GuardedCell {
                    cell_id: cell.id,
                    country: cell.country_name.clone(),
                    km: (g.km * 10.0).round() / 10.0,
                    name: cell.name.clone(),
                    not_fused_with: b.name.clone(),
                    not_fused_with_admin1: b.admin1_name.clone(),
                    size: cell.size,
                }
            })
            .collect();
        let snapped = r.labels.snap_km.iter().filter(|&&d| d > 0.0).count();
        let lonlat: Vec<(f64, f64)> = (0..r.labels.points.len())
            .map(|i| (r.labels.points.lon[i], r.labels.points.lat[i]))
            .collect();
        let (min_size, max_size) = (r.params.min_size, r.params.max_size);
        let fuse_max_km = r.params.fuse_max_km;
        let cells = &r.cells.cells;
        Self {
            admin: Some(AdminSection {
                antimeridian_split: notes.antimeridian_split.clone(),
                columns: r
                    .areas
                    .files
                    .iter()
                    .zip(&r.areas.columns)
                    .map(|((_, p), c)| c.report(p))
                    .collect(),
                dropped_empty: notes.dropped_empty.clone(),
                duplicate_codes: notes
                    .duplicate_codes
                    .iter()
                    .map(|d| DuplicateCodeSection {
                        code: d.code.clone(),
                        features: d.features.clone(),
                        level: d.level.as_str().to_string(),
                        names: d.names.clone(),
                        path: d.path.display().to_string(),
                    })
                    .collect(),
                gaps: GapsSection {
                    count: notes.gaps.count,
                    km2: notes.gaps.km2,
                    largest: notes
                        .gaps
                        .largest
                        .iter()
                        .map(|g| GapSection {
                            country: g.country.clone(),
                            km2: g.km2,
                            point: g.point,
                        })
                        .collect(),
                },
                overlaps_resolved: OverlapsSection {
                    count: notes.overlaps.len(),
                    km2: notes.overlaps.iter().map(|o| o.km2).sum::<f64>(),
                    pairs: notes
                        .overlaps
                        .iter()
                        .map(|o| OverlapSection {
                            cut_from: o.cut_from.clone(),
                            deg2: o.deg2,
                            kept_by: o.kept_by.clone(),
                            km2: o.km2,
                        })
                        .collect(),
                    rule: "the shared part stays with the area first in (country_code, admin1_code, level, code) order, where points in it are assigned".into(),
                },
                parents_by_location: notes.parents_by_location,
                parents_not_located: notes.parents_not_located.clone(),
                parents_replaced_by_children: notes.replaced_parents,
                repaired: notes.repaired.clone(),
                unknown_country: notes.unknown_country.clone(),
            }),
            baselines: Some(vec![
                (&crate::quality::baselines::h3_baseline(&lonlat, r.cells.len())).into(),
                (&crate::quality::baselines::quadtree_baseline(&lonlat, r.cells.len())).into(),
            ]),
            counts: CountsSection {
                admin_cells: Some(r.admin_cells),
                admin_cells_above_max: Some(r.admin_above_max),
                areas: Some(r.areas.areas.len()),
                areas_with_points: Some(r.plan.stats.initial_cells),
                cells: Some(r.cells.len()),
                cells_above_max: Some(cells.iter().filter(|c| c.size > max_size).count()),
                cells_below_min: Some(cells.iter().filter(|c| c.size < min_size).count()),
                input_rows: r.input_rows,
                multipolygon_cells: Some(cells.iter().filter(|c| c.num_polygons > 1).count()),
                points_labelled: r.labels.points.len(),
                points_snapped: Some(snapped),
                rejects: r.rejects.len(),
                rejects_by_reason: rejects_by_reason(r.rejects),
            },
            error: None,
            fuse: Some(FuseSection {
                cells_below_min: small,
                empty_areas_attached: r.plan.stats.empty_areas_attached,
                empty_areas_by_distance: r.plan.stats.empty_areas_by_distance,
                guard,
                initial_cells: r.plan.stats.initial_cells,
                island_merges: r.plan.stats.island_merges,
                max_km: fuse_max_km,
                merges: r.plan.stats.merges,
            }),
            geocells_version: env!("CARGO_PKG_VERSION").to_string(),
            inputs: inputs_section(r.inputs),
            outputs: None,
            params: r.params,
            quality: Some((&r.quality).into()),
            run_id: None,
            sizes: Some(SizesSection {
                max: sizes.last().copied(),
                mean: if sizes.is_empty() {
                    0.0
                } else {
                    sizes.iter().sum::<usize>() as f64 / sizes.len() as f64
                },
                median: quantile(&sizes, 0.5),
                min: sizes.first().copied(),
                p10: quantile(&sizes, 0.1),
                p25: quantile(&sizes, 0.25),
                p75: quantile(&sizes, 0.75),
                p90: quantile(&sizes, 0.9),
            }),
            split: Some(r.split.map(Into::into)),
            status: None,
            timings_s: Some(
                r.timings
                    .iter()
                    .map(|(k, v)| (k.clone(), (v * 1000.0).round() / 1000.0))
                    .collect(),
            ),
            validation: None,
            warnings: Some(notes.warnings.clone()),
        }
    }

    /// The report of a run that labelled no point: version, parameters, inputs and counts.
    pub(crate) fn failed(
        params: ParamsSection,
        inputs: &Inputs,
        input_rows: usize,
        rejects: &[Reject],
    ) -> Self {
        Self {
            counts: CountsSection {
                input_rows,
                points_labelled: 0,
                rejects: rejects.len(),
                rejects_by_reason: rejects_by_reason(rejects),
                ..CountsSection::default()
            },
            geocells_version: env!("CARGO_PKG_VERSION").to_string(),
            inputs: inputs_section(inputs),
            params,
            ..Self::default()
        }
    }

    /// The report as a JSON value (keys sorted, as in `report.json`).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The `inputs` section of the report: role, path, SHA-256 and size of every input file, and
/// the column options given for a boundary level (`columns`, only when some were given); for
/// data held in memory, what it is, its row or feature count and a SHA-256 of the data
/// ([`crate::pipeline::inputs::memory_input`]).
pub(crate) fn inputs_section(inputs: &Inputs) -> Vec<InputFile> {
    let mut files = vec![(
        "points",
        inputs.points.path.clone(),
        None,
        memory_input("points", Some(&inputs.points), None),
    )];
    for (level, s) in [
        ("country", &inputs.boundaries.country),
        ("admin1", &inputs.boundaries.admin1),
        ("admin2", &inputs.boundaries.admin2),
    ] {
        if let Some(s) = s {
            files.push((
                level,
                s.path.clone(),
                column_options(s),
                memory_input(level, None, Some(s)),
            ));
        }
    }
    // An assigned dataset stands for the points it was made from.
    let assigned = crate::pipeline::assigned::AssignedDataset::open(&inputs.points.path)
        .ok()
        .flatten()
        .map(|d| d.manifest().points.clone());
    files
        .into_iter()
        .map(|(role, p, columns, memory)| match (memory, &assigned) {
            (_, Some(points)) if role == "points" => points.clone(),
            (Some(m), _) => InputFile { columns, ..m },
            (None, _) => InputFile {
                bytes: crate::input::files::input_bytes(&p),
                columns,
                path: p.display().to_string(),
                role: role.to_string(),
                sha256: crate::input::files::file_sha256(&p),
                ..InputFile::default()
            },
        })
        .collect()
}

/// The column options of a level that were given, or `None`.
fn column_options(s: &LevelSpec) -> Option<ColumnOptions> {
    let c = ColumnOptions {
        admin1_code: s.admin1_code_column.clone(),
        admin1_name: s.admin1_name_column.clone(),
        code: s.code_column.clone(),
        country_code: s.country_code_column.clone(),
        country_name: s.country_name_column.clone(),
        fixed_country: s.fixed_country.clone(),
        name: s.name_column.clone(),
    };
    (c != ColumnOptions::default()).then_some(c)
}

/// Quantiles of a sorted slice (nearest rank).
fn quantile(sorted: &[usize], q: f64) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// The report entry of an input held in memory (`None` for a file): `role`, `path` (the
/// in-memory label), `kind` (`lonlat`, `dataframe` or `polygons`), `rows` or `features`, and
/// `sha256`, a deterministic SHA-256 of the data (`bytes` is null).
pub(crate) fn memory_input(
    role: &str,
    points: Option<&PointsSpec>,
    level: Option<&LevelSpec>,
) -> Option<InputFile> {
    let mut h = Sha256::new();
    let (path, kind, count_key, count) = if let Some(p) = points {
        let m = p.memory.as_ref()?;
        let kind = match m {
            MemoryPoints::LonLat { lon, lat, ids } => {
                hash_f64s(&mut h, lon);
                hash_f64s(&mut h, lat);
                match ids {
                    None => h.update(b"ids:rows"),
                    Some(PointIds::Int(v)) => {
                        h.update(b"ids:int");
                        for x in v {
                            h.update(x.to_le_bytes());
                        }
                    }
                    Some(PointIds::Str(v)) => {
                        h.update(b"ids:str");
                        for s in v {
                            hash_str(&mut h, s);
                        }
                    }
                }
                "lonlat"
            }
            MemoryPoints::Frame(df) => {
                hash_frame(&mut h, df);
                "dataframe"
            }
        };
        (&p.path, kind, "rows", m.len())
    } else {
        let l = level?;
        let features = l.features.as_ref()?;
        for f in features.iter() {
            hash_feature(&mut h, f);
        }
        (&l.path, "polygons", "features", features.len())
    };
    let (rows, features) = if count_key == "rows" {
        (Some(count), None)
    } else {
        (None, Some(count))
    };
    Some(InputFile {
        bytes: None,
        columns: None,
        features,
        kind: Some(kind.to_string()),
        path: path.display().to_string(),
        role: role.to_string(),
        rows,
        sha256: Some(format!("{:x}", h.finalize())),
    })
}

fn hash_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

fn hash_opt(h: &mut Sha256, s: &Option<String>) {
    match s {
        Some(s) => {
            h.update([1]);
            hash_str(h, s);
        }
        None => h.update([0]),
    }
}

fn hash_f64s(h: &mut Sha256, v: &[f64]) {
    h.update((v.len() as u64).to_le_bytes());
    for x in v {
        h.update(x.to_le_bytes());
    }
}

fn hash_feature(h: &mut Sha256, f: &BoundaryFeature) {
    hash_str(h, &f.code);
    for s in [
        &f.name,
        &f.admin1_code,
        &f.admin1_name,
        &f.country_code,
        &f.country_name,
    ] {
        hash_opt(h, s);
    }
    h.update((f.geometry.0.len() as u64).to_le_bytes());
    for p in &f.geometry.0 {
        h.update((p.interiors().len() as u64 + 1).to_le_bytes());
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            h.update((ring.0.len() as u64).to_le_bytes());
            for c in &ring.0 {
                h.update(c.x.to_le_bytes());
                h.update(c.y.to_le_bytes());
            }
        }
    }
}

/// Every column of `df`: its name, type and values as text (null marked apart).
fn hash_frame(h: &mut Sha256, df: &DataFrame) {
    h.update((df.height() as u64).to_le_bytes());
    for col in df.columns() {
        hash_str(h, col.name().as_str());
        hash_str(h, &col.dtype().to_string());
        let s = col.as_materialized_series();
        for i in 0..s.len() {
            match s.get(i) {
                Ok(v) if v.is_null() => h.update([0]),
                Ok(v) => {
                    h.update([1]);
                    hash_str(h, &v.to_string());
                }
                Err(_) => h.update([2]),
            }
        }
    }
}
