//! Voronoi carving on real cells: the carved region holds exactly the cluster's points, stays
//! inside its parent, and parent = region + remainder with no overlap.

mod common;

use common::data;
use geo::{Area, Contains};
use geo_types::{Coord, MultiPolygon};
use geocells::BoundarySpec;
use geocells::LevelSpec;
use geocells::PointsSpec;
use geocells::stages::build_areas;
use geocells::stages::read_points;

fn area_of(code: &str, level: LevelSpec) -> MultiPolygon<f64> {
    let built = build_areas(&BoundarySpec {
        admin1: Some(level),
        ..Default::default()
    })
    .expect("areas");
    built
        .areas
        .into_iter()
        .find(|a| a.code == code)
        .expect("area")
        .geometry
}

fn check_carve(parent: &MultiPolygon<f64>, pts: &[(f64, f64)], flags: &[bool]) {
    let region = geocells::algorithms::cluster_region(pts, flags, parent).expect("carve");
    let rest = geocells::algorithms::difference(parent, &region);
    let (a_parent, a_region, a_rest) = (
        parent.unsigned_area(),
        region.unsigned_area(),
        rest.unsigned_area(),
    );
    assert!(a_region > 0.0 && a_rest > 0.0);
    let tol = 1e-6 * a_parent;
    assert!(
        (a_region + a_rest - a_parent).abs() < tol,
        "{a_region} + {a_rest} != {a_parent}"
    );
    assert!(geocells::algorithms::intersection(&region, &rest).unsigned_area() < tol);
    assert!(
        (geocells::algorithms::intersection(&region, parent).unsigned_area() - a_region).abs()
            < tol
    );
    assert!(
        geocells::algorithms::is_valid_fast(&region) && geocells::algorithms::is_valid_fast(&rest)
    );
    // Each point inside the parent lies in the region iff it is in the cluster (points within
    // a few metres of the new border are skipped: the overlay grid is 2.6 cm).
    let mut checked = 0;
    for (p, &f) in pts.iter().zip(flags) {
        let c = Coord { x: p.0, y: p.1 };
        if !parent.contains(&c) {
            continue;
        }
        let near = geocells::algorithms::distance_to_boundary_km(&region, c) < 0.01;
        if near {
            continue;
        }
        assert_eq!(region.contains(&c), f, "point {p:?} in cluster: {f}");
        checked += 1;
    }
    assert!(checked > pts.len() / 2, "too few points checked: {checked}");
}

#[test]
fn largest_optics_cluster_of_bavaria_is_carved_exactly() {
    let parent = area_of("DEU-1591", LevelSpec::admin1(data("admin1_world.parquet")));
    let places = read_points(&PointsSpec::new(data("geonames_cities1000.parquet")))
        .expect("points")
        .points;
    let pts: Vec<(f64, f64)> = (0..places.len())
        .map(|i| (places.lon[i], places.lat[i]))
        .filter(|&(x, y)| parent.contains(&Coord { x, y }))
        .collect();
    assert!(pts.len() > 1000, "{}", pts.len());
    let planar: Vec<[f64; 2]> = pts.iter().map(|p| [p.0, p.1]).collect();
    let o = geocells::algorithms::optics_planar(
        &planar,
        &geocells::algorithms::OpticsParams::new(8, 0.05),
    )
    .expect("optics");
    let mut sizes = std::collections::BTreeMap::new();
    for &l in o.labels.iter().filter(|&&l| l >= 0) {
        *sizes.entry(l).or_insert(0usize) += 1;
    }
    let (&largest, _) = sizes
        .iter()
        .max_by_key(|(l, n)| (**n, std::cmp::Reverse(**l)))
        .expect("a cluster");
    let flags: Vec<bool> = o.labels.iter().map(|&l| l == largest).collect();
    check_carve(&parent, &pts, &flags);
}

