//! One carve: the flagged points of a cell become a new cell, the union of their Voronoi regions
//! within the cell ([`crate::split::voronoi::cluster_region`]), and the cell keeps the
//! difference. Points follow the geometry, a carve leaving a side below MINSIZE is not applied,
//! and minor polygons of the two cells go to the neighbour sharing the longest border. With
//! [`crate::split::params::SplitParams::check_each_carve`] the family is checked after each carve.

use geo::algorithm::indexed::IntervalTreeMultiPolygon;
use geo::{Area as _, BoundingRect, Contains};
use geo_types::{Coord, MultiPolygon, Polygon};

use crate::geom::geodesy::haversine_km;
use crate::partition::assign::AreaIndex;
use crate::partition::cells::{CellOrigin, POINT_TOL_KM, PointCells};
use crate::split::family::Family;
use crate::split::params::{SplitError, SplitParams};
use crate::split::report::SplitPart;
use crate::split::voronoi::cluster_region;

/// Carves the flagged points of part `k` out as a new part. Returns the parts that changed
/// (`k`, the new one, and any that received fragments), or `None` when the carve would leave
/// an empty cell or a side below MINSIZE (nothing is changed then).
pub(crate) fn carve(
    f: &mut Family,
    k: usize,
    flags: &[bool],
    pos: &[(f64, f64)],
    labels: &PointCells,
    params: &SplitParams,
    origin: CellOrigin,
) -> Result<Option<Vec<usize>>, SplitError> {
    let part = &f.parts[k];
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    let flags = &flags_by_location(&coords, flags);
    let mut region =
        cluster_region(&coords, flags, &part.geometry).map_err(|source| SplitError::Voronoi {
            cell: f.name.clone(),
            source,
        })?;
    region.0.retain(|p| p.unsigned_area() > 0.0);
    if region.0.is_empty() {
        return Ok(None);
    }
    let mut rest = crate::geom::overlay::difference(&part.geometry, &region);
    rest.0.retain(|p| p.unsigned_area() > 0.0);
    if rest.0.is_empty() {
        return Ok(None);
    }
    // Points follow the geometry: a point stays on its side if it is inside that side's polygon
    // or within POINT_TOL_KM of it (points on the cut, grid rounding); otherwise it goes to the
    // polygon holding it, or the nearer one. Snapped points stand at their site inside their
    // area (crate::geom::geodesy::snap_site), so they follow the same rule; `reconcile` checks them
    // against the lookup rule for new points once the family is done.
    let sides = AreaIndex::from_polygons(&[&region, &rest]);
    let (mut new_pts, mut old_pts) = (Vec::new(), Vec::new());
    let mut uncertain = Vec::new();
    for (j, &i) in part.points.iter().enumerate() {
        let to_new = {
            let c = Coord {
                x: pos[i as usize].0,
                y: pos[i as usize].1,
            };
            let (own, own_side, other, other_side) = if flags[j] {
                (&region, 0, &rest, 1)
            } else {
                (&rest, 1, &region, 0)
            };
            let inside = sides.contains(own_side, c);
            let stays = inside
                || crate::geom::measure::distance_to_boundary_km(own, c) <= POINT_TOL_KM
                || (!sides.contains(other_side, c)
                    && crate::geom::measure::distance_to_boundary_km(own, c)
                        <= crate::geom::measure::distance_to_boundary_km(other, c));
            if !inside {
                uncertain.push(i);
            }
            stays == flags[j]
        };
        if to_new {
            new_pts.push(i);
        } else {
            old_pts.push(i);
        }
    }
    if new_pts.len() < params.min_size || old_pts.len() < params.min_size {
        return Ok(None);
    }
    f.uncertain.extend(uncertain);
    f.parts[k].geometry = rest;
    f.parts[k].points = old_pts;
    f.parts.push(SplitPart {
        geometry: region,
        points: new_pts,
        origin,
    });
    f.carves += 1;
    let j = f.parts.len() - 1;
    let mut changed = vec![k, j];
    for recipient in clean_fragments(f, &[k, j], pos, params.min_size) {
        if !changed.contains(&recipient) {
            changed.push(recipient);
        }
    }
    if params.check_each_carve {
        check_family(f, pos, labels).map_err(|detail| SplitError::CarveCheck {
            family: f.index,
            cell: f.name.clone(),
            carve: f.carves,
            detail,
        })?;
    }
    Ok(Some(changed))
}

