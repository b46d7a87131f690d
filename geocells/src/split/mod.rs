//! Splitting cells above MAX: OPTICS clusters carved as Voronoi regions, then divisions.
//!
//! The stage starts at [`driver::split_cells`] with [`params::SplitParams`]; each family
//! (admin cell, [`family`]) runs the OPTICS settings ([`setting`], [`optics`]), with the
//! semantic pass the density divisions ([`density`]), then the MAX
//! fallback ([`fallback`], [`division`]), both carving through [`carve`] and [`voronoi`];
//! [`report`] holds what comes back.
pub mod carve;
pub mod density;
pub mod division;
pub mod driver;
pub mod fallback;
pub mod family;
pub mod optics;
pub mod params;
pub mod report;
pub mod setting;
pub mod voronoi;
