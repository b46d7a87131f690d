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
use crate::split::density::{Plot, density_tree, straight_cuts_sse};
use crate::split::family::Family;
use crate::split::optics::{OpticsParams, optics_planar_fast, optics_sphere, optics_sphere_known};
use crate::split::params::{Metric, SplitError, SplitParams};
use crate::split::report::SplitPart;

/// Which divisions of a cell a pass may carve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// The largest xi cluster (the labels sklearn gives), as PIGEON.
    Xi,
    /// Every disjoint xi cluster that fits, largest first, from one OPTICS run; with
    /// `keep_plots` (the last setting), the plots of runs that carve nothing are kept in
    /// `Family::plots` for the semantic pass.
    XiAll {
        /// Keep the plots.
        keep_plots: bool,
    },
    /// That, else the density tree of the run ([`density_tree`]): a division of the whole
    /// cell into runs of the OPTICS ordering of MINSIZE to MAX points.
    Semantic,
}

/// What made a division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// An xi cluster.
    Xi,
    /// A piece of the density tree (a run of the ordering between density valleys).
    Valley,
}

/// Carves per rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RuleCounts {
    /// Cells split (at least one carve).
    pub(crate) cells_split: usize,
    /// By an xi cluster.
    pub(crate) xi: usize,
    /// By a piece of the density tree.
    pub(crate) valley: usize,
    /// Density-tree divisions the compactness gate refused.
    pub(crate) refused: usize,
}

