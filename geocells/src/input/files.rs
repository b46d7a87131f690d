//! Shared reading helpers of the input stage: [`IoError`] (every variant names the file), file
//! format detection ([`Format`]), Parquet metadata and footers, the guard that turns a decoder
//! panic into an error, column lookup and file hashes. The readers themselves are
//! `input::points` (training points) and `input::boundaries` (boundary polygons).

use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors while reading an input file. Every variant names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file does not exist.
    #[error("{path}: file not found")]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file has no rows or no features.
    #[error("{path}: the file is empty (no {what})")]
    Empty {
        /// The file.
        path: PathBuf,
        /// What was expected ("rows", "features").
        what: &'static str,
    },
    /// A configured or required column is missing.
    #[error("{path}: no column '{column}' (columns: {available})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The columns the file has, comma separated.
        available: String,
    },
    /// No code column was named for a boundary level and none of the known sources' code
    /// columns is in the file.
    #[error(
        "{path}: cannot tell which column holds the {level} codes (columns: {available}); \
         known sources and their code columns: {known}; name the code column with {flag} \
         (LevelSpec::code_column)"
    )]
    NoCodeColumn {
        /// The file.
        path: PathBuf,
        /// The level (`"country"`, `"admin1"`, `"admin2"`).
        level: &'static str,
        /// The columns the file has, comma separated.
        available: String,
        /// The known sources and their code columns at this level.
        known: String,
        /// The build_cells flag that names the code column.
        flag: &'static str,
    },
    /// A points directory (a Parquet dataset) holds no Parquet file.
    #[error(
        "{path}: a directory without Parquet files (a points dataset is read as the *.parquet \
         files under it, in path order; names starting with '.' or '_' are skipped)"
    )]
    NoDatasetFiles {
        /// The directory.
        path: PathBuf,
    },
    /// Two files of a points dataset disagree on the type of the id column.
    #[error("{path}: the id column holds {found} here but {expected} in {first}")]
    DatasetIds {
        /// The file that disagrees.
        path: PathBuf,
        /// What it holds ("text", "integers").
        found: &'static str,
        /// What the first file holds.
        expected: &'static str,
        /// The first file.
        first: PathBuf,
    },
    /// Neither lon/lat columns nor a geometry column could be found.
    #[error(
        "{path}: cannot find point coordinates: no WKB geometry column and no lon/lat columns \
         (looked for {looked_for}; columns: {available}); name them with the lon/lat column options"
    )]
    NoCoordinates {
        /// The file.
        path: PathBuf,
        /// The names tried.
        looked_for: String,
        /// The columns the file has.
        available: String,
    },
    /// A column has a type that cannot be used.
    #[error("{path}: column '{column}' has type {found}, expected {expected}")]
    ColumnType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Its type.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The file format was not recognised from its extension.
    #[error(
        "{path}: unknown file type (expected .parquet/.geoparquet, .csv, .geojson/.json or .shp)"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A Parquet or CSV file could not be decoded.
    #[error("{path}: {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        message: String,
    },
    /// A CSV record has more or fewer fields than the header (a stray or unquoted comma, such
    /// as a decimal comma, or a missing field). Names the first such record.
    #[error(
        "{path}: line {line} (data row {row}, counted from 0 as in rejects.parquet) has {found} \
         fields, the header has {expected}{}; quote fields that hold commas (\"4,35\") or fix \
         the row",
        more_rows(*.others)
    )]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// One-based line where the record starts.
        line: u64,
        /// Zero-based data row (the header not counted).
        row: u64,
        /// Fields in that record.
        found: usize,
        /// Fields in the header.
        expected: usize,
        /// Further records with the wrong number of fields.
        others: usize,
    },
    /// One feature of a boundary file is unusable.
    #[error("{path}: feature {feature}: {message}")]
    Feature {
        /// The file.
        path: PathBuf,
        /// Zero-based feature (row / record) index.
        feature: usize,
        /// What is wrong.
        message: String,
    },
    /// The file's coordinate reference system is not lon/lat WGS84 and cannot be reprojected.
    #[error("{path}: coordinate reference system {crs} is not EPSG:4326 lon/lat; {hint}")]
    Crs {
        /// The file.
        path: PathBuf,
        /// The CRS as found in the file (name or code).
        crs: String,
        /// What the user can do.
        hint: String,
    },
}

fn more_rows(others: usize) -> String {
    match others {
        0 => String::new(),
        1 => " (and 1 more row like it)".into(),
        n => format!(" (and {n} more rows like it)"),
    }
}

