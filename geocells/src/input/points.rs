//! Reading training points.
//!
//! Accepted inputs:
//! * GeoParquet: the primary geometry column named in the `geo` metadata (or a binary column
//!   named `geometry`/`geom`), WKB points, CRS OGC:CRS84/EPSG:4326;
//! * Parquet or CSV with longitude/latitude columns, configured with
//!   [`PointsSpec::lon_column`]/[`PointsSpec::lat_column`] or auto-detected among
//!   [`LON_NAMES`]/[`LAT_NAMES`] (case-insensitive). Explicit lon/lat columns win over a geometry
//!   column.
//!
//! Each row either becomes a point or a [`Reject`] with its [`RejectReason`]: a missing, NaN,
//! infinite or out-of-range coordinate, text that is not a number (kept in [`Reject::raw`]), or
//! an unusable geometry. Duplicate points are kept (each row is a training sample) and get the
//! same cell.
//!
//! Coordinate columns must hold numbers, or text holding numbers (each value parsed on its own,
//! so one bad value rejects one row, not the file); other types (booleans, dates, binary) are an
//! [`IoError::ColumnType`]. A CSV file is checked first for rows with more or fewer fields than
//! its header ([`IoError::RaggedRow`], naming the line), and its coordinate columns are read as
//! text so that no value is lost to type inference.

use std::path::{Path, PathBuf};

use geo_traits::to_geo::ToGeoGeometry;
use polars::prelude::*;

use crate::input::files::{
    Format, IoError, binary_column, find_column, parquet_meta, read_parquet_columns, require_file,
};

/// Longitude column names tried by auto-detection, in order.
pub const LON_NAMES: [&str; 5] = ["lon", "lng", "longitude", "long", "x"];
/// Latitude column names tried by auto-detection, in order.
pub const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];
/// Id column names tried by auto-detection, in order.
pub const ID_NAMES: [&str; 4] = ["id", "image_id", "img_id", "key"];

/// The `path` of points given as coordinates in memory ([`PointsSpec::lonlat`]).
pub const MEMORY_POINTS: &str = "in-memory points";
/// The `path` of points given as a polars `DataFrame` ([`PointsSpec::frame`]).
pub const MEMORY_FRAME: &str = "in-memory DataFrame";

/// Points held in memory, read in place of a file.
#[derive(Debug, Clone)]
pub enum MemoryPoints {
    /// Longitudes and latitudes in degrees, with optional ids (`None`: row numbers).
    LonLat {
        /// Longitudes.
        lon: Vec<f64>,
        /// Latitudes.
        lat: Vec<f64>,
        /// Ids, one per point.
        ids: Option<PointIds>,
    },
    /// A polars `DataFrame` read like a Parquet file: lon/lat columns named in the
    /// [`PointsSpec`] or detected, an optional id column, or a WKB geometry column.
    Frame(DataFrame),
}

impl PartialEq for MemoryPoints {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                MemoryPoints::LonLat { lon, lat, ids },
                MemoryPoints::LonLat {
                    lon: lon2,
                    lat: lat2,
                    ids: ids2,
                },
            ) => lon == lon2 && lat == lat2 && ids == ids2,
            (MemoryPoints::Frame(a), MemoryPoints::Frame(b)) => a.equals_missing(b),
            _ => false,
        }
    }
}

impl MemoryPoints {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            MemoryPoints::LonLat { lon, .. } => lon.len(),
            MemoryPoints::Frame(df) => df.height(),
        }
    }
    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where the points are and which columns hold them: a file, or points held in memory
/// ([`PointsSpec::lonlat`], [`PointsSpec::frame`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PointsSpec {
    /// The file (`.parquet`, `.geoparquet` or `.csv`).
    pub path: PathBuf,
    /// Longitude column; `None` auto-detects.
    pub lon_column: Option<String>,
    /// Latitude column; `None` auto-detects.
    pub lat_column: Option<String>,
    /// Id column; `None` auto-detects among `ID_NAMES`, falling back to the row number.
    pub id_column: Option<String>,
    /// WKB geometry column; `None` uses the GeoParquet primary column.
    pub geometry_column: Option<String>,
    /// Points held in memory, read in place of a file (`path` is then `MEMORY_POINTS` or
    /// `MEMORY_FRAME`).
    pub memory: Option<MemoryPoints>,
}

