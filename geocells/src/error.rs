//! The crate error: one variant per stage, each wrapping that stage's own error enum.

use thiserror::Error;

use crate::input::admin::AdminError;
use crate::input::files::IoError;
use crate::output::dir::OutputError;
use crate::output::error::ExportError;
use crate::output::targets::LabelsError;
use crate::partition::assign::AssignError;
use crate::partition::cells::ValidationError;
use crate::partition::fuse::FuseError;
use crate::pipeline::merge::MergeError;
use crate::pipeline::no_points::NoPointsError;
use crate::pipeline::params::ParamsError;
use crate::quality::metrics::EvaluateError;
use crate::split::optics::OpticsError;
use crate::split::params::SplitError;
use crate::split::voronoi::VoronoiError;

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
    /// An assigned dataset (`pipeline::assigned`) that cannot be used.
    #[error(transparent)]
    Assigned(#[from] crate::pipeline::assigned::AssignedError),
    /// The caller's [`crate::Progress::cancelled`] said stop.
    #[error("cancelled")]
    Cancelled,
}
