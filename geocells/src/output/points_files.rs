//! The point files: `points.parquet` (one row per labelled point), `rejects.parquet` (one row
//! per rejected input row), the cells of new points ([`write_located_parquet`]) and plain
//! lon/lat point sets ([`write_lonlat_parquet`]).

use std::path::Path;

use crate::input::points::{PointIds, Reject};
use crate::output::dir::RUN_ID_KEY;
use crate::output::error::ExportError;
use crate::output::parquet::{Column, geo_metadata, write_parquet};
use crate::pipeline::run::Run;

/// The columns of `points.parquet`, in order.
pub(crate) const POINT_COLUMNS: [&str; 14] = [
    "id",
    "row",
    "lon",
    "lat",
    "cell_id",
    "snap_km",
    "area_code",
    "area",
    "admin1_code",
    "admin1",
    "country_code",
    "country",
    "level",
    "geometry",
];

/// Writes a GeoParquet point file with columns `id` (0..n-1), `lon`, `lat` and a WKB `geometry`
/// (the training-set format `build_cells` reads), atomically.
///
/// # Errors
/// [`ExportError`] when the file cannot be written.
pub fn write_lonlat_parquet(path: &Path, lon: &[f64], lat: &[f64]) -> Result<(), ExportError> {
    let kinds = [
        Column::I64(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::Bin(vec![]),
    ];
    let kv = vec![(
        "geo".to_string(),
        geo_metadata("geometry", &["Point"], None),
    )];
    let n = lon.len().min(lat.len());
    write_parquet(
        path,
        &["id", "lon", "lat", "geometry"],
        &kinds,
        n,
        1 << 18,
        kv,
        |r| {
            vec![
                Column::I64(r.clone().map(|i| i as i64).collect()),
                Column::F64(lon[r.clone()].to_vec()),
                Column::F64(lat[r.clone()].to_vec()),
                Column::Bin(r.map(|i| point_wkb(lon[i], lat[i])).collect()),
            ]
        },
    )
}

/// The rows `r` of a point id column, typed as the ids are (`0..0` gives the empty column that
/// declares the type).
fn id_column(ids: &PointIds, r: std::ops::Range<usize>) -> Column {
    match ids {
        PointIds::Int(v) => Column::I64(v[r].to_vec()),
        PointIds::Str(v) => Column::Str(v[r].to_vec()),
    }
}

fn point_wkb(lon: f64, lat: f64) -> Vec<u8> {
    let mut v = Vec::with_capacity(21);
    // Writing into a Vec cannot fail.
    let _ = wkb::writer::write_point(
        &mut v,
        &geo_types::Point::new(lon, lat),
        &wkb::writer::WriteOptions::default(),
    );
    v
}

/// Writes `points.parquet`: one row per labelled point, in input order (GeoParquet, Point).
pub fn write_points_parquet(run: &Run, path: &Path, run_id: &str) -> Result<(), ExportError> {
    let l = &run.labels;
    // The types of the label columns (from no rows), then the geometry.
    let mut kinds = label_columns(run, 0..0);
    kinds.push(Column::Bin(vec![]));
    let kv = vec![
        (
            "geo".to_string(),
            geo_metadata("geometry", &["Point"], None),
        ),
        (RUN_ID_KEY.to_string(), run_id.to_string()),
    ];
    write_parquet(
        path,
        &POINT_COLUMNS,
        &kinds,
        l.points.len(),
        1 << 18,
        kv,
        |r| {
            let mut columns = label_columns(run, r.clone());
            columns.push(Column::Bin(
                r.map(|i| point_wkb(l.points.lon[i], l.points.lat[i]))
                    .collect(),
            ));
            columns
        },
    )
}

/// The columns of `points.parquet` but its geometry (the first 13 of [`POINT_COLUMNS`]) for
/// the labelled points `r` of a run: the one definition behind the file and
/// `Run::labels_frame`.
pub(crate) fn label_columns(run: &Run, r: std::ops::Range<usize>) -> Vec<Column> {
    let l = &run.labels;
    let areas = &run.areas.areas;
    let a = |i: usize| &areas[l.area[i] as usize];
    vec![
        id_column(&l.points.ids, r.clone()),
        Column::I64(l.points.rows[r.clone()].iter().map(|&x| x as i64).collect()),
        Column::F64(l.points.lon[r.clone()].to_vec()),
        Column::F64(l.points.lat[r.clone()].to_vec()),
        Column::I64(l.cell[r.clone()].iter().map(|&c| i64::from(c)).collect()),
        Column::F64(l.snap_km[r.clone()].to_vec()),
        Column::Str(r.clone().map(|i| a(i).code.clone()).collect()),
        Column::Str(r.clone().map(|i| a(i).name.clone()).collect()),
        Column::Str(r.clone().map(|i| a(i).admin1_code.clone()).collect()),
        Column::Str(r.clone().map(|i| a(i).admin1_name.clone()).collect()),
        Column::Str(r.clone().map(|i| a(i).country_code.clone()).collect()),
        Column::Str(r.clone().map(|i| a(i).country_name.clone()).collect()),
        Column::Str(r.map(|i| a(i).level.as_str().to_string()).collect()),
    ]
}

/// Writes the cells of new points ([`crate::partition::assign::CellLookup`]): columns `id`, `row`, `lon`,
/// `lat`, `cell_id`, `off_cell_km` (0 inside a cell, else the distance to the nearest one), in
/// input order, atomically; `metadata` goes into the key-value metadata (the run id).
///
/// # Errors
/// [`ExportError`] when the file cannot be written.
pub fn write_located_parquet(
    path: &Path,
    points: &crate::input::points::Points,
    located: &[(u32, f64)],
    metadata: &[(String, String)],
) -> Result<(), ExportError> {
    let id_kind = id_column(&points.ids, 0..0);
    let kinds = [
        id_kind,
        Column::I64(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::I64(vec![]),
        Column::F64(vec![]),
    ];
    write_parquet(
        path,
        &["id", "row", "lon", "lat", "cell_id", "off_cell_km"],
        &kinds,
        points.len().min(located.len()),
        1 << 18,
        metadata.to_vec(),
        |r| {
            vec![
                id_column(&points.ids, r.clone()),
                Column::I64(points.rows[r.clone()].iter().map(|&x| x as i64).collect()),
                Column::F64(points.lon[r.clone()].to_vec()),
                Column::F64(points.lat[r.clone()].to_vec()),
                Column::I64(located[r.clone()].iter().map(|l| i64::from(l.0)).collect()),
                Column::F64(located[r].iter().map(|l| l.1).collect()),
            ]
        },
    )
}

/// Writes `rejects.parquet`: one row per rejected input row, with the columns `row`, `id`,
/// `lon`, `lat` (NaN when missing), `reason` (a [`crate::input::points::RejectReason::code`]),
/// `detail` (its text) and `raw` (nullable: the original text of a coordinate that is not a
/// number, as `column=text`; see [`Reject::raw`]). A file with no rows when nothing was
/// rejected, so that an output directory always has the same files.
///
/// # Errors
/// [`ExportError`] naming the file.
pub fn write_rejects_parquet(
    rejects: &[Reject],
    path: &Path,
    run_id: &str,
) -> Result<(), ExportError> {
    let kinds = [
        Column::I64(vec![]),
        Column::Str(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::OptStr(vec![]),
    ];
    let kv = vec![(RUN_ID_KEY.to_string(), run_id.to_string())];
    write_parquet(
        path,
        &REJECT_COLUMNS,
        &kinds,
        rejects.len(),
        1 << 18,
        kv,
        |r| reject_columns(&rejects[r]),
    )
}

/// The columns of `rejects.parquet`, in order.
pub(crate) const REJECT_COLUMNS: [&str; 7] = ["row", "id", "lon", "lat", "reason", "detail", "raw"];

/// The values of [`REJECT_COLUMNS`] for `rejects`: the one source of the table for the file
/// and [`crate::pipeline::run::Run::rejects_frame`].
pub(crate) fn reject_columns(s: &[Reject]) -> Vec<Column> {
    vec![
        Column::I64(s.iter().map(|x| x.row as i64).collect()),
        Column::Str(s.iter().map(|x| x.id.clone()).collect()),
        Column::F64(s.iter().map(|x| x.lon).collect()),
        Column::F64(s.iter().map(|x| x.lat).collect()),
        Column::Str(s.iter().map(|x| x.reason.code().to_string()).collect()),
        Column::Str(s.iter().map(|x| x.reason.to_string()).collect()),
        Column::OptStr(s.iter().map(|x| x.raw.clone()).collect()),
    ]
}
