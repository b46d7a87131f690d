//! Assigning points to admin areas.
//!
//! Each point is looked up in an R-tree (rstar) of the bounding boxes of every area's polygons,
//! then tested exactly against the candidate areas with geo's interval-tree point-in-polygon
//! ([`geo::algorithm::indexed::IntervalTreeMultiPolygon`]: `O(log v + k)` per test for an area
//! of `v` vertices). The first containing area in area order wins, so the result does not depend
//! on thread count.
//!
//! Points inside no area (coastlines, GPS noise, points exactly on a border) are snapped if an
//! area boundary is within [`AssignParams::snap_km`] (distance on the sphere, see
//! [`crate::geom::geodesy::point_segment_km`]): to the area holding the nearest boundary point moved a
//! little inside ([`AreaIndex::snap`], [`crate::geom::geodesy::snap_site`]), so
//! a point off a coast where two areas meet goes to the one on its side; farther points are
//! rejected with [`RejectReason::OffLand`]. [`CellLookup`] labels new points with the same rule
//! on the cells. Nearest-boundary queries use a second R-tree over all
//! boundary segments, built only when some point needs it.
//!
//! Complexity: `O(n log a)` for `n` points and `a` area polygons, plus `O(s log s)` to index the
//! `s` boundary segments when snapping is needed.

use geo::BoundingRect;
use geo::Contains;
use geo::algorithm::indexed::IntervalTreeMultiPolygon;
use geo_types::{Coord, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree, RTreeObject};
use thiserror::Error;

use crate::geom::geodesy::{closest_on_segment, degree_box, snap_site};
use crate::input::area::Area;
use crate::input::points::{Points, RejectReason};

/// Errors while assigning points.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AssignError {
    /// There are no areas to assign to.
    #[error("no admin areas to assign points to")]
    NoAreas,
    /// A cells file could not be read ([`CellLookup::read`]).
    #[error(transparent)]
    Io(#[from] crate::input::files::IoError),
}

/// Parameters of the assignment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssignParams {
    /// Points on no polygon are snapped to the nearest one within this many km (default 25).
    pub snap_km: f64,
}

impl Default for AssignParams {
    fn default() -> Self {
        Self { snap_km: 25.0 }
    }
}

/// Invalid [`AssignParams`].
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum AssignParamsError {
    /// The snap distance is negative or not finite.
    #[error(
        "snap_km must be a number from 0 to 20015 (half the Earth's circumference, in km), got {0}"
    )]
    BadSnap(f64),
}

impl AssignParams {
    /// Checks the snap distance: from 0 to half the Earth's circumference.
    ///
    /// # Errors
    /// [`AssignParamsError::BadSnap`].
    pub fn validate(&self) -> Result<(), AssignParamsError> {
        if !(self.snap_km.is_finite()
            && (0.0..=crate::geom::geodesy::HALF_CIRCUMFERENCE_KM).contains(&self.snap_km))
        {
            return Err(AssignParamsError::BadSnap(self.snap_km));
        }
        Ok(())
    }
}

/// Where each point went.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// Inside this area.
    Inside(u32),
    /// Snapped to this area, this many km away.
    Snapped(u32, f64),
    /// Rejected.
    Rejected(RejectReason),
}

/// A boundary segment of an area, for nearest-boundary queries.
#[derive(Debug, Clone, Copy)]
struct Segment {
    a: Coord<f64>,
    b: Coord<f64>,
    /// The ring's vertex before `a` and after `b`, for snapping into a corner.
    prev: Coord<f64>,
    next: Coord<f64>,
    area: u32,
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners([self.a.x, self.a.y], [self.b.x, self.b.y])
    }
}

/// A spatial index over admin areas for point lookups.
pub struct AreaIndex {
    boxes: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    prepared: Vec<IntervalTreeMultiPolygon<f64>>,
    segments: std::sync::OnceLock<RTree<Segment>>,
    rings: Vec<Vec<Vec<Coord<f64>>>>,
}

impl AreaIndex {
    /// Indexes `areas`. `O(v log v)` in the total vertex count.
    pub fn new(areas: &[Area]) -> Self {
        let geoms: Vec<&MultiPolygon<f64>> = areas.iter().map(|a| &a.geometry).collect();
        Self::from_polygons(&geoms)
    }

    /// Indexes polygons (areas, cells or parts of a cell); their positions are the indices
    /// the lookups return.
    pub fn from_polygons(geoms: &[&MultiPolygon<f64>]) -> Self {
        let mut boxes = Vec::new();
        for (i, g) in geoms.iter().enumerate() {
            for p in &g.0 {
                if let Some(r) = p.bounding_rect() {
                    boxes.push(crate::geom::bbox::box_entry(r, i as u32));
                }
            }
        }
        let prepared = geoms
            .par_iter()
            .map(|g| IntervalTreeMultiPolygon::new(g))
            .collect();
        let rings = geoms
            .iter()
            .map(|g| {
                g.0.iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .map(|r| r.0.clone())
                    .collect()
            })
            .collect();
        Self {
            boxes: RTree::bulk_load(boxes),
            prepared,
            segments: std::sync::OnceLock::new(),
            rings,
        }
    }