#[test]
fn carving_across_the_antimeridian_in_fiji() {
    let parent = build_areas(&BoundarySpec {
        country: Some(LevelSpec::country(data("admin0_world.parquet"))),
        ..Default::default()
    })
    .expect("countries")
    .areas
    .into_iter()
    .find(|a| a.code == "FJI")
    .expect("FJI")
    .geometry;
    let places = read_points(&PointsSpec::new(data("geonames_cities1000.parquet")))
        .expect("points")
        .points;
    let mut pts: Vec<(f64, f64)> = (0..places.len())
        .map(|i| (places.lon[i], places.lat[i]))
        .filter(|&(x, y)| parent.contains(&Coord { x, y }))
        .collect();
    // Fiji has few places: add a seeded scatter around them, kept on land.
    let weighted: Vec<(f64, f64, f64)> = pts.iter().map(|p| (p.0, p.1, 1.0)).collect();
    pts.extend(
        geocells::algorithms::scatter(&weighted, 400, 7, 20.0)
            .into_iter()
            .filter(|&(x, y)| parent.contains(&Coord { x, y })),
    );
    // Add points on the islands east of the antimeridian (Lau group area) by scattering too.
    let east: Vec<(f64, f64, f64)> = vec![(-179.87, -16.68, 1.0), (-178.8, -18.1, 1.0)];
    pts.extend(
        geocells::algorithms::scatter(&east, 400, 9, 15.0)
            .into_iter()
            .filter(|&(x, y)| parent.contains(&Coord { x, y })),
    );
    // The cluster: everything east of 179.5 E (it wraps to negative longitudes).
    let flags: Vec<bool> = pts.iter().map(|p| p.0 > 179.5 || p.0 < 0.0).collect();
    assert!(
        flags.iter().filter(|&&f| f).count() >= 10,
        "need points on both sides"
    );
    check_carve(&parent, &pts, &flags);
}

#[test]
fn voronoi_borders_are_equidistant_on_the_sphere_at_high_latitude() {
    // PIGEON flaw 7: Voronoi regions in raw degrees. Two points on one meridian at 60° and
    // 62° N in a box 10° wide: the true border (points equally far from both on the sphere)
    // is a great circle, which bends south of the 61st parallel away from the meridian; the
    // planar-degree border would be the parallel itself.
    use geocells::algorithms::haversine_km;
    let parent = MultiPolygon::new(vec![
        geo_types::Rect::new(Coord { x: -5.0, y: 58.0 }, Coord { x: 5.0, y: 64.0 }).to_polygon(),
    ]);
    let (a, b) = ((0.0, 60.0), (0.0, 62.0));
    let region =
        geocells::algorithms::cluster_region(&[a, b], &[true, false], &parent).expect("carve");
    // The region's northern edge at longitude ±4.9: find its highest vertex there.
    let mut checked = 0;
    for p in &region.0 {
        for v in p
            .exterior()
            .0
            .iter()
            .filter(|v| v.y > 60.5 && v.x.abs() > 1.0)
        {
            let (da, db) = (haversine_km(a, (v.x, v.y)), haversine_km(b, (v.x, v.y)));
            assert!(
                (da - db).abs() < 0.5,
                "vertex {v:?}: {da:.2} km vs {db:.2} km"
            );
            // And it lies measurably south of the parallel a planar-degree diagram would use.
            if v.x.abs() > 4.0 {
                assert!(v.y < 60.98, "vertex {v:?} on the parallel");
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} border vertices checked");
    // On the parallel at 5° E, the planar border is off by kilometres.
    let (da, db) = (haversine_km(a, (5.0, 61.0)), haversine_km(b, (5.0, 61.0)));
    assert!((da - db).abs() > 1.0, "{da} {db}");
}

#[test]
fn a_cell_two_thousand_km_wide_is_carved_exactly() {
    // The Voronoi cells of hull sites reach far out; projected back from beyond a quarter of
    // the globe they folded over and dropped sites from the region (found on a 1M-point run).
    let parent = MultiPolygon::new(vec![
        geo_types::Rect::new(Coord { x: 60.0, y: 48.0 }, Coord { x: 92.0, y: 62.0 }).to_polygon(),
    ]);
    let mut rng = geocells::algorithms::SplitMix64::new(21);
    let pts: Vec<(f64, f64)> = (0..600)
        .map(|_| (60.5 + 31.0 * rng.next_f64(), 48.5 + 13.0 * rng.next_f64()))
        .collect();
    let flags: Vec<bool> = pts.iter().map(|p| p.0 < 70.0 || p.1 > 59.0).collect();
    check_carve(&parent, &pts, &flags);
}