impl PointsSpec {
    /// Points in `path`, columns auto-detected.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lon_column: None,
            lat_column: None,
            id_column: None,
            geometry_column: None,
            memory: None,
        }
    }
    /// Points given as longitudes and latitudes in degrees (same length), ids being row
    /// numbers unless set with [`PointsSpec::ids`]. Rows with a coordinate that is not finite or
    /// out of range become rejects, as a file's rows do.
    pub fn lonlat(lon: Vec<f64>, lat: Vec<f64>) -> Self {
        Self {
            memory: Some(MemoryPoints::LonLat {
                lon,
                lat,
                ids: None,
            }),
            ..Self::new(MEMORY_POINTS)
        }
    }
    /// Sets the ids of points given with [`PointsSpec::lonlat`] (one per point).
    #[must_use]
    pub fn ids(mut self, ids: PointIds) -> Self {
        if let Some(MemoryPoints::LonLat { ids: slot, .. }) = &mut self.memory {
            *slot = Some(ids);
        }
        self
    }
    /// Points given as a polars `DataFrame`, read like a Parquet file: the lon/lat columns are
    /// named with [`PointsSpec::lon_column`]/[`PointsSpec::lat_column`] or detected among
    /// `LON_NAMES`/`LAT_NAMES` (numbers, or text holding numbers), the id column named or
    /// detected among `ID_NAMES`; rows with bad values become rejects with their reason.
    pub fn frame(df: DataFrame) -> Self {
        Self {
            memory: Some(MemoryPoints::Frame(df)),
            ..Self::new(MEMORY_FRAME)
        }
    }
    /// Names the longitude column.
    #[must_use]
    pub fn lon_column(mut self, name: impl Into<String>) -> Self {
        self.lon_column = Some(name.into());
        self
    }
    /// Names the latitude column.
    #[must_use]
    pub fn lat_column(mut self, name: impl Into<String>) -> Self {
        self.lat_column = Some(name.into());
        self
    }
    /// Names the id column.
    #[must_use]
    pub fn id_column(mut self, name: impl Into<String>) -> Self {
        self.id_column = Some(name.into());
        self
    }
    /// Names the WKB geometry column.
    #[must_use]
    pub fn geometry_column(mut self, name: impl Into<String>) -> Self {
        self.geometry_column = Some(name.into());
        self
    }
}

/// Point identifiers: the input's id column, or the zero-based row number.
#[derive(Debug, Clone, PartialEq)]
pub enum PointIds {
    /// Integer ids (or row numbers).
    Int(Vec<i64>),
    /// String ids.
    Str(Vec<String>),
}

impl PointIds {
    /// Number of ids.
    pub fn len(&self) -> usize {
        match self {
            PointIds::Int(v) => v.len(),
            PointIds::Str(v) => v.len(),
        }
    }
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The `i`-th id as text.
    pub fn display(&self, i: usize) -> String {
        match self {
            PointIds::Int(v) => v[i].to_string(),
            PointIds::Str(v) => v[i].clone(),
        }
    }
    /// Keeps the ids at `keep` (in that order).
    #[must_use]
    pub fn select(&self, keep: &[usize]) -> PointIds {
        match self {
            PointIds::Int(v) => PointIds::Int(keep.iter().map(|&i| v[i]).collect()),
            PointIds::Str(v) => PointIds::Str(keep.iter().map(|&i| v[i].clone()).collect()),
        }
    }
}

/// Accepted points, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// Their ids.
    pub ids: PointIds,
    /// Zero-based row in the input file.
    pub rows: Vec<u64>,
    /// Longitudes in degrees, in `[-180, 180]`.
    pub lon: Vec<f64>,
    /// Latitudes in degrees, in `[-90, 90]`.
    pub lat: Vec<f64>,
}

