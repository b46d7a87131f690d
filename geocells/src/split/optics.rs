//! OPTICS ordering and xi cluster extraction, reproducing scikit-learn's
//! `OPTICS(min_samples, xi, max_eps=inf, metric="minkowski", p=2)` exactly.
//!
//! Sources: Ankerst, Breunig, Kriegel, Sander, *OPTICS: Ordering Points To Identify the
//! Clustering Structure*, SIGMOD 1999 (ordering, xi-steep areas); Schubert & Gertz, *Improving
//! the Cluster Structure Extracted from OPTICS Plots*, LWDA 2018 (predecessor correction); and
//! scikit-learn 1.9.1 `sklearn/cluster/_optics.py` (BSD-3-Clause), whose behaviour is restated
//! in `geocells/tests/fixtures/optics/README.md` and `spec_optics.py`. This is our own code
//! written from that description; the differential tests compare it with sklearn's output on
//! sixteen committed fixtures, bit for bit.
//!
//! Matching sklearn exactly means: distances are `sqrt(dx*dx + dy*dy)` (no `hypot`, no FMA);
//! core distances and reachabilities are rounded to 15 decimals as numpy's `around` does;
//! the next point is the unprocessed one with the smallest reachability, ties to the smallest
//! index; reachability is updated only on strict improvement; `min_cluster_size` defaults to
//! `min_samples`. Duplicate points give zero core distances and `0/0` ratios in the xi
//! extraction; like numpy, a NaN ratio is neither steep up nor steep down.
//!
//! [`optics_planar`] is the reference (`O(n²)` time, `O(n)` memory); [`optics_planar_fast`]
//! gives the identical result with R-trees and a candidate heap (50k points in 0.72 s here).
//! The fast versions work on distinct locations, each with its multiplicity, so many copies of
//! one coordinate (default camera locations, landmarks) cost `O(log n)` each instead of a
//! query over all copies (`docs/decisions/0006-optics-duplicates.md`).
//! linfa-clustering's OPTICS has no xi extraction and a different ordering; measurements in
//! `docs/decisions/0003-optics-own-implementation.md`.

use thiserror::Error;

/// Errors of the OPTICS stage.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum OpticsError {
    /// `min_samples` below 2 or above the number of points.
    #[error("min_samples must be in 2..={n}, got {min_samples}")]
    MinSamples {
        /// The value given.
        min_samples: usize,
        /// Number of points.
        n: usize,
    },
    /// `xi` outside the open interval (0, 1).
    #[error("xi must be in (0, 1), got {0}")]
    Xi(f64),
    /// A coordinate is NaN or infinite.
    #[error("point {0} has a non-finite coordinate")]
    NotFinite(usize),
}

/// OPTICS parameters (sklearn names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpticsParams {
    /// Neighbours (the point included) that make a core point; also the default minimum
    /// cluster size.
    pub min_samples: usize,
    /// Steepness threshold of the xi extraction.
    pub xi: f64,
    /// Minimum cluster size; `None` means `min_samples`.
    pub min_cluster_size: Option<usize>,
}

impl OpticsParams {
    /// `min_samples` and `xi`, default minimum cluster size.
    pub fn new(min_samples: usize, xi: f64) -> Self {
        Self {
            min_samples,
            xi,
            min_cluster_size: None,
        }
    }
}

/// The OPTICS result, indexed by point unless named "in order".
#[derive(Debug, Clone, PartialEq)]
pub struct Optics {
    /// Point indices in OPTICS order.
    pub ordering: Vec<usize>,
    /// Core distance of each point.
    pub core_distances: Vec<f64>,
    /// Reachability of each point (`inf` for the first of each component).
    pub reachability: Vec<f64>,
    /// The point each was reached from (`None` for the first).
    pub predecessor: Vec<Option<usize>>,
    /// Cluster label of each point, `-1` for noise.
    pub labels: Vec<i64>,
    /// Clusters as inclusive ranges of positions in `ordering`, in sklearn's order.
    pub clusters: Vec<(usize, usize)>,
}

/// numpy's `around(x, 15)`: `rint(x * 1e15) / 1e15`, rounding half to even.
pub(crate) fn round15(x: f64) -> f64 {
    (x * 1e15).round_ties_even() / 1e15
}

/// Euclidean distance as numpy computes `sqrt(sum((a - b)**2))` for 2 or 3 coordinates:
/// `sqrt(dx*dx + dy*dy [+ dz*dz])`, summed left to right, no FMA.
pub(crate) fn dist<const D: usize>(a: [f64; D], b: [f64; D]) -> f64 {
    let dx = b[0] - a[0];
    let mut s = dx * dx;
    for k in 1..D {
        let d = b[k] - a[k];
        s += d * d;
    }
    s.sqrt()
}

