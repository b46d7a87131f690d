//! Assigning once: the points placed in their admin areas, written as a Parquet dataset
//! partitioned by country, which later runs read in place of the points.
//!
//! A run restricted to some countries (a shard, `pipeline::merge`) needs from the other
//! countries' points only what the global stages use: the fuse's [`AreaPoints`] (per area, the
//! count and the distinct positions). [`Pipeline::assign_once`] reads and assigns every point
//! once and writes, into one directory (written as a unit, like a run's, [`OutputDir`]):
//!
//! - `country=<code>/part-0.parquet`: the labelled points of each country (hive-style, as Spark,
//!   pyarrow, polars and Dask read a partitioned dataset), in input order: `row`, `id`, `lon`,
//!   `lat`, `area` (the admin area's index), `area_code`, `snap_km`. The partition is the
//!   country code of the point's admin area (percent-encoded as Hive does; an empty code is
//!   `__HIVE_DEFAULT_PARTITION__`);
//! - `_area_positions.parquet`: every distinct `(area, lon, lat)` with the number of points
//!   there, sorted: [`AreaPoints`] exactly (it does not depend on point order);
//! - `_rejects.parquet`: the rejected rows, with the columns of a run's `rejects.parquet` and
//!   every field of their reason (`message`, `nearest_km`, `max_km`);
//! - `_geocells_assigned.json` (the [`Manifest`], written last): the inputs' report entries
//!   (the original points' hash among them), the snap distance, a SHA-256 of the admin areas
//!   the indices refer to, the partitions with their point counts, and every file's size and
//!   SHA-256.
//!
//! Names starting with `_` are skipped by the engines, so the directory reads as a plain
//! dataset of the points. Given as the points of a run ([`crate::PointsSpec::new`] on the
//! directory, `build_cells --points DIR`), it is recognised by its manifest: the run checks the
//! boundaries and snap distance against it (the areas must be the ones the indices refer to),
//! takes [`AreaPoints`] from `_area_positions.parquet`, runs the fuse, and then reads only the
//! partitions of the countries it keeps (every partition for a whole run or a merge). Its
//! outputs, the report included (it names the original points), are byte-identical to those of
//! the same run on the original points.
//!
//! Cost: the points are read and assigned once (`O(n log n)` for the sort by area and position);
//! a shard reads the positions (`O(distinct positions)`) and its countries' partitions.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::input::admin::AdminAreas;
use crate::input::area::Area;
use crate::input::points::{PointIds, Points, Reject, RejectReason};
use crate::output::dir::file_digest;
use crate::partition::fuse::{AreaPoints, CellPlan};
use crate::pipeline::inputs::{InputFile, comparable_inputs};

/// The manifest's file name.
pub const MANIFEST: &str = "_geocells_assigned.json";
/// The distinct positions per area.
pub const POSITIONS: &str = "_area_positions.parquet";
/// The rejected rows.
pub const REJECTS: &str = "_rejects.parquet";
/// The file of each partition.
pub const PART: &str = "part-0.parquet";
/// The directory name engines give a partition whose value is empty (null).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

pub(crate) const FORMAT: &str = "geocells-assigned-points";
pub(crate) const VERSION: u32 = 1;

/// The columns of a partition file, in order.
pub const POINT_COLUMNS: [&str; 7] = ["row", "id", "lon", "lat", "area", "area_code", "snap_km"];
pub(crate) const POSITION_COLUMNS: [&str; 4] = ["area", "lon", "lat", "points"];
pub(crate) const REJECT_COLUMNS: [&str; 10] = [
    "row",
    "id",
    "lon",
    "lat",
    "reason",
    "detail",
    "raw",
    "message",
    "nearest_km",
    "max_km",
];

/// Errors of an assigned dataset.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AssignedError {
    /// The manifest cannot be read or is not one this version writes.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The dataset was made from other boundaries or another snap distance than this run's.
    #[error(
        "{dir}: the points were assigned with a different {what} than this run's: {detail}; assign them again with these inputs (build_cells --write-assigned)"
    )]
    Mismatch {
        /// The dataset.
        dir: PathBuf,
        /// `boundaries`, `snap_km` or `admin areas`.
        what: &'static str,
        /// The difference.
        detail: String,
    },
    /// A file of the dataset is missing, changed or inconsistent.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A file of the dataset: its path below the directory, size and SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetFile {
    /// Path below the dataset directory, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// One country's partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// The country code (the partition value).
    pub country_code: String,
    /// The country name of its first area.
    pub country_name: String,
    /// Its directory, `country=<code>` percent-encoded.
    pub dir: String,
    /// Labelled points in it.
    pub points: usize,
}