impl Points {
    /// Builds points from coordinates, ids being row numbers.
    pub fn from_lonlat(lon: Vec<f64>, lat: Vec<f64>) -> Self {
        let n = lon.len();
        Self {
            ids: PointIds::Int((0..n as i64).collect()),
            rows: (0..n as u64).collect(),
            lon,
            lat,
        }
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.lon.len()
    }
    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.lon.is_empty()
    }
    /// Keeps the points at `keep` (in that order).
    #[must_use]
    pub fn select(&self, keep: &[usize]) -> Points {
        Points {
            ids: self.ids.select(keep),
            rows: keep.iter().map(|&i| self.rows[i]).collect(),
            lon: keep.iter().map(|&i| self.lon[i]).collect(),
            lat: keep.iter().map(|&i| self.lat[i]).collect(),
        }
    }
}

/// Why an input point was not labelled.
#[derive(Debug, Clone, PartialEq)]
pub enum RejectReason {
    /// Longitude or latitude is missing (null or an empty field).
    MissingCoordinate,
    /// Longitude or latitude is text that does not parse as a number (`abc`, a decimal comma
    /// `4,35`); the text is in [`Reject::raw`].
    NotANumber,
    /// Longitude or latitude is NaN or infinite.
    NotFinite,
    /// Longitude outside `[-180, 180]` or latitude outside `[-90, 90]`.
    OutOfRange,
    /// The WKB geometry is missing, empty, invalid or not a point.
    BadGeometry(String),
    /// The point lies on no admin polygon and the nearest one is farther than the snap distance.
    OffLand {
        /// Distance to the nearest polygon in km, if one was found within the search radius.
        nearest_km: Option<f64>,
        /// The snap distance in force.
        max_km: f64,
    },
}

impl RejectReason {
    /// A short machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::MissingCoordinate => "missing_coordinate",
            RejectReason::NotANumber => "not_a_number",
            RejectReason::NotFinite => "not_finite",
            RejectReason::OutOfRange => "out_of_range",
            RejectReason::BadGeometry(_) => "bad_geometry",
            RejectReason::OffLand { .. } => "off_land",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::MissingCoordinate => write!(f, "longitude or latitude missing"),
            RejectReason::NotANumber => write!(f, "longitude or latitude is not a number"),
            RejectReason::NotFinite => write!(f, "longitude or latitude is NaN or infinite"),
            RejectReason::OutOfRange => {
                write!(
                    f,
                    "longitude outside [-180, 180] or latitude outside [-90, 90]"
                )
            }
            RejectReason::BadGeometry(m) => write!(f, "unusable geometry: {m}"),
            RejectReason::OffLand {
                nearest_km: Some(d),
                max_km,
            } => write!(
                f,
                "on no admin polygon; nearest is {d:.1} km away (snap distance {max_km} km)"
            ),
            RejectReason::OffLand {
                nearest_km: None,
                max_km,
            } => write!(f, "on no admin polygon and none within {max_km} km"),
        }
    }
}

/// An input row that was not labelled, with its reason.
///
/// `rejects.parquet` has one row per reject with the columns `row`, `id`, `lon`, `lat`,
/// `reason` ([`RejectReason::code`]), `detail` (its text) and `raw` (nullable).
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// Zero-based row in the input file (the data row, the header not counted).
    pub row: u64,
    /// The row's id as text.
    pub id: String,
    /// Its longitude (NaN when missing or not a number).
    pub lon: f64,
    /// Its latitude (NaN when missing or not a number).
    pub lat: f64,
    /// Why it was rejected.
    pub reason: RejectReason,
    /// The original text of the offending field(s) when it could not be kept as a number, as
    /// `column=text` joined by `; ` (e.g. `lon=abc`, `lat=4,35`); `None` otherwise.
    pub raw: Option<String>,
}

/// The result of reading a points file.
#[derive(Debug, Clone)]
pub struct PointsRead {
    /// Rows with usable coordinates.
    pub points: Points,
    /// Rows without.
    pub rejects: Vec<Reject>,
    /// Rows in the file: `points.len() + rejects.len()`.
    pub total_rows: usize,
}

