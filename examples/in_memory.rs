//! Cells from data held in memory: a few hundred generated points and two made-up countries
//! drawn as geo-types polygons, with no file read or written. Prints the cells, their sizes and
//! a few labels.
//!
//! `cargo run --release --example in_memory`

use geo::wkt;
use geocells::BoundaryFeature;
use geocells::BoundarySpec;
use geocells::Inputs;
use geocells::LevelSpec;
use geocells::NoProgress;
use geocells::Params;
use geocells::Pipeline;
use geocells::PointsSpec;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two countries side by side, each in two provinces.
    let provinces = [
        (
            "W-N",
            "West North",
            "WST",
            "Westland",
            wkt!(POLYGON((0. 1., 1. 1., 1. 2., 0. 2., 0. 1.))),
        ),
        (
            "W-S",
            "West South",
            "WST",
            "Westland",
            wkt!(POLYGON((0. 0., 1. 0., 1. 1., 0. 1., 0. 0.))),
        ),
        (
            "E-N",
            "East North",
            "EST",
            "Eastland",
            wkt!(POLYGON((1. 1., 2. 1., 2. 2., 1. 2., 1. 1.))),
        ),
        (
            "E-S",
            "East South",
            "EST",
            "Eastland",
            wkt!(POLYGON((1. 0., 2. 0., 2. 1., 1. 1., 1. 0.))),
        ),
    ];
    let features = provinces.into_iter().map(|(code, name, cc, cn, poly)| {
        BoundaryFeature::new(code, poly).name(name).country(cc, cn)
    });
    // 600 pseudo-random points (a fixed seed), a third of them in the south-west corner.
    let (mut lon, mut lat) = (Vec::new(), Vec::new());
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..600 {
        let (x, y) = (next(), next());
        // A third of the points crowd the south-west corner.
        let s = if i % 3 == 0 { 0.3 } else { 2.0 };
        lon.push(x * s * 0.999);
        lat.push(y * s * 0.999);
    }
    let inputs = Inputs::new(
        PointsSpec::lonlat(lon, lat),
        BoundarySpec {
            admin1: Some(LevelSpec::polygons(features)),
            ..Default::default()
        },
    );
    let params = Params::default().min_size(20).max_size(120);
    let run = Pipeline::new(params)?.run(&inputs, &NoProgress)?;
    run.validate()?;
    println!(
        "{} points labelled, {} rejected, {} cells",
        run.point_cells().points.len(),
        run.rejects().len(),
        run.cells().len()
    );
    for c in run.cells().cells() {
        println!(
            "  cell {:>2}  {:<12} {:<10} {:>4} points",
            c.id, c.name, c.country_name, c.size
        );
    }
    // The labels as a polars DataFrame (the columns of points.parquet but its geometry).
    let labels = run.labels_frame()?;
    let (lon, lat) = (labels.column("lon")?.f64()?, labels.column("lat")?.f64()?);
    let (cell, area) = (
        labels.column("cell_id")?.i64()?,
        labels.column("area")?.str()?,
    );
    println!(
        "first labels ({} rows, {} columns):",
        labels.height(),
        labels.width()
    );
    for i in 0..5 {
        println!(
            "  ({:.3}, {:.3}) -> cell {} in {}",
            lon.get(i).unwrap_or(f64::NAN),
            lat.get(i).unwrap_or(f64::NAN),
            cell.get(i).unwrap_or(-1),
            area.get(i).unwrap_or("?")
        );
    }
    Ok(())
}
