//! The test matrix of issue 11, "test on data you did not make": the pipeline over public
//! inputs it was not tuned on, crossed with boundary levels, boundary defects, point sets,
//! presets and seeds.
//!
//! Inputs: `data/fixtures/matrix/` (made by `data/prepare/matrix_fixtures.py`, see
//! `data/fixtures/README.md`) and the shipped world files in `data/`. Point sets are GeoNames
//! subsets from those fixtures, optionally transformed here with a seeded [`SplitMix64`]: heavy
//! duplicates, one location, shared-border vertices and points at ±180 / ±90 / at sea.
//!
//! Every case is checked for
//! * (a) `Pipeline::run` returns `Ok` (and neither panics nor exceeds the time limit);
//! * (b) `Run::validate` is `Ok`;
//! * (c) every input row is labelled or rejected, exactly once (the count and the row set);
//! * (d) every cell above MAX is in the split report's `left_above_max` and is provably
//!   unsplittable: no subset of its locations' multiplicities sums into
//!   `[MINSIZE, size - MINSIZE]` (checked here with a subset-sum table);
//! * (e) for cases marked so, the outputs of `export::write_all` are byte-identical at 1 and 2
//!   threads (`report.json` but for `timings_s`);
//! * (f) no cell holds points of two countries, and no cell holds an admin area of another
//!   country that has cells of its own (exclaves);
//! * (g) no cell joins areas holding points that neither share a border nor have points within
//!   [`FAR_KM`] of each other (far islands fused across an ocean).
//!
//! Each case runs in a child process (this binary, test `matrix_case`) so that a hang is
//! killed at the time limit and a crash is contained. Cases known to fail today are listed with
//! the checks they fail in `tests/fixtures/matrix_known_failures.txt`; the matrix tests fail
//! when a case's failed checks differ from that list, including when a listed case passes
//! (delete its line then).
//! `GEOCELLS_MATRIX_STRICT=1` ignores that list.
//!
//! * `cargo test --release --test matrix` runs the sample (`matrix_sample`, 30 cases, 30-55 s
//!   on this 2-core machine);
//! * `cargo test --release --test matrix -- --ignored matrix_full --nocapture` runs all 390
//!   cases (202 s here, all passing; before the issue 11 fixes 27 min, 218 failing, eight of
//!   them hanging past their 120 s limit);
//!   `GEOCELLS_MATRIX_FILTER=belux` restricts it to the case names containing `belux`;
//! * `GEOCELLS_MATRIX_CASE=<name> cargo test --release --test matrix -- --ignored --exact
//!   matrix_case --nocapture` runs one case in-process and keeps its directory (points.csv,
//!   outputs) for `build_cells`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{data, root};
use geocells::BoundarySpec;
use geocells::Inputs;
use geocells::LevelSpec;
use geocells::Metric;
use geocells::NoProgress;
use geocells::PIGEON_SETTINGS;
use geocells::PIGEOTTO_SETTINGS;
use geocells::Params;
use geocells::Pipeline;
use geocells::PointsSpec;
use geocells::Run;
use geocells::algorithms::SplitMix64;

/// Check (g): areas of one cell whose points are farther apart than this, and that share no
/// border, count as fused across the sea.
const FAR_KM: f64 = 1000.0;
/// Time limit of one case in the sample and in the full matrix.
const SAMPLE_LIMIT: Duration = Duration::from_secs(90);
const FULL_LIMIT: Duration = Duration::from_secs(300);
/// Time limit of the cases with thousands of points at one location (they hang today).
const HEAVY_LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// The axes of the matrix.

/// Boundary sets: which files at which levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bounds {
    /// Three real Louisiana parishes overlapping each other (2.95e-5 deg²), admin-2, in their
    /// source's column names.
    Louisiana3,
    /// All 64 Louisiana parishes, three of them overlapping: admin-2 only.
    LaParishes,
    /// Arkansas, Louisiana, Mississippi: admin-1 only.
    GulfAdmin1,
    /// The three levels: the states' union as a country, the states, Louisiana's parishes.
    GulfAll,
    /// Belgium + Luxembourg admin-1 as in Natural Earth (the control: no defect).
    Belux,
    /// ... with one province buffered 0.02° over its neighbours.
    BeluxOverlap,
    /// ... every area shrunk 0.003° on its own (gaps).
    BeluxGaps,
    /// ... every area simplified on its own (slivers: thin gaps and overlaps).
    BeluxSlivers,
    /// ... with a 20 m wide area along the BEL-LUX border.
    BeluxSliverArea,
    /// ... with Brussels twice (same code).
    BeluxDuplicate,
    /// Maldives, Bahamas, Fiji, Kiribati, Bonaire: countries that are only (tiny) islands.
    Islands,
    /// Armenia + Azerbaijan with the Nakhchivan exclave.
    ArmAze,
    /// Northern Angola with the Cabinda exclave + Bas-Congo and Kinshasa (DR Congo).
    AgoCod,
    /// France's five overseas départements + Paris and its three neighbours.
    France,
    /// Chile's Coquimbo and Valparaíso (with Easter Island).
    Chile,
    /// The shipped world admin-1 alone.
    WorldAdmin1,
    /// The shipped US counties alone.
    WorldAdmin2,
    /// The shipped three levels (the default run's boundaries).
    WorldAll,
}

const REGIONS: [Bounds; 15] = [
    Bounds::Louisiana3,
    Bounds::LaParishes,
    Bounds::GulfAdmin1,
    Bounds::GulfAll,
    Bounds::Belux,
    Bounds::BeluxOverlap,
    Bounds::BeluxGaps,
    Bounds::BeluxSlivers,
    Bounds::BeluxSliverArea,
    Bounds::BeluxDuplicate,
    Bounds::Islands,
    Bounds::ArmAze,
    Bounds::AgoCod,
    Bounds::France,
    Bounds::Chile,
];
const WORLDS: [Bounds; 3] = [Bounds::WorldAdmin1, Bounds::WorldAdmin2, Bounds::WorldAll];

