//! A static k-d tree over a fixed point set where each point can be switched on and off and
//! carries a key; it answers "the active point with the smallest key within distance `r` of
//! `q` that passes a test" without visiting every point in the ball.
//!
//! OPTICS needs two such queries per point (see `optics_fast`): the unprocessed point with the
//! lowest index within a core distance, and the processed point with the lowest rank that
//! gives a reachability. With `min_samples` in the hundreds, those balls hold hundreds of
//! points and a plain range query visits all of them; here every node keeps the smallest key
//! of its active points, so subtrees that cannot beat the best key found so far are skipped.
//!
//! Build `O(n log n)` (median splits on the widest axis, leaves of at most [`LEAF`] points);
//! switching a point costs `O(LEAF + log n)`; a query costs `O(log n)` plus the leaves it scans.

/// Points per leaf.
const LEAF: usize = 16;

/// Squared distance from `q` to the box `[lo, hi]`, summed axis by axis from the first.
fn box_d2<const D: usize>(q: [f64; D], lo: &[f64; D], hi: &[f64; D]) -> f64 {
    q.iter().zip(lo).zip(hi).fold(0.0, |acc, ((&x, &l), &h)| {
        let d = if x < l {
            l - x
        } else if x > h {
            x - h
        } else {
            0.0
        };
        acc + d * d
    })
}

/// Squared distance between two points, summed axis by axis from the first (as `dist`).
fn point_d2<const D: usize>(p: &[f64; D], q: [f64; D]) -> f64 {
    p.iter().zip(q).fold(0.0, |acc, (&a, b)| {
        let d = a - b;
        acc + d * d
    })
}

/// One node: the bounding box of its points, the smallest key among its active points, and
/// either two children or a range of `order`.
#[derive(Debug, Clone)]
struct Node<const D: usize> {
    lo: [f64; D],
    hi: [f64; D],
    min_key: usize,
    /// Children (internal nodes), or `None` for a leaf.
    children: Option<(usize, usize)>,
    /// Leaf: range in `order`.
    start: usize,
    end: usize,
    parent: usize,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct KeyedTree<const D: usize> {
    points: Vec<[f64; D]>,
    nodes: Vec<Node<D>>,
    /// Point indices, leaf by leaf.
    order: Vec<usize>,
    /// Leaf node of each point.
    leaf_of: Vec<usize>,
    /// Key of each point, `usize::MAX` when inactive.
    key: Vec<usize>,
}

impl<const D: usize> KeyedTree<D> {
    /// A tree over `points`, every point inactive.
    pub(crate) fn new(points: &[[f64; D]]) -> Self {
        let n = points.len();
        let mut t = KeyedTree {
            points: points.to_vec(),
            nodes: Vec::with_capacity(2 * n / LEAF + 2),
            order: (0..n).collect(),
            leaf_of: vec![0; n],
            key: vec![usize::MAX; n],
        };
        if n > 0 {
            t.build(0, n, usize::MAX);
        }
        t
    }

