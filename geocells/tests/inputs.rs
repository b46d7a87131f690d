//! Bad and unusual inputs: each gets a clear error naming the file (and row or feature), or a
//! documented handling.

mod common;

use common::{data, temp_dir};
use geocells::BoundarySpec;
use geocells::IoError;
use geocells::LevelSpec;
use geocells::PointsSpec;
use geocells::stages::build_areas;
use geocells::stages::read_points;

#[test]
fn missing_points_file_is_named() {
    let err = read_points(&PointsSpec::new("no/such/points.parquet")).expect_err("must fail");
    assert!(matches!(err, IoError::NotFound { .. }));
    assert!(err.to_string().contains("no/such/points.parquet"), "{err}");
}

#[test]
fn empty_points_file_is_an_error() {
    let dir = temp_dir("empty");
    let p = dir.join("empty.csv");
    std::fs::write(&p, "id,lon,lat\n").expect("write");
    let err = read_points(&PointsSpec::new(&p)).expect_err("must fail");
    assert!(matches!(err, IoError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("empty.csv"));
}

#[test]
fn missing_column_names_file_and_column() {
    let err =
        read_points(&PointsSpec::new(data("fixtures/points_bad.csv")).lon_column("longitude_deg"))
            .expect_err("must fail");
    let msg = err.to_string();
    assert!(matches!(err, IoError::MissingColumn { .. }), "{msg}");
    assert!(
        msg.contains("points_bad.csv") && msg.contains("longitude_deg"),
        "{msg}"
    );
    let spec = BoundarySpec {
        admin1: Some(
            LevelSpec::admin1(data("fixtures/benelux_admin1.geojson")).name_column("NAME_1"),
        ),
        ..Default::default()
    };
    let msg = build_areas(&spec).expect_err("must fail").to_string();
    assert!(
        msg.contains("benelux_admin1.geojson") && msg.contains("NAME_1"),
        "{msg}"
    );
}

#[test]
fn bad_rows_become_rejects_with_reasons() {
    let read = read_points(&PointsSpec::new(data("fixtures/points_bad.csv"))).expect("read");
    assert_eq!(read.total_rows, 11);
    assert_eq!(read.points.len(), 7);
    let got: Vec<(u64, &str)> = read
        .rejects
        .iter()
        .map(|r| (r.row, r.reason.code()))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, "not_finite"),
            (6, "out_of_range"),
            (7, "out_of_range"),
            (8, "missing_coordinate")
        ]
    );
    // Ids come from the id column.
    assert_eq!(read.rejects[0].id, "6");
}

#[test]
fn wkb_geoparquet_points_are_read() {
    let read = read_points(&PointsSpec::new(data("geonames_cities1000.parquet"))).expect("read");
    assert_eq!(read.total_rows, 144_563);
    assert!(read.rejects.is_empty());
    // The same coordinates as the lon/lat columns of the same file.
    let cols = read_points(
        &PointsSpec::new(data("geonames_cities1000.parquet"))
            .lon_column("lon")
            .lat_column("lat"),
    )
    .expect("read lon/lat");
    assert_eq!(read.points.lon, cols.points.lon);
    assert_eq!(read.points.lat, cols.points.lat);
    assert_eq!(read.points.ids, cols.points.ids);
}

#[test]
fn projected_shapefile_is_refused_or_reprojected() {
    let level = |f: &str| {
        LevelSpec::admin1(data(f))
            .code_column("adm1_code")
            .name_column("adm1_name")
            .country_code_column(Some("cntry_code".into()))
            .country_name_column(Some("cntry_name".into()))
    };
    let spec = BoundarySpec {
        admin1: Some(level("fixtures/lesotho_south_africa_admin1_3857.shp")),
        ..Default::default()
    };
    let result = build_areas(&spec);
    #[cfg(not(feature = "proj"))]
    {
        let msg = result
            .expect_err("3857 must be refused without proj")
            .to_string();
        assert!(
            msg.contains("lesotho_south_africa_admin1_3857.shp") && msg.contains("EPSG:4326"),
            "{msg}"
        );
    }
    #[cfg(feature = "proj")]
    {
        use geo::ChamberlainDuquetteArea;
        let projected = result.expect("reprojected with proj");
        let plain = build_areas(&BoundarySpec {
            admin1: Some(level("fixtures/lesotho_south_africa_admin1.shp")),
            ..Default::default()
        })
        .expect("4326");
        assert_eq!(projected.areas.len(), plain.areas.len());
        for (a, b) in projected.areas.iter().zip(&plain.areas) {
            assert_eq!(a.code, b.code);
            let (x, y) = (
                a.geometry.chamberlain_duquette_unsigned_area(),
                b.geometry.chamberlain_duquette_unsigned_area(),
            );
            assert!((x - y).abs() <= 1e-6 * y, "{}: {x} vs {y}", a.code);
        }
    }
}

