//! Coordinate reference systems: recognising lon/lat WGS84 and, with the `proj` feature,
//! reprojecting anything else to it.

use std::path::Path;

use crate::input::files::IoError;

/// True when an ESRI/OGC WKT string (a `.prj` file) describes geographic WGS84 coordinates.
///
/// Accepts `GEOGCS["GCS_WGS_1984", ...]`, `GEOGCS["WGS 84", ...]` and WKT2 `GEOGCRS` forms
/// with the WGS 84 datum, and rejects anything with a `PROJCS`/`PROJCRS` (projected) root.
///
/// ```
/// use geocells::files::wkt_is_wgs84_lonlat;
/// assert!(wkt_is_wgs84_lonlat(r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]]"#));
/// assert!(!wkt_is_wgs84_lonlat(r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Mercator_Auxiliary_Sphere"]]"#));
/// ```
pub fn wkt_is_wgs84_lonlat(wkt: &str) -> bool {
    let upper = wkt.trim_start().to_ascii_uppercase();
    let geographic = upper.starts_with("GEOGCS[") || upper.starts_with("GEOGCRS[");
    let compact: String = upper.chars().filter(char::is_ascii_alphanumeric).collect();
    geographic && (compact.contains("WGS1984") || compact.contains("WGS84"))
}

/// A short name for a WKT CRS: the quoted name of its root element.
pub fn wkt_name(wkt: &str) -> String {
    let mut parts = wkt.splitn(3, '"');
    let _ = parts.next();
    parts
        .next()
        .map_or_else(|| wkt.chars().take(60).collect(), str::to_string)
}

/// True when a GeoParquet PROJJSON CRS value is OGC:CRS84 or EPSG:4326.
pub fn projjson_is_lonlat(crs: &serde_json::Value) -> bool {
    if crs.is_null() {
        // An explicit null says "unknown": accepted as lon/lat, as GDAL does.
        return true;
    }
    if let Some(s) = crs.as_str() {
        let s = s.to_ascii_uppercase();
        return s.contains("CRS84") || s.ends_with("4326");
    }
    let id = crs.get("id");
    let authority = id
        .and_then(|i| i.get("authority"))
        .and_then(|a| a.as_str())
        .unwrap_or("");
    let code = id
        .and_then(|i| i.get("code"))
        .map(|c| c.to_string().trim_matches('"').to_string())
        .unwrap_or_default();
    (authority.eq_ignore_ascii_case("OGC") && code.eq_ignore_ascii_case("CRS84"))
        || (authority.eq_ignore_ascii_case("EPSG") && code == "4326")
}

/// A short name for a PROJJSON CRS.
pub fn projjson_name(crs: &serde_json::Value) -> String {
    let id = crs.get("id");
    match (
        id.and_then(|i| i.get("authority")),
        id.and_then(|i| i.get("code")),
    ) {
        (Some(a), Some(c)) => format!("{}:{}", a.as_str().unwrap_or("?"), c).replace('"', ""),
        _ => crs
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("(unnamed)")
            .to_string(),
    }
}

/// Converts coordinates from a source CRS (given as WKT) to lon/lat WGS84.
pub trait Reprojector {
    /// Converts one coordinate in place.
    fn convert(&self, x: f64, y: f64) -> Result<(f64, f64), String>;
}

/// Builds a reprojector from `wkt` to EPSG:4326 lon/lat, or explains why it cannot.
///
/// # Errors
/// [`IoError::Crs`] naming `path` when PROJ does not know the CRS.
#[cfg(feature = "proj")]
pub fn reprojector(path: &Path, wkt: &str) -> Result<Box<dyn Reprojector>, IoError> {
    struct P(proj::Proj);
    impl Reprojector for P {
        fn convert(&self, x: f64, y: f64) -> Result<(f64, f64), String> {
            self.0.convert((x, y)).map_err(|e| e.to_string())
        }
    }
    let p = proj::Proj::new_known_crs(wkt, "OGC:CRS84", None).map_err(|e| IoError::Crs {
        path: path.to_path_buf(),
        crs: wkt_name(wkt),
        hint: format!("PROJ cannot build a transformation to OGC:CRS84: {e}"),
    })?;
    Ok(Box::new(P(p)))
}

/// Without the `proj` feature no reprojection is possible: the error says how to get it.
///
/// # Errors
/// Always [`IoError::Crs`], naming the file, its CRS and the `proj` feature.
#[cfg(not(feature = "proj"))]
pub fn reprojector(path: &Path, wkt: &str) -> Result<Box<dyn Reprojector>, IoError> {
    Err(IoError::Crs {
        path: path.to_path_buf(),
        crs: wkt_name(wkt),
        hint: "rebuild with `--features proj` to reproject it, or reproject the file to \
               EPSG:4326 first (e.g. ogr2ogr -t_srs EPSG:4326)"
            .into(),
    })
}

/// Checks a GeoParquet geometry column's encoding and CRS.
pub(crate) fn check_geoparquet(
    path: &std::path::Path,
    meta: &crate::input::files::GeoParquetMeta,
) -> Result<(), IoError> {
    if !meta.encoding.eq_ignore_ascii_case("WKB") {
        return Err(IoError::Decode {
            path: path.to_path_buf(),
            message: format!(
                "GeoParquet column '{}' uses encoding {}; only WKB is supported",
                meta.primary_column, meta.encoding
            ),
        });
    }
    if let Some(crs) = &meta.crs
        && !projjson_is_lonlat(crs)
    {
        return Err(IoError::Crs {
            path: path.to_path_buf(),
            crs: projjson_name(crs),
            hint: "reproject the file to EPSG:4326 (e.g. ogr2ogr -t_srs EPSG:4326)".into(),
        });
    }
    Ok(())
}
