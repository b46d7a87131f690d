//! Splitting cells above MAX: OPTICS clusters carved as Voronoi regions, then divisions.
pub mod division;
pub mod driver;
pub mod optics;
pub mod voronoi;
