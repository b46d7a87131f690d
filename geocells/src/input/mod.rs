//! Reading the inputs: training points and admin boundaries, and the admin areas built from them.
pub mod admin;
pub mod boundaries;
pub mod columns;
pub mod crs;
pub mod files;
pub mod points;
pub mod topology;
