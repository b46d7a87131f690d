//! Shared helpers for the integration tests: paths to the shipped data and a run + validate
//! wrapper that every pipeline test goes through.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

use geocells::Inputs;
use geocells::NoProgress;
use geocells::Params;
use geocells::Pipeline;
use geocells::Run;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `data/`.
pub fn data(rel: &str) -> PathBuf {
    root().join("data").join(rel)
}

/// A fresh empty temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("geocells-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Runs the pipeline and checks the partition invariants; panics with the problems if any.
pub fn run_validated(inputs: &Inputs, params: Params) -> Run {
    let run = Pipeline::new(params)
        .expect("valid params")
        .run(inputs, &NoProgress)
        .expect("pipeline runs");
    if let Err(e) = run.validate() {
        panic!("partition invalid: {e}");
    }
    // Nothing is lost: every input row is labelled or rejected, exactly once.
    assert_eq!(
        run.point_cells().points.len() + run.rejects().len(),
        run.input_rows()
    );
    let mut rows: Vec<u64> = run
        .point_cells()
        .points
        .rows
        .iter()
        .copied()
        .chain(run.rejects().iter().map(|r| r.row))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(
        rows.len(),
        run.input_rows(),
        "a row is labelled twice or lost"
    );
    run
}

/// Asserts that two output directories hold the same files, byte for byte, and the same
/// `report.json` but for `timings_s` (the only field that varies between runs); `what` names
/// the two sides in the failure message.
pub fn assert_same_outputs(a: &std::path::Path, b: &std::path::Path, what: &str) {
    // Each directory is one complete run (run id, manifest, row counts, cell ids).
    for d in [a, b] {
        let c = geocells::check_output(d).expect("check");
        assert!(c.is_consistent(), "{}: {:?}", d.display(), c.problems);
    }
    for name in geocells::RUN_FILES.iter().filter(|n| **n != "report.json") {
        let x = std::fs::read(a.join(name)).expect("read");
        let y = std::fs::read(b.join(name)).expect("read");
        assert!(x == y, "{name} differs between {what}");
    }
    let report = |d: &std::path::Path| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("report.json")).expect("read"))
                .expect("json");
        v.as_object_mut().expect("object").remove("timings_s");
        v
    };
    assert_eq!(report(a), report(b), "report.json differs between {what}");
}
