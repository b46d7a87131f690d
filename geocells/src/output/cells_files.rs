//! The cell files: `cells.parquet` (GeoParquet 1.1: WKB `geometry`, `geo` metadata,
//! OGC:CRS84; one row per cell, ordered by `cell_id`) and `cells.geojson` (RFC 7946
//! FeatureCollection with the same properties, exterior rings counter-clockwise, every polygon
//! within `[-180, 180]`, for QGIS).

use std::io::Write;
use std::path::Path;

use crate::output::atomic::write_atomic;
use crate::output::dir::RUN_ID_KEY;
use crate::output::error::ExportError;
use crate::output::parquet::{Column, bbox_of, geo_metadata, wkb_bytes, write_parquet_groups};
use crate::partition::cells::CellSet;

/// The columns of `cells.parquet`, in order (also [`crate::pipeline::run::Run::cells_frame`]).
pub(crate) const CELL_COLUMNS: [&str; 20] = [
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

/// The types of [`CELL_COLUMNS`], as empty columns.
fn cell_kinds() -> [Column; 20] {
    [
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
    ]
}

/// The cells' values, one [`Column`] per name of [`CELL_COLUMNS`], every cell in `cell_id`
/// order; `geometry` is ISO WKB. The one source of the table for the file and the frame.
///
/// # Errors
/// The WKB encoder's message for a geometry it cannot encode.
pub(crate) fn cell_columns(cells: &CellSet, area_codes: &[String]) -> Result<Vec<Column>, String> {
    let c = &cells.cells;
    let wkb: Vec<Vec<u8>> = c
        .iter()
        .map(|c| wkb_bytes(&c.geometry))
        .collect::<Result<_, _>>()?;
    let (admin1_id, country_id) = cells.parent_ids();
    let s = c.as_slice();
    Ok(vec![
        Column::I64(s.iter().map(|c| i64::from(c.id)).collect()),
        Column::Str(s.iter().map(|c| c.name.clone()).collect()),
        Column::Str(s.iter().map(|c| c.admin1_code.clone()).collect()),
        Column::Str(s.iter().map(|c| c.admin1_name.clone()).collect()),
        Column::Str(s.iter().map(|c| c.country_code.clone()).collect()),
        Column::Str(s.iter().map(|c| c.country_name.clone()).collect()),
        Column::I64(admin1_id.iter().map(|&x| i64::from(x)).collect()),
        Column::I64(country_id.iter().map(|&x| i64::from(x)).collect()),
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
        Column::I64(s.iter().map(|c| i64::from(c.family)).collect()),
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
        Column::Bin(wkb),
    ])
}

/// Writes `cells.parquet` (GeoParquet 1.1).
pub fn write_cells_parquet(
    cells: &CellSet,
    path: &Path,
    area_codes: &[String],
    run_id: &str,
) -> Result<(), ExportError> {
    let columns = cell_columns(cells, area_codes).map_err(|message| ExportError::Encode {
        path: path.to_path_buf(),
        message,
    })?;
    let kv = vec![
        (
            "geo".to_string(),
            geo_metadata("geometry", &["MultiPolygon"], Some(bbox_of(&cells.cells))),
        ),
        (RUN_ID_KEY.to_string(), run_id.to_string()),
    ];
    // One row group holding every cell, as before.
    write_parquet_groups(
        path,
        &CELL_COLUMNS,
        &cell_kinds(),
        kv,
        std::iter::once(columns),
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
