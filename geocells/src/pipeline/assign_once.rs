//! The assign-once pass ([`Pipeline::assign_once`], `build_cells --write-assigned`): reads and
//! assigns every point once and writes the dataset `pipeline::assigned` reads (its layout is
//! described there).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::Error;
use crate::input::admin::AdminAreas;
use crate::input::points::{PointIds, Reject, RejectReason, read_points};
use crate::output::dir::{OutputDir, OutputError, file_digest};
use crate::output::parquet::{Column, write_parquet};
use crate::output::points_files::reject_columns;
use crate::pipeline::assigned::{
    AssignedError, DatasetFile, FORMAT, MANIFEST, Manifest, PART, POINT_COLUMNS, POSITION_COLUMNS,
    POSITIONS, Partition, Placed, REJECT_COLUMNS, REJECTS, VERSION, areas_sha256, partition_dir,
};
use crate::pipeline::inputs::{InputFile, Inputs};
use crate::pipeline::params::ValidParams;
use crate::pipeline::run::{Pipeline, stop_if_cancelled};
use crate::progress::Progress;

/// Rows per Parquet row group.
const ROWS_PER_GROUP: usize = 1 << 18;

/// Is `e` an entry the assign-once pass writes (for [`OutputDir::prepare_owned`])?
fn is_dataset_entry(e: &fs::DirEntry) -> bool {
    let name = e.file_name().to_string_lossy().into_owned();
    let Ok(kind) = e.file_type() else {
        return false;
    };
    if kind.is_file() {
        return [MANIFEST, POSITIONS, REJECTS].contains(&name.as_str());
    }
    kind.is_dir()
        && name.starts_with("country=")
        && fs::read_dir(e.path()).is_ok_and(|entries| {
            entries.flatten().all(|f| {
                f.file_type().is_ok_and(|t| t.is_file())
                    && f.file_name() == std::ffi::OsStr::new(PART)
            })
        })
}

/// Checks and locks `target` for [`Pipeline::assign_once`] (call it before reading the
/// inputs): new, empty, or holding an earlier assigned dataset; other files are refused by
/// name.
///
/// # Errors
/// As [`OutputDir::prepare`].
pub fn prepare_dataset_dir(target: &Path) -> Result<OutputDir, OutputError> {
    OutputDir::prepare_owned(target, None, is_dataset_entry)
}

impl Pipeline {
    /// The assign-once pass (module docs): reads and assigns every point, writes the dataset
    /// into `out` ([`prepare_dataset_dir`]) as one unit and returns its manifest.
    ///
    /// # Errors
    /// A read or assign error (nothing is written then), [`crate::NoPointsError`] when no
    /// point is labelled, [`OutputError`] or [`crate::ExportError`] when writing fails (the
    /// target then holds what it held before).
    pub fn assign_once(
        &self,
        inputs: &Inputs,
        out: OutputDir,
        progress: &dyn Progress,
    ) -> Result<Manifest, Error> {
        progress.stage("read points", 0);
        let read = read_points(&inputs.points)?;
        progress.done();
        stop_if_cancelled(progress)?;
        progress.stage("read boundaries", 0);
        let areas = crate::input::admin::build_areas(&inputs.boundaries)?;
        progress.done();
        stop_if_cancelled(progress)?;
        let placed = self.place(inputs, &areas, read, progress)?;
        stop_if_cancelled(progress)?;
        progress.stage("write assigned points", 0);
        let manifest = write_dataset(inputs, self.params(), &areas, &placed, out.staging())?;
        stop_if_cancelled(progress)?;
        out.commit()?;
        progress.done();
        Ok(manifest)
    }
}

/// The points' report entry and the boundaries' (from [`crate::pipeline::report`]).
fn input_entries(inputs: &Inputs) -> (InputFile, Vec<InputFile>) {
    let mut all = crate::pipeline::report::inputs_section(inputs);
    let points = if all.is_empty() {
        InputFile::default()
    } else {
        all.remove(0)
    };
    (points, all)
}