    /// Whether polygon `i`'s interior contains the point.
    pub fn contains(&self, i: u32, c: Coord<f64>) -> bool {
        self.prepared
            .get(i as usize)
            .is_some_and(|t| t.contains(&c))
    }

    /// The polygon holding the point, else the one it snaps to ([`AreaIndex::snap`]), searched
    /// in growing radii of 25, 200, 1,000, 5,000 and 20,100 km so no point is left out; with
    /// the distance in km (0 inside). `None` only when there are no polygons.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<(u32, f64)> {
        if let Some(a) = self.containing(lon, lat) {
            return Some((a, 0.0));
        }
        [25.0, 200.0, 1_000.0, 5_000.0, 20_100.0]
            .into_iter()
            .find_map(|km| self.snap(lon, lat, km))
    }

    /// The first area (in area order) whose interior contains the point.
    pub fn containing(&self, lon: f64, lat: f64) -> Option<u32> {
        let c = Coord { x: lon, y: lat };
        let mut best: Option<u32> = None;
        for cand in self.boxes.locate_all_at_point(&[lon, lat]) {
            let a = cand.data;
            if best.is_some_and(|b| b <= a) {
                continue;
            }
            if self.prepared[a as usize].contains(&c) {
                best = Some(a);
            }
        }
        best
    }

    fn segments(&self) -> &RTree<Segment> {
        self.segments.get_or_init(|| {
            let mut segs = Vec::new();
            for (area, rings) in self.rings.iter().enumerate() {
                for ring in rings {
                    let n = ring.len();
                    for i in 0..n.saturating_sub(1) {
                        segs.push(Segment {
                            a: ring[i],
                            b: ring[i + 1],
                            prev: if i == 0 {
                                ring[n.saturating_sub(2)]
                            } else {
                                ring[i - 1]
                            },
                            next: if i + 2 < n {
                                ring[i + 2]
                            } else {
                                ring[1.min(n - 1)]
                            },
                            area: area as u32,
                        });
                    }
                }
            }
            RTree::bulk_load(segs)
        })
    }

    /// The area whose boundary is nearest to the point, if one is within `max_km`, with the
    /// distance and where the point stands once snapped ([`crate::geom::geodesy::snap_site`]); ties go
    /// to the lower area index.
    fn nearest_within(&self, lon: f64, lat: f64, max_km: f64) -> Option<(u32, f64, (f64, f64))> {
        let (dlon, dlat) = degree_box(lat, max_km);
        let p = Coord { x: lon, y: lat };
        let lo_y = (lat - dlat).max(-90.0);
        let hi_y = (lat + dlat).min(90.0);
        // Boxes on both sides of the antimeridian when the search box crosses it.
        let mut ranges = vec![((lon - dlon).max(-180.0), (lon + dlon).min(180.0))];
        if lon - dlon < -180.0 {
            ranges.push((lon - dlon + 360.0, 180.0));
        }
        if lon + dlon > 180.0 {
            ranges.push((-180.0, lon + dlon - 360.0));
        }
        let mut best: Option<(u32, f64, Coord<f64>, &Segment)> = None;
        for (x0, x1) in ranges {
            let env = AABB::from_corners([x0, lo_y], [x1, hi_y]);
            for s in self.segments().locate_in_envelope_intersecting(&env) {
                let (c, d) = closest_on_segment(p, s.a, s.b);
                let better = best.is_none_or(|(ba, bd, _, bs)| {
                    d < bd
                        || (d == bd
                            && (s.area, s.a.x, s.a.y, s.b.x, s.b.y)
                                .partial_cmp(&(ba, bs.a.x, bs.a.y, bs.b.x, bs.b.y))
                                == Some(std::cmp::Ordering::Less))
                });
                if d <= max_km && better {
                    best = Some((s.area, d, c, s));
                }
            }
        }
        best.map(|(a, d, q, s)| (a, d, snap_site(p, q, s.a, s.b, s.prev, s.next)))
    }

    /// Snaps a point that no area contains to an area within `max_km`: the nearest boundary
    /// point (ties: lower area index) is found, the point is moved a little inside from there
    /// (`geom::geodesy::snap_site`), and the area holding the moved point is the answer (else
    /// the area of the boundary point). Returns the area and the distance to the boundary in
    /// km. One rule for training points and new points alike, so both get the same answer.
    pub fn snap(&self, lon: f64, lat: f64, max_km: f64) -> Option<(u32, f64)> {
        let (area, d, (x, y)) = self.nearest_within(lon, lat, max_km)?;
        Some((self.containing(x, y).unwrap_or(area), d))
    }
}

