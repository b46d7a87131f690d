//! `build_cells`: build semantic geocells from training points and admin boundaries.
//!
//! With no arguments it runs on the data shipped in `data/` (GeoNames places, Natural Earth
//! countries and admin-1, US counties) with the `pigeon` preset and writes `out/`.
//!
//! ```text
//! cargo run --release --example build_cells                    # default data -> out/
//! cargo run --release --example build_cells -- --help          # every option
//! cargo run --release --example build_cells -- --points my.parquet --admin1 states.geojson \
//!     --no-admin0 --no-admin2 --preset pigeotto --out cells/
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use geocells::BoundarySpec;
use geocells::Inputs;
use geocells::LevelSpec;
use geocells::Metric;
use geocells::Params;
use geocells::Pipeline;
use geocells::PointsSpec;
use geocells::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Build semantic geocells (PIGEON-style admin cells fused to MINSIZE, then split to MAX by
/// OPTICS clusters carved out as Voronoi regions) from a
/// geotagged point set and admin boundaries, and write GeoParquet, GeoJSON, per-point labels
/// and a report.
///
/// Every input row ends up either in points.parquet (labelled) or in rejects.parquet (with
/// its reason). Outputs are written atomically and are byte-identical for identical inputs
/// and settings at any thread count (report.json's timings_s excepted).
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Args {
    /// Training points: GeoParquet (WKB point column), or Parquet/CSV with lon/lat columns, or a
    /// directory of Parquet files (a dataset, hive-style folders included), read in path order,
    /// or a directory written by `--write-assigned` (its points are then not assigned again,
    /// and a `--countries` run reads only its countries' partitions).
    #[arg(long, default_value = "data/geonames_cities1000.parquet")]
    points: PathBuf,
    /// Longitude column (default: auto-detect lon, lng, longitude, long, x).
    #[arg(long)]
    lon_col: Option<String>,
    /// Latitude column (default: auto-detect lat, latitude, y).
    #[arg(long)]
    lat_col: Option<String>,
    /// Id column (default: auto-detect id, image_id, img_id, key; else the row number).
    #[arg(long)]
    id_col: Option<String>,

    /// Country boundaries (GeoParquet, GeoJSON or Shapefile with .prj). Column options left out
    /// are detected from the file's column names: geocells' own (country_code, country_name,
    /// admin1_code, ...), GADM (GID_0, COUNTRY, GID_1, NAME_1, ...), geoBoundaries (shapeISO,
    /// shapeName, shapeGroup), Natural Earth (adm1_code, name, adm0_a3, admin), US Census TIGER
    /// (GEOID, NAME, STATEFP) and us-atlas (id, name). A missing name is the code.
    #[arg(long, default_value = "data/admin0_world.parquet")]
    admin0: PathBuf,
    /// Do not use a country level.
    #[arg(long)]
    no_admin0: bool,
    /// Country code column of the country file (default: detect).
    #[arg(long)]
    admin0_code_col: Option<String>,
    /// Country name column of the country file (default: detect).
    #[arg(long)]
    admin0_name_col: Option<String>,

    /// Admin-1 boundaries (states, provinces).
    #[arg(long, default_value = "data/admin1_world.parquet")]
    admin1: PathBuf,
    /// Do not use an admin-1 level.
    #[arg(long)]
    no_admin1: bool,
    /// Admin-1 code column (default: detect).
    #[arg(long)]
    admin1_code_col: Option<String>,
    /// Admin-1 name column (default: detect).
    #[arg(long)]
    admin1_name_col: Option<String>,
    /// Country code column of the admin-1 file (default: detect).
    #[arg(long, alias = "admin1-country-col")]
    admin1_country_code_col: Option<String>,
    /// Country name column of the admin-1 file (default: detect).
    #[arg(long)]
    admin1_country_name_col: Option<String>,
    /// Every admin-1 feature is in this country, CODE or CODE:NAME (replaces country columns;
    /// without it and without a country column or level, areas go to country XXX, "Unknown
    /// country").
    #[arg(long, value_parser = parse_country)]
    admin1_fixed_country: Option<(String, String)>,

    /// Admin-2 boundaries (counties, districts).
    #[arg(long, default_value = "data/admin2_us.parquet")]
    admin2: PathBuf,
    /// Do not use an admin-2 level.
    #[arg(long)]
    no_admin2: bool,
    /// Admin-2 code column (default: detect).
    #[arg(long)]
    admin2_code_col: Option<String>,
    /// Admin-2 name column (default: detect).
    #[arg(long)]
    admin2_name_col: Option<String>,
    /// Admin-1 code column of the admin-2 file, linking a county to its state (default: detect).
    #[arg(long, alias = "admin2-parent-col")]
    admin2_admin1_code_col: Option<String>,
    /// Admin-1 name column of the admin-2 file (default: detect; else the admin-1 level's name,
    /// else the admin-1 code).
    #[arg(long)]
    admin2_admin1_name_col: Option<String>,
    /// Country code column of the admin-2 file (default: detect).
    #[arg(long, alias = "admin2-country-col")]
    admin2_country_code_col: Option<String>,
    /// Country name column of the admin-2 file (default: detect).
    #[arg(long)]
    admin2_country_name_col: Option<String>,
    /// Every admin-2 feature is in this country, CODE or CODE:NAME (replaces country columns).
    #[arg(long, value_parser = parse_country)]
    admin2_fixed_country: Option<(String, String)>,

    /// Preset: pigeon (MINSIZE 30, MAX 60, OPTICS (8,0.05) (10,0.025) (15,0.015)) or pigeotto
    /// (MINSIZE 1000, MAX 2000, OPTICS (300,0.05) (400,0.005) (1000,0.0001)).
    #[arg(long, default_value = "pigeon")]
    preset: String,
    /// OPTICS settings of the split, overriding the preset: MIN_SAMPLES:XI pairs applied in
    /// order, e.g. `--optics 8:0.05 --optics 10:0.025`.
    #[arg(long, value_parser = parse_setting)]
    optics: Vec<(usize, f64)>,
    /// OPTICS distance: sphere (chord km, default) or degrees (raw lon/lat, as PIGEON).
    #[arg(long, default_value = "sphere", value_parser = ["sphere", "degrees"])]
    metric: String,
    /// Do not split cells above MAX (admin cells and fuse only).
    #[arg(long)]
    no_split: bool,
    /// Leave cells that no OPTICS setting splits above MAX (PIGEON's behaviour) instead of
    /// bisecting them.
    #[arg(long)]
    no_fallback: bool,
    /// Check the partition's invariants after every carve (slow; for debugging).
    #[arg(long)]
    check_carves: bool,
    /// Semantic mode (experimental, docs/split.md): every OPTICS run carves all its disjoint
    /// xi clusters that fit, and before the fallback the cells still above MAX are divided by
    /// the density tree of the last setting's reachability plot (`origin` valley:N).
    #[arg(long)]
    semantic_split: bool,
    /// With --semantic-split: take a density-tree division only when its pieces are at most
    /// 1 + T times as spread (sum of squared distances to their centroids) as straight cuts
    /// of the same points; otherwise the fallback cuts the cell. Default: no gate.
    #[arg(long, value_name = "T", requires = "semantic_split")]
    semantic_tolerance: Option<f64>,
    /// MINSIZE: cells with fewer points are fused with neighbours (overrides the preset).
    #[arg(long)]
    min: Option<usize>,
    /// MAX: cells with more points are split (overrides the preset).
    #[arg(long)]
    max: Option<usize>,
    /// Points on no polygon are snapped to the nearest one within this many km, else rejected.
    #[arg(long, default_value_t = 25.0)]
    snap_km: f64,
    /// The fuse's distance guard: a small cell is never fused with a cell whose points'
    /// centroid is farther than this many km from its own (it stays below MINSIZE, reported
    /// as too_far_to_fuse).
    #[arg(long, default_value_t = geocells::stages::DEFAULT_FUSE_MAX_KM)]
    fuse_max_km: f64,
    /// No distance guard in the fuse (PIGEON's behaviour: small islands join the nearest
    /// cell of their country, however far).
    #[arg(long)]
    no_fuse_guard: bool,

    /// Label smoothing temperature in km for targets.parquet (PIGEON: 75).
    #[arg(long, default_value_t = 75.0)]
    tau_km: f64,
    /// Smoothed weights kept per point in targets.parquet.
    #[arg(long, default_value_t = 10)]
    top_k: usize,
    /// Draw the labelled points as dots on map.png.
    #[arg(long)]
    map_points: bool,
    /// Width of map.png in pixels (16 to 10000; a tall extent is drawn narrower so that the
    /// map stays below 50 million pixels).
    #[arg(long, default_value_t = 2400,
          value_parser = clap::value_parser!(u32).range(16..=i64::from(geocells::files::MAX_WIDTH)))]
    map_width: u32,
    /// Draw only this box on map.png: MIN_LON,MIN_LAT,MAX_LON,MAX_LAT in degrees (not across
    /// the antimeridian), or new-york, los-angeles, paris or tokyo (boxes in docs/outputs.md).
    /// The map is --map-width wide, a km as long across as down at the box's middle latitude;
    /// only the cells in the box are drawn.
    #[arg(long, value_name = "MIN_LON,MIN_LAT,MAX_LON,MAX_LAT|CITY", allow_hyphen_values = true,
          value_parser = parse_map_bbox)]
    map_bbox: Option<[f64; 4]>,
    /// How map.png colours the cells: `cell` (one colour per cell, as in cells.qml) or `rule`
    /// (by the rule that made each cell: admin cell, OPTICS xi cluster, xi hierarchy cluster,
    /// density valley, geometric fallback; with a legend).
    #[arg(long, value_name = "cell|rule", default_value = "cell", value_parser = parse_map_colour)]
    map_colour: geocells::MapColour,

    /// Output directory. A run writes into a staging directory beside it and swaps it in at
    /// the end, so it holds one complete run; it must be new, empty, or hold an earlier run
    /// (other files are refused by name). A second run on it is refused while one is writing.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Check that DIR holds one complete run (one run id across the files, the manifest's
    /// sizes and SHA-256, row counts, every point's cell exists), print what was found and
    /// exit: 0 when it does, 1 when it does not. Nothing else runs.
    #[arg(long, value_name = "DIR")]
    check_output: Option<PathBuf>,
    /// Run for these countries only (codes or names, comma-separated, e.g. `FRA,DEU`): every
    /// point and boundary is still read, but only these countries' cells are split and
    /// written. Combine such runs with `--merge`.
    #[arg(long, value_delimiter = ',')]
    countries: Option<Vec<String>>,
    /// Merge the output directories of `--countries` runs (same inputs and parameters) into
    /// `--out`: byte-identical to one run over the whole world. Repeat or comma-separate.
    #[arg(long, value_delimiter = ',')]
    merge: Vec<PathBuf>,
    /// Assign the points once and write them to DIR as a Parquet dataset partitioned by
    /// country (`country=<code>/`, with the fuse's positions, the rejects and a manifest;
    /// docs/batch.md), then stop. Later runs, `--countries` shards and `--merge` take DIR as
    /// `--points` with the same boundaries and `--snap-km`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["merge", "countries"])]
    write_assigned: Option<PathBuf>,
    /// Worker threads (default: all cores; at most 4 per core). Outputs do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the partition invariant check (faster; not recommended).
    #[arg(long)]
    no_validate: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

