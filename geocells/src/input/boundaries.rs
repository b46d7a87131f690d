//! Reading admin boundary polygons with their attributes.
//!
//! Formats: GeoParquet (WKB), GeoJSON (RFC 7946 FeatureCollection; a legacy `crs` member other
//! than CRS84/EPSG:4326 is refused), and Shapefile (the `.prj` beside it is read: lon/lat WGS84 is
//! used as is, anything else is reprojected with the `proj` feature or refused with
//! [`IoError::Crs`]; a shapefile without `.prj` is accepted only when its coordinates fit in
//! lon/lat ranges, with a warning in [`BoundaryFile::warnings`]).
//!
//! A feature with a null or empty geometry is kept with no polygons (the admin stage drops it
//! and lists it in `admin.dropped_empty`); a feature whose geometry is not a polygon (a point,
//! a line) is an [`IoError::Feature`] naming it.
//!
//! Attribute values are returned as strings (numbers in their shortest form, null as empty). A
//! GeoJSON feature's top-level `id` (where topojson-client's `topo2geo` puts us-atlas' FIPS codes)
//! is the column `id` when no property has that name. Which columns hold codes and names is
//! decided in [`crate::input::columns`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo_traits::to_geo::ToGeoGeometry;
use geo_types::{Geometry, MultiPolygon};

use crate::input::crs::{self, Reprojector};
use crate::input::files::{
    Format, IoError, find_column, parquet_meta, read_parquet_columns, require_file,
};
use crate::input::points::geometry_kind;

/// One polygon feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Zero-based index of the feature (row, record) in its file.
    pub index: usize,
    /// The requested attributes, as strings.
    pub props: BTreeMap<String, String>,
    /// Its polygons, lon/lat degrees.
    pub geometry: MultiPolygon<f64>,
}

/// The features of one boundary file.
#[derive(Debug, Clone)]
pub struct BoundaryFile {
    /// The file.
    pub path: PathBuf,
    /// All attribute columns in the file.
    pub columns: Vec<String>,
    /// Its features, in file order.
    pub features: Vec<Feature>,
    /// What was assumed while reading, each naming the file (a shapefile without `.prj` read
    /// as lon/lat WGS84).
    pub warnings: Vec<String>,
}

/// Reads the polygon features of `path` with the attribute `columns` (each must exist; matched
/// exactly, then case-insensitively). The features' `props` are keyed by the names asked for.
///
/// # Errors
/// [`IoError`] naming the file (and the feature, where one is at fault): missing or empty file,
/// unknown format, missing column, a non-polygon or undecodable geometry, an unusable CRS.
pub fn read_boundaries(path: &Path, columns: &[String]) -> Result<BoundaryFile, IoError> {
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut file = read_boundaries_with(path, |available| {
        keys = resolve_columns(path, columns, available)?;
        Ok(keys.iter().map(|(_, found)| found.clone()).collect())
    })?;
    for f in &mut file.features {
        f.props = keys
            .iter()
            .map(|(asked, found)| {
                (
                    asked.clone(),
                    f.props.get(found).cloned().unwrap_or_default(),
                )
            })
            .collect();
    }
    Ok(file)
}

/// Reads the polygon features of `path`; `choose` is called once with all the file's attribute
/// columns (before any value is read) and returns the columns to read, spelled as in the file.
/// The features' `props` are keyed by those names.
///
/// # Errors
/// As [`read_boundaries`], and whatever `choose` returns.
pub fn read_boundaries_with(
    path: &Path,
    mut choose: impl FnMut(&[String]) -> Result<Vec<String>, IoError>,
) -> Result<BoundaryFile, IoError> {
    require_file(path)?;
    let file = match Format::detect(path)? {
        Format::GeoJson => read_geojson(path, &mut choose)?,
        Format::Shapefile => read_shapefile(path, &mut choose)?,
        Format::Parquet => read_geoparquet(path, &mut choose)?,
        Format::Csv => {
            return Err(IoError::Decode {
                path: path.to_path_buf(),
                message: "boundaries must be GeoParquet, GeoJSON or Shapefile, not CSV".into(),
            });
        }
    };
    if file.features.is_empty() {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "features",
        });
    }
    Ok(file)
}

/// The column chooser of the readers.
type Choose<'a> = dyn FnMut(&[String]) -> Result<Vec<String>, IoError> + 'a;

/// Pairs each requested column with the file's actual column name (exact, then
/// case-insensitive match), or names the first one missing.
fn resolve_columns(
    path: &Path,
    columns: &[String],
    available: &[String],
) -> Result<Vec<(String, String)>, IoError> {
    columns
        .iter()
        .map(|c| {
            find_column(available, c)
                .map(|found| (c.clone(), found.clone()))
                .ok_or_else(|| missing(path, c, available))
        })
        .collect()
}

