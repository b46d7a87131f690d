//! The point labels of a run as a polars `DataFrame` ([`crate::pipeline::run::Run::labels_frame`]).

use polars::prelude::{Column, DataFrame, NamedFrom, PolarsError, PolarsResult, Series};

use crate::output::parquet::Column as Values;
use crate::output::points_files::{POINT_COLUMNS, label_columns};
use crate::pipeline::run::Run;

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
        let columns = POINT_COLUMNS
            .iter()
            .zip(label_columns(self, 0..n))
            .map(|(&name, values)| -> PolarsResult<Column> {
                Ok(match values {
                    Values::I64(v) => Series::new(name.into(), v),
                    Values::F64(v) => Series::new(name.into(), v),
                    Values::Str(v) => Series::new(name.into(), v),
                    Values::OptStr(v) => Series::new(name.into(), v),
                    Values::Bin(_) => {
                        return Err(PolarsError::ComputeError(
                            format!("column '{name}' holds binary values").into(),
                        ));
                    }
                }
                .into())
            })
            .collect::<PolarsResult<Vec<Column>>>()?;
        DataFrame::new(n, columns)
    }
}
