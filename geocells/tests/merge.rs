//! Runs per country and their merge give the single run's outputs, byte for byte.

mod common;

use common::{assert_same_outputs, data, run_validated, temp_dir};
use geocells::BoundarySpec;
use geocells::Inputs;
use geocells::LevelSpec;
use geocells::MergeError;
use geocells::NoProgress;
use geocells::Params;
use geocells::Pipeline;
use geocells::PointsSpec;

/// Benelux admin-1 with the GeoNames places of a box around it (some in the sea or in
/// Germany and France: snapped or rejected), `pigeon` sizes so that every country is split.
fn benelux_inputs(dir: &std::path::Path) -> Inputs {
    let all = geocells::stages::read_points(&PointsSpec::new(data("geonames_cities1000.parquet")))
        .expect("points")
        .points;
    let mut rows = String::from("id,lon,lat\n");
    for i in 0..all.len() {
        let (lon, lat) = (all.lon[i], all.lat[i]);
        if (2.0..7.5).contains(&lon) && (49.2..53.8).contains(&lat) {
            rows.push_str(&format!("{},{lon},{lat}\n", all.ids.display(i)));
        }
    }
    let csv = dir.join("points.csv");
    std::fs::write(&csv, rows).expect("write csv");
    Inputs {
        points: PointsSpec::new(&csv),
        boundaries: BoundarySpec {
            admin1: Some(LevelSpec::admin1(data("fixtures/benelux_admin1.geojson"))),
            ..Default::default()
        },
    }
}

#[test]
fn per_country_runs_merge_into_the_single_run_byte_for_byte() {
    let base = temp_dir("merge");
    let inputs = benelux_inputs(&base);
    let params = Params::default();

    let single = run_validated(&inputs, params.clone());
    let single_dir = base.join("single");
    std::fs::create_dir_all(&single_dir).expect("dir");
    geocells::write_all(&single, &single_dir).expect("write");
    let split = single.split().expect("split ran");
    assert!(split.settings.iter().map(|s| s.carves).sum::<usize>() > 0);

    // Two shards: Belgium by code, the Netherlands and Luxembourg by code and by name.
    let selections = [
        vec!["BEL".to_string()],
        vec!["nld".to_string(), "Luxembourg".to_string()],
    ];
    let mut shard_dirs = Vec::new();
    let mut shard_points = 0;
    for (k, sel) in selections.iter().enumerate() {
        let run = Pipeline::new(params.clone().countries(Some(sel.clone())))
            .expect("params")
            .run(&inputs, &NoProgress)
            .expect("shard run");
        if let Err(e) = run.validate() {
            panic!("shard {k} invalid: {e}");
        }
        let codes: std::collections::BTreeSet<&str> = run
            .cells()
            .cells()
            .iter()
            .map(|c| c.country_code.as_str())
            .collect();
        let want: std::collections::BTreeSet<&str> = if k == 0 {
            ["BEL"].into()
        } else {
            ["NLD", "LUX"].into()
        };
        assert_eq!(codes, want);
        let sp = run.split().expect("split");
        assert!(
            sp.settings.iter().map(|s| s.carves).sum::<usize>() > 0,
            "{sp:?}"
        );
        shard_points += run.point_cells().points.len();
        let dir = base.join(format!("shard{k}"));
        std::fs::create_dir_all(&dir).expect("dir");
        geocells::write_all(&run, &dir).expect("write shard");
        shard_dirs.push(dir);
    }
    // The shards hold every labelled point once.
    assert_eq!(shard_points, single.point_cells().points.len());

    let merged = Pipeline::new(params.clone())
        .expect("params")
        .merge(&inputs, &shard_dirs, &NoProgress)
        .expect("merge");
    merged.validate().expect("merged partition valid");
    let merged_dir = base.join("merged");
    std::fs::create_dir_all(&merged_dir).expect("dir");
    geocells::write_all(&merged, &merged_dir).expect("write merged");
    assert_same_outputs(&single_dir, &merged_dir, "the single run and the merge");

    // A missing country, a shard given twice, a shard made with other parameters: refused.
    let err = Pipeline::new(params.clone())
        .expect("params")
        .merge(&inputs, &shard_dirs[..1], &NoProgress)
        .expect_err("a country is missing");
    assert!(
        matches!(&err, geocells::Error::Merge(MergeError::Missing { country, .. }) if country == "NLD" || country == "LUX"),
        "{err}"
    );
    let twice = [
        shard_dirs[0].clone(),
        shard_dirs[0].clone(),
        shard_dirs[1].clone(),
    ];
    let err = Pipeline::new(params.clone())
        .expect("params")
        .merge(&inputs, &twice, &NoProgress)
        .expect_err("a shard twice");
    assert!(
        matches!(err, geocells::Error::Merge(MergeError::Duplicate { .. })),
        "{err}"
    );
    let err = Pipeline::new(params.clone().min_size(20))
        .expect("params")
        .merge(&inputs, &shard_dirs, &NoProgress)
        .expect_err("other parameters");
    assert!(
        err.to_string().contains("min_size") && err.to_string().contains("shard0"),
        "{err}"
    );
    // A merge restricted to countries, and an empty country list, are parameter errors.
    let err = Pipeline::new(params.clone().countries(Some(vec!["BEL".into()])))
        .expect("params")
        .merge(&inputs, &shard_dirs, &NoProgress)
        .expect_err("merge with countries");
    assert!(err.to_string().contains("do not restrict"), "{err}");
    assert!(Pipeline::new(params.clone().countries(Some(vec![]))).is_err());
    // An unknown country is named.
    let err = Pipeline::new(params.countries(Some(vec!["Atlantis".into()])))
        .expect("params")
        .run(&inputs, &NoProgress)
        .expect_err("unknown country");
    assert!(
        err.to_string().contains("Atlantis") && err.to_string().contains("BEL"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(base);
}
