//! End-to-end runs on the shipped real data; every run goes through `validate()`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{assert_same_outputs, data, root, run_validated, temp_dir};
use geocells::BoundarySpec;
use geocells::Inputs;
use geocells::LevelSpec;
use geocells::Params;
use geocells::PointsSpec;
use geocells::RejectReason;
use geocells::SmallReason;

#[test]
fn world_default_data_gives_a_valid_fused_partition() {
    let inputs = Inputs::default_data(root());
    let params = Params::default();
    let run = run_validated(&inputs, params.clone());
    let areas = &run.areas().areas;
    assert_eq!(run.input_rows(), 144_563);
    // US counties replace the US states; elsewhere admin-1 areas are used.
    assert!(areas.iter().any(|a| a.level == geocells::Level::Admin2));
    assert!(
        !areas
            .iter()
            .any(|a| a.country_code == "USA" && a.level != geocells::Level::Admin2)
    );
    // Every rejected point is off land, with coordinates.
    for r in run.rejects() {
        assert!(matches!(r.reason, RejectReason::OffLand { .. }), "{r:?}");
        assert!(r.lon.is_finite() && r.lat.is_finite());
    }
    // Snapped points moved at most the snap distance.
    assert!(
        run.point_cells()
            .snap_km
            .iter()
            .all(|&d| (0.0..=25.0).contains(&d))
    );
    assert!(run.point_cells().snap_km.iter().any(|&d| d > 0.0));
    // Fusion reduced the cells and left small only the cells alone in their country.
    assert!(run.admin_cells() < run.plan().stats.initial_cells);
    let mut per_country: BTreeMap<&str, usize> = BTreeMap::new();
    for c in run.cells().cells() {
        *per_country.entry(c.country_code.as_str()).or_default() += 1;
    }
    let small: BTreeSet<u32> = run
        .plan()
        .below_min
        .iter()
        .map(|(c, _)| run.family_first_cell()[*c as usize])
        .collect();
    let too_far: BTreeSet<u32> = run
        .plan()
        .below_min
        .iter()
        .filter(|(_, r)| *r == SmallReason::TooFar)
        .map(|(c, _)| run.family_first_cell()[*c as usize])
        .collect();
    for c in run.cells().cells() {
        if c.size < params.split.min_size {
            assert!(
                small.contains(&c.id),
                "cell {} ({}) is small but not reported",
                c.id,
                c.name
            );
            // Alone in its country, or an island the guard kept from a far cell.
            assert!(
                per_country[c.country_code.as_str()] == 1 || too_far.contains(&c.id),
                "{} has other cells to fuse with",
                c.name
            );
        }
    }
    for (c, reason) in &run.plan().below_min {
        let id = run.family_first_cell()[*c as usize];
        assert!(run.cells().cells()[id as usize].size < params.split.min_size);
        if *reason == SmallReason::TooFar {
            let g = run
                .plan()
                .guard
                .iter()
                .find(|g| g.cell == *c)
                .expect("guard decision");
            assert!(g.km > geocells::stages::DEFAULT_FUSE_MAX_KM);
        }
    }
    // The guard stops the far merges the shipped data has (Bonaire to Zeeland, 6,900 km).
    let guard = run.report().to_value()["fuse"]["guard"]
        .as_array()
        .expect("guard list")
        .clone();
    assert!(guard.iter().any(|g| g["name"] == "Bonaire"));
    // Cells never mix the points of two countries: all member areas holding points share the
    // cell's country.
    let mut with_points = vec![false; areas.len()];
    for &a in &run.point_cells().area {
        with_points[a as usize] = true;
    }
    for c in run.cells().cells() {
        for &a in &c.areas {
            if with_points[a as usize] {
                assert_eq!(
                    areas[a as usize].country_code, c.country_code,
                    "cell {} mixes countries",
                    c.name
                );
            }
        }
    }
    // Report counts agree with the run.
    let counts = run.report().to_value()["counts"].clone();
    assert_eq!(counts["cells"], run.cells().len());
    assert_eq!(counts["rejects"], run.rejects().len());
    assert_eq!(counts["cells_below_min"], run.plan().below_min.len());
}

