//! Density divisions of a cell: the density tree of one OPTICS run, which divides a whole
//! cell into runs of its OPTICS ordering of MINSIZE to MAX points, and the compactness
//! reference it is judged against (straight cuts of the same points, as the geometric
//! fallback makes them).
//!
//! Sources: the reachability plot and its reading, Ankerst, Breunig, Kriegel, Sander,
//! *OPTICS: Ordering Points To Identify the Clustering Structure*, SIGMOD 1999, section 4
//! (valleys of the plot are clusters); the recursive split of the plot at its highest
//! reachability, Sander, Qin, Lu, Niu, Kovarsky, *Automatic Extraction of Clusters from
//! Hierarchical Clustering Representations*, PAKDD 2003.

/// Prefix sums of 3-D positions and their squared norms, for the sum of squared distances of
/// any run to its centroid in `O(1)` ([`run_sse`]).
fn prefix_sums(points: impl Iterator<Item = [f64; 3]>) -> Vec<[f64; 4]> {
    let mut sum = vec![[0.0f64; 4]];
    let mut acc = [0.0f64; 4];
    for v in points {
        acc[0] += v[0];
        acc[1] += v[1];
        acc[2] += v[2];
        acc[3] += v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
        sum.push(acc);
    }
    sum
}

/// Sum of squared distances to their centroid of the points at positions `a..b` of `sum`
/// ([`prefix_sums`]): `sum |v|^2 - |sum v|^2 / count`.
fn run_sse(sum: &[[f64; 4]], a: usize, b: usize) -> f64 {
    if b <= a {
        return 0.0;
    }
    let c = (b - a) as f64;
    let s: [f64; 4] = std::array::from_fn(|k| sum[b][k] - sum[a][k]);
    (s[3] - (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]) / c).max(0.0)
}

/// The reachability plot of an OPTICS run on a part: what [`density_tree`] reads. Kept by
/// the last setting for the parts it leaves above MAX, so that the semantic pass divides them
/// without clustering them again (`Family::plots`).
#[derive(Debug, Clone)]
pub(crate) struct Plot {
    /// Positions in the part's point list, in OPTICS order.
    pub(crate) ordering: Vec<u32>,
    /// Reachability by position in the ordering.
    pub(crate) reach: Vec<f64>,
}

impl Plot {
    /// The plot of `result`.
    pub(crate) fn of(result: &crate::split::optics::Optics) -> Plot {
        Plot {
            ordering: result.ordering.iter().map(|&i| i as u32).collect(),
            reach: result
                .ordering
                .iter()
                .map(|&i| result.reachability[i])
                .collect(),
        }
    }
}

/// How much more spread than the most compact cut of a run a cut of the density tree may
/// make (0.1: 10 %); among those, the deepest valley is taken. Measured in docs/split.md
/// (0, 0.1 and 0.25 on the shipped data and the 1M generator: median km to the centroid
/// within 1.2 % of each other).
pub(crate) const NEAR_COMPACT: f64 = 0.1;

/// The density tree of one OPTICS run over `n` points (`unit`: their positions as 3-D
/// vectors, in input order): the ordering is cut recursively, each run of more than
/// `max_size` points in two at one position leaving at least `min_size` on either side, until
/// every run holds at most `max_size` points (or cannot be cut: fewer than `2 min_size`).
/// Returns the runs as inclusive ranges of positions, in order.
///
/// The cut of a run: among the positions whose two sides have a sum of squared distances to
/// their own centroids within a factor `1 +` [`NEAR_COMPACT`] of the least such sum over all positions
/// (the most compact cut of the ordering), the one of highest reachability (ties: the
/// earliest): the deepest density valley among the compact cuts. The reachability plot is
/// read as Sander, Qin, Lu, Niu, Kovarsky read it (*Automatic Extraction of Clusters from
/// Hierarchical Clustering Representations*, PAKDD 2003): a run between two high
/// reachabilities is a cluster, and cutting at the highest splits the tree at its root.
///
/// `O(n log n)` for balanced cuts (prefix sums make each candidate cut `O(1)`).
pub(crate) fn density_tree(
    plot: &Plot,
    unit: &[[f64; 3]],
    min_size: usize,
    max_size: usize,
) -> Vec<(usize, usize)> {
    let n = plot.ordering.len();
    if min_size == 0 || n == 0 {
        return vec![(0, n.saturating_sub(1))];
    }
    let sum = prefix_sums(plot.ordering.iter().map(|&i| unit[i as usize]));
    let sse = |a: usize, b: usize| run_sse(&sum, a, b);
    let reach = |p: usize| plot.reach[p];
    let mut out = Vec::new();
    let mut stack = vec![(0usize, n)];
    while let Some((a, b)) = stack.pop() {
        if b - a <= max_size || b - a < 2 * min_size {
            out.push((a, b - 1));
            continue;
        }
        let cuts = a + min_size..=b - min_size;
        let cost: Vec<f64> = cuts.clone().map(|p| sse(a, p) + sse(p, b)).collect();
        let best = cost.iter().copied().fold(f64::INFINITY, f64::min);
        let mut cut = a + min_size;
        let mut top = f64::NEG_INFINITY;
        for (p, c) in cuts.zip(&cost) {
            if *c <= best * (1.0 + NEAR_COMPACT) && reach(p) > top {
                top = reach(p);
                cut = p;
            }
        }
        // Right first, so that runs come out in order.
        stack.push((cut, b));
        stack.push((a, cut));
    }
    out
}