#[test]
fn antimeridian_crossing_polygon_is_cut_and_keeps_its_area() {
    use geo::{BoundingRect, ChamberlainDuquetteArea};
    let spec = BoundarySpec {
        admin1: Some(LevelSpec::admin1(data(
            "fixtures/fiji_antimeridian.geojson",
        ))),
        ..Default::default()
    };
    let built = build_areas(&spec).expect("areas");
    assert_eq!(built.notes.antimeridian_split.len(), 1);
    let fiji = &built.areas[0].geometry;
    let b = fiji.bounding_rect().expect("bbox");
    assert!(b.min().x >= -180.0 && b.max().x <= 180.0);
    assert!(geocells::algorithms::is_valid_fast(fiji));
    // Same area as Fiji in the shipped country file, which Natural Earth splits itself.
    let countries = build_areas(&BoundarySpec {
        country: Some(LevelSpec::country(data("admin0_world.parquet"))),
        ..Default::default()
    })
    .expect("countries");
    let reference = countries
        .areas
        .iter()
        .find(|a| a.code == "FJI")
        .expect("FJI");
    let (x, y) = (
        fiji.chamberlain_duquette_unsigned_area(),
        reference.geometry.chamberlain_duquette_unsigned_area(),
    );
    assert!((x - y).abs() < 1e-3 * y, "{x} vs {y}");
    // Parts lie on both sides of the antimeridian.
    assert!(
        fiji.0
            .iter()
            .any(|p| p.bounding_rect().is_some_and(|r| r.max().x > 179.9))
    );
    assert!(
        fiji.0
            .iter()
            .any(|p| p.bounding_rect().is_some_and(|r| r.min().x < -179.9))
    );
}

#[test]
fn self_intersecting_polygon_is_repaired_and_reported() {
    let dir = temp_dir("bowtie");
    let p = dir.join("bowtie.geojson");
    std::fs::write(
        &p,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"admin1_code":"A","admin1_name":"Bow","country_code":"X","country_name":"Xland"},
         "geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}},
        {"type":"Feature","properties":{"admin1_code":"B","admin1_name":"Square","country_code":"X","country_name":"Xland"},
         "geometry":{"type":"Polygon","coordinates":[[[2,0],[4,0],[4,2],[2,2],[2,0]]]}}]}"#,
    )
    .expect("write");
    let built = build_areas(&BoundarySpec {
        admin1: Some(LevelSpec::admin1(&p)),
        ..Default::default()
    })
    .expect("areas");
    assert_eq!(built.notes.repaired.len(), 1);
    assert!(
        built.notes.repaired[0].contains("bowtie.geojson")
            && built.notes.repaired[0].contains("feature 0")
    );
    let bow = built.areas.iter().find(|a| a.code == "A").expect("A");
    assert!(geocells::algorithms::is_valid_fast(&bow.geometry));
    assert!(geo::Validation::is_valid(&bow.geometry));
}

#[test]
fn non_polygon_feature_is_named() {
    let dir = temp_dir("line");
    let p = dir.join("line.geojson");
    std::fs::write(
        &p,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"admin1_code":"A","admin1_name":"L","country_code":"X","country_name":"X"},
         "geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#,
    )
    .expect("write");
    let msg = build_areas(&BoundarySpec {
        admin1: Some(LevelSpec::admin1(&p)),
        ..Default::default()
    })
    .expect_err("must fail")
    .to_string();
    assert!(
        msg.contains("line.geojson") && msg.contains("feature 0") && msg.contains("LineString"),
        "{msg}"
    );
}

#[test]
fn failed_write_leaves_no_file_and_keeps_the_old_one() {
    let dir = temp_dir("atomic");
    let target = dir.join("out.json");
    let err =
        geocells::files::write_atomic(&target, |_| Err("boom".into())).expect_err("must fail");
    assert!(err.to_string().contains("boom"));
    assert!(!target.exists());
    geocells::files::write_atomic(&target, |w| {
        use std::io::Write;
        w.write_all(b"old").map_err(|e| e.to_string())
    })
    .expect("write");
    let _ = geocells::files::write_atomic(&target, |w| {
        use std::io::Write;
        w.write_all(b"half").map_err(|e| e.to_string())?;
        Err("crash".into())
    });
    assert_eq!(std::fs::read(&target).expect("read"), b"old");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(std::result::Result::ok)
        .collect();
    assert_eq!(leftovers.len(), 1, "temporary files left behind");
}

