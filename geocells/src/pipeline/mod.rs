//! The pipeline: parameters, inputs, the run and its report, and the merge of per-country runs.
pub mod merge;
pub mod report;
pub mod run;