/// Reads points as described by `spec`. A directory is a Parquet dataset: its `*.parquet`
/// files (recursively, hive-style folders included; names starting with `.` or `_` skipped)
/// are read one after the other in path order and numbered as one table, row 0 being the
/// first file's first row.
///
/// # Errors
/// [`IoError`] naming the file when it is missing, empty, of an unknown type, undecodable, or
/// has none of the needed columns. Bad rows are not errors: they come back as rejects.
pub fn read_points(spec: &PointsSpec) -> Result<PointsRead, IoError> {
    let path = spec.path.as_path();
    match &spec.memory {
        Some(MemoryPoints::LonLat { lon, lat, ids }) => {
            return read_lonlat(path, lon, lat, ids.as_ref());
        }
        Some(MemoryPoints::Frame(df)) => {
            let columns: Vec<String> = df
                .get_column_names()
                .iter()
                .map(std::string::ToString::to_string)
                .collect();
            let geom = match &spec.geometry_column {
                Some(g) => Some(need(path, &columns, g)?.clone()),
                None => None,
            };
            return points_from_frame(path, df, geom, &columns, spec);
        }
        None => {}
    }
    if path.is_dir() {
        return read_dataset(spec);
    }
    require_file(path)?;
    let decode = |e: PolarsError| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let (df, geo_col, columns) = match Format::detect(path)? {
        Format::Parquet => {
            let (meta, columns) = parquet_meta(path)?;
            let lonlat_given = spec.lon_column.is_some() || spec.lat_column.is_some();
            let geom = match (&spec.geometry_column, &meta) {
                (Some(g), _) => Some(need(path, &columns, g)?.clone()),
                (None, _) if lonlat_given => None,
                (None, Some(m)) => {
                    crate::input::crs::check_geoparquet(path, m)?;
                    find_column(&columns, &m.primary_column).cloned()
                }
                (None, None) => None,
            };
            let geom = geom.filter(|_| {
                !lonlat_given
                    && (spec.geometry_column.is_some() || detect_lonlat(&columns, spec).is_none())
            });
            let mut wanted: Vec<String> = Vec::new();
            if let Some(g) = &geom {
                wanted.push(g.clone());
            } else {
                let (lo, la) = lonlat_columns(path, &columns, spec)?;
                wanted.push(lo);
                wanted.push(la);
            }
            if let Some(id) = id_column(path, &columns, spec)? {
                wanted.push(id);
            }
            (read_parquet_columns(path, &wanted)?, geom, columns)
        }
        Format::Csv => {
            let header = check_csv_fields(path)?;
            // The coordinate columns are read as text: each value is parsed on its own, so
            // text in one row rejects that row and keeps what it said.
            let text_columns: Schema = match lonlat_columns(path, &header, spec) {
                Ok((lo, la)) => [lo, la]
                    .into_iter()
                    .map(|c| Field::new(c.into(), DataType::String))
                    .collect(),
                Err(e) => return Err(csv_separator_hint(path, &header).unwrap_or(e)),
            };
            // polars-io 0.55 panics on some malformed quoting (docs/fuzzing.md).
            let df = crate::input::files::guard_decoder(path, "the CSV reader", || {
                CsvReadOptions::default()
                    .with_has_header(true)
                    .with_infer_schema_length(Some(10_000))
                    .with_schema_overwrite(Some(std::sync::Arc::new(text_columns)))
                    .try_into_reader_with_file_path(Some(path.to_path_buf()))
                    .map_err(decode)?
                    .finish()
                    .map_err(decode)
            })?;
            let columns: Vec<String> = df
                .get_column_names()
                .iter()
                .map(std::string::ToString::to_string)
                .collect();
            (df, None, columns)
        }
        _ => {
            return Err(IoError::Decode {
                path: path.to_path_buf(),
                message: "points must be GeoParquet, Parquet or CSV".into(),
            });
        }
    };
    points_from_frame(path, &df, geo_col, &columns, spec)
}

