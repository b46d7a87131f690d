//! In-memory inputs: points as coordinates or a polars `DataFrame`, boundaries as geo-types
//! polygons, give the same cells and labels as the same data in files; bad rows of a frame are
//! rejects with their reason; the labels come back as a `DataFrame`.

mod common;

use common::{data, run_validated, temp_dir};
use geocells::BoundaryFeature;
use geocells::BoundarySpec;
use geocells::Inputs;
use geocells::LevelSpec;
use geocells::Params;
use geocells::PointIds;
use geocells::PointsSpec;
use geocells::RejectReason;
use geocells::Run;
use geocells::stages::read_boundaries;
use geocells::stages::read_points;
use polars::prelude::*;

/// GeoNames places in a box around Benelux, as (ids, lon, lat).
fn benelux_points() -> (Vec<i64>, Vec<f64>, Vec<f64>) {
    let all = read_points(&PointsSpec::new(data("geonames_cities1000.parquet")))
        .expect("points")
        .points;
    let PointIds::Int(ids) = &all.ids else {
        panic!("integer ids expected");
    };
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for (i, &id) in ids.iter().enumerate() {
        let (lon, lat) = (all.lon[i], all.lat[i]);
        if (2.0..7.5).contains(&lon) && (49.2..53.8).contains(&lat) {
            out.0.push(id);
            out.1.push(lon);
            out.2.push(lat);
        }
    }
    out
}

/// The Benelux admin-1 fixture read into in-memory features.
fn benelux_features() -> Vec<BoundaryFeature> {
    let cols: Vec<String> = ["admin1_code", "admin1_name", "country_code", "country_name"]
        .map(String::from)
        .to_vec();
    let file = read_boundaries(&data("fixtures/benelux_admin1.geojson"), &cols).expect("read");
    file.features
        .into_iter()
        .map(|f| {
            BoundaryFeature::new(f.props["admin1_code"].clone(), f.geometry)
                .name(f.props["admin1_name"].clone())
                .country(
                    f.props["country_code"].clone(),
                    f.props["country_name"].clone(),
                )
        })
        .collect()
}

fn params() -> Params {
    Params::default().min_size(20).max_size(200)
}

fn assert_same_run(a: &Run, b: &Run) {
    assert_eq!(a.cells().len(), b.cells().len(), "cell count");
    for (x, y) in a.cells().cells().iter().zip(b.cells().cells()) {
        assert_eq!(x.id, y.id);
        assert_eq!(x.size, y.size, "size of cell {}", x.id);
        assert_eq!(x.name, y.name, "name of cell {}", x.id);
        assert_eq!(x.country_code, y.country_code, "country of cell {}", x.id);
        assert_eq!(x.geometry, y.geometry, "polygons of cell {}", x.id);
    }
    assert_eq!(a.point_cells(), b.point_cells(), "labels");
    assert_eq!(a.rejects(), b.rejects(), "rejects");
}

