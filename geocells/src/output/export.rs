//! Writing the outputs, each atomically (a temporary file in the same directory, flushed and
//! synced, then renamed over the target), so a crash never leaves a half-written file.
//!
//! * `cells.parquet`: GeoParquet 1.1 (WKB `geometry`, `geo` metadata, OGC:CRS84), one row per
//!   cell, ordered by `cell_id`;
//! * `cells.geojson`: RFC 7946 FeatureCollection with the same properties (exterior rings
//!   counter-clockwise, every polygon within `[-180, 180]`), for QGIS;
//! * `cells.qml`: the QGIS style QGIS loads with `cells.geojson` (one colour per cell, as in
//!   `map.png`, up to [`crate::output::qml::MAX_CATEGORIES`] cells; [`crate::output::qml`]);
//! * `points.parquet`: one row per labelled point: input id and row, lon, lat, cell_id, snap
//!   distance, admin codes and names;
//! * `targets.parquet`: label-smoothing targets, top-k (cell_id, weight) per point;
//! * `rejects.parquet`: one row per rejected input row with its reason (written only if any);
//! * `report.json`: parameters, input hashes, counts, split, quality and baselines, size
//!   distribution, repairs, timings; `report.md` the same for a reader;
//! * `map.png`: a preview map ([`crate::output::map`]).
//!
//! Parquet is written with the `parquet` crate's low-level writer: plain `BYTE_ARRAY`/`INT64`/
//! `DOUBLE` columns and no Arrow view types, which GDAL, QGIS, pyarrow, geopandas and DuckDB all
//! read (see `docs/decisions/0001-parquet-read-with-polars-write-with-parquet.md`). Zstd compression, `created_by` fixed, no
//! timestamps: identical inputs give byte-identical files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use thiserror::Error;

use crate::input::points::{PointIds, Reject};
use crate::output::dir::{OutputDir, OutputError, RUN_ID_KEY};
use crate::partition::cells::{Cell, CellSet};
use crate::pipeline::report::{OutputFile, Report};
use crate::pipeline::run::Run;

/// Errors while writing outputs. Each names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An export parameter is out of range.
    #[error("{name} {value} is out of range: allowed {allowed}")]
    BadParam {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: String,
        /// The allowed range.
        allowed: String,
    },
    /// The output directory (its location, lock or swap).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Encoding failed.
    #[error("{path}: {message}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Writes `path` atomically: `write` fills a temporary file next to it, which is synced and
/// renamed over `path` only if `write` succeeds.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), String>,
) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(io)?;
        let mut w = BufWriter::new(file);
        write(&mut w).map_err(|message| ExportError::Encode {
            path: path.to_path_buf(),
            message,
        })?;
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A column of a Parquet table.
pub enum Column {
    /// 64-bit integers.
    I64(Vec<i64>),
    /// Doubles (NaN allowed).
    F64(Vec<f64>),
    /// UTF-8 strings.
    Str(Vec<String>),
    /// Nullable UTF-8 strings (an `OPTIONAL` column).
    OptStr(Vec<Option<String>>),
    /// Raw bytes (WKB).
    Bin(Vec<Vec<u8>>),
}

impl Column {
    fn physical(&self) -> &'static str {
        match self {
            Column::I64(_) => "INT64",
            Column::F64(_) => "DOUBLE",
            Column::Str(_) | Column::OptStr(_) => "BYTE_ARRAY",
            Column::Bin(_) => "BYTE_ARRAY",
        }
    }
    fn len(&self) -> usize {
        match self {
            Column::I64(v) => v.len(),
            Column::F64(v) => v.len(),
            Column::Str(v) => v.len(),
            Column::OptStr(v) => v.len(),
            Column::Bin(v) => v.len(),
        }
    }
}