/// `_geocells_assigned.json`: what the dataset holds and what it was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `geocells-assigned-points`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The geocells version that wrote it.
    pub geocells: String,
    /// The report entry of the original points (path as given, size, SHA-256): a run on the
    /// dataset reports it as its points.
    pub points: InputFile,
    /// The report entries of the boundary levels.
    pub boundaries: Vec<InputFile>,
    /// The snap distance used.
    pub snap_km: f64,
    /// Number of admin areas.
    pub areas: usize,
    /// SHA-256 of the admin areas in order (codes, names, countries, coordinates): the areas
    /// the `area` indices refer to.
    pub areas_sha256: String,
    /// `int` or `str`: the type of the `id` column.
    pub id_type: String,
    /// Rows of the input.
    pub input_rows: usize,
    /// Labelled points.
    pub labelled: usize,
    /// Rejected rows.
    pub rejected: usize,
    /// Distinct `(area, lon, lat)` rows of `_area_positions.parquet`.
    pub positions: usize,
    /// The partitions, by country code.
    pub partitions: Vec<Partition>,
    /// Every file but the manifest.
    pub files: Vec<DatasetFile>,
}

/// The directory name of a partition: `country=` and the code, percent-encoded as Hive does
/// (letters, digits, `-`, `_`, `.` and space kept); an empty code is [`NULL_PARTITION`].
pub fn partition_dir(code: &str) -> String {
    if code.is_empty() {
        return format!("country={NULL_PARTITION}");
    }
    let mut s = String::from("country=");
    for b in code.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b' ') {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// SHA-256 of the admin areas in order: level, codes, names, countries and every coordinate.
pub(crate) fn areas_sha256(areas: &[Area]) -> String {
    let mut h = Sha256::new();
    for a in areas {
        for s in [
            a.level.as_str(),
            &a.code,
            &a.name,
            &a.admin1_code,
            &a.admin1_name,
            &a.country_code,
            &a.country_name,
        ] {
            h.update(s.as_bytes());
            h.update([0u8]);
        }
        for poly in &a.geometry.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                h.update((ring.0.len() as u64).to_le_bytes());
                for c in &ring.0 {
                    h.update(c.x.to_le_bytes());
                    h.update(c.y.to_le_bytes());
                }
            }
        }
        h.update([1u8]);
    }
    format!("{:x}", h.finalize())
}

/// The points placed in their admin areas: by the assignment
/// (`pipeline::run::Pipeline::place`) or read from an assigned dataset.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    /// The labelled points, in input order.
    pub(crate) points: Points,
    /// Each point's admin area.
    pub(crate) area_of: Vec<u32>,
    /// Each point's snap distance in km (0 inside its area).
    pub(crate) snap_km: Vec<f64>,
    /// The rejected rows, by row.
    pub(crate) rejects: Vec<Reject>,
    /// Rows of the input.
    pub(crate) total_rows: usize,
}

/// An assigned dataset opened as the points of a run.
#[derive(Debug, Clone)]
pub struct AssignedDataset {
    dir: PathBuf,
    manifest: Manifest,
}