impl RuleCounts {
    /// All carves.
    pub(crate) fn carves(&self) -> usize {
        self.xi + self.valley
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
        let cached = if rules == Rules::Semantic {
            f.plots.remove(&k)
        } else {
            None
        };
        let mut tree = |plot: &Plot| {
            tree_offer(&f.parts[k], plot, pos, params).unwrap_or_else(|Refused| {
                counts.refused += 1;
                None
            })
        };
        let offer = if let Some(plot) = cached {
            tree(&plot)
        } else if let Some(r) = cluster_part(&f.parts[k], opt, pos, params, &f.name, &mut cache)? {
            let xi = xi_offer(&f.parts[k], &r.labels, params.min_size, rules);
            match (xi, rules) {
                (Some(o), _) => Some(o),
                (None, Rules::Semantic) => tree(&Plot::of(&r)),
                (None, Rules::XiAll { keep_plots: true }) => {
                    f.plots.insert(k, Plot::of(&r));
                    None
                }
                (None, _) => None,
            }
        } else {
            None
        };
        if let Some(offer) = offer {
            let origin = match offer.rule {
                Rule::Xi => CellOrigin::Optics(setting),
                Rule::Valley => CellOrigin::Valley(setting),
            };
            // Parts changed by the carves of this offer, in order of first change.
            let mut changed: Vec<usize> = Vec::new();
            for group in &offer.groups {
                let flags: Vec<bool> = f.parts[k]
                    .points
                    .iter()
                    .map(|i| group.binary_search(i).is_ok())
                    .collect();
                if !flags.contains(&true) {
                    continue;
                }
                let Some(c) = carve(f, k, &flags, pos, labels, params, origin)? else {
                    continue;
                };
                match offer.rule {
                    Rule::Xi => counts.xi += 1,
                    Rule::Valley => counts.valley += 1,
                }
                split.insert(k);
                for p in c {
                    f.plots.remove(&p);
                    if !changed.contains(&p) {
                        changed.push(p);
                    }
                }
            }
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

/// What one OPTICS run offers to carve from a cell: groups of its points (label indices,
/// ascending), carved one after the other, each leaving the rest in the cell.
struct Offer {
    groups: Vec<Vec<u32>>,
    rule: Rule,
}

/// OPTICS on a part, or `None` when it has fewer than `min_samples` points or one location.
fn cluster_part(
    part: &SplitPart,
    opt: &OpticsParams,
    pos: &[(f64, f64)],
    params: &SplitParams,
    name: &str,
    cache: &mut Option<(Vec<u32>, Vec<f64>)>,
) -> Result<Option<crate::split::optics::Optics>, SplitError> {
    let n = part.points.len();
    if n < opt.min_samples.max(2) {
        return Ok(None);
    }
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    // A cell at one location has nothing to cluster (and the fallback reports it).
    if coords.iter().all(|c| c == &coords[0]) {
        return Ok(None);
    }
    match params.metric {
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
    .map(Some)
    .map_err(|source| SplitError::Optics {
        cell: name.to_string(),
        source,
    })
}

/// The xi clusters [`Rules`] lets a run carve: with [`Rules::Xi`] the largest (ties: the
/// lowest label) if it and the rest both reach MINSIZE, else every cluster of at least
/// MINSIZE points, largest first, as long as the rest keeps MINSIZE ([`fitting_clusters`]).
fn xi_offer(part: &SplitPart, labels: &[i64], min_size: usize, rules: Rules) -> Option<Offer> {
    let clusters = fitting_clusters(labels, min_size, rules == Rules::Xi);
    if clusters.is_empty() {
        return None;
    }
    let groups = grouped(part, clusters.len(), |j| {
        clusters.iter().position(|&l| l == labels[j])
    });
    Some(Offer {
        groups,
        rule: Rule::Xi,
    })
}

/// The part's points (label indices, ascending) in `k` groups, point `j` of the part in group
/// `group_of(j)` (`None`: in none), in one pass.
fn grouped(part: &SplitPart, k: usize, group_of: impl Fn(usize) -> Option<usize>) -> Vec<Vec<u32>> {
    let mut groups = vec![Vec::new(); k];
    for (j, &p) in part.points.iter().enumerate() {
        if let Some(g) = group_of(j) {
            groups[g].push(p);
        }
    }
    groups
}

/// A density-tree division the compactness gate refused.
struct Refused;

/// The pieces of [`density_tree`] on a part's plot, but the last (which the part keeps), or
/// `Ok(None)` when the plot does not divide the part; [`Refused`] when the compactness gate
/// ([`SplitParams::semantic_tolerance`]) turns the division down.
fn tree_offer(
    part: &SplitPart,
    plot: &Plot,
    pos: &[(f64, f64)],
    params: &SplitParams,
) -> Result<Option<Offer>, Refused> {
    let n = part.points.len();
    if plot.ordering.len() != n {
        return Ok(None);
    }
    let coords: Vec<(f64, f64)> = part.points.iter().map(|&i| pos[i as usize]).collect();
    let unit = crate::split::optics::unit_sphere_km(&coords);
    let mut pieces = density_tree(plot, &unit, params.min_size, params.max_size);
    // The compactness gate: the division is taken only when its pieces are at most `1 + tol`
    // times as spread as straight cuts would make them; otherwise the cell waits for the
    // fallback.
    if pieces.len() > 1
        && let Some(tol) = params.semantic_tolerance
    {
        let sets: Vec<Vec<usize>> = pieces
            .iter()
            .map(|&(s, e)| plot.ordering[s..=e].iter().map(|&j| j as usize).collect())
            .collect();
        let ours = crate::split::density::pieces_sse(&unit, &sets);
        let straight = straight_cuts_sse(&unit, params.min_size, params.max_size);
        if ours > straight * (1.0 + tol) {
            return Err(Refused);
        }
    }
    // The last piece stays: the cell keeps it as what is left after the others are carved.
    pieces.pop();
    if pieces.is_empty() {
        return Ok(None);
    }
    let mut piece_of = vec![None; n];
    for (k, &(s, e)) in pieces.iter().enumerate() {
        for &j in &plot.ordering[s..=e] {
            piece_of[j as usize] = Some(k);
        }
    }
    let groups = grouped(part, pieces.len(), |j| piece_of[j]);
    Ok(Some(Offer {
        groups,
        rule: Rule::Valley,
    }))
}

/// The xi clusters (labels) to carve from one run over `n = labels.len()` points: by size,
/// largest first (ties: the lowest label, numpy's argmax over sorted labels), those of at
/// least `min_size` points taken while the points outside every taken cluster keep
/// `min_size`; with `only_largest`, the largest alone (PIGEON's rule), if it fits.
/// `O(n log n)`.
fn fitting_clusters(labels: &[i64], min_size: usize, only_largest: bool) -> Vec<i64> {
    let n = labels.len();
    let mut counts: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::default();
    for &l in labels {
        if l >= 0 {
            *counts.entry(l).or_default() += 1;
        }
    }
    let mut by_size: Vec<(i64, usize)> = counts.into_iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if only_largest {
        by_size.truncate(1);
    }
    let mut rest = n;
    let mut out = Vec::new();
    for (l, size) in by_size {
        if size < min_size || rest - size < min_size {
            continue;
        }
        rest -= size;
        out.push(l);
    }
    out
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

    #[test]
    fn every_fitting_cluster_is_taken_largest_first_while_the_rest_keeps_minsize() {
        // Clusters of 50, 40, 35 and 10 points and 15 noise points; MINSIZE 30.
        let mut labels = Vec::new();
        for (l, size) in [(2i64, 35), (0, 50), (3, 10), (1, 40)] {
            labels.extend(std::iter::repeat_n(l, size));
        }
        labels.extend(std::iter::repeat_n(-1, 15));
        // 50 (rest 100), 40 (rest 60); 35 would leave 25; 10 is below MINSIZE.
        assert_eq!(fitting_clusters(&labels, 30, false), vec![0, 1]);
        assert_eq!(fitting_clusters(&labels, 30, true), vec![0]);
        // Ties go to the lowest label.
        let tie = [vec![5i64; 30], vec![4; 30], vec![-1; 30]].concat();
        assert_eq!(fitting_clusters(&tie, 30, true), vec![4]);
        assert_eq!(fitting_clusters(&tie, 30, false), vec![4, 5]);
        // Nothing fits when the rest would fall below MINSIZE.
        assert!(fitting_clusters(&[vec![0i64; 40], vec![-1; 20]].concat(), 30, false).is_empty());
    }
}
