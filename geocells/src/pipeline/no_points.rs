//! A run that could label no input row: its error, with counts by reason and a hint.

use std::path::PathBuf;

use crate::input::points::Reject;
use crate::pipeline::inputs::Inputs;
use crate::pipeline::params::ValidParams;

/// A run in which no input row could be labelled (every row rejected, or none at all): there
/// is no cell to build. Carries the rejects, so that they can still be written
/// ([`crate::output::export::write_failed_run`]), and a message that counts them by reason with a hint
/// for the usual causes (longitude and latitude swapped, a decimal comma, polygons given as
/// points, boundaries of another region).
#[derive(Debug, Clone)]
pub struct NoPointsError {
    /// The points file.
    pub path: PathBuf,
    /// Rows in the points file.
    pub input_rows: usize,
    /// Every rejected row, by row.
    pub rejects: Vec<Reject>,
    /// The report of the failed run: version, parameters, inputs and counts.
    pub report: crate::pipeline::report::Report,
}

impl NoPointsError {
    pub(crate) fn new(
        inputs: &Inputs,
        params: &ValidParams,
        input_rows: usize,
        rejects: Vec<Reject>,
    ) -> Box<Self> {
        let report = crate::pipeline::report::Report::failed(
            params.report_section(),
            inputs,
            input_rows,
            &rejects,
        );
        Box::new(Self {
            path: inputs.points.path.clone(),
            input_rows,
            rejects,
            report,
        })
    }

    /// A hint for the most likely cause, from the reasons and the rejected coordinates.
    fn hint(&self) -> Option<&'static str> {
        let n = self.rejects.len();
        if n == 0 {
            return None;
        }
        let count = |code: &str| {
            self.rejects
                .iter()
                .filter(|r| r.reason.code() == code)
                .count()
        };
        let swapped = self
            .rejects
            .iter()
            .filter(|r| r.lat.abs() > 90.0 && r.lat.abs() <= 180.0 && r.lon.abs() <= 90.0)
            .count();
        if 2 * swapped > n {
            Some("longitude and latitude look swapped: name the columns (--lon-col / --lat-col)")
        } else if 2 * count("not_a_number") > n {
            Some(
                "the coordinate columns hold text: a decimal comma, or the wrong columns (--lon-col / --lat-col)?",
            )
        } else if 2 * count("bad_geometry") > n {
            Some(
                "the geometry column holds no usable points (polygons or lines?): give one point per row",
            )
        } else if 2 * count("off_land") > n {
            Some(
                "no point is on or near a boundary polygon: are longitude and latitude swapped, the coordinates projected, or the boundaries of another region?",
            )
        } else {
            None
        }
    }
}

impl std::fmt::Display for NoPointsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.input_rows == 0 {
            return write!(
                f,
                "{}: the file has no rows: there is no point to build cells from",
                self.path.display()
            );
        }
        let mut by_reason: std::collections::BTreeMap<&str, (usize, String)> =
            std::collections::BTreeMap::default();
        for r in &self.rejects {
            by_reason
                .entry(r.reason.code())
                .or_insert_with(|| (0, r.reason.to_string()))
                .0 += 1;
        }
        let reasons: Vec<String> = by_reason
            .iter()
            .map(|(code, (k, example))| format!("{k} {code} ({example})"))
            .collect();
        write!(
            f,
            "{}: none of the {} rows could be labelled: {}",
            self.path.display(),
            self.input_rows,
            reasons.join(", ")
        )?;
        if let Some(h) = self.hint() {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NoPointsError {}
