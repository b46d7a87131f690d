//! The MAX fallback, after the OPTICS settings: every cell still above MAX is divided by a
//! straight cut (along the 2-means axis, then other directions) or else by an exact division of
//! its locations ([`crate::split::division`]), carved like a cluster
//! ([`crate::split::carve::carve`]), until no cell is above MAX or the rest provably cannot be
//! divided. Then [`reconcile`] gives the points near a border the cell that the lookup for new
//! points gives them.

use std::collections::VecDeque;

use geo_types::MultiPolygon;
use rayon::prelude::*;

use crate::geom::geodesy::spherical_mean;
use crate::partition::assign::AreaIndex;
use crate::partition::cells::{CellOrigin, PointCells};
use crate::split::carve::carve;
use crate::split::family::{Family, pos_of};
use crate::split::params::{SplitError, SplitParams};
use crate::split::report::{SplitPart, Unsplittable};
use crate::split::voronoi::LocalProjection;

/// The fallback on one family: divide every cell above MAX until none is left or the rest
/// provably cannot be divided. Returns the carves made.
pub(crate) fn run_fallback(
    f: &mut Family,
    pos: &[(f64, f64)],
    labels: &PointCells,
    params: &SplitParams,
) -> Result<usize, SplitError> {
    let max = params.max_size;
    let mut queue: VecDeque<usize> = (0..f.parts.len())
        .filter(|&k| f.parts[k].points.len() > max)
        .collect();
    let mut carves = 0;
    let mut given_up: Vec<(usize, Unsplittable)> = Vec::new();
    while let Some(k) = queue.pop_front() {
        if f.parts[k].points.len() <= max {
            continue;
        }
        let divisions = match divisions(&f.parts[k], pos, params.min_size) {
            Ok(x) => x,
            Err(reason) => {
                given_up.push((k, reason));
                continue;
            }
        };
        // Straight cuts first (the 2-means axis, then other directions), the subset-sum
        // division last; the first carve that keeps MINSIZE on both sides once points are
        // reassigned to the polygons holding them is taken.
        let mut done = None;
        for flags in divisions {
            if let Some(changed) = carve(f, k, &flags, pos, labels, params, CellOrigin::Bisect)? {
                done = Some(changed);
                break;
            }
        }
        match done {
            Some(changed) => {
                carves += 1;
                given_up.retain(|(p, _)| !changed.contains(p));
                for c in changed {
                    if f.parts[c].points.len() > max && !queue.contains(&c) {
                        queue.push_back(c);
                    }
                }
            }
            None => given_up.push((k, Unsplittable::CarveRejected)),
        }
    }
    given_up.sort_by_key(|g| g.0);
    given_up.dedup_by_key(|g| g.0);
    given_up.retain(|(k, _)| f.parts[*k].points.len() > max);
    f.unsplittable = given_up;
    Ok(carves)
}

/// After the carves, gives every point of the family that may sit on the wrong side of a border
/// (snapped points, and points a carve kept within its tolerance) the part
/// [`AreaIndex::locate`] gives its input position — the rule `assign::CellLookup` applies to
/// new points — when the move keeps both parts within MINSIZE and MAX; counts the points that
/// could not move. Points are visited in index order, so the result is deterministic.
pub(crate) fn reconcile(f: &mut Family, labels: &PointCells, params: &SplitParams) {
    if f.parts.len() < 2 {
        return;
    }
    let mut check: Vec<(u32, usize)> = Vec::new();
    let uncertain: std::collections::BTreeSet<u32> = f.uncertain.iter().copied().collect();
    for (j, p) in f.parts.iter().enumerate() {
        for &i in &p.points {
            if labels.snap_km[i as usize] > 0.0 || uncertain.contains(&i) {
                check.push((i, j));
            }
        }
    }
    if check.is_empty() {
        return;
    }
    check.sort_unstable();
    let geoms: Vec<&MultiPolygon<f64>> = f.parts.iter().map(|p| &p.geometry).collect();
    let index = AreaIndex::from_polygons(&geoms);
    let wanted: Vec<Option<usize>> = check
        .par_iter()
        .map(|&(i, j)| {
            let (lon, lat) = pos_of(labels, i);
            index
                .locate(lon, lat)
                .map(|(t, _)| t as usize)
                .filter(|&t| t != j)
        })
        .collect();
    let mut sizes: Vec<usize> = f.parts.iter().map(|p| p.points.len()).collect();
    let mut moves: Vec<(u32, usize, usize)> = Vec::new();
    for (&(i, j), t) in check.iter().zip(wanted) {
        let Some(t) = t else { continue };
        if sizes[t] < params.max_size && sizes[j] > params.min_size {
            sizes[t] += 1;
            sizes[j] -= 1;
            moves.push((i, j, t));
        } else {
            f.disagreeing += 1;
        }
    }
    f.reconciled += moves.len();
    for (i, j, t) in moves {
        f.parts[j].points.retain(|&x| x != i);
        f.parts[t].points.push(i);
    }
    for p in &mut f.parts {
        p.points.sort_unstable();
    }
    let max = params.max_size;
    let parts = &f.parts;
    f.unsplittable.retain(|(k, _)| parts[*k].points.len() > max);
}

/// Cuts tried along the 2-means axis before other directions.
const MAX_CUT_TRIES: usize = 16;