/// The points of `df`, read from its WKB column `geo_col` or its lon/lat columns; `columns`
/// are its column names, `path` names the source in errors.
/// The points of a dataset directory: each file read as a points file with the same column
/// options, rows and rejects numbered on from the previous files'. Empty files are skipped.
fn read_dataset(spec: &PointsSpec) -> Result<PointsRead, IoError> {
    let files = crate::input::files::dataset_files(&spec.path)?;
    let kind = |ids: &PointIds| match ids {
        PointIds::Int(_) => "integers",
        PointIds::Str(_) => "text",
    };
    let mut all: Option<(PointsRead, PathBuf)> = None;
    for f in files {
        let part = match read_points(&PointsSpec {
            path: f.clone(),
            ..spec.clone()
        }) {
            Ok(p) => p,
            Err(IoError::Empty { .. }) => continue,
            Err(e) => return Err(e),
        };
        let Some((acc, first)) = all.as_mut() else {
            all = Some((part, f));
            continue;
        };
        let offset = acc.total_rows as u64;
        let p = part.points;
        match (&mut acc.points.ids, p.ids) {
            (PointIds::Int(a), PointIds::Int(b)) => a.extend(b),
            (PointIds::Str(a), PointIds::Str(b)) => a.extend(b),
            (a, b) => {
                return Err(IoError::DatasetIds {
                    path: f,
                    found: kind(&b),
                    expected: kind(a),
                    first: first.clone(),
                });
            }
        }
        acc.points.rows.extend(p.rows.iter().map(|r| r + offset));
        acc.points.lon.extend(p.lon);
        acc.points.lat.extend(p.lat);
        acc.rejects.extend(part.rejects.into_iter().map(|mut r| {
            r.row += offset;
            r
        }));
        acc.total_rows += part.total_rows;
    }
    all.map(|(read, _)| read).ok_or_else(|| IoError::Empty {
        path: spec.path.clone(),
        what: "rows",
    })
}

fn points_from_frame(
    path: &Path,
    df: &DataFrame,
    geo_col: Option<String>,
    columns: &[String],
    spec: &PointsSpec,
) -> Result<PointsRead, IoError> {
    let n = df.height();
    if n == 0 {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "rows",
        });
    }
    let ids = match id_column(path, columns, spec)? {
        Some(c) => read_ids(path, df, &c)?,
        None => PointIds::Int((0..n as i64).collect()),
    };
    let mut lon = vec![f64::NAN; n];
    let mut lat = vec![f64::NAN; n];
    let mut bad: Vec<Option<RejectReason>> = vec![None; n];
    let mut raw: Vec<Option<String>> = vec![None; n];
    if let Some(g) = &geo_col {
        let bin = binary_column(path, df, g)?;
        for (i, v) in bin.iter().enumerate() {
            match decode_wkb_point(v) {
                Ok((x, y)) => {
                    lon[i] = x;
                    lat[i] = y;
                }
                Err(m) => bad[i] = Some(RejectReason::BadGeometry(m)),
            }
        }
    } else {
        let (lo, la) = lonlat_columns(path, columns, spec)?;
        let lo_vals = coordinate_column(path, df, &lo)?;
        let la_vals = coordinate_column(path, df, &la)?;
        for (i, (x, y)) in lo_vals.iter().zip(&la_vals).enumerate() {
            lon[i] = x.value();
            lat[i] = y.value();
            let texts: Vec<String> = [(&lo, x), (&la, y)]
                .into_iter()
                .filter_map(|(c, v)| match v {
                    Coordinate::Text(t) => Some(format!("{c}={t}")),
                    _ => None,
                })
                .collect();
            if !texts.is_empty() {
                bad[i] = Some(RejectReason::NotANumber);
                raw[i] = Some(texts.join("; "));
            } else if matches!(x, Coordinate::Missing) || matches!(y, Coordinate::Missing) {
                bad[i] = Some(RejectReason::MissingCoordinate);
            }
        }
    }
    Ok(sort_rows(ids, lon, lat, bad, raw))
}

/// Every row a point or a reject: a row is rejected for the reason found while reading it
/// (`bad`, with its unparsed text in `raw`), else for [`check_coordinate`]'s; rows are
/// numbered from 0 in order.
fn sort_rows(
    ids: PointIds,
    lon: Vec<f64>,
    lat: Vec<f64>,
    mut bad: Vec<Option<RejectReason>>,
    mut raw: Vec<Option<String>>,
) -> PointsRead {
    let n = lon.len();
    let mut keep = Vec::with_capacity(n);
    let mut rejects = Vec::new();
    for i in 0..n {
        let reason = bad[i].take().or_else(|| check_coordinate(lon[i], lat[i]));
        match reason {
            None => keep.push(i),
            Some(reason) => rejects.push(Reject {
                row: i as u64,
                id: ids.display(i),
                lon: lon[i],
                lat: lat[i],
                reason,
                raw: raw[i].take(),
            }),
        }
    }
    let all = Points {
        ids,
        rows: (0..n as u64).collect(),
        lon,
        lat,
    };
    PointsRead {
        points: all.select(&keep),
        rejects,
        total_rows: n,
    }
}

