//! Dividing a cell's points into two groups of at least MINSIZE points each, never splitting a
//! location: the search behind the split's MAX guarantee ([`crate::split::fallback`]).
//!
//! Points at one position are one Voronoi site and always stay together, so a cell is a set of
//! *locations* with multiplicities `w`. A division into two groups of at least `min` points
//! exists exactly when some subset of the multiplicities sums into `[min, n - min]` (`n` the
//! cell's points), a subset-sum question answered here exactly:
//!
//! * with `g = n - 2 min + 1` (the number of sums allowed), a location of weight at most `g` is
//!   *light*: prefix sums of light locations, taken in any order, step by at most `g`, so they
//!   cannot jump over an interval of `g` consecutive sums;
//! * the *heavy* locations (weight above `g`, at most `n / g` of them) go through a dynamic
//!   programme over their sums up to `n - min`; a heavy sum `h` works when
//!   `[min - h, n - min - h]` meets `[0, light total]`, and the light locations in any chosen
//!   order fill the rest.
//!
//! The division the split tries first is geometric: locations ordered along an axis (the
//! 2-means axis, then 180 directions a degree apart) and cut where the prefix holds between
//! `min` and `n - min` points, nearest the wanted balance. The subset of the dynamic programme
//! is the last resort (its light part is still a prefix along the 2-means axis), since the
//! Voronoi union carves any set of sites.
//!
//! Complexity: grouping `O(n log n)`; one axis `O(L log L)` for `L` locations; the dynamic
//! programme `O(H (n - min))` for `H` heavy locations, capped at [`DP_LIMIT`] steps.

/// Work cap of the subset-sum programme (heavy locations × sums); beyond it the search gives
/// up and says so rather than claim the cell cannot be divided.
pub const DP_LIMIT: usize = 200_000_000;

/// The locations of a set of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Locations {
    /// Location of every point.
    pub of_point: Vec<u32>,
    /// Points at each location.
    pub weight: Vec<usize>,
    /// Position of each location (as given).
    pub at: Vec<(f64, f64)>,
}

impl Locations {
    /// Groups points by exact position; locations are numbered in the order of their first
    /// point. `O(n log n)`.
    ///
    /// ```
    /// let l = geocells::algorithms::Locations::group(&[(1.0, 2.0), (3.0, 4.0), (1.0, 2.0)]);
    /// assert_eq!(l.of_point, vec![0, 1, 0]);
    /// assert_eq!(l.weight, vec![2, 1]);
    /// ```
    pub fn group(points: &[(f64, f64)]) -> Self {
        let key = |i: usize| (points[i].0.to_bits(), points[i].1.to_bits());
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by_key(|&i| (key(i), i));
        // First point of each run of equal positions, and the run of every point.
        let mut first_of_run: Vec<usize> = Vec::new();
        let mut run_of = vec![0usize; points.len()];
        for (k, &i) in order.iter().enumerate() {
            if k == 0 || key(order[k - 1]) != key(i) {
                first_of_run.push(i);
            }
            run_of[i] = first_of_run.len() - 1;
        }
        // Number the runs by their first point.
        let mut runs: Vec<usize> = (0..first_of_run.len()).collect();
        runs.sort_by_key(|&r| first_of_run[r]);
        let mut number = vec![0u32; runs.len()];
        for (k, &r) in runs.iter().enumerate() {
            number[r] = k as u32;
        }
        let of_point: Vec<u32> = run_of.iter().map(|&r| number[r]).collect();
        let mut weight = vec![0usize; runs.len()];
        for &l in &of_point {
            weight[l as usize] += 1;
        }
        let at = runs.iter().map(|&r| points[first_of_run[r]]).collect();
        Self {
            of_point,
            weight,
            at,
        }
    }

    /// Number of locations.
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }
}

/// The answer to "can these locations be divided into two groups of at least `min` points?".
#[derive(Debug, Clone, PartialEq)]
pub enum Subset {
    /// Yes: the flagged locations form one group.
    Found(Vec<bool>),
    /// No such division exists.
    Impossible,
    /// The search would exceed `DP_LIMIT`; undecided.
    TooLarge,
}