/// Writes a Parquet table atomically. `row_group(range)` produces the columns for those rows,
/// so large tables are never materialised whole. `names` gives column names in order, with
/// `kinds` the matching empty [`Column`]s describing the types.
pub fn write_parquet(
    path: &Path,
    names: &[&str],
    kinds: &[Column],
    n_rows: usize,
    rows_per_group: usize,
    kv: Vec<(String, String)>,
    row_group: impl Fn(std::ops::Range<usize>) -> Vec<Column>,
) -> Result<(), ExportError> {
    let step = rows_per_group.max(1);
    // At least one (possibly empty) row group, as before.
    let groups = (0..n_rows.div_ceil(step).max(1))
        .map(|g| row_group(g * step..((g + 1) * step).min(n_rows)));
    write_parquet_groups(path, names, kinds, kv, groups)
}

/// [`write_parquet`] from row groups made one at a time (for outputs too large to hold).
///
/// # Errors
/// [`ExportError`] naming the file.
pub fn write_parquet_groups(
    path: &Path,
    names: &[&str],
    kinds: &[Column],
    kv: Vec<(String, String)>,
    groups: impl Iterator<Item = Vec<Column>>,
) -> Result<(), ExportError> {
    let fields: Vec<String> = names
        .iter()
        .zip(kinds)
        .map(|(n, k)| {
            let ann = if matches!(k, Column::Str(_) | Column::OptStr(_)) {
                " (UTF8)"
            } else {
                ""
            };
            let rep = if matches!(k, Column::OptStr(_)) {
                "OPTIONAL"
            } else {
                "REQUIRED"
            };
            format!("  {rep} {} {n}{ann};", k.physical())
        })
        .collect();
    let message = format!("message schema {{\n{}\n}}", fields.join("\n"));
    let mut groups = groups;
    write_atomic(path, |w| {
        let schema = Arc::new(parse_message_type(&message).map_err(|e| e.to_string())?);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).map_err(|e| e.to_string())?,
            ))
            .set_created_by(format!("geocells {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(
                kv.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect(),
            ))
            .set_max_row_group_row_count(None)
            .build();
        let mut writer =
            SerializedFileWriter::new(w, schema, Arc::new(props)).map_err(|e| e.to_string())?;
        for cols in groups.by_ref() {
            let len = cols.first().map_or(0, Column::len);
            if cols.len() != names.len() || cols.iter().any(|c| c.len() != len) {
                return Err("internal: column count or length mismatch".into());
            }
            let mut rg = writer.next_row_group().map_err(|e| e.to_string())?;
            for col in cols {
                let mut cw = rg
                    .next_column()
                    .map_err(|e| e.to_string())?
                    .ok_or("internal: more columns than the schema")?;
                let r = match col {
                    Column::I64(v) => cw.typed::<Int64Type>().write_batch(&v, None, None),
                    Column::F64(v) => cw.typed::<DoubleType>().write_batch(&v, None, None),
                    Column::Str(v) => {
                        let v: Vec<ByteArray> = v
                            .into_iter()
                            .map(|s| ByteArray::from(s.into_bytes()))
                            .collect();
                        cw.typed::<ByteArrayType>().write_batch(&v, None, None)
                    }
                    Column::OptStr(v) => {
                        let def: Vec<i16> = v.iter().map(|s| i16::from(s.is_some())).collect();
                        let v: Vec<ByteArray> = v
                            .into_iter()
                            .flatten()
                            .map(|s| ByteArray::from(s.into_bytes()))
                            .collect();
                        cw.typed::<ByteArrayType>()
                            .write_batch(&v, Some(&def), None)
                    }
                    Column::Bin(v) => {
                        let v: Vec<ByteArray> = v.into_iter().map(ByteArray::from).collect();
                        cw.typed::<ByteArrayType>().write_batch(&v, None, None)
                    }
                };
                r.map_err(|e| e.to_string())?;
                cw.close().map_err(|e| e.to_string())?;
            }
            rg.close().map_err(|e| e.to_string())?;
        }
        writer.close().map_err(|e| e.to_string())?;
        Ok(())
    })
}

