//! Mutation fuzzing of the input readers (issue 12). See `docs/fuzzing.md`.
//!
//! A small self-contained fuzzer: seeded SplitMix64, byte-level mutations (bit flips,
//! interesting bytes, inserted / deleted / duplicated ranges, truncation, splices, 4- and 8-byte
//! boundary integers) and, for text files, token-level ones (delimiters, quotes, numbers, lines,
//! brackets). Each mutated input is written to a directory, the reader is called in a worker
//! thread under `catch_unwind` with a timeout, and the peak RSS is watched. A pass is `Ok` or an
//! error whose message names the file; a panic, a hang, an error naming no file or a peak RSS
//! above the limit is a finding.
//!
//! * `fuzz_smoke` (default run): a fixed number of iterations per target from a fixed seed.
//! * `fuzz_long` (`--ignored`): `GEOCELLS_FUZZ_SECS` seconds split over the targets (or those in
//!   `GEOCELLS_FUZZ_TARGETS`, comma separated), PRNG seed `GEOCELLS_FUZZ_SEED`; findings are
//!   minimised and written under `GEOCELLS_FUZZ_OUT` (default `target/fuzz`).
//! * `make_seeds` (`--ignored`): rewrites `data/fixtures/fuzz/seeds/` from the shipped data.
//! * `regression_*`: every finding, minimised, under `data/fixtures/fuzz/regressions/`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, mpsc};
use std::time::{Duration, Instant};

use geocells::CellLookup;
use geocells::PointsSpec;
use geocells::Predicted;
use geocells::evaluate_file;
use geocells::files as crs;
use geocells::stages::read_boundaries_with;
use geocells::stages::read_points;

// ---------------------------------------------------------------------------------------------
// Random numbers

/// SplitMix64 (Steele, Lea, Flood 2014).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

const BYTES: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, 0xfe, b'0', b'"'];
const U32S: [u32; 10] = [
    0,
    1,
    2,
    u32::MAX,
    u32::MAX - 1,
    i32::MAX as u32,
    0x8000_0000,
    0x00ff_ffff,
    0x1000_0000,
    65_536,
];
const U64S: [u64; 10] = [
    0,
    1,
    u64::MAX,
    i64::MAX as u64,
    0x8000_0000_0000_0000,
    0x7ff8_0000_0000_0000, // NaN
    0x7ff0_0000_0000_0000, // +inf
    0x7fef_ffff_ffff_ffff, // f64::MAX
    0x8000_0000_0000_0000, // -0.0
    0x0000_0001_0000_0000,
];
const NUMBERS: [&str; 18] = [
    "abc",
    "NaN",
    "1e400",
    "-1e400",
    "-0",
    "",
    "inf",
    "-inf",
    "99999999999999999999",
    "4294967296",
    "-2147483649",
    "0x1F",
    "1,5",
    "null",
    "\"1\"",
    "1e-400",
    "1.7976931348623157e309",
    "-",
];
const TOKENS: [&str; 16] = [
    "\"", ",", "\n", "[", "]", "{", "}", "null", "\u{feff}", "\0", "é", "\r\n", "\"\"", ";", "\t",
    "\\",
];
const DELIMS: [u8; 12] = [
    b',', b';', b'\t', b':', b'[', b']', b'{', b'}', b'"', b'\n', b'(', b')',
];

