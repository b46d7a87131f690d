//! Geometry on the sphere and in the plane shared by the stages.
pub mod antimeridian;
pub mod bbox;
pub mod geodesy;
pub(crate) mod keyed_tree;
pub mod measure;
pub mod overlay;
pub mod repair;