struct Bars {
    quiet: bool,
    bar: std::sync::Mutex<Option<(ProgressBar, Instant)>>,
}

/// Parses `CODE` or `CODE:NAME` (the name defaults to the code).
fn parse_country(s: &str) -> Result<(String, String), String> {
    let (code, name) = s.split_once(':').unwrap_or((s, s));
    let (code, name) = (code.trim(), name.trim());
    if code.is_empty() {
        return Err(format!("'{s}' has no country code"));
    }
    let name = if name.is_empty() { code } else { name };
    Ok((code.to_string(), name.to_string()))
}

/// Parses `--map-bbox`: four numbers or a city's name (`geocells::parse_map_bbox`). Clap puts
/// the flag and the value before the message.
fn parse_map_bbox(s: &str) -> Result<[f64; 4], String> {
    geocells::parse_map_bbox(s).map_err(|e| match e {
        geocells::ExportError::BadMapBox {
            problem, expected, ..
        } => format!("{problem}; expected {expected}"),
        other => other.to_string(),
    })
}

/// Parses `--map-colour`.
fn parse_map_colour(s: &str) -> Result<geocells::MapColour, String> {
    geocells::MapColour::parse(s).map_err(|_| format!("not one of {}", geocells::MapColour::NAMES))
}

/// Parses `MIN_SAMPLES:XI`.
fn parse_setting(s: &str) -> Result<(usize, f64), String> {
    let (m, xi) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}' is not MIN_SAMPLES:XI"))?;
    let m = m
        .trim()
        .parse()
        .map_err(|e| format!("min_samples '{m}': {e}"))?;
    let xi = xi.trim().parse().map_err(|e| format!("xi '{xi}': {e}"))?;
    Ok((m, xi))
}