/// Points given as coordinates: each row is a point or a reject, as a file's rows.
fn read_lonlat(
    path: &Path,
    lon: &[f64],
    lat: &[f64],
    ids: Option<&PointIds>,
) -> Result<PointsRead, IoError> {
    let n = lon.len();
    let mismatch = |what: &str, len: usize| IoError::Decode {
        path: path.to_path_buf(),
        message: format!("{n} longitudes but {len} {what}"),
    };
    if lat.len() != n {
        return Err(mismatch("latitudes", lat.len()));
    }
    if let Some(ids) = ids
        && ids.len() != n
    {
        return Err(mismatch("ids", ids.len()));
    }
    if n == 0 {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "rows",
        });
    }
    let ids = ids
        .cloned()
        .unwrap_or_else(|| PointIds::Int((0..n as i64).collect()));
    Ok(sort_rows(
        ids,
        lon.to_vec(),
        lat.to_vec(),
        vec![None; n],
        vec![None; n],
    ))
}

/// Checks one coordinate pair; `None` when usable.
pub fn check_coordinate(lon: f64, lat: f64) -> Option<RejectReason> {
    if !lon.is_finite() || !lat.is_finite() {
        Some(RejectReason::NotFinite)
    } else if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        Some(RejectReason::OutOfRange)
    } else {
        None
    }
}

fn decode_wkb_point(v: Option<&[u8]>) -> Result<(f64, f64), String> {
    let bytes = v.ok_or_else(|| "null geometry".to_string())?;
    let wkb = wkb::reader::read_wkb(bytes).map_err(|e| format!("invalid WKB: {e}"))?;
    match wkb.try_to_geometry() {
        Some(geo_types::Geometry::Point(p)) if p.x().is_nan() && p.y().is_nan() => {
            Err("empty point".into())
        }
        Some(geo_types::Geometry::Point(p)) => Ok((p.x(), p.y())),
        Some(geo_types::Geometry::MultiPoint(mp)) if mp.0.len() == 1 => {
            Ok((mp.0[0].x(), mp.0[0].y()))
        }
        Some(other) => Err(format!("expected a point, found {}", geometry_kind(&other))),
        None => Err("empty point".into()),
    }
}

/// The WKT type name of a geometry.
pub(crate) fn geometry_kind(g: &geo_types::Geometry<f64>) -> &'static str {
    use geo_types::Geometry::{
        GeometryCollection, Line, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
        Polygon, Rect, Triangle,
    };
    match g {
        Point(_) => "Point",
        Line(_) => "Line",
        LineString(_) => "LineString",
        Polygon(_) => "Polygon",
        MultiPoint(_) => "MultiPoint",
        MultiLineString(_) => "MultiLineString",
        MultiPolygon(_) => "MultiPolygon",
        GeometryCollection(_) => "GeometryCollection",
        Rect(_) => "Rect",
        Triangle(_) => "Triangle",
    }
}

fn need<'a>(path: &Path, columns: &'a [String], name: &str) -> Result<&'a String, IoError> {
    find_column(columns, name).ok_or_else(|| IoError::MissingColumn {
        path: path.to_path_buf(),
        column: name.to_string(),
        available: columns.join(", "),
    })
}

fn detect_lonlat(columns: &[String], spec: &PointsSpec) -> Option<(String, String)> {
    let lon = match &spec.lon_column {
        Some(c) => find_column(columns, c).cloned(),
        None => LON_NAMES
            .iter()
            .find_map(|n| find_column(columns, n).cloned()),
    }?;
    let lat = match &spec.lat_column {
        Some(c) => find_column(columns, c).cloned(),
        None => LAT_NAMES
            .iter()
            .find_map(|n| find_column(columns, n).cloned()),
    }?;
    Some((lon, lat))
}