    fn build(&mut self, start: usize, end: usize, parent: usize) -> usize {
        let mut lo = [f64::INFINITY; D];
        let mut hi = [f64::NEG_INFINITY; D];
        for &i in &self.order[start..end] {
            for k in 0..D {
                lo[k] = lo[k].min(self.points[i][k]);
                hi[k] = hi[k].max(self.points[i][k]);
            }
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            lo,
            hi,
            min_key: usize::MAX,
            children: None,
            start,
            end,
            parent,
        });
        if end - start <= LEAF {
            for &i in &self.order[start..end] {
                self.leaf_of[i] = id;
            }
            return id;
        }
        let axis = (0..D)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .unwrap_or(0);
        let mid = start + (end - start) / 2;
        let points = &self.points;
        self.order[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
            points[a][axis].total_cmp(&points[b][axis]).then(a.cmp(&b))
        });
        let left = self.build(start, mid, id);
        let right = self.build(mid, end, id);
        self.nodes[id].children = Some((left, right));
        id
    }

    /// Sets point `i`'s key (`usize::MAX`: inactive) and updates the nodes above it.
    pub(crate) fn set(&mut self, i: usize, key: usize) {
        self.key[i] = key;
        let mut node = self.leaf_of[i];
        let (s, e) = (self.nodes[node].start, self.nodes[node].end);
        self.nodes[node].min_key = self.order[s..e]
            .iter()
            .map(|&j| self.key[j])
            .min()
            .unwrap_or(usize::MAX);
        while self.nodes[node].parent != usize::MAX {
            node = self.nodes[node].parent;
            let Some((a, b)) = self.nodes[node].children else {
                break;
            };
            let m = self.nodes[a].min_key.min(self.nodes[b].min_key);
            if m == self.nodes[node].min_key {
                break;
            }
            self.nodes[node].min_key = m;
        }
    }

    /// Calls `f` with every point (active or not) whose squared distance to `q`, summed axis
    /// by axis from the first, is at most `r2`.
    #[inline]
    pub(crate) fn for_each_within(&self, q: [f64; D], r2: f64, mut f: impl FnMut(usize)) {
        if self.nodes.is_empty() {
            return;
        }
        let mut stack = vec![0usize];
        while let Some(id) = stack.pop() {
            let node = &self.nodes[id];
            if box_d2(q, &node.lo, &node.hi) > r2 {
                continue;
            }
            match node.children {
                Some((a, b)) => {
                    stack.push(b);
                    stack.push(a);
                }
                None => {
                    for &i in &self.order[node.start..node.end] {
                        if point_d2(&self.points[i], q) <= r2 {
                            f(i);
                        }
                    }
                }
            }
        }
    }

    /// The active point with the smallest key whose squared distance to `q` is at most `r2`
    /// (by the box test) and that passes `accept`; `None` if there is none.
    pub(crate) fn lowest_within(
        &self,
        q: [f64; D],
        r2: f64,
        mut accept: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut best: Option<(usize, usize)> = None; // (key, point)
        let mut stack = vec![0usize];
        while let Some(id) = stack.pop() {
            let node = &self.nodes[id];
            if best.is_some_and(|(k, _)| node.min_key >= k) || node.min_key == usize::MAX {
                continue;
            }
            if box_d2(q, &node.lo, &node.hi) > r2 {
                continue;
            }
            match node.children {
                Some((a, b)) => {
                    // Visit the child with the smaller key first (pushed last).
                    if self.nodes[a].min_key <= self.nodes[b].min_key {
                        stack.push(b);
                        stack.push(a);
                    } else {
                        stack.push(a);
                        stack.push(b);
                    }
                }
                None => {
                    for &i in &self.order[node.start..node.end] {
                        let k = self.key[i];
                        if k == usize::MAX || best.is_some_and(|(b, _)| k >= b) {
                            continue;
                        }
                        if point_d2(&self.points[i], q) <= r2 && accept(i) {
                            best = Some((k, i));
                        }
                    }
                }
            }
        }
        best.map(|(_, i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_key_within_matches_a_scan() {
        let mut rng = crate::synth::SplitMix64::new(3);
        let pts: Vec<[f64; 2]> = (0..500)
            .map(|_| [rng.next_f64() * 10.0, rng.next_f64() * 10.0])
            .collect();
        let mut t = KeyedTree::new(&pts);
        let mut key = vec![usize::MAX; pts.len()];
        for step in 0..2000 {
            let i = (rng.next_u64() % 500) as usize;
            let k = if step % 3 == 0 {
                usize::MAX
            } else {
                (rng.next_u64() % 1000) as usize
            };
            t.set(i, k);
            key[i] = k;
            let q = [rng.next_f64() * 10.0, rng.next_f64() * 10.0];
            let r2 = rng.next_f64() * 4.0;
            let odd = |j: usize| j % 2 == 1;
            let want = (0..pts.len())
                .filter(|&j| key[j] != usize::MAX && odd(j))
                .filter(|&j| (pts[j][0] - q[0]).powi(2) + (pts[j][1] - q[1]).powi(2) <= r2)
                .min_by_key(|&j| (key[j], j));
            let got = t.lowest_within(q, r2, odd);
            assert_eq!(got.map(|j| key[j]), want.map(|j| key[j]), "step {step}");
            let mut all = Vec::new();
            t.for_each_within(q, r2, |j| all.push(j));
            all.sort_unstable();
            let scan: Vec<usize> = (0..pts.len())
                .filter(|&j| (pts[j][0] - q[0]).powi(2) + (pts[j][1] - q[1]).powi(2) <= r2)
                .collect();
            assert_eq!(all, scan, "step {step}");
        }
    }
}