/// Writes the dataset's files into `dir` (the staging directory), the manifest last.
fn write_dataset(
    inputs: &Inputs,
    params: &ValidParams,
    areas: &AdminAreas,
    placed: &Placed,
    dir: &Path,
) -> Result<Manifest, Error> {
    let a = &areas.areas;
    let export = |e: crate::ExportError| Error::Export(e);
    let mut files = Vec::new();
    let record = |relative: String, files: &mut Vec<DatasetFile>| -> Result<(), Error> {
        let (sha256, bytes) = file_digest(&dir.join(&relative))?;
        files.push(DatasetFile {
            path: relative,
            bytes,
            sha256,
        });
        Ok(())
    };
    // The points by country code, each in input order.
    let mut by_country: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, &area) in placed.area_of.iter().enumerate() {
        by_country
            .entry(a[area as usize].country_code.as_str())
            .or_default()
            .push(i);
    }
    let p = &placed.points;
    let id_kind = match &p.ids {
        PointIds::Int(_) => Column::I64(vec![]),
        PointIds::Str(_) => Column::Str(vec![]),
    };
    let kinds = [
        Column::I64(vec![]),
        id_kind,
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::I64(vec![]),
        Column::Str(vec![]),
        Column::F64(vec![]),
    ];
    let mut partitions = Vec::with_capacity(by_country.len());
    for (code, rows) in &by_country {
        let sub = partition_dir(code);
        let folder = dir.join(&sub);
        fs::create_dir(&folder).map_err(|source| OutputError::Io {
            path: folder.clone(),
            source,
        })?;
        write_parquet(
            &folder.join(PART),
            &POINT_COLUMNS,
            &kinds,
            rows.len(),
            ROWS_PER_GROUP,
            Vec::new(),
            |r| {
                let at = &rows[r];
                vec![
                    Column::I64(at.iter().map(|&i| p.rows[i] as i64).collect()),
                    match &p.ids {
                        PointIds::Int(v) => Column::I64(at.iter().map(|&i| v[i]).collect()),
                        PointIds::Str(v) => Column::Str(at.iter().map(|&i| v[i].clone()).collect()),
                    },
                    Column::F64(at.iter().map(|&i| p.lon[i]).collect()),
                    Column::F64(at.iter().map(|&i| p.lat[i]).collect()),
                    Column::I64(at.iter().map(|&i| i64::from(placed.area_of[i])).collect()),
                    Column::Str(
                        at.iter()
                            .map(|&i| a[placed.area_of[i] as usize].code.clone())
                            .collect(),
                    ),
                    Column::F64(at.iter().map(|&i| placed.snap_km[i]).collect()),
                ]
            },
        )
        .map_err(export)?;
        record(format!("{sub}/{PART}"), &mut files)?;
        partitions.push(Partition {
            country_code: (*code).to_string(),
            country_name: a[placed.area_of[rows[0]] as usize].country_name.clone(),
            dir: sub,
            points: rows.len(),
        });
    }
    // The distinct positions per area, with their multiplicity.
    let positions = crate::partition::fuse::distinct_positions(&placed.area_of, &p.lon, &p.lat);
    write_parquet(
        &dir.join(POSITIONS),
        &POSITION_COLUMNS,
        &[
            Column::I64(vec![]),
            Column::F64(vec![]),
            Column::F64(vec![]),
            Column::I64(vec![]),
        ],
        positions.len(),
        ROWS_PER_GROUP,
        Vec::new(),
        |r| {
            let at = &positions[r];
            vec![
                Column::I64(at.iter().map(|x| i64::from(x.0)).collect()),
                Column::F64(at.iter().map(|x| f64::from_bits(x.1)).collect()),
                Column::F64(at.iter().map(|x| f64::from_bits(x.2)).collect()),
                Column::I64(at.iter().map(|x| x.3 as i64).collect()),
            ]
        },
    )
    .map_err(export)?;
    record(POSITIONS.to_string(), &mut files)?;
    write_rejects(&dir.join(REJECTS), &placed.rejects).map_err(export)?;
    record(REJECTS.to_string(), &mut files)?;

    let (points, boundaries) = input_entries(inputs);
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        geocells: env!("CARGO_PKG_VERSION").into(),
        points,
        boundaries,
        snap_km: params.assign().snap_km,
        areas: a.len(),
        areas_sha256: areas_sha256(a),
        id_type: match &p.ids {
            PointIds::Int(_) => "int".into(),
            PointIds::Str(_) => "str".into(),
        },
        input_rows: placed.total_rows,
        labelled: p.len(),
        rejected: placed.rejects.len(),
        positions: positions.len(),
        partitions,
        files,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| AssignedError::Manifest {
        path: dir.join(MANIFEST),
        message: e.to_string(),
    })?;
    crate::output::atomic::write_atomic(&dir.join(MANIFEST), |w| {
        std::io::Write::write_all(w, text.as_bytes())
            .and_then(|()| std::io::Write::write_all(w, b"\n"))
            .map_err(|e| e.to_string())
    })?;
    Ok(manifest)
}

/// Writes the rejects: the columns of a run's `rejects.parquet`
/// ([`crate::output::points_files::reject_columns`]), then every field of their reason, so that
/// they read back exactly.
fn write_rejects(path: &Path, s: &[Reject]) -> Result<(), crate::ExportError> {
    let off_land = |x: &Reject| match x.reason {
        RejectReason::OffLand { nearest_km, max_km } => (nearest_km.unwrap_or(f64::NAN), max_km),
        _ => (f64::NAN, f64::NAN),
    };
    let columns = |s: &[Reject]| {
        let mut c = reject_columns(s);
        c.push(Column::OptStr(
            s.iter()
                .map(|x| match &x.reason {
                    RejectReason::BadGeometry(m) => Some(m.clone()),
                    _ => None,
                })
                .collect(),
        ));
        c.push(Column::F64(s.iter().map(|x| off_land(x).0).collect()));
        c.push(Column::F64(s.iter().map(|x| off_land(x).1).collect()));
        c
    };
    write_parquet(
        path,
        &REJECT_COLUMNS,
        &columns(&[]),
        s.len(),
        ROWS_PER_GROUP,
        Vec::new(),
        |r| columns(&s[r]),
    )
}
