//! Differential tests: our OPTICS against scikit-learn 1.9.1 on the committed fixtures
//! (`geocells/tests/fixtures/optics/`, made by `make_fixtures.py` there). Every value must match
//! bit for bit.

mod common;

use geocells::optics::{OpticsParams, optics_planar, optics_planar_fast};

fn fixture_dir() -> std::path::PathBuf {
    common::root().join("geocells/tests/fixtures/optics")
}

fn parse_f64(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or_else(|_| panic!("bad float {s}"))
}

fn check(name: &str) {
    let dir = fixture_dir();
    let params: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{name}.params.json"))).expect("params"),
    )
    .expect("json");
    let min_samples = params["min_samples"].as_u64().expect("min_samples") as usize;
    let xi = params["xi"].as_f64().expect("xi");
    let points: Vec<[f64; 2]> = std::fs::read_to_string(dir.join(format!("{name}.points.csv")))
        .expect("points")
        .lines()
        .skip(1)
        .map(|l| {
            let mut it = l.split(',');
            [
                parse_f64(it.next().expect("x")),
                parse_f64(it.next().expect("y")),
            ]
        })
        .collect();
    let got = optics_planar(&points, &OpticsParams::new(min_samples, xi)).expect("optics");
    let fast =
        optics_planar_fast(&points, &OpticsParams::new(min_samples, xi)).expect("fast optics");
    assert_eq!(fast.ordering, got.ordering, "{name}: fast ordering");
    assert_eq!(
        fast.predecessor, got.predecessor,
        "{name}: fast predecessors"
    );
    assert!(
        fast.reachability
            .iter()
            .zip(&got.reachability)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "{name}: fast reachability"
    );
    assert!(
        fast.core_distances
            .iter()
            .zip(&got.core_distances)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "{name}: fast core"
    );
    assert_eq!(fast.labels, got.labels, "{name}: fast labels");
    let expected =
        std::fs::read_to_string(dir.join(format!("{name}.expected.csv"))).expect("expected");
    let mut n = 0;
    for line in expected.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let i: usize = f[0].parse().expect("index");
        let rank: usize = f[1].parse().expect("rank");
        assert_eq!(got.ordering[rank], i, "{name}: ordering at rank {rank}");
        assert_eq!(
            got.reachability[i].to_bits(),
            parse_f64(f[2]).to_bits(),
            "{name}: reachability of {i}"
        );
        assert_eq!(
            got.core_distances[i].to_bits(),
            parse_f64(f[3]).to_bits(),
            "{name}: core distance of {i}"
        );
        let pred: i64 = f[4].parse().expect("pred");
        assert_eq!(
            got.predecessor[i].map_or(-1, |p| p as i64),
            pred,
            "{name}: predecessor of {i}"
        );
        let label: i64 = f[5].parse().expect("label");
        assert_eq!(got.labels[i], label, "{name}: label of {i}");
        n += 1;
    }
    assert_eq!(n, points.len());
}

#[test]
fn ties_match_sklearn() {
    check("ties");
}
#[test]
fn duplicates_match_sklearn() {
    check("duplicates");
}
#[test]
fn heavy_duplicates_with_zero_over_zero_match_sklearn() {
    check("duplicates_heavy");
}
#[test]
fn all_identical_points_match_sklearn() {
    check("all_identical");
}
#[test]
fn thousand_identical_points_match_sklearn() {
    check("identical_1000");
}
#[test]
fn locations_below_and_above_min_samples_among_scattered_points_match_sklearn() {
    check("duplicates_mixed");
}
#[test]
fn locations_below_and_above_min_samples_match_sklearn_on_the_range_query_path() {
    check("duplicates_mixed_m40");
}
#[test]
fn duplicates_at_tie_distances_match_sklearn() {
    check("duplicates_grid");
}
#[test]
fn duplicates_at_tie_distances_match_sklearn_on_the_range_query_path() {
    check("duplicates_grid_m32");
}
#[test]
fn single_blob_matches_sklearn() {
    check("single_blob");
}
#[test]
fn nested_clusters_match_sklearn() {
    check("nested");
}
#[test]
fn all_noise_matches_sklearn() {
    check("all_noise");
}
#[test]
fn real_bavaria_cell_matches_sklearn() {
    check("real_cell");
}
#[test]
fn real_bavaria_cell_coarse_setting_matches_sklearn() {
    check("real_cell_m50");
}
#[test]
fn real_texas_cell_matches_sklearn() {
    check("real_cell_texas");
}
#[test]
fn real_texas_cell_third_pigeon_setting_matches_sklearn() {
    check("real_cell_texas_m15");
}