fn fixture(name: &str) -> PathBuf {
    data("fixtures/matrix").join(name)
}

/// Places for the world runs: subsets of countries on several continents.
const WORLD_PLACES: [&str; 5] = [
    "belux_geonames.csv",
    "armenia_azerbaijan_geonames_no_nakhchivan.csv",
    "island_countries_geonames.csv",
    "france_overseas_geonames.csv",
    "gulf_geonames.csv",
];

impl Bounds {
    fn name(self) -> &'static str {
        match self {
            Bounds::Louisiana3 => "louisiana3",
            Bounds::LaParishes => "la_parishes",
            Bounds::GulfAdmin1 => "gulf_admin1",
            Bounds::GulfAll => "gulf_all_levels",
            Bounds::Belux => "belux",
            Bounds::BeluxOverlap => "belux_overlap",
            Bounds::BeluxGaps => "belux_gaps",
            Bounds::BeluxSlivers => "belux_slivers",
            Bounds::BeluxSliverArea => "belux_sliver_area",
            Bounds::BeluxDuplicate => "belux_duplicate",
            Bounds::Islands => "islands",
            Bounds::ArmAze => "arm_aze",
            Bounds::AgoCod => "ago_cod",
            Bounds::France => "france",
            Bounds::Chile => "chile",
            Bounds::WorldAdmin1 => "world_admin1",
            Bounds::WorldAdmin2 => "world_admin2",
            Bounds::WorldAll => "world_all_levels",
        }
    }

    fn spec(self) -> BoundarySpec {
        let admin1 = |f: &str| BoundarySpec {
            admin1: Some(LevelSpec::admin1(fixture(f))),
            ..Default::default()
        };
        match self {
            Bounds::Louisiana3 => BoundarySpec {
                admin2: Some(
                    LevelSpec::admin2(fixture("louisiana_overlap.geojson"))
                        .code_column("geoid")
                        .name_column("admin2")
                        .admin1_code_column(Some("admin1".into()))
                        .admin1_name_column(Some("admin1".into()))
                        .country_code_column(Some("country".into()))
                        .country_name_column(Some("country".into())),
                ),
                ..Default::default()
            },
            Bounds::LaParishes => BoundarySpec {
                admin2: Some(LevelSpec::admin2(fixture(
                    "louisiana_parishes_overlap.geojson",
                ))),
                ..Default::default()
            },
            Bounds::GulfAdmin1 => admin1("gulf_states_admin1.geojson"),
            Bounds::GulfAll => BoundarySpec {
                country: Some(LevelSpec::country(fixture("gulf_country_admin0.geojson"))),
                admin1: Some(LevelSpec::admin1(fixture("gulf_states_admin1.geojson"))),
                admin2: Some(LevelSpec::admin2(fixture(
                    "louisiana_parishes_overlap.geojson",
                ))),
            },
            Bounds::Belux => admin1("belux_admin1.geojson"),
            Bounds::BeluxOverlap => admin1("belux_overlap_buffered.geojson"),
            Bounds::BeluxGaps => admin1("belux_gaps_shrunk.geojson"),
            Bounds::BeluxSlivers => admin1("belux_slivers_simplified.geojson"),
            Bounds::BeluxSliverArea => admin1("belux_sliver_area.geojson"),
            Bounds::BeluxDuplicate => admin1("belux_duplicate_feature.geojson"),
            Bounds::Islands => admin1("island_countries.geojson"),
            Bounds::ArmAze => admin1("armenia_azerbaijan.geojson"),
            Bounds::AgoCod => admin1("angola_drc_cabinda.geojson"),
            Bounds::France => admin1("france_overseas.geojson"),
            Bounds::Chile => admin1("chile_coquimbo_valparaiso.geojson"),
            Bounds::WorldAdmin1 => BoundarySpec {
                admin1: Some(LevelSpec::admin1(data("admin1_world.parquet"))),
                ..Default::default()
            },
            Bounds::WorldAdmin2 => BoundarySpec {
                admin2: Some(LevelSpec::admin2(data("admin2_us.parquet"))),
                ..Default::default()
            },
            Bounds::WorldAll => Inputs::default_data(root()).boundaries,
        }
    }

    /// The GeoNames places for this boundary set (fixture CSVs).
    fn places(self) -> Vec<&'static str> {
        match self {
            Bounds::Louisiana3 => vec!["louisiana_overlap_geonames.csv"],
            Bounds::LaParishes | Bounds::GulfAdmin1 | Bounds::GulfAll => {
                vec!["gulf_geonames.csv"]
            }
            Bounds::Belux
            | Bounds::BeluxOverlap
            | Bounds::BeluxGaps
            | Bounds::BeluxSlivers
            | Bounds::BeluxSliverArea
            | Bounds::BeluxDuplicate => vec!["belux_geonames.csv"],
            Bounds::Islands => vec!["island_countries_geonames.csv"],
            Bounds::ArmAze => vec!["armenia_azerbaijan_geonames.csv"],
            Bounds::AgoCod => vec!["angola_drc_geonames.csv"],
            Bounds::France => vec!["france_overseas_geonames.csv"],
            Bounds::Chile => vec!["chile_coquimbo_valparaiso_geonames.csv"],
            Bounds::WorldAdmin1 | Bounds::WorldAdmin2 | Bounds::WorldAll => WORLD_PLACES.to_vec(),
        }
    }

    /// The places without any in the exclave, for the boundary sets that have one.
    fn places_without_exclave(self) -> Option<&'static str> {
        match self {
            Bounds::ArmAze => Some("armenia_azerbaijan_geonames_no_nakhchivan.csv"),
            Bounds::AgoCod => Some("angola_drc_geonames_no_cabinda.csv"),
            _ => None,
        }
    }

    /// Vertices shared by two neighbours (points exactly on a border), if the fixtures have
    /// them for this region.
    fn border_vertices(self) -> Option<&'static str> {
        match self {
            Bounds::Louisiana3 | Bounds::LaParishes | Bounds::GulfAll | Bounds::WorldAdmin2 => {
                Some("louisiana_border_vertices.csv")
            }
            Bounds::Belux
            | Bounds::BeluxOverlap
            | Bounds::BeluxGaps
            | Bounds::BeluxSlivers
            | Bounds::BeluxSliverArea
            | Bounds::BeluxDuplicate
            | Bounds::WorldAdmin1
            | Bounds::WorldAll => Some("belux_border_vertices.csv"),
            Bounds::ArmAze => Some("armenia_azerbaijan_border_vertices.csv"),
            _ => None,
        }
    }
}

