//! Metrics: prediction errors of a geolocation model, and the quality of a partition.
//!
//! Prediction metrics follow the image-geolocation literature (Im2GPS, PIGEON, OSV-5M): median
//! and mean great-circle error, accuracy within 1 / 25 / 200 / 750 / 2500 km (street, city,
//! region, country, continent), and the GeoGuessr score `5000 exp(-d / 1492.7)` (d in km).
//!
//! Partition quality: size distribution, Gini coefficient of the sizes, normalised entropy of the
//! class distribution (1 = all cells equally large), the effective number of classes
//! `exp(entropy)`, the quantization error (distance from each point to its cell's centroid), the
//! oracle accuracy (every point predicted as its cell's centroid) at each threshold, and the
//! number of multi-polygon cells.
//!
//! [`evaluate_file`] scores a predictions table: every row counts ([`EVALUATION_RULE`]). A
//! missing or invalid prediction, or a predicted cell the cells file does not have, is a miss
//! (an infinite error), never a row left out, so a model cannot score better by predicting
//! less; rows without a valid true coordinate make the table an error naming them, and a table
//! without rows is an error.
//!
//! Complexity: `O(n log n)` for `n` points (one sort for the median).

use serde::Serialize;

use crate::geom::geodesy::haversine_km;

/// The accuracy thresholds in km: street, city, region, country, continent.
pub const THRESHOLDS_KM: [f64; 5] = [1.0, 25.0, 200.0, 750.0, 2500.0];

/// GeoGuessr's score for an error of `d_km`: `5000 exp(-d / 1492.7)`.
///
/// ```
/// assert_eq!(geocells::algorithms::geoguessr_score(0.0), 5000.0);
/// assert!((geocells::algorithms::geoguessr_score(1492.7) - 5000.0 / std::f64::consts::E).abs() < 1e-9);
/// ```
pub fn geoguessr_score(d_km: f64) -> f64 {
    5000.0 * (-d_km / 1492.7).exp()
}

/// Accuracy at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Accuracy {
    /// Threshold in km.
    pub km: f64,
    /// Fraction of samples within it.
    pub fraction: f64,
}

/// Error statistics of a set of distances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorStats {
    /// Samples.
    pub n: usize,
    /// Median error in km (mean of the two middle values for an even count).
    pub median_km: f64,
    /// Mean error in km.
    pub mean_km: f64,
    /// Accuracy at `THRESHOLDS_KM`.
    pub accuracy: Vec<Accuracy>,
    /// Mean GeoGuessr score.
    pub geoguessr: f64,
}

/// Statistics of errors `d_km` (NaN entries are ignored; an infinite entry is a miss: it counts
/// in every denominator, is within no threshold and scores 0).
///
/// ```
/// let s = geocells::algorithms::error_stats(&[0.5, 10.0, 300.0, 1000.0]);
/// assert_eq!(s.median_km, 155.0);
/// assert_eq!(s.accuracy[0].fraction, 0.25); // within 1 km
/// ```
pub fn error_stats(d_km: &[f64]) -> ErrorStats {
    let mut d: Vec<f64> = d_km.iter().copied().filter(|x| !x.is_nan()).collect();
    d.sort_by(f64::total_cmp);
    let n = d.len();
    let median_km = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => d[n / 2],
        _ => (d[n / 2 - 1] + d[n / 2]) / 2.0,
    };
    let nf = n.max(1) as f64;
    ErrorStats {
        n,
        median_km,
        mean_km: if n == 0 {
            f64::NAN
        } else {
            d.iter().sum::<f64>() / nf
        },
        accuracy: THRESHOLDS_KM
            .iter()
            .map(|&km| Accuracy {
                km,
                fraction: d.partition_point(|&x| x <= km) as f64 / nf,
            })
            .collect(),
        geoguessr: if n == 0 {
            f64::NAN
        } else {
            d.iter().map(|&x| geoguessr_score(x)).sum::<f64>() / nf
        },
    }
}

/// Prediction metrics from true and predicted lon/lat pairs (in order).
pub fn prediction_metrics(truth: &[(f64, f64)], predicted: &[(f64, f64)]) -> ErrorStats {
    let d: Vec<f64> = truth
        .iter()
        .zip(predicted)
        .map(|(&t, &p)| haversine_km(t, p))
        .collect();
    error_stats(&d)
}

