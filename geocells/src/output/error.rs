//! The error of the output stage: [`ExportError`], naming the file that could not be written.

use std::path::PathBuf;

use thiserror::Error;

use crate::output::dir::OutputError;

/// Errors while writing outputs. Each names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An export parameter is out of range.
    #[error("{name} {value} is out of range: allowed {allowed}")]
    BadParam {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: String,
        /// The allowed range.
        allowed: String,
    },
    /// A map box ([`crate::output::map::bbox::check_bbox`]) that cannot be drawn.
    #[error("map bbox '{value}': {problem}; expected {expected}")]
    BadMapBox {
        /// The box as given.
        value: String,
        /// What is wrong with it.
        problem: String,
        /// What a box may be.
        expected: &'static str,
    },
    /// A map colouring that does not exist ([`crate::output::map::render::MapColour`]).
    #[error("map colour '{value}': not one of {allowed}")]
    BadMapColour {
        /// The name given.
        value: String,
        /// The names there are.
        allowed: &'static str,
    },
    /// The output directory (its location, lock or swap).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Encoding failed.
    #[error("{path}: {message}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