/// Runs OPTICS with xi extraction on planar points (Euclidean distance).
///
/// ```
/// use geocells::algorithms::{optics_planar, OpticsParams};
/// let mut pts = Vec::new();
/// for i in 0..20 { pts.push([i as f64 * 0.01, 0.0]); pts.push([10.0 + i as f64 * 0.01, 0.0]); }
/// let r = optics_planar(&pts, &OpticsParams::new(5, 0.05)).unwrap();
/// assert_eq!(r.ordering[0], 0);
/// assert!(r.labels.iter().all(|&l| l >= 0));
/// assert_ne!(r.labels[0], r.labels[1]);
/// ```
///
/// # Errors
/// [`OpticsError`] for invalid parameters or non-finite points.
pub fn optics_planar(points: &[[f64; 2]], params: &OpticsParams) -> Result<Optics, OpticsError> {
    optics_exact(points, params)
}

/// The `O(n²)` reference ([`optics_planar`]'s algorithm) on the sphere, with the chord metric of
/// [`optics_sphere`]: for differential tests of the fast version.
///
/// # Errors
/// As [`optics_planar`].
pub fn optics_sphere_reference(
    lonlat: &[(f64, f64)],
    params: &OpticsParams,
) -> Result<Optics, OpticsError> {
    optics_exact(&unit_sphere_km(lonlat), params)
}

/// Lon/lat degrees to 3-D points on a sphere of radius [`crate::geom::geodesy::EARTH_RADIUS_KM`].
pub(crate) fn unit_sphere_km(lonlat: &[(f64, f64)]) -> Vec<[f64; 3]> {
    let r = crate::geom::geodesy::EARTH_RADIUS_KM;
    lonlat
        .iter()
        .map(|&(lon, lat)| {
            let (sl, cl) = lat.to_radians().sin_cos();
            let (so, co) = lon.to_radians().sin_cos();
            [r * cl * co, r * cl * so, r * sl]
        })
        .collect()
}

/// The textbook ordering loop in `D` dimensions.
fn optics_exact<const D: usize>(
    points: &[[f64; D]],
    params: &OpticsParams,
) -> Result<Optics, OpticsError> {
    check_input(points, params)?;
    let n = points.len();
    let m = params.min_samples;
    // Core distances: the min_samples-th smallest distance, the point itself included.
    let mut row = vec![0.0f64; n];
    let core: Vec<f64> = (0..n)
        .map(|i| {
            for (j, r) in row.iter_mut().enumerate() {
                *r = dist(points[i], points[j]);
            }
            let (_, kth, _) = row.select_nth_unstable_by(m - 1, f64::total_cmp);
            round15(*kth)
        })
        .collect();
    // The ordering loop.
    let mut reach = vec![f64::INFINITY; n];
    let mut pred: Vec<Option<usize>> = vec![None; n];
    let mut processed = vec![false; n];
    let mut ordering = Vec::with_capacity(n);
    for _ in 0..n {
        let mut point = usize::MAX;
        let mut best = f64::NAN;
        for j in 0..n {
            if !processed[j] && (point == usize::MAX || reach[j] < best) {
                point = j;
                best = reach[j];
            }
        }
        processed[point] = true;
        ordering.push(point);
        for j in 0..n {
            if processed[j] {
                continue;
            }
            let rd = round15(dist(points[point], points[j]).max(core[point]));
            if rd < reach[j] {
                reach[j] = rd;
                pred[j] = Some(point);
            }
        }
    }
    Ok(finish(ordering, core, reach, pred, params))
}

/// The same result as [`optics_planar`], computed without visiting every unprocessed point
/// per step.
///
/// The next point of the ordering is the unprocessed `j` minimising `(reach[j], j)`, and
/// `reach[j] = min over processed p of round15(max(core[p], d(p, j)))`. So each processed point
/// `p` keeps one candidate, its unprocessed `j` minimising `(round15(max(core[p], d(p, j))), j)`
/// (found by walking an R-tree of unprocessed points outward from `p`, stopping once the value
/// grows), in a heap; a candidate that got processed meanwhile is recomputed when it surfaces.
/// The predecessor of the chosen point is the earliest processed point giving the same value,
/// found with a k-d tree of processed points (strict-improvement updates keep the earliest).
/// Core distances come from range queries.
///
/// All of this runs on the distinct locations, each with its multiplicity: copies of one
/// location share their reachability and predecessor until processed, and only the first
/// processed copy updates anything, so the later ones are emitted one heap pop each
/// (`docs/decisions/0006-optics-duplicates.md`; exact, the same result as the reference).
///
/// Complexity: about `O(n (m + k) log n)` for `m = min_samples` and `k` the distinct locations
/// met while walking out to a candidate, whatever the multiplicities (a copy of a location with
/// at least `m` copies costs `O(log n)`); memory `O(n)`.
///
/// # Errors
/// As [`optics_planar`].
pub fn optics_planar_fast(
    points: &[[f64; 2]],
    params: &OpticsParams,
) -> Result<Optics, OpticsError> {
    optics_fast(points, params, None)
}

