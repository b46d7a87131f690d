//! A PNG preview map of the cells: an equirectangular world (or the cells' extent), each cell
//! filled with its own colour, borders in dark grey, optionally the points as dots, a caption
//! box (what the map shows, in a built-in 5 x 7 pixel font) and a scale bar, each in a left
//! corner unless it would hide part of the map there and the right corner is clear.
//!
//! The longitude window is the narrowest one holding every polygon of the cells, across the
//! antimeridian when that is narrower ([`crate::output::map::render::lon_window`]): a set with
//! the Aleutians, Fiji or Guam is drawn as one piece, not stretched over the whole world.
//!
//! Polygons are filled with an even-odd scanline rule (an edge table, `O(e + c)` for `e` edges
//! and `c` row crossings); the PNG is written with a deflate stream (flate2) and CRCs
//! (crc32fast), both already in the dependency tree. Colours come from the cell id through
//! SplitMix64, so the same cells always give the same picture.
//!
//! A zoomed map draws only a lon/lat box ([`bbox`]: checked once, four numbers or a city's
//! name), and the cells can be coloured by the rule that made them, with a legend ([`legend`]).
//!
//! [`render`] draws and writes the map, on a [`canvas`] with the [`font`]; [`png`] encodes it.
pub mod bbox;
pub mod canvas;
pub mod font;
pub mod legend;
pub mod png;
pub mod render;