fn mutate_bytes(rng: &mut Rng, d: &mut Vec<u8>, other: &[u8]) {
    let len = d.len();
    let pos = rng.below(len.max(1));
    match rng.below(10) {
        0 if len > 0 => d[pos] ^= 1 << rng.below(8),
        1 if len > 0 => d[pos] = *rng.pick(&BYTES),
        2 if len > 0 => d[pos] = rng.next() as u8,
        3 => {
            let n = 1 + rng.below(16);
            let fill: Vec<u8> = (0..n)
                .map(|_| {
                    if rng.below(2) == 0 {
                        *rng.pick(&BYTES)
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            let at = rng.below(len + 1);
            d.splice(at..at, fill);
        }
        4 if len > 0 => {
            let n = 1 + rng.below(64.min(len));
            let end = (pos + n).min(len);
            d.drain(pos..end);
        }
        5 if len > 0 => {
            let n = 1 + rng.below(256.min(len));
            let end = (pos + n).min(len);
            let chunk = d[pos..end].to_vec();
            let at = rng.below(len + 1);
            d.splice(at..at, chunk);
        }
        6 if len > 0 => d.truncate(pos),
        7 if !other.is_empty() => {
            let from = rng.below(other.len());
            d.truncate(pos);
            d.extend_from_slice(&other[from..]);
        }
        8 if len >= 4 => {
            let at = rng.below(len - 3);
            let v = *rng.pick(&U32S);
            let b = if rng.below(2) == 0 {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            d[at..at + 4].copy_from_slice(&b);
        }
        9 if len >= 8 => {
            let at = rng.below(len - 7);
            let v = *rng.pick(&U64S);
            let b = if rng.below(2) == 0 {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            d[at..at + 8].copy_from_slice(&b);
        }
        _ => d.push(rng.next() as u8),
    }
}

/// Byte ranges of number-like tokens (a run of `0-9 . e E + -` holding a digit).
fn numbers(d: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < d.len() {
        let start = i;
        while i < d.len() && matches!(d[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
            i += 1;
        }
        if i > start && d[start..i].iter().any(u8::is_ascii_digit) {
            out.push((start, i));
        }
        i = i.max(start + 1);
    }
    out
}

fn line_starts(d: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            d.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < d.len())
        .collect()
}

fn line_at(d: &[u8], start: usize) -> (usize, usize) {
    let end = d[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(d.len(), |p| start + p + 1);
    (start, end)
}

fn mutate_text(rng: &mut Rng, d: &mut Vec<u8>) {
    let positions = |d: &[u8], set: &[u8]| -> Vec<usize> {
        d.iter()
            .enumerate()
            .filter(|(_, b)| set.contains(b))
            .map(|(i, _)| i)
            .collect()
    };
    match rng.below(8) {
        0 => {
            // Swap one delimiter for another (or all of one kind).
            let at = positions(d, &DELIMS);
            if at.is_empty() {
                return;
            }
            let to = *rng.pick(&DELIMS);
            if rng.below(4) == 0 {
                let from = d[*rng.pick(&at)];
                for b in d.iter_mut().filter(|b| **b == from) {
                    *b = to;
                }
            } else {
                let i = *rng.pick(&at);
                d[i] = to;
            }
        }
        1 => {
            let at = positions(d, b"\"");
            if !at.is_empty() {
                d.remove(*rng.pick(&at));
            }
        }
        2 | 3 => {
            let nums = numbers(d);
            if nums.is_empty() {
                return;
            }
            let (s, e) = *rng.pick(&nums);
            let with = rng.pick(&NUMBERS).as_bytes().to_vec();
            d.splice(s..e, with);
        }
        4 => {
            let starts = line_starts(d);
            if starts.is_empty() {
                return;
            }
            let (s, e) = line_at(d, *rng.pick(&starts));
            let line = d[s..e].to_vec();
            let at = if rng.below(2) == 0 {
                e
            } else {
                *rng.pick(&starts)
            };
            d.splice(at..at, line);
        }
        5 => {
            let starts = line_starts(d);
            if starts.is_empty() {
                return;
            }
            let (s, e) = line_at(d, *rng.pick(&starts));
            d.drain(s..e);
        }
        6 => {
            let at = positions(d, b"[](){}");
            if !at.is_empty() {
                d.remove(*rng.pick(&at));
            }
        }
        _ => {
            let at = rng.below(d.len() + 1);
            let t = rng.pick(&TOKENS).as_bytes().to_vec();
            d.splice(at..at, t);
        }
    }
}

fn is_text(name: &str) -> bool {
    [".csv", ".geojson", ".json", ".prj"]
        .iter()
        .any(|e| name.ends_with(e))
}

// ---------------------------------------------------------------------------------------------
// Targets

/// Named input files; the first is the one the reader is given (after `prepare`).
type Files = Vec<(String, Vec<u8>)>;

/// One reader under test.
struct Target {
    name: &'static str,
    /// Seed cases.
    seeds: Vec<Files>,
    /// Writes the (mutated) files to `dir` and returns the path the reader is called on.
    prepare: fn(&Path, &Files) -> PathBuf,
    /// Calls the reader; `Err` carries the error message.
    run: fn(&Path) -> Result<(), String>,
}

fn seed(name: &str) -> Vec<u8> {
    let p = common::data(&format!("fixtures/fuzz/seeds/{name}"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn files(list: &[(&str, &str)]) -> Files {
    list.iter()
        .map(|(to, from)| (to.to_string(), seed(from)))
        .collect()
}

fn write_files(dir: &Path, files: &Files) -> PathBuf {
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write fuzz input");
    }
    dir.join(&files[0].0)
}

/// A GeoParquet of the WKB blobs (ids 0, 1, ...) with `geo` metadata `meta`.
fn geoparquet(path: &Path, blobs: Vec<Vec<u8>>, meta: String) {
    use geocells::files::Column;
    use geocells::files::write_parquet;
    let n = blobs.len();
    let kinds = [Column::I64(vec![]), Column::Bin(vec![])];
    write_parquet(
        path,
        &["cell_id", "geometry"],
        &kinds,
        n,
        n.max(1),
        vec![("geo".to_string(), meta)],
        |r| {
            vec![
                Column::I64(r.clone().map(|i| i as i64).collect()),
                Column::Bin(blobs[r].to_vec()),
            ]
        },
    )
    .expect("write GeoParquet fuzz input");
}

/// The mutated WKB blob, written raw and as the geometry of a one-row GeoParquet.
fn prepare_wkb(dir: &Path, files: &Files) -> PathBuf {
    write_files(dir, files);
    let path = dir.join("input.parquet");
    let meta = geocells::files::geo_metadata("geometry", &[], None);
    geoparquet(&path, vec![files[0].1.clone()], meta);
    path
}

/// The mutated `geo` metadata text on a GeoParquet of two seed polygons.
fn prepare_geo_meta(dir: &Path, files: &Files) -> PathBuf {
    write_files(dir, files);
    let path = dir.join("input.parquet");
    let meta = String::from_utf8_lossy(&files[0].1).into_owned();
    geoparquet(
        &path,
        vec![seed("polygon.wkb"), seed("multipolygon.wkb")],
        meta,
    );
    path
}

fn msg(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn run_points(p: &Path) -> Result<(), String> {
    read_points(&PointsSpec::new(p)).map(|_| ()).map_err(msg)
}

fn run_boundaries(p: &Path) -> Result<(), String> {
    read_boundaries_with(p, |cols| Ok(cols.to_vec()))
        .map(|_| ())
        .map_err(msg)
}

fn run_points_and_boundaries(p: &Path) -> Result<(), String> {
    let a = run_points(p);
    let b = run_boundaries(p);
    a.and(b)
}

fn run_prj(p: &Path) -> Result<(), String> {
    // As the shapefile reader does: read the text, accept lon/lat WGS84, else reproject.
    let Ok(wkt) = std::fs::read_to_string(p) else {
        return Ok(());
    };
    let _ = crs::wkt_name(&wkt);
    if crs::wkt_is_wgs84_lonlat(&wkt) {
        return Ok(());
    }
    let r = crs::reprojector(p, wkt.trim()).map_err(msg)?;
    let _ = r.convert(500_000.0, 4_000_000.0);
    let _ = r.convert(f64::NAN, 0.0);
    Ok(())
}

fn run_cell_lookup(p: &Path) -> Result<(), String> {
    CellLookup::read(p).map(|_| ()).map_err(msg)
}

fn run_evaluate(p: &Path) -> Result<(), String> {
    let coords = Predicted::Coordinates {
        lon: "pred_lon".into(),
        lat: "pred_lat".into(),
    };
    let cells = Predicted::Cells {
        column: "cell".into(),
        centroids: [(0, (18.4, -33.9)), (1, (28.0, -26.2)), (2, (31.0, -29.9))]
            .into_iter()
            .collect(),
    };
    let a = evaluate_file(p, "lon", "lat", &coords)
        .map(|_| ())
        .map_err(msg);
    let b = evaluate_file(p, "lon", "lat", &cells)
        .map(|_| ())
        .map_err(msg);
    a.and(b)
}

fn shapefile_seed(prj: Option<&str>) -> Files {
    let mut f = files(&[
        ("input.shp", "states.shp"),
        ("input.shx", "states.shx"),
        ("input.dbf", "states.dbf"),
    ]);
    if let Some(prj) = prj {
        f.push(("input.prj".into(), seed(prj)));
    }
    f
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "points_parquet_wkb",
            seeds: vec![files(&[("input.parquet", "points_wkb.parquet")])],
            prepare: write_files,
            run: run_points,
        },
        Target {
            name: "points_parquet_lonlat",
            seeds: vec![files(&[("input.parquet", "points_lonlat.parquet")])],
            prepare: write_files,
            run: run_points,
        },
        Target {
            name: "points_csv",
            seeds: vec![files(&[("input.csv", "points.csv")])],
            prepare: write_files,
            run: run_points,
        },
        Target {
            name: "wkb",
            seeds: [
                "point.wkb",
                "point_be.wkb",
                "polygon.wkb",
                "multipolygon.wkb",
            ]
            .iter()
            .map(|s| files(&[("input.wkb", s)]))
            .collect(),
            prepare: prepare_wkb,
            run: run_points_and_boundaries,
        },
        Target {
            name: "geoparquet_metadata",
            seeds: vec![files(&[("input.json", "geo_metadata.json")])],
            prepare: prepare_geo_meta,
            run: run_points_and_boundaries,
        },
        Target {
            name: "boundaries_geoparquet",
            seeds: vec![files(&[("input.parquet", "cells.parquet")])],
            prepare: write_files,
            run: run_boundaries,
        },
        Target {
            name: "boundaries_geojson",
            seeds: vec![
                files(&[("input.geojson", "cells.geojson")]),
                files(&[("input.geojson", "states.geojson")]),
            ],
            prepare: write_files,
            run: run_boundaries,
        },
        Target {
            name: "boundaries_shapefile",
            seeds: vec![
                shapefile_seed(Some("wgs84.prj")),
                shapefile_seed(Some("mercator.prj")),
            ],
            prepare: write_files,
            run: run_boundaries,
        },
        Target {
            name: "boundaries_shapefile_noprj",
            seeds: vec![shapefile_seed(None)],
            prepare: write_files,
            run: run_boundaries,
        },
        Target {
            name: "prj",
            seeds: ["wgs84.prj", "mercator.prj", "wgs84_wkt2.prj"]
                .iter()
                .map(|s| files(&[("input.prj", s)]))
                .collect(),
            prepare: write_files,
            run: run_prj,
        },
        Target {
            name: "cell_lookup",
            seeds: vec![
                files(&[("input.parquet", "cells.parquet")]),
                files(&[("input.geojson", "cells.geojson")]),
            ],
            prepare: write_files,
            run: run_cell_lookup,
        },
        Target {
            name: "evaluate",
            seeds: vec![
                files(&[("input.csv", "eval.csv")]),
                files(&[("input.parquet", "eval.parquet")]),
            ],
            prepare: write_files,
            run: run_evaluate,
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Running one input

/// The last panic seen by the hook in any thread: message and location.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

thread_local! {
    /// The last panic of this thread: message and location.
    static LOCAL_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}
static HOOK: Once = Once::new();

/// Records every panic's message and location; stays quiet in the fuzzer's worker threads and in
/// the thread pools they use (the outcome says what happened), prints as usual elsewhere.
fn install_hook() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(std::string::ToString::to_string)
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string payload)".into());
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let m = format!("{payload} at {at}");
            LOCAL_PANIC.with(|l| *l.borrow_mut() = Some(m.clone()));
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = Some(m);
            }
            let name = std::thread::current().name().unwrap_or("").to_string();
            let quiet = name.starts_with("fuzz-")
                || name.starts_with("polars")
                || name.is_empty()
                || name.contains("rayon");
            if !quiet {
                default(info);
            }
        }));
    });
}

/// What one input did.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// `Ok`, or an error naming the file.
    Pass(Option<String>),
    /// A panic: message and location.
    Panic(String),
    /// No answer within the timeout.
    Hang,
    /// An error whose message does not name the file.
    Unnamed(String),
    /// The peak RSS crossed the limit (MB).
    Memory(u64),
}

impl Outcome {
    /// What identifies a finding: its kind and (panics) the panic location.
    fn key(&self) -> Option<String> {
        match self {
            Outcome::Pass(_) => None,
            Outcome::Panic(m) => Some(format!("panic at {}", m.rsplit(" at ").next().unwrap_or(m))),
            Outcome::Hang => Some("hang".into()),
            Outcome::Unnamed(m) => Some(format!("unnamed error: {}", signature(m))),
            Outcome::Memory(_) => Some("memory".into()),
        }
    }
}

/// An error message without numbers and paths, for telling new error kinds apart.
fn signature(m: &str) -> String {
    m.split_whitespace()
        .filter(|w| !w.contains('/'))
        .map(|w| w.replace(|c: char| c.is_ascii_digit(), "#"))
        .take(12)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Peak resident set size of this process in MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

const TIMEOUT: Duration = Duration::from_secs(10);

fn mem_limit_mb() -> u64 {
    std::env::var("GEOCELLS_FUZZ_MEM_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3_000)
}

/// Runs the reader on `path` in a worker thread under `catch_unwind`, with the timeout.
fn run_one(run: fn(&Path) -> Result<(), String>, path: &Path, dir: &Path) -> Outcome {
    install_hook();
    if let Ok(mut last) = LAST_PANIC.lock() {
        *last = None;
    }
    let before = peak_rss_mb();
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    let worker = std::thread::Builder::new()
        .name("fuzz-worker".into())
        .spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| run(&p))).map_err(|payload| {
                // This thread's own panic, else one resumed from a pool thread: its payload,
                // with the location the hook saw if the message is the same.
                if let Some(m) = LOCAL_PANIC.with(|l| l.borrow_mut().take()) {
                    return m;
                }
                let text = payload
                    .downcast_ref::<&str>()
                    .map(std::string::ToString::to_string)
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                match LAST_PANIC.lock().ok().and_then(|mut l| l.take()) {
                    Some(m) if m.starts_with(&text) => m,
                    _ => format!("{text} at (a pool thread)"),
                }
            });
            let _ = tx.send(r);
        })
        .expect("spawn fuzz worker");
    let outcome = match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(Ok(()))) => Outcome::Pass(None),
        Ok(Ok(Err(m))) => {
            let file = dir.to_string_lossy();
            if m.contains(file.as_ref()) {
                Outcome::Pass(Some(m))
            } else {
                Outcome::Unnamed(m)
            }
        }
        Ok(Err(m)) => Outcome::Panic(m),
        Err(mpsc::RecvTimeoutError::Disconnected) => Outcome::Panic("(worker lost)".into()),
        Err(mpsc::RecvTimeoutError::Timeout) => return Outcome::Hang,
    };
    let _ = worker.join();
    let after = peak_rss_mb();
    let limit = mem_limit_mb();
    if before <= limit && after > limit {
        return Outcome::Memory(after);
    }
    outcome
}