/// OPTICS with xi extraction on the sphere: points are lon/lat degrees and the distance is the
/// chord between them on a sphere of radius [`crate::geom::geodesy::EARTH_RADIUS_KM`], in km. The
/// chord is a strictly increasing function of the great-circle distance
/// (`chord = 2R sin(d / 2R)`, within 0.2 % of it up to 1,000 km), so neighbourhoods and the
/// ordering are those of great-circle distances, with no projection and no trouble at the
/// poles or the antimeridian. Same algorithm as [`optics_planar_fast`], in three dimensions.
///
/// ```
/// use geocells::algorithms::{optics_sphere, OpticsParams};
/// // Two groups of 10 points either side of the antimeridian, 5 km apart within each.
/// let mut pts = Vec::new();
/// for i in 0..10 { pts.push((179.99 - i as f64 * 0.05, -17.0)); pts.push((-179.99 + i as f64 * 0.05, -17.0)); }
/// for i in 0..10 { pts.push((20.0 + i as f64 * 0.05, 50.0)); }
/// let r = optics_sphere(&pts, &OpticsParams::new(5, 0.05)).unwrap();
/// // The points across the antimeridian are one cluster, the German ones another.
/// assert_eq!(r.labels[0], r.labels[1]);
/// assert_ne!(r.labels[0], r.labels[20]);
/// ```
///
/// # Errors
/// As [`optics_planar`].
pub fn optics_sphere(lonlat: &[(f64, f64)], params: &OpticsParams) -> Result<Optics, OpticsError> {
    optics_fast(&unit_sphere_km(lonlat), params, None)
}

/// [`optics_sphere`] with the core distances of some points already known: `known[i]`, when
/// set, must be exactly the (rounded) core distance [`optics_sphere`] would compute for point
/// `i`, as [`Optics::core_distances`] of an earlier run gives it for a point whose `min_samples`
/// nearest neighbours are the same in both sets. The split re-clusters a cell after every carve
/// and knows which points changed (`split`'s `known_cores`); the rest are not recomputed.
///
/// # Errors
/// As [`optics_planar`]; also [`OpticsError::MinSamples`] if `known` has the wrong length.
pub fn optics_sphere_known(
    lonlat: &[(f64, f64)],
    params: &OpticsParams,
    known: &[Option<f64>],
) -> Result<Optics, OpticsError> {
    if known.len() != lonlat.len() {
        return Err(OpticsError::MinSamples {
            min_samples: params.min_samples,
            n: known.len(),
        });
    }
    optics_fast(&unit_sphere_km(lonlat), params, Some(known))
}

/// From this `min_samples` on, candidates are found with a range query first (see
/// `optics_fast`).
const RANGE_QUERY_MIN_SAMPLES: usize = 32;

/// The distinct locations of a point set: OPTICS runs on them, each with its multiplicity.
///
/// Two points are the same location when their coordinates are equal (`-0.0` and `0.0` alike:
/// they give the same distance to every point). Locations are numbered in the order of their
/// first point; the points of location `l` are `members[start[l]..start[l + 1]]`, ascending.
struct Locations<const D: usize> {
    /// Coordinates of each location (those of its first point).
    coords: Vec<[f64; D]>,
    /// Location of each point.
    of: Vec<usize>,
    /// Offsets into `members`, one per location and one past the end.
    start: Vec<usize>,
    /// Point indices, location by location, ascending within each.
    members: Vec<usize>,
}