#[test]
fn in_memory_points_and_polygons_give_the_cells_of_the_files() {
    let dir = temp_dir("in-memory-same");
    let (ids, lon, lat) = benelux_points();
    assert!(lon.len() > 500, "{} points", lon.len());
    let mut csv = String::from("id,lon,lat\n");
    for i in 0..lon.len() {
        csv.push_str(&format!("{},{},{}\n", ids[i], lon[i], lat[i]));
    }
    let csv_path = dir.join("points.csv");
    std::fs::write(&csv_path, csv).expect("write csv");
    let files = Inputs::new(
        PointsSpec::new(&csv_path),
        BoundarySpec {
            admin1: Some(LevelSpec::admin1(data("fixtures/benelux_admin1.geojson"))),
            ..Default::default()
        },
    );
    let memory = Inputs::new(
        PointsSpec::lonlat(lon.clone(), lat.clone()).ids(PointIds::Int(ids.clone())),
        BoundarySpec {
            admin1: Some(LevelSpec::polygons(benelux_features())),
            ..Default::default()
        },
    );
    let from_files = run_validated(&files, params());
    let from_memory = run_validated(&memory, params());
    assert!(from_files.cells().len() > 3);
    assert_same_run(&from_files, &from_memory);

    // The same points as a DataFrame.
    let df = df!("id" => ids.as_slice(), "lon" => lon.as_slice(), "lat" => lat.as_slice())
        .expect("frame");
    let framed = Inputs::new(
        PointsSpec::frame(df),
        BoundarySpec {
            admin1: Some(LevelSpec::polygons(benelux_features())),
            ..Default::default()
        },
    );
    let from_frame = run_validated(&framed, params());
    assert_same_run(&from_files, &from_frame);

    // The report names what the inputs were, with a reproducible hash.
    let inputs = &from_memory.report().inputs;
    assert_eq!(inputs[0].kind.as_deref(), Some("lonlat"));
    assert_eq!(inputs[0].rows, Some(lon.len()));
    assert_eq!(inputs[1].kind.as_deref(), Some("polygons"));
    assert_eq!(inputs[1].features, Some(29));
    let again = run_validated(&memory, params());
    assert_eq!(again.report().inputs, *inputs);
    assert_eq!(inputs[0].sha256.as_deref().map(str::len), Some(64));
    assert_eq!(
        from_frame.report().inputs[0].kind.as_deref(),
        Some("dataframe")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One square admin-1 area around (0.5, 0.5).
fn square() -> BoundarySpec {
    let sq = geo::wkt!(POLYGON((0. 0., 1. 0., 1. 1., 0. 1., 0. 0.)));
    BoundarySpec {
        admin1: Some(LevelSpec::polygons([BoundaryFeature::new("SQ-1", sq)
            .name("Square")
            .country("SQR", "Squareland")])),
        ..Default::default()
    }
}

#[test]
fn bad_rows_of_a_frame_are_rejects_with_their_reason() {
    let df = df!(
        "key" => ["a", "b", "c", "d", "e"],
        "longitude" => ["0.5", "0.25", "abc", "0.75", "200"],
        "latitude" => [Some("0.5"), Some("0.75"), Some("0.5"), None, Some("0.5")],
    )
    .expect("frame");
    let inputs = Inputs::new(PointsSpec::frame(df), square());
    let run = run_validated(&inputs, Params::default().min_size(1).max_size(10));
    assert_eq!(run.point_cells().points.len(), 2);
    assert_eq!(run.input_rows(), 5);
    let got: Vec<(u64, String, RejectReason, Option<String>)> = run
        .rejects()
        .iter()
        .map(|r| (r.row, r.id.clone(), r.reason.clone(), r.raw.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                "c".into(),
                RejectReason::NotANumber,
                Some("longitude=abc".into())
            ),
            (3, "d".into(), RejectReason::MissingCoordinate, None),
            (4, "e".into(), RejectReason::OutOfRange, None),
        ]
    );
    // Coordinates given as vectors: a NaN is a reject too.
    let inputs = Inputs::new(
        PointsSpec::lonlat(vec![0.5, f64::NAN, 0.2], vec![0.5, 0.5, 0.3]),
        square(),
    );
    let run = run_validated(&inputs, Params::default().min_size(1).max_size(10));
    assert_eq!(run.rejects().len(), 1);
    assert_eq!(run.rejects()[0].reason, RejectReason::NotFinite);
    assert_eq!(run.rejects()[0].row, 1);
}

#[test]
fn labels_frame_has_one_row_per_labelled_point() {
    let (ids, lon, lat) = benelux_points();
    let inputs = Inputs::new(
        PointsSpec::lonlat(lon, lat).ids(PointIds::Int(ids)),
        BoundarySpec {
            admin1: Some(LevelSpec::polygons(benelux_features())),
            ..Default::default()
        },
    );
    let run = run_validated(&inputs, params());
    let df = run.labels_frame().expect("frame");
    assert_eq!(df.height(), run.point_cells().points.len());
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(
        names,
        [
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
            "level"
        ]
    );
    let cells: Vec<i64> = df
        .column("cell_id")
        .expect("cell_id")
        .i64()
        .expect("i64")
        .into_no_null_iter()
        .collect();
    let expected: Vec<i64> = run
        .point_cells()
        .cell
        .iter()
        .map(|&c| i64::from(c))
        .collect();
    assert_eq!(cells, expected);
    let ids: Vec<i64> = df
        .column("id")
        .expect("id")
        .i64()
        .expect("i64")
        .into_no_null_iter()
        .collect();
    let PointIds::Int(want) = &run.point_cells().points.ids else {
        panic!("int ids");
    };
    assert_eq!(&ids, want);
}
