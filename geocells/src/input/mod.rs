//! Reading the inputs: training points and admin boundaries, and the admin areas built from them.
pub mod admin;
pub mod area;
pub mod boundaries;
pub mod columns;
pub mod crs;
pub mod files;
pub mod levels;
pub mod points;
pub mod topology;