fn wkb_bytes(g: &geo_types::MultiPolygon<f64>) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    wkb::writer::write_geometry(&mut buf, g, &wkb::writer::WriteOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

fn bbox_of(cells: &[Cell]) -> [f64; 4] {
    use geo::BoundingRect;
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for c in cells {
        if let Some(r) = c.geometry.bounding_rect() {
            b = [
                b[0].min(r.min().x),
                b[1].min(r.min().y),
                b[2].max(r.max().x),
                b[3].max(r.max().y),
            ];
        }
    }
    b
}

/// The GeoParquet 1.1 `geo` metadata for one WKB column.
pub fn geo_metadata(column: &str, types: &[&str], bbox: Option<[f64; 4]>) -> String {
    let mut col = serde_json::json!({
        "encoding": "WKB",
        "geometry_types": types,
        "crs": {
            "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
            "type": "GeographicCRS",
            "name": "WGS 84 (CRS84)",
            "datum_ensemble": {"name": "World Geodetic System 1984 ensemble",
                "members": [{"name": "World Geodetic System 1984 (Transit)"}, {"name": "World Geodetic System 1984 (G730)"},
                            {"name": "World Geodetic System 1984 (G873)"}, {"name": "World Geodetic System 1984 (G1150)"},
                            {"name": "World Geodetic System 1984 (G1674)"}, {"name": "World Geodetic System 1984 (G1762)"},
                            {"name": "World Geodetic System 1984 (G2139)"}],
                "ellipsoid": {"name": "WGS 84", "semi_major_axis": 6378137, "inverse_flattening": 298.257223563},
                "accuracy": "2.0", "id": {"authority": "EPSG", "code": 6326}},
            "coordinate_system": {"subtype": "ellipsoidal", "axis": [
                {"name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east", "unit": "degree"},
                {"name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north", "unit": "degree"}]},
            "id": {"authority": "OGC", "code": "CRS84"}
        },
        "edges": "planar",
    });
    if let (Some(b), Some(obj)) = (bbox, col.as_object_mut()) {
        obj.insert("bbox".into(), serde_json::json!(b));
    }
    serde_json::json!({
        "version": "1.1.0",
        "primary_column": column,
        "columns": { column: col },
    })
    .to_string()
}

const CELL_COLUMNS: [&str; 20] = [
    "cell_id",
    "name",
    "admin1_code",
    "admin1",
    "country_code",
    "country",
    "admin1_id",
    "country_id",
    "size",
    "area_km2",
    "centroid_lon",
    "centroid_lat",
    "rep_lon",
    "rep_lat",
    "num_polygons",
    "family_id",
    "origin",
    "num_areas",
    "areas",
    "geometry",
];

/// Writes `cells.parquet` (GeoParquet 1.1).
pub fn write_cells_parquet(
    cells: &CellSet,
    path: &Path,
    area_codes: &[String],
    run_id: &str,
) -> Result<(), ExportError> {
    let c = &cells.cells;
    let wkb: Vec<Vec<u8>> = c
        .iter()
        .map(|c| wkb_bytes(&c.geometry))
        .collect::<Result<_, _>>()
        .map_err(|message| ExportError::Encode {
            path: path.to_path_buf(),
            message,
        })?;
    let (admin1_id, country_id) = cells.parent_ids();
    let kinds = [
        Column::I64(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::I64(vec![]),
        Column::I64(vec![]),
        Column::I64(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::I64(vec![]),
        Column::I64(vec![]),
        Column::Str(vec![]),
        Column::I64(vec![]),
        Column::Str(vec![]),
        Column::Bin(vec![]),
    ];
    let kv = vec![
        (
            "geo".to_string(),
            geo_metadata("geometry", &["MultiPolygon"], Some(bbox_of(c))),
        ),
        (RUN_ID_KEY.to_string(), run_id.to_string()),
    ];
    write_parquet(
        path,
        &CELL_COLUMNS,
        &kinds,
        c.len(),
        c.len().max(1),
        kv,
        |r| {
            let s = &c[r.clone()];
            vec![
                Column::I64(s.iter().map(|c| c.id as i64).collect()),
                Column::Str(s.iter().map(|c| c.name.clone()).collect()),
                Column::Str(s.iter().map(|c| c.admin1_code.clone()).collect()),
                Column::Str(s.iter().map(|c| c.admin1_name.clone()).collect()),
                Column::Str(s.iter().map(|c| c.country_code.clone()).collect()),
                Column::Str(s.iter().map(|c| c.country_name.clone()).collect()),
                Column::I64(admin1_id[r.clone()].iter().map(|&x| x as i64).collect()),
                Column::I64(country_id[r.clone()].iter().map(|&x| x as i64).collect()),
                Column::I64(s.iter().map(|c| c.size as i64).collect()),
                Column::F64(s.iter().map(|c| c.area_km2).collect()),
                Column::F64(
                    s.iter()
                        .map(|c| c.centroid.map_or(f64::NAN, |p| p.0))
                        .collect(),
                ),
                Column::F64(
                    s.iter()
                        .map(|c| c.centroid.map_or(f64::NAN, |p| p.1))
                        .collect(),
                ),
                Column::F64(s.iter().map(|c| c.rep_point.0).collect()),
                Column::F64(s.iter().map(|c| c.rep_point.1).collect()),
                Column::I64(s.iter().map(|c| c.num_polygons as i64).collect()),
                Column::I64(s.iter().map(|c| c.family as i64).collect()),
                Column::Str(s.iter().map(|c| c.origin.code()).collect()),
                Column::I64(s.iter().map(|c| c.areas.len() as i64).collect()),
                Column::Str(
                    s.iter()
                        .map(|c| {
                            c.areas
                                .iter()
                                .map(|&a| area_codes[a as usize].as_str())
                                .collect::<Vec<_>>()
                                .join(";")
                        })
                        .collect(),
                ),
                Column::Bin(wkb[r].to_vec()),
            ]
        },
    )
}

/// Writes `cells.geojson` (RFC 7946), with the run id as the foreign member
/// [`RUN_ID_KEY`] of the feature collection (before the features, so that it is in the
/// first line).
pub fn write_cells_geojson(cells: &CellSet, path: &Path, run_id: &str) -> Result<(), ExportError> {
    let (admin1_id, country_id) = cells.parent_ids();
    write_atomic(path, |w| {
        let err = |e: std::io::Error| e.to_string();
        writeln!(
            w,
            "{{\"type\":\"FeatureCollection\",\"{RUN_ID_KEY}\":{},\"features\":[",
            serde_json::Value::from(run_id)
        )
        .map_err(err)?;
        for (i, c) in cells.cells.iter().enumerate() {
            let geom = geojson::Geometry::new(geojson::GeometryValue::from(&c.geometry));
            let props = serde_json::json!({
                "cell_id": c.id, "name": c.name, "admin1_code": c.admin1_code, "admin1": c.admin1_name,
                "country_code": c.country_code, "country": c.country_name,
                "admin1_id": admin1_id[i], "country_id": country_id[i], "size": c.size,
                "area_km2": c.area_km2, "centroid_lon": c.centroid.map(|p| p.0), "centroid_lat": c.centroid.map(|p| p.1),
                "rep_lon": c.rep_point.0, "rep_lat": c.rep_point.1, "num_polygons": c.num_polygons,
                "family_id": c.family, "origin": c.origin.code(), "num_areas": c.areas.len(),
            });
            let feature = serde_json::json!({"type": "Feature", "id": c.id, "properties": props, "geometry": geom});
            if i > 0 {
                w.write_all(b",\n").map_err(err)?;
            }
            serde_json::to_writer(&mut *w, &feature).map_err(|e| e.to_string())?;
        }
        w.write_all(b"\n]}\n").map_err(err)?;
        Ok(())
    })
}

const POINT_COLUMNS: [&str; 14] = [
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
    let areas = &run.areas.areas;
    let id_kind = id_column(&l.points.ids, 0..0);
    let kinds = [
        id_kind,
        Column::I64(vec![]),
        Column::F64(vec![]),
        Column::F64(vec![]),
        Column::I64(vec![]),
        Column::F64(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Str(vec![]),
        Column::Bin(vec![]),
    ];
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
            let a = |i: usize| &areas[l.area[i] as usize];
            vec![
                id_column(&l.points.ids, r.clone()),
                Column::I64(l.points.rows[r.clone()].iter().map(|&x| x as i64).collect()),
                Column::F64(l.points.lon[r.clone()].to_vec()),
                Column::F64(l.points.lat[r.clone()].to_vec()),
                Column::I64(l.cell[r.clone()].iter().map(|&c| c as i64).collect()),
                Column::F64(l.snap_km[r.clone()].to_vec()),
                Column::Str(r.clone().map(|i| a(i).code.clone()).collect()),
                Column::Str(r.clone().map(|i| a(i).name.clone()).collect()),
                Column::Str(r.clone().map(|i| a(i).admin1_code.clone()).collect()),
                Column::Str(r.clone().map(|i| a(i).admin1_name.clone()).collect()),
                Column::Str(r.clone().map(|i| a(i).country_code.clone()).collect()),
                Column::Str(r.clone().map(|i| a(i).country_name.clone()).collect()),
                Column::Str(r.clone().map(|i| a(i).level.as_str().to_string()).collect()),
                Column::Bin(
                    r.map(|i| point_wkb(l.points.lon[i], l.points.lat[i]))
                        .collect(),
                ),
            ]
        },
    )
}

/// Writes `targets.parquet`: PIGEON's haversine label-smoothing targets in long form, one row
/// per (point, rank): `row` (the point's input row), `rank` (0 = largest weight), `cell_id`,
/// `weight` (normalised over all cells; see [`crate::output::targets`]). Rows are sorted by point (input
/// order), then rank, so `groupby(row)` gives each point's top-k list.
///
/// # Errors
/// [`ExportError`] when the targets cannot be computed or the file cannot be written.
pub fn write_targets_parquet(run: &Run, path: &Path, run_id: &str) -> Result<(), ExportError> {
    use rayon::prelude::*;
    let l = &run.labels;
    let encode = |message: String| ExportError::Encode {
        path: path.to_path_buf(),
        message,
    };
    let smoother =
        crate::output::targets::Smoother::new(&run.cells.centroids(), run.params.smoothing)
            .map_err(|e| encode(e.to_string()))?;
    // Streamed: one row group per chunk of points, so memory stays at one chunk's targets
    // whatever the number of points (5M points x 10 weights held at once took ~2 GB).
    let n = l.points.len();
    let groups = (0..n.div_ceil(TARGET_CHUNK)).map(|g| {
        let range = g * TARGET_CHUNK..((g + 1) * TARGET_CHUNK).min(n);
        let targets: Vec<Vec<(u32, f64)>> = range
            .clone()
            .into_par_iter()
            .with_min_len(1024)
            .map(|i| smoother.targets(l.points.lon[i], l.points.lat[i]))
            .collect();
        let rows: usize = targets.iter().map(Vec::len).sum();
        let (mut row, mut rank, mut cell, mut weight) = (
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
        );
        for (i, t) in range.zip(&targets) {
            for (k, &(c, w)) in t.iter().enumerate() {
                row.push(l.points.rows[i] as i64);
                rank.push(k as i64);
                cell.push(i64::from(c));
                weight.push(w);
            }
        }
        vec![
            Column::I64(row),
            Column::I64(rank),
            Column::I64(cell),
            Column::F64(weight),
        ]
    });
    write_parquet_groups(
        path,
        &["row", "rank", "cell_id", "weight"],
        &[
            Column::I64(vec![]),
            Column::I64(vec![]),
            Column::I64(vec![]),
            Column::F64(vec![]),
        ],
        vec![(RUN_ID_KEY.to_string(), run_id.to_string())],
        groups,
    )
}

/// Points per row group of `targets.parquet` (about a million rows at k = 10).
const TARGET_CHUNK: usize = 100_000;

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
                Column::I64(located[r.clone()].iter().map(|l| l.0 as i64).collect()),
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
    let names = ["row", "id", "lon", "lat", "reason", "detail", "raw"];
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
    write_parquet(path, &names, &kinds, rejects.len(), 1 << 18, kv, |r| {
        let s = &rejects[r];
        vec![
            Column::I64(s.iter().map(|x| x.row as i64).collect()),
            Column::Str(s.iter().map(|x| x.id.clone()).collect()),
            Column::F64(s.iter().map(|x| x.lon).collect()),
            Column::F64(s.iter().map(|x| x.lat).collect()),
            Column::Str(s.iter().map(|x| x.reason.code().to_string()).collect()),
            Column::Str(s.iter().map(|x| x.reason.to_string()).collect()),
            Column::OptStr(s.iter().map(|x| x.raw.clone()).collect()),
        ]
    })
}

/// Writes `report.json` (pretty-printed).
pub fn write_report(report: &Report, path: &Path) -> Result<(), ExportError> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, report).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(|e| e.to_string())
    })
}

