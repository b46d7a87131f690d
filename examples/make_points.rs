//! `make_points`: a seeded synthetic training set of N points, written as GeoParquet (`id`,
//! `lon`, `lat`, WKB `geometry`): GeoNames places (`data/geonames_cities1000.parquet`) drawn
//! with probability proportional to population^POWER, each point offset by a Gaussian of
//! SIGMA km. The same arguments give the same file on every machine.
//!
//! ```text
//! cargo run --release --example make_points -- N OUT.parquet [SEED] [SIGMA_KM] [POWER]
//! cargo run --release --example make_points -- 1000000 /tmp/points_1m.parquet
//! cargo run --release --example build_cells -- --points /tmp/points_1m.parquet --preset pigeotto
//! ```
//! Defaults: SEED 42, SIGMA_KM 5, POWER 0.5 (between every place alike, 0, and raw population,
//! 1).

use std::path::PathBuf;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        eprintln!("usage: make_points N OUT.parquet [SEED] [SIGMA_KM] [POWER]");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("expected at least N and OUT.parquet".into());
    }
    let n: usize = args[0]
        .parse()
        .map_err(|e| format!("N '{}': {e}", args[0]))?;
    let out = PathBuf::from(&args[1]);
    let seed: u64 = args.get(2).map_or(Ok(42), |s| s.parse())?;
    let sigma: f64 = args.get(3).map_or(Ok(5.0), |s| s.parse())?;
    let power: f64 = args.get(4).map_or(Ok(0.5), |s| s.parse())?;
    let places = geocells::algorithms::geonames_places(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/geonames_cities1000.parquet"),
        power,
    )?;
    let pts = geocells::algorithms::scatter(&places, n, seed, sigma);
    let lon: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let lat: Vec<f64> = pts.iter().map(|p| p.1).collect();
    geocells::files::write_lonlat_parquet(&out, &lon, &lat)?;
    println!(
        "wrote {} points around {} places (seed {seed}, sigma {sigma} km, population^{power}) to {}",
        pts.len(),
        places.len(),
        out.display()
    );
    Ok(())
}