impl<const D: usize> Locations<D> {
    /// Groups `points` by exact coordinates: `O(n log n)`.
    fn new(points: &[[f64; D]]) -> Self {
        let n = points.len();
        // Sorted by coordinates (`+ 0.0` turns -0.0 into 0.0; NaN cannot occur, checked
        // before), then index.
        let mut by_key: Vec<([u64; D], usize)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.map(|c| (c + 0.0).to_bits()), i))
            .collect();
        by_key.sort_unstable();
        // First point (smallest index) of each point's group.
        let mut first = vec![0usize; n];
        for (k, &(key, i)) in by_key.iter().enumerate() {
            first[i] = match k.checked_sub(1).map(|p| by_key[p]) {
                Some((prev, f)) if prev == key => first[f],
                _ => i,
            };
        }
        let mut of = vec![0usize; n];
        let mut coords = Vec::new();
        let mut count: Vec<usize> = Vec::new();
        for i in 0..n {
            if first[i] == i {
                of[i] = coords.len();
                coords.push(points[i]);
                count.push(0);
            } else {
                of[i] = of[first[i]];
            }
            count[of[i]] += 1;
        }
        let mut start = Vec::with_capacity(coords.len() + 1);
        start.push(0);
        for c in &count {
            start.push(start[start.len() - 1] + c);
        }
        let mut fill = start.clone();
        let mut members = vec![0usize; n];
        for (i, &l) in of.iter().enumerate() {
            members[fill[l]] = i;
            fill[l] += 1;
        }
        Locations {
            coords,
            of,
            start,
            members,
        }
    }

    /// Number of points at location `l`.
    fn multiplicity(&self, l: usize) -> usize {
        self.start[l + 1] - self.start[l]
    }
}