/// Sum of squared distances of `pieces` (sets of indices into `unit`) to their own centroids.
pub(crate) fn pieces_sse(unit: &[[f64; 3]], pieces: &[Vec<usize>]) -> f64 {
    pieces
        .iter()
        .map(|p| {
            let sum = prefix_sums(p.iter().map(|&i| unit[i]));
            run_sse(&sum, 0, p.len())
        })
        .sum()
}

/// The compactness reference of a division: the sum of squared distances to their centroids
/// of the pieces that straight cuts give the same points (`unit`), with the same size rules
/// as [`density_tree`]: each run above `max_size` is cut across its principal axis (the
/// largest-variance direction, by power iteration on the 3-by-3 covariance) at the position
/// of least total squared distance leaving `min_size` on either side. This is how the
/// geometric fallback divides a cell (its first straight cut is on the 2-means axis).
/// `O(n log^2 n)`.
pub(crate) fn straight_cuts_sse(unit: &[[f64; 3]], min_size: usize, max_size: usize) -> f64 {
    let mut total = 0.0;
    let mut stack: Vec<Vec<usize>> = vec![(0..unit.len()).collect()];
    while let Some(mut run) = stack.pop() {
        let n = run.len();
        if n <= max_size || n < 2 * min_size || min_size == 0 {
            let sum = prefix_sums(run.iter().map(|&i| unit[i]));
            total += run_sse(&sum, 0, n);
            continue;
        }
        let axis = principal_axis(unit, &run);
        let key = |i: usize| unit[i][0] * axis[0] + unit[i][1] * axis[1] + unit[i][2] * axis[2];
        run.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
        let sum = prefix_sums(run.iter().map(|&i| unit[i]));
        let mut cut = min_size;
        let mut best = f64::INFINITY;
        for p in min_size..=n - min_size {
            let c = run_sse(&sum, 0, p) + run_sse(&sum, p, n);
            if c < best {
                best = c;
                cut = p;
            }
        }
        let right = run.split_off(cut);
        stack.push(right);
        stack.push(run);
    }
    total
}

