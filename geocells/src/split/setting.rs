//! One OPTICS setting on one family: every cell above MAX is clustered, its largest cluster is
//! carved out ([`crate::split::carve::carve`]) when it and the rest both reach MINSIZE, and the
//! cells that changed go back into the queue while above MAX. The core distances of the last
//! OPTICS run are reused where a carve cannot have changed them ([`known_cores`]).
//!
//! The semantic pass ([`Rules::Semantic`], after the settings, before the geometric fallback)
//! takes, when no xi cluster fits, the largest cluster of the whole xi hierarchy that fits
//! (a parent of the leaf clusters sklearn labels), else the deepest density valley of the
//! reachability plot: the cut of the OPTICS ordering at its highest reachability with at least
//! MINSIZE points on either side ([`density_division`]).

use std::collections::VecDeque;

use rayon::prelude::*;

use crate::partition::cells::{CellOrigin, PointCells};
use crate::split::carve::carve;
use crate::split::family::Family;
use crate::split::optics::{OpticsParams, optics_planar_fast, optics_sphere, optics_sphere_known};
use crate::split::params::{Metric, SplitError, SplitParams};
use crate::split::report::SplitPart;

/// Which divisions of a cell a pass may carve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// The largest xi cluster (the labels sklearn gives), as PIGEON.
    Xi,
    /// That, else the largest fitting cluster of the xi hierarchy, else the deepest density
    /// valley.
    Semantic,
}

/// What made a division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// The largest xi cluster.
    Xi,
    /// A cluster higher in the xi hierarchy.
    Hierarchy,
    /// A density valley of the reachability plot.
    Valley,
}

/// Carves per rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RuleCounts {
    /// Cells split (at least one carve).
    pub(crate) cells_split: usize,
    /// By the largest xi cluster.
    pub(crate) xi: usize,
    /// By a cluster of the xi hierarchy.
    pub(crate) hierarchy: usize,
    /// By a density valley.
    pub(crate) valley: usize,
}

impl RuleCounts {
    /// All carves.
    pub(crate) fn carves(&self) -> usize {
        self.xi + self.hierarchy + self.valley
    }
}

/// One OPTICS setting on one family: carve until no cell above MAX yields a carve.
pub(crate) fn run_setting(
    f: &mut Family,
    setting: u16,
    opt: &OpticsParams,
    pos: &[(f64, f64)],
    labels: &PointCells,
    params: &SplitParams,
    rules: Rules,
) -> Result<RuleCounts, SplitError> {
    let max = params.max_size;
    let mut queue: VecDeque<usize> = (0..f.parts.len())
        .filter(|&k| f.parts[k].points.len() > max)
        .collect();
    let mut split = std::collections::BTreeSet::new();
    let mut counts = RuleCounts::default();
    // The last OPTICS run's points (ascending) and core distances, to skip recomputing the
    // core distances a carve cannot have changed.
    let mut cache: Option<(Vec<u32>, Vec<f64>)> = None;
    while let Some(k) = queue.pop_front() {
        if f.parts[k].points.len() <= max {
            continue;
        }
        let Some((flags, rule)) =
            optics_flags(&f.parts[k], opt, pos, params, &f.name, &mut cache, rules)?
        else {
            continue;
        };
        let origin = match rule {
            Rule::Xi => CellOrigin::Optics(setting),
            Rule::Hierarchy => CellOrigin::Hierarchy(setting),
            Rule::Valley => CellOrigin::Valley(setting),
        };
        if let Some(changed) = carve(f, k, &flags, pos, labels, params, origin)? {
            match rule {
                Rule::Xi => counts.xi += 1,
                Rule::Hierarchy => counts.hierarchy += 1,
                Rule::Valley => counts.valley += 1,
            }
            split.insert(k);
            for c in changed {
                if f.parts[c].points.len() > max && !queue.contains(&c) {
                    queue.push_back(c);
                }
            }
        }
    }
    counts.cells_split = split.len();
    Ok(counts)
}

/// The largest OPTICS cluster of a cell, as flags over its points, if it and the rest both
/// reach MINSIZE; with [`Rules::Semantic`], else the divisions of [`density_division`].
fn optics_flags(
    part: &SplitPart,
    opt: &OpticsParams,
    pos: &[(f64, f64)],
    params: &SplitParams,
    name: &str,
    cache: &mut Option<(Vec<u32>, Vec<f64>)>,
    rules: Rules,
) -> Result<Option<(Vec<bool>, Rule)>, SplitError> {
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
    let largest = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .filter(|(_, size)| **size >= params.min_size && n - **size >= params.min_size);
    if let Some((&label, _)) = largest {
        let flags = result.labels.iter().map(|&l| l == label).collect();
        return Ok(Some((flags, Rule::Xi)));
    }
    if rules == Rules::Xi {
        return Ok(None);
    }
    Ok(
        density_division(&result, params.min_size).map(|(range, rule)| {
            let mut flags = vec![false; n];
            for &i in &result.ordering[range.0..=range.1] {
                flags[i] = true;
            }
            (flags, rule)
        }),
    )
}