// ---------------------------------------------------------------------------------------------
// The fuzz loop

/// A finding: what happened and where its input was saved.
struct Finding {
    target: &'static str,
    outcome: Outcome,
    saved: Option<PathBuf>,
}

/// What one target's fuzzing did.
struct Report {
    target: &'static str,
    iterations: u64,
    elapsed: Duration,
    findings: Vec<Finding>,
    corpus: usize,
    hang: bool,
    /// Panics inside a dependency that the reader caught and turned into an error naming the
    /// file (`guard_decoder`): location and count.
    caught: BTreeMap<String, u64>,
}

enum Budget {
    Iterations(u64),
    Time(Duration),
}

fn mutate(rng: &mut Rng, corpus: &[Files]) -> Files {
    let mut f = rng.pick(corpus).clone();
    let which = rng.below(f.len());
    let other_case = rng.pick(corpus);
    let other = other_case[which.min(other_case.len() - 1)].1.clone();
    let text = is_text(&f[which].0);
    let n = 1 << rng.below(3); // 1, 2 or 4 mutations
    for _ in 0..n {
        let data = &mut f[which].1;
        if text && rng.below(3) != 0 {
            mutate_text(rng, data);
        } else {
            mutate_bytes(rng, data, &other);
        }
        data.truncate(4 << 20);
    }
    f
}