#[test]
fn invalid_parameters_are_refused() {
    let pts = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]];
    assert!(optics_planar(&pts, &OpticsParams::new(1, 0.05)).is_err());
    assert!(optics_planar(&pts, &OpticsParams::new(4, 0.05)).is_err());
    assert!(optics_planar(&pts, &OpticsParams::new(2, 1.5)).is_err());
    assert!(optics_planar(&[[0.0, f64::NAN], [1.0, 0.0]], &OpticsParams::new(2, 0.05)).is_err());
}

#[test]
fn fast_and_reference_agree_on_random_sets_with_ties_and_duplicates() {
    let mut rng = geocells::synth::SplitMix64::new(2024);
    for case in 0..40 {
        let n = 20 + (rng.next_u64() % 400) as usize;
        let grid = case % 3 == 0;
        let mut pts: Vec<[f64; 2]> = (0..n)
            .map(|_| {
                if grid {
                    [(rng.next_u64() % 12) as f64, (rng.next_u64() % 9) as f64]
                } else {
                    [rng.next_normal() * 3.0, rng.next_normal()]
                }
            })
            .collect();
        // Exact duplicates.
        for k in 0..n / 10 {
            let src = pts[k * 7 % n];
            pts[(k * 13 + 5) % n] = src;
        }
        let m = 2 + (rng.next_u64() % 12) as usize;
        let xi = [0.05, 0.025, 0.015, 0.3][case % 4];
        let params = OpticsParams::new(m.min(n), xi);
        let a = optics_planar(&pts, &params).expect("reference");
        let b = optics_planar_fast(&pts, &params).expect("fast");
        assert_eq!(a, b, "case {case}: n {n}, m {m}, xi {xi}");
    }
}

#[test]
fn fast_optics_equals_the_reference_with_large_min_samples_and_on_the_sphere() {
    // min_samples >= 32 takes the range-query path of the fast version; the sphere metric runs
    // it in three dimensions. Both against the O(n²) reference, with ties and duplicates.
    use geocells::optics::{optics_sphere, optics_sphere_reference};
    let mut rng = geocells::synth::SplitMix64::new(77);
    for case in 0..16usize {
        let n = 200 + (rng.next_u64() % 300) as usize;
        let grid = case % 3 == 0;
        let mut pts: Vec<[f64; 2]> = (0..n)
            .map(|_| {
                if grid {
                    [(rng.next_u64() % 15) as f64, (rng.next_u64() % 11) as f64]
                } else {
                    [rng.next_normal() * 3.0, rng.next_normal()]
                }
            })
            .collect();
        for k in 0..n / 8 {
            let src = pts[k * 7 % n];
            pts[(k * 13 + 5) % n] = src;
        }
        let m = [32usize, 40, 64, 100][case % 4];
        let xi = [0.05, 0.005, 0.0001, 0.3][case % 4];
        let params = OpticsParams::new(m, xi);
        let a = optics_planar(&pts, &params).expect("reference");
        let b = optics_planar_fast(&pts, &params).expect("fast");
        assert_eq!(a, b, "planar case {case}: n {n}, m {m}, xi {xi}");
        // On the sphere: the same shapes placed at 60° N across the antimeridian (and at the
        // equator for the grid cases), in degrees.
        let lat0 = if grid { 0.0 } else { 60.0 };
        let lonlat: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| {
                let mut lon = 179.5 + 0.1 * p[0];
                if lon > 180.0 {
                    lon -= 360.0;
                }
                (lon, lat0 + 0.1 * p[1])
            })
            .collect();
        for m in [8usize, m] {
            let params = OpticsParams::new(m, xi);
            let a = optics_sphere_reference(&lonlat, &params).expect("reference");
            let b = optics_sphere(&lonlat, &params).expect("fast");
            assert_eq!(a, b, "sphere case {case}: n {n}, m {m}, xi {xi}");
        }
    }
}
