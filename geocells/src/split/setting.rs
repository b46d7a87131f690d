//! One OPTICS setting on one family: every cell above MAX is clustered, its largest cluster is
//! carved out ([`crate::split::carve::carve`]) when it and the rest both reach MINSIZE, and the
//! cells that changed go back into the queue while above MAX. The core distances of the last
//! OPTICS run are reused where a carve cannot have changed them ([`known_cores`]).

use std::collections::VecDeque;

use rayon::prelude::*;

use crate::partition::cells::{CellOrigin, PointCells};
use crate::split::carve::carve;
use crate::split::family::Family;
use crate::split::optics::{OpticsParams, optics_planar_fast, optics_sphere, optics_sphere_known};
use crate::split::params::{Metric, SplitError, SplitParams};
use crate::split::report::SplitPart;

/// One OPTICS setting on one family: carve until no cell above MAX yields a carve. Returns
/// (cells split, carves).
pub(crate) fn run_setting(
    f: &mut Family,
    setting: u16,
    opt: &OpticsParams,
    pos: &[(f64, f64)],
    labels: &PointCells,
    params: &SplitParams,
) -> Result<(usize, usize), SplitError> {
    let max = params.max_size;
    let mut queue: VecDeque<usize> = (0..f.parts.len())
        .filter(|&k| f.parts[k].points.len() > max)
        .collect();
    let mut split = std::collections::BTreeSet::new();
    let mut carves = 0;
    // The last OPTICS run's points (ascending) and core distances, to skip recomputing the
    // core distances a carve cannot have changed.
    let mut cache: Option<(Vec<u32>, Vec<f64>)> = None;
    while let Some(k) = queue.pop_front() {
        if f.parts[k].points.len() <= max {
            continue;
        }
        let Some(flags) = optics_flags(&f.parts[k], opt, pos, params, &f.name, &mut cache)? else {
            continue;
        };
        if let Some(changed) = carve(
            f,
            k,
            &flags,
            pos,
            labels,
            params,
            CellOrigin::Optics(setting),
        )? {
            carves += 1;
            split.insert(k);
            for c in changed {
                if f.parts[c].points.len() > max && !queue.contains(&c) {
                    queue.push_back(c);
                }
            }
        }
    }
    Ok((split.len(), carves))
}

/// The largest OPTICS cluster of a cell, as flags over its points, if it and the rest both
/// reach MINSIZE.
fn optics_flags(
    part: &SplitPart,
    opt: &OpticsParams,
    pos: &[(f64, f64)],
    params: &SplitParams,
    name: &str,
    cache: &mut Option<(Vec<u32>, Vec<f64>)>,
) -> Result<Option<Vec<bool>>, SplitError> {
    let n = part.points.len();
    if n < opt.min_samples.max(2) {
        return Ok(None);
    }
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    // A cell at one location has nothing to cluster (and the fallback reports it).
    if coords.iter().all(|c| c == &coords[0]) {
        return Ok(None);
    }
    let result = match params.metric {
        Metric::Sphere => match cache.as_ref() {
            Some((before, core)) => {
                let known = known_cores(&part.points, before, core, pos);
                optics_sphere_known(&coords, opt, &known)
            }
            None => optics_sphere(&coords, opt),
        }
        .inspect(|r| *cache = Some((part.points.clone(), r.core_distances.clone()))),
        Metric::Degrees => {
            let planar: Vec<[f64; 2]> = coords.iter().map(|&(x, y)| [x, y]).collect();
            optics_planar_fast(&planar, opt)
        }
    }
    .map_err(|source| SplitError::Optics {
        cell: name.to_string(),
        source,
    })?;
    let mut counts: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::default();
    for &l in &result.labels {
        if l >= 0 {
            *counts.entry(l).or_default() += 1;
        }
    }
    // Largest cluster, ties to the lowest label (numpy argmax over sorted labels).
    let Some((&label, &size)) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) else {
        return Ok(None);
    };
    if size < params.min_size || n - size < params.min_size {
        return Ok(None);
    }
    Ok(Some(result.labels.iter().map(|&l| l == label).collect()))
}

