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
    // A parameter that reports are silent about when off (the semantic pass) is named too.
    let err = Pipeline::new(params.clone().semantic_split(true))
        .expect("params")
        .merge(&inputs, &shard_dirs, &NoProgress)
        .expect_err("the semantic pass on");
    assert!(
        err.to_string()
            .contains("semantic: true here, absent (off) in the shard"),
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

/// Writes `run` into a new directory `base/name`.
fn write_to(run: &geocells::Run, base: &std::path::Path, name: &str) -> std::path::PathBuf {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    geocells::write_all(run, &dir).expect("write");
    dir
}

#[test]
fn points_assigned_once_give_the_same_run_shards_and_merge() {
    let base = temp_dir("assigned");
    let inputs = benelux_inputs(&base);
    // String ids, a coordinate that is not a number and a point far out at sea, so that
    // every kind of value goes through the dataset.
    let mut csv = std::fs::read_to_string(&inputs.points.path).expect("csv");
    csv.push_str("bad-lon,4;35,50.5\nat-sea,-30.0,45.0\n");
    std::fs::write(&inputs.points.path, csv).expect("write csv");
    let params = Params::default();
    let single = run_validated(&inputs, params.clone());
    assert!(single.rejects().iter().any(|r| r.raw.is_some()));
    assert!(
        single
            .rejects()
            .iter()
            .any(|r| r.reason.code() == "off_land")
    );
    let single_dir = write_to(&single, &base, "single");

    // The pass: one partition per country, every row labelled or rejected.
    let ds = base.join("assigned");
    let manifest = Pipeline::new(params.clone())
        .expect("params")
        .assign_once(
            &inputs,
            geocells::prepare_dataset_dir(&ds).expect("prepare"),
            &NoProgress,
        )
        .expect("assign once");
    let codes: Vec<&str> = manifest
        .partitions
        .iter()
        .map(|p| p.country_code.as_str())
        .collect();
    assert_eq!(codes, ["BEL", "LUX", "NLD"]);
    assert_eq!(manifest.labelled, single.point_cells().points.len());
    assert_eq!(manifest.rejected, single.rejects().len());
    assert_eq!(manifest.input_rows, single.input_rows());
    assert_eq!(
        manifest.partitions.iter().map(|p| p.points).sum::<usize>(),
        manifest.labelled
    );
    assert_eq!(manifest.id_type, "str");
    assert!(ds.join("country=BEL/part-0.parquet").is_file());

    // The whole run from the dataset is the run from the points, byte for byte.
    let from_ds = Inputs {
        points: PointsSpec::new(&ds),
        boundaries: inputs.boundaries.clone(),
    };
    let whole = run_validated(&from_ds, params.clone());
    let whole_dir = write_to(&whole, &base, "whole");
    assert_same_outputs(
        &single_dir,
        &whole_dir,
        "the run from the points and from the dataset",
    );

    // A shard reads only its countries' partitions: Belgium runs with the Dutch partition
    // moved away; the whole run then names the missing file.
    let nld = ds.join("country=NLD");
    let aside = base.join("nld-aside");
    std::fs::rename(&nld, &aside).expect("move");
    let bel = Pipeline::new(params.clone().countries(Some(vec!["BEL".into()])))
        .expect("params")
        .run(&from_ds, &NoProgress)
        .expect("Belgium without the Dutch partition");
    bel.validate().expect("valid shard");
    let err = Pipeline::new(params.clone())
        .expect("params")
        .run(&from_ds, &NoProgress)
        .expect_err("the Dutch partition is missing");
    assert!(err.to_string().contains("country=NLD"), "{err}");
    std::fs::rename(&aside, &nld).expect("move back");
    let bel_dir = write_to(&bel, &base, "bel");
    // The same shard from the points.
    let bel_points = Pipeline::new(params.clone().countries(Some(vec!["BEL".into()])))
        .expect("params")
        .run(&inputs, &NoProgress)
        .expect("shard");
    let bel_points_dir = write_to(&bel_points, &base, "bel-points");
    assert_same_outputs(
        &bel_points_dir,
        &bel_dir,
        "a shard from the points and from the dataset",
    );
    let rest = Pipeline::new(
        params
            .clone()
            .countries(Some(vec!["Netherlands".into(), "lux".into()])),
    )
    .expect("params")
    .run(&from_ds, &NoProgress)
    .expect("shard");
    rest.validate().expect("valid shard");
    let rest_dir = write_to(&rest, &base, "rest");
    let merged = Pipeline::new(params.clone())
        .expect("params")
        .merge(&from_ds, &[bel_dir, rest_dir], &NoProgress)
        .expect("merge");
    merged.validate().expect("merged partition valid");
    let merged_dir = write_to(&merged, &base, "merged");
    assert_same_outputs(
        &single_dir,
        &merged_dir,
        "the single run and the merge from the dataset",
    );

    // Other inputs than the dataset's are refused, naming what differs.
    let err = Pipeline::new(params.clone().snap_km(10.0))
        .expect("params")
        .run(&from_ds, &NoProgress)
        .expect_err("another snap distance");
    assert!(
        matches!(
            &err,
            geocells::Error::Assigned(geocells::AssignedError::Mismatch {
                what: "snap_km",
                ..
            })
        ),
        "{err}"
    );
    let other = Inputs {
        points: PointsSpec::new(&ds),
        boundaries: BoundarySpec {
            admin1: Some(LevelSpec::admin1(data(
                "fixtures/matrix/armenia_azerbaijan.geojson",
            ))),
            ..Default::default()
        },
    };
    let err = Pipeline::new(params.clone())
        .expect("params")
        .run(&other, &NoProgress)
        .expect_err("other boundaries");
    assert!(
        err.to_string().contains("boundaries") && err.to_string().contains("armenia_azerbaijan"),
        "{err}"
    );
    // A changed file is named.
    let part = ds.join("country=LUX/part-0.parquet");
    let mut bytes = std::fs::read(&part).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&part, bytes).expect("write");
    let err = Pipeline::new(params.clone())
        .expect("params")
        .run(&from_ds, &NoProgress)
        .expect_err("a changed file");
    assert!(
        err.to_string().contains("country=LUX") && err.to_string().contains("changed"),
        "{err}"
    );
    // The pass writes over an earlier dataset, but not into a directory of other files.
    Pipeline::new(params.clone())
        .expect("params")
        .assign_once(
            &inputs,
            geocells::prepare_dataset_dir(&ds).expect("prepare"),
            &NoProgress,
        )
        .expect("again");
    let err = geocells::prepare_dataset_dir(&single_dir).expect_err("a run's directory");
    assert!(err.to_string().contains("cells.parquet"), "{err}");
    let _ = std::fs::remove_dir_all(base);
}