/// Point sets, built from the boundary set's places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PointSet {
    /// The GeoNames places near the boundaries.
    Places,
    /// The places, none in the exclave.
    PlacesNoExclave,
    /// The places + shared-border vertices (each 3 times) + points at ±180, ±90 and at sea.
    Edges,
    /// The places, one of them (seeded) repeated `hot` times more, and a seeded 30 % of the
    /// places 2 to 10 times each; rows shuffled.
    Duplicates { hot: usize },
    /// `n` copies of one (seeded) place.
    OneLocation { n: usize },
}

impl PointSet {
    fn name(self) -> String {
        match self {
            PointSet::Places => "places".into(),
            PointSet::PlacesNoExclave => "places_no_exclave".into(),
            PointSet::Edges => "edges".into(),
            PointSet::Duplicates { hot } => format!("dups{hot}"),
            PointSet::OneLocation { n } => format!("oneloc{n}"),
        }
    }
    fn seeded(self) -> bool {
        matches!(
            self,
            PointSet::Duplicates { .. } | PointSet::OneLocation { .. }
        )
    }
}

/// Split settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preset {
    /// MINSIZE 5, MAX 10, PIGEON's OPTICS settings.
    Tiny,
    /// The `pigeon` preset: 30 / 60.
    Pigeon,
    /// 30 / 60 with PIGEOTTO's OPTICS settings (min_samples far above the cell sizes).
    PigeottoOptics,
    /// 10 / 25, OPTICS (5, 0.05), (8, 0.02) on raw degrees.
    Degrees,
}

const PRESETS: [Preset; 4] = [
    Preset::Tiny,
    Preset::Pigeon,
    Preset::PigeottoOptics,
    Preset::Degrees,
];

impl Preset {
    fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Pigeon => "pigeon",
            Preset::PigeottoOptics => "pigeotto_optics",
            Preset::Degrees => "degrees",
        }
    }
    fn params(self) -> Params {
        match self {
            Preset::Tiny => Params::default()
                .min_size(5)
                .max_size(10)
                .optics(PIGEON_SETTINGS.to_vec()),
            Preset::Pigeon => Params::preset("pigeon").expect("preset"),
            Preset::PigeottoOptics => Params::default()
                .min_size(30)
                .max_size(60)
                .optics(PIGEOTTO_SETTINGS.to_vec()),
            Preset::Degrees => Params::default()
                .min_size(10)
                .max_size(25)
                .optics(vec![(5, 0.05), (8, 0.02)])
                .metric(Metric::Degrees),
        }
    }
}

/// One run of the matrix.
#[derive(Debug, Clone)]
struct Case {
    bounds: Bounds,
    points: PointSet,
    preset: Preset,
    seed: u64,
    /// Also check (e): byte-identical outputs at 1 and 2 threads.
    threads: bool,
}

impl Case {
    /// Thousands of points at one location.
    fn heavy(&self) -> bool {
        matches!(
            self.points,
            PointSet::Duplicates { hot: 1000.. } | PointSet::OneLocation { n: 1000.. }
        )
    }

    fn name(&self) -> String {
        let mut s = format!(
            "{}/{}/{}",
            self.bounds.name(),
            self.points.name(),
            self.preset.name()
        );
        if self.points.seeded() {
            let _ = write!(s, "/s{}", self.seed);
        }
        s
    }