fn missing(path: &Path, column: &str, available: &[String]) -> IoError {
    IoError::MissingColumn {
        path: path.to_path_buf(),
        column: column.to_string(),
        available: available.join(", "),
    }
}

/// Converts a decoded geometry to polygons, or says why it cannot.
fn to_multipolygon(g: Geometry<f64>) -> Result<MultiPolygon<f64>, String> {
    match g {
        Geometry::Polygon(p) => Ok(MultiPolygon::new(vec![p])),
        Geometry::MultiPolygon(mp) => Ok(mp),
        Geometry::Rect(r) => Ok(MultiPolygon::new(vec![r.to_polygon()])),
        Geometry::GeometryCollection(gc) => {
            let mut polys = Vec::new();
            for g in gc.0 {
                polys.extend(to_multipolygon(g)?.0);
            }
            Ok(MultiPolygon::new(polys))
        }
        other => Err(format!(
            "expected a polygon, found a {}",
            geometry_kind(&other)
        )),
    }
}

/// Reprojects every coordinate of `geometry` to lon/lat; the first failure is returned.
fn reproject_in_place(r: &dyn Reprojector, geometry: &mut MultiPolygon<f64>) -> Result<(), String> {
    use geo::MapCoords;
    let converted = geometry
        .try_map_coords(|c| r.convert(c.x, c.y).map(|(x, y)| geo_types::Coord { x, y }))
        .map_err(|e| format!("reprojection failed: {e}"))?;
    *geometry = converted;
    Ok(())
}