fn work_dir(out: &Path, target: &str) -> PathBuf {
    let d = out.join("work").join(target);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create fuzz work dir");
    d
}

fn save(out: &Path, name: &str, files: &Files) -> PathBuf {
    let d = out.join("findings").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create findings dir");
    for (n, bytes) in files {
        std::fs::write(d.join(n), bytes).expect("write finding");
    }
    d
}

/// Runs `files` as target `t` in `dir`.
fn run_files(t: &Target, dir: &Path, files: &Files) -> Outcome {
    let path = (t.prepare)(dir, files);
    run_one(t.run, &path, dir)
}

/// Removes byte ranges of each file while the finding's key stays the same (ddmin-like).
fn minimize(t: &Target, dir: &Path, files: &Files, key: &str, budget: Duration) -> Files {
    let start = Instant::now();
    let mut best = files.clone();
    for which in 0..best.len() {
        let mut chunk = best[which].1.len().div_ceil(2).max(1);
        loop {
            let mut at = 0;
            while at < best[which].1.len() && start.elapsed() < budget {
                let mut cand = best.clone();
                let end = (at + chunk).min(cand[which].1.len());
                cand[which].1.drain(at..end);
                if run_files(t, dir, &cand).key().as_deref() == Some(key) {
                    best = cand;
                } else {
                    at += chunk;
                }
            }
            if chunk == 1 || start.elapsed() >= budget {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
    best
}

fn fuzz(t: &Target, seed: u64, budget: Budget, out: &Path, minimize_for: Duration) -> Report {
    let dir = work_dir(out, t.name);
    let mut rng = Rng(seed ^ fnv(t.name));
    let mut corpus: Vec<Files> = t.seeds.clone();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    let start = Instant::now();
    let mut iterations = 0u64;
    let mut hang = false;
    let mut caught: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        match budget {
            Budget::Iterations(n) if iterations >= n => break,
            Budget::Time(d) if start.elapsed() >= d => break,
            _ => {}
        }
        let f = mutate(&mut rng, &corpus);
        let outcome = run_files(t, &dir, &f);
        iterations += 1;
        if let Outcome::Pass(_) = outcome
            && let Some(p) = LAST_PANIC.lock().ok().and_then(|mut l| l.take())
        {
            let at = p.rsplit(" at ").next().unwrap_or(&p).to_string();
            *caught.entry(at).or_insert(0) += 1;
        }
        match outcome.key() {
            None => {
                // Error-message feedback: an input giving a new kind of error joins the corpus.
                if let Outcome::Pass(Some(m)) = &outcome
                    && corpus.len() < 500
                    && seen.insert(signature(&m.replace(dir.to_string_lossy().as_ref(), "")))
                {
                    corpus.push(f);
                }
            }
            Some(key) => {
                let count = keys.entry(key.clone()).or_insert(0);
                *count += 1;
                if *count > 1 {
                    continue;
                }
                let name = format!("{}-{}", t.name, findings.len());
                let raw = save(out, &format!("{name}-raw"), &f);
                eprintln!(
                    "FINDING {name}: {key}\n  {outcome:?}\n  input: {}",
                    raw.display()
                );
                hang = outcome == Outcome::Hang;
                let saved = if hang {
                    Some(raw)
                } else {
                    let small = minimize(t, &dir, &f, &key, minimize_for);
                    let p = save(out, &name, &small);
                    eprintln!(
                        "  minimised ({} bytes): {}",
                        small.iter().map(|(_, b)| b.len()).sum::<usize>(),
                        p.display()
                    );
                    Some(p)
                };
                findings.push(Finding {
                    target: t.name,
                    outcome,
                    saved,
                });
                if hang {
                    break;
                }
            }
        }
    }
    Report {
        target: t.name,
        iterations,
        elapsed: start.elapsed(),
        findings,
        corpus: corpus.len(),
        hang,
        caught,
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn out_dir() -> PathBuf {
    std::env::var_os("GEOCELLS_FUZZ_OUT")
        .map_or_else(|| common::root().join("target").join("fuzz"), PathBuf::from)
}

fn print_report(r: &Report) {
    let secs = r.elapsed.as_secs_f64();
    println!(
        "{:<28} {:>8} inputs {:>8.1} s {:>8.1} inputs/s  corpus {:>4}  findings {}{}",
        r.target,
        r.iterations,
        secs,
        r.iterations as f64 / secs.max(1e-9),
        r.corpus,
        r.findings.len(),
        if r.hang { " (stopped: hang)" } else { "" }
    );
    for f in &r.findings {
        println!(
            "    {} {:?} -> {}",
            f.target,
            f.outcome,
            f.saved
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        );
    }
    for (at, n) in &r.caught {
        println!("    caught at the reader boundary {n} times: panic at {at}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

/// Default run: 40 inputs per target from seed 12, no finding allowed.
#[test]
fn fuzz_smoke() {
    let out = out_dir().join("smoke");
    let mut failed = Vec::new();
    for t in targets() {
        let r = fuzz(&t, 12, Budget::Iterations(40), &out, Duration::from_secs(5));
        print_report(&r);
        assert_eq!(r.iterations, 40);
        failed.extend(
            r.findings
                .iter()
                .map(|f| format!("{}: {:?}", f.target, f.outcome)),
        );
    }
    assert!(failed.is_empty(), "findings:\n{}", failed.join("\n"));
}

/// The seeds pass unmutated (else the fuzzer starts from broken inputs).
#[test]
fn seeds_are_read() {
    let out = out_dir().join("seeds");
    for t in targets() {
        let dir = work_dir(&out, t.name);
        for s in &t.seeds {
            let outcome = run_files(&t, &dir, s);
            // Points and polygons go through both readers there: one of them refuses the seed.
            if matches!(t.name, "wkb" | "geoparquet_metadata") {
                assert!(
                    matches!(outcome, Outcome::Pass(_)),
                    "{} seed {}: {outcome:?}",
                    t.name,
                    s[0].0
                );
            } else {
                assert_eq!(outcome, Outcome::Pass(None), "{} seed {}", t.name, s[0].0);
            }
        }
    }
}

/// The harness catches what it should: a panic, an error without the file name, a pass.
#[test]
fn harness_reports_panics_and_unnamed_errors() {
    let dir = std::env::temp_dir();
    let panics = run_one(|_| panic!("boom"), &dir.join("x"), &dir);
    assert!(
        matches!(&panics, Outcome::Panic(m) if m.contains("boom") && m.contains("fuzz.rs")),
        "{panics:?}"
    );
    let unnamed = run_one(|_| Err("bad".into()), &dir.join("x"), &dir);
    assert_eq!(unnamed, Outcome::Unnamed("bad".into()));
    let named = run_one(
        |p| Err(format!("{}: bad", p.display())),
        &dir.join("x"),
        &dir,
    );
    assert!(matches!(named, Outcome::Pass(Some(_))), "{named:?}");
}

/// The mutators are deterministic and change their input.
#[test]
fn mutations_are_seeded() {
    let base = b"id,lon,lat\n1,27.5,-29.3\n2,28.0,-26.2\n".to_vec();
    let run = |seed| {
        let mut rng = Rng(seed);
        (0..50)
            .map(|_| {
                let mut d = base.clone();
                mutate_text(&mut rng, &mut d);
                mutate_bytes(&mut rng, &mut d, &base);
                d
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
    assert!(run(3).iter().filter(|d| **d != base).count() > 40);
}

// ---------------------------------------------------------------------------------------------
// Regressions: every finding, minimised, under data/fixtures/fuzz/regressions/

/// Runs the regression input `<stem>.*` as `target` and returns the error message, if any;
/// fails on anything but a pass (`Ok` or an error naming the file).
fn regression(target: &str, stem: &str) -> Option<String> {
    let t = targets()
        .into_iter()
        .find(|t| t.name == target)
        .expect("known target");
    let main_ext = Path::new(&t.seeds[0][0].0)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_string();
    let dir = common::data("fixtures/fuzz/regressions");
    let mut files: Files = std::fs::read_dir(&dir)
        .expect("regressions dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_stem().is_some_and(|s| s == stem))
        .map(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            (format!("input.{ext}"), std::fs::read(&p).expect("read"))
        })
        .collect();
    files.sort_by_key(|(n, _)| (!n.ends_with(&format!(".{main_ext}")), n.clone()));
    assert!(!files.is_empty(), "no regression input {stem}.*");
    let work = work_dir(&out_dir().join("regressions"), stem);
    match run_files(&t, &work, &files) {
        Outcome::Pass(m) => {
            println!("{stem}: {m:?}");
            m
        }
        other => panic!("{stem}: {other:?}"),
    }
}

/// polars-parquet 0.55.2 unwrapped a checked_add of a column chunk's offset and length
/// (`column_chunk_metadata.rs:195`); here one footer byte makes the length overflow.
#[test]
fn regression_parquet_chunk_offset_overflow() {
    let m = regression("points_parquet_wkb", "parquet_chunk_offset_overflow");
    assert!(
        m.as_deref().is_some_and(|m| m.contains("input.parquet")),
        "{m:?}"
    );
}

/// polars 0.55.2 returned a DataFrame whose `lat` column was shorter than its height (a
/// malformed row group); `read_points` indexed past its end (`points.rs:346`).
#[test]
fn regression_parquet_ragged_columns() {
    let m = regression("points_parquet_lonlat", "parquet_ragged_columns");
    assert!(
        m.as_deref()
            .is_some_and(|m| m.contains("input.parquet") && m.contains("values for")),
        "{m:?}"
    );
}

/// geojson 1.0.0 indexed a position's `[0]` and `[1]` without checking its length
/// (`to_geo_types.rs:310`); here a MultiPolygon ring holds `[9]` and `[]`.
#[test]
fn regression_geojson_short_position() {
    let m = regression("boundaries_geojson", "geojson_short_position");
    assert!(
        m.as_deref()
            .is_some_and(|m| m.contains("input.geojson") && m.contains("feature 0")),
        "{m:?}"
    );
}

/// The same geojson panic reached through `CellLookup::read` of a cells GeoJSON.
#[test]
fn regression_cell_lookup_short_position() {
    let m = regression("cell_lookup", "cell_lookup_short_position");
    assert!(
        m.as_deref()
            .is_some_and(|m| m.contains("input.geojson") && m.contains("fewer than two")),
        "{m:?}"
    );
}

/// polars-io 0.55.2's CSV parser sliced `bytes[1..len - 1]` of a quoted field one byte long
/// (`csv/read/builder.rs:141`); here the last field is a lone `"`.
#[test]
fn regression_csv_lone_quote() {
    let m = regression("points_csv", "csv_lone_quote");
    // The ragged-row check before polars now refuses this file itself; either way the error
    // names the file and nothing panics.
    assert!(
        m.as_deref().is_some_and(|m| m.contains("input.csv")
            && (m.contains("CSV reader") || m.contains("the header has 2"))),
        "{m:?}"
    );
}

/// `GEOCELLS_FUZZ_SECS` seconds over the targets (see the module docs and docs/fuzzing.md).
#[test]
#[ignore = "long: run with GEOCELLS_FUZZ_SECS=... -- --ignored fuzz_long"]
fn fuzz_long() {
    let env = |k: &str| std::env::var(k).ok();
    let secs: f64 = env("GEOCELLS_FUZZ_SECS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let seed: u64 = env("GEOCELLS_FUZZ_SEED")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let only: Option<Vec<String>> =
        env("GEOCELLS_FUZZ_TARGETS").map(|s| s.split(',').map(str::to_string).collect());
    let all: Vec<Target> = targets()
        .into_iter()
        .filter(|t| only.as_ref().is_none_or(|o| o.iter().any(|n| n == t.name)))
        .collect();
    assert!(!all.is_empty(), "no target selected");
    let out = out_dir();
    let each = Duration::from_secs_f64(secs / all.len() as f64);
    println!(
        "fuzz_long: {secs} s over {} targets ({:.1} s each), seed {seed}, out {}",
        all.len(),
        each.as_secs_f64(),
        out.display()
    );
    let start = Instant::now();
    let mut reports = Vec::new();
    for t in &all {
        let r = fuzz(t, seed, Budget::Time(each), &out, Duration::from_secs(60));
        print_report(&r);
        let hang = r.hang;
        reports.push(r);
        if hang {
            break;
        }
    }
    println!(
        "--- summary (wall {:.1} s) ---",
        start.elapsed().as_secs_f64()
    );
    for r in &reports {
        print_report(r);
    }
    let n: usize = reports.iter().map(|r| r.findings.len()).sum();
    assert_eq!(n, 0, "{n} findings (see above)");
}

/// Rewrites the seeds under `data/fixtures/fuzz/seeds/` from the shipped data.
#[test]
#[ignore = "writes data/fixtures/fuzz/seeds/"]
fn make_seeds() {
    seeds::make(&common::data("fixtures/fuzz/seeds"));
}

mod seeds {
    use std::path::Path;

    use geo_types::{Geometry, MultiPolygon, Point};
    use geocells::PointsSpec;
    use geocells::files::Column;
    use geocells::files::geo_metadata;
    use geocells::files::write_parquet;
    use geocells::stages::Feature;
    use geocells::stages::read_boundaries;
    use geocells::stages::read_points;

    fn wkb(g: &Geometry<f64>, big_endian: bool) -> Vec<u8> {
        let mut buf = Vec::new();
        let endianness = if big_endian {
            wkb::Endianness::BigEndian
        } else {
            wkb::Endianness::LittleEndian
        };
        wkb::writer::write_geometry(&mut buf, g, &wkb::writer::WriteOptions { endianness })
            .expect("wkb");
        buf
    }

    fn features(rel: &str) -> Vec<Feature> {
        read_boundaries(&super::common::data(rel), &["id".into(), "name".into()])
            .expect("read fixture")
            .features
    }

    fn feature_collection(items: Vec<(serde_json::Value, &MultiPolygon<f64>)>) -> String {
        let features: Vec<serde_json::Value> = items
            .into_iter()
            .map(|(props, g)| {
                let geometry = geojson::Geometry::new(geojson::GeometryValue::from(g));
                serde_json::json!({"type": "Feature", "properties": props, "geometry": geometry})
            })
            .collect();
        serde_json::to_string_pretty(
            &serde_json::json!({"type": "FeatureCollection", "features": features}),
        )
        .expect("json")
    }

    /// EPSG:4326 in WKT2:2019, as `projinfo EPSG:4326 -o WKT2_2019 --single-line` (PROJ 9) prints it.
    const WKT2_4326: &str = r#"GEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",MEMBER["World Geodetic System 1984 (Transit)"],MEMBER["World Geodetic System 1984 (G730)"],MEMBER["World Geodetic System 1984 (G873)"],MEMBER["World Geodetic System 1984 (G1150)"],MEMBER["World Geodetic System 1984 (G1674)"],MEMBER["World Geodetic System 1984 (G1762)"],MEMBER["World Geodetic System 1984 (G2139)"],ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]],ENSEMBLEACCURACY[2.0]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],USAGE[SCOPE["Horizontal component of 3D system."],AREA["World."],BBOX[-90,-180,90,180]],ID["EPSG",4326]]"#;

    pub fn make(dir: &Path) {
        std::fs::create_dir_all(dir).expect("seeds dir");
        let fixtures = super::common::data("fixtures");
        // Points: the first rows of points_bad.csv (good and bad rows alike).
        std::fs::copy(fixtures.join("points_bad.csv"), dir.join("points.csv")).expect("csv");
        let read = read_points(&PointsSpec::new(fixtures.join("points_bad.csv"))).expect("pts");
        let mut rows: Vec<(i64, f64, f64)> = (0..read.points.len())
            .map(|i| (i as i64, read.points.lon[i], read.points.lat[i]))
            .collect();
        rows.extend(
            read.rejects
                .iter()
                .map(|r| (r.row as i64, r.lon, r.lat))
                .take(3),
        );
        let n = rows.len();
        let pts: Vec<Vec<u8>> = rows
            .iter()
            .map(|&(_, x, y)| wkb(&Geometry::Point(Point::new(x, y)), false))
            .collect();
        write_parquet(
            &dir.join("points_wkb.parquet"),
            &["id", "geometry"],
            &[Column::I64(vec![]), Column::Bin(vec![])],
            n,
            n,
            vec![(
                "geo".to_string(),
                geo_metadata("geometry", &["Point"], None),
            )],
            |r| {
                vec![
                    Column::I64(rows[r.clone()].iter().map(|p| p.0).collect()),
                    Column::Bin(pts[r].to_vec()),
                ]
            },
        )
        .expect("points_wkb");
        write_parquet(
            &dir.join("points_lonlat.parquet"),
            &["id", "lon", "lat"],
            &[
                Column::I64(vec![]),
                Column::F64(vec![]),
                Column::F64(vec![]),
            ],
            n,
            n,
            vec![],
            |r| {
                let s = &rows[r];
                vec![
                    Column::I64(s.iter().map(|p| p.0).collect()),
                    Column::F64(s.iter().map(|p| p.1).collect()),
                    Column::F64(s.iter().map(|p| p.2).collect()),
                ]
            },
        )
        .expect("points_lonlat");
        // Evaluation table: truth, predicted coordinates and a predicted cell. Only rows with
        // a valid truth: `evaluate` refuses a file with a row it cannot score.
        let rows: Vec<_> = rows
            .iter()
            .copied()
            .filter(|p| p.1.abs() <= 180.0 && p.2.abs() <= 90.0)
            .collect();
        let n = rows.len();
        let mut csv = String::from("id,lon,lat,pred_lon,pred_lat,cell\n");
        for (i, &(id, x, y)) in rows.iter().enumerate() {
            csv += &format!("{id},{x},{y},{},{},{}\n", x + 0.5, y - 0.25, i % 3);
        }
        std::fs::write(dir.join("eval.csv"), &csv).expect("eval.csv");
        write_parquet(
            &dir.join("eval.parquet"),
            &["lon", "lat", "pred_lon", "pred_lat", "cell"],
            &[
                Column::F64(vec![]),
                Column::F64(vec![]),
                Column::F64(vec![]),
                Column::F64(vec![]),
                Column::I64(vec![]),
            ],
            n,
            n,
            vec![],
            |r| {
                let s = &rows[r.clone()];
                vec![
                    Column::F64(s.iter().map(|p| p.1).collect()),
                    Column::F64(s.iter().map(|p| p.2).collect()),
                    Column::F64(s.iter().map(|p| p.1 + 0.5).collect()),
                    Column::F64(s.iter().map(|p| p.2 - 0.25).collect()),
                    Column::I64(r.map(|i| (i % 3) as i64).collect()),
                ]
            },
        )
        .expect("eval.parquet");
        // Cells: the us-atlas counties of Rhode Island and Delaware, cell_id 0..8.
        let counties = features("fixtures/us_atlas_counties_ri_de.geojson");
        let blobs: Vec<Vec<u8>> = counties
            .iter()
            .map(|f| wkb(&Geometry::MultiPolygon(f.geometry.clone()), false))
            .collect();
        let m = counties.len();
        write_parquet(
            &dir.join("cells.parquet"),
            &["cell_id", "name", "geometry"],
            &[
                Column::I64(vec![]),
                Column::Str(vec![]),
                Column::Bin(vec![]),
            ],
            m,
            m,
            vec![(
                "geo".to_string(),
                geo_metadata("geometry", &["MultiPolygon"], None),
            )],
            |r| {
                vec![
                    Column::I64(r.clone().map(|i| i as i64).collect()),
                    Column::Str(
                        counties[r.clone()]
                            .iter()
                            .map(|f| f.props["name"].clone())
                            .collect(),
                    ),
                    Column::Bin(blobs[r].to_vec()),
                ]
            },
        )
        .expect("cells.parquet");
        let cells = feature_collection(
            counties
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    (
                        serde_json::json!({"cell_id": i, "name": f.props["name"]}),
                        &f.geometry,
                    )
                })
                .collect(),
        );
        std::fs::write(dir.join("cells.geojson"), cells).expect("cells.geojson");
        // Boundaries: the us-atlas states Rhode Island and Delaware as GeoJSON and Shapefile.
        let states = features("fixtures/us_atlas_states_ri_de.geojson");
        let gj = feature_collection(
            states
                .iter()
                .map(|f| {
                    (
                        serde_json::json!({"id": f.props["id"], "name": f.props["name"]}),
                        &f.geometry,
                    )
                })
                .collect(),
        );
        std::fs::write(dir.join("states.geojson"), gj).expect("states.geojson");
        {
            use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
            let field = |s: &str| FieldName::try_from(s).expect("field name");
            let table = TableWriterBuilder::new()
                .add_character_field(field("id"), 8)
                .add_character_field(field("name"), 40);
            let mut w =
                shapefile::Writer::from_path(dir.join("states.shp"), table).expect("shp writer");
            for f in &states {
                let shape = shapefile::Polygon::from(f.geometry.clone());
                let mut rec = Record::default();
                for k in ["id", "name"] {
                    rec.insert(k.into(), FieldValue::Character(Some(f.props[k].clone())));
                }
                w.write_shape_and_record(&shape, &rec).expect("shape");
            }
        }
        // .prj texts: the shipped fixtures' EPSG:4326 and EPSG:3857, and a WKT2 EPSG:4326.
        std::fs::copy(
            fixtures.join("lesotho_south_africa_admin1.prj"),
            dir.join("wgs84.prj"),
        )
        .expect("prj");
        std::fs::copy(
            fixtures.join("lesotho_south_africa_admin1_3857.prj"),
            dir.join("mercator.prj"),
        )
        .expect("prj");
        std::fs::write(dir.join("wgs84_wkt2.prj"), WKT2_4326).expect("prj");
        // WKB blobs: a point (both byte orders), a polygon with a hole, a county multipolygon.
        let p = Geometry::Point(Point::new(-71.4, 41.8));
        std::fs::write(dir.join("point.wkb"), wkb(&p, false)).expect("wkb");
        std::fs::write(dir.join("point_be.wkb"), wkb(&p, true)).expect("wkb");
        let outer = geo_types::LineString::from(vec![
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
            (0.0, 0.0),
        ]);
        let hole = geo_types::LineString::from(vec![
            (1.0, 1.0),
            (1.0, 2.0),
            (2.0, 2.0),
            (2.0, 1.0),
            (1.0, 1.0),
        ]);
        let poly = Geometry::Polygon(geo_types::Polygon::new(outer, vec![hole]));
        std::fs::write(dir.join("polygon.wkb"), wkb(&poly, false)).expect("wkb");
        let smallest = counties
            .iter()
            .min_by_key(|f| blobs[f.index].len())
            .expect("a county");
        std::fs::write(dir.join("multipolygon.wkb"), &blobs[smallest.index]).expect("wkb");
        std::fs::write(
            dir.join("geo_metadata.json"),
            geo_metadata(
                "geometry",
                &["Polygon", "MultiPolygon"],
                Some([0.0, 0.0, 4.0, 4.0]),
            ),
        )
        .expect("geo");
    }
}
