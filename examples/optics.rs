//! `optics`: run geocells' OPTICS (xi extraction) on a CSV of planar points, so anyone can
//! compare it with scikit-learn's `OPTICS(min_samples, xi, max_eps=inf, metric="minkowski", p=2)`.
//!
//! ```text
//! cargo run --release --example optics -- [--sphere] POINTS.csv MIN_SAMPLES XI OUT.csv
//! ```
//!
//! POINTS.csv has a header with columns `x,y` (other columns are ignored). Planar points run
//! `optics_planar_fast`; with `--sphere`, `x,y` are lon/lat degrees and `optics_sphere` (chord
//! distance in km, the split's metric) runs instead. The line printed at the end gives the
//! OPTICS time alone (without reading and writing the CSVs). OUT.csv gets
//! `index,order_rank,reachability,core_distance,predecessor,label`, one row per point in input
//! order; infinity is written `inf`, "none" as -1, floats in shortest round-trip form.

use std::io::Write;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let sphere = args.first().is_some_and(|a| a == "--sphere");
    if sphere {
        args.remove(0);
    }
    if args.len() != 4 || args[0] == "--help" || args[0] == "-h" {
        return Err(
            "usage: optics [--sphere] POINTS.csv MIN_SAMPLES XI OUT.csv \
                    (POINTS.csv has columns x,y; lon,lat degrees with --sphere)"
                .into(),
        );
    }
    let text = std::fs::read_to_string(&args[0]).map_err(|e| format!("{}: {e}", args[0]))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or(format!("{}: empty file", args[0]))?
        .split(',')
        .map(str::trim)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or(format!(
                "{}: no column '{name}' (columns: {})",
                args[0],
                header.join(", ")
            ))
    };
    let (xi_col, yi_col) = (col("x")?, col("y")?);
    let mut points = Vec::new();
    for (row, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let parse = |i: usize| -> Result<f64, String> {
            f.get(i)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .ok_or(format!(
                    "{}: row {}: cannot read a number in column {}",
                    args[0],
                    row + 1,
                    header[i]
                ))
        };
        points.push([parse(xi_col)?, parse(yi_col)?]);
    }
    let min_samples: usize = args[1]
        .parse()
        .map_err(|_| format!("MIN_SAMPLES '{}' is not a whole number", args[1]))?;
    let xi: f64 = args[2]
        .parse()
        .map_err(|_| format!("XI '{}' is not a number", args[2]))?;
    let params = geocells::algorithms::OpticsParams::new(min_samples, xi);
    let start = std::time::Instant::now();
    let result = if sphere {
        let lonlat: Vec<(f64, f64)> = points.iter().map(|p| (p[0], p[1])).collect();
        geocells::algorithms::optics_sphere(&lonlat, &params)?
    } else {
        geocells::algorithms::optics_planar_fast(&points, &params)?
    };
    let secs = start.elapsed().as_secs_f64();
    let mut rank = vec![0usize; points.len()];
    for (r, &i) in result.ordering.iter().enumerate() {
        rank[i] = r;
    }
    let fmt = |v: f64| {
        if v.is_infinite() {
            "inf".to_string()
        } else {
            format!("{v:?}")
        }
    };
    let mut out = String::from("index,order_rank,reachability,core_distance,predecessor,label\n");
    for (i, r) in rank.iter().enumerate() {
        out.push_str(&format!(
            "{i},{r},{},{},{},{}\n",
            fmt(result.reachability[i]),
            fmt(result.core_distances[i]),
            result.predecessor[i].map_or(-1, |p| p as i64),
            result.labels[i]
        ));
    }
    geocells::files::write_atomic(std::path::Path::new(&args[3]), |w| {
        w.write_all(out.as_bytes()).map_err(|e| e.to_string())
    })?;
    let clusters = result
        .labels
        .iter()
        .copied()
        .filter(|&l| l >= 0)
        .max()
        .map_or(0, |m| m + 1);
    let noise = result.labels.iter().filter(|&&l| l < 0).count();
    println!(
        "{} points, {clusters} clusters, {noise} noise -> {} (OPTICS {secs:.3} s)",
        points.len(),
        args[3]
    );
    Ok(())
}
