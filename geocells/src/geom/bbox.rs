//! Bounding boxes as R-tree entries: the one place the stages index polygons by their boxes
//! (admin areas for overlaps and parents, the shells of a polygon, cells for validation, the
//! assignment's polygons).

use geo::BoundingRect;
use rstar::primitives::{GeomWithData, Rectangle};

/// An R-tree entry: a bounding box with the position of what it bounds.
pub(crate) type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The entry of the box `r` of item `i`.
pub(crate) fn box_entry(r: geo::Rect<f64>, i: u32) -> BoxEntry {
    GeomWithData::new(
        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
        i,
    )
}

/// One entry per geometry that has a box (empty ones have none), carrying its position in
/// `geoms`.
pub(crate) fn box_entries<'a, G>(geoms: impl IntoIterator<Item = &'a G>) -> Vec<BoxEntry>
where
    G: BoundingRect<f64, Output = Option<geo::Rect<f64>>> + 'a,
{
    geoms
        .into_iter()
        .enumerate()
        .filter_map(|(i, g)| g.bounding_rect().map(|r| box_entry(r, i as u32)))
        .collect()
}
