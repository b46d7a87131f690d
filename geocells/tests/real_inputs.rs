//! Real boundary files and point sets as users bring them (issue 11): overlapping neighbours,
//! empty exclaves between two countries, far islands, many tiny islands, and a run whose check
//! fails. Every run goes through `run_validated` (partition invariants, no lost rows), except the
//! one that fails its check on purpose.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{data, run_validated, temp_dir};
use geocells::BoundarySpec;
use geocells::Inputs;
use geocells::LevelSpec;
use geocells::Params;
use geocells::PointsSpec;
use geocells::SmallReason;
use geocells::algorithms::SplitMix64;
use geocells::stages::AreaIndex;
use geocells::stages::read_boundaries;
use geocells::stages::read_points;

/// Writes `pts` as a CSV of id, lon, lat.
fn write_points(dir: &Path, pts: &[(f64, f64)]) -> PathBuf {
    let mut csv = String::from("id,lon,lat\n");
    for (i, (x, y)) in pts.iter().enumerate() {
        csv.push_str(&format!("{i},{x},{y}\n"));
    }
    let p = dir.join("points.csv");
    std::fs::write(&p, csv).expect("write");
    p
}

const ADMIN1_COLUMNS: [&str; 4] = ["admin1_code", "admin1_name", "country_code", "country_name"];

/// The admin-1 features of `countries` from the shipped Natural Earth file, as GeoJSON.
fn admin1_subset(dir: &Path, countries: &[&str]) -> PathBuf {
    let cols: Vec<String> = ADMIN1_COLUMNS
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let file = read_boundaries(&data("admin1_world.parquet"), &cols).expect("read");
    let features: Vec<geojson::Feature> = file
        .features
        .into_iter()
        .filter(|f| countries.contains(&f.props["country_code"].as_str()))
        .map(|f| {
            let mut props = serde_json::Map::new();
            for c in ADMIN1_COLUMNS {
                props.insert(c.into(), f.props[c].clone().into());
            }
            geojson::Feature {
                geometry: Some(geojson::Geometry::new((&f.geometry).into())),
                properties: Some(props),
                ..Default::default()
            }
        })
        .collect();
    let path = dir.join("admin1.geojson");
    let fc = geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    };
    std::fs::write(&path, fc.to_string()).expect("write");
    path
}

/// GeoNames places inside the given boundary file's areas, with each one's area code.
fn places_in(boundary: &Path) -> Vec<((f64, f64), String)> {
    let spec = BoundarySpec {
        admin1: Some(LevelSpec::admin1(boundary)),
        ..Default::default()
    };
    let areas = geocells::stages::build_areas(&spec).expect("areas").areas;
    let index = AreaIndex::new(&areas);
    let pts = read_points(&PointsSpec::new(data("geonames_cities1000.parquet")))
        .expect("points")
        .points;
    (0..pts.len())
        .filter_map(|i| {
            index
                .containing(pts.lon[i], pts.lat[i])
                .map(|a| ((pts.lon[i], pts.lat[i]), areas[a as usize].code.clone()))
        })
        .collect()
}