#[test]
fn unknown_crs_in_prj_is_an_error_naming_the_file() {
    // A copy of the lon/lat fixture whose .prj names a CRS nobody can build a transformation
    // for: refused with or without the proj feature.
    let dir = temp_dir("badprj");
    for ext in ["shp", "shx", "dbf", "cpg"] {
        std::fs::copy(
            data(&format!("fixtures/lesotho_south_africa_admin1.{ext}")),
            dir.join(format!("strange.{ext}")),
        )
        .expect("copy");
    }
    std::fs::write(
        dir.join("strange.prj"),
        r#"PROJCS["Made_Up_Grid",GEOGCS["GCS_Nowhere",DATUM["D_Nowhere",SPHEROID["Blob",1.0,0.0]]],PROJECTION["No_Such_Projection"],UNIT["Meter",1.0]]"#,
    )
    .expect("write prj");
    let spec = BoundarySpec {
        admin1: Some(
            LevelSpec::admin1(dir.join("strange.shp"))
                .code_column("adm1_code")
                .name_column("adm1_name")
                .country_code_column(Some("cntry_code".into()))
                .country_name_column(Some("cntry_name".into())),
        ),
        ..Default::default()
    };
    let msg = build_areas(&spec).expect_err("must be refused").to_string();
    assert!(
        msg.contains("strange.shp") && msg.contains("Made_Up_Grid"),
        "{msg}"
    );
}

/// Writes `lon`, `lat`, `id` (integers or text) as a plain Parquet file.
fn write_points(path: &std::path::Path, lon: &[f64], lat: &[f64], ids: geocells::files::Column) {
    use geocells::files::{Column, write_parquet};
    let n = lon.len();
    let kind = match &ids {
        Column::I64(_) => Column::I64(vec![]),
        _ => Column::Str(vec![]),
    };
    let ids = std::sync::Mutex::new(Some(ids));
    write_parquet(
        path,
        &["lon", "lat", "id"],
        &[Column::F64(vec![]), Column::F64(vec![]), kind],
        n,
        n.max(1),
        vec![],
        |_| {
            let ids = ids.lock().ok().and_then(|mut i| i.take());
            vec![
                Column::F64(lon.to_vec()),
                Column::F64(lat.to_vec()),
                ids.unwrap_or(Column::I64(vec![])),
            ]
        },
    )
    .expect("write");
}

#[test]
fn a_directory_of_parquet_files_is_read_as_one_table() {
    // The shipped places, read whole and as a hive-style dataset of three parts.
    let whole = read_points(&PointsSpec::new(data("geonames_cities1000.parquet"))).expect("read");
    let p = &whole.points;
    let n = p.len();
    let dir = temp_dir("dataset");
    let cut = [0, n / 3, n / 2, n];
    let ids: Vec<i64> = match &p.ids {
        geocells::PointIds::Int(v) => v.clone(),
        geocells::PointIds::Str(_) => panic!("the shipped ids are integers"),
    };
    for (k, w) in cut.windows(2).enumerate() {
        let part = dir.join(format!("part={k}"));
        std::fs::create_dir_all(&part).expect("mkdir");
        write_points(
            &part.join("data-0.parquet"),
            &p.lon[w[0]..w[1]],
            &p.lat[w[0]..w[1]],
            geocells::files::Column::I64(ids[w[0]..w[1]].to_vec()),
        );
    }
    // What engines leave beside the data is skipped.
    std::fs::write(dir.join("_SUCCESS"), b"").expect("marker");
    let read = read_points(&PointsSpec::new(&dir)).expect("dataset");
    assert_eq!(read.total_rows, n);
    assert_eq!(read.points.lon, p.lon);
    assert_eq!(read.points.lat, p.lat);
    assert_eq!(read.points.ids, p.ids);
    assert_eq!(read.points.rows, (0..n as u64).collect::<Vec<_>>());

    // A part with text ids is refused, naming both files.
    let bad = dir.join("part=9");
    std::fs::create_dir_all(&bad).expect("mkdir");
    write_points(
        &bad.join("x.parquet"),
        &[1.0],
        &[2.0],
        geocells::files::Column::Str(vec!["a".into()]),
    );
    let e = read_points(&PointsSpec::new(&dir)).expect_err("mixed ids");
    assert!(matches!(e, IoError::DatasetIds { .. }), "{e}");
    assert!(e.to_string().contains("part=9"), "{e}");

    // A directory without Parquet files says what it looked for.
    let empty = temp_dir("dataset-empty");
    let e = read_points(&PointsSpec::new(&empty)).expect_err("empty");
    assert!(e.to_string().contains("without Parquet files"), "{e}");
}