fn lonlat_columns(
    path: &Path,
    columns: &[String],
    spec: &PointsSpec,
) -> Result<(String, String), IoError> {
    for (given, _) in [(&spec.lon_column, "lon"), (&spec.lat_column, "lat")] {
        if let Some(c) = given {
            need(path, columns, c)?;
        }
    }
    detect_lonlat(columns, spec).ok_or_else(|| IoError::NoCoordinates {
        path: path.to_path_buf(),
        looked_for: format!("{} / {}", LON_NAMES.join("|"), LAT_NAMES.join("|")),
        available: columns.join(", "),
    })
}

fn id_column(
    path: &Path,
    columns: &[String],
    spec: &PointsSpec,
) -> Result<Option<String>, IoError> {
    match &spec.id_column {
        Some(c) => Ok(Some(need(path, columns, c)?.clone())),
        None => Ok(ID_NAMES
            .iter()
            .find_map(|n| find_column(columns, n).cloned())),
    }
}

/// One value of a coordinate column.
#[derive(Debug, Clone, PartialEq)]
enum Coordinate {
    /// A number (possibly NaN or infinite).
    Number(f64),
    /// Null, or text that is empty or only spaces.
    Missing,
    /// Text that is not a number, as it was in the file.
    Text(String),
}

impl Coordinate {
    /// The number, NaN when there is none.
    fn value(&self) -> f64 {
        match self {
            Coordinate::Number(x) => *x,
            _ => f64::NAN,
        }
    }
}

/// The values of coordinate column `name`: numbers are taken as they are, text is parsed value
/// by value (surrounding spaces ignored; `NaN` and `inf` are numbers, refused later as not
/// finite).
///
/// # Errors
/// [`IoError::ColumnType`] for a column that is neither numbers nor text (booleans, dates,
/// binary, lists).
fn coordinate_column(path: &Path, df: &DataFrame, name: &str) -> Result<Vec<Coordinate>, IoError> {
    let col = df.column(name).map_err(|e| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let type_error = || IoError::ColumnType {
        path: path.to_path_buf(),
        column: name.to_string(),
        found: col.dtype().to_string(),
        expected: "numbers (or text holding numbers)",
    };
    let dtype = col.dtype();
    if dtype.is_null() {
        return Ok(vec![Coordinate::Missing; col.len()]);
    }
    if dtype.is_string() {
        let ca = col.str().map_err(|_| type_error())?;
        return Ok(ca
            .iter()
            .map(|v| match v.map(str::trim) {
                None | Some("") => Coordinate::Missing,
                Some(t) => match t.parse::<f64>() {
                    Ok(x) => Coordinate::Number(x),
                    Err(_) => Coordinate::Text(v.unwrap_or_default().to_string()),
                },
            })
            .collect());
    }
    if !dtype.is_primitive_numeric() {
        return Err(type_error());
    }
    let cast = col.cast(&DataType::Float64).map_err(|_| type_error())?;
    let ca = cast.f64().map_err(|_| type_error())?;
    Ok(ca
        .iter()
        .map(|v| v.map_or(Coordinate::Missing, Coordinate::Number))
        .collect())
}

/// Checks that every record of the CSV file `path` has as many fields as its header, and
/// returns the header's column names. Quotes are honoured as polars does (a `"` toggles
/// quoting, so `""` inside quotes is a quote). A blank line after the header is a row, as polars
/// reads it (all its fields missing), not a ragged one.
///
/// # Errors
/// [`IoError::Read`] when the file cannot be read, [`IoError::Empty`] when it has no header,
/// [`IoError::Decode`] when the header is one column holding `;` or tabs (another separator),
/// [`IoError::RaggedRow`] naming the first record with a different number of fields, and how
/// many others there are.
fn check_csv_fields(path: &Path) -> Result<Vec<String>, IoError> {
    use std::io::Read;
    /// What the scan has seen so far.
    #[derive(Default)]
    struct Seen {
        header: Option<Vec<String>>,
        header_bytes: Vec<u8>,
        /// Data rows so far (blank lines included).
        row: u64,
        /// The first ragged record: (line, row, fields).
        first_bad: Option<(u64, u64, usize)>,
        bad: usize,
    }
    impl Seen {
        /// A record with content ends.
        fn record(&mut self, fields: usize, line: u64) {
            match &self.header {
                None => self.header = Some(split_header(&self.header_bytes)),
                Some(h) => {
                    if fields != h.len() {
                        self.bad += 1;
                        if self.first_bad.is_none() {
                            self.first_bad = Some((line, self.row, fields));
                        }
                    }
                    self.row += 1;
                }
            }
        }
        /// A blank line ends: polars reads it as a row of nulls (counted, not ragged).
        fn blank(&mut self) {
            if self.header.is_some() {
                self.row += 1;
            }
        }
    }
    let read_err = |source| IoError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(read_err)?);
    let mut buf = vec![0u8; 1 << 16];
    let mut seen = Seen::default();
    // The record being scanned: its first line, its fields so far, whether it has content.
    let mut line: u64 = 1;
    let mut start_line: u64 = 1;
    let mut fields = 1usize;
    let mut content = false;
    let mut quoted = false;
    loop {
        let k = file.read(&mut buf).map_err(read_err)?;
        if k == 0 {
            break;
        }
        for &b in &buf[..k] {
            if seen.header.is_none() && b != b'\n' {
                seen.header_bytes.push(b);
            }
            match b {
                b'"' => {
                    quoted = !quoted;
                    content = true;
                }
                b',' if !quoted => {
                    fields += 1;
                    content = true;
                }
                b'\n' => {
                    line += 1;
                    if !quoted {
                        if content {
                            seen.record(fields, start_line);
                        } else {
                            seen.blank();
                        }
                        fields = 1;
                        content = false;
                        start_line = line;
                    }
                }
                b'\r' => {}
                _ => content = true,
            }
        }
    }
    if content {
        seen.record(fields, start_line);
    }
    let Some(header) = seen.header else {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "header or rows",
        });
    };
    if let Some(e) = csv_separator_hint(path, &header) {
        return Err(e);
    }
    if let Some((line, row, found)) = seen.first_bad {
        return Err(IoError::RaggedRow {
            path: path.to_path_buf(),
            line,
            row,
            found,
            expected: header.len(),
            others: seen.bad - 1,
        });
    }
    Ok(header)
}

