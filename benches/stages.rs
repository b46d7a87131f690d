//! Criterion benchmarks of the pipeline stages and OPTICS on the shipped world data with seeded
//! synthetic points (GeoNames places, 5 km Gaussian scatter).
//!
//! `cargo bench --bench stages` (add `-- --quick` for a short run; `-- split` for the split
//! stage only; any other regex selects benches by name). Set-up (boundaries, points, runs) is
//! lazy, so a filter only pays for the benches it selects.
//!
//! Two sets of benches:
//! * `stages/*`, `optics/*`, `optics_sphere/*`, `split/*`: fixed sizes (10k, 50k or 100k
//!   points, every GeoNames place weighted alike) against world admin-1 + US counties (no
//!   country level); the figures in docs/performance.md "Benchmarks".
//!   `optics_sphere/optics_sphere_dups_100k_m300` is duplicate-heavy: 50k such points plus
//!   1,000 copies of each of 50 of them (decision 0006).
//! * The scale benches, one group per stage, each at every size N of `GEOCELLS_BENCH_SIZES` (a
//!   comma list of point counts, default `10000,100000,1000000`), on the points `make_points N`
//!   writes (GeoNames places weighted by population^0.5, seed 42, 5 km scatter) and the
//!   boundaries of a default `build_cells` run (countries, admin-1, US counties):
//!   - `read_points/N`: `read_points` of the GeoParquet `export::write_lonlat_parquet` wrote
//!     to a temporary file;
//!   - `assign/N`: `assign_points`; the area index is built once outside the loop (in a run's
//!     `assign` timing that build is about 2 s, whatever N);
//!   - `fuse/N`: `Adjacency::build` + `plan_cells` on the points' counts per area with the
//!     `pigeotto` MINSIZE 1000 (the adjacency, about 0.2 s, does not depend on N);
//!   - `optics_cell/m300/N`, `optics_cell/m10/N`: `optics_sphere` on the points of the largest
//!     admin cell of that fuse, with `pigeotto`'s first setting (300, 0.05) and `pigeon`'s
//!     (10, 0.025). OPTICS runs per cell, so its cost follows the cell size, not N: the largest
//!     admin cell holds 1,129 points at N = 10k (the United States, fused from its counties),
//!     3,061 at 100k (Negros Occidental) and 9,731 at 1M (Bayern), printed to stderr at set-up.
//!     The split clusters every cell above MAX (132 of them at 1M, most smaller) and again
//!     after each carve, so the stage costs many such runs;
//!   - `voronoi_carve/N`: `voronoi::cluster_region` on that cell (its polygon the union of its
//!     areas) carving the cluster the split would carve first: the largest cluster of the first
//!     `pigeotto` setting that leaves points outside ((400, 0.005): 1,380 of 3,061 points at
//!     100k; (1000, 0.0001): 5,865 of 9,731 at 1M), or the western half of the points when
//!     none does (10k);
//!   - `export/N`: `export::write_all` of a `pigeotto` run of the N points into a temporary
//!     directory. The run is built with the split off (admin cells only) to keep the set-up
//!     short; most of the cost is per point (points, targets).
//!
//!   These run with criterion's minimum of 10 samples, flat sampling, 1 s warm-up and 3 s
//!   measurement: one iteration per sample once an iteration exceeds 0.3 s. Example:
//!   `GEOCELLS_BENCH_SIZES=10000 cargo bench --bench stages -- --quick '^voronoi_carve/'`.
//!
//! * `smoothing/N`: `smoothed_targets` of the `make_points N` points against 3,900 centroids
//!   (decision 0009), at every size of `GEOCELLS_BENCH_SIZES`.
//!
//! With the default sizes a full `cargo bench --bench stages` takes about 6 minutes on the
//! project's 2-core machine when idle, 9 when shared (the fixed-size benches about 2 to 3, the 1M
//! benches 2 to 4: `export/1000000` alone makes 11 runs of 5 to 12 s, `assign/1000000` 11 of 2
//! to 4 s); `-- --quick` about 3 minutes. `GEOCELLS_BENCH_SIZES=10000,100000` leaves out the 1M
//! benches.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main,
};
use geocells::Area;
use geocells::AssignParams;
use geocells::BoundarySpec;
use geocells::LevelSpec;
use geocells::Points;
use geocells::PointsSpec;
use geocells::algorithms::OpticsParams;
use geocells::algorithms::optics_sphere;
use geocells::stages::Adjacency;
use geocells::stages::AreaIndex;
use geocells::stages::Placement;
use geocells::stages::assign_points;
use geocells::stages::build_areas;
use geocells::stages::plan_cells;
use geocells::stages::read_points;

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
    let pts = geocells::algorithms::scatter(&weighted, n, 42, 5.0);
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
    // Set-up is lazy (inside the bench closures), so a filter skips what it does not select.
    let world: OnceCell<(Vec<Area>, AreaIndex)> = OnceCell::new();
    let world = || {
        world.get_or_init(|| {
            let areas = build_areas(&spec).expect("areas").areas;
            let index = AreaIndex::new(&areas);
            (areas, index)
        })
    };
    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.bench_function("read_boundaries_world_admin1_us_admin2", |b| {
        b.iter(|| build_areas(&spec).expect("areas"));
    });
    g.bench_function("adjacency_graph", |b| {
        let (areas, _) = world();
        b.iter(|| Adjacency::build(areas));
    });
    for n in [10_000usize, 100_000] {
        let mut pts = None;
        g.bench_function(format!("assign_{n}"), |b| {
            let (areas, index) = world();
            let pts = pts.get_or_insert_with(|| synthetic(n));
            b.iter(|| {
                assign_points(index, areas.len(), pts, &AssignParams::default()).expect("assign")
            });
        });
    }
    g.finish();

    // OPTICS on one dense cell: seeded points around the places of one country (planar degrees).
    let mut g = c.benchmark_group("optics");
    g.sample_size(10);
    for n in [10_000usize, 50_000] {
        let mut planar = None;
        let params = OpticsParams::new(10, 0.05);
        g.bench_function(format!("optics_fast_{n}"), |b| {
            let planar = planar.get_or_insert_with(|| {
                let pts = synthetic(n);
                (0..pts.len())
                    .map(|i| [pts.lon[i], pts.lat[i]])
                    .collect::<Vec<[f64; 2]>>()
            });
            b.iter(|| geocells::algorithms::optics_planar_fast(planar, &params).expect("optics"));
        });
    }
    g.finish();

    // OPTICS on the sphere (chord km), the split's default metric.
    let mut g = c.benchmark_group("optics_sphere");
    g.sample_size(10);
    for n in [10_000usize, 50_000] {
        let mut lonlat = None;
        let params = OpticsParams::new(10, 0.05);
        g.bench_function(format!("optics_sphere_{n}"), |b| {
            let lonlat = lonlat.get_or_insert_with(|| {
                let pts = synthetic(n);
                (0..pts.len())
                    .map(|i| (pts.lon[i], pts.lat[i]))
                    .collect::<Vec<(f64, f64)>>()
            });
            b.iter(|| optics_sphere(lonlat, &params).expect("optics"));
        });
    }
    // Duplicate-heavy (issue 11: default camera locations, landmarks): 100k points, half of
    // them copies of 50 of the other half's locations (1,000 each), with pigeotto's first
    // setting; decision 0006.
    let mut lonlat = None;
    let params = OpticsParams::new(300, 0.05);
    g.bench_function("optics_sphere_dups_100k_m300", |b| {
        let lonlat = lonlat.get_or_insert_with(|| {
            let pts = synthetic(50_000);
            let mut v: Vec<(f64, f64)> = (0..pts.len()).map(|i| (pts.lon[i], pts.lat[i])).collect();
            for k in 0..50 {
                let at = v[k * 997];
                v.extend(std::iter::repeat_n(at, 1_000));
            }
            v
        });
        b.iter(|| optics_sphere(lonlat, &params).expect("optics"));
    });
    g.finish();
}