    /// Writes the case's points to `dir/points.csv`; returns the inputs and the row count.
    fn inputs(&self, dir: &Path) -> (Inputs, usize) {
        let read = |f: &str| read_lonlat(&fixture(f));
        let places =
            || -> Vec<(f64, f64)> { self.bounds.places().into_iter().flat_map(&read).collect() };
        let mut rng = SplitMix64::new(self.seed);
        // The place repeated by the seeded sets: one inside an admin area, so that the
        // repeated points are labelled, not rejected.
        let hot = |base: &[(f64, f64)], rng: &mut SplitMix64| -> (f64, f64) {
            let areas = geocells::stages::build_areas(&self.bounds.spec())
                .expect("areas")
                .areas;
            let index = geocells::stages::AreaIndex::new(&areas);
            let inside: Vec<(f64, f64)> = base
                .iter()
                .copied()
                .filter(|&(x, y)| index.containing(x, y).is_some())
                .collect();
            inside[(rng.next_u64() % inside.len() as u64) as usize]
        };
        let pts: Vec<(f64, f64)> = match self.points {
            PointSet::Places => places(),
            PointSet::PlacesNoExclave => read(
                self.bounds
                    .places_without_exclave()
                    .expect("a boundary set with an exclave"),
            ),
            PointSet::Edges => {
                let mut p = places();
                if let Some(f) = self.bounds.border_vertices() {
                    for v in read(f) {
                        p.extend([v, v, v]);
                    }
                }
                p.extend(read("extremes.csv"));
                p
            }
            PointSet::Duplicates { hot: n } => {
                let base = places();
                let mut p = base.clone();
                let h = hot(&base, &mut rng);
                p.extend(std::iter::repeat_n(h, n));
                for &q in &base {
                    if rng.next_f64() < 0.3 {
                        let extra = 1 + (rng.next_u64() % 9) as usize;
                        p.extend(std::iter::repeat_n(q, extra));
                    }
                }
                shuffle(&mut p, &mut rng);
                p
            }
            PointSet::OneLocation { n } => {
                let base = places();
                vec![hot(&base, &mut rng); n]
            }
        };
        let mut csv = String::from("id,lon,lat\n");
        for (i, (x, y)) in pts.iter().enumerate() {
            let _ = writeln!(csv, "{i},{x},{y}");
        }
        let path = dir.join("points.csv");
        std::fs::write(&path, csv).expect("write points");
        (
            Inputs {
                points: PointsSpec::new(path),
                boundaries: self.bounds.spec(),
            },
            pts.len(),
        )
    }
}

/// `lon,lat` of a fixture CSV with columns `id,lon,lat` (parsed exactly).
fn read_lonlat(path: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (see data/fixtures/README.md)", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,lon,lat"), "{}", path.display());
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse().expect("lon"), f[2].parse().expect("lat"))
        })
        .collect()
}

fn shuffle<T>(v: &mut [T], rng: &mut SplitMix64) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Every case of the full matrix.
fn full_matrix() -> Vec<Case> {
    let mut cases = Vec::new();
    let case = |bounds, points, preset, seed| Case {
        bounds,
        points,
        preset,
        seed,
        threads: matches!(preset, Preset::Tiny | Preset::Pigeon) && seed <= 1,
    };
    for b in REGIONS {
        let mut sets = vec![(PointSet::Places, 0), (PointSet::Edges, 0)];
        if b.places_without_exclave().is_some() {
            sets.push((PointSet::PlacesNoExclave, 0));
        }
        for seed in [1, 2] {
            sets.push((PointSet::Duplicates { hot: 300 }, seed));
            sets.push((PointSet::OneLocation { n: 200 }, seed));
        }
        for p in PRESETS {
            for &(s, seed) in &sets {
                cases.push(case(b, s, p, seed));
            }
        }
    }
    for b in WORLDS {
        for p in [Preset::Tiny, Preset::Pigeon] {
            for s in [PointSet::Places, PointSet::Edges] {
                let mut c = case(b, s, p, 0);
                // The world at 1 and 2 threads is also in tests/pipeline.rs; once here.
                c.threads = b == Bounds::WorldAll && s == PointSet::Edges && p == Preset::Tiny;
                cases.push(c);
            }
        }
    }
    // Many photos at one location (issue 11: they can make the split hang). These run under
    // HEAVY_LIMIT, none is in the sample. Today (2 threads, machine shared) one place 1,000
    // times took 30-55 s, 2,000 and 5,000 times more than 120 s (belux/*5000/tiny/s1 also more
    // than 300 s): see tests/fixtures/matrix_known_failures.txt.
    for (b, p, sizes) in [
        (Bounds::Belux, Preset::Tiny, &[1000, 2000, 5000][..]),
        (Bounds::LaParishes, Preset::Pigeon, &[5000][..]),
        (Bounds::Islands, Preset::Pigeon, &[5000][..]),
    ] {
        for &n in sizes {
            for set in [PointSet::Duplicates { hot: n }, PointSet::OneLocation { n }] {
                let mut c = case(b, set, p, 1);
                c.threads = false; // twice the time of a case that is slow already
                cases.push(c);
            }
        }
    }
    cases
}

/// The sample the default `cargo test` runs (and so CI): every boundary set, level, defect,
/// point set and preset at least once, the thread check on six of them.
const SAMPLE: [&str; 30] = [
    "louisiana3/places/tiny",
    "louisiana3/edges/pigeon",
    "la_parishes/places/tiny",
    "la_parishes/dups300/tiny/s1",
    "gulf_admin1/places/pigeon",
    "gulf_all_levels/places/tiny",
    "gulf_all_levels/edges/degrees",
    "belux/places/tiny",
    "belux/edges/pigeon",
    "belux/dups300/pigeon/s1",
    "belux/oneloc200/tiny/s2",
    "belux_overlap/places/tiny",
    "belux_gaps/places/pigeon",
    "belux_gaps/edges/tiny",
    "belux_slivers/places/tiny",
    "belux_slivers/edges/degrees",
    "belux_sliver_area/edges/tiny",
    "belux_duplicate/places/tiny",
    "islands/places/tiny",
    "islands/edges/pigeon",
    "islands/dups300/tiny/s2",
    "arm_aze/places_no_exclave/tiny",
    "arm_aze/places/pigeon",
    "arm_aze/edges/pigeotto_optics",
    "ago_cod/places_no_exclave/tiny",
    "france/places/pigeon",
    "france/dups300/degrees/s1",
    "chile/places/tiny",
    "chile/oneloc200/pigeotto_optics/s1",
    "world_all_levels/places/pigeon",
];

// ---------------------------------------------------------------------------------------------
// Running one case and its checks.

/// A check that failed: its letter and what was found.
#[derive(Debug, Clone)]
struct Failure {
    check: char,
    message: String,
}

fn fail(out: &mut Vec<Failure>, check: char, message: String) {
    out.push(Failure { check, message });
}