/// Places every point: inside an area, snapped to a near one, or rejected as off land.
///
/// Runs in parallel; the result is independent of the thread count.
///
/// # Errors
/// [`AssignError::NoAreas`] when `areas` is empty.
pub fn assign_points(
    index: &AreaIndex,
    n_areas: usize,
    points: &Points,
    params: &AssignParams,
) -> Result<Vec<Placement>, AssignError> {
    if n_areas == 0 {
        return Err(AssignError::NoAreas);
    }
    let out = (0..points.len())
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| {
            let (lon, lat) = (points.lon[i], points.lat[i]);
            match index.containing(lon, lat) {
                Some(a) => Placement::Inside(a),
                None => match index.snap(lon, lat, params.snap_km) {
                    Some((a, d)) => Placement::Snapped(a, d),
                    None => Placement::Rejected(RejectReason::OffLand {
                        nearest_km: None,
                        max_km: params.snap_km,
                    }),
                },
            }
        })
        .collect();
    Ok(out)
}

/// PointCells new points (a validation set, a photo collection) with the cells of an existing
/// partition: the cell whose polygon holds the point, else the cell a training point there was
/// given: the snap rule of [`AreaIndex::snap`] on the cells (nearest boundary point, searched
/// in growing radii of 25, 200, 1,000, 5,000 and 20,100 km so no point is left out).
///
/// ```
/// use geocells::CellLookup;
/// let square = geo_types::MultiPolygon::new(vec![geo_types::Rect::new(
///     geo_types::Coord { x: 0.0, y: 0.0 }, geo_types::Coord { x: 1.0, y: 1.0 }).to_polygon()]);
/// let lookup = CellLookup::new(vec![(7, square)]).unwrap();
/// assert_eq!(lookup.locate(0.5, 0.5), (7, 0.0));
/// let (id, km) = lookup.locate(2.0, 0.5);
/// assert_eq!(id, 7);
/// assert!((km - geocells::algorithms::KM_PER_DEG).abs() < 1.0);
/// ```
pub struct CellLookup {
    index: AreaIndex,
    ids: Vec<u32>,
}

impl CellLookup {
    /// A lookup over `(cell_id, polygons)` pairs.
    ///
    /// # Errors
    /// [`AssignError::NoAreas`] when there are no cells.
    pub fn new(cells: Vec<(u32, MultiPolygon<f64>)>) -> Result<Self, AssignError> {
        if cells.is_empty() {
            return Err(AssignError::NoAreas);
        }
        let ids: Vec<u32> = cells.iter().map(|c| c.0).collect();
        let geoms: Vec<&MultiPolygon<f64>> = cells.iter().map(|c| &c.1).collect();
        Ok(Self {
            index: AreaIndex::from_polygons(&geoms),
            ids,
        })
    }

    /// Reads a cells file written by `build_cells` (`cells.parquet` or `cells.geojson`: a
    /// `cell_id` attribute and polygons).
    ///
    /// # Errors
    /// [`AssignError::Io`] when the file cannot be read or a `cell_id` is not a number,
    /// [`AssignError::NoAreas`] when it has no cells.
    pub fn read(path: &std::path::Path) -> Result<Self, AssignError> {
        let file = crate::input::boundaries::read_boundaries(path, &["cell_id".to_string()])?;
        let mut cells = Vec::with_capacity(file.features.len());
        for f in file.features {
            let raw = f.props.get("cell_id").cloned().unwrap_or_default();
            let id: u32 = raw
                .trim()
                .parse()
                .map_err(|_| crate::input::files::IoError::Decode {
                    path: path.to_path_buf(),
                    message: format!("feature {}: cell_id '{raw}' is not a cell number", f.index),
                })?;
            cells.push((id, f.geometry));
        }
        Self::new(cells)
    }

    /// The cell of a point and its distance in km from that cell (0 inside).
    pub fn locate(&self, lon: f64, lat: f64) -> (u32, f64) {
        match self.index.locate(lon, lat) {
            Some((a, d)) => (self.ids[a as usize], d),
            // Unreachable for cells with any boundary (20,100 km spans the globe); keep a cell.
            None => (self.ids[0], f64::INFINITY),
        }
    }

    /// [`CellLookup::locate`] for many points, in parallel, in order.
    pub fn locate_all(&self, points: &Points) -> Vec<(u32, f64)> {
        (0..points.len())
            .into_par_iter()
            .with_min_len(1024)
            .map(|i| self.locate(points.lon[i], points.lat[i]))
            .collect()
    }
}