/// Makes the flags agree at each location: points at one position are one Voronoi site, so
/// they all join the cluster when at least half of them are in it (OPTICS can put duplicates
/// on both sides).
fn flags_by_location(coords: &[(f64, f64)], flags: &[bool]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..coords.len()).collect();
    let key = |i: usize| (coords[i].0.to_bits(), coords[i].1.to_bits());
    order.sort_by_key(|&i| (key(i), i));
    let mut out = flags.to_vec();
    let mut s = 0;
    while s < order.len() {
        let mut e = s + 1;
        while e < order.len() && key(order[e]) == key(order[s]) {
            e += 1;
        }
        if e - s > 1 {
            let yes = order[s..e].iter().filter(|&&i| flags[i]).count();
            let v = 2 * yes >= e - s;
            for &i in &order[s..e] {
                out[i] = v;
            }
        }
        s = e;
    }
    out
}

/// Hands the minor polygons of the given parts to the neighbouring part (same family) with the
/// longest shared border. The main polygon of a part is the one holding most of its points
/// (ties: larger area). A minor polygon with points moves only if the donor keeps `min`
/// points. Returns the parts that received something.
fn clean_fragments(f: &mut Family, which: &[usize], pos: &[(f64, f64)], min: usize) -> Vec<usize> {
    let mut recipients = Vec::new();
    for &k in which {
        if f.parts[k].geometry.0.len() < 2 {
            continue;
        }
        let polys = f.parts[k].geometry.0.clone();
        // Points per polygon: the polygon holding the point, else the nearest.
        let prepared: Vec<IntervalTreeMultiPolygon<f64>> = polys
            .iter()
            .map(|p| IntervalTreeMultiPolygon::new(&MultiPolygon::new(vec![p.clone()])))
            .collect();
        let mut holder: Vec<usize> = Vec::with_capacity(f.parts[k].points.len());
        let mut count = vec![0usize; polys.len()];
        for &i in &f.parts[k].points {
            let c = Coord {
                x: pos[i as usize].0,
                y: pos[i as usize].1,
            };
            let h = prepared
                .iter()
                .position(|t| t.contains(&c))
                .unwrap_or_else(|| {
                    let mut best = (0usize, f64::INFINITY);
                    for (q, p) in polys.iter().enumerate() {
                        let d = crate::geom::measure::distance_to_boundary_km(
                            &MultiPolygon::new(vec![p.clone()]),
                            c,
                        );
                        if d < best.1 {
                            best = (q, d);
                        }
                    }
                    best.0
                });
            count[h] += 1;
            holder.push(h);
        }
        let areas: Vec<f64> = polys.iter().map(geo::Area::unsigned_area).collect();
        let main = (0..polys.len())
            .max_by(|&a, &b| {
                count[a]
                    .cmp(&count[b])
                    .then(areas[a].total_cmp(&areas[b]))
                    .then(b.cmp(&a))
            })
            .unwrap_or(0);
        let mut keep = vec![true; polys.len()];
        let mut remaining = f.parts[k].points.len();
        for q in 0..polys.len() {
            if q == main || (count[q] > 0 && remaining - count[q] < min) {
                continue;
            }
            let Some(to) = longest_border(&polys[q], f, k) else {
                continue;
            };
            // Move polygon q and its points to part `to`.
            keep[q] = false;
            remaining -= count[q];
            let mut merged: Vec<Polygon<f64>> = f.parts[to].geometry.0.clone();
            merged.push(polys[q].clone());
            f.parts[to].geometry =
                crate::geom::repair::orient(crate::geom::overlay::union(merged.iter()));
            let moving: Vec<u32> = f.parts[k]
                .points
                .iter()
                .zip(&holder)
                .filter(|(_, h)| **h == q)
                .map(|(i, _)| *i)
                .collect();
            f.fragment_points_moved += moving.len();
            f.fragments_moved += 1;
            f.parts[to].points.extend(&moving);
            f.parts[to].points.sort_unstable();
            if !recipients.contains(&to) {
                recipients.push(to);
            }
        }
        if keep.iter().any(|k| !k) {
            let part = &mut f.parts[k];
            let kept: Vec<Polygon<f64>> = polys
                .into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(p, _)| p)
                .collect();
            let gone: std::collections::BTreeSet<usize> = holder
                .iter()
                .enumerate()
                .filter(|(_, h)| !keep[**h])
                .map(|(j, _)| j)
                .collect();
            part.geometry = MultiPolygon::new(kept);
            let pts = std::mem::take(&mut part.points);
            part.points = pts
                .into_iter()
                .enumerate()
                .filter(|(j, _)| !gone.contains(j))
                .map(|(_, i)| i)
                .collect();
        }
    }
    recipients
}