/// At most `n` characters of `s`.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let head: String = s.chars().take(n).collect();
        format!("{head}... ({} chars)", s.chars().count())
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| {
            p.downcast_ref::<&str>()
                .map(std::string::ToString::to_string)
        })
        .unwrap_or_else(|| "(no message)".into())
}

/// Runs the pipeline on a pool of `threads` threads; (a) failures as text.
fn run_at(inputs: &Inputs, params: &Params, threads: usize) -> Result<Run, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(|| {
        catch_unwind(AssertUnwindSafe(|| {
            Pipeline::new(params.clone())
                .and_then(|p| p.run(inputs, &NoProgress))
                .map_err(|e| format!("the run failed: {e}"))
        }))
        .unwrap_or_else(|p| Err(format!("the run panicked: {}", panic_message(&*p))))
    })
}

/// Whether some subset of `counts` sums into `[lo, hi]`.
fn subset_sum_in(counts: &[usize], lo: usize, hi: usize) -> Option<usize> {
    if lo > hi {
        return None;
    }
    let mut reach = vec![false; hi + 1];
    reach[0] = true;
    for &c in counts {
        for s in (c..=hi).rev() {
            if reach[s - c] {
                reach[s] = true;
            }
        }
    }
    (lo..=hi).find(|&s| reach[s])
}

/// The location of a point as a key (0.0 and -0.0 are one location).
fn loc_key(lon: f64, lat: f64) -> (u64, u64) {
    ((lon + 0.0).to_bits(), (lat + 0.0).to_bits())
}

/// What the checks read of a run: the run, and copies of its point cells, cells and areas
/// that the checker's own test changes by hand (a run's parts are read-only).
struct RunView<'a> {
    run: &'a Run,
    point_cells: geocells::PointCells,
    cells: Vec<geocells::Cell>,
    areas: Vec<geocells::Area>,
}

impl<'a> RunView<'a> {
    fn new(run: &'a Run) -> Self {
        Self {
            run,
            point_cells: run.point_cells().clone(),
            cells: run.cells().cells().to_vec(),
            areas: run.areas().areas.clone(),
        }
    }
}