/// Core distances of `points` that an OPTICS run on `before` (with core distances `core`)
/// already gives exactly: a point's core distance is the distance to its `min_samples`-th
/// nearest neighbour, so it stays the same when every point added or removed since lies
/// farther away than it (strictly, with a margin far above rounding). Both lists ascend.
/// Cost: a merge of the two lists, an R-tree of the changed points and one nearest-neighbour
/// query per kept point, against `O(m log n)` per point for recomputing.
fn known_cores(
    points: &[u32],
    before: &[u32],
    core: &[f64],
    pos: &[(f64, f64)],
) -> Vec<Option<f64>> {
    use crate::split::optics::{dist, unit_sphere_km};
    // Walk both ascending lists: points also in `before` (with their index there) and the
    // changed ones (in one list only).
    let mut changed: Vec<(f64, f64)> = Vec::new();
    let mut was: Vec<Option<usize>> = Vec::with_capacity(points.len());
    let (mut a, mut b) = (0, 0);
    while a < points.len() || b < before.len() {
        match (points.get(a), before.get(b)) {
            (Some(&x), Some(&y)) if x == y => {
                was.push(Some(b));
                a += 1;
                b += 1;
            }
            (Some(&x), Some(&y)) if x < y => {
                was.push(None);
                changed.push(pos[x as usize]);
                a += 1;
            }
            (Some(&x), None) => {
                was.push(None);
                changed.push(pos[x as usize]);
                a += 1;
            }
            (_, Some(&y)) => {
                changed.push(pos[y as usize]);
                b += 1;
            }
            (None, None) => break,
        }
    }
    if changed.is_empty() {
        return was.iter().map(|w| w.map(|b| core[b])).collect();
    }
    let tree = rstar::RTree::bulk_load(unit_sphere_km(&changed));
    let here = unit_sphere_km(&points.iter().map(|&i| pos[i as usize]).collect::<Vec<_>>());
    was.par_iter()
        .zip(here.par_iter())
        .with_min_len(1024)
        .map(|(w, p)| {
            let c = core[(*w)?];
            let nearest = tree
                .nearest_neighbor(p)
                .map_or(f64::INFINITY, |q| dist(*p, *q));
            (nearest > c * (1.0 + 1e-9) + 1e-9).then_some(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_core_distances_give_the_same_optics() {
        // Three blobs of seeded points in Bavaria; a run on all of them, then on the set after
        // carving out one blob and adding a few far points (as fragments may bring).
        let mut rng = crate::synth::SplitMix64::new(7);
        let mut pos: Vec<(f64, f64)> = Vec::new();
        for (cx, cy, n) in [(11.5, 48.1, 400), (12.1, 49.0, 300), (10.9, 49.4, 350)] {
            for _ in 0..n {
                pos.push((cx + rng.next_normal() * 0.05, cy + rng.next_normal() * 0.05));
            }
        }
        for _ in 0..20 {
            pos.push((11.0 + rng.next_f64(), 48.5 + rng.next_f64()));
        }
        let before: Vec<u32> = (0..1040).collect();
        let after: Vec<u32> = (400..1070).collect(); // first blob out, 30 points in
        let opt = OpticsParams::new(20, 0.05);
        let coords =
            |ids: &[u32]| -> Vec<(f64, f64)> { ids.iter().map(|&i| pos[i as usize]).collect() };
        let first = optics_sphere(&coords(&before), &opt).expect("optics");
        let known = known_cores(&after, &before, &first.core_distances, &pos);
        let reused = known.iter().filter(|k| k.is_some()).count();
        assert!(reused > 400 && reused < after.len() - 30, "{reused}");
        let fresh = optics_sphere(&coords(&after), &opt).expect("optics");
        let fast = optics_sphere_known(&coords(&after), &opt, &known).expect("optics");
        assert_eq!(fresh, fast);
        // A wrong "known" value changes the result: the check above can fail.
        let mut wrong = known.clone();
        let i = wrong.iter().position(Option::is_some).expect("some known");
        wrong[i] = wrong[i].map(|c| c * 2.0);
        let bad = optics_sphere_known(&coords(&after), &opt, &wrong).expect("optics");
        assert_ne!(fresh.core_distances, bad.core_distances);
    }
}
