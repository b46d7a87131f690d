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
