//! A run's tables as polars `DataFrame`s: the point labels
//! ([`crate::pipeline::run::Run::labels_frame`]), the cells
//! ([`crate::pipeline::run::Run::cells_frame`]) and the smoothed targets
//! ([`crate::pipeline::run::Run::targets_frame`]) and the rejected rows
//! ([`crate::pipeline::run::Run::rejects_frame`]), each built from the same column function as
//! its file, so a frame and its file hold the same values.

use polars::prelude::{Column, DataFrame, NamedFrom, PolarsError, PolarsResult, Series};

use crate::output::cells_files::{CELL_COLUMNS, cell_columns};
use crate::output::parquet::Column as Values;
use crate::output::points_files::{POINT_COLUMNS, REJECT_COLUMNS, label_columns, reject_columns};
use crate::output::targets::Smoother;
use crate::output::targets_file::{TARGET_COLUMNS, target_columns};
use crate::pipeline::run::Run;

/// Named columns of equal length `n` into a frame (binary columns as polars `Binary`).
fn to_frame(n: usize, names: &[&str], values: Vec<Values>) -> PolarsResult<DataFrame> {
    let columns = names
        .iter()
        .zip(values)
        .map(|(&name, values)| -> Column {
            match values {
                Values::I64(v) => Series::new(name.into(), v),
                Values::F64(v) => Series::new(name.into(), v),
                Values::Str(v) => Series::new(name.into(), v),
                Values::OptStr(v) => Series::new(name.into(), v),
                Values::Bin(v) => Series::new(name.into(), v),
            }
            .into()
        })
        .collect::<Vec<Column>>();
    DataFrame::new(n, columns)
}

impl Run {
    /// The labelled points as a polars `DataFrame`, one row per point in input order, with the
    /// columns of `points.parquet` but its geometry: `id` (integers or text, as the input's),
    /// `row`, `lon`, `lat`, `cell_id`, `snap_km`, `area_code`, `area`, `admin1_code`, `admin1`,
    /// `country_code`, `country`, `level`. The values come from the same function as the file's.
    ///
    /// # Errors
    /// A polars error if the frame cannot be assembled (columns of unequal length).
    pub fn labels_frame(&self) -> PolarsResult<DataFrame> {
        let n = self.labels.points.len();
        to_frame(n, &POINT_COLUMNS, label_columns(self, 0..n))
    }

    /// The cells as a polars `DataFrame`, one row per cell in `cell_id` order, with the columns
    /// of `cells.parquet`: `cell_id`, `name`, `admin1_code`, `admin1`, `country_code`,
    /// `country`, `admin1_id`, `country_id`, `size`, `area_km2`, `centroid_lon`,
    /// `centroid_lat`, `rep_lon`, `rep_lat`, `num_polygons`, `family_id`, `origin`,
    /// `num_areas`, `areas` and `geometry` (ISO WKB MultiPolygon, lon/lat, OGC:CRS84; the same
    /// bytes as the file's).
    ///
    /// # Errors
    /// A polars error if a geometry cannot be encoded as WKB.
    pub fn cells_frame(&self) -> PolarsResult<DataFrame> {
        let codes: Vec<String> = self.areas.areas.iter().map(|a| a.code.clone()).collect();
        let values =
            cell_columns(&self.cells, &codes).map_err(|m| PolarsError::ComputeError(m.into()))?;
        to_frame(self.cells.len(), &CELL_COLUMNS, values)
    }

    /// The label-smoothing targets as a polars `DataFrame` in the long form of
    /// `targets.parquet`: `row` (the point's input row), `rank` (0 = largest weight),
    /// `cell_id`, `weight`; sorted by point (input order), then rank. Holds points × `top_k`
    /// rows at once (the file is streamed instead).
    ///
    /// # Errors
    /// A polars error if the smoothing parameters are refused or no cell has a centroid.
    pub fn targets_frame(&self) -> PolarsResult<DataFrame> {
        let smoother = Smoother::new(&self.cells.centroids(), *self.params.smoothing())
            .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        let values = target_columns(self, &smoother, 0..self.labels.points.len());
        let rows = match values.first() {
            Some(Values::I64(v)) => v.len(),
            _ => 0,
        };
        to_frame(rows, &TARGET_COLUMNS, values)
    }

    /// The input rows that got no label, as a polars `DataFrame` with the columns of
    /// `rejects.parquet`: `row`, `id`, `lon`, `lat`, `reason` (a short code), `detail` (the
    /// message) and `raw` (the unparsed text, or null).
    ///
    /// # Errors
    /// A polars error if the frame cannot be assembled.
    pub fn rejects_frame(&self) -> PolarsResult<DataFrame> {
        to_frame(
            self.rejects.len(),
            &REJECT_COLUMNS,
            reject_columns(&self.rejects),
        )
    }
}