/// The candidate-heap OPTICS in `D` dimensions, on the distinct locations of `points`.
///
/// Several points at one location (duplicates) are handled as one location with its
/// multiplicity, which is exact (decision 0006):
/// * all unprocessed copies of a location always have the same reachability and predecessor
///   (every update gives them the same value, and updates are strict improvements);
/// * they are processed in ascending index order (equal reachability, ties to the smallest
///   index), one after another or interleaved with other points of the same reachability;
/// * processing the first copy of a location updates its other copies (to `round15(core)` if
///   that is strictly smaller) and the other locations; processing a later copy changes
///   nothing, since every value it could give was already given by the first copy.
///
/// So only the first copy of a location gets a candidate and a predecessor query; later
/// copies are emitted one heap pop each, and their predecessor is the previous copy's unless
/// their reachability fell since (then the same query finds it).
fn optics_fast<const D: usize>(
    points: &[[f64; D]],
    params: &OpticsParams,
    known: Option<&[Option<f64>]>,
) -> Result<Optics, OpticsError>
where
    [f64; D]: rstar::Point<Scalar = f64>,
{
    use rstar::RTree;
    use rstar::primitives::GeomWithData;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    type P<const D: usize> = GeomWithData<[f64; D], usize>;

    check_input(points, params)?;
    let n = points.len();
    let m = params.min_samples;
    let locs = Locations::new(points);
    let lp = &locs.coords;
    let nl = lp.len();
    let mult: Vec<usize> = (0..nl).map(|l| locs.multiplicity(l)).collect();
    // A known core distance of any copy is the location's (all copies have the same one).
    let known_loc: Option<Vec<Option<f64>>> = known.map(|k| {
        (0..nl)
            .map(|l| {
                locs.members[locs.start[l]..locs.start[l + 1]]
                    .iter()
                    .find_map(|&i| k[i])
            })
            .collect()
    });
    let all: Vec<P<D>> = lp
        .iter()
        .enumerate()
        .map(|(l, &p)| GeomWithData::new(p, l))
        .collect();
    let full = RTree::bulk_load(all.clone());
    let core_loc = core_distances(lp, &mult, &full, m, known_loc.as_deref());
    drop(full);
    // Locations with an unprocessed copy, in an R-tree (walks) and, for large min_samples, in
    // a keyed tree by their next unprocessed copy (lowest-index queries; see `keyed_tree`).
    let mut unprocessed = RTree::bulk_load(all);
    let ranged = m >= RANGE_QUERY_MIN_SAMPLES;
    let mut unprocessed_keyed =
        crate::geom::keyed_tree::KeyedTree::new(if ranged { lp.as_slice() } else { &[] });
    if ranged {
        for l in 0..nl {
            unprocessed_keyed.set(l, locs.members[locs.start[l]]);
        }
    }
    // Processed locations keyed by the rank of their first copy.
    let mut processed_keyed = crate::geom::keyed_tree::KeyedTree::new(lp);
    // Each location's next unprocessed copy (`usize::MAX` once all are processed), and its
    // position in `members`.
    let mut next_copy: Vec<usize> = locs.start[..nl].iter().map(|&s| locs.members[s]).collect();
    let mut cursor: Vec<usize> = locs.start[..nl].to_vec();
    // Reachability from location p (its core distance applies) to location q.
    let value = |p: usize, q: usize| round15(dist(lp[p], lp[q]).max(core_loc[p]));

    #[derive(Clone, Copy, PartialEq)]
    struct Key(f64, usize, usize);
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0
                .total_cmp(&o.0)
                .then(self.1.cmp(&o.1))
                .then(self.2.cmp(&o.2))
        }
    }
    // The candidate of processed location p: (value, next copy j of the best location), the
    // unprocessed point minimising (value, index) from p.
    let candidate = |tree: &RTree<P<D>>,
                     keyed: &crate::geom::keyed_tree::KeyedTree<D>,
                     next_copy: &[usize],
                     p: usize|
     -> Option<(f64, usize)> {
        // The smallest value any point can get from p is round15(core[p]), and every point
        // within core[p] gets exactly that: the candidate is then the lowest index among them
        // (a range query, much cheaper than walking out neighbour by neighbour when
        // min_samples is large; for small min_samples the walk is cheaper, measured in
        // docs/performance.md). The radius has a margin; the value test decides.
        let floor = round15(core_loc[p]);
        let r = core_loc[p] * (1.0 + 1e-9) + 1e-12;
        if ranged && let Some(q) = keyed.lowest_within(lp[p], r * r, |q| value(p, q) == floor) {
            return Some((floor, next_copy[q]));
        }
        // Nothing within core[p]: walk out from the nearest location.
        let mut best: Option<(f64, usize)> = None;
        for q in tree.nearest_neighbor_iter(&lp[p]) {
            let v = round15(dist(lp[p], *q.geom()).max(core_loc[p]));
            let j = next_copy[q.data];
            match best {
                Some((bv, _)) if v > bv => break,
                Some((bv, bj)) if v == bv && j >= bj => {}
                _ => best = Some((v, j)),
            }
        }
        best
    };

    let mut reach = vec![f64::INFINITY; n];
    let mut pred: Vec<Option<usize>> = vec![None; n];
    let mut rank = vec![usize::MAX; n];
    // Per location: whether its first copy is processed, and the reachability and predecessor
    // of its last processed copy.
    let mut opened = vec![false; nl];
    let mut last: Vec<(f64, Option<usize>)> = vec![(f64::INFINITY, None); nl];
    let mut ordering = Vec::with_capacity(n);
    let mut heap: BinaryHeap<Reverse<Key>> = BinaryHeap::new();
    let mut next = Some(0usize);
    while let Some(j) = next.take() {
        // Process j, the next copy of its location.
        let l = locs.of[j];
        cursor[l] += 1;
        let after = if cursor[l] < locs.start[l + 1] {
            locs.members[cursor[l]]
        } else {
            usize::MAX
        };
        next_copy[l] = after;
        if after == usize::MAX {
            unprocessed.remove(&GeomWithData::new(lp[l], l));
        }
        if ranged {
            unprocessed_keyed.set(l, after);
        }
        rank[j] = ordering.len();
        ordering.push(j);
        let v = reach[j];
        if v.is_finite() {
            pred[j] = if opened[l] && last[l].0 == v {
                // No strict improvement since the previous copy: the same predecessor.
                last[l].1
            } else {
                // The earliest processed point that gives v: the first copy of the
                // processed location with the lowest rank (l itself once opened).
                let r = v * (1.0 + 1e-12) + 1e-300;
                processed_keyed
                    .lowest_within(lp[l], r * r, |q| value(q, l) == v)
                    .map(|q| locs.members[locs.start[q]])
            };
        }
        last[l] = (v, pred[j]);
        if !opened[l] {
            opened[l] = true;
            processed_keyed.set(l, rank[j]);
            if let Some((v, c)) = candidate(&unprocessed, &unprocessed_keyed, &next_copy, l) {
                heap.push(Reverse(Key(v, c, l)));
            }
        }
        // The next point: the best live candidate.
        while let Some(Reverse(Key(v, c, p))) = heap.pop() {
            if rank[c] != usize::MAX {
                if let Some((v2, c2)) = candidate(&unprocessed, &unprocessed_keyed, &next_copy, p) {
                    heap.push(Reverse(Key(v2, c2, p)));
                }
                continue;
            }
            // Keep p's entry: once c is processed it goes stale and p gets a new candidate.
            heap.push(Reverse(Key(v, c, p)));
            reach[c] = v;
            next = Some(c);
            break;
        }
    }
    let core: Vec<f64> = locs.of.iter().map(|&l| core_loc[l]).collect();
    Ok(finish(ordering, core, reach, pred, params))
}

/// The `t`-th smallest distance (1-based) counting multiplicities: the smallest `d` of
/// `items` (distance, multiplicity) whose multiplicities up to `d` add up to at least `t`.
/// Expected `O(k)` for `k` items (quickselect). `t` must be in `1..=` the sum of multiplicities.
fn weighted_kth(items: &mut [(f64, usize)], mut t: usize) -> f64 {
    let mut s = items;
    loop {
        if s.is_empty() {
            return f64::INFINITY;
        }
        let mid = s.len() / 2;
        let (left, pivot, right) = s.select_nth_unstable_by(mid, |a, b| a.0.total_cmp(&b.0));
        let below: usize = left.iter().map(|x| x.1).sum();
        if below >= t {
            s = left;
        } else if below + pivot.1 >= t || right.is_empty() {
            return pivot.0;
        } else {
            t -= below + pivot.1;
            s = right;
        }
    }
}