fn json_to_string(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn read_geojson(path: &Path, choose: &mut Choose) -> Result<BoundaryFile, IoError> {
    let text = std::fs::read_to_string(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let gj: geojson::GeoJson = text.parse().map_err(|e| IoError::Decode {
        path: path.to_path_buf(),
        message: format!("invalid GeoJSON: {e}"),
    })?;
    let fc = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc,
        geojson::GeoJson::Feature(f) => geojson::FeatureCollection {
            bbox: None,
            features: vec![f],
            foreign_members: None,
        },
        geojson::GeoJson::Geometry(_) => {
            return Err(IoError::Decode {
                path: path.to_path_buf(),
                message: "expected a FeatureCollection, found a bare geometry".into(),
            });
        }
    };
    if let Some(crs) = fc.foreign_members.as_ref().and_then(|m| m.get("crs")) {
        let name = crs
            .pointer("/properties/name")
            .and_then(|n| n.as_str())
            .unwrap_or("");
        let upper = name.to_ascii_uppercase();
        if !(upper.is_empty() || upper.contains("CRS84") || upper.ends_with("4326")) {
            return Err(IoError::Crs {
                path: path.to_path_buf(),
                crs: name.to_string(),
                hint: "GeoJSON must be lon/lat WGS84 (RFC 7946); reproject it first".into(),
            });
        }
    }
    let mut all_columns: Vec<String> = Vec::new();
    for f in &fc.features {
        if let Some(p) = &f.properties {
            for k in p.keys() {
                if !all_columns.contains(k) {
                    all_columns.push(k.clone());
                }
            }
        }
    }
    // topojson-client's topo2geo (us-atlas, world-atlas) puts the id in the feature, not in its
    // properties: it is the column `id` unless a property has that name.
    let feature_ids = !all_columns.iter().any(|c| c.eq_ignore_ascii_case("id"))
        && fc.features.iter().any(|f| f.id.is_some());
    if feature_ids {
        all_columns.push("id".into());
    }
    let wanted = choose(&all_columns)?;
    let mut features = Vec::with_capacity(fc.features.len());
    for (index, f) in fc.features.into_iter().enumerate() {
        let feature_err = |message: String| IoError::Feature {
            path: path.to_path_buf(),
            feature: index,
            message,
        };
        // A null geometry is a feature with no polygons.
        let geometry = match &f.geometry {
            None => MultiPolygon::new(vec![]),
            Some(geom) => {
                // geojson's conversion panics on a position with fewer than two numbers.
                if !positions_complete(geom) {
                    return Err(feature_err(
                        "bad geometry: a position with fewer than two numbers".into(),
                    ));
                }
                let g: Geometry<f64> = geom
                    .clone()
                    .try_into()
                    .map_err(|e: geojson::Error| feature_err(format!("bad geometry: {e}")))?;
                to_multipolygon(g).map_err(feature_err)?
            }
        };
        let mut props = BTreeMap::new();
        for key in &wanted {
            let v = if feature_ids && key == "id" {
                match &f.id {
                    Some(geojson::feature::Id::String(s)) => s.clone(),
                    Some(geojson::feature::Id::Number(n)) => n.to_string(),
                    None => String::new(),
                }
            } else {
                f.properties
                    .as_ref()
                    .and_then(|p| p.get(key))
                    .map(json_to_string)
                    .unwrap_or_default()
            };
            props.insert(key.clone(), v);
        }
        features.push(Feature {
            index,
            props,
            geometry,
        });
    }
    Ok(BoundaryFile {
        path: path.to_path_buf(),
        columns: all_columns,
        features,
        warnings: Vec::new(),
    })
}

fn field_to_string(v: &shapefile::dbase::FieldValue) -> String {
    use shapefile::dbase::FieldValue::{
        Character, Currency, Date, DateTime, Double, Float, Integer, Logical, Memo, Numeric,
    };
    match v {
        Character(s) => s.clone().unwrap_or_default(),
        Numeric(n) => n.map(fmt_number).unwrap_or_default(),
        Logical(b) => b.map(|b| b.to_string()).unwrap_or_default(),
        Float(f) => f.map(|f| fmt_number(f64::from(f))).unwrap_or_default(),
        Integer(i) => i.to_string(),
        Currency(c) | Double(c) => fmt_number(*c),
        Memo(s) => s.clone(),
        Date(d) => d.map(|d| d.to_string()).unwrap_or_default(),
        DateTime(d) => format!("{d:?}"),
    }
}

fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

fn read_shapefile(path: &Path, choose: &mut Choose) -> Result<BoundaryFile, IoError> {
    let decode = |message: String| IoError::Decode {
        path: path.to_path_buf(),
        message,
    };
    let prj_path = path.with_extension("prj");
    let reproject: Option<Box<dyn Reprojector>> = if prj_path.is_file() {
        let wkt = std::fs::read_to_string(&prj_path).map_err(|source| IoError::Read {
            path: prj_path.clone(),
            source,
        })?;
        if crs::wkt_is_wgs84_lonlat(&wkt) {
            None
        } else {
            Some(crs::reprojector(path, wkt.trim())?)
        }
    } else {
        None
    };
    let mut reader =
        shapefile::Reader::from_path(path).map_err(|e| decode(format!("cannot read: {e}")))?;
    let mut all_columns: Vec<String> = Vec::new();
    let mut wanted: Vec<String> = Vec::new();
    let mut features = Vec::new();
    for (index, item) in reader.iter_shapes_and_records().enumerate() {
        let feature_err = |message: String| IoError::Feature {
            path: path.to_path_buf(),
            feature: index,
            message,
        };
        let (shape, record) = item.map_err(|e| feature_err(format!("cannot read record: {e}")))?;
        if index == 0 {
            all_columns = dbf_field_names(path).unwrap_or_else(|| {
                let mut names: Vec<String> = record.clone().into_iter().map(|(k, _)| k).collect();
                names.sort();
                names
            });
            wanted = choose(&all_columns)?;
        }
        // A null shape is a feature with no polygons.
        let mut geometry = if matches!(shape, shapefile::Shape::NullShape) {
            MultiPolygon::new(vec![])
        } else {
            let g: Geometry<f64> = shape
                .try_into()
                .map_err(|e| feature_err(format!("bad geometry: {e:?}")))?;
            to_multipolygon(g).map_err(feature_err)?
        };
        match &reproject {
            Some(r) => reproject_in_place(r.as_ref(), &mut geometry).map_err(feature_err)?,
            None if !prj_path.is_file() => {
                use geo::BoundingRect;
                if let Some(b) = geometry.bounding_rect()
                    && (b.min().x < -180.0 - 1e-9
                        || b.max().x > 180.0 + 1e-9
                        || b.min().y < -90.0 - 1e-9
                        || b.max().y > 90.0 + 1e-9)
                {
                    return Err(IoError::Crs {
                        path: path.to_path_buf(),
                        crs: "(no .prj file)".into(),
                        hint: "coordinates are not lon/lat degrees; add the .prj".into(),
                    });
                }
            }
            None => {}
        }
        let mut props = BTreeMap::new();
        for key in &wanted {
            props.insert(
                key.clone(),
                record.get(key).map(field_to_string).unwrap_or_default(),
            );
        }
        features.push(Feature {
            index,
            props,
            geometry,
        });
    }
    let warnings = if prj_path.is_file() {
        Vec::new()
    } else {
        vec![format!(
            "{}: no .prj file beside it; coordinates read as lon/lat WGS84 (EPSG:4326) since \
             they fit in lon/lat ranges; add the .prj if they are something else",
            path.display()
        )]
    };
    Ok(BoundaryFile {
        path: path.to_path_buf(),
        columns: all_columns,
        features,
        warnings,
    })
}

/// The field names of a shapefile's `.dbf`, in file order (a record is a hash map).
fn dbf_field_names(path: &Path) -> Option<Vec<String>> {
    let dbf = ["dbf", "DBF"]
        .iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.is_file())?;
    let reader = shapefile::dbase::Reader::from_path(dbf).ok()?;
    Some(
        reader
            .fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect(),
    )
}