/// A density-based division of `n` clustered points with at least `min_size` on either side,
/// as an inclusive range of positions in the OPTICS ordering (the side to carve), or `None`
/// when `n < 2 min_size`:
///
/// 1. the largest cluster of the whole xi hierarchy (`Optics::clusters`, sklearn's
///    `cluster_hierarchy_`) that fits (ties: the earliest in the ordering);
/// 2. else the deepest density valley: the cut of the ordering before the position of highest
///    reachability among those leaving `min_size` points on either side (ties: the earliest),
///    whose smaller side is carved (ties: the first). A point reached across a larger
///    distance than any other is where the density is lowest along the ordering; a new
///    connected component starts at infinite reachability, so separate groups are cut first.
///
/// `O(clusters + n)`. Source of the reachability plot and its reading: Ankerst, Breunig,
/// Kriegel, Sander, *OPTICS: Ordering Points To Identify the Clustering Structure*, SIGMOD
/// 1999, section 4 (valleys of the plot are clusters).
pub(crate) fn density_division(
    result: &crate::split::optics::Optics,
    min_size: usize,
) -> Option<((usize, usize), Rule)> {
    let n = result.ordering.len();
    if min_size == 0 || n < 2 * min_size {
        return None;
    }
    let fits = |(s, e): (usize, usize)| {
        let size = e + 1 - s;
        size >= min_size && n - size >= min_size
    };
    let parent = result
        .clusters
        .iter()
        .copied()
        .filter(|&c| fits(c))
        .max_by(|a, b| (a.1 - a.0).cmp(&(b.1 - b.0)).then(b.0.cmp(&a.0)));
    if let Some(c) = parent {
        return Some((c, Rule::Hierarchy));
    }
    let reach = |p: usize| result.reachability[result.ordering[p]];
    let mut cut = min_size;
    for p in min_size..=n - min_size {
        if reach(p) > reach(cut) {
            cut = p;
        }
    }
    // The positions before `cut`, or from it on: the smaller side.
    let range = if cut <= n - cut {
        (0, cut - 1)
    } else {
        (cut, n - 1)
    };
    Some((range, Rule::Valley))
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

    /// An OPTICS result over `reach.len()` points in order, with these xi clusters.
    fn plot(reach: &[f64], clusters: &[(usize, usize)]) -> crate::split::optics::Optics {
        let n = reach.len();
        crate::split::optics::Optics {
            ordering: (0..n).rev().collect(),
            core_distances: vec![1.0; n],
            // By point: point `n - 1 - p` stands at position `p`.
            reachability: (0..n).map(|i| reach[n - 1 - i]).collect(),
            predecessor: vec![None; n],
            labels: vec![-1; n],
            clusters: clusters.to_vec(),
        }
    }

    #[test]
    fn a_density_division_takes_the_hierarchy_then_the_deepest_valley() {
        // 100 points: a dense run, a gap at position 62, a looser run.
        let mut reach = vec![1.0; 100];
        reach[0] = f64::INFINITY;
        reach[62] = 9.0;
        reach[20] = 50.0; // deeper, but it would leave 20 < MINSIZE before it
        for r in &mut reach[63..] {
            *r = 3.0;
        }
        // No cluster: the valley at 62; the smaller side (62..=99, 38 points) is carved.
        assert_eq!(
            density_division(&plot(&reach, &[]), 30),
            Some(((62, 99), Rule::Valley))
        );
        // A leaf too small and its parent that fits: the parent; one leaving fewer than
        // MINSIZE outside is passed over.
        let clusters = [(0, 9), (0, 59), (0, 89)];
        assert_eq!(
            density_division(&plot(&reach, &clusters), 30),
            Some(((0, 59), Rule::Hierarchy))
        );
        // Fewer than twice MINSIZE: nothing.
        assert_eq!(density_division(&plot(&reach[..59], &[]), 30), None);
        // The carve is over points, not positions: the flags of optics_flags follow
        // `ordering`, which here reverses them.
        let r = plot(&reach, &[]);
        assert_eq!(r.ordering[62], 37);
    }
}
