//! `assign_cells`: label new points (a validation set, a photo collection) with the cells of an
//! existing run. Points inside a cell get it; points off every cell get the nearest one, with
//! the distance in `off_cell_km`. Unreadable rows go to `<OUT stem>_rejects.parquet` with their
//! reason, so every input row is accounted for.
//!
//! ```text
//! cargo run --release --example assign_cells -- --cells out/cells.parquet \
//!     --points val.parquet --out val_cells.parquet
//! ```

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use geocells::assign::CellLookup;
use geocells::io::points::{PointsSpec, read_points};

/// Label points with the cells of cells.parquet / cells.geojson.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Cells written by build_cells (cells.parquet or cells.geojson).
    #[arg(long, default_value = "out/cells.parquet")]
    cells: PathBuf,
    /// Points: GeoParquet (WKB points) or Parquet/CSV with lon/lat columns.
    #[arg(long)]
    points: PathBuf,
    /// Longitude column (default: auto-detect).
    #[arg(long)]
    lon_col: Option<String>,
    /// Latitude column (default: auto-detect).
    #[arg(long)]
    lat_col: Option<String>,
    /// Id column (default: auto-detect, else the row number).
    #[arg(long)]
    id_col: Option<String>,
    /// Output Parquet: id, row, lon, lat, cell_id, off_cell_km.
    #[arg(long, default_value = "out/assigned.parquet")]
    out: PathBuf,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let t = Instant::now();
    let lookup = CellLookup::read(&args.cells)?;
    let t_cells = t.elapsed().as_secs_f64();
    let mut spec = PointsSpec::new(&args.points);
    spec.lon_column = args.lon_col.clone();
    spec.lat_column = args.lat_col.clone();
    spec.id_column = args.id_col.clone();
    let read = read_points(&spec)?;
    let t_read = t.elapsed().as_secs_f64() - t_cells;
    let located = lookup.locate_all(&read.points);
    let t_locate = t.elapsed().as_secs_f64() - t_cells - t_read;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    geocells::export::write_located_parquet(&args.out, &read.points, &located)?;
    let off = located.iter().filter(|l| l.1 > 0.0).count();
    println!(
        "{} rows: {} labelled ({} off every cell, given the nearest), {} rejected",
        read.total_rows,
        located.len(),
        off,
        read.rejects.len()
    );
    if !read.rejects.is_empty() {
        let stem = args
            .out
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "assigned".into());
        let p = args.out.with_file_name(format!("{stem}_rejects.parquet"));
        geocells::export::write_rejects_parquet(&read.rejects, &p)?;
        println!("rejects: {}", p.display());
    }
    println!(
        "read cells {t_cells:.2} s, read points {t_read:.2} s, locate {t_locate:.2} s, total {:.2} s -> {}",
        t.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}