/// The part of `f` (other than `k`) sharing the longest border with `poly`, found by probing
/// just outside the middle of each boundary segment (polygons are oriented, so outside is to
/// the right of every ring). `None` when `poly` touches no other part.
fn longest_border(poly: &Polygon<f64>, f: &Family, k: usize) -> Option<usize> {
    const PROBE_DEG: f64 = 1e-6;
    let candidates: Vec<(usize, &Polygon<f64>, geo_types::Rect<f64>)> = f
        .parts
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != k)
        .flat_map(|(j, p)| {
            p.geometry
                .0
                .iter()
                .filter_map(move |q| q.bounding_rect().map(|r| (j, q, r)))
        })
        .collect();
    let mut border: std::collections::BTreeMap<usize, f64> = std::collections::BTreeMap::default();
    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
        for w in ring.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let len = (dx * dx + dy * dy).sqrt();
            if len == 0.0 {
                continue;
            }
            let probe = Coord {
                x: (a.x + b.x) / 2.0 + dy / len * PROBE_DEG,
                y: (a.y + b.y) / 2.0 - dx / len * PROBE_DEG,
            };
            for (j, q, r) in &candidates {
                if probe.x >= r.min().x
                    && probe.x <= r.max().x
                    && probe.y >= r.min().y
                    && probe.y <= r.max().y
                    && q.contains(&probe)
                {
                    *border.entry(*j).or_default() += haversine_km((a.x, a.y), (b.x, b.y));
                    break;
                }
            }
        }
    }
    border
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(j, _)| j)
}

/// The per-carve check: the family's parts still cover the admin cell's area, do not overlap,
/// and hold every one of their points.
fn check_family(f: &Family, pos: &[(f64, f64)], labels: &PointCells) -> Result<(), String> {
    let mut area = 0.0;
    let mut tolerance = 0.0;
    for p in &f.parts {
        area += p.geometry.unsigned_area();
        tolerance += crate::geom::measure::union_tolerance(&p.geometry);
        if !crate::geom::repair::is_valid_fast(&p.geometry) {
            return Err("a cell polygon is invalid".into());
        }
    }
    if (area - f.area).abs() > tolerance.max(crate::partition::cells::AREA_RTOL * f.area) {
        return Err(format!(
            "the cells cover {area:.9} deg², the admin cell {:.9}",
            f.area
        ));
    }
    let geoms: Vec<MultiPolygon<f64>> = f.parts.iter().map(|p| p.geometry.clone()).collect();
    let overlaps = crate::geom::measure::overlapping(&geoms, tolerance.max(1e-12));
    if let Some((a, b, x)) = overlaps.first() {
        return Err(format!("cells {a} and {b} overlap by {x:.3e} deg²"));
    }
    for (k, p) in f.parts.iter().enumerate() {
        let t = IntervalTreeMultiPolygon::new(&p.geometry);
        for &i in &p.points {
            let c = Coord {
                x: pos[i as usize].0,
                y: pos[i as usize].1,
            };
            if !t.contains(&c) {
                let d = crate::geom::measure::distance_to_boundary_km(&p.geometry, c);
                if d > POINT_TOL_KM {
                    return Err(format!(
                        "point {} is {d:.4} km outside its cell (part {k})",
                        labels.points.ids.display(i as usize)
                    ));
                }
            }
        }
    }
    Ok(())
}