/// The column names of a CSV header line (quotes removed, a UTF-8 byte-order mark dropped).
fn split_header(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}').trim_end_matches('\r');
    let mut names = vec![String::new()];
    let mut quoted = false;
    for ch in text.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => names.push(String::new()),
            c => {
                if let Some(last) = names.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    names
}

/// When a CSV header is a single column holding `;` or tabs, the file is not comma-separated:
/// an error that says so.
fn csv_separator_hint(path: &Path, header: &[String]) -> Option<IoError> {
    let [only] = header else { return None };
    let sep = [(';', "';'"), ('\t', "tabs"), ('|', "'|'")]
        .into_iter()
        .find(|(c, _)| only.contains(*c))?
        .1;
    Some(IoError::Decode {
        path: path.to_path_buf(),
        message: format!(
            "the header is one column '{only}': the file seems separated by {sep}; geocells \
             reads comma-separated files with a '.' decimal point (convert it first)"
        ),
    })
}

pub(crate) fn read_ids(path: &Path, df: &DataFrame, name: &str) -> Result<PointIds, IoError> {
    let col = df.column(name).map_err(|e| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if col.dtype().is_integer() {
        let cast = col.cast(&DataType::Int64).map_err(|e| IoError::Decode {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let ca = cast.i64().map_err(|e| IoError::Decode {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut out = Vec::with_capacity(ca.len());
        for (row, v) in ca.iter().enumerate() {
            out.push(v.ok_or_else(|| IoError::Decode {
                path: path.to_path_buf(),
                message: format!("row {row}: id column '{name}' is null"),
            })?);
        }
        Ok(PointIds::Int(out))
    } else {
        let cast = col
            .cast(&DataType::String)
            .map_err(|_| IoError::ColumnType {
                path: path.to_path_buf(),
                column: name.to_string(),
                found: col.dtype().to_string(),
                expected: "integers or strings",
            })?;
        let ca = cast.str().map_err(|e| IoError::Decode {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(PointIds::Str(
            ca.iter()
                .enumerate()
                .map(|(row, v)| v.map_or_else(|| format!("row{row}"), str::to_string))
                .collect(),
        ))
    }
}
