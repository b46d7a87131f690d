//! Overlaps and gaps between admin areas: real boundary files have both.
//!
//! Boundary sets simplified polygon by polygon (GADM, geoBoundaries, any file run through a
//! per-feature simplifier), files of two levels from different sources (US counties next to
//! Canadian provinces), and hand-edited files leave neighbours that overlap a little, or leave
//! slivers of land between them that no polygon covers. The cells are built from the areas and
//! must be disjoint, so overlaps are resolved here, once, before anything else uses the areas:
//!
//! * **Overlaps** ([`resolve_overlaps`]): the part two areas share goes to the area that comes
//!   *first* in area order (country code, admin-1 code, level, code — the order
//!   [`crate::input::admin::build_areas`] sorts by), and is cut out of the other. That is also the area a
//!   point in the overlap is assigned to ([`crate::partition::assign::AreaIndex::containing`] takes the first
//!   containing area), so points and polygons agree. A chain of overlaps is resolved the same way:
//!   each area loses the union of the (original) areas before it that overlap it. Every resolved
//!   pair is listed with its area and the area that kept it.
//! * **Gaps** ([`measure_gaps`]): land that no area covers is not filled in (its points are
//!   snapped to the nearest area, as any point off every polygon is), but it is measured: the
//!   holes of each country's union of areas, less the areas of other countries inside them
//!   (enclaves such as Lesotho), are the gaps. Gaps between two countries lie in neither
//!   country's union and are not counted; lakes that a country's areas leave out count as gaps.
//!
//! Both run on the global overlay grid of [`crate::geom::overlay`], so resolved areas keep borders
//! that match their neighbours' after the cell unions.
//!
//! Complexity: one intersection per pair of areas with intersecting bounding boxes
//! (`O(s log s)` in the pair's segments), in parallel; one union per country.

use std::collections::BTreeMap;

use geo::{Area as _, BoundingRect, ChamberlainDuquetteArea, InteriorPoint};
use geo_types::{MultiPolygon, Polygon};
use rayon::prelude::*;
use rstar::RTree;
use serde::Serialize;

use crate::geom::bbox::{BoxEntry, box_entries};
use crate::input::area::Area;

/// One resolved overlap between two areas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// Code of the area that kept the shared part (the first in area order).
    pub kept_by: String,
    /// Code of the area it was cut out of.
    pub cut_from: String,
    /// Area of the shared part in km² (on the sphere).
    pub km2: f64,
    /// Area of the shared part in square degrees (planar lon/lat).
    pub deg2: f64,
}

/// What [`measure_gaps`] found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GapSummary {
    /// Number of gap polygons (holes of a country's areas not covered by another area).
    pub count: usize,
    /// Their total area in km².
    pub km2: f64,
    /// The largest gaps (at most 10): country code, km², and a point inside (lon, lat).
    pub largest: Vec<Gap>,
}

/// One gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// The country whose areas surround it.
    pub country: String,
    /// Its area in km².
    pub km2: f64,
    /// A point inside it (lon, lat).
    pub point: (f64, f64),
}

fn boxes(areas: &[Area]) -> Vec<BoxEntry> {
    box_entries(areas.iter().map(|a| &a.geometry))
}

/// Cuts every overlap between two areas out of the later one (see the module docs) and
/// returns the resolved pairs, ordered by (kept, cut) area index. `areas` must be in their final
/// order. Areas that lose everything keep an empty geometry (the caller drops them).
pub fn resolve_overlaps(areas: &mut [Area]) -> Vec<Overlap> {
    let rects = boxes(areas);
    let tree = RTree::bulk_load(rects.clone());
    let mut candidates: Vec<(u32, u32)> = Vec::new();
    for b in &rects {
        for o in tree.locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(b.geom())) {
            if o.data > b.data {
                candidates.push((b.data, o.data));
            }
        }
    }
    candidates.sort_unstable();
    let found: Vec<(u32, u32, MultiPolygon<f64>)> = candidates
        .par_iter()
        .filter_map(|&(i, j)| {
            let x = crate::geom::overlay::intersection(
                &areas[i as usize].geometry,
                &areas[j as usize].geometry,
            );
            (x.unsigned_area() > 0.0).then_some((i, j, x))
        })
        .collect();
    if found.is_empty() {
        return Vec::new();
    }
    // Each later area loses the union of the earlier areas that overlap it.
    let mut earlier: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (i, j, _) in &found {
        earlier.entry(*j).or_default().push(*i);
    }
    let cut: Vec<(u32, MultiPolygon<f64>)> = earlier
        .par_iter()
        .map(|(&j, before)| {
            let others = crate::geom::overlay::union(
                before
                    .iter()
                    .flat_map(|&i| areas[i as usize].geometry.0.iter()),
            );
            let mut rest = crate::geom::overlay::difference(&areas[j as usize].geometry, &others);
            rest.0.retain(|p| p.unsigned_area() > 0.0);
            (j, crate::geom::repair::orient(rest))
        })
        .collect();
    for (j, g) in cut {
        areas[j as usize].geometry = g;
    }
    found
        .into_iter()
        .map(|(i, j, x)| Overlap {
            kept_by: areas[i as usize].code.clone(),
            cut_from: areas[j as usize].code.clone(),
            km2: x.chamberlain_duquette_unsigned_area() / 1e6,
            deg2: x.unsigned_area(),
        })
        .collect()
}

/// Measures the gaps between the areas (see the module docs). Deterministic; countries in
/// parallel.
pub fn measure_gaps(areas: &[Area]) -> GapSummary {
    let mut by_country: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, a) in areas.iter().enumerate() {
        by_country.entry(&a.country_code).or_default().push(i);
    }
    let tree = RTree::bulk_load(boxes(areas));
    let groups: Vec<(&str, Vec<usize>)> = by_country.into_iter().collect();
    let mut gaps: Vec<Gap> = groups
        .par_iter()
        .flat_map_iter(|(country, members)| {
            let union = crate::geom::overlay::union(
                members.iter().flat_map(|&i| areas[i].geometry.0.iter()),
            );
            let mut out = Vec::new();
            for p in &union.0 {
                for hole in p.interiors() {
                    let h = MultiPolygon::new(vec![Polygon::new(hole.clone(), vec![])]);
                    let Some(r) = h.bounding_rect() else {
                        continue;
                    };
                    let env =
                        rstar::AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                    let mut inside: Vec<usize> = tree
                        .locate_in_envelope_intersecting(&env)
                        .map(|o| o.data as usize)
                        .filter(|&k| areas[k].country_code != *country)
                        .collect();
                    inside.sort_unstable();
                    let rest = if inside.is_empty() {
                        h
                    } else {
                        let others = crate::geom::overlay::union(
                            inside.iter().flat_map(|&k| areas[k].geometry.0.iter()),
                        );
                        crate::geom::overlay::difference(&h, &others)
                    };
                    for g in rest.0 {
                        let km2 = g.chamberlain_duquette_unsigned_area() / 1e6;
                        if km2 <= 0.0 {
                            continue;
                        }
                        let point = g
                            .interior_point()
                            .map_or((f64::NAN, f64::NAN), |p| (p.x(), p.y()));
                        out.push(Gap {
                            country: country.to_string(),
                            km2,
                            point,
                        });
                    }
                }
            }
            out
        })
        .collect();
    let km2 = gaps.iter().map(|g| g.km2).sum();
    let count = gaps.len();
    gaps.sort_by(|a, b| b.km2.total_cmp(&a.km2).then(a.country.cmp(&b.country)));
    gaps.truncate(10);
    GapSummary {
        count,
        km2,
        largest: gaps,
    }
}