/// The whole split stage (OPTICS settings, Voronoi carves, fallback) on the admin cells of `n`
/// synthetic points with the `pigeon` preset.
fn split(c: &mut Criterion) {
    use geocells::Inputs;
    use geocells::NoProgress;
    use geocells::Params;
    use geocells::Pipeline;
    use geocells::Run;
    let mut g = c.benchmark_group("split");
    g.sample_size(10);
    let params = Params::default();
    let split_params = params.split.clone();
    for n in [10_000usize, 100_000] {
        let dir = std::env::temp_dir().join(format!("geocells-bench-split-{}", std::process::id()));
        let mut run: Option<Run> = None;
        g.bench_function(format!("split_pigeon_{n}"), |b| {
            let run = run.get_or_insert_with(|| {
                let pts = synthetic(n);
                std::fs::create_dir_all(&dir).expect("dir");
                let csv = dir.join(format!("points_{n}.csv"));
                let mut text = String::from("lon,lat\n");
                for i in 0..pts.len() {
                    text.push_str(&format!("{},{}\n", pts.lon[i], pts.lat[i]));
                }
                std::fs::write(&csv, text).expect("write points");
                let mut inputs = Inputs::default_data(env!("CARGO_MANIFEST_DIR"));
                inputs.points = PointsSpec::new(&csv);
                Pipeline::new(params.clone().split(false))
                    .expect("params")
                    .run(&inputs, &NoProgress)
                    .expect("admin cells")
            });
            b.iter(|| {
                geocells::stages::split_cells(
                    run.cells(),
                    &run.areas().areas,
                    run.point_cells(),
                    &split_params,
                    &NoProgress,
                )
                .expect("split")
            });
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    g.finish();
}

/// Default of `GEOCELLS_BENCH_SIZES`.
const DEFAULT_SIZES: &str = "10000,100000,1000000";

/// The point counts of the scale benches: `GEOCELLS_BENCH_SIZES` (comma list) or the default.
fn bench_sizes() -> Vec<usize> {
    let text = std::env::var("GEOCELLS_BENCH_SIZES").unwrap_or_else(|_| DEFAULT_SIZES.into());
    let sizes: Vec<usize> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.replace('_', "")
                .parse()
                .unwrap_or_else(|e| panic!("GEOCELLS_BENCH_SIZES: '{s}': {e}"))
        })
        .collect();
    assert!(
        !sizes.is_empty() && sizes.iter().all(|&n| n > 0),
        "GEOCELLS_BENCH_SIZES must list positive point counts, got '{text}'"
    );
    sizes
}

/// The points `make_points N` writes: GeoNames places weighted by population^0.5, seed 42,
/// 5 km Gaussian scatter.
fn make_points(n: usize) -> Points {
    let places = geocells::algorithms::geonames_places(&data("geonames_cities1000.parquet"), 0.5)
        .expect("places");
    let pts = geocells::algorithms::scatter(&places, n, 42, 5.0);
    Points::from_lonlat(
        pts.iter().map(|p| p.0).collect(),
        pts.iter().map(|p| p.1).collect(),
    )
}

/// The boundaries of a default `build_cells` run, with their R-tree.
struct World {
    inputs: geocells::Inputs,
    areas: Vec<Area>,
    index: AreaIndex,
    adjacency: Adjacency,
}

/// `n` points, their areas (accepted points only) and the largest admin cell of a `pigeotto`
/// fuse.
struct PointSet {
    points: Points,
    counts: Vec<usize>,
    /// Points of the largest admin cell, lon/lat.
    cell_points: Vec<(f64, f64)>,
    /// Its polygon: the union of its areas.
    cell_geometry: geo_types::MultiPolygon<f64>,
}

/// Lazily built set-up shared by the scale benches (a filter only builds what it selects).
struct Scale {
    sizes: Vec<usize>,
    dir: PathBuf,
    world: OnceCell<World>,
    sets: Vec<OnceCell<PointSet>>,
    parquet: Vec<OnceCell<PathBuf>>,
}

const PIGEOTTO_MIN: usize = 1000;

impl Scale {
    fn new() -> Self {
        let sizes = bench_sizes();
        let dir = std::env::temp_dir().join(format!("geocells-bench-scale-{}", std::process::id()));
        Self {
            dir,
            world: OnceCell::new(),
            sets: sizes.iter().map(|_| OnceCell::new()).collect(),
            parquet: sizes.iter().map(|_| OnceCell::new()).collect(),
            sizes,
        }
    }

    fn world(&self) -> &World {
        self.world.get_or_init(|| {
            let inputs = geocells::Inputs::default_data(env!("CARGO_MANIFEST_DIR"));
            let areas = build_areas(&inputs.boundaries).expect("areas").areas;
            let index = AreaIndex::new(&areas);
            let adjacency = Adjacency::build(&areas);
            World {
                inputs,
                areas,
                index,
                adjacency,
            }
        })
    }

    fn set(&self, i: usize) -> &PointSet {
        self.sets[i].get_or_init(|| {
            let n = self.sizes[i];
            let w = self.world();
            let points = make_points(n);
            let placements =
                assign_points(&w.index, w.areas.len(), &points, &AssignParams::default())
                    .expect("assign");
            let area_of: Vec<Option<u32>> = placements
                .iter()
                .map(|p| match *p {
                    Placement::Inside(a) | Placement::Snapped(a, _) => Some(a),
                    Placement::Rejected(_) => None,
                })
                .collect();
            let mut counts = vec![0usize; w.areas.len()];
            for a in area_of.iter().flatten() {
                counts[*a as usize] += 1;
            }
            let plan = plan_cells(&w.areas, &w.adjacency, &counts, PIGEOTTO_MIN).expect("fuse");
            // Largest cell, ties to the lowest index.
            let (k, cell) = plan
                .cells
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.size.cmp(&b.1.size).then(b.0.cmp(&a.0)))
                .expect("a cell");
            let cell_points: Vec<(f64, f64)> = area_of
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_some_and(|a| plan.area_cell[a as usize] as usize == k))
                .map(|(j, _)| (points.lon[j], points.lat[j]))
                .collect();
            let cell_geometry = geocells::algorithms::union(
                cell.areas
                    .iter()
                    .flat_map(|&a| w.areas[a as usize].geometry.0.iter()),
            );
            eprintln!(
                "scale set-up: {n} points, {} labelled, {} admin cells (MINSIZE {PIGEOTTO_MIN}); \
                 largest: {} points in {} areas ({})",
                area_of.iter().flatten().count(),
                plan.cells.len(),
                cell_points.len(),
                cell.areas.len(),
                w.areas[cell.dominant as usize].name,
            );
            PointSet {
                points,
                counts,
                cell_points,
                cell_geometry,
            }
        })
    }

    /// The points of set `i` as GeoParquet (`make_points`' format) in the temporary directory.
    fn parquet(&self, i: usize) -> &Path {
        self.parquet[i].get_or_init(|| {
            let n = self.sizes[i];
            std::fs::create_dir_all(&self.dir).expect("temp dir");
            let path = self.dir.join(format!("points_{n}.parquet"));
            let pts = make_points(n);
            geocells::files::write_lonlat_parquet(&path, &pts.lon, &pts.lat).expect("write points");
            path
        })
    }
}

