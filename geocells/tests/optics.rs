//! Differential tests: our OPTICS against scikit-learn 1.9.1 on the committed fixtures
//! (`geocells/tests/fixtures/optics/`, made by `make_fixtures.py` there). Every value must match
//! bit for bit.

mod common;

use geocells::algorithms::OpticsParams;

use geocells::algorithms::optics_planar;

use geocells::algorithms::optics_planar_fast;

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
    let mut rng = geocells::algorithms::SplitMix64::new(2024);
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
    use geocells::algorithms::optics_sphere;
    use geocells::algorithms::optics_sphere_reference;
    let mut rng = geocells::algorithms::SplitMix64::new(77);
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

/// A seeded duplicate-heavy planar set: `scattered` Gaussian points (or integer grid points)
/// plus `locations` locations with multiplicities drawn from 1..=`max_mult`, shuffled so the
/// copies of a location are spread over the index range. Some locations sit on a scattered
/// point.
fn duplicate_heavy(
    rng: &mut geocells::algorithms::SplitMix64,
    scattered: usize,
    locations: usize,
    max_mult: usize,
    grid: bool,
) -> Vec<[f64; 2]> {
    let draw = |rng: &mut geocells::algorithms::SplitMix64| {
        if grid {
            [(rng.next_u64() % 9) as f64, (rng.next_u64() % 7) as f64]
        } else {
            [rng.next_normal() * 3.0, rng.next_normal()]
        }
    };
    let mut pts: Vec<[f64; 2]> = (0..scattered).map(|_| draw(rng)).collect();
    for k in 0..locations {
        let at = if k % 3 == 0 && !pts.is_empty() {
            pts[(rng.next_u64() % pts.len() as u64) as usize]
        } else {
            draw(rng)
        };
        let w = 1 + (rng.next_u64() % max_mult as u64) as usize;
        pts.extend(std::iter::repeat_n(at, w));
    }
    // Fisher-Yates with the seeded generator.
    for i in (1..pts.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        pts.swap(i, j);
    }
    pts
}

/// How a result treats repeated locations, to show the test sets exercise what a wrong
/// shortcut would get wrong: (locations whose copies are not consecutive in the ordering,
/// later copies whose predecessor is not the location's first copy).
fn duplicate_coverage(points: &[[f64; 2]], r: &geocells::algorithms::Optics) -> (usize, usize) {
    let mut by_loc: std::collections::BTreeMap<[u64; 2], Vec<usize>> =
        std::collections::BTreeMap::default();
    for (i, p) in points.iter().enumerate() {
        by_loc
            .entry([p[0].to_bits(), p[1].to_bits()])
            .or_default()
            .push(i);
    }
    let mut rank = vec![0usize; points.len()];
    for (k, &i) in r.ordering.iter().enumerate() {
        rank[i] = k;
    }
    let (mut interleaved, mut other_pred) = (0, 0);
    for copies in by_loc.values().filter(|c| c.len() > 1) {
        let ranks: Vec<usize> = copies.iter().map(|&i| rank[i]).collect();
        let (lo, hi) = (ranks.iter().min(), ranks.iter().max());
        if let (Some(lo), Some(hi)) = (lo, hi)
            && hi - lo + 1 != copies.len()
        {
            interleaved += 1;
        }
        let first = r.ordering[*lo.expect("copies")];
        other_pred += copies
            .iter()
            .filter(|&&i| i != first && r.predecessor[i] != Some(first))
            .count();
    }
    (interleaved, other_pred)
}

/// The reference result with every later copy of a location given the first copy's
/// predecessor: what a fast version that skipped the predecessor query for copies would give.
fn with_first_copy_predecessors(
    points: &[[f64; 2]],
    r: &geocells::algorithms::Optics,
) -> geocells::algorithms::Optics {
    let mut out = r.clone();
    let mut first: std::collections::HashMap<[u64; 2], usize> =
        std::collections::HashMap::default();
    for &i in &r.ordering {
        let key = [points[i][0].to_bits(), points[i][1].to_bits()];
        match first.get(&key) {
            Some(&f) => out.predecessor[i] = Some(f),
            None => {
                first.insert(key, i);
            }
        }
    }
    out
}

