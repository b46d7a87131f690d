//! Baseline partitions to judge semantic cells against, at about the same number of cells.
//!
//! The adaptive quadtree of PlaNet (Weyand, Kostrikov, Philbin, *PlaNet - Photo Geolocation with
//! Convolutional Neural Networks*, ECCV 2016) and OSV-5M (Astruc et al., CVPR 2024): start from
//! the whole lon/lat rectangle and split every box holding more than `max_points` points into
//! four, down to a depth limit; the classes are the leaves that hold points. [`quadtree_like`]
//! picks `max_points` so the number of classes is as close as possible to a target.
//!
//! Complexity: `O(n d)` per tree for `n` points and depth `d`; [`quadtree_like`] builds
//! `O(log n)` trees.
//!
//! The H3 baseline ([`h3_like`]) uses Uber's hexagonal grid (the `h3o` crate, a Rust port of H3
//! v4) at the resolution whose number of occupied cells is closest to the target: each resolution
//! tried indexes the `n` points and sorts their cell indexes, `O(n log n)`, for at most 16
//! resolutions.

use serde::Serialize;

use crate::geom::geodesy::spherical_mean;
use crate::quality::metrics::{PartitionQuality, partition_quality};

/// Deepest split: boxes of 360 / 2^24 degrees (about 2.4 m of latitude).
pub const MAX_DEPTH: u32 = 24;

/// An adaptive quadtree partition of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Quadtree {
    /// The split threshold used.
    pub max_points: usize,
    /// Class (leaf) of every point, leaves numbered in depth-first order (SW, SE, NW, NE).
    pub class: Vec<u32>,
    /// Number of classes.
    pub classes: usize,
}

/// The quadtree with threshold `max_points` (at least 1).
///
/// ```
/// let pts = [(-100.0, 40.0), (-100.1, 40.1), (10.0, 50.0), (10.1, 50.1)];
/// let q = geocells::algorithms::quadtree(&pts, 2);
/// assert_eq!(q.classes, 2);
/// assert_eq!(q.class[0], q.class[1]);
/// assert_ne!(q.class[0], q.class[2]);
/// ```
pub fn quadtree(points: &[(f64, f64)], max_points: usize) -> Quadtree {
    let max_points = max_points.max(1);
    let mut class = vec![0u32; points.len()];
    let mut next = 0u32;
    // Work stack of (box, depth, point indices); children pushed in reverse so they pop in
    // SW, SE, NW, NE order.
    let mut stack: Vec<([f64; 4], u32, Vec<u32>)> = vec![(
        [-180.0, 180.0, -90.0, 90.0],
        0,
        (0..points.len() as u32).collect(),
    )];
    while let Some((b, depth, idx)) = stack.pop() {
        if idx.is_empty() {
            continue;
        }
        if idx.len() <= max_points || depth >= MAX_DEPTH {
            for &i in &idx {
                class[i as usize] = next;
            }
            next += 1;
            continue;
        }
        let (xm, ym) = ((b[0] + b[1]) / 2.0, (b[2] + b[3]) / 2.0);
        let mut quads: [Vec<u32>; 4] = Default::default();
        for &i in &idx {
            let (x, y) = points[i as usize];
            let q = usize::from(x >= xm) + 2 * usize::from(y >= ym);
            quads[q].push(i);
        }
        let boxes = [
            [b[0], xm, b[2], ym],
            [xm, b[1], b[2], ym],
            [b[0], xm, ym, b[3]],
            [xm, b[1], ym, b[3]],
        ];
        for q in (0..4).rev() {
            stack.push((boxes[q], depth + 1, std::mem::take(&mut quads[q])));
        }
    }
    Quadtree {
        max_points,
        class,
        classes: next as usize,
    }
}

/// The quadtree whose number of classes is closest to `target` (ties: the larger threshold),
/// found by bisection on the threshold.
pub fn quadtree_like(points: &[(f64, f64)], target: usize) -> Quadtree {
    let (mut lo, mut hi) = (1usize, points.len().max(1));
    // Classes fall as the threshold grows: find the smallest threshold with <= target classes.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if quadtree(points, mid).classes <= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let at = quadtree(points, lo);
    if lo > 1 {
        let below = quadtree(points, lo - 1);
        if below.classes.abs_diff(target) < at.classes.abs_diff(target) {
            return below;
        }
    }
    at
}