/// Quality of a partition of labelled points into classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionQuality {
    /// Number of classes.
    pub cells: usize,
    /// Points.
    pub points: usize,
    /// Gini coefficient of the class sizes (0 = all equal).
    pub gini: f64,
    /// Entropy of the class distribution divided by `ln(cells)` (1 = all equal).
    pub entropy_normalised: f64,
    /// `exp(entropy)`: the number of equally large classes with the same entropy.
    pub effective_classes: f64,
    /// Distance from each point to its class centroid.
    pub quantization: ErrorStats,
}

/// Gini coefficient of non-negative sizes: `sum_i sum_j |x_i - x_j| / (2 n^2 mean)`.
///
/// ```
/// assert_eq!(geocells::algorithms::gini(&[5, 5, 5, 5]), 0.0);
/// assert_eq!(geocells::algorithms::gini(&[0, 0, 0, 4]), 0.75);
/// ```
pub fn gini(sizes: &[usize]) -> f64 {
    let mut x: Vec<f64> = sizes.iter().map(|&s| s as f64).collect();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let total: f64 = x.iter().sum();
    if x.is_empty() || total == 0.0 {
        return 0.0;
    }
    // Sorted form: G = 2 sum_i i x_(i) / (n sum x) - (n + 1) / n, i from 1.
    let weighted: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64 + 1.0) * v)
        .sum();
    2.0 * weighted / (n * total) - (n + 1.0) / n
}

/// Entropy (natural log) of the distribution `sizes / sum(sizes)`.
pub fn entropy(sizes: &[usize]) -> f64 {
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let t = total as f64;
    sizes
        .iter()
        .filter(|&&s| s > 0)
        .map(|&s| {
            let p = s as f64 / t;
            -p * p.ln()
        })
        .sum()
}

/// Quality of the partition that puts point `i` (at `points[i]`) in class `class[i]`, the
/// class centroids being `centroids[c]` (the quantization error and the oracle accuracy measure
/// each point against its class centroid).
pub fn partition_quality(
    points: &[(f64, f64)],
    class: &[u32],
    centroids: &[(f64, f64)],
) -> PartitionQuality {
    let mut sizes = vec![0usize; centroids.len()];
    for &c in class {
        if let Some(s) = sizes.get_mut(c as usize) {
            *s += 1;
        }
    }
    let d: Vec<f64> = points
        .iter()
        .zip(class)
        .map(|(&p, &c)| {
            centroids
                .get(c as usize)
                .map_or(f64::NAN, |&q| haversine_km(p, q))
        })
        .collect();
    let h = entropy(&sizes);
    let k = centroids.len();
    PartitionQuality {
        cells: k,
        points: points.len(),
        gini: gini(&sizes),
        entropy_normalised: if k > 1 { h / (k as f64).ln() } else { 1.0 },
        effective_classes: h.exp(),
        quantization: error_stats(&d),
    }
}

/// Where the predictions of [`evaluate_file`] are.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicted {
    /// Predicted coordinates in these lon / lat columns.
    Coordinates {
        /// Longitude column.
        lon: String,
        /// Latitude column.
        lat: String,
    },
    /// A predicted cell id in this column, placed at the centroid given for it.
    Cells {
        /// The integer cell column.
        column: String,
        /// `centroids[cell_id]`.
        centroids: std::collections::BTreeMap<i64, (f64, f64)>,
    },
}

/// The rule [`evaluate_file`] applies, as printed by `evaluate` and stored in
/// [`Evaluation::rule`].
pub const EVALUATION_RULE: &str = "every row counts: a missing or invalid prediction or an \
unknown cell is a miss (an infinite error: outside every threshold, GeoGuessr score 0, sorted \
last for the median); rows without a valid true coordinate are refused";

/// What [`evaluate_file`] measured: statistics over every row of the table, and the counts
/// behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Rows in the table; every one is in the statistics (`stats.n == rows`).
    pub rows: usize,
    /// Rows with a usable prediction, whose error is a distance.
    pub scored: usize,
    /// Rows whose prediction is missing or invalid (null, not a number, NaN, out of range): misses.
    pub missing_prediction: usize,
    /// Rows whose predicted cell has no centroid in the cells file (or is not an integer): misses.
    pub unknown_cell: usize,
    /// `EVALUATION_RULE`.
    pub rule: &'static str,
    /// Statistics over all `rows`, a miss counting as an infinite error: the accuracies and the
    /// GeoGuessr score have every row in their denominator; the mean is infinite (`null` in
    /// JSON) as soon as one row misses, and so is the median when half the rows or more miss.
    pub stats: ErrorStats,
    /// Mean error in km over the `scored` rows only (NaN when none is).
    pub mean_km_scored: f64,
}