/// The direction of largest variance of the points `run` of `unit`.
fn principal_axis(unit: &[[f64; 3]], run: &[usize]) -> [f64; 3] {
    let n = run.len().max(1) as f64;
    let mut mean = [0.0; 3];
    for &i in run {
        for k in 0..3 {
            mean[k] += unit[i][k] / n;
        }
    }
    let mut cov = [[0.0; 3]; 3];
    for &i in run {
        let d: [f64; 3] = std::array::from_fn(|k| unit[i][k] - mean[k]);
        for a in 0..3 {
            for b in 0..3 {
                cov[a][b] += d[a] * d[b];
            }
        }
    }
    let mut v = [1.0, 0.7, 0.3];
    for _ in 0..50 {
        let w: [f64; 3] = std::array::from_fn(|a| (0..3).map(|b| cov[a][b] * v[b]).sum());
        let norm = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt();
        if norm == 0.0 || !norm.is_finite() {
            break;
        }
        v = w.map(|x| x / norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` points on the equator 0.01 degrees apart, in order, as unit-sphere vectors, and a
    /// plot that visits them in order with reachability 1 but at `spikes`.
    fn line(n: usize, spikes: &[(usize, f64)]) -> (Plot, Vec<[f64; 3]>) {
        let lonlat: Vec<(f64, f64)> = (0..n).map(|i| (0.01 * i as f64, 0.0)).collect();
        let mut reach = vec![1.0; n];
        reach[0] = f64::INFINITY;
        for &(p, r) in spikes {
            reach[p] = r;
        }
        let plot = Plot {
            ordering: (0..n as u32).collect(),
            reach,
        };
        (plot, crate::split::optics::unit_sphere_km(&lonlat))
    }

    #[test]
    fn the_tree_cuts_at_the_deepest_valley_among_the_near_compact_cuts() {
        // 100 evenly spaced points, MINSIZE 30, MAX 60. The most compact cut is at 50; cuts
        // from 41 to 59 are within 10 % of it (sums of squared distances of the two sides).
        let (plot, unit) = line(100, &[(48, 5.0)]);
        assert_eq!(density_tree(&plot, &unit, 30, 60), vec![(0, 47), (48, 99)]);
        // A deeper valley at 35 is too far from compact: the earliest near-compact cut.
        let (plot, unit) = line(100, &[(35, 50.0)]);
        assert_eq!(density_tree(&plot, &unit, 30, 60), vec![(0, 40), (41, 99)]);
        // No valley at all: the same, the earliest of the near-compact cuts.
        let (plot, unit) = line(100, &[]);
        assert_eq!(density_tree(&plot, &unit, 30, 60), vec![(0, 40), (41, 99)]);
    }

    #[test]
    fn the_tree_divides_a_run_into_pieces_of_minsize_to_max() {
        // 1,000 points with valleys here and there: every piece between 30 and 60 points,
        // in order and covering the ordering.
        let spikes: Vec<(usize, f64)> = (1..40).map(|k| (k * 25, 2.0 + k as f64)).collect();
        let (plot, unit) = line(1000, &spikes);
        let pieces = density_tree(&plot, &unit, 30, 60);
        let mut next = 0;
        for &(s, e) in &pieces {
            assert_eq!(s, next);
            assert!((30..=60).contains(&(e + 1 - s)), "{s}..={e}");
            next = e + 1;
        }
        assert_eq!(next, 1000);
        // Two groups far apart (the second starts at infinite reachability): cut between them.
        let mut lonlat: Vec<(f64, f64)> =
            (0..45).map(|i: i32| (0.01 * f64::from(i), 0.0)).collect();
        lonlat.extend((0..55).map(|i| (10.0 + 0.01 * f64::from(i), 0.0)));
        let mut reach = vec![1.0; 100];
        reach[0] = f64::INFINITY;
        reach[45] = f64::INFINITY;
        let plot = Plot {
            ordering: (0..100).collect(),
            reach,
        };
        let unit = crate::split::optics::unit_sphere_km(&lonlat);
        assert_eq!(density_tree(&plot, &unit, 30, 60), vec![(0, 44), (45, 99)]);
        // The straight-cut reference finds the same division, so their spreads are equal.
        let sets = vec![(0..45).collect::<Vec<_>>(), (45..100).collect()];
        let ours = pieces_sse(&unit, &sets);
        let straight = straight_cuts_sse(&unit, 30, 60);
        assert!(
            (ours - straight).abs() <= 1e-9 * straight,
            "{ours} vs {straight}"
        );
    }

    #[test]
    fn straight_cuts_are_no_more_spread_than_a_division_along_an_ordering() {
        // Points on a 20 x 20 grid visited row by row: pieces of the ordering are strips
        // five rows high; straight cuts across the longer axis are never worse.
        let lonlat: Vec<(f64, f64)> = (0..400)
            .map(|i| (0.01 * f64::from(i % 20), 0.01 * f64::from(i / 20)))
            .collect();
        let unit = crate::split::optics::unit_sphere_km(&lonlat);
        let plot = Plot {
            ordering: (0..400).collect(),
            reach: vec![1.0; 400],
        };
        let pieces = density_tree(&plot, &unit, 50, 100);
        let sets: Vec<Vec<usize>> = pieces.iter().map(|&(s, e)| (s..=e).collect()).collect();
        assert!(sets.iter().all(|p| (50..=100).contains(&p.len())));
        let ours = pieces_sse(&unit, &sets);
        let straight = straight_cuts_sse(&unit, 50, 100);
        assert!(straight <= ours * (1.0 + 1e-9), "{straight} vs {ours}");
        assert!(straight > 0.0);
    }
}