/// Finds locations whose weights sum into `[min, n - min]` (`n` the total weight), exactly
/// (see the module docs). `light_order` lists the locations in the order light ones are taken
/// (a spatial order keeps the group compact); it must be a permutation of `0..weights.len()`.
///
/// ```
/// use geocells::algorithms::{subset_in_range, Subset};
/// // 29 + 29 + 3 points with MINSIZE 30: every subset is below 30 or above 31.
/// assert_eq!(subset_in_range(&[29, 29, 3], 30, &[0, 1, 2]), Subset::Impossible);
/// // 10 + 10 + 10 = 30 points make one group, the 31 the other.
/// let Subset::Found(f) = subset_in_range(&[10, 10, 10, 31], 30, &[0, 1, 2, 3]) else { panic!() };
/// let s: usize = f.iter().zip([10, 10, 10, 31]).filter(|(f, _)| **f).map(|(_, w)| w).sum();
/// assert!((30..=31).contains(&s));
/// ```
pub fn subset_in_range(weights: &[usize], min: usize, light_order: &[usize]) -> Subset {
    let n: usize = weights.iter().sum();
    if min == 0 || n < 2 * min {
        return Subset::Impossible;
    }
    let (lo, hi) = (min, n - min);
    let g = hi - lo + 1;
    let heavy: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > g).collect();
    let light_total: usize = weights.iter().filter(|&&w| w <= g).sum();
    if heavy.len().saturating_mul(hi + 1) > DP_LIMIT {
        return Subset::TooLarge;
    }
    // reach[s]: some subset of the heavy locations sums to s; via[s]: the last one added.
    let mut reach = vec![false; hi + 1];
    let mut via = vec![u32::MAX; hi + 1];
    reach[0] = true;
    for (k, &i) in heavy.iter().enumerate() {
        let w = weights[i];
        if w > hi {
            continue;
        }
        for s in (w..=hi).rev() {
            if !reach[s] && reach[s - w] {
                reach[s] = true;
                via[s] = k as u32;
            }
        }
    }
    let works = |h: usize| lo.saturating_sub(h) <= (hi - h).min(light_total);
    let Some(h) = (0..=hi).find(|&h| reach[h] && works(h)) else {
        return Subset::Impossible;
    };
    let mut flags = vec![false; weights.len()];
    let mut s = h;
    while s > 0 {
        let k = via[s] as usize;
        flags[heavy[k]] = true;
        s -= weights[heavy[k]];
    }
    // Light locations in the given order until the sum reaches `lo`.
    let mut sum = h;
    for &i in light_order {
        if sum >= lo {
            break;
        }
        if weights[i] <= g {
            flags[i] = true;
            sum += weights[i];
        }
    }
    debug_assert!(sum >= lo && sum <= hi);
    Subset::Found(flags)
}

/// Cuts of the locations along direction `dir` (in the frame of `xy`): returns the locations
/// in axis order (ties by position, then location number) and the cut positions `c` (the first
/// `c` locations form one group) whose group holds between `min` and `n - min` points, nearest
/// first to a group of `target` points; at most `limit` cuts.
pub fn axis_cuts(
    xy: &[(f64, f64)],
    weights: &[usize],
    dir: (f64, f64),
    min: usize,
    target: usize,
    limit: usize,
) -> (Vec<usize>, Vec<usize>) {
    let n: usize = weights.iter().sum();
    let t: Vec<f64> = xy.iter().map(|p| p.0 * dir.0 + p.1 * dir.1).collect();
    let mut order: Vec<usize> = (0..xy.len()).collect();
    order.sort_by(|&i, &j| {
        t[i].total_cmp(&t[j])
            .then(xy[i].0.total_cmp(&xy[j].0))
            .then(xy[i].1.total_cmp(&xy[j].1))
            .then(i.cmp(&j))
    });
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    if n >= 2 * min {
        let mut prefix = 0usize;
        for (c, &i) in order.iter().enumerate().take(order.len().saturating_sub(1)) {
            prefix += weights[i];
            if prefix >= min && prefix <= n - min {
                cuts.push((prefix.abs_diff(target), c + 1));
            }
        }
    }
    cuts.sort_unstable();
    (
        order,
        cuts.into_iter().take(limit).map(|(_, c)| c).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive check of small cases against brute force.
    #[test]
    fn subset_search_matches_brute_force() {
        let mut rng = crate::synth::SplitMix64::new(11);
        for _ in 0..3000 {
            let l = 1 + (rng.next_f64() * 9.0) as usize;
            let weights: Vec<usize> = (0..l)
                .map(|_| 1 + (rng.next_f64() * 12.0) as usize)
                .collect();
            let n: usize = weights.iter().sum();
            let min = 1 + (rng.next_f64() * (n as f64 / 2.0)) as usize;
            let brute = (0u32..(1 << l)).any(|m| {
                let s: usize = (0..l)
                    .filter(|&i| m >> i & 1 == 1)
                    .map(|i| weights[i])
                    .sum();
                s >= min && s + min <= n
            });
            let order: Vec<usize> = (0..l).collect();
            match subset_in_range(&weights, min, &order) {
                Subset::Found(f) => {
                    assert!(brute, "{weights:?} min {min}");
                    let s: usize = (0..l).filter(|&i| f[i]).map(|i| weights[i]).sum();
                    assert!(s >= min && s + min <= n, "{weights:?} min {min}: {s}");
                }
                Subset::Impossible => assert!(!brute, "{weights:?} min {min}"),
                Subset::TooLarge => panic!("small case"),
            }
        }
    }

    #[test]
    fn cuts_never_split_a_location_and_respect_min() {
        let xy = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)];
        let w = [3, 1, 1, 3];
        let (order, cuts) = axis_cuts(&xy, &w, (1.0, 0.0), 3, 4, 10);
        assert_eq!(order, vec![0, 1, 2, 3]);
        // Prefix sums 3, 4, 5: all within [3, 5]; nearest to 4 first.
        assert_eq!(cuts, vec![2, 1, 3]);
    }

    #[test]
    fn grouping_is_by_exact_position() {
        let l = Locations::group(&[(0.0, 0.0), (0.0, 1e-12), (0.0, 0.0), (5.0, 5.0)]);
        assert_eq!(l.len(), 3);
        assert_eq!(l.weight, vec![2, 1, 1]);
        assert_eq!(l.at[1], (0.0, 1e-12));
    }
}
