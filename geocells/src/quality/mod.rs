//! Measuring cells: prediction and partition metrics, baselines.
pub mod baselines;
pub mod metrics;
