//! The crate error: one variant per stage, each wrapping that stage's own error enum.

use thiserror::Error;

pub use crate::admin::AdminError;
pub use crate::assign::AssignError;
pub use crate::cells::ValidationError;
pub use crate::export::ExportError;
pub use crate::fuse::FuseError;
pub use crate::io::IoError;
pub use crate::labels::LabelsError;
pub use crate::merge::MergeError;
pub use crate::metrics::EvaluateError;
pub use crate::optics::OpticsError;
pub use crate::output::OutputError;
pub use crate::pipeline::{NoPointsError, ParamsError};
pub use crate::split::SplitError;
pub use crate::voronoi::VoronoiError;

/// Any error of the geocells pipeline. Each stage has its own enum; their messages name the file,
/// row or feature concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading input files.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Building the admin areas.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// Assigning points to areas.
    #[error(transparent)]
    Assign(#[from] AssignError),
    /// Fusing cells.
    #[error(transparent)]
    Fuse(#[from] FuseError),
    /// OPTICS clustering.
    #[error(transparent)]
    Optics(#[from] OpticsError),
    /// Splitting oversized cells.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// A Voronoi carve.
    #[error(transparent)]
    Voronoi(#[from] VoronoiError),
    /// Label smoothing.
    #[error(transparent)]
    Labels(#[from] LabelsError),
    /// The partition failed its invariants.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Writing outputs.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// No input row could be labelled.
    #[error(transparent)]
    NoPoints(#[from] Box<NoPointsError>),
    /// The output directory (its location, lock or swap).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A per-country run or a merge of them.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// Scoring a predictions table.
    #[error(transparent)]
    Evaluate(#[from] EvaluateError),
}