impl Drop for Scale {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A group for slow benches: criterion's minimum of 10 samples, flat sampling (one iteration
/// per sample once an iteration takes longer than measurement time / 10).
fn slow_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g
}

/// The scale benches (see the module documentation).
fn scale(c: &mut Criterion) {
    let s = Scale::new();
    let sizes = s.sizes.clone();

    let mut g = slow_group(c, "read_points");
    for (i, &n) in sizes.iter().enumerate() {
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let spec = PointsSpec::new(s.parquet(i));
            b.iter(|| read_points(&spec).expect("read points"));
        });
    }
    g.finish();

    let mut g = slow_group(c, "assign");
    for (i, &n) in sizes.iter().enumerate() {
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let (w, set) = (s.world(), s.set(i));
            b.iter(|| {
                assign_points(
                    &w.index,
                    w.areas.len(),
                    &set.points,
                    &AssignParams::default(),
                )
                .expect("assign")
            });
        });
    }
    g.finish();

    let mut g = slow_group(c, "fuse");
    for (i, &n) in sizes.iter().enumerate() {
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let (w, set) = (s.world(), s.set(i));
            b.iter(|| {
                let adjacency = Adjacency::build(&w.areas);
                plan_cells(&w.areas, &adjacency, &set.counts, PIGEOTTO_MIN).expect("fuse")
            });
        });
    }
    g.finish();

    let mut g = slow_group(c, "optics_cell");
    for (label, m, xi) in [("m300", 300usize, 0.05), ("m10", 10, 0.025)] {
        let params = OpticsParams::new(m, xi);
        for (i, &n) in sizes.iter().enumerate() {
            g.bench_function(BenchmarkId::new(label, n), |b| {
                let set = s.set(i);
                b.iter(|| optics_sphere(&set.cell_points, &params).expect("optics"));
            });
        }
    }
    g.finish();

    let mut g = slow_group(c, "voronoi_carve");
    for (i, &n) in sizes.iter().enumerate() {
        let mut flags: Option<Vec<bool>> = None;
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let set = s.set(i);
            let flags = flags.get_or_insert_with(|| carve_flags(&set.cell_points));
            b.iter(|| {
                geocells::algorithms::cluster_region(&set.cell_points, flags, &set.cell_geometry)
                    .expect("carve")
            });
        });
    }
    g.finish();

    let mut g = slow_group(c, "export");
    for (i, &n) in sizes.iter().enumerate() {
        let mut run: Option<geocells::Run> = None;
        let out = s.dir.join(format!("out_{n}"));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            let run = run.get_or_insert_with(|| {
                use geocells::NoProgress;
                use geocells::Params;
                use geocells::Pipeline;
                let mut inputs = s.world().inputs.clone();
                inputs.points = PointsSpec::new(s.parquet(i));
                let params = Params::preset("pigeotto").expect("preset").split(false);
                Pipeline::new(params)
                    .expect("params")
                    .run(&inputs, &NoProgress)
                    .expect("run")
            });
            b.iter(|| geocells::write_all(run, &out).expect("export"));
        });
        // Free the run (hundreds of MB at 1M points) before the next size.
        drop(run);
    }
    g.finish();
}