/// Points grouped by the H3 cell holding them at one resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct H3Partition {
    /// The H3 resolution (0 = 122 cells world-wide, each finer level has 7 times more).
    pub resolution: u8,
    /// Class of every point: occupied H3 cells numbered in ascending index order.
    pub class: Vec<u32>,
    /// The occupied H3 cells, in class order (hex strings).
    pub cells: Vec<String>,
}

impl H3Partition {
    /// Number of classes (occupied H3 cells).
    pub fn classes(&self) -> usize {
        self.cells.len()
    }
}

/// The finest H3 resolution (15).
pub const H3_MAX_RESOLUTION: u8 = 15;

/// The H3 partition of `points` (lon, lat in degrees) at `resolution` (clamped to 15). Each
/// point is indexed at that resolution directly: H3 cells are only approximately nested, so the
/// parent of a finer cell is not always the coarse cell holding the point. Points whose
/// coordinates H3 refuses (not finite) share one class with index 0; labelled points are
/// always valid.
///
/// ```
/// // Paris and Lyon share no H3 cell even at resolution 0; two Paris points share one at 3.
/// let pts = [(2.35, 48.85), (2.36, 48.86), (4.83, 45.76)];
/// let h = geocells::algorithms::h3_partition(&pts, 3);
/// assert_eq!(h.classes(), 2);
/// assert_eq!(h.cells[h.class[0] as usize], "831fb4fffffffff");
/// ```
pub fn h3_partition(points: &[(f64, f64)], resolution: u8) -> H3Partition {
    use h3o::{CellIndex, LatLng, Resolution};
    let r = resolution.min(H3_MAX_RESOLUTION);
    let res = Resolution::try_from(r).unwrap_or(Resolution::Fifteen);
    let keys: Vec<u64> = points
        .iter()
        .map(|&(lon, lat)| {
            LatLng::new(lat, lon)
                .ok()
                .map_or(0, |ll| u64::from(ll.to_cell(res)))
        })
        .collect();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    let class = keys
        .iter()
        .map(|k| unique.binary_search(k).unwrap_or(0) as u32)
        .collect();
    let cells = unique
        .iter()
        .map(|&k| CellIndex::try_from(k).map_or_else(|_| "invalid".to_string(), |c| c.to_string()))
        .collect();
    H3Partition {
        resolution: r,
        class,
        cells,
    }
}

/// The [`h3_partition`] whose number of occupied cells is closest to `target` (ties: the
/// coarser resolution). Occupied counts never fall as the resolution gets finer, so the walk
/// stops at the first resolution that reaches the target.
pub fn h3_like(points: &[(f64, f64)], target: usize) -> H3Partition {
    let mut best = h3_partition(points, 0);
    for r in 1..=H3_MAX_RESOLUTION {
        if best.classes() >= target {
            break;
        }
        let next = h3_partition(points, r);
        if next.classes() <= target {
            // Same count as a coarser resolution: keep the coarser, walk on.
            if next.classes() > best.classes() {
                best = next;
            }
        } else {
            if next.classes() - target < target - best.classes() {
                best = next;
            }
            break;
        }
    }
    best
}

/// A baseline's summary for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// What it is.
    pub name: String,
    /// Its parameter (the quadtree's threshold).
    pub parameter: String,
    /// Its quality on the same points.
    pub quality: PartitionQuality,
}

/// Quality of a class assignment with class centroids at the spherical mean of their points.
pub fn quality_of(points: &[(f64, f64)], class: &[u32], classes: usize) -> PartitionQuality {
    let mut members: Vec<Vec<(f64, f64)>> = vec![Vec::new(); classes];
    for (&p, &c) in points.iter().zip(class) {
        members[c as usize].push(p);
    }
    let centroids: Vec<(f64, f64)> = members
        .iter()
        .map(|m| spherical_mean(m.iter().copied()).unwrap_or((f64::NAN, f64::NAN)))
        .collect();
    partition_quality(points, class, &centroids)
}

