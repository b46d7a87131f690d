//! The pipeline: parameters, inputs, the run and its report, and the merge of per-country runs.
pub mod assign_once;
pub mod assigned;
pub mod frame;
pub mod inputs;
pub mod merge;
pub mod no_points;
pub mod params;
pub mod report;
pub mod run;