/// Checks (b), (c), (d), (f), (g) on a run.
fn check_run(view: &RunView<'_>, rows: usize, out: &mut Vec<Failure>) {
    let run = view.run;
    const SHOWN: usize = 4;
    // (b)
    let t = Instant::now();
    if let Err(e) = run.validate() {
        fail(out, 'b', format!("validate: {}", clip(&e.to_string(), 700)));
    }
    println!("MATRIX-TIMINGS validate {:.2}", t.elapsed().as_secs_f64());
    let t = Instant::now();
    // (c)
    let l = &view.point_cells;
    if run.input_rows() != rows {
        fail(
            out,
            'c',
            format!("input_rows {} but the file has {rows}", run.input_rows()),
        );
    }
    if l.points.len() + run.rejects().len() != rows {
        fail(
            out,
            'c',
            format!(
                "{} labelled + {} rejected != {rows} rows",
                l.points.len(),
                run.rejects().len()
            ),
        );
    }
    let mut seen = vec![0u32; rows];
    for r in l
        .points
        .rows
        .iter()
        .chain(run.rejects().iter().map(|r| &r.row))
    {
        match seen.get_mut(*r as usize) {
            Some(s) => *s += 1,
            None => fail(out, 'c', format!("row {r} does not exist")),
        }
    }
    let lost: Vec<usize> = (0..rows).filter(|&r| seen[r] == 0).collect();
    let twice: Vec<usize> = (0..rows).filter(|&r| seen[r] > 1).collect();
    if !lost.is_empty() || !twice.is_empty() {
        fail(
            out,
            'c',
            format!(
                "{} rows lost (first {:?}), {} rows labelled or rejected twice (first {:?})",
                lost.len(),
                &lost[..lost.len().min(5)],
                twice.len(),
                &twice[..twice.len().min(5)]
            ),
        );
    }
    // (d)
    let (min, max) = (run.params().min_size(), run.params().max_size());
    let cells = &view.cells;
    let mut per_cell: Vec<Vec<usize>> = vec![Vec::new(); cells.len()];
    for (i, &c) in l.cell.iter().enumerate() {
        match per_cell.get_mut(c as usize) {
            Some(v) => v.push(i),
            None => fail(
                out,
                'c',
                format!("point {i} is labelled with cell {c}, which does not exist"),
            ),
        }
    }
    let mut d = Vec::new();
    for c in cells.iter().filter(|c| c.size > max) {
        let listed = run.split().and_then(|s| {
            s.left_above_max
                .iter()
                .find(|x| x.cell_id == c.id)
                .map(|x| x.reason)
        });
        let mut at: BTreeMap<(u64, u64), usize> = BTreeMap::new();
        for &i in &per_cell[c.id as usize] {
            *at.entry(loc_key(l.points.lon[i], l.points.lat[i]))
                .or_default() += 1;
        }
        let counts: Vec<usize> = at.values().copied().collect();
        let n: usize = counts.iter().sum();
        let largest = counts.iter().max().copied().unwrap_or(0);
        match (listed, subset_sum_in(&counts, min, n.saturating_sub(min))) {
            (None, _) => d.push(format!(
                "cell {} '{}' has {} points > MAX {max} and is not in left_above_max",
                c.id, c.name, c.size
            )),
            (Some(reason), Some(s)) => d.push(format!(
                "cell {} '{}' has {} points > MAX {max} (reason {reason:?}) but is splittable: \
                 {} locations (largest {largest} points), a subset of them holds {s} points, \
                 within [{min}, {}]",
                c.id,
                c.name,
                c.size,
                counts.len(),
                n - min
            )),
            (Some(_), None) => {}
        }
    }
    report_list(out, 'd', d, SHOWN);
    println!("MATRIX-TIMINGS c+d {:.2}", t.elapsed().as_secs_f64());
    let t = Instant::now();
    // (f)
    let areas = &view.areas;
    let country = |i: usize| areas[l.area[i] as usize].country_code.as_str();
    let with_points: BTreeSet<&str> = (0..l.points.len()).map(country).collect();
    let mut f = Vec::new();
    let mut families_seen = BTreeSet::new();
    for c in cells {
        let here: BTreeSet<&str> = per_cell[c.id as usize]
            .iter()
            .map(|&i| country(i))
            .collect();
        if here.len() > 1 {
            f.push(format!(
                "cell {} '{}' holds points of {} countries: {here:?}",
                c.id,
                c.name,
                here.len()
            ));
        }
        // Cells of one family share its areas: report each family once.
        if !families_seen.insert(c.family) {
            continue;
        }
        let foreign: Vec<String> = c
            .areas
            .iter()
            .map(|&a| &areas[a as usize])
            .filter(|a| {
                a.country_code != c.country_code && with_points.contains(a.country_code.as_str())
            })
            .map(|a| format!("{} {} ({})", a.code, a.name, a.country_code))
            .collect();
        if !foreign.is_empty() {
            f.push(format!(
                "cell {} '{}' ({}) holds {} admin area(s) of other countries that have cells \
                 of their own: {}",
                c.id,
                c.name,
                c.country_code,
                foreign.len(),
                foreign[..foreign.len().min(3)].join(", ")
            ));
        }
    }
    report_list(out, 'f', f, SHOWN);
    println!("MATRIX-TIMINGS f {:.2}", t.elapsed().as_secs_f64());
    let t = Instant::now();
    // (g)
    let graph = geocells::stages::Adjacency::build(areas);
    let mut g = Vec::new();
    for c in cells {
        let mut by_area: BTreeMap<u32, BTreeSet<(u64, u64)>> = BTreeMap::new();
        for &i in &per_cell[c.id as usize] {
            by_area
                .entry(l.area[i])
                .or_default()
                .insert(loc_key(l.points.lon[i], l.points.lat[i]));
        }
        if by_area.len() < 2 {
            continue;
        }
        let keys: Vec<u32> = by_area.keys().copied().collect();
        let locs: Vec<Vec<(f64, f64)>> = by_area
            .values()
            .map(|s| {
                s.iter()
                    .map(|&(x, y)| (f64::from_bits(x), f64::from_bits(y)))
                    .collect()
            })
            .collect();
        let mut comp: Vec<usize> = (0..keys.len()).collect();
        let find = |comp: &Vec<usize>, mut x: usize| {
            while comp[x] != x {
                x = comp[x];
            }
            x
        };
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                let near = graph.border_km(keys[i], keys[j]) > 0.0
                    || locs[i].iter().any(|&p| {
                        locs[j]
                            .iter()
                            .any(|&q| geocells::algorithms::haversine_km(p, q) <= FAR_KM)
                    });
                if near {
                    let (a, b) = (find(&comp, i), find(&comp, j));
                    comp[a.max(b)] = a.min(b);
                }
            }
        }
        let groups: BTreeSet<usize> = (0..keys.len()).map(|i| find(&comp, i)).collect();
        if groups.len() > 1 {
            let names: Vec<String> = groups
                .iter()
                .map(|&r| {
                    (0..keys.len())
                        .filter(|&i| find(&comp, i) == r)
                        .map(|i| areas[keys[i] as usize].name.clone())
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .collect();
            g.push(format!(
                "cell {} '{}' joins areas more than {FAR_KM} km apart with no shared border: {}",
                c.id,
                c.name,
                names.join(" | ")
            ));
        }
    }
    report_list(out, 'g', g, SHOWN);
    println!("MATRIX-TIMINGS g {:.2}", t.elapsed().as_secs_f64());
}

fn report_list(out: &mut Vec<Failure>, check: char, list: Vec<String>, shown: usize) {
    if list.is_empty() {
        return;
    }
    let mut m = list[..list.len().min(shown)].join("; ");
    if list.len() > shown {
        let _ = write!(m, "; and {} more", list.len() - shown);
    }
    fail(out, check, m);
}

/// The files of an output directory, by name.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let mut bytes = std::fs::read(&p).expect("read");
        if name == "report.json" {
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            v.as_object_mut().expect("object").remove("timings_s");
            bytes = v.to_string().into_bytes();
        }
        m.insert(name, bytes);
    }
    m
}