#[test]
fn outputs_are_byte_identical_at_one_and_two_threads() {
    // The default split, and semantic mode with its gate (plots kept per family, several
    // carves per run, the density tree).
    let inputs = Inputs::default_data(root());
    let semantic = Params::default()
        .semantic_split(true)
        .semantic_tolerance(Some(1.0));
    for (name, params) in [("default", Params::default()), ("semantic", semantic)] {
        let dirs: Vec<_> = [1usize, 2]
            .iter()
            .map(|&threads| {
                let dir = temp_dir(&format!("threads{threads}_{name}"));
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                pool.install(|| {
                    let run = run_validated(&inputs, params.clone());
                    geocells::write_all(&run, &dir).expect("write");
                });
                dir
            })
            .collect();
        assert_same_outputs(&dirs[0], &dirs[1], &format!("{name}: 1 and 2 threads"));
        for d in dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn lso_zaf_level(file: &str) -> LevelSpec {
    LevelSpec::admin1(data(file))
        .code_column("adm1_code")
        .name_column("adm1_name")
        .country_code_column(Some("cntry_code".into()))
        .country_name_column(Some("cntry_name".into()))
}

#[test]
fn report_says_which_columns_each_level_used() {
    // The shapefile's short names are recognised without options; the report names them.
    let inputs = Inputs {
        points: PointsSpec::new(data("fixtures/points_bad.csv")),
        boundaries: BoundarySpec {
            admin1: Some(LevelSpec::new(data(
                "fixtures/lesotho_south_africa_admin1.shp",
            ))),
            ..Default::default()
        },
    };
    let run = run_validated(&inputs, Params::default().min_size(2).max_size(4));
    let admin = run.report().to_value()["admin"].clone();
    let c = &admin["columns"][0];
    assert_eq!(c["level"], "admin1");
    assert_eq!(c["profile"], "geocells");
    assert_eq!(c["code"], "column adm1_code");
    assert_eq!(c["country_name"], "column cntry_name");
    assert_eq!(c["given"], serde_json::json!([]));
    assert_eq!(admin["duplicate_codes"], serde_json::json!([]));
    assert_eq!(admin["unknown_country"], serde_json::json!([]));
    assert!(
        run.report().to_value()["inputs"][1]
            .get("columns")
            .is_none()
    );
    // Options given are in the inputs section (a merge compares them) and marked as given.
    let named = Inputs {
        boundaries: BoundarySpec {
            admin1: Some(lso_zaf_level("fixtures/lesotho_south_africa_admin1.shp")),
            ..Default::default()
        },
        ..inputs
    };
    let run = run_validated(&named, Params::default().min_size(2).max_size(4));
    assert_eq!(
        run.report().to_value()["inputs"][1]["columns"],
        serde_json::json!({"code": "adm1_code", "name": "adm1_name",
                           "country_code": "cntry_code", "country_name": "cntry_name"})
    );
    assert_eq!(
        run.report().to_value()["admin"]["columns"][0]["given"],
        serde_json::json!(["code", "name", "country_code", "country_name"])
    );
    // The same file as the country level: its rows share country codes, which the report
    // lists with the names seen.
    let countries = Inputs {
        boundaries: BoundarySpec {
            country: Some(LevelSpec::new(data(
                "fixtures/lesotho_south_africa_admin1.shp",
            ))),
            ..Default::default()
        },
        ..named
    };
    let run = run_validated(&countries, Params::default().min_size(2).max_size(4));
    let dups = run.report().to_value()["admin"]["duplicate_codes"].clone();
    assert_eq!(dups.as_array().map(Vec::len), Some(2));
    assert_eq!(dups[0]["level"], "country");
    assert_eq!(dups[0]["code"], "LSO");
    assert_eq!(dups[0]["features"].as_array().map(Vec::len), Some(10));
    assert_eq!(dups[0]["names"], serde_json::json!(["Lesotho"]));
    assert_eq!(
        run.report().to_value()["admin"]["columns"][0]["code"],
        "column cntry_code"
    );
}

#[test]
fn shapefile_enclave_and_bad_points_are_handled() {
    let inputs = Inputs {
        points: PointsSpec::new(data("fixtures/points_bad.csv")),
        boundaries: BoundarySpec {
            admin1: Some(lso_zaf_level("fixtures/lesotho_south_africa_admin1.shp")),
            ..Default::default()
        },
    };
    let run = run_validated(&inputs, Params::default().min_size(2).max_size(4));
    assert_eq!(run.input_rows(), 11);
    let reasons: BTreeMap<String, &str> = run
        .rejects()
        .iter()
        .map(|r| (r.id.clone(), r.reason.code()))
        .collect();
    let expected: BTreeMap<String, &str> = [
        ("6", "not_finite"),
        ("7", "out_of_range"),
        ("8", "out_of_range"),
        ("9", "missing_coordinate"),
        ("11", "off_land"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(reasons, expected);
    let ids = |i: usize| run.point_cells().points.ids.display(i);
    let cell_of: BTreeMap<String, u32> = (0..run.point_cells().points.len())
        .map(|i| (ids(i), run.point_cells().cell[i]))
        .collect();
    // The duplicate point shares its twin's cell.
    assert_eq!(cell_of["2"], cell_of["10"]);
    // Maseru is in a Lesotho cell although Lesotho is a hole in South Africa.
    let maseru = &run.cells().cells()[cell_of["1"] as usize];
    assert_eq!(maseru.country_code, "LSO");
    assert_eq!(
        run.cells().cells()[cell_of["3"] as usize].country_code,
        "ZAF"
    );
    // Lesotho's two points form one cell (MINSIZE 2), covering all of Lesotho.
    let lso: Vec<_> = run
        .cells()
        .cells()
        .iter()
        .filter(|c| c.country_code == "LSO")
        .collect();
    assert_eq!(lso.len(), 1);
    assert_eq!(lso[0].areas.len(), 10);
}

#[test]
fn a_country_with_one_point_stays_small_and_is_reported() {
    // Benelux admin-1 from GeoJSON; GeoNames points in the Benelux box, but only one in
    // Luxembourg.
    let boundaries = BoundarySpec {
        admin1: Some(LevelSpec::admin1(data("fixtures/benelux_admin1.geojson"))),
        ..Default::default()
    };
    let areas = geocells::stages::build_areas(&boundaries)
        .expect("areas")
        .areas;
    let index = geocells::stages::AreaIndex::new(&areas);
    let all = geocells::stages::read_points(&PointsSpec::new(data("geonames_cities1000.parquet")))
        .expect("points")
        .points;
    let mut rows = String::from("id,lon,lat\n");
    let mut lux = 0;
    for i in 0..all.len() {
        let (lon, lat) = (all.lon[i], all.lat[i]);
        if !(2.0..7.5).contains(&lon) || !(49.3..53.7).contains(&lat) {
            continue;
        }
        let in_lux = index
            .containing(lon, lat)
            .is_some_and(|a| areas[a as usize].country_code == "LUX");
        if in_lux {
            lux += 1;
            if lux > 1 {
                continue;
            }
        }
        rows.push_str(&format!("{},{lon},{lat}\n", all.ids.display(i)));
    }
    assert!(lux > 1, "the box should hold several Luxembourg places");
    let dir = temp_dir("benelux");
    let csv = dir.join("points.csv");
    std::fs::write(&csv, rows).expect("write csv");
    let inputs = Inputs {
        points: PointsSpec::new(&csv),
        boundaries,
    };
    // No snapping: the German and French places near the border would otherwise be snapped
    // into Luxembourg and fill it up.
    let run = run_validated(&inputs, Params::default().snap_km(0.0));
    let lux_cells: Vec<_> = run
        .cells()
        .cells()
        .iter()
        .filter(|c| c.country_code == "LUX")
        .collect();
    assert_eq!(lux_cells.len(), 1);
    assert_eq!(lux_cells[0].size, 1);
    assert_eq!(
        lux_cells[0].areas.len(),
        3,
        "the empty Luxembourg areas join the one cell"
    );
    assert!(run.plan().below_min.iter().any(|&(c, r)| {
        run.family_first_cell()[c as usize] == lux_cells[0].id
            && r == SmallReason::OnlyCellInCountry
    }));
    // Points outside the Benelux polygons are rejected as off land, none snapped.
    assert!(run.point_cells().snap_km.iter().all(|&d| d == 0.0));
    assert!(
        run.rejects()
            .iter()
            .all(|r| matches!(r.reason, RejectReason::OffLand { .. }))
    );
    assert!(!run.rejects().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

/// The bad-points fixture against Lesotho and South Africa.
fn small_lso_inputs() -> Inputs {
    Inputs {
        points: PointsSpec::new(data("fixtures/points_bad.csv")),
        boundaries: BoundarySpec {
            admin1: Some(lso_zaf_level("fixtures/lesotho_south_africa_admin1.shp")),
            ..Default::default()
        },
    }
}

/// [`small_lso_inputs`] with tiny MINSIZE / MAX so that every stage has work.
fn small_lso_run() -> geocells::Run {
    run_validated(
        &small_lso_inputs(),
        Params::default().min_size(1).max_size(2),
    )
}

#[test]
fn report_md_and_report_json_say_which_settings_ran() {
    // small_lso_run overrides the pigeon preset's MINSIZE and MAX: report.json keeps the preset
    // and names the overridden fields, report.md shows both values.
    let run = small_lso_run();
    let p = run.report().to_value()["params"].clone();
    assert_eq!(p["preset"], "pigeon");
    assert_eq!(
        p["preset_overrides"],
        serde_json::json!(["min_size", "max_size"])
    );
    assert_eq!((&p["min_size"], &p["max_size"]), (&1.into(), &2.into()));
    let md = geocells::files::report_markdown(run.report());
    assert!(
        md.contains("\nPreset `pigeon` with MINSIZE and MAX overridden: MINSIZE 1 (preset 30), MAX 2 (preset 60), OPTICS metric sphere.\n"),
        "{md}"
    );
    let carves = run.split().expect("split").fallback_carves;
    assert!(md.contains(&format!(
        "\nFallback (straight cuts, then an exact division of the locations): {carves} carves; "
    )));
    // The fallback off: "off", not "0 carves".
    let off = run_validated(
        &small_lso_inputs(),
        Params::default().min_size(1).max_size(2).fallback(false),
    );
    assert_eq!(off.split().expect("split").fallback_carves, 0);
    assert_eq!(off.report().to_value()["params"]["fallback"], false);
    let md = geocells::files::report_markdown(off.report());
    assert!(
        md.contains("\nFallback (straight cuts, then an exact division of the locations): off; cells above MAX at the end: "),
        "{md}"
    );
    assert!(!md.contains("0 carves"), "{md}");
    // The preset's own values are no override: params as before, without the field.
    let own = Params::default()
        .min_size(30)
        .optics(geocells::PIGEON_SETTINGS.to_vec());
    assert_eq!(own.report_section(), Params::default().report_section());
    assert!(own.report_section().preset_overrides.is_empty());
}

#[test]
fn a_zoomed_map_by_rule_is_part_of_a_complete_run() {
    let run = small_lso_run();
    let plain = temp_dir("map-plain");
    let zoomed = temp_dir("map-zoomed");
    geocells::write_all(&run, &plain).expect("write");
    // Around Maseru: 1.5 x 1 degrees at 29.5 S, drawn 2,400 px wide, a km as long down as
    // across there.
    let bbox = [27.0, -30.0, 28.5, -29.0];
    let options = geocells::ExportOptions::default().map(
        geocells::MapParams::default()
            .bbox(Some(bbox))
            .colour(geocells::MapColour::Rule),
    );
    let written = geocells::write_all_with(&run, &zoomed, &options).expect("write");
    assert_eq!(written.files.len(), geocells::RUN_FILES.len());
    let check = geocells::check_output(&zoomed).expect("check");
    assert!(check.is_consistent(), "{:?}", check.problems);
    let png = std::fs::read(zoomed.join("map.png")).expect("map");
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    let stretch = 1.0 / 29.5f64.to_radians().cos();
    assert_eq!(be(16), 2400);
    assert_eq!(f64::from(be(20)), (1600.0 * stretch).ceil());
    assert_ne!(png, std::fs::read(plain.join("map.png")).expect("map"));
    // The options are part of the run id (every file carries it); the default run's is not
    // changed by the new options, which are named only when set.
    let id = |d: &std::path::Path| geocells::check_output(d).expect("check").run_id;
    assert_ne!(id(&plain), id(&zoomed));
    let default_again = temp_dir("map-default-again");
    let explicit = geocells::ExportOptions::default().map(
        geocells::MapParams::default()
            .bbox(None)
            .colour(geocells::MapColour::Cell),
    );
    geocells::write_all_with(&run, &default_again, &explicit).expect("write");
    assert_same_outputs(&plain, &default_again, "default and explicit map options");
    // A bad box is refused before anything is written.
    let bad = temp_dir("map-bad").join("out");
    let options = geocells::ExportOptions::default()
        .map(geocells::MapParams::default().bbox(Some([28.5, -30.0, 27.0, -29.0])));
    let e = geocells::write_all_with(&run, &bad, &options)
        .expect_err("box across the antimeridian")
        .to_string();
    assert!(e.contains("map bbox '28.5,-30,27,-29'"), "{e}");
    assert!(!bad.join("cells.parquet").exists());
    for d in [plain, zoomed, default_again] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn outputs_read_back_through_our_own_readers() {
    let run = small_lso_run();
    let dir = temp_dir("readback");
    let written = geocells::write_all(&run, &dir).expect("write");
    assert_eq!(written.files.len(), 9);
    // map.png is a PNG of the requested width.
    let png = std::fs::read(dir.join("map.png")).expect("map");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
        2400
    );
    // cells.parquet is GeoParquet our boundary reader accepts, with the same polygons.
    let back = geocells::stages::read_boundaries(
        &dir.join("cells.parquet"),
        &["cell_id".to_string(), "name".to_string()],
    )
    .expect("read cells.parquet");
    assert_eq!(back.features.len(), run.cells().len());
    for (f, c) in back.features.iter().zip(run.cells().cells()) {
        assert_eq!(f.props["cell_id"], c.id.to_string());
        assert_eq!(f.geometry, c.geometry);
    }
    // cells.geojson too.
    let gj = geocells::stages::read_boundaries(&dir.join("cells.geojson"), &["name".to_string()])
        .expect("read cells.geojson");
    assert_eq!(gj.features.len(), run.cells().len());
    // points.parquet: WKB points with the input ids.
    let pts = geocells::stages::read_points(&PointsSpec::new(dir.join("points.parquet")))
        .expect("read points");
    assert_eq!(pts.points.len(), run.point_cells().points.len());
    assert_eq!(pts.points.lon, run.point_cells().points.lon);
    assert_eq!(pts.points.ids, run.point_cells().points.ids);
    // rejects.parquet has one row per reject, readable as a plain table with lon/lat.
    let rej = geocells::stages::read_points(
        &PointsSpec::new(dir.join("rejects.parquet")).id_column("row"),
    )
    .expect("read rejects");
    assert_eq!(rej.total_rows, run.rejects().len());
    // cells.parquet labels the run's points again through CellLookup, as the run did.
    let lookup = geocells::CellLookup::read(&dir.join("cells.parquet")).expect("lookup");
    let again = lookup.locate_all(&run.point_cells().points);
    for (i, (cell, _)) in again.iter().enumerate() {
        if run.point_cells().snap_km[i] == 0.0 {
            assert_eq!(*cell, run.point_cells().cell[i], "point {i}");
        }
    }
    // targets.parquet: for every labelled point, up to 10 weights, largest first, the largest
    // on the cell whose centroid is nearest, summing to at most 1.
    use polars::prelude::SerReader;
    let df = polars::prelude::ParquetReader::new(
        std::fs::File::open(dir.join("targets.parquet")).expect("open targets"),
    )
    .finish()
    .expect("read targets");
    let col = |name: &str| df.column(name).expect("column").clone();
    let rows = col("row");
    let rows = rows.i64().expect("i64");
    let weights = col("weight");
    let weights = weights.f64().expect("f64");
    let mut per_row: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (r, w) in rows.iter().zip(weights.iter()) {
        per_row
            .entry(r.expect("row"))
            .or_default()
            .push(w.expect("weight"));
    }
    assert_eq!(per_row.len(), run.point_cells().points.len());
    for w in per_row.values() {
        assert!(!w.is_empty() && w.len() <= 10);
        assert!(w.windows(2).all(|p| p[0] >= p[1]));
        let sum: f64 = w.iter().sum();
        assert!(sum <= 1.0 + 1e-9 && sum > 0.0);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_fuse_works_on_the_adjacency_graph_not_on_polygons() {
    // PIGEON flaw 1: its fuse recomputes cell geometries on every merge (quadratic in areas).
    // Ours reads each area's polygon once, for one anchor point, and then works on the graph:
    // replacing every polygon by a tiny square at its anchor gives the very same plan.
    use geocells::AssignParams;
    use geocells::stages::Adjacency;
    use geocells::stages::AreaIndex;
    use geocells::stages::Placement;
    use geocells::stages::anchor;
    use geocells::stages::assign_points;
    use geocells::stages::plan_cells;
    use geocells::stages::read_points;
    let inputs = Inputs::default_data(root());
    let areas = geocells::stages::build_areas(&inputs.boundaries)
        .expect("areas")
        .areas;
    let adjacency = Adjacency::build(&areas);
    let points = read_points(&inputs.points).expect("points").points;
    let placements = assign_points(
        &AreaIndex::new(&areas),
        areas.len(),
        &points,
        &AssignParams::default(),
    )
    .expect("assign");
    let mut counts = vec![0usize; areas.len()];
    for p in &placements {
        if let Placement::Inside(a) | Placement::Snapped(a, _) = p {
            counts[*a as usize] += 1;
        }
    }
    let plan = plan_cells(&areas, &adjacency, &counts, 30).expect("fuse");
    let squares: Vec<geocells::Area> = areas
        .iter()
        .map(|a| {
            let (x, y) = anchor(a);
            let h = 1e-7;
            let mut b = a.clone();
            b.geometry = geo_types::MultiPolygon::new(vec![
                geo_types::Rect::new(
                    geo_types::Coord { x: x - h, y: y - h },
                    geo_types::Coord { x: x + h, y: y + h },
                )
                .to_polygon(),
            ]);
            b
        })
        .collect();
    let again = plan_cells(&squares, &adjacency, &counts, 30).expect("fuse");
    assert!(plan.stats.merges > 1000, "{}", plan.stats.merges);
    assert_eq!(plan, again);
}

#[test]
fn evaluating_the_runs_own_labels_reproduces_its_quality_report() {
    // Predicting every point as its own cell is the oracle the report measures; the evaluation
    // of a predictions table must give the same numbers. Plus a hand-checked coordinate case.
    use geocells::Predicted;
    use geocells::evaluate_file;
    let run = small_lso_run();
    let dir = temp_dir("evaluate");
    let mut csv = String::from("true_lon,true_lat,pred_cell\n");
    for i in 0..run.point_cells().points.len() {
        csv.push_str(&format!(
            "{},{},{}\n",
            run.point_cells().points.lon[i],
            run.point_cells().points.lat[i],
            run.point_cells().cell[i]
        ));
    }
    let table = dir.join("preds.csv");
    std::fs::write(&table, csv).expect("write");
    let centroids = run
        .cells()
        .centroids()
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (i as i64, c)))
        .collect();
    let e = evaluate_file(
        &table,
        "true_lon",
        "true_lat",
        &Predicted::Cells {
            column: "pred_cell".into(),
            centroids,
        },
    )
    .expect("evaluate");
    assert_eq!(
        (e.rows, e.scored, e.unknown_cell),
        (
            run.point_cells().points.len(),
            run.point_cells().points.len(),
            0
        )
    );
    assert_eq!(e.stats, run.quality().quantization);
    // Coordinates: errors 0, 111.195 and 222.390 km (one and two degrees on the equator). (Rows
    // with a missing prediction or true coordinate: tests/bad_inputs.rs.)
    let coords = dir.join("coords.csv");
    std::fs::write(
        &coords,
        "true_lon,true_lat,pred_lon,pred_lat\n0,0,0,0\n0,0,1,0\n10,0,12,0\n",
    )
    .expect("write");
    let e = evaluate_file(
        &coords,
        "true_lon",
        "true_lat",
        &Predicted::Coordinates {
            lon: "pred_lon".into(),
            lat: "pred_lat".into(),
        },
    )
    .expect("evaluate");
    let m = e.stats;
    assert_eq!((m.n, e.scored, e.missing_prediction), (3, 3, 0));
    assert!((m.median_km - 111.19508).abs() < 1e-4);
    assert!((m.mean_km - 111.19508).abs() < 1e-4);
    assert_eq!(m.accuracy[2].fraction, 2.0 / 3.0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_report_compares_h3_and_the_quadtree_at_about_the_same_cell_count() {
    use geocells::algorithms::h3_partition;
    use geocells::algorithms::quadtree;
    let run = small_lso_run();
    let pts: Vec<(f64, f64)> = (0..run.point_cells().points.len())
        .map(|i| {
            (
                run.point_cells().points.lon[i],
                run.point_cells().points.lat[i],
            )
        })
        .collect();
    let target = run.cells().len();
    let b = run.report().to_value()["baselines"]
        .as_array()
        .expect("baselines")
        .clone();
    assert_eq!(b.len(), 2);
    // H3: the reported resolution's count is the closest of all resolutions (ties: coarser).
    let res: u8 = b[0]["parameter"].as_str().expect("parameter")["resolution ".len()..]
        .parse()
        .expect("resolution");
    let count = |r: u8| h3_partition(&pts, r).classes();
    assert_eq!(b[0]["quality"]["cells"], count(res));
    for r in 0..=15u8 {
        let (d, best) = (count(r).abs_diff(target), count(res).abs_diff(target));
        assert!(
            d > best || (d == best && r >= res),
            "res {r}: {d} vs {res}: {best}"
        );
    }
    // Quadtree: as close as any threshold gets.
    let q: usize = b[1]["parameter"].as_str().expect("parameter")["max_points ".len()..]
        .parse()
        .expect("threshold");
    let got = quadtree(&pts, q).classes;
    assert_eq!(b[1]["quality"]["cells"], got);
    for t in 1..=pts.len() {
        assert!(quadtree(&pts, t).classes.abs_diff(target) >= got.abs_diff(target));
    }
    // The report.md table has a column per partition.
    let md = geocells::files::report_markdown(run.report());
    assert!(
        md.contains("| | semantic cells | H3 (hexagons, h3o) (resolution"),
        "{md}"
    );
}