/// The quadtree baseline with about `target` classes on `points`.
pub fn quadtree_baseline(points: &[(f64, f64)], target: usize) -> Baseline {
    let q = quadtree_like(points, target);
    Baseline {
        name: "adaptive quadtree (PlaNet / OSV-5M)".into(),
        parameter: format!("max_points {}", q.max_points),
        quality: quality_of(points, &q.class, q.classes),
    }
}

/// The H3 baseline with about `target` classes on `points`.
pub fn h3_baseline(points: &[(f64, f64)], target: usize) -> Baseline {
    let h = h3_like(points, target);
    Baseline {
        name: "H3 (hexagons, h3o)".into(),
        parameter: format!("resolution {}", h.resolution),
        quality: quality_of(points, &h.class, h.classes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadtree_splits_dense_boxes_and_matches_a_target() {
        // 64 points on a regular 8 x 8 grid in one quadrant of the world: threshold 4 splits
        // down to boxes of 4 points, 16 classes.
        let pts: Vec<(f64, f64)> = (0..64)
            .map(|i| (10.0 + f64::from(i % 8), 10.0 + f64::from(i / 8)))
            .collect();
        let q = quadtree(&pts, 4);
        assert!(q.classes >= 16, "{}", q.classes);
        let mut counts = vec![0usize; q.classes];
        for &c in &q.class {
            counts[c as usize] += 1;
        }
        assert!(counts.iter().all(|&n| (1..=4).contains(&n)));
        // Identical points stop at the depth limit instead of recursing forever.
        let same = vec![(1.0, 1.0); 10];
        assert_eq!(quadtree(&same, 2).classes, 1);
        // The bisection finds a threshold giving the target exactly when one exists.
        let like = quadtree_like(&pts, 16);
        assert_eq!(like.classes, quadtree(&pts, like.max_points).classes);
        assert!(like.classes.abs_diff(16) <= q.classes.abs_diff(16));
    }

    #[test]
    fn h3_cells_match_the_reference_library() {
        // Expected indexes from the reference C library through h3-py 4.5.0:
        // h3.latlng_to_cell(lat, lon, res) for res 0, 3, 5.
        let pts = [
            (2.35, 48.85),
            (2.36, 48.86),
            (4.83, 45.76),
            (151.21, -33.87),
            (-21.9, 64.1),
        ];
        let expected = [
            ["8019fffffffffff", "831fb4fffffffff", "851fb467fffffff"],
            ["8019fffffffffff", "831fb4fffffffff", "851fb467fffffff"],
            ["801ffffffffffff", "831f90fffffffff", "851f9027fffffff"],
            ["80bffffffffffff", "83be0efffffffff", "85be0e37fffffff"],
            ["8007fffffffffff", "83075dfffffffff", "85075d8bfffffff"],
        ];
        for (k, res) in [0u8, 3, 5].into_iter().enumerate() {
            let h = h3_partition(&pts, res);
            assert_eq!(h.resolution, res);
            assert_eq!(h.classes(), 4, "the two Paris points share a cell at {res}");
            for (i, e) in expected.iter().enumerate() {
                assert_eq!(h.cells[h.class[i] as usize], e[k], "point {i} at {res}");
            }
        }
        // The two Paris points (about 1.3 km apart) part at a finer resolution: a target of 5
        // walks past 5 and stops at the first resolution that tells them apart.
        let fine = h3_like(&pts, 5);
        assert_eq!(fine.classes(), 5);
        assert!(fine.resolution > 5, "{}", fine.resolution);
        assert_ne!(fine.class[0], fine.class[1]);
        assert_eq!(h3_partition(&pts, fine.resolution - 1).classes(), 4);
        // A target at or below the coarsest count keeps resolution 0.
        assert_eq!(h3_like(&pts, 1).resolution, 0);
        let b = h3_baseline(&pts, 4);
        assert_eq!(b.parameter, "resolution 0");
        assert_eq!(b.quality.cells, 4);
    }
}