/// Files written by [`write_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Paths written, in order (in the output directory, after the swap).
    pub files: Vec<PathBuf>,
}

/// Output choices for [`write_all_with`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportOptions {
    /// How `map.png` is drawn; an empty caption is filled in from the report.
    pub map: crate::output::map::MapParams,
}

impl ExportOptions {
    /// Sets [`ExportOptions::map`].
    pub fn map(mut self, v: crate::output::map::MapParams) -> Self {
        self.map = v;
        self
    }
}

/// Writes every output of a run into `dir` with default [`ExportOptions`]; see
/// [`write_all_with`].
///
/// # Errors
/// [`ExportError`] naming the file that could not be written.
pub fn write_all(run: &Run, dir: &Path) -> Result<Written, ExportError> {
    write_all_with(run, dir, &ExportOptions::default())
}

/// Writes every output of a run into `dir` as one unit ([`OutputDir::prepare`], then
/// [`write_run`]): `dir` afterwards holds this run's complete set of files, or, if anything
/// failed, still the earlier run's.
///
/// # Errors
/// [`ExportError::Output`] when `dir` cannot be an output directory (a file, foreign files,
/// another run writing it) and [`ExportError`] naming the file that could not be written.
pub fn write_all_with(
    run: &Run,
    dir: &Path,
    options: &ExportOptions,
) -> Result<Written, ExportError> {
    write_run(run, OutputDir::prepare(dir)?, options)
}

