//! Criterion benchmarks of the pipeline stages and OPTICS on the shipped world data with seeded synthetic
//! points (GeoNames places weighted by population, 5 km Gaussian scatter).
//!
//! `cargo bench --bench stages` (add `-- --quick` for a short run; `-- split` for the split
//! stage only).

use criterion::{Criterion, criterion_group, criterion_main};
use geocells::admin::{BoundarySpec, LevelSpec, build_areas};
use geocells::assign::{AreaIndex, AssignParams, assign_points};
use geocells::graph::Adjacency;
use geocells::io::points::{Points, PointsSpec, read_points};

fn data(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(rel)
}

fn synthetic(n: usize) -> Points {
    let places =
        read_points(&PointsSpec::new(data("geonames_cities1000.parquet"))).expect("places");
    let weighted: Vec<(f64, f64, f64)> = (0..places.points.len())
        .map(|i| (places.points.lon[i], places.points.lat[i], 1.0))
        .collect();
    let pts = geocells::synth::scatter(&weighted, n, 42, 5.0);
    Points::from_lonlat(
        pts.iter().map(|p| p.0).collect(),
        pts.iter().map(|p| p.1).collect(),
    )
}

fn stages(c: &mut Criterion) {
    let spec = BoundarySpec {
        admin1: Some(LevelSpec::admin1(data("admin1_world.parquet"))),
        admin2: Some(LevelSpec::admin2(data("admin2_us.parquet"))),
        ..Default::default()
    };
    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.bench_function("read_boundaries_world_admin1_us_admin2", |b| {
        b.iter(|| build_areas(&spec).expect("areas"))
    });
    let areas = build_areas(&spec).expect("areas").areas;
    g.bench_function("adjacency_graph", |b| b.iter(|| Adjacency::build(&areas)));
    let index = AreaIndex::new(&areas);
    for n in [10_000usize, 100_000] {
        let pts = synthetic(n);
        g.bench_function(format!("assign_{n}"), |b| {
            b.iter(|| {
                assign_points(&index, areas.len(), &pts, &AssignParams::default()).expect("assign")
            })
        });
    }
    g.finish();

    // OPTICS on one dense cell: seeded points around the places of one country (planar degrees).
    let mut g = c.benchmark_group("optics");
    g.sample_size(10);
    for n in [10_000usize, 50_000] {
        let pts = synthetic(n);
        let planar: Vec<[f64; 2]> = (0..pts.len()).map(|i| [pts.lon[i], pts.lat[i]]).collect();
        let params = geocells::optics::OpticsParams::new(10, 0.05);
        g.bench_function(format!("optics_fast_{n}"), |b| {
            b.iter(|| geocells::optics::optics_planar_fast(&planar, &params).expect("optics"))
        });
    }
    g.finish();

    // OPTICS on the sphere (chord km), the split's default metric.
    let mut g = c.benchmark_group("optics_sphere");
    g.sample_size(10);
    for n in [10_000usize, 50_000] {
        let pts = synthetic(n);
        let lonlat: Vec<(f64, f64)> = (0..pts.len()).map(|i| (pts.lon[i], pts.lat[i])).collect();
        let params = geocells::optics::OpticsParams::new(10, 0.05);
        g.bench_function(format!("optics_sphere_{n}"), |b| {
            b.iter(|| geocells::optics::optics_sphere(&lonlat, &params).expect("optics"))
        });
    }
    g.finish();
}

/// The whole split stage (OPTICS settings, Voronoi carves, fallback) on the admin cells of `n`
/// synthetic points with the `pigeon` preset.
fn split(c: &mut Criterion) {
    use geocells::pipeline::{Inputs, NoProgress, Params, Pipeline};
    let mut g = c.benchmark_group("split");
    g.sample_size(10);
    for n in [10_000usize, 100_000] {
        let pts = synthetic(n);
        let dir = std::env::temp_dir().join(format!("geocells-bench-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let csv = dir.join(format!("points_{n}.csv"));
        let mut text = String::from("lon,lat\n");
        for i in 0..pts.len() {
            text.push_str(&format!("{},{}\n", pts.lon[i], pts.lat[i]));
        }
        std::fs::write(&csv, text).expect("write points");
        let mut inputs = Inputs::default_data(env!("CARGO_MANIFEST_DIR"));
        inputs.points = geocells::io::points::PointsSpec::new(&csv);
        let params = Params::default();
        let run = Pipeline::new(params.clone().split(false))
            .expect("params")
            .run(&inputs, &NoProgress)
            .expect("admin cells");
        let split_params = params.split_params();
        g.bench_function(format!("split_pigeon_{n}"), |b| {
            b.iter(|| {
                geocells::split::split_cells(
                    &run.cells,
                    &run.areas.areas,
                    &run.labels,
                    &split_params,
                    &NoProgress,
                )
                .expect("split")
            })
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    g.finish();
}

criterion_group!(benches, stages, split);
criterion_main!(benches);
