//! The point labels of a run as a polars `DataFrame` ([`crate::pipeline::run::Run::labels_frame`]).

use polars::prelude::{Column, DataFrame, NamedFrom, PolarsResult, Series};

use crate::input::points::PointIds;
use crate::pipeline::run::Run;

impl Run {
    /// The labelled points as a polars `DataFrame`, one row per point in input order, with the
    /// columns of `points.parquet` but its geometry: `id` (integers or text, as the input's),
    /// `row`, `lon`, `lat`, `cell_id`, `snap_km`, `area_code`, `area`, `admin1_code`, `admin1`,
    /// `country_code`, `country`, `level`.
    ///
    /// # Errors
    /// A polars error if the frame cannot be assembled (columns of unequal length).
    pub fn labels_frame(&self) -> PolarsResult<DataFrame> {
        let l = &self.labels;
        let areas = &self.areas.areas;
        let a = |i: usize| &areas[l.area[i] as usize];
        let n = l.points.len();
        let text = |name: &str, f: &dyn Fn(usize) -> String| -> Column {
            Series::new(name.into(), (0..n).map(f).collect::<Vec<String>>()).into()
        };
        let id: Column = match &l.points.ids {
            PointIds::Int(v) => Series::new("id".into(), v.as_slice()).into(),
            PointIds::Str(v) => Series::new("id".into(), v.as_slice()).into(),
        };
        let columns = vec![
            id,
            Series::new(
                "row".into(),
                l.points
                    .rows
                    .iter()
                    .map(|&x| x as i64)
                    .collect::<Vec<i64>>(),
            )
            .into(),
            Series::new("lon".into(), l.points.lon.as_slice()).into(),
            Series::new("lat".into(), l.points.lat.as_slice()).into(),
            Series::new(
                "cell_id".into(),
                l.cell.iter().map(|&c| i64::from(c)).collect::<Vec<i64>>(),
            )
            .into(),
            Series::new("snap_km".into(), l.snap_km.as_slice()).into(),
            text("area_code", &|i| a(i).code.clone()),
            text("area", &|i| a(i).name.clone()),
            text("admin1_code", &|i| a(i).admin1_code.clone()),
            text("admin1", &|i| a(i).admin1_name.clone()),
            text("country_code", &|i| a(i).country_code.clone()),
            text("country", &|i| a(i).country_name.clone()),
            text("level", &|i| a(i).level.as_str().to_string()),
        ];
        DataFrame::new(n, columns)
    }
}