/// Flags of the points to carve from a cell, as the split's first carve finds them: for each
/// `pigeotto` OPTICS setting in turn, the largest cluster (ties: lowest label), taken when it
/// leaves points outside (the split also wants MINSIZE on both sides; the carve's cost does not
/// depend on that). The western half of the points when no setting finds such a cluster.
fn carve_flags(points: &[(f64, f64)]) -> Vec<bool> {
    for (m, xi) in geocells::PIGEOTTO_SETTINGS {
        if points.len() < m {
            continue;
        }
        let labels = optics_sphere(points, &OpticsParams::new(m, xi))
            .expect("optics")
            .labels;
        let mut counts = std::collections::BTreeMap::<i64, usize>::new();
        for &l in labels.iter().filter(|&&l| l >= 0) {
            *counts.entry(l).or_default() += 1;
        }
        let largest = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
        if let Some((&label, &size)) = largest.filter(|c| *c.1 < points.len()) {
            eprintln!(
                "voronoi_carve set-up: carving the largest OPTICS ({m}, {xi}) cluster, {size} of \
                 {} points",
                points.len()
            );
            return labels.iter().map(|&l| l == label).collect();
        }
    }
    let mut lon: Vec<f64> = points.iter().map(|p| p.0).collect();
    lon.sort_by(f64::total_cmp);
    let median = lon[lon.len() / 2];
    eprintln!(
        "voronoi_carve set-up: no OPTICS cluster short of all {} points, carving the western half",
        points.len()
    );
    points.iter().map(|p| p.0 < median).collect()
}

/// `smoothing/N`: `smoothed_targets` (PIGEON label smoothing, tau 75 km, top 10) of the
/// `make_points N` points against 3,900 centroids scattered 20 km around GeoNames places
/// (population^0.5, seed 1), about the cell count of a 5M `pigeotto` run (decision 0009).
/// Each iteration builds its tiles anew, as a run does.
fn smoothing(c: &mut Criterion) {
    let places = geocells::algorithms::geonames_places(&data("geonames_cities1000.parquet"), 0.5)
        .expect("places");
    let centroids: Vec<Option<(f64, f64)>> = geocells::algorithms::scatter(&places, 3900, 1, 20.0)
        .into_iter()
        .map(Some)
        .collect();
    let mut g = c.benchmark_group("smoothing");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in bench_sizes() {
        let pts = geocells::algorithms::scatter(&places, n, 42, 5.0);
        g.bench_with_input(BenchmarkId::from_parameter(n), &pts, |b, pts| {
            b.iter(|| {
                geocells::smoothed_targets(pts, &centroids, geocells::SmoothingParams::default())
                    .expect("targets")
            });
        });
    }
    g.finish();
}

criterion_group!(benches, stages, split, scale, smoothing);
criterion_main!(benches);
