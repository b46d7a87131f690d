//! Splitting cells above MAX: OPTICS clusters carved as Voronoi regions, then divisions.
//!
//! The stage starts at [`stage::split_cells`] with [`driver::SplitParams`]; each family (admin
//! cell) runs the OPTICS settings ([`setting`]), then the MAX fallback ([`fallback`]), both
//! carving through [`carve`]; [`report`] holds what comes back.
pub mod carve;
pub mod division;
pub mod driver;
pub mod fallback;
pub mod family;
pub mod optics;
pub mod report;
pub mod setting;
pub mod stage;
pub mod voronoi;
