//! The admin partition: points assigned to areas, the area graph, fused cells and their polygons.
pub mod assign;
pub mod cells;
pub mod fuse;
pub mod graph;
