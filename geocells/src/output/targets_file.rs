//! `targets.parquet`: the label-smoothing targets of a run ([`crate::output::targets`]),
//! streamed by row group.

use std::path::Path;

use crate::output::dir::RUN_ID_KEY;
use crate::output::error::ExportError;
use crate::output::parquet::{Column, write_parquet_groups};
use crate::pipeline::run::Run;

/// Writes `targets.parquet`: PIGEON's haversine label-smoothing targets in long form, one row
/// per (point, rank): `row` (the point's input row), `rank` (0 = largest weight), `cell_id`,
/// `weight` (normalised over all cells; see [`crate::output::targets`]). Rows are sorted by point (input
/// order), then rank, so `groupby(row)` gives each point's top-k list.
///
/// # Errors
/// [`ExportError`] when the targets cannot be computed or the file cannot be written.
pub fn write_targets_parquet(run: &Run, path: &Path, run_id: &str) -> Result<(), ExportError> {
    let encode = |message: String| ExportError::Encode {
        path: path.to_path_buf(),
        message,
    };
    let smoother =
        crate::output::targets::Smoother::new(&run.cells.centroids(), *run.params.smoothing())
            .map_err(|e| encode(e.to_string()))?;
    // Streamed: one row group per chunk of points, so memory stays at one chunk's targets
    // whatever the number of points (5M points x 10 weights held at once took ~2 GB).
    let n = run.labels.points.len();
    let groups = (0..n.div_ceil(TARGET_CHUNK)).map(|g| {
        target_columns(
            run,
            &smoother,
            g * TARGET_CHUNK..((g + 1) * TARGET_CHUNK).min(n),
        )
    });
    write_parquet_groups(
        path,
        &TARGET_COLUMNS,
        &[
            Column::I64(vec![]),
            Column::I64(vec![]),
            Column::I64(vec![]),
            Column::F64(vec![]),
        ],
        vec![(RUN_ID_KEY.to_string(), run_id.to_string())],
        groups,
    )
}

/// Points per row group of `targets.parquet` (about a million rows at k = 10).
const TARGET_CHUNK: usize = 100_000;

/// The columns of `targets.parquet`, in order.
pub(crate) const TARGET_COLUMNS: [&str; 4] = ["row", "rank", "cell_id", "weight"];

/// The targets of the points `range` (positions in the run's point order), as the four
/// [`TARGET_COLUMNS`]: the one source of the table for the file and
/// [`crate::pipeline::run::Run::targets_frame`].
pub(crate) fn target_columns(
    run: &Run,
    smoother: &crate::output::targets::Smoother,
    range: std::ops::Range<usize>,
) -> Vec<Column> {
    use rayon::prelude::*;
    let l = &run.labels;
    let targets: Vec<Vec<(u32, f64)>> = range
        .clone()
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| smoother.targets(l.points.lon[i], l.points.lat[i]))
        .collect();
    let rows: usize = targets.iter().map(Vec::len).sum();
    let (mut row, mut rank, mut cell, mut weight) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for (i, t) in range.zip(&targets) {
        for (k, &(c, w)) in t.iter().enumerate() {
            row.push(l.points.rows[i] as i64);
            rank.push(k as i64);
            cell.push(i64::from(c));
            weight.push(w);
        }
    }
    vec![
        Column::I64(row),
        Column::I64(rank),
        Column::I64(cell),
        Column::F64(weight),
    ]
}