#[test]
fn overlapping_louisiana_parishes_are_resolved_and_the_run_validates() {
    // Three real parishes from us-atlas that overlap each other by about 3e-5 deg²: the run
    // aborted at its final check before.
    let dir = temp_dir("louisiana");
    let boundary = data("fixtures/louisiana_overlap.geojson");
    let mut rng = SplitMix64::new(22);
    let pts: Vec<(f64, f64)> = (0..400)
        .map(|_| (-92.45 + 1.0 * rng.next_f64(), 32.2 + 0.85 * rng.next_f64()))
        .collect();
    let inputs = Inputs {
        points: PointsSpec::new(write_points(&dir, &pts)),
        boundaries: BoundarySpec {
            admin2: Some(
                LevelSpec::admin2(boundary)
                    .code_column("geoid")
                    .name_column("admin2")
                    .admin1_code_column(Some("admin1".into()))
                    .admin1_name_column(Some("admin1".into()))
                    .country_code_column(Some("country".into()))
                    .country_name_column(Some("country".into())),
            ),
            ..Default::default()
        },
    };
    let run = run_validated(&inputs, Params::default().min_size(5).max_size(10));
    let overlaps = &run.areas().notes.overlaps;
    let pairs: BTreeSet<(&str, &str)> = overlaps
        .iter()
        .map(|o| (o.kept_by.as_str(), o.cut_from.as_str()))
        .collect();
    assert_eq!(
        pairs,
        BTreeSet::from([("22067", "22073"), ("22067", "22083"), ("22073", "22083")])
    );
    for o in overlaps {
        assert!(o.deg2 > 1e-6 && o.km2 > 0.01, "{o:?}");
    }
    // After the admin stage the areas are disjoint.
    let a = &run.areas().areas;
    for i in 0..a.len() {
        for j in i + 1..a.len() {
            let x = geocells::algorithms::intersection(&a[i].geometry, &a[j].geometry);
            assert_eq!(
                geo::Area::unsigned_area(&x),
                0.0,
                "{} & {}",
                a[i].code,
                a[j].code
            );
        }
    }
    let listed = run.report().to_value()["admin"]["overlaps_resolved"].clone();
    assert_eq!(listed["count"], 3);
    assert_eq!(listed["pairs"][0]["kept_by"], "22067");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_empty_exclave_never_makes_two_countries_one_cell() {
    // Armenia (13 places) and Azerbaijan (12 places, none in the Nakhchivan exclave) with
    // MINSIZE 30: Nakhchivan borders Armenia only among the two, so it joined Armenia's cell,
    // and Azerbaijan's cell was then fused into that cell as if it were Azerbaijani.
    let dir = temp_dir("caucasus");
    let boundary = admin1_subset(&dir, &["ARM", "AZE"]);
    let places = places_in(&boundary);
    let cols: Vec<String> = ADMIN1_COLUMNS
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let names = read_boundaries(&boundary, &cols).expect("read");
    let nakhchivan: BTreeSet<String> = names
        .features
        .iter()
        .filter(|f| {
            f.props["admin1_name"].starts_with("Nax") || f.props["admin1_name"].starts_with("Nakh")
        })
        .map(|f| f.props["admin1_code"].clone())
        .collect();
    assert!(!nakhchivan.is_empty(), "Nakhchivan is in the file");
    let pick = |country: &str, n: usize| -> Vec<(f64, f64)> {
        places
            .iter()
            .filter(|(_, code)| code.starts_with(country) && !nakhchivan.contains(code))
            .take(n)
            .map(|(p, _)| *p)
            .collect()
    };
    let mut pts = pick("ARM", 13);
    pts.extend(pick("AZE", 12));
    assert_eq!(pts.len(), 25);
    let inputs = Inputs {
        points: PointsSpec::new(write_points(&dir, &pts)),
        boundaries: BoundarySpec {
            admin1: Some(LevelSpec::admin1(&boundary)),
            ..Default::default()
        },
    };
    let run = run_validated(&inputs, Params::default());
    let countries: BTreeSet<&str> = run
        .cells()
        .cells()
        .iter()
        .map(|c| c.country_code.as_str())
        .collect();
    assert_eq!(countries, BTreeSet::from(["ARM", "AZE"]));
    assert_eq!(run.cells().len(), 2);
    for (c, reason) in &run.plan().below_min {
        assert_eq!(*reason, SmallReason::OnlyCellInCountry, "cell {c}");
    }
    // Nakhchivan (empty) is in an Azerbaijani cell.
    for c in run.cells().cells() {
        for &a in &c.areas {
            if nakhchivan.contains(&run.areas().areas[a as usize].code) {
                assert_eq!(c.country_code, "AZE");
            }
        }
    }
    // A run for Azerbaijan alone is accepted and holds its 12 points.
    let aze = geocells::Pipeline::new(Params::default().countries(Some(vec!["AZE".into()])))
        .expect("params")
        .run(&inputs, &geocells::NoProgress)
        .expect("a run for AZE");
    aze.validate().expect("valid");
    assert_eq!(aze.point_cells().points.len(), 12);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_far_island_is_not_fused_across_the_ocean_unless_asked() {
    // Bonaire (Natural Earth: part of NLD) holds a few places, 6,900 km from the rest of the
    // Netherlands: with the guard it stays a small cell of its own, without it (PIGEON) it
    // joins a cell in the Netherlands.
    let dir = temp_dir("bonaire");
    let boundary = data("fixtures/benelux_admin1.geojson");
    let pts: Vec<(f64, f64)> = places_in(&boundary).into_iter().map(|(p, _)| p).collect();
    let inputs = Inputs {
        points: PointsSpec::new(write_points(&dir, &pts)),
        boundaries: BoundarySpec {
            admin1: Some(LevelSpec::admin1(&boundary)),
            ..Default::default()
        },
    };
    let bonaire = |run: &geocells::Run| {
        let a = run
            .areas()
            .areas
            .iter()
            .position(|a| a.code == "NLD-5149")
            .expect("Bonaire");
        let i = run
            .point_cells()
            .area
            .iter()
            .position(|&x| x as usize == a)
            .expect("a place");
        run.cells().cells()[run.point_cells().cell[i] as usize].clone()
    };
    let guarded = run_validated(&inputs, Params::default().min_size(40).max_size(80));
    let cell = bonaire(&guarded);
    assert!(cell.size < 40, "{}", cell.size);
    let in_caribbean = |run: &geocells::Run, a: u32| {
        geocells::stages::anchor(&run.areas().areas[a as usize]).0 < -60.0
    };
    assert!(
        cell.areas.iter().all(|&a| in_caribbean(&guarded, a)),
        "Bonaire's cell stays in the Caribbean"
    );
    assert!(
        guarded
            .plan()
            .below_min
            .iter()
            .any(|&(c, r)| c == cell.family && r == SmallReason::TooFar)
    );
    let guard = guarded.report().to_value()["fuse"]["guard"].clone();
    assert_eq!(guard.as_array().map(std::vec::Vec::len), Some(1));
    assert!(guard[0]["km"].as_f64().expect("km") > 6000.0);
    let pigeon = run_validated(
        &inputs,
        Params::default()
            .min_size(40)
            .max_size(80)
            .fuse_max_km(None),
    );
    let cell = bonaire(&pigeon);
    assert!(
        cell.areas.iter().any(|&a| !in_caribbean(&pigeon, a)),
        "without the guard Bonaire joins a cell in Europe"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn many_tiny_islands_pass_the_check() {
    // A coast with 300 islands from 1e-7 to 1e-3 degrees across, most far below the overlay
    // grid's tolerance of a world-sized area: the check must not call rounding a defect.
    let dir = temp_dir("islands");
    let mut rng = SplitMix64::new(9);
    let mut polys = vec![serde_json::json!([[
        [0.0, 0.0],
        [1.0, 0.0],
        [1.0, 1.0],
        [0.0, 1.0],
        [0.0, 0.0]
    ]])];
    for _ in 0..300 {
        let s = 10f64.powf(-7.0 + 4.0 * rng.next_f64());
        let (x, y) = (1.01 + 0.9 * rng.next_f64(), 0.05 + 0.9 * rng.next_f64());
        polys.push(serde_json::json!([[
            [x, y],
            [x + s, y],
            [x + s, y + s * 0.7],
            [x, y + s],
            [x, y]
        ]]));
    }
    let geojson = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"admin1_code": "ISL", "admin1_name": "Islands",
         "country_code": "ISL", "country_name": "Islandia"},
         "geometry": {"type": "MultiPolygon", "coordinates": polys}},
        {"type": "Feature", "properties": {"admin1_code": "MNL", "admin1_name": "Mainland",
         "country_code": "ISL", "country_name": "Islandia"},
         "geometry": {"type": "Polygon", "coordinates": [[[-1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [-1.0, 1.0], [-1.0, 0.0]]]}}]});
    let boundary = dir.join("islands.geojson");
    std::fs::write(&boundary, geojson.to_string()).expect("write");
    let pts: Vec<(f64, f64)> = (0..500)
        .map(|_| (-1.0 + 2.0 * rng.next_f64(), rng.next_f64()))
        .collect();
    let inputs = Inputs {
        points: PointsSpec::new(write_points(&dir, &pts)),
        boundaries: BoundarySpec {
            admin1: Some(LevelSpec::admin1(&boundary)),
            ..Default::default()
        },
    };
    let run = run_validated(&inputs, Params::default().min_size(10).max_size(25));
    assert!(run.cells().len() > 10);
    let _ = std::fs::remove_dir_all(dir);
}