/// Core distances of locations (the distance to the `m`-th nearest point, the point itself
/// first, counting each location `mult` times), rounded with [`round15`]: the same values as
/// walking `m` neighbours out of the tree, found faster.
///
/// Locations are taken in the tree's leaf order, so consecutive ones are close and have similar
/// core distances. Each asks the tree for everything within a radius guessed from the
/// previous core distance; when that holds at least `m` points and the `m`-th smallest
/// distance is within the radius, it is exact (every closer point was returned), found with a
/// selection in `O(k)` for `k` returned locations. Otherwise the radius grows and the query
/// repeats. This replaces a heap walk of `m` neighbours per point, which dominated the `pigeotto`
/// split (`min_samples` 300 to 1000; docs/performance.md). Chunks of the leaf order run in
/// parallel with rayon; each value depends only on its location, so the result is the same at
/// any thread count. A location with `m` or more copies has core distance 0: its own copies
/// make up the count at distance 0, whatever the radius of the query.
fn core_distances<const D: usize>(
    points: &[[f64; D]],
    mult: &[usize],
    tree: &rstar::RTree<rstar::primitives::GeomWithData<[f64; D], usize>>,
    m: usize,
    known: Option<&[Option<f64>]>,
) -> Vec<f64>
where
    [f64; D]: rstar::Point<Scalar = f64>,
{
    use rayon::prelude::*;
    let order: Vec<usize> = tree.iter().map(|g| g.data).collect();
    // All multiplicities 1: a plain selection on the distances.
    let single = mult.iter().all(|&w| w == 1);
    // Range queries on our k-d tree (no iterator state, leaves of 16): about twice as fast as
    // rstar's selection iterator here; the same points come back.
    let kd = crate::geom::keyed_tree::KeyedTree::new(points);
    // The exact walk, for the first point of each chunk (a good first radius) and as the
    // reference for tiny inputs.
    let walk = |p: [f64; D]| -> f64 {
        let (mut count, mut kth) = (0usize, 0.0f64);
        for q in tree.nearest_neighbor_iter(&p) {
            kth = kth.max(dist(p, *q.geom()));
            count += mult[q.data];
            if count >= m {
                break;
            }
        }
        kth
    };
    // Smallest radius a growing query starts from when the previous core distance was 0
    // (duplicates): a billionth of the extent.
    let mut extent = 0.0f64;
    if let (Some(first), true) = (points.first(), points.len() > 1) {
        for p in points {
            extent = extent.max(dist(*first, *p));
        }
    }
    let r_min = (extent * 1e-9).max(f64::MIN_POSITIVE);
    let chunks: Vec<Vec<(usize, f64)>> = order
        .par_chunks(256)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len());
            let mut guess: Option<f64> = None;
            let mut dists: Vec<f64> = Vec::new();
            let mut weighted: Vec<(f64, usize)> = Vec::new();
            for &i in chunk {
                if let Some(k) = known.and_then(|k| k[i]) {
                    out.push((i, k));
                    // A known core distance is rounded; as a radius guess that is fine.
                    guess = Some(k * 1.1);
                    continue;
                }
                let p = points[i];
                let kth = match guess {
                    None => walk(p),
                    Some(g) => {
                        let mut r = g.max(r_min);
                        loop {
                            let q = r * (1.0 + 1e-9);
                            // (m-th distance or inf, points within the radius)
                            let found = if single {
                                dists.clear();
                                kd.for_each_within(p, q * q, |c| dists.push(dist(p, points[c])));
                                if dists.len() >= m {
                                    let (_, kth, _) =
                                        dists.select_nth_unstable_by(m - 1, f64::total_cmp);
                                    (*kth, dists.len())
                                } else {
                                    (f64::INFINITY, dists.len())
                                }
                            } else {
                                weighted.clear();
                                kd.for_each_within(p, q * q, |c| {
                                    weighted.push((dist(p, points[c]), mult[c]));
                                });
                                let total: usize = weighted.iter().map(|x| x.1).sum();
                                if total >= m {
                                    (weighted_kth(&mut weighted, m), total)
                                } else {
                                    (f64::INFINITY, total)
                                }
                            };
                            if found.0 <= r {
                                break found.0;
                            }
                            // Too few points: grow by the density ratio (at least 1.5x).
                            let ratio = m as f64 / found.1.max(1) as f64;
                            r *= ratio.powf(1.0 / D as f64).max(1.5);
                        }
                    }
                };
                out.push((i, round15(kth)));
                // Next radius: a little above this point's core distance.
                guess = Some(kth * 1.1);
            }
            out
        })
        .collect();
    let mut core = vec![0.0; points.len()];
    for (i, v) in chunks.into_iter().flatten() {
        core[i] = v;
    }
    core
}