/// Directions tried after the 2-means axis, evenly spaced over 180 degrees.
const AXIS_DIRECTIONS: usize = 180;

/// The divisions of a cell the fallback tries, in order, as flags over its points (the flagged
/// points are carved out), lazily: first cuts perpendicular to the 2-means axis in a local
/// azimuthal equidistant frame (km), nearest-first to the 2-means boundary; then the cut
/// nearest to an even split along each of [`AXIS_DIRECTIONS`] directions; then a division
/// found by the exact subset-sum search of [`crate::split::division`]. No division splits a location
/// and each leaves at least `min` points on both sides.
///
/// # Errors
/// The [`Unsplittable`] reason when no division exists (or the search is too large to decide).
fn divisions(
    part: &SplitPart,
    pos: &[(f64, f64)],
    min: usize,
) -> Result<impl Iterator<Item = Vec<bool>> + use<>, Unsplittable> {
    use crate::split::division::{Locations, Subset, axis_cuts, subset_in_range};
    let n = part.points.len();
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    let locs = Locations::group(&coords);
    if locs.len() < 2 {
        return Err(Unsplittable::AllIdentical);
    }
    let (lon0, lat0) = spherical_mean(coords.iter().copied()).unwrap_or(coords[0]);
    let proj = LocalProjection::new(lon0, lat0);
    let xy: Vec<(f64, f64)> = locs.at.iter().map(|&(x, y)| proj.forward(x, y)).collect();
    let (dir, target) = two_means_axis(&xy, &locs.weight);
    let (order, cuts) = axis_cuts(&xy, &locs.weight, dir, min, target, MAX_CUT_TRIES);
    let subset = match subset_in_range(&locs.weight, min, &order) {
        Subset::Found(f) => f,
        Subset::Impossible => return Err(Unsplittable::Duplicates),
        Subset::TooLarge => return Err(Unsplittable::SearchLimit),
    };
    let nloc = locs.len();
    let prefix = move |order: &[usize], cut: usize| {
        let mut f = vec![false; nloc];
        for &l in &order[..cut] {
            f[l] = true;
        }
        f
    };
    let first: Vec<Vec<bool>> = cuts.iter().map(|&c| prefix(&order, c)).collect();
    let weights = locs.weight.clone();
    let others = (0..AXIS_DIRECTIONS).filter_map(move |k| {
        let a = std::f64::consts::PI * k as f64 / AXIS_DIRECTIONS as f64;
        let (order, cuts) = axis_cuts(&xy, &weights, (a.cos(), a.sin()), min, n / 2, 1);
        cuts.first().map(|&c| prefix(&order, c))
    });
    let of_point = locs.of_point;
    Ok(first
        .into_iter()
        .chain(others)
        .chain(std::iter::once(subset))
        .map(move |f| of_point.iter().map(|&l| f[l as usize]).collect()))
}

/// 2-means on weighted locations in a planar frame: the direction between the two means and
/// the number of points on the first mean's side (the cut the fallback prefers).
/// Deterministic: the means start at the location farthest from the weighted centre and the
/// location farthest from that one (lowest index on ties).
fn two_means_axis(xy: &[(f64, f64)], w: &[usize]) -> ((f64, f64), usize) {
    let d2 = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2);
    let total: f64 = w.iter().map(|&x| x as f64).sum();
    let centre = xy.iter().zip(w).fold((0.0, 0.0), |c, (p, &k)| {
        (c.0 + p.0 * k as f64 / total, c.1 + p.1 * k as f64 / total)
    });
    let farthest = |from: (f64, f64)| {
        let mut best = (0usize, -1.0f64);
        for (i, &p) in xy.iter().enumerate() {
            let d = d2(p, from);
            if d > best.1 {
                best = (i, d);
            }
        }
        best.0
    };
    let a = farthest(centre);
    let b = farthest(xy[a]);
    let (mut ca, mut cb) = (xy[a], xy[b]);
    let mut side: Vec<bool> = vec![false; xy.len()];
    let mut on_a = 0usize;
    for _ in 0..100 {
        let mut changed = false;
        let (mut sa, mut sb) = ((0.0, 0.0, 0usize), (0.0, 0.0, 0usize));
        for (i, &p) in xy.iter().enumerate() {
            let to_a = d2(p, ca) <= d2(p, cb);
            if to_a != side[i] {
                side[i] = to_a;
                changed = true;
            }
            let s = if to_a { &mut sa } else { &mut sb };
            s.0 += p.0 * w[i] as f64;
            s.1 += p.1 * w[i] as f64;
            s.2 += w[i];
        }
        if sa.2 > 0 {
            ca = (sa.0 / sa.2 as f64, sa.1 / sa.2 as f64);
        }
        if sb.2 > 0 {
            cb = (sb.0 / sb.2 as f64, sb.1 / sb.2 as f64);
        }
        on_a = sa.2;
        if !changed {
            break;
        }
    }
    let dir = (cb.0 - ca.0, cb.1 - ca.1);
    let dir = if dir.0 == 0.0 && dir.1 == 0.0 {
        (xy[b].0 - xy[a].0, xy[b].1 - xy[a].1)
    } else {
        dir
    };
    // Along `dir`, mean a comes first: the first `on_a` points are a's side.
    (dir, on_a)
}