impl Progress for Bars {
    fn stage(&self, name: &str, total: u64) {
        if self.quiet {
            return;
        }
        let pb = if total > 0 && name.starts_with("split") {
            let pb = ProgressBar::new(total);
            pb.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {pos}/{len} cells {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            pb
        } else {
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb
        };
        pb.set_message(name.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut g) = self.bar.lock() {
            *g = Some((pb, Instant::now()));
        }
    }
    fn inc(&self, n: u64) {
        if let Ok(g) = self.bar.lock()
            && let Some((pb, _)) = g.as_ref()
        {
            pb.inc(n);
        }
    }
    fn done(&self) {
        if let Ok(mut g) = self.bar.lock()
            && let Some((pb, t)) = g.take()
        {
            let msg = format!("✓ {} ({:.2} s)", pb.message(), t.elapsed().as_secs_f64());
            pb.finish_with_message(msg);
        }
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The fault hook of the fault tests (`geocells/tests/faults.rs`), active only when
/// `GEOCELLS_TEST_FAULT` is set: `pause:STAGE` stops at that stage of the output sequence
/// (a file name, `lock`, `swap`; see `geocells::files::Hook`) and waits to be killed,
/// `fail:STAGE` fails there as a full disk would.
fn test_fault(stage: &str) -> Result<(), String> {
    let Ok(spec) = std::env::var("GEOCELLS_TEST_FAULT") else {
        return Ok(());
    };
    let Some((action, at)) = spec.split_once(':') else {
        return Ok(());
    };
    if at != stage {
        return Ok(());
    }
    match action {
        "pause" => {
            eprintln!("GEOCELLS_TEST_FAULT: paused at {stage}");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        "fail" => {
            Err("No space left on device (os error 28) [injected by GEOCELLS_TEST_FAULT]".into())
        }
        _ => Ok(()),
    }
}

/// `--check-output DIR`.
fn check_output(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    // Undo what a killed run left (when no run is writing), then check.
    match geocells::recover_output(dir) {
        Ok(notes) => notes.iter().for_each(|n| println!("note: {n}")),
        Err(geocells::OutputError::Busy { holder, .. }) => println!(
            "note: a run ({holder}) is writing {} now; it holds the previous run until that run swaps its files in",
            dir.display()
        ),
        Err(e) => return Err(e.into()),
    }
    let c = geocells::check_output(dir)?;
    println!("{}", dir.display());
    if let Some(id) = &c.run_id {
        println!(
            "  run id {id}, status {}",
            c.status.as_deref().unwrap_or("(none)")
        );
    }
    for (name, bytes, rows) in &c.files {
        match rows {
            Some(r) => println!("  {name:<18} {bytes:>12} bytes {r:>10} rows"),
            None => println!("  {name:<18} {bytes:>12} bytes"),
        }
    }
    match c.validation_ok {
        Some(true) => println!("  partition check of the run: passed"),
        Some(false) => {
            println!("  partition check of the run: FAILED (see report.json → validation)");
        }
        None => println!("  partition check of the run: not run"),
    }
    for l in &c.leftovers {
        println!(
            "  note: {} was left by a killed run (the next run on this directory removes it)",
            l.display()
        );
    }
    if !c.is_consistent() {
        eprintln!("error: {} is not one complete run:", dir.display());
        for p in &c.problems {
            eprintln!("  - {p}");
        }
        std::process::exit(1);
    }
    if c.status.as_deref() == Some("failed") {
        println!(
            "  one complete run that FAILED: no point labelled, every row in rejects.parquet (report.json → error)"
        );
        std::process::exit(1);
    }
    println!("  OK: one complete run");
    Ok(())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if let Some(dir) = &args.check_output {
        return check_output(dir);
    }
    if let Some(t) = args.threads {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        if !(1..=4 * cores).contains(&t) {
            return Err(format!(
                "--threads {t}: must be from 1 to {} (4 x the {cores} cores here)",
                4 * cores
            )
            .into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()?;
    }
    let mut params = Params::preset(&args.preset)?
        .snap_km(args.snap_km)
        .fuse_max_km((!args.no_fuse_guard).then_some(args.fuse_max_km));
    if let Some(m) = args.min {
        params = params.min_size(m);
    }
    if let Some(m) = args.max {
        params = params.max_size(m);
    }
    if !args.optics.is_empty() {
        params = params.optics(args.optics.clone());
    }
    params = params
        .metric(if args.metric == "degrees" {
            Metric::Degrees
        } else {
            Metric::Sphere
        })
        .split(!args.no_split)
        .fallback(!args.no_fallback)
        .check_each_carve(args.check_carves)
        .semantic_split(args.semantic_split)
        .semantic_tolerance(args.semantic_tolerance)
        .tau_km(args.tau_km)
        .top_k(args.top_k)
        .countries(args.countries.clone());
    let mut points = PointsSpec::new(&args.points);
    points.lon_column.clone_from(&args.lon_col);
    points.lat_column.clone_from(&args.lat_col);
    points.id_column.clone_from(&args.id_col);
    let level = |path: &PathBuf, code: &Option<String>, name: &Option<String>| LevelSpec {
        code_column: code.clone(),
        name_column: name.clone(),
        ..LevelSpec::new(path)
    };
    let with_country = |mut l: LevelSpec, fixed: &Option<(String, String)>| {
        l.fixed_country.clone_from(fixed);
        l
    };
    let boundaries = BoundarySpec {
        country: (!args.no_admin0)
            .then(|| level(&args.admin0, &args.admin0_code_col, &args.admin0_name_col)),
        admin1: (!args.no_admin1).then(|| {
            with_country(
                level(&args.admin1, &args.admin1_code_col, &args.admin1_name_col),
                &args.admin1_fixed_country,
            )
            .country_code_column(args.admin1_country_code_col.clone())
            .country_name_column(args.admin1_country_name_col.clone())
        }),
        admin2: (!args.no_admin2).then(|| {
            with_country(
                level(&args.admin2, &args.admin2_code_col, &args.admin2_name_col),
                &args.admin2_fixed_country,
            )
            .admin1_code_column(args.admin2_admin1_code_col.clone())
            .admin1_name_column(args.admin2_admin1_name_col.clone())
            .country_code_column(args.admin2_country_code_col.clone())
            .country_name_column(args.admin2_country_name_col.clone())
        }),
    };
    let inputs = Inputs { points, boundaries };
    if let Some(dir) = &args.write_assigned {
        return write_assigned(&inputs, params, dir, args.quiet);
    }
    // The output location is checked and locked before any input is read.
    let hook: Option<geocells::files::Hook> =
        std::env::var_os("GEOCELLS_TEST_FAULT").map(|_| test_fault as geocells::files::Hook);
    let out = geocells::OutputDir::prepare_with(&args.out, hook)?;
    for note in out.recovered() {
        eprintln!("note: {note}");
    }
    let bars = Bars {
        quiet: args.quiet,
        bar: std::sync::Mutex::new(None),
    };
    let started = Instant::now();
    let pipeline = Pipeline::new(params)?;
    // Memory, estimated before reading: a warning, since the estimate is from measurements
    // on the shipped boundaries (an out-of-memory kill still leaves the previous run in --out).
    if let (Some(rows), Some(available)) = (
        geocells::files::points_rows(&inputs.points.path),
        geocells::files::available_bytes(),
    ) {
        let need = geocells::files::run_bytes(rows);
        if need > available {
            eprintln!(
                "warning: {rows} points need about {} MB (measured: 330 MB + 130 bytes a point), but {} MB are available: the run may be killed for lack of memory",
                need >> 20,
                available >> 20
            );
        }
    }
    let result = if args.merge.is_empty() {
        pipeline.run(&inputs, &bars)
    } else {
        pipeline.merge(&inputs, &args.merge, &bars)
    };
    let mut run = match result {
        Ok(run) => run,
        // Nothing labelled: the rejects are still written, with a report that says so.
        Err(geocells::Error::NoPoints(failure)) => {
            let written = geocells::write_failed_run(&failure, out)?;
            eprintln!("error: {failure}");
            eprintln!("wrote (a failed run):");
            for f in &written.files {
                eprintln!("    {}", f.display());
            }
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    };
    // A failed check does not cost the run: the outputs are written with the problems in
    // report.json, the problems are printed, and the exit status says it failed.
    let mut failed_check = None;
    if !args.no_validate {
        bars.stage("validate partition", 0);
        if let Err(e) = run.validate_and_record() {
            failed_check = Some(e);
        }
        bars.done();
    }
    bars.stage("write outputs", 0);
    let t = Instant::now();
    let options = geocells::ExportOptions::default().map(
        geocells::MapParams::default()
            .points(args.map_points)
            .width(args.map_width)
            .bbox(args.map_bbox)
            .colour(args.map_colour),
    );
    let written = geocells::write_run(&run, out, &options)?;
    let export_s = t.elapsed().as_secs_f64();
    bars.done();
    print_summary(
        &run,
        export_s,
        &written.files,
        started.elapsed().as_secs_f64(),
    );
    for w in &run.areas().notes.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(e) = failed_check {
        eprintln!(
            "\nerror: the outputs in {} were written, but the partition check failed ({} problem(s), also in report.json → validation):",
            args.out.display(),
            e.problems.len()
        );
        for p in &e.problems {
            eprintln!("  - {p}");
        }
        std::process::exit(3);
    }
    Ok(())
}

/// `--write-assigned DIR`: the assign-once pass.
fn write_assigned(
    inputs: &Inputs,
    params: Params,
    dir: &std::path::Path,
    quiet: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let out = geocells::prepare_dataset_dir(dir)?;
    for note in out.recovered() {
        eprintln!("note: {note}");
    }
    let bars = Bars {
        quiet,
        bar: std::sync::Mutex::new(None),
    };
    let started = Instant::now();
    let m = Pipeline::new(params)?.assign_once(inputs, out, &bars)?;
    println!();
    println!("  {:<28} {:>12}", "input rows", m.input_rows);
    println!("  {:<28} {:>12}", "points labelled", m.labelled);
    println!("  {:<28} {:>12}", "points rejected", m.rejected);
    println!("  {:<28} {:>12}", "country partitions", m.partitions.len());
    println!("  {:<28} {:>12}", "distinct positions", m.positions);
    println!(
        "  {:<28} {:>12.1}",
        "wall seconds",
        started.elapsed().as_secs_f64()
    );
    println!(
        "\nwrote {} (take it as --points, with the same boundaries and --snap-km)",
        dir.display()
    );
    Ok(())
}

fn print_summary(run: &geocells::Run, export_s: f64, files: &[PathBuf], wall: f64) {
    let report = run.report().to_value();
    let c = &report["counts"];
    let s = &report["sizes"];
    println!();
    println!("  {:<28} {:>12}", "input rows", c["input_rows"].to_string());
    println!(
        "  {:<28} {:>12}",
        "points labelled",
        c["points_labelled"].to_string()
    );
    println!(
        "  {:<28} {:>12}",
        "  of which snapped to land",
        c["points_snapped"].to_string()
    );
    println!(
        "  {:<28} {:>12}",
        "points rejected",
        c["rejects"].to_string()
    );
    println!("  {:<28} {:>12}", "admin areas", c["areas"].to_string());
    println!(
        "  {:<28} {:>12}",
        "  with points",
        c["areas_with_points"].to_string()
    );
    println!(
        "  {:<28} {:>12}",
        "admin cells (fused)",
        c["admin_cells"].to_string()
    );
    println!(
        "  {:<28} {:>12}",
        format!("  above MAX {}", run.params().max_size()),
        c["admin_cells_above_max"].to_string()
    );
    if let Some(sp) = &run.split() {
        for (i, st) in sp.settings.iter().enumerate() {
            println!(
                "  {:<28} {:>12}",
                format!("  OPTICS {} ({}, {})", i + 1, st.min_samples, st.xi),
                format!("{} carves", st.carves)
            );
        }
        println!(
            "  {:<28} {:>12}",
            "  above MAX after OPTICS", sp.above_max_after_optics
        );
        println!(
            "  {:<28} {:>12}",
            "  fallback bisections", sp.fallback_carves
        );
    }
    println!("  {:<28} {:>12}", "cells", c["cells"].to_string());
    println!(
        "  {:<28} {:>12}",
        format!("  below MIN {}", run.params().min_size()),
        c["cells_below_min"].to_string()
    );
    println!(
        "  {:<28} {:>12}",
        format!("  above MAX {}", run.params().max_size()),
        c["cells_above_max"].to_string()
    );
    println!(
        "  {:<28} {:>12}",
        "cell size min/median/max",
        format!("{}/{}/{}", s["min"], s["median"], s["max"])
    );
    println!("  {:<28} {:>12}", "wall time (s)", format!("{wall:.2}"));
    for (k, v) in run
        .timings()
        .iter()
        .chain(&[("export".to_string(), export_s)])
    {
        println!("    {:<26} {:>12}", k, format!("{v:.2}"));
    }
    println!("\n  wrote:");
    for f in files {
        println!("    {}", f.display());
    }
}
