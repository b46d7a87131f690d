//! Initial admin cells and the fusion of small cells, decided on the adjacency graph.
//!
//! 1. **Initial cells**: one per area holding points.
//! 2. **Empty areas** join a cell so the cells cover all land: a multi-source Dijkstra over the
//!    area graph (edge weight: great-circle distance between the areas' anchor points) within
//!    the same country, then across countries, then, for areas no path reaches (islands), the
//!    cell of the nearest area by anchor distance in the same country, then any.
//! 3. **Fuse** (PIGEON's order of preference): the smallest cell below `min_size` (ties: lowest
//!    id) merges into a neighbour from the first non-empty tier of: small neighbours in the same
//!    admin-1; any neighbour in the same admin-1; small neighbours in the same country; any
//!    neighbour in the same country. Within a tier the largest candidate wins (ties: longest
//!    shared border, then lowest id). A cell with no neighbour in its country (an island) merges
//!    into the nearest cell of its country. Cells never merge across countries; a country with
//!    fewer than `min_size` points keeps one small cell, reported with its reason.
//!
//! No geometry is touched here: merges update sizes and neighbour maps (`BTreeMap`s, merged
//! small-into-large) and the final polygons are built once per cell afterwards
//! ([`crate::cells`]). Complexity: `O((a + e) log a)` for `a` areas and `e` graph edges, against
//! PIGEON's recomputation of every cell shape per merge.
//! Source: Haas et al., *PIGEON: Predicting Image Geolocations*, CVPR 2024, section 3.1 and
//! `dataset_creation/geocell/` (read, not copied).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use geo::InteriorPoint;
use thiserror::Error;

use crate::admin::Area;
use crate::geodesy::haversine_km;
use crate::graph::Adjacency;

/// Errors of the fuse stage.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FuseError {
    /// `counts` and `areas` differ in length.
    #[error("point counts for {counts} areas, but there are {areas} areas")]
    CountMismatch {
        /// Number of counts.
        counts: usize,
        /// Number of areas.
        areas: usize,
    },
    /// No area holds a point, so there is no cell to build.
    #[error("no area holds any point: there is no cell to build")]
    NoPoints,
}

/// Why a cell stayed below the minimum size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallReason {
    /// It is the only cell of its country (the country holds fewer than `min_size` points).
    OnlyCellInCountry,
}

impl SmallReason {
    /// A short machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            SmallReason::OnlyCellInCountry => "only_cell_in_country",
        }
    }
}

/// A planned cell: a set of areas with the labels of its dominant area.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCell {
    /// Member areas, ascending.
    pub areas: Vec<u32>,
    /// Number of points.
    pub size: usize,
    /// The dominant area (most points; ties lowest index), which names the cell.
    pub dominant: u32,
}

/// What happened in the fuse stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FuseStats {
    /// Cells before fusing (areas with points).
    pub initial_cells: usize,
    /// Areas without points attached to a cell.
    pub empty_areas_attached: usize,
    /// Of those, attached by distance because no graph path reached them.
    pub empty_areas_by_distance: usize,
    /// Merges of a small cell into a neighbour.
    pub merges: usize,
    /// Merges of an island (no neighbour in its country) into the nearest cell of its country.
    pub island_merges: usize,
}

/// The cells decided by the fuse stage, ordered by their lowest area index.
#[derive(Debug, Clone, PartialEq)]
pub struct CellPlan {
    /// The cells.
    pub cells: Vec<PlannedCell>,
    /// Cell index of every area.
    pub area_cell: Vec<u32>,
    /// Cells still below `min_size`, with the reason.
    pub below_min: Vec<(u32, SmallReason)>,
    /// Counters.
    pub stats: FuseStats,
}

/// Anchor point of an area: geo's interior point of its largest polygon.
pub fn anchor(area: &Area) -> (f64, f64) {
    let largest = area.geometry.0.iter().max_by(|a, b| {
        use geo::Area as _;
        a.unsigned_area().total_cmp(&b.unsigned_area())
    });
    largest
        .and_then(|p| p.interior_point())
        .map(|p| (p.x(), p.y()))
        .unwrap_or((0.0, 0.0))
}