/// File formats recognised from the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet (GeoParquet or plain).
    Parquet,
    /// Comma-separated values with a header row.
    Csv,
    /// GeoJSON FeatureCollection.
    GeoJson,
    /// ESRI Shapefile (with `.dbf`, `.shx` and `.prj` beside it).
    Shapefile,
}

impl Format {
    /// Detects the format of `path` from its extension.
    pub fn detect(path: &Path) -> Result<Format, IoError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "parquet" | "geoparquet" | "pq" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "geojson" | "json" => Ok(Format::GeoJson),
            "shp" => Ok(Format::Shapefile),
            _ => Err(IoError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// The Parquet files of a dataset directory (hive-style `key=value/` folders or flat), as
/// Spark, pyarrow and Dask write them: every `*.parquet` file under `dir`, recursively, in
/// byte order of their paths below `dir`; files and folders whose names start with `.` or `_`
/// (`_SUCCESS`, `_metadata`, `.part.crc`) are skipped.
///
/// # Errors
/// [`IoError::Read`] for a folder that cannot be listed, [`IoError::NoDatasetFiles`] when
/// none is found.
pub(crate) fn dataset_files(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) -> Result<(), IoError> {
        let read = |source| IoError::Read {
            path: d.to_path_buf(),
            source,
        };
        for entry in std::fs::read_dir(d).map_err(read)? {
            let path = entry.map_err(read)?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_none_or(|n| n.starts_with('.') || n.starts_with('_')) {
                continue;
            }
            if path.is_dir() {
                walk(&path, out)?;
            } else if matches!(Format::detect(&path), Ok(Format::Parquet)) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(IoError::NoDatasetFiles {
            path: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// Bytes of an input: a file's size, or the sum over a dataset directory's files.
pub(crate) fn input_bytes(path: &Path) -> Option<u64> {
    if path.is_dir() {
        let files = dataset_files(path).ok()?;
        files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).ok())
            .sum()
    } else {
        std::fs::metadata(path).map(|m| m.len()).ok()
    }
}

/// Checks that `path` exists, giving [`IoError::NotFound`] otherwise.
pub(crate) fn require_file(path: &Path) -> Result<(), IoError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(IoError::NotFound {
            path: path.to_path_buf(),
        })
    }
}

/// The `geo` key of a GeoParquet file, as far as this crate uses it.
#[derive(Debug, Clone)]
pub(crate) struct GeoParquetMeta {
    pub primary_column: String,
    pub encoding: String,
    pub crs: Option<serde_json::Value>,
}

/// Runs a decoder call that can panic on malformed input instead of returning an error
/// (polars-parquet 0.55: see `docs/fuzzing.md`), turning a panic into [`IoError::Decode`]
/// naming the file. Needs `panic = "unwind"` (the default).
pub(crate) fn guard_decoder<T>(
    path: &Path,
    decoder: &str,
    f: impl FnOnce() -> Result<T, IoError>,
) -> Result<T, IoError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(std::string::ToString::to_string)
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(IoError::Decode {
            path: path.to_path_buf(),
            message: format!("{decoder} failed on malformed input (the file is corrupt): {what}"),
        })
    })
}

/// Reads a Parquet file's key-value metadata and column names with polars.
pub(crate) fn parquet_meta(path: &Path) -> Result<(Option<GeoParquetMeta>, Vec<String>), IoError> {
    guard_decoder(path, "the Parquet reader", || parquet_meta_unguarded(path))
}

fn parquet_meta_unguarded(path: &Path) -> Result<(Option<GeoParquetMeta>, Vec<String>), IoError> {
    use polars::prelude::*;
    let file = std::fs::File::open(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if file.metadata().is_ok_and(|m| m.len() == 0) {
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            what: "data: 0 bytes",
        });
    }
    let mut reader = ParquetReader::new(file);
    let decode = |e: PolarsError| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let schema = reader.schema().map_err(decode)?;
    let columns: Vec<String> = schema
        .iter_names()
        .map(polars::prelude::PlSmallStr::to_string)
        .collect();
    let md = reader.get_metadata().map_err(decode)?;
    let geo = md
        .key_value_metadata()
        .as_ref()
        .and_then(|kvs| kvs.iter().find(|kv| kv.key == "geo"))
        .and_then(|kv| kv.value.clone());
    let meta = match geo {
        None => None,
        Some(text) => {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| IoError::Decode {
                    path: path.to_path_buf(),
                    message: format!("invalid GeoParquet 'geo' metadata: {e}"),
                })?;
            let primary = v
                .get("primary_column")
                .and_then(|p| p.as_str())
                .unwrap_or("geometry")
                .to_string();
            let col = v.get("columns").and_then(|c| c.get(&primary));
            let encoding = col
                .and_then(|c| c.get("encoding"))
                .and_then(|e| e.as_str())
                .unwrap_or("WKB")
                .to_string();
            // A missing "crs" key means OGC:CRS84; an explicit null means "unknown".
            let crs = match col.and_then(|c| c.as_object()) {
                Some(obj) if obj.contains_key("crs") => Some(obj["crs"].clone()),
                _ => None,
            };
            Some(GeoParquetMeta {
                primary_column: primary,
                encoding,
                crs,
            })
        }
    };
    Ok((meta, columns))
}