/// Why [`evaluate_file`] cannot score a table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluateError {
    /// The table cannot be read, lacks a column, or a column has the wrong type.
    #[error(transparent)]
    Io(#[from] crate::input::files::IoError),
    /// Rows without a valid true coordinate: they cannot be scored, and leaving them out would
    /// flatter the model, so the table is refused.
    #[error(
        "{path}: {count} row(s) have no valid true coordinate in '{lon}' / '{lat}' and cannot be \
         scored (rows counted from 0): {first}; fix or drop them"
    )]
    BadTruth {
        /// The table.
        path: std::path::PathBuf,
        /// The true longitude column.
        lon: String,
        /// The true latitude column.
        lat: String,
        /// How many rows.
        count: usize,
        /// The first few, as `row 3 (missing_coordinate)`, comma separated.
        first: String,
    },
}

/// Prediction metrics of a CSV / Parquet table with true coordinates in `true_lon` /
/// `true_lat` and the predictions as `predicted` says.
///
/// Every row counts (`EVALUATION_RULE`): a row whose prediction is missing or invalid, or
/// names a cell without a centroid, is a miss with an infinite error, so it lowers every
/// accuracy and the GeoGuessr score instead of leaving the denominator. A predicted cell is read
/// as a number and must be an integer (`3.0` is cell 3, as pandas writes an integer column
/// with gaps).
///
/// # Errors
/// [`EvaluateError::Io`] when the table cannot be read (an empty table or one with only a
/// header included) or lacks a column; [`EvaluateError::BadTruth`] naming the first rows
/// without a valid true coordinate and their count.
pub fn evaluate_file(
    path: &std::path::Path,
    true_lon: &str,
    true_lat: &str,
    predicted: &Predicted,
) -> Result<Evaluation, EvaluateError> {
    use crate::input::points::{PointsSpec, RejectReason, read_points};
    let truth = read_points(
        &PointsSpec::new(path)
            .lon_column(true_lon)
            .lat_column(true_lat),
    )?;
    if !truth.rejects.is_empty() {
        let first: Vec<String> = truth
            .rejects
            .iter()
            .take(5)
            .map(|r| format!("row {} ({})", r.row, r.reason.code()))
            .collect();
        return Err(EvaluateError::BadTruth {
            path: path.to_path_buf(),
            lon: true_lon.to_string(),
            lat: true_lat.to_string(),
            count: truth.rejects.len(),
            first: first.join(", "),
        });
    }
    let n = truth.total_rows;
    let mut pred: Vec<Option<(f64, f64)>> = vec![None; n];
    let mut missing_prediction = 0;
    let mut unknown_cell = 0;
    match predicted {
        Predicted::Coordinates { lon, lat } => {
            let p = read_points(&PointsSpec::new(path).lon_column(lon).lat_column(lat))?;
            for i in 0..p.points.len() {
                if let Some(slot) = pred.get_mut(p.points.rows[i] as usize) {
                    *slot = Some((p.points.lon[i], p.points.lat[i]));
                }
            }
            missing_prediction = p.rejects.len();
        }
        Predicted::Cells { column, centroids } => {
            // The cell column read as a number per row, through the points reader (as both
            // coordinates): a cell id above 90 is "out of range" there but keeps its value.
            let p = read_points(&PointsSpec::new(path).lon_column(column).lat_column(column))?;
            let mut value: Vec<Option<f64>> = vec![None; n];
            for i in 0..p.points.len() {
                if let Some(slot) = value.get_mut(p.points.rows[i] as usize) {
                    *slot = Some(p.points.lon[i]);
                }
            }
            for r in &p.rejects {
                if r.reason == RejectReason::OutOfRange
                    && let Some(slot) = value.get_mut(r.row as usize)
                {
                    *slot = Some(r.lon);
                }
            }
            for (slot, v) in pred.iter_mut().zip(value) {
                match v {
                    None => missing_prediction += 1,
                    Some(v) => {
                        let cell = (v.fract() == 0.0).then_some(v as i64);
                        match cell.and_then(|c| centroids.get(&c)) {
                            Some(&q) => *slot = Some(q),
                            None => unknown_cell += 1,
                        }
                    }
                }
            }
        }
    }
    let d: Vec<f64> = truth
        .points
        .rows
        .iter()
        .enumerate()
        .map(|(i, &row)| {
            let t = (truth.points.lon[i], truth.points.lat[i]);
            pred.get(row as usize)
                .copied()
                .flatten()
                .map_or(f64::INFINITY, |q| haversine_km(t, q))
        })
        .collect();
    let finite: Vec<f64> = d.iter().copied().filter(|x| x.is_finite()).collect();
    Ok(Evaluation {
        rows: n,
        scored: finite.len(),
        missing_prediction,
        unknown_cell,
        rule: EVALUATION_RULE,
        stats: error_stats(&d),
        mean_km_scored: if finite.is_empty() {
            f64::NAN
        } else {
            finite.iter().sum::<f64>() / finite.len() as f64
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stats_by_hand() {
        // Errors 0.5, 10, 300, 1000, 3000 km: median 300, mean 862.1; within 1 km 1/5, 25 km
        // 2/5, 200 km 2/5, 750 km 3/5, 2500 km 4/5.
        let s = error_stats(&[3000.0, 0.5, 300.0, 10.0, 1000.0, f64::NAN]);
        assert_eq!(s.n, 5);
        assert_eq!(s.median_km, 300.0);
        assert!((s.mean_km - 862.1).abs() < 1e-9);
        let f: Vec<f64> = s.accuracy.iter().map(|a| a.fraction).collect();
        assert_eq!(f, vec![0.2, 0.4, 0.4, 0.6, 0.8]);
        // GeoGuessr: 5000 (e^-0.000335 + e^-0.0067 + e^-0.20098 + e^-0.66993 + e^-2.00978) / 5.
        let by_hand = 5000.0
            * ((-0.5f64 / 1492.7).exp()
                + (-10.0f64 / 1492.7).exp()
                + (-300.0f64 / 1492.7).exp()
                + (-1000.0f64 / 1492.7).exp()
                + (-3000.0f64 / 1492.7).exp())
            / 5.0;
        assert!((s.geoguessr - by_hand).abs() < 1e-9);
        assert!((s.geoguessr - 3456.68).abs() < 0.01, "{}", s.geoguessr);
    }

    #[test]
    fn prediction_metrics_on_the_equator() {
        // One degree along the equator is pi R / 180 = 111.19508 km.
        let truth = [(0.0, 0.0), (0.0, 0.0), (10.0, 0.0)];
        let pred = [(0.0, 0.0), (1.0, 0.0), (12.0, 0.0)];
        let s = prediction_metrics(&truth, &pred);
        assert!((s.median_km - 111.19508).abs() < 1e-4);
        assert!((s.mean_km - 111.19508).abs() < 1e-4);
        assert_eq!(s.accuracy[0].fraction, 1.0 / 3.0);
        assert_eq!(s.accuracy[2].fraction, 2.0 / 3.0);
    }

    #[test]
    fn partition_quality_by_hand() {
        // Two classes of 3 and 1 points: p = (0.75, 0.25), entropy 0.562335, normalised by
        // ln 2 = 0.811278, effective classes 1.754765; Gini of (1, 3) = 0.25.
        let pts = [(0.0, 0.0), (0.0, 0.0), (1.0, 0.0), (50.0, 0.0)];
        let class = [0, 0, 0, 1];
        let centroids = [(0.0, 0.0), (50.0, 0.0)];
        let q = partition_quality(&pts, &class, &centroids);
        assert!((q.entropy_normalised - 0.811278).abs() < 1e-6);
        assert!((q.effective_classes - 1.754765).abs() < 1e-6);
        assert!((q.gini - 0.25).abs() < 1e-12);
        // Quantization errors 0, 0, 111.195, 0: median 0, mean 27.799; oracle at 1 km 3/4.
        assert_eq!(q.quantization.median_km, 0.0);
        assert!((q.quantization.mean_km - 27.79877).abs() < 1e-4);
        assert_eq!(q.quantization.accuracy[0].fraction, 0.75);
    }
}