/// The export options that shape the files, for the run id.
fn options_json(options: &ExportOptions) -> serde_json::Value {
    serde_json::json!({
        "map_width": options.map.width,
        "map_points": options.map.points,
        "map_caption": options.map.caption,
        "map_scale_bar": options.map.scale_bar,
    })
}

/// Writes every output of a run into the staging directory of `out` and swaps it in
/// ([`OutputDir::commit`]): `cells.parquet`, `cells.geojson`, `cells.qml` (its QGIS style, see
/// [`crate::output::qml`]), `points.parquet`, `targets.parquet`, `rejects.parquet` (no rows when
/// nothing was rejected), `map.png`, `report.md`, and last `report.json`, which gets the run
/// id ([`crate::output::dir::run_id`]), `status: "complete"`, the export time in `timings_s` and
/// the manifest `outputs` (each file's name, bytes and SHA-256; see [`crate::output::dir::check`]).
/// Every file carries the run id.
///
/// # Errors
/// [`ExportError`] naming the file that could not be written; the target is then unchanged.
pub fn write_run(
    run: &Run,
    out: OutputDir,
    options: &ExportOptions,
) -> Result<Written, ExportError> {
    let started = std::time::Instant::now();
    let run_id = crate::output::dir::run_id(&run.report.to_value(), &options_json(options));
    let dir = out.staging().to_path_buf();
    let mut report = run.report.clone();
    report.run_id = Some(run_id.clone());
    report.status = Some("complete".into());
    let codes: Vec<String> = run.areas.areas.iter().map(|a| a.code.clone()).collect();
    let mut names = Vec::new();
    let mut staged = |name: &'static str| -> Result<(), ExportError> {
        out.checkpoint(name)?;
        names.push(name);
        Ok(())
    };
    write_cells_parquet(&run.cells, &dir.join("cells.parquet"), &codes, &run_id)?;
    staged("cells.parquet")?;
    write_cells_geojson(&run.cells, &dir.join("cells.geojson"), &run_id)?;
    staged("cells.geojson")?;
    crate::output::qml::write_qml(&run.cells, &dir.join("cells.qml"), &run_id)?;
    staged("cells.qml")?;
    write_points_parquet(run, &dir.join("points.parquet"), &run_id)?;
    staged("points.parquet")?;
    write_targets_parquet(run, &dir.join("targets.parquet"), &run_id)?;
    staged("targets.parquet")?;
    write_rejects_parquet(&run.rejects, &dir.join("rejects.parquet"), &run_id)?;
    staged("rejects.parquet")?;
    let mut map = options.map.clone();
    if map.caption.is_empty() {
        map.caption = crate::output::report::map_caption(&run.report);
        if map.points {
            map.caption.push("DOTS: LABELLED POINTS.".into());
        }
    }
    map.text = vec![(RUN_ID_KEY.to_string(), run_id.clone())];
    let lonlat: Vec<(f64, f64)> = if map.points {
        let l = &run.labels.points;
        (0..l.len()).map(|i| (l.lon[i], l.lat[i])).collect()
    } else {
        Vec::new()
    };
    crate::output::map::write_map(&run.cells, &lonlat, &map, &dir.join("map.png"))?;
    staged("map.png")?;
    let md = crate::output::report::report_markdown(&report);
    write_atomic(&dir.join("report.md"), |w| {
        w.write_all(md.as_bytes()).map_err(|e| e.to_string())
    })?;
    staged("report.md")?;
    if let Some(t) = report.timings_s.as_mut() {
        let s = started.elapsed().as_secs_f64();
        t.insert("export".into(), (s * 1000.0).round() / 1000.0);
    }
    finish(report, &names, out)
}