/// Checks parameters and points against each other.
fn check_input<const D: usize>(
    points: &[[f64; D]],
    params: &OpticsParams,
) -> Result<(), OpticsError> {
    let (n, m) = (points.len(), params.min_samples);
    if m < 2 || m > n {
        return Err(OpticsError::MinSamples { min_samples: m, n });
    }
    if !(params.xi > 0.0 && params.xi < 1.0) {
        return Err(OpticsError::Xi(params.xi));
    }
    match points.iter().position(|p| !p.iter().all(|c| c.is_finite())) {
        Some(i) => Err(OpticsError::NotFinite(i)),
        None => Ok(()),
    }
}

/// Xi extraction and labels on a finished ordering.
fn finish(
    ordering: Vec<usize>,
    core: Vec<f64>,
    reach: Vec<f64>,
    pred: Vec<Option<usize>>,
    params: &OpticsParams,
) -> Optics {
    let m = params.min_samples;
    let min_cluster_size = params.min_cluster_size.unwrap_or(m);
    let reach_plot: Vec<f64> = ordering.iter().map(|&i| reach[i]).collect();
    let pred_plot: Vec<Option<usize>> = ordering.iter().map(|&i| pred[i]).collect();
    let clusters = xi_clusters(
        &reach_plot,
        &pred_plot,
        &ordering,
        params.xi,
        m,
        min_cluster_size,
    );
    let labels = xi_labels(&ordering, &clusters);
    Optics {
        ordering,
        core_distances: core,
        reachability: reach,
        predecessor: pred,
        labels,
        clusters,
    }
}

/// IEEE `a / b` for non-negative `a`, `b` (possibly infinite), as numpy divides.
fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

/// Extends a steep region from `start` (sklearn `_extend_region`).
fn extend_region(steep: &[bool], xward: &[bool], start: usize, min_samples: usize) -> usize {
    let n = steep.len();
    let mut non_xward = 0;
    let mut end = start;
    let mut index = start;
    while index < n {
        if steep[index] {
            non_xward = 0;
            end = index;
        } else if !xward[index] {
            non_xward += 1;
            if non_xward > min_samples {
                break;
            }
        } else {
            return end;
        }
        index += 1;
    }
    end
}

#[derive(Clone, Copy)]
struct Sda {
    start: usize,
    end: usize,
    mib: f64,
}

/// Drops steep-down areas whose start is not steep enough above `mib` and raises the rest's
/// `mib` (sklearn `_update_filter_sdas`).
fn update_filter_sdas(sdas: Vec<Sda>, mib: f64, xi_c: f64, r: &[f64]) -> Vec<Sda> {
    if mib.is_infinite() {
        return Vec::new();
    }
    sdas.into_iter()
        .filter(|s| mib <= r[s.start] * xi_c)
        .map(|mut s| {
            s.mib = s.mib.max(mib);
            s
        })
        .collect()
}

/// Predecessor correction (Schubert & Gertz 2018, Algorithm 2; sklearn `_correct_predecessor`).
fn correct_predecessor(
    r: &[f64],
    pred_plot: &[Option<usize>],
    ordering: &[usize],
    s: usize,
    mut e: usize,
) -> Option<(usize, usize)> {
    while s < e {
        if r[s] > r[e] {
            return Some((s, e));
        }
        let p_e = pred_plot[e];
        if (s..e).any(|i| p_e == Some(ordering[i])) {
            return Some((s, e));
        }
        e -= 1;
    }
    None
}