fn read_geoparquet(path: &Path, choose: &mut Choose) -> Result<BoundaryFile, IoError> {
    use polars::prelude::*;
    let (meta, all_columns) = parquet_meta(path)?;
    let geom_col = match &meta {
        Some(m) => {
            if !m.encoding.eq_ignore_ascii_case("WKB") {
                crate::input::crs::check_geoparquet(path, m)?;
            }
            m.primary_column.clone()
        }
        None => ["geometry", "geom", "wkb_geometry"]
            .iter()
            .find_map(|n| find_column(&all_columns, n).cloned())
            .ok_or_else(|| missing(path, "geometry", &all_columns))?,
    };
    let reproject: Option<Box<dyn Reprojector>> = match meta.as_ref().and_then(|m| m.crs.clone()) {
        Some(c) if !crs::projjson_is_lonlat(&c) => Some(
            // Named as PROJJSON names it (the reprojector names a WKT by its first string).
            crs::reprojector(path, &c.to_string()).map_err(|e| match e {
                IoError::Crs { path, hint, .. } => IoError::Crs {
                    path,
                    crs: crs::projjson_name(&c),
                    hint,
                },
                other => other,
            })?,
        ),
        _ => None,
    };
    let attributes: Vec<String> = all_columns
        .iter()
        .filter(|c| **c != geom_col)
        .cloned()
        .collect();
    let resolved = choose(&attributes)?;
    let mut wanted = vec![geom_col.clone()];
    for found in &resolved {
        if !wanted.contains(found) {
            wanted.push(found.clone());
        }
    }
    let df = read_parquet_columns(path, &wanted)?;
    let decode = |e: PolarsError| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut string_cols: Vec<(String, Vec<Option<String>>)> = Vec::new();
    for found in &resolved {
        let col = df.column(found).map_err(decode)?;
        let s = col.cast(&DataType::String).map_err(decode)?;
        let ca = s.str().map_err(decode)?;
        string_cols.push((
            found.clone(),
            ca.iter().map(|v| v.map(str::to_string)).collect(),
        ));
    }
    let bin = crate::input::files::binary_column(path, &df, &geom_col)?;
    let mut features = Vec::with_capacity(df.height());
    for (index, v) in bin.iter().enumerate() {
        let feature_err = |message: String| IoError::Feature {
            path: path.to_path_buf(),
            feature: index,
            message,
        };
        // A null or empty geometry is a feature with no polygons.
        let mut geometry = match v {
            None => MultiPolygon::new(vec![]),
            Some(bytes) => {
                let wkb = wkb::reader::read_wkb(bytes)
                    .map_err(|e| feature_err(format!("invalid WKB: {e}")))?;
                match wkb.try_to_geometry() {
                    None => MultiPolygon::new(vec![]),
                    Some(g) => to_multipolygon(g).map_err(feature_err)?,
                }
            }
        };
        if let Some(r) = &reproject {
            reproject_in_place(r.as_ref(), &mut geometry).map_err(feature_err)?;
        }
        let props = string_cols
            .iter()
            .map(|(k, vals)| (k.clone(), vals[index].clone().unwrap_or_default()))
            .collect();
        features.push(Feature {
            index,
            props,
            geometry,
        });
    }
    Ok(BoundaryFile {
        path: path.to_path_buf(),
        columns: all_columns,
        features,
        warnings: Vec::new(),
    })
}

/// True when every position of `g` has at least two numbers: geojson 1.0's conversion to
/// geo-types indexes `[0]` and `[1]` unchecked and panics otherwise (docs/fuzzing.md).
fn positions_complete(g: &geojson::Geometry) -> bool {
    use geojson::GeometryValue as V;
    let ok = |p: &geojson::Position| p.len() >= 2;
    match &g.value {
        V::Point { coordinates } => ok(coordinates),
        V::MultiPoint { coordinates } | V::LineString { coordinates } => coordinates.iter().all(ok),
        V::MultiLineString { coordinates } | V::Polygon { coordinates } => {
            coordinates.iter().flatten().all(ok)
        }
        V::MultiPolygon { coordinates } => coordinates.iter().flatten().flatten().all(ok),
        V::GeometryCollection { geometries } => geometries.iter().all(positions_complete),
    }
}