impl AssignedDataset {
    /// The dataset at `path`, if it is a directory holding `_geocells_assigned.json`; `None` otherwise
    /// (a file, or a plain dataset).
    ///
    /// # Errors
    /// [`AssignedError::Manifest`] when the manifest is unreadable or of another format or
    /// version.
    pub fn open(path: &Path) -> Result<Option<Self>, AssignedError> {
        let file = path.join(MANIFEST);
        if !path.is_dir() || !file.is_file() {
            return Ok(None);
        }
        let bad = |message: String| AssignedError::Manifest {
            path: file.clone(),
            message,
        };
        let text = fs::read_to_string(&file).map_err(|e| bad(e.to_string()))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if manifest.format != FORMAT || manifest.version != VERSION {
            return Err(bad(format!(
                "format '{}' version {}, this geocells reads '{FORMAT}' version {VERSION}",
                manifest.format, manifest.version
            )));
        }
        Ok(Some(Self {
            dir: path.to_path_buf(),
            manifest,
        }))
    }

    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Checks that the run's boundaries (`ours`: their report entries) and snap distance are
    /// those the points were assigned with, and that its admin areas are the ones the indices
    /// refer to.
    ///
    /// # Errors
    /// [`AssignedError::Mismatch`] naming the difference.
    pub(crate) fn check_inputs(
        &self,
        ours: &[InputFile],
        snap: f64,
        areas: &AdminAreas,
    ) -> Result<(), AssignedError> {
        let mismatch = |what, detail| AssignedError::Mismatch {
            dir: self.dir.clone(),
            what,
            detail,
        };
        let key = |b: &[InputFile]| comparable_inputs(b);
        if key(ours) != key(&self.manifest.boundaries) {
            let name = |b: &[InputFile]| {
                b.iter()
                    .map(|i| format!("{} {}", i.role, i.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(mismatch(
                "boundaries",
                format!(
                    "this run has {}; the dataset was made from {} (the files' SHA-256 or column options differ)",
                    name(ours),
                    name(&self.manifest.boundaries)
                ),
            ));
        }
        if snap.to_bits() != self.manifest.snap_km.to_bits() {
            return Err(mismatch(
                "snap_km",
                format!("{snap} here, {} in the dataset", self.manifest.snap_km),
            ));
        }
        let sha = areas_sha256(&areas.areas);
        if areas.areas.len() != self.manifest.areas || sha != self.manifest.areas_sha256 {
            return Err(mismatch(
                "admin areas",
                format!(
                    "{} areas (SHA-256 {}) here, {} ({}) in the dataset, made by geocells {}",
                    areas.areas.len(),
                    &sha[..12],
                    self.manifest.areas,
                    self.manifest
                        .areas_sha256
                        .get(..12)
                        .unwrap_or(&self.manifest.areas_sha256),
                    self.manifest.geocells
                ),
            ));
        }
        Ok(())
    }

    /// A file of the dataset, checked against the manifest's size and SHA-256.
    fn checked_file(&self, relative: &str) -> Result<PathBuf, AssignedError> {
        let path = self.dir.join(relative);
        let entry = self
            .manifest
            .files
            .iter()
            .find(|f| f.path == relative)
            .ok_or_else(|| AssignedError::File {
                path: path.clone(),
                message: "not listed in the manifest".into(),
            })?;
        let (sha, bytes) = file_digest(&path).map_err(|e| AssignedError::File {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if bytes != entry.bytes || sha != entry.sha256 {
            return Err(AssignedError::File {
                path,
                message: format!(
                    "changed since the dataset was written ({bytes} bytes, SHA-256 {}; the manifest says {} bytes, {})",
                    &sha[..12],
                    entry.bytes,
                    entry.sha256.get(..12).unwrap_or(&entry.sha256)
                ),
            });
        }
        Ok(path)
    }

    /// The fuse's [`AreaPoints`] from `_area_positions.parquet`.
    ///
    /// # Errors
    /// [`AssignedError::File`] when the file is changed, unreadable or not sorted, or holds an
    /// area out of range.
    pub(crate) fn area_points(&self, areas: &AdminAreas) -> Result<AreaPoints, AssignedError> {
        let path = self.checked_file(POSITIONS)?;
        let df = read_columns(&path, &POSITION_COLUMNS)?;
        let n = areas.areas.len();
        // Straight from the columns (no copies: the positions are as many as the points).
        let cast = |name: &str, t: &polars::prelude::DataType| {
            df.column(name)
                .and_then(|c| c.cast(t))
                .map_err(|e| decode(&path, &e))
        };
        let (area, points) = (
            cast("area", &polars::prelude::DataType::Int64)?,
            cast("points", &polars::prelude::DataType::Int64)?,
        );
        let (area, points) = (
            area.i64().map_err(|e| decode(&path, &e))?,
            points.i64().map_err(|e| decode(&path, &e))?,
        );
        let lon = df
            .column("lon")
            .and_then(|c| c.f64().cloned())
            .map_err(|e| decode(&path, &e))?;
        let lat = df
            .column("lat")
            .and_then(|c| c.f64().cloned())
            .map_err(|e| decode(&path, &e))?;
        let mut bad = None;
        let rows = area
            .iter()
            .zip(lon.iter())
            .zip(lat.iter())
            .zip(points.iter())
            .enumerate()
            .map_while(|(i, (((a, x), y), k))| match (a, x, y, k) {
                (Some(a), Some(x), Some(y), Some(k))
                    if a >= 0 && (a as usize) < n && k >= 1 && x.is_finite() && y.is_finite() =>
                {
                    Some((a as u32, x.to_bits(), y.to_bits(), k as u64))
                }
                _ => {
                    bad = Some(format!(
                        "row {i}: area {a:?}, lon {x:?}, lat {y:?} or points {k:?} missing or out of range ({n} areas)"
                    ));
                    None
                }
            });
        let built = AreaPoints::from_distinct(n, rows);
        if let Some(message) = bad {
            return Err(AssignedError::File { path, message });
        }
        built.map_err(|message| AssignedError::File { path, message })
    }

    /// The labelled points of the families in `selected` (all when `None`), read from their
    /// countries' partitions only, in input order, with the rejects; every area read must hold
    /// exactly the points `area_points` counts for it.
    ///
    /// # Errors
    /// [`AssignedError::File`] for a changed, unreadable or inconsistent file.
    pub(crate) fn read_points(
        &self,
        areas: &AdminAreas,
        plan: &CellPlan,
        area_points: &AreaPoints,
        selected: Option<&[bool]>,
    ) -> Result<Placed, AssignedError> {
        let a = &areas.areas;
        // The countries whose points the chosen families hold.
        let wanted: Option<BTreeSet<&str>> = selected.map(|s| {
            a.iter()
                .enumerate()
                .filter(|(i, _)| {
                    area_points.counts[*i] > 0
                        && s.get(plan.area_cell[*i] as usize).copied().unwrap_or(false)
                })
                .map(|(_, x)| x.country_code.as_str())
                .collect()
        });
        let parts: Vec<&Partition> = self
            .manifest
            .partitions
            .iter()
            .filter(|p| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(p.country_code.as_str()))
            })
            .collect();
        if let Some(w) = &wanted {
            for code in w {
                if !parts.iter().any(|p| p.country_code == *code) {
                    return Err(AssignedError::File {
                        path: self.dir.join(partition_dir(code)),
                        message: format!(
                            "missing: the manifest has no partition for country '{code}', whose areas hold points"
                        ),
                    });
                }
            }
        }
        let int_ids = self.manifest.id_type == "int";
        let mut rows: Vec<u64> = Vec::new();
        let mut int_id: Vec<i64> = Vec::new();
        let mut str_id: Vec<String> = Vec::new();
        let (mut lon, mut lat, mut area_of, mut snap) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut read_count = vec![0usize; a.len()];
        let mut read_codes: BTreeSet<&str> = BTreeSet::new();
        for part in &parts {
            let path = self.checked_file(&format!("{}/{PART}", part.dir))?;
            let df = read_columns(&path, &POINT_COLUMNS)?;
            if df.height() != part.points {
                return Err(AssignedError::File {
                    path,
                    message: format!("{} rows, the manifest says {}", df.height(), part.points),
                });
            }
            for (i, &r) in int_column(&path, &df, "row")?.iter().enumerate() {
                if r < 0 {
                    return Err(bad_row(&path, i, "row", r));
                }
                rows.push(r as u64);
            }
            match crate::input::points::read_ids(&path, &df, "id").map_err(|e| {
                AssignedError::File {
                    path: path.clone(),
                    message: e.to_string(),
                }
            })? {
                PointIds::Int(v) if int_ids => int_id.extend(v),
                PointIds::Str(v) if !int_ids => str_id.extend(v),
                _ => {
                    return Err(AssignedError::File {
                        path,
                        message: format!(
                            "column 'id' is not of the manifest's type '{}'",
                            self.manifest.id_type
                        ),
                    });
                }
            }
            lon.extend(float_column(&path, &df, "lon")?);
            lat.extend(float_column(&path, &df, "lat")?);
            snap.extend(float_column(&path, &df, "snap_km")?);
            for (i, &x) in int_column(&path, &df, "area")?.iter().enumerate() {
                let ok = x >= 0
                    && a.get(x as usize)
                        .is_some_and(|area| area.country_code == part.country_code);
                if !ok {
                    return Err(bad_row(&path, i, "area", x));
                }
                read_count[x as usize] += 1;
                area_of.push(x as u32);
            }
            read_codes.insert(part.country_code.as_str());
        }
        // Every area of the countries read holds exactly the points the positions count.
        for (i, x) in a.iter().enumerate() {
            if read_codes.contains(x.country_code.as_str())
                && read_count[i] != area_points.counts[i]
            {
                return Err(AssignedError::File {
                    path: self.dir.join(partition_dir(&x.country_code)),
                    message: format!(
                        "area {} ('{}') has {} points here, {} in {POSITIONS}",
                        x.code, x.name, read_count[i], area_points.counts[i]
                    ),
                });
            }
        }
        // Input order; each column is put in order and its unordered copy dropped at once.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_unstable_by_key(|&i| rows[i]);
        if let Some(w) = order.windows(2).find(|w| rows[w[0]] == rows[w[1]]) {
            return Err(AssignedError::File {
                path: self.dir.clone(),
                message: format!("input row {} is in the dataset twice", rows[w[0]]),
            });
        }
        let ids = if int_ids {
            PointIds::Int(permute(int_id, &order))
        } else {
            PointIds::Str(permute(str_id, &order))
        };
        let points = Points {
            ids,
            rows: permute(rows, &order),
            lon: permute(lon, &order),
            lat: permute(lat, &order),
        };
        Ok(Placed {
            points,
            area_of: permute(area_of, &order),
            snap_km: permute(snap, &order),
            rejects: self.rejects()?,
            total_rows: self.manifest.input_rows,
        })
    }

    /// The rejects, from `_rejects.parquet`.
    fn rejects(&self) -> Result<Vec<Reject>, AssignedError> {
        let path = self.checked_file(REJECTS)?;
        let df = read_columns(&path, &REJECT_COLUMNS)?;
        let row = int_column(&path, &df, "row")?;
        let lon = float_column(&path, &df, "lon")?;
        let lat = float_column(&path, &df, "lat")?;
        let nearest = float_column(&path, &df, "nearest_km")?;
        let max_km = float_column(&path, &df, "max_km")?;
        let text = |name: &str| -> Result<Vec<Option<String>>, AssignedError> {
            let c = df.column(name).map_err(|e| decode(&path, &e))?;
            let s = c.str().map_err(|e| decode(&path, &e))?;
            Ok(s.iter().map(|v| v.map(str::to_string)).collect())
        };
        let (id, reason, message, raw) =
            (text("id")?, text("reason")?, text("message")?, text("raw")?);
        let mut out = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            let code = reason[i].as_deref().unwrap_or("");
            let reason = match code {
                "missing_coordinate" => RejectReason::MissingCoordinate,
                "not_a_number" => RejectReason::NotANumber,
                "not_finite" => RejectReason::NotFinite,
                "out_of_range" => RejectReason::OutOfRange,
                "bad_geometry" => RejectReason::BadGeometry(message[i].clone().unwrap_or_default()),
                "off_land" => RejectReason::OffLand {
                    nearest_km: (!nearest[i].is_nan()).then_some(nearest[i]),
                    max_km: max_km[i],
                },
                other => {
                    return Err(AssignedError::File {
                        path,
                        message: format!("row {i}: unknown reason '{other}'"),
                    });
                }
            };
            out.push(Reject {
                row: u64::try_from(row[i]).map_err(|_| bad_row(&path, i, "row", row[i]))?,
                id: id[i].clone().unwrap_or_default(),
                lon: lon[i],
                lat: lat[i],
                reason,
                raw: raw[i].clone(),
            });
        }
        Ok(out)
    }
}

/// `v` in the order `order` (a permutation of its indices), consuming it.
fn permute<T: Default>(mut v: Vec<T>, order: &[usize]) -> Vec<T> {
    order.iter().map(|&i| std::mem::take(&mut v[i])).collect()
}

fn decode(path: &Path, e: &dyn std::fmt::Display) -> AssignedError {
    AssignedError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn bad_row(path: &Path, row: usize, column: &str, value: i64) -> AssignedError {
    AssignedError::File {
        path: path.to_path_buf(),
        message: format!("row {row}: {column} {value} is out of range"),
    }
}

fn read_columns(path: &Path, names: &[&str]) -> Result<polars::prelude::DataFrame, AssignedError> {
    let names: Vec<String> = names.iter().map(|s| (*s).to_string()).collect();
    crate::input::files::read_parquet_columns(path, &names).map_err(|e| decode(path, &e))
}

fn int_column(
    path: &Path,
    df: &polars::prelude::DataFrame,
    name: &str,
) -> Result<Vec<i64>, AssignedError> {
    let c = df
        .column(name)
        .and_then(|c| c.cast(&polars::prelude::DataType::Int64))
        .map_err(|e| decode(path, &e))?;
    let ca = c.i64().map_err(|e| decode(path, &e))?;
    ca.iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| decode(path, &format!("row {i}: {name} is null"))))
        .collect()
}

fn float_column(
    path: &Path,
    df: &polars::prelude::DataFrame,
    name: &str,
) -> Result<Vec<f64>, AssignedError> {
    let c = df.column(name).map_err(|e| decode(path, &e))?;
    let ca = c.f64().map_err(|e| decode(path, &e))?;
    ca.iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| decode(path, &format!("row {i}: {name} is null"))))
        .collect()
}