/// The xi clusters of a reachability plot, as inclusive position ranges (sklearn
/// `_xi_cluster`). `reach_plot` and `pred_plot` are in OPTICS order.
pub fn xi_clusters(
    reach_plot: &[f64],
    pred_plot: &[Option<usize>],
    ordering: &[usize],
    xi: f64,
    min_samples: usize,
    min_cluster_size: usize,
) -> Vec<(usize, usize)> {
    let n = reach_plot.len();
    let mut r: Vec<f64> = reach_plot.to_vec();
    r.push(f64::INFINITY);
    let xi_c = 1.0 - xi;
    let inv_xi_c = 1.0 / xi_c;
    let ratios: Vec<f64> = (0..n).map(|i| ratio(r[i], r[i + 1])).collect();
    let steep_up: Vec<bool> = ratios.iter().map(|&q| q <= xi_c).collect();
    let steep_down: Vec<bool> = ratios.iter().map(|&q| q >= inv_xi_c).collect();
    let down: Vec<bool> = ratios.iter().map(|&q| q > 1.0).collect();
    let up: Vec<bool> = ratios.iter().map(|&q| q < 1.0).collect();

    let mut sdas: Vec<Sda> = Vec::new();
    let mut clusters = Vec::new();
    let mut index = 0usize;
    let mut mib = 0.0f64;
    for steep_index in (0..n).filter(|&i| steep_up[i] || steep_down[i]) {
        if steep_index < index {
            continue;
        }
        mib = r[index..=steep_index].iter().fold(mib, |a, &b| a.max(b));
        if steep_down[steep_index] {
            sdas = update_filter_sdas(sdas, mib, xi_c, &r);
            let d_start = steep_index;
            let d_end = extend_region(&steep_down, &up, d_start, min_samples);
            sdas.push(Sda {
                start: d_start,
                end: d_end,
                mib: 0.0,
            });
            index = d_end + 1;
            mib = r[index];
        } else {
            sdas = update_filter_sdas(sdas, mib, xi_c, &r);
            let u_start = steep_index;
            let u_end = extend_region(&steep_up, &down, u_start, min_samples);
            index = u_end + 1;
            mib = r[index];
            let mut u_clusters = Vec::new();
            for d in &sdas {
                let mut c_start = d.start;
                let mut c_end = u_end;
                if r[c_end + 1] * xi_c < d.mib {
                    continue;
                }
                let d_max = r[d.start];
                if d_max * xi_c >= r[c_end + 1] {
                    while r[c_start + 1] > r[c_end + 1] && c_start < d.end {
                        c_start += 1;
                    }
                } else if r[c_end + 1] * xi_c >= d_max {
                    while c_end > u_start && r[c_end - 1] > d_max {
                        c_end -= 1;
                    }
                }
                let Some((cs, ce)) = correct_predecessor(&r, pred_plot, ordering, c_start, c_end)
                else {
                    continue;
                };
                if ce - cs + 1 < min_cluster_size || cs > d.end || ce < u_start {
                    continue;
                }
                u_clusters.push((cs, ce));
            }
            u_clusters.reverse();
            clusters.extend(u_clusters);
        }
    }
    clusters
}

/// Labels from xi clusters: each cluster, in order, labels its positions if none is labelled
/// yet (sklearn `_extract_xi_labels`). Returns labels by point index.
pub fn xi_labels(ordering: &[usize], clusters: &[(usize, usize)]) -> Vec<i64> {
    let n = ordering.len();
    let mut plot = vec![-1i64; n];
    let mut label = 0;
    for &(s, e) in clusters {
        if plot[s..=e].iter().all(|&l| l == -1) {
            plot[s..=e].iter_mut().for_each(|l| *l = label);
            label += 1;
        }
    }
    let mut labels = vec![-1i64; n];
    for (pos, &i) in ordering.iter().enumerate() {
        labels[i] = plot[pos];
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_kth_matches_the_expanded_sort() {
        let mut rng = crate::synth::SplitMix64::new(9);
        for case in 0..500 {
            let k = 1 + (rng.next_u64() % 40) as usize;
            // Few distinct distances, so ties are common.
            let items: Vec<(f64, usize)> = (0..k)
                .map(|_| {
                    let d = (rng.next_u64() % 7) as f64 * 0.5;
                    (d, 1 + (rng.next_u64() % 5) as usize)
                })
                .collect();
            let mut expanded: Vec<f64> = items
                .iter()
                .flat_map(|&(d, w)| std::iter::repeat_n(d, w))
                .collect();
            expanded.sort_by(f64::total_cmp);
            for t in 1..=expanded.len() {
                let mut v = items.clone();
                assert_eq!(
                    weighted_kth(&mut v, t),
                    expanded[t - 1],
                    "case {case}, t {t}"
                );
            }
        }
    }

    #[test]
    fn locations_group_equal_coordinates_with_ascending_members() {
        let pts = [
            [1.0, 2.0],
            [0.0, 0.0],
            [1.0, 2.0],
            [-0.0, 0.0],
            [3.0, 1.0],
            [1.0, 2.0],
        ];
        let l = Locations::new(&pts);
        assert_eq!(l.coords, vec![[1.0, 2.0], [0.0, 0.0], [3.0, 1.0]]);
        assert_eq!(l.of, vec![0, 1, 0, 1, 2, 0]);
        assert_eq!(l.start, vec![0, 3, 5, 6]);
        assert_eq!(l.members, vec![0, 2, 5, 1, 3, 4]);
        assert_eq!(l.multiplicity(0), 3);
    }
}