#[test]
fn fast_and_reference_agree_on_duplicate_heavy_sets() {
    // Locations with multiplicities below and above min_samples among scattered points (or on
    // a grid, for ties), min_samples below 32 (walk path) and from 32 on (range-query path),
    // planar and on the sphere, against the O(n²) reference.
    use geocells::algorithms::optics_sphere;
    use geocells::algorithms::optics_sphere_reference;
    let mut rng = geocells::algorithms::SplitMix64::new(1111);
    let (mut interleaved, mut other_pred, mut wrong_pred_differs) = (0, 0, 0);
    for case in 0..24usize {
        let grid = case % 4 == 3;
        let large = case % 2 == 1;
        let (m, max_mult) = if large {
            (32 + case, 90)
        } else {
            (2 + case % 9, 14)
        };
        let scattered = 60 + (rng.next_u64() % 200) as usize;
        let locations = 4 + (rng.next_u64() % 12) as usize;
        let pts = duplicate_heavy(&mut rng, scattered, locations, max_mult, grid);
        let m = m.min(pts.len() / 2);
        let xi = [0.05, 0.025, 0.005, 0.3][case % 4];
        let params = OpticsParams::new(m, xi);
        let a = optics_planar(&pts, &params).expect("reference");
        let b = optics_planar_fast(&pts, &params).expect("fast");
        assert_eq!(a, b, "planar case {case}: n {}, m {m}, xi {xi}", pts.len());
        let (i, o) = duplicate_coverage(&pts, &a);
        interleaved += i;
        other_pred += o;
        if with_first_copy_predecessors(&pts, &a) != a {
            wrong_pred_differs += 1;
        }
        // The same set on the sphere, around 48° N, 11° E, in tenths of a degree.
        let lonlat: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| (11.0 + 0.1 * p[0], 48.0 + 0.1 * p[1]))
            .collect();
        let a = optics_sphere_reference(&lonlat, &params).expect("reference");
        let b = optics_sphere(&lonlat, &params).expect("fast");
        assert_eq!(a, b, "sphere case {case}: n {}, m {m}, xi {xi}", pts.len());
    }
    // The sets interleave copies of a location with other points and give later copies other
    // predecessors than the first copy, so a shortcut that emitted copies in a block or copied
    // the first copy's predecessor would fail the comparisons above.
    assert!(interleaved > 100, "{interleaved}");
    assert!(other_pred > 500, "{other_pred}");
    assert!(wrong_pred_differs > 15, "{wrong_pred_differs}");
}

#[test]
fn fast_optics_with_known_core_distances_handles_duplicates() {
    // optics_sphere_known with some copies of a location known and others not (as the split's
    // reuse gives it), against a fresh run; a wrong known value changes the result.
    use geocells::algorithms::optics_sphere;
    use geocells::algorithms::optics_sphere_known;
    let mut rng = geocells::algorithms::SplitMix64::new(4242);
    let pts = duplicate_heavy(&mut rng, 300, 12, 80, false);
    let lonlat: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (11.0 + 0.1 * p[0], 48.0 + 0.1 * p[1]))
        .collect();
    for m in [8usize, 40] {
        let params = OpticsParams::new(m, 0.05);
        let fresh = optics_sphere(&lonlat, &params).expect("optics");
        let known: Vec<Option<f64>> = fresh
            .core_distances
            .iter()
            .enumerate()
            .map(|(i, &c)| (i % 3 != 0).then_some(c))
            .collect();
        let reused = optics_sphere_known(&lonlat, &params, &known).expect("optics");
        assert_eq!(fresh, reused, "m {m}");
        // Double the known value of a point with a repeated location: its copies follow.
        let i = (0..pts.len())
            .find(|&i| known[i].is_some() && pts.iter().filter(|&&p| p == pts[i]).count() > 1)
            .expect("a known repeated point");
        let mut wrong = known.clone();
        wrong[i] = Some(fresh.core_distances[i] * 2.0 + 1.0);
        let bad = optics_sphere_known(&lonlat, &params, &wrong).expect("optics");
        assert_ne!(fresh.core_distances, bad.core_distances, "m {m}");
    }
}

#[test]
fn many_copies_of_few_locations_stay_fast() {
    // Issue 11: 5,000 copies of one coordinate made the split hang (O(w²) per location).
    // 200,000 points at 4 locations plus 2,000 scattered ones take well under a second now;
    // the bound is generous for a shared machine, a quadratic version would take hours.
    use geocells::algorithms::optics_sphere;
    let mut rng = geocells::algorithms::SplitMix64::new(5);
    let mut lonlat: Vec<(f64, f64)> = (0..2_000)
        .map(|_| {
            (
                11.5 + rng.next_normal() * 0.1,
                48.1 + rng.next_normal() * 0.1,
            )
        })
        .collect();
    for (k, w) in [(0usize, 100_000usize), (1, 60_000), (2, 39_000), (3, 1_000)] {
        let at = lonlat[k * 17];
        lonlat.extend(std::iter::repeat_n(at, w));
    }
    for m in [30usize, 300] {
        let t = std::time::Instant::now();
        let r = optics_sphere(&lonlat, &OpticsParams::new(m, 0.05)).expect("optics");
        let secs = t.elapsed().as_secs_f64();
        assert!(secs < 30.0, "m {m}: {secs} s");
        // Every location with at least m copies has core distance 0, so every later copy is
        // reached at 0.
        let zero_reach = r.reachability.iter().filter(|&&v| v == 0.0).count();
        assert!(zero_reach >= 200_000 - 4, "m {m}: {zero_reach}");
        let mut seen = vec![false; lonlat.len()];
        for &i in &r.ordering {
            assert!(!seen[i]);
            seen[i] = true;
        }
    }
}