/// A distance ordered by `f64::total_cmp`, for heaps and tie-breaks.
#[derive(Clone, Copy, Debug)]
struct Dist(f64);
impl PartialEq for Dist {
    fn eq(&self, o: &Self) -> bool {
        self.0.total_cmp(&o.0).is_eq()
    }
}
impl Eq for Dist {}
impl PartialOrd for Dist {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Dist {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// Plans the admin cells: initial cells, empty areas attached, small cells fused.
///
/// `counts[a]` is the number of points in area `a`.
///
/// # Errors
/// [`FuseError`] when the counts do not match the areas or no area has points.
pub fn plan_cells(
    areas: &[Area],
    adjacency: &Adjacency,
    counts: &[usize],
    min_size: usize,
) -> Result<CellPlan, FuseError> {
    let n = areas.len();
    if counts.len() != n {
        return Err(FuseError::CountMismatch {
            counts: counts.len(),
            areas: n,
        });
    }
    let anchors: Vec<(f64, f64)> = areas.iter().map(anchor).collect();
    let mut stats = FuseStats::default();
    // 1. Initial cells, keyed by their seed area.
    let mut owner: Vec<Option<u32>> = (0..n)
        .map(|a| (counts[a] > 0).then_some(a as u32))
        .collect();
    stats.initial_cells = owner.iter().filter(|o| o.is_some()).count();
    if stats.initial_cells == 0 {
        return Err(FuseError::NoPoints);
    }
    // 2. Empty areas: Dijkstra within the country, then across countries.
    for same_country in [true, false] {
        let mut dist: Vec<f64> = vec![f64::INFINITY; n];
        let mut heap = BinaryHeap::new();
        for a in 0..n {
            if owner[a].is_some() {
                dist[a] = 0.0;
                heap.push(Reverse((Dist(0.0), a as u32)));
            }
        }
        while let Some(Reverse((Dist(d), a))) = heap.pop() {
            let a = a as usize;
            if d > dist[a] {
                continue;
            }
            for &(b, _) in &adjacency.neighbours[a] {
                let b = b as usize;
                if counts[b] > 0 || (same_country && areas[b].country_code != areas[a].country_code)
                {
                    continue;
                }
                let nd = d + haversine_km(anchors[a], anchors[b]);
                let better = nd < dist[b]
                    || (nd == dist[b] && owner[a].zip(owner[b]).is_some_and(|(x, y)| x < y));
                if better {
                    dist[b] = nd;
                    owner[b] = owner[a];
                    heap.push(Reverse((Dist(nd), b as u32)));
                }
            }
        }
    }
    let reached: Vec<bool> = owner.iter().map(|o| o.is_some()).collect();
    for a in 0..n {
        if owner[a].is_some() {
            continue;
        }
        stats.empty_areas_by_distance += 1;
        let nearest = |same: bool| {
            (0..n)
                .filter(|&b| {
                    reached[b] && (!same || areas[b].country_code == areas[a].country_code)
                })
                .map(|b| (Dist(haversine_km(anchors[a], anchors[b])), b))
                .min()
                .map(|(_, b)| b)
        };
        let b = nearest(true).or_else(|| nearest(false));
        owner[a] = b.and_then(|b| owner[b]);
    }
    stats.empty_areas_attached = (0..n).filter(|&a| counts[a] == 0).count();

    // 3. Fuse. Cells are identified by their seed area; `cell_of[seed]` follows merges.
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let p = parent[parent[x as usize] as usize];
            parent[x as usize] = p;
            x = p;
        }
        x
    }
    let mut size: Vec<usize> = vec![0; n];
    let mut dominant: Vec<u32> = (0..n as u32).collect();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n];
    for a in 0..n {
        // Every area has an owner: at least one area has points, and the last fallback takes
        // the nearest reached area of any country.
        let o = owner[a].unwrap_or(a as u32) as usize;
        parent[a] = o as u32;
        members[o].push(a as u32);
        size[o] += counts[a];
    }
    let mut alive: Vec<bool> = (0..n).map(|a| parent[a] == a as u32).collect();
    for c in 0..n {
        if alive[c] {
            dominant[c] = members[c]
                .iter()
                .copied()
                .max_by_key(|&a| (counts[a as usize], Reverse(a)))
                .unwrap_or(c as u32);
        }
    }
    // Neighbour maps between cells, with summed border lengths.
    let mut nbrs: Vec<BTreeMap<u32, f64>> = vec![BTreeMap::new(); n];
    for a in 0..n {
        let ca = parent[a];
        for &(b, km) in &adjacency.neighbours[a] {
            let cb = parent[b as usize];
            if ca != cb {
                *nbrs[ca as usize].entry(cb).or_insert(0.0) += km;
            }
        }
    }
    let country = |c: u32, dominant: &[u32]| &areas[dominant[c as usize] as usize].country_code;
    let admin1 = |c: u32, dominant: &[u32]| &areas[dominant[c as usize] as usize].admin1_code;

    let mut heap: BinaryHeap<Reverse<(usize, u32)>> = (0..n as u32)
        .filter(|&c| alive[c as usize] && size[c as usize] < min_size)
        .map(|c| Reverse((size[c as usize], c)))
        .collect();
    let mut below_min = Vec::new();
    while let Some(Reverse((s, c))) = heap.pop() {
        let ci = c as usize;
        if !alive[ci] || size[ci] != s || s >= min_size {
            continue;
        }
        let my_country = country(c, &dominant).clone();
        let my_admin1 = admin1(c, &dominant).clone();
        let tiers: [(bool, bool); 4] = [(true, true), (true, false), (false, true), (false, false)];
        let mut target: Option<u32> = None;
        for (need_admin1, need_small) in tiers {
            let best = nbrs[ci]
                .iter()
                .filter(|&(&d, _)| {
                    country(d, &dominant) == &my_country
                        && (!need_admin1 || admin1(d, &dominant) == &my_admin1)
                        && (!need_small || size[d as usize] < min_size)
                })
                .max_by(|x, y| {
                    (size[*x.0 as usize], Dist(*x.1), Reverse(*x.0)).cmp(&(
                        size[*y.0 as usize],
                        Dist(*y.1),
                        Reverse(*y.0),
                    ))
                })
                .map(|(&d, _)| d);
            if best.is_some() {
                target = best;
                break;
            }
        }
        if target.is_none() {
            // An island: the nearest other cell of the same country by anchor distance.
            let mine: Vec<u32> = members[ci].clone();
            let mut best: Option<(Dist, u32)> = None;
            for (b, area) in areas.iter().enumerate() {
                if area.country_code != my_country {
                    continue;
                }
                let cb = find(&mut parent, b as u32);
                if cb == c {
                    continue;
                }
                for &m in &mine {
                    let d = (Dist(haversine_km(anchors[m as usize], anchors[b])), cb);
                    if best.is_none_or(|x| d < x) {
                        best = Some(d);
                    }
                }
            }
            if let Some((_, cb)) = best {
                stats.island_merges += 1;
                target = Some(cb);
            }
        }
        let Some(t) = target else {
            below_min.push((c, SmallReason::OnlyCellInCountry));
            continue;
        };
        stats.merges += 1;
        // Merge c into t.
        let ti = t as usize;
        alive[ci] = false;
        parent[ci] = t;
        let moved = std::mem::take(&mut members[ci]);
        members[ti].extend(moved);
        // The dominant area is the member area with most points (ties: lowest index).
        let (dt, dc) = (dominant[ti], dominant[ci]);
        let keep_dominant =
            if (counts[dt as usize], Reverse(dt)) >= (counts[dc as usize], Reverse(dc)) {
                dt
            } else {
                dc
            };
        size[ti] += size[ci];
        dominant[ti] = keep_dominant;
        let old = std::mem::take(&mut nbrs[ci]);
        for (d, km) in old {
            if d == t {
                continue;
            }
            *nbrs[ti].entry(d).or_insert(0.0) += km;
            let dm = &mut nbrs[d as usize];
            dm.remove(&c);
            *dm.entry(t).or_insert(0.0) += km;
        }
        nbrs[ti].remove(&c);
        if size[ti] < min_size {
            heap.push(Reverse((size[ti], t)));
        }
    }

    // Final cells ordered by their lowest area index.
    let mut roots: Vec<u32> = (0..n as u32).filter(|&c| alive[c as usize]).collect();
    for m in &mut members {
        m.sort_unstable();
    }
    roots.sort_by_key(|&r| members[r as usize][0]);
    let mut index_of = vec![u32::MAX; n];
    for (i, &r) in roots.iter().enumerate() {
        index_of[r as usize] = i as u32;
    }
    let mut area_cell = vec![0u32; n];
    let cells: Vec<PlannedCell> = roots
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let ri = r as usize;
            for &a in &members[ri] {
                area_cell[a as usize] = i as u32;
            }
            PlannedCell {
                areas: members[ri].clone(),
                size: size[ri],
                dominant: dominant[ri],
            }
        })
        .collect();
    let below_min = below_min
        .into_iter()
        .filter(|(c, _)| alive[*c as usize])
        .map(|(c, r)| (index_of[c as usize], r))
        .collect();
    Ok(CellPlan {
        cells,
        area_cell,
        below_min,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::Level;
    use geo_types::{MultiPolygon, Rect, coord};

    /// A row of unit squares side by side, each with (admin1, country).
    fn row(labels: &[(&str, &str)]) -> Vec<Area> {
        labels
            .iter()
            .enumerate()
            .map(|(i, (a1, c))| {
                let x = i as f64;
                let sq = Rect::new(coord! {x: x, y: 0.0}, coord! {x: x + 1.0, y: 1.0}).to_polygon();
                Area {
                    level: Level::Admin2,
                    code: format!("A{i}"),
                    name: format!("area {i}"),
                    admin1_code: a1.to_string(),
                    admin1_name: a1.to_string(),
                    country_code: c.to_string(),
                    country_name: c.to_string(),
                    geometry: crate::admin::orient(MultiPolygon::new(vec![sq])),
                }
            })
            .collect()
    }

    fn cell_members(plan: &CellPlan) -> Vec<Vec<u32>> {
        plan.cells.iter().map(|c| c.areas.clone()).collect()
    }

    #[test]
    fn small_cell_prefers_a_small_neighbour_in_its_admin1() {
        // Area 1 (5 points) sits between a big same-admin-1 neighbour (0) and a small
        // same-admin-1 neighbour (2): tier 1 (small, same admin-1) picks area 2.
        let areas = row(&[("P", "X"), ("P", "X"), ("P", "X")]);
        let adj = Adjacency::build(&areas);
        let plan = plan_cells(&areas, &adj, &[100, 5, 8], 10).expect("plan");
        assert_eq!(cell_members(&plan), vec![vec![0], vec![1, 2]]);
        assert!(plan.below_min.is_empty());
    }

    #[test]
    fn same_admin1_beats_a_bigger_neighbour_in_another_admin1() {
        // Area 1 (Q) is small; its neighbours are 0 (P, big) and 2 (Q, big): same admin-1 wins.
        let areas = row(&[("P", "X"), ("Q", "X"), ("Q", "X")]);
        let adj = Adjacency::build(&areas);
        let plan = plan_cells(&areas, &adj, &[500, 3, 20], 10).expect("plan");
        assert_eq!(cell_members(&plan), vec![vec![0], vec![1, 2]]);
    }

    #[test]
    fn cells_never_fuse_across_countries() {
        // Area 1 is alone in country Y: it stays small and is reported.
        let areas = row(&[("P", "X"), ("R", "Y"), ("Q", "X")]);
        let adj = Adjacency::build(&areas);
        let plan = plan_cells(&areas, &adj, &[50, 2, 50], 10).expect("plan");
        assert_eq!(plan.cells.len(), 3);
        assert_eq!(plan.below_min, vec![(1, SmallReason::OnlyCellInCountry)]);
    }

    #[test]
    fn empty_areas_join_the_nearest_cell_of_their_country() {
        // Areas 1 and 2 are empty: 1 joins 0 (its only same-country path), 2 joins 3.
        let areas = row(&[("P", "X"), ("P", "X"), ("Q", "Y"), ("Q", "Y")]);
        let adj = Adjacency::build(&areas);
        let plan = plan_cells(&areas, &adj, &[40, 0, 0, 40], 10).expect("plan");
        assert_eq!(cell_members(&plan), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(plan.stats.empty_areas_attached, 2);
    }

    #[test]
    fn island_joins_the_nearest_cell_of_its_country() {
        // Area 2 is an island (no shared border) of country X, small: it joins the nearest X cell.
        let mut areas = row(&[("P", "X"), ("P", "X")]);
        let island = Rect::new(coord! {x: 5.0, y: 0.0}, coord! {x: 6.0, y: 1.0}).to_polygon();
        let mut a = areas[0].clone();
        a.code = "I".into();
        a.geometry = MultiPolygon::new(vec![island]);
        areas.push(a);
        let adj = Adjacency::build(&areas);
        let plan = plan_cells(&areas, &adj, &[50, 50, 1], 10).expect("plan");
        assert_eq!(cell_members(&plan), vec![vec![0], vec![1, 2]]);
        assert_eq!(plan.stats.island_merges, 1);
    }

    #[test]
    fn no_points_at_all_is_an_error() {
        let areas = row(&[("P", "X")]);
        let adj = Adjacency::build(&areas);
        assert!(matches!(
            plan_cells(&areas, &adj, &[0], 10),
            Err(FuseError::NoPoints)
        ));
    }
}
