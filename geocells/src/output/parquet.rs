//! The Parquet and GeoParquet writer every table output goes through: [`Column`]s,
//! [`write_parquet`] / [`write_parquet_groups`] (atomic, streamed by row group) and the
//! GeoParquet 1.1 `geo` metadata ([`geo_metadata`]).
//!
//! Written with the `parquet` crate's low-level writer: plain `BYTE_ARRAY`/`INT64`/`DOUBLE`
//! columns and no Arrow view types, which GDAL, QGIS, pyarrow, geopandas and DuckDB all read
//! (see `docs/decisions/0001-parquet-read-with-polars-write-with-parquet.md`). Zstd
//! compression, `created_by` fixed, no timestamps: identical inputs give byte-identical files.

use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::output::atomic::write_atomic;
use crate::output::error::ExportError;
use crate::partition::cells::Cell;

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
///
/// # Errors
/// [`ExportError`] naming the file.
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

/// The WKB encoding of a multipolygon.
pub(crate) fn wkb_bytes(g: &geo_types::MultiPolygon<f64>) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    wkb::writer::write_geometry(&mut buf, g, &wkb::writer::WriteOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

/// The bounding box `[west, south, east, north]` of the cells' geometries (infinite for none).
pub(crate) fn bbox_of(cells: &[Cell]) -> [f64; 4] {
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
