//! `assign_cells`: label new points (a validation set, a photo collection) with the cells of an
//! existing run. Points inside a cell get it; points off every cell get the nearest one, with
//! the distance in `off_cell_km`. Unreadable rows go to `<OUT stem>_rejects.parquet` with their
//! reason, so every input row is accounted for. Both files carry the same run id and a lock
//! keeps two runs from writing the same output; `--check OUT` verifies a pair.
//!
//! ```text
//! cargo run --release --example assign_cells -- --cells out/cells.parquet \
//!     --points val.parquet --out val_cells.parquet
//! ```

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use geocells::CellLookup;
use geocells::PointsSpec;
use geocells::stages::read_points;

/// Label points with the cells of cells.parquet / cells.geojson.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Cells written by build_cells (cells.parquet or cells.geojson).
    #[arg(long, default_value = "out/cells.parquet")]
    cells: PathBuf,
    /// Points: GeoParquet (WKB points) or Parquet/CSV with lon/lat columns.
    #[arg(long)]
    points: Option<PathBuf>,
    /// Longitude column (default: auto-detect).
    #[arg(long)]
    lon_col: Option<String>,
    /// Latitude column (default: auto-detect).
    #[arg(long)]
    lat_col: Option<String>,
    /// Id column (default: auto-detect, else the row number).
    #[arg(long)]
    id_col: Option<String>,
    /// Output Parquet: id, row, lon, lat, cell_id, off_cell_km; unreadable rows go to
    /// `<OUT stem>_rejects.parquet` (always written, with no rows when none was rejected).
    /// Both carry the same run id. Not inside a build_cells output directory, which a run
    /// replaces whole.
    #[arg(long, default_value = "assigned.parquet")]
    out: PathBuf,
    /// Check that FILE and its `_rejects.parquet` are one complete assignment (same run id,
    /// labelled + rejected = input rows) and exit: 0 when they are, 1 when not.
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if let Some(path) = &args.check {
        let c = geocells::files::check_assigned(path)?;
        for (name, bytes, rows) in &c.files {
            println!("  {name}: {bytes} bytes, {} rows", rows.unwrap_or(0));
        }
        if !c.is_consistent() {
            eprintln!("error: {} is not one complete assignment:", path.display());
            for p in &c.problems {
                eprintln!("  - {p}");
            }
            std::process::exit(1);
        }
        println!(
            "OK: one complete assignment, run id {}",
            c.run_id.unwrap_or_default()
        );
        return Ok(());
    }
    let Some(points) = args.points.clone() else {
        return Err("--points is required (the points to label)".into());
    };
    let t = Instant::now();
    // Checked and locked before reading anything.
    let out = geocells::files::OutputFile::prepare(&args.out)?;
    let lookup = CellLookup::read(&args.cells)?;
    let t_cells = t.elapsed().as_secs_f64();
    let mut spec = PointsSpec::new(&points);
    spec.lon_column.clone_from(&args.lon_col);
    spec.lat_column.clone_from(&args.lat_col);
    spec.id_column.clone_from(&args.id_col);
    let read = read_points(&spec)?;
    let t_read = t.elapsed().as_secs_f64() - t_cells;
    let located = lookup.locate_all(&read.points);
    let t_locate = t.elapsed().as_secs_f64() - t_cells - t_read;
    // The run id: what determines the output (version, cells file, points file, columns).
    let run_id = geocells::files::assignment_run_id(
        &args.cells,
        &points,
        [
            args.lon_col.as_deref(),
            args.lat_col.as_deref(),
            args.id_col.as_deref(),
        ],
    );
    let metadata = vec![
        (geocells::files::RUN_ID_KEY.to_string(), run_id.clone()),
        (
            geocells::files::INPUT_ROWS_KEY.to_string(),
            read.total_rows.to_string(),
        ),
    ];
    // The rejects first (always, possibly with no rows, so no stale file survives), then the
    // labels: both carry the run id, so a pair from two runs is detectable (--check).
    geocells::files::write_rejects_parquet(&read.rejects, out.rejects(), &run_id)?;
    geocells::files::write_located_parquet(out.target(), &read.points, &located, &metadata)?;
    let off = located.iter().filter(|l| l.1 > 0.0).count();
    println!(
        "{} rows: {} labelled ({} off every cell, given the nearest), {} rejected -> {}",
        read.total_rows,
        located.len(),
        off,
        read.rejects.len(),
        out.rejects().display()
    );
    println!(
        "read cells {t_cells:.2} s, read points {t_read:.2} s, locate {t_locate:.2} s, total {:.2} s -> {} (run id {run_id})",
        t.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}