/// Adds the manifest of the staged `names` to `report`, writes it as `report.json` (the last
/// file) and swaps the staging directory in.
fn finish(
    mut report: Report,
    names: &[&'static str],
    out: OutputDir,
) -> Result<Written, ExportError> {
    let mut manifest = Vec::with_capacity(names.len());
    for name in names {
        let (sha256, bytes) = crate::output::dir::file_digest(&out.staging().join(name))?;
        manifest.push(OutputFile {
            bytes,
            file: (*name).to_string(),
            sha256,
        });
    }
    report.outputs = Some(manifest);
    write_report(&report, &out.staging().join("report.json"))?;
    out.checkpoint("report.json")?;
    let target = out.commit()?;
    let mut files: Vec<PathBuf> = names.iter().map(|n| target.join(n)).collect();
    files.push(target.join("report.json"));
    Ok(Written { files })
}

/// Writes the outputs of a run that could label no point ([`crate::pipeline::run::NoPointsError`])
/// as one unit, like [`write_run`]: `rejects.parquet` (every input row with its reason) and
/// `report.json` (`status: "failed"`, the error, the counts, the run id and the manifest).
/// An output directory thus always says what its last run did.
///
/// # Errors
/// [`ExportError`] naming the file that could not be written; the target is then unchanged.
pub fn write_failed_run(
    failure: &crate::pipeline::run::NoPointsError,
    out: OutputDir,
) -> Result<Written, ExportError> {
    let mut report = failure.report.clone();
    let run_id = crate::output::dir::run_id(&report.to_value(), &serde_json::json!("failed"));
    report.run_id = Some(run_id.clone());
    report.status = Some("failed".into());
    report.error = Some(failure.to_string());
    write_rejects_parquet(
        &failure.rejects,
        &out.staging().join("rejects.parquet"),
        &run_id,
    )?;
    out.checkpoint("rejects.parquet")?;
    finish(report, &["rejects.parquet"], out)
}
