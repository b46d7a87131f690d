//! `evaluate`: prediction metrics of a geolocation model: median and mean great-circle error,
//! accuracy at 1 / 25 / 200 / 750 / 2500 km and the mean GeoGuessr score
//! (`geocells::evaluate_file`). Input: a CSV or Parquet table with the true coordinates and either
//! predicted coordinates or a predicted `cell_id` (turned into the cell's centroid from a cells
//! file).
//!
//! Every row counts: a row whose prediction is missing or invalid, or whose predicted cell is not
//! in the cells file, is a miss (an infinite error: within no threshold, GeoGuessr score 0). A row
//! without a valid true coordinate cannot be scored: the table is refused with an error naming the
//! first such rows. An empty table is an error. The counts and the rule are printed and are in the
//! JSON line (`rows`, `scored`, `missing_prediction`, `unknown_cell`, `rule`, `stats`).
//!
//! ```text
//! cargo run --release --example evaluate -- --predictions preds.csv            # true_lon,true_lat,pred_lon,pred_lat
//! cargo run --release --example evaluate -- --predictions preds.csv --cells out/cells.parquet  # true_lon,true_lat,pred_cell
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;
use geocells::Predicted;
use geocells::evaluate_file;

/// Prediction metrics from true and predicted locations.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// CSV or Parquet with the columns below.
    #[arg(long)]
    predictions: PathBuf,
    /// True longitude column.
    #[arg(long, default_value = "true_lon")]
    true_lon: String,
    /// True latitude column.
    #[arg(long, default_value = "true_lat")]
    true_lat: String,
    /// Predicted longitude column (without --cells).
    #[arg(long, default_value = "pred_lon")]
    pred_lon: String,
    /// Predicted latitude column (without --cells).
    #[arg(long, default_value = "pred_lat")]
    pred_lat: String,
    /// Predicted cell column (with --cells).
    #[arg(long, default_value = "pred_cell")]
    pred_cell: String,
    /// Cells file (cells.parquet) whose centroids stand for predicted cells.
    #[arg(long)]
    cells: Option<PathBuf>,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let predicted = match &args.cells {
        Some(cells) => {
            let file = geocells::stages::read_boundaries(
                cells,
                &[
                    "cell_id".into(),
                    "centroid_lon".into(),
                    "centroid_lat".into(),
                ],
            )?;
            let mut centroids = BTreeMap::new();
            for f in &file.features {
                let get = |k: &str| f.props.get(k).and_then(|v| v.parse::<f64>().ok());
                if let (Some(id), Some(x), Some(y)) =
                    (get("cell_id"), get("centroid_lon"), get("centroid_lat"))
                {
                    centroids.insert(id as i64, (x, y));
                }
            }
            Predicted::Cells {
                column: args.pred_cell.clone(),
                centroids,
            }
        }
        None => Predicted::Coordinates {
            lon: args.pred_lon.clone(),
            lat: args.pred_lat.clone(),
        },
    };
    let e = evaluate_file(
        &args.predictions,
        &args.true_lon,
        &args.true_lat,
        &predicted,
    )?;
    let m = &e.stats;
    println!("rule: {}", e.rule);
    println!(
        "rows {} (scored {}, missing prediction {}, unknown cell {})",
        e.rows, e.scored, e.missing_prediction, e.unknown_cell
    );
    println!("median error km {:.2}", m.median_km);
    println!(
        "mean error km {:.2} (scored rows only: {:.2})",
        m.mean_km, e.mean_km_scored
    );
    for a in &m.accuracy {
        println!("accuracy within {} km {:.4}", a.km, a.fraction);
    }
    println!("GeoGuessr score (mean) {:.1}", m.geoguessr);
    println!("{}", serde_json::to_string(&e)?);
    if e.scored == 0 {
        eprintln!(
            "warning: no row of {} has a usable prediction (check --pred-lon/--pred-lat or \
             --pred-cell and --cells)",
            args.predictions.display()
        );
    }
    Ok(())
}