/// Runs one case with every check; returns the failures and a one-line summary.
fn check_case(case: &Case, dir: &Path) -> (Vec<Failure>, String) {
    let mut out = Vec::new();
    let (inputs, rows) = case.inputs(dir);
    let params = case.preset.params();
    let t = Instant::now();
    let run = run_at(&inputs, &params, 2);
    let run_s = t.elapsed().as_secs_f64();
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            fail(&mut out, 'a', clip(&e, 700));
            return (out, format!("rows={rows}"));
        }
    };
    let t = Instant::now();
    check_run(&RunView::new(&run), rows, &mut out);
    let checks_s = t.elapsed().as_secs_f64();
    println!(
        "MATRIX-TIMINGS {}",
        run.timings()
            .iter()
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let summary = format!(
        "rows={rows} labelled={} rejected={} areas={} cells={} above_max={} below_min={} \
         run_s={run_s:.1} checks_s={checks_s:.1}",
        run.point_cells().points.len(),
        run.rejects().len(),
        run.areas().areas.len(),
        run.cells().len(),
        run.above_max(),
        run.cells()
            .cells()
            .iter()
            .filter(|c| c.size < params.split.min_size)
            .count()
    );
    if case.threads {
        let two = dir.join("out2");
        std::fs::create_dir_all(&two).expect("mkdir");
        if let Err(e) = geocells::write_all(&run, &two) {
            fail(&mut out, 'e', format!("writing the outputs failed: {e}"));
            return (out, summary);
        }
        drop(run);
        match run_at(&inputs, &params, 1) {
            Err(e) => fail(&mut out, 'e', format!("at 1 thread: {}", clip(&e, 500))),
            Ok(one_run) => {
                let one = dir.join("out1");
                std::fs::create_dir_all(&one).expect("mkdir");
                if let Err(e) = geocells::write_all(&one_run, &one) {
                    fail(&mut out, 'e', format!("writing at 1 thread failed: {e}"));
                } else {
                    let (a, b) = (outputs(&one), outputs(&two));
                    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                    let differ: Vec<&str> = names
                        .into_iter()
                        .filter(|n| a.get(*n) != b.get(*n))
                        .map(std::string::String::as_str)
                        .collect();
                    if !differ.is_empty() {
                        fail(
                            &mut out,
                            'e',
                            format!("outputs differ between 1 and 2 threads: {differ:?}"),
                        );
                    }
                }
            }
        }
    }
    (out, summary)
}

// ---------------------------------------------------------------------------------------------
// The child process side.

const CASE_ENV: &str = "GEOCELLS_MATRIX_CASE";
/// Set by the matrix tests for the cases they start.
const CHILD_ENV: &str = "GEOCELLS_MATRIX_CHILD";

/// The working directory of case `name` in process `pid`.
fn case_dir(pid: u32, name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("geocells-matrix-{pid}-{}", name.replace('/', "-")))
}

/// Runs the case named by `GEOCELLS_MATRIX_CASE` in this process (the matrix tests start it as
/// a child). Prints `MATRIX-FAIL <check> <message>` per failed check and `MATRIX-SUMMARY`, and
/// panics if a check failed.
#[test]
#[ignore = "runs the one case named by GEOCELLS_MATRIX_CASE; the matrix tests call it"]
fn matrix_case() {
    let Ok(name) = std::env::var(CASE_ENV) else {
        eprintln!("{CASE_ENV} is not set: nothing to run");
        return;
    };
    let case = full_matrix()
        .into_iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no case named {name}"));
    let dir = case_dir(std::process::id(), &name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let start = Instant::now();
    let (failures, summary) = check_case(&case, &dir);
    println!(
        "MATRIX-SUMMARY {summary} secs={:.1}",
        start.elapsed().as_secs_f64()
    );
    for f in &failures {
        println!("MATRIX-FAIL {} {}", f.check, f.message.replace('\n', " "));
    }
    // Run by hand, a failing case keeps its directory (points.csv, outputs) for a closer look;
    // run by the matrix tests, only with GEOCELLS_MATRIX_KEEP set.
    let keep = std::env::var_os("GEOCELLS_MATRIX_KEEP").is_some()
        || (!failures.is_empty() && std::env::var_os(CHILD_ENV).is_none());
    if keep {
        println!("MATRIX-DIR {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{} check(s) failed", failures.len());
}

// ---------------------------------------------------------------------------------------------
// The parent side: run cases in child processes, compare with the known failures.

/// What happened to a case.
struct Outcome {
    failures: Vec<Failure>,
    summary: String,
    secs: f64,
}

impl Outcome {
    fn checks(&self) -> String {
        let s: BTreeSet<char> = self.failures.iter().map(|f| f.check).collect();
        s.into_iter().collect()
    }
}

fn run_child(name: &str, limit: Duration) -> Outcome {
    let start = Instant::now();
    let log = std::env::temp_dir().join(format!(
        "geocells-matrix-{}-{}.log",
        std::process::id(),
        name.replace('/', "-")
    ));
    let file = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "matrix_case",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_ENV, name)
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("clone"))
        .stderr(file)
        .spawn()
        .expect("start the case");
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let secs = start.elapsed().as_secs_f64();
    if std::env::var_os("GEOCELLS_MATRIX_KEEP").is_none() {
        // The child's directory, left behind when it was killed.
        let _ = std::fs::remove_dir_all(case_dir(child.id(), name));
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let mut failures = Vec::new();
    let mut summary = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("MATRIX-FAIL ") {
            let mut it = rest.splitn(2, ' ');
            let check = it.next().and_then(|c| c.chars().next()).unwrap_or('?');
            fail(&mut failures, check, it.next().unwrap_or("").to_string());
        } else if let Some(rest) = line.strip_prefix("MATRIX-SUMMARY ") {
            summary = rest.to_string();
        }
    }
    match status {
        None => fail(
            &mut failures,
            'a',
            format!("did not finish within {} s (killed)", limit.as_secs()),
        ),
        Some(s) if !s.success() && failures.is_empty() => {
            let why = text
                .lines()
                .skip_while(|l| !l.contains("panicked at"))
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            fail(
                &mut failures,
                'a',
                format!("the case crashed ({s}): {}", clip(&why, 500)),
            );
        }
        Some(_) => {}
    }
    Outcome {
        failures,
        summary,
        secs,
    }
}

/// `case -> failed checks` from `tests/fixtures/matrix_known_failures.txt` (lines
/// `<case> <checks>`, `#` comments).
fn known_failures() -> BTreeMap<String, String> {
    let path = root().join("geocells/tests/fixtures/matrix_known_failures.txt");
    let text = std::fs::read_to_string(&path).expect("known failures file");
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next().expect("case").to_string();
            let checks = it.next().expect("checks").to_string();
            (name, checks)
        })
        .collect()
}