/// Reads the named columns of a Parquet file into a polars `DataFrame`.
pub(crate) fn read_parquet_columns(
    path: &Path,
    columns: &[String],
) -> Result<polars::prelude::DataFrame, IoError> {
    use polars::prelude::*;
    let file = std::fs::File::open(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let df = guard_decoder(path, "the Parquet reader", || {
        ParquetReader::new(file)
            .with_columns(Some(columns.to_vec()))
            .finish()
            .map_err(|e| IoError::Decode {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    })?;
    // polars 0.55 can return columns shorter than the frame from a malformed row group
    // (docs/fuzzing.md); the readers index every column up to the height.
    if let Some(c) = df.columns().iter().find(|c| c.len() != df.height()) {
        return Err(IoError::Decode {
            path: path.to_path_buf(),
            message: format!(
                "column '{}' has {} values for {} rows (the file is corrupt)",
                c.name(),
                c.len(),
                df.height()
            ),
        });
    }
    Ok(df)
}

/// The row count and key-value metadata of a Parquet file, from its footer alone (the
/// `parquet` crate's reader: no column is decoded).
pub(crate) fn parquet_footer(path: &Path) -> Result<(u64, Vec<(String, String)>), String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = SerializedFileReader::new(file).map_err(|e| e.to_string())?;
    let meta = reader.metadata().file_metadata();
    let kv = meta
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?)))
        .collect();
    Ok((u64::try_from(meta.num_rows()).unwrap_or(0), kv))
}

/// Finds a column by exact name, then case-insensitively.
pub(crate) fn find_column<'a>(columns: &'a [String], name: &str) -> Option<&'a String> {
    columns
        .iter()
        .find(|c| c.as_str() == name)
        .or_else(|| columns.iter().find(|c| c.eq_ignore_ascii_case(name)))
}

/// The WKB column `name` of `df` as binary, looking through Arrow extension types such as
/// `geoarrow.wkb` (written by geopandas >= 1.0 with recent pyarrow) to their binary storage.
pub(crate) fn binary_column(
    path: &Path,
    df: &polars::prelude::DataFrame,
    name: &str,
) -> Result<polars::prelude::BinaryChunked, IoError> {
    let col = df.column(name).map_err(|e| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let series = col.as_materialized_series().to_storage();
    series.binary().cloned().map_err(|_| IoError::ColumnType {
        path: path.to_path_buf(),
        column: name.to_string(),
        found: col.dtype().to_string(),
        expected: "binary (WKB)",
    })
}

/// SHA-256 of a file (and its shapefile sidecars), hex; `None` if unreadable.
pub(crate) fn file_sha256(path: &Path) -> Option<String> {
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    if path.is_dir() {
        // A dataset: each file's path below the directory, a NUL, then its bytes, in order.
        for f in dataset_files(path).ok()? {
            let relative = f.strip_prefix(path).ok()?.to_string_lossy().into_owned();
            sha2::Digest::update(&mut h, relative.as_bytes());
            sha2::Digest::update(&mut h, [0u8]);
            let mut file = std::fs::File::open(&f).ok()?;
            std::io::copy(&mut file, &mut h).ok()?;
        }
        return Some(format!("{:x}", sha2::Digest::finalize(h)));
    }
    let mut files: Vec<PathBuf> = vec![path.to_path_buf()];
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("shp"))
    {
        for ext in ["shx", "dbf", "prj"] {
            let p = path.with_extension(ext);
            if p.is_file() {
                files.push(p);
            }
        }
    }
    for f in files {
        let mut file = std::fs::File::open(&f).ok()?;
        std::io::copy(&mut file, &mut h).ok()?;
    }
    Some(format!("{:x}", sha2::Digest::finalize(h)))
}