/// Runs `names` one after the other, prints a line per case, and panics listing every case
/// whose failed checks differ from the known failures.
fn run_matrix(cases: &[Case], limit: Duration) {
    let strict = std::env::var_os("GEOCELLS_MATRIX_STRICT").is_some();
    let known = if strict {
        BTreeMap::new()
    } else {
        known_failures()
    };
    let all: BTreeSet<String> = full_matrix().iter().map(Case::name).collect();
    for k in known.keys() {
        assert!(
            all.contains(k),
            "known failure {k} is not a case of the matrix"
        );
    }
    let start = Instant::now();
    let mut unexpected = Vec::new();
    let mut failing = Vec::new();
    for case in cases {
        let name = &case.name();
        let limit = if case.heavy() {
            limit.min(HEAVY_LIMIT)
        } else {
            limit
        };
        let o = run_child(name, limit);
        let expected = known.get(name).cloned().unwrap_or_default();
        let got = o.checks();
        let status = if got.is_empty() { "pass" } else { "FAIL" };
        println!(
            "{status:4} {:6.1}s {name:45} {:8} {}",
            o.secs,
            if got.is_empty() {
                "-".into()
            } else {
                got.clone()
            },
            o.summary
        );
        for f in &o.failures {
            println!("       ({}) {}", f.check, f.message);
        }
        if !got.is_empty() {
            failing.push(format!("{name} {got}"));
        }
        if got != expected {
            unexpected.push(if got.is_empty() {
                format!(
                    "{name}: passes now; remove it from tests/fixtures/matrix_known_failures.txt"
                )
            } else {
                format!(
                    "{name}: failed checks [{got}], known [{expected}] (update its line in \
                     tests/fixtures/matrix_known_failures.txt if that is progress): {}",
                    o.failures
                        .iter()
                        .map(|f| format!("({}) {}", f.check, clip(&f.message, 300)))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            });
        }
    }
    println!(
        "{} cases in {:.0} s; {} failing:\n{}",
        cases.len(),
        start.elapsed().as_secs_f64(),
        failing.len(),
        failing.join("\n")
    );
    assert!(
        unexpected.is_empty(),
        "{} case(s) differ from the known failures:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

/// The sample of the matrix that the default test run (and CI) runs.
#[test]
fn matrix_sample() {
    let all = full_matrix();
    let cases: Vec<Case> = SAMPLE
        .iter()
        .map(|n| {
            all.iter()
                .find(|c| c.name() == *n)
                .unwrap_or_else(|| panic!("sample case {n} is not in the matrix"))
                .clone()
        })
        .collect();
    run_matrix(&cases, SAMPLE_LIMIT);
}

/// Every case of the matrix (`GEOCELLS_MATRIX_FILTER` restricts it to names containing a
/// string).
#[test]
#[ignore = "the full matrix takes a long time; see README (Development)"]
fn matrix_full() {
    let filter = std::env::var("GEOCELLS_MATRIX_FILTER").unwrap_or_default();
    let cases: Vec<Case> = full_matrix()
        .into_iter()
        .filter(|c| c.name().contains(&filter))
        .collect();
    run_matrix(&cases, FULL_LIMIT);
}

#[test]
fn the_subset_sum_check_is_exact() {
    // 3 locations of 40, 40, 40 points: a side of 40 fits in [30, 90].
    assert_eq!(subset_sum_in(&[40, 40, 40], 30, 90), Some(40));
    // 100 + 3 + 2: sums 0, 2, 3, 5, 100, 102, 103, 105; none in [30, 75].
    assert_eq!(subset_sum_in(&[100, 3, 2], 30, 75), None);
    // 20 + 10 = 30 in [30, 40].
    assert_eq!(subset_sum_in(&[25, 10, 20], 30, 40), Some(30));
    assert_eq!(subset_sum_in(&[70], 30, 40), None);
    assert_eq!(subset_sum_in(&[], 0, 0), Some(0));
    // Every case name is unique and the sample is drawn from the matrix.
    let names: Vec<String> = full_matrix().iter().map(Case::name).collect();
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
}

#[test]
fn the_checks_catch_a_doctored_run() {
    // A case that passes today, then broken by hand in three ways the checks must see.
    let case = Case {
        bounds: Bounds::Chile,
        points: PointSet::Places,
        preset: Preset::Tiny,
        seed: 0,
        threads: false,
    };
    let dir = common::temp_dir("matrix-doctored");
    let (inputs, rows) = case.inputs(&dir);
    let run = run_at(&inputs, &case.preset.params(), 2).expect("run");
    let checks = |view: &RunView<'_>| {
        let mut out = Vec::new();
        check_run(view, rows, &mut out);
        out.iter().map(|f| f.check).collect::<String>()
    };
    assert_eq!(checks(&RunView::new(&run)), "");
    assert!(run.cells().len() >= 2 && run.areas().areas.len() == 2);
    // (c) a row lost.
    let mut lost = RunView::new(&run);
    lost.point_cells.points.rows[0] = lost.point_cells.points.rows[1];
    assert!(checks(&lost).contains('c'));
    // (d) a cell above MAX that the split report does not list.
    let mut big = RunView::new(&run);
    big.cells[0].size = run.params().max_size() + 1;
    assert!(checks(&big).contains('d'));
    // (f) one point of the cell moved to an area of another country.
    let mut mixed = RunView::new(&run);
    let other = 1 - mixed.point_cells.area[0];
    mixed.point_cells.area[0] = other;
    mixed.areas[other as usize].country_code = "ZZZ".into();
    assert!(checks(&mixed).contains('f'));
    let _ = std::fs::remove_dir_all(dir);
}
