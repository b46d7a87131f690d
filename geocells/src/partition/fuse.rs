//! Initial admin cells and the fusion of small cells, decided on the adjacency graph.
//!
//! 1. **Initial cells**: one per area holding points.
//! 2. **Empty areas** join a cell so the cells cover all land: a multi-source Dijkstra over the
//!    area graph (edge weight: great-circle distance between the areas' anchor points) within
//!    the same country; areas no path reaches (islands, exclaves) take the cell of the nearest
//!    area by anchor distance in the same country; areas of countries without points then
//!    go by Dijkstra across countries, and the rest to the nearest area of any country.
//! 3. **Fuse** (PIGEON's order of preference): the smallest cell below `min_size` (ties: lowest
//!    id) merges into a neighbour from the first non-empty tier of: small neighbours in the same
//!    admin-1; any neighbour in the same admin-1; small neighbours in the same country; any
//!    neighbour in the same country. Within a tier the largest candidate wins (ties: longest
//!    shared border, then lowest id). A cell with no neighbour in its country (an island, an
//!    exclave) merges into the cell of its country holding the point nearest to one of its
//!    points, unless that point is farther than [`FuseParams::max_km`] (the distance guard: no
//!    cell spans an ocean; PIGEON has none). Cells never merge across countries; a country with
//!    fewer than `min_size` points keeps one small cell. Cells left small are reported with
//!    their reason ([`SmallReason`]).
//!
//! A cell's country is the country of its areas with points: an empty area (an exclave such
//! as Nakhchivan or Cabinda) first joins the nearest cell of its own country, and joins a cell
//! across a border only when its country has no point at all, so it never makes two countries
//! one cell.
//!
//! No geometry is touched here: merges update sizes and neighbour maps (`BTreeMap`s, merged
//! small-into-large) and the final polygons are built once per cell afterwards
//! ([`crate::partition::cells`]). Complexity: `O((a + e) log a)` for `a` areas and `e` graph edges, against
//! PIGEON's recomputation of every cell shape per merge.
//! Source: Haas et al., *PIGEON: Predicting Image Geolocations*, CVPR 2024, section 3.1 and
//! `dataset_creation/geocell/` (read, not copied).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use thiserror::Error;

use crate::geom::geodesy::haversine_km;
use crate::input::area::Area;
use crate::partition::graph::Adjacency;

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
    /// Every cell of its country it could join has its points farther than
    /// [`FuseParams::max_km`] (an island far from the rest of its country).
    TooFar,
}

impl SmallReason {
    /// A short machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            SmallReason::OnlyCellInCountry => "only_cell_in_country",
            SmallReason::TooFar => "too_far_to_fuse",
        }
    }
}

/// Default of [`FuseParams::max_km`]: an island cell is not fused with the nearest cell of its
/// country when their nearest points are farther apart. Chosen on the shipped data
/// (docs/fuse.md).
pub const DEFAULT_FUSE_MAX_KM: f64 = 1_000.0;

/// Parameters of the fuse. MINSIZE is not one of them: it belongs to the split
/// ([`crate::split::params::SplitParams::min_size`], which needs it too) and is passed to
/// `plan_cells_with`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FuseParams {
    /// The distance guard for cells that share no border with a cell of their country
    /// (islands, exclaves): such a cell joins the cell of its country holding the point nearest
    /// to one of its points, unless that point is more than this many km away (great circle);
    /// then it stays below MINSIZE ([`SmallReason::TooFar`]). Cells that share a border with a
    /// cell of their country fuse as in PIGEON. `None` turns the guard off, as in PIGEON.
    pub max_km: Option<f64>,
}

impl Default for FuseParams {
    fn default() -> Self {
        Self {
            max_km: Some(DEFAULT_FUSE_MAX_KM),
        }
    }
}

/// Invalid [`FuseParams`].
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum FuseParamsError {
    /// The distance guard is not a positive finite number.
    #[error(
        "fuse_max_km must be a number above 0 and at most 20015 (half the Earth's circumference, in km; turn the guard off for no limit), got {0}"
    )]
    BadGuard(f64),
}

impl FuseParams {
    /// Sets the distance guard (`None`: off).
    #[must_use]
    pub fn max_km(mut self, v: Option<f64>) -> Self {
        self.max_km = v;
        self
    }
    /// Checks the distance guard: above 0 and at most half the Earth's circumference.
    ///
    /// # Errors
    /// [`FuseParamsError::BadGuard`].
    pub fn validate(&self) -> Result<(), FuseParamsError> {
        if let Some(km) = self.max_km
            && !(km.is_finite() && km > 0.0 && km <= crate::geom::geodesy::HALF_CIRCUMFERENCE_KM)
        {
            return Err(FuseParamsError::BadGuard(km));
        }
        Ok(())
    }
}

/// A fuse the distance guard stopped: the cell, the cell it would have joined, and the distance
/// between their nearest points.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardDecision {
    /// The small cell (index in [`CellPlan::cells`]).
    pub cell: u32,
    /// The cell it was kept from (index in [`CellPlan::cells`]; it may have grown by later
    /// merges).
    pub blocked: u32,
    /// Distance between the two cells' nearest points, km.
    pub km: f64,
}

/// The points of each area, as the fuse needs them: how many, and where (unit vectors, grouped
/// by area) for the nearest-point search of island merges and the distance guard.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaPoints {
    /// Points per area.
    pub counts: Vec<usize>,
    /// `xyz[start[a]..start[a + 1]]` are the distinct positions of area `a`'s points.
    start: Vec<usize>,
    xyz: Vec<[f64; 3]>,
}

impl AreaPoints {
    /// From each point's area and position. Positions are deduplicated per area and sorted, so
    /// the result does not depend on point order.
    pub fn new(n_areas: usize, area_of: &[u32], lon: &[f64], lat: &[f64]) -> Self {
        let mut counts = vec![0usize; n_areas];
        for &a in area_of {
            counts[a as usize] += 1;
        }
        let mut keyed: Vec<(u32, u64, u64)> = area_of
            .iter()
            .zip(lon.iter().zip(lat))
            .map(|(&a, (&x, &y))| (a, x.to_bits(), y.to_bits()))
            .collect();
        keyed.sort_unstable();
        keyed.dedup();
        Self::from_keys(counts, &keyed)
    }

    /// From every distinct `(area, lon bits, lat bits, points there)`, sorted and without
    /// repeats, as [`distinct_positions`] gives them (an assigned dataset stores them): the
    /// same value as [`AreaPoints::new`] on the points, built in one pass.
    ///
    /// # Errors
    /// A message when the rows are not strictly increasing or an area is out of range.
    pub fn from_distinct(
        n_areas: usize,
        rows: impl IntoIterator<Item = (u32, u64, u64, u64)>,
    ) -> Result<Self, String> {
        let mut counts = vec![0usize; n_areas];
        let mut start = vec![0usize; n_areas + 1];
        let mut xyz = Vec::new();
        let mut previous: Option<(u32, u64, u64)> = None;
        for (i, (a, x, y, k)) in rows.into_iter().enumerate() {
            if previous.is_some_and(|p| p >= (a, x, y)) {
                return Err(format!(
                    "row {i}: positions are not sorted by area, longitude and latitude without repeats"
                ));
            }
            previous = Some((a, x, y));
            let Some(c) = counts.get_mut(a as usize) else {
                return Err(format!("row {i}: area {a} of {n_areas}"));
            };
            *c += usize::try_from(k).map_err(|e| format!("row {i}: {e}"))?;
            start[a as usize + 1] += 1;
            xyz.push(unit(f64::from_bits(x), f64::from_bits(y)));
        }
        for a in 0..n_areas {
            start[a + 1] += start[a];
        }
        Ok(Self { counts, start, xyz })
    }

    /// From the counts and the sorted distinct `(area, lon bits, lat bits)`.
    fn from_keys(counts: Vec<usize>, keyed: &[(u32, u64, u64)]) -> Self {
        let n_areas = counts.len();
        let mut start = vec![0usize; n_areas + 1];
        for &(a, _, _) in keyed {
            start[a as usize + 1] += 1;
        }
        for a in 0..n_areas {
            start[a + 1] += start[a];
        }
        let xyz = keyed
            .iter()
            .map(|&(_, x, y)| unit(f64::from_bits(x), f64::from_bits(y)))
            .collect();
        Self { counts, start, xyz }
    }

    /// Counts only: each area's points are taken to stand at its anchor ([`anchor`]).
    pub fn at_anchors(areas: &[Area], counts: &[usize]) -> Self {
        let mut start = vec![0usize; counts.len() + 1];
        let mut xyz = Vec::new();
        for (a, &c) in counts.iter().enumerate() {
            if c > 0
                && let Some(area) = areas.get(a)
            {
                let (x, y) = anchor(area);
                xyz.push(unit(x, y));
            }
            start[a + 1] = xyz.len();
        }
        Self {
            counts: counts.to_vec(),
            start,
            xyz,
        }
    }

    fn of(&self, a: usize) -> &[[f64; 3]] {
        &self.xyz[self.start[a]..self.start[a + 1]]
    }
}

fn unit(lon: f64, lat: f64) -> [f64; 3] {
    let (lo, la) = (lon.to_radians(), lat.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// Great-circle km of a chord between unit vectors.
fn chord_km(chord2: f64) -> f64 {
    2.0 * (chord2.sqrt() / 2.0).min(1.0).asin() * crate::geom::geodesy::EARTH_RADIUS_KM
}

/// Nearest-point queries over one country's points, tagged with their area.
type CountryTree = rstar::RTree<rstar::primitives::GeomWithData<[f64; 3], u32>>;

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
    /// Merges of an island (no neighbour in its country) into the cell of its country with the
    /// nearest point.
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
    /// Fuses the distance guard stopped, one per cell it kept small.
    pub guard: Vec<GuardDecision>,
    /// Counters.
    pub stats: FuseStats,
}

/// Every distinct `(area, lon bits, lat bits)` of the points with the number of points there,
/// sorted: what [`AreaPoints`] is made of, in a form that can be stored
/// ([`AreaPoints::from_distinct`]). `O(n log n)`.
pub fn distinct_positions(area_of: &[u32], lon: &[f64], lat: &[f64]) -> Vec<(u32, u64, u64, u64)> {
    let mut keyed: Vec<(u32, u64, u64)> = area_of
        .iter()
        .zip(lon.iter().zip(lat))
        .map(|(&a, (&x, &y))| (a, x.to_bits(), y.to_bits()))
        .collect();
    keyed.sort_unstable();
    let mut out: Vec<(u32, u64, u64, u64)> = Vec::new();
    for k in keyed {
        match out.last_mut() {
            Some(last) if (last.0, last.1, last.2) == k => last.3 += 1,
            _ => out.push((k.0, k.1, k.2, 1)),
        }
    }
    out
}

/// Anchor point of an area: geo's interior point of its largest polygon.
pub fn anchor(area: &Area) -> (f64, f64) {
    let largest = area.geometry.0.iter().max_by(|a, b| {
        use geo::Area as _;
        a.unsigned_area().total_cmp(&b.unsigned_area())
    });
    largest
        .and_then(geo::InteriorPoint::interior_point)
        .map_or((0.0, 0.0), |p| (p.x(), p.y()))
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

/// Plans the admin cells as PIGEON does (no distance guard), from point counts alone.
///
/// `counts[a]` is the number of points in area `a`. Same as `plan_cells_with` with
/// [`FuseParams::max_km`] off.
///
/// # Errors
/// [`FuseError`] when the counts do not match the areas or no area has points.
pub fn plan_cells(
    areas: &[Area],
    adjacency: &Adjacency,
    counts: &[usize],
    min_size: usize,
) -> Result<CellPlan, FuseError> {
    let points = AreaPoints::at_anchors(areas, counts);
    plan_cells_with(
        areas,
        adjacency,
        &points,
        min_size,
        &FuseParams::default().max_km(None),
    )
}

/// Plans the admin cells: initial cells, empty areas attached, small cells fused (see the
/// module docs), cells below `min_size` points (MINSIZE) fused, with the distance guard of
/// [`FuseParams::max_km`].
///
/// A cell's country is the country of its areas that hold points; areas without points never
/// decide it, so an empty exclave that joined a neighbour's cell does not make that cell part
/// of its own country.
///
/// # Errors
/// [`FuseError`] when the counts do not match the areas or no area has points.
pub fn plan_cells_with(
    areas: &[Area],
    adjacency: &Adjacency,
    points: &AreaPoints,
    min_size: usize,
    params: &FuseParams,
) -> Result<CellPlan, FuseError> {
    let counts = &points.counts[..];
    let n = areas.len();
    if counts.len() != n || points.start.len() != n + 1 {
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
    // 2. Empty areas: Dijkstra within the country; then, for exclaves and islands, the
    //    nearest cell of their own country; only areas of countries without any point cross
    //    a border (Dijkstra across countries, then the nearest area of any country).
    let country_has_points: std::collections::BTreeSet<&str> = (0..n)
        .filter(|&a| counts[a] > 0)
        .map(|a| areas[a].country_code.as_str())
        .collect();
    let dijkstra = |owner: &mut Vec<Option<u32>>, same_country: bool| {
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
    };
    let nearest_owned = |owner: &Vec<Option<u32>>, a: usize, same: bool| {
        (0..n)
            .filter(|&b| {
                owner[b].is_some() && (!same || areas[b].country_code == areas[a].country_code)
            })
            .map(|b| (Dist(haversine_km(anchors[a], anchors[b])), b))
            .min()
            .and_then(|(_, b)| owner[b])
    };
    dijkstra(&mut owner, true);
    // Exclaves and islands of countries with points: the nearest cell of the same country,
    // decided from the areas reached so far (so the result does not depend on area order).
    let unreached: Vec<usize> = (0..n)
        .filter(|&a| {
            owner[a].is_none() && country_has_points.contains(areas[a].country_code.as_str())
        })
        .collect();
    let picks: Vec<(usize, Option<u32>)> = unreached
        .iter()
        .map(|&a| (a, nearest_owned(&owner, a, true)))
        .collect();
    for (a, o) in picks {
        stats.empty_areas_by_distance += 1;
        owner[a] = o;
    }
    dijkstra(&mut owner, false);
    let unreached: Vec<usize> = (0..n).filter(|&a| owner[a].is_none()).collect();
    let picks: Vec<(usize, Option<u32>)> = unreached
        .iter()
        .map(|&a| (a, nearest_owned(&owner, a, false)))
        .collect();
    for (a, o) in picks {
        stats.empty_areas_by_distance += 1;
        owner[a] = o;
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
    // Neighbour maps between cells, with summed border lengths. Only borders between areas of
    // each cell's own country count: two cells that touch only through empty areas of another
    // country (joined across a border) are not neighbours, so an island is not fused through
    // them past the distance guard.
    let mut nbrs: Vec<BTreeMap<u32, f64>> = vec![BTreeMap::new(); n];
    for a in 0..n {
        let ca = parent[a];
        for &(b, km) in &adjacency.neighbours[a] {
            let cb = parent[b as usize];
            let own = |x: usize, c: u32| {
                areas[x].country_code == areas[dominant[c as usize] as usize].country_code
            };
            if ca != cb && own(a, ca) && own(b as usize, cb) {
                *nbrs[ca as usize].entry(cb).or_insert(0.0) += km;
            }
        }
    }
    // The dominant area holds the most points of the cell (a cell always has an area with
    // points), so this is the country of the cell's points.
    let country = |c: u32, dominant: &[u32]| &areas[dominant[c as usize] as usize].country_code;
    let admin1 = |c: u32, dominant: &[u32]| &areas[dominant[c as usize] as usize].admin1_code;
    // One R-tree per country of its points, built when an island of that country needs it.
    let mut trees: BTreeMap<String, CountryTree> = BTreeMap::new();
    let mut heap: BinaryHeap<Reverse<(usize, u32)>> = (0..n as u32)
        .filter(|&c| alive[c as usize] && size[c as usize] < min_size)
        .map(|c| Reverse((size[c as usize], c)))
        .collect();
    let mut below_min = Vec::new();
    let mut guarded: Vec<(u32, u32, f64)> = Vec::new();
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
        // A cell with no neighbour of its country (an island, or cut off by other countries):
        // the cell of its country holding the point nearest to one of its points, unless the
        // guard finds that point too far.
        let mut blocked: Option<(u32, f64)> = None;
        if target.is_none() {
            let tree = trees.entry(my_country.clone()).or_insert_with(|| {
                let items = (0..n)
                    .filter(|&a| areas[a].country_code == my_country && counts[a] > 0)
                    .flat_map(|a| {
                        points
                            .of(a)
                            .iter()
                            .map(move |&v| rstar::primitives::GeomWithData::new(v, a as u32))
                    })
                    .collect();
                rstar::RTree::bulk_load(items)
            });
            let mut best: Option<(Dist, u32)> = None;
            for &m in &members[ci] {
                for v in points.of(m as usize) {
                    for q in tree.nearest_neighbor_iter(v) {
                        let cb = find(&mut parent, q.data);
                        if cb == c {
                            continue;
                        }
                        let d2 = (0..3).map(|k| (q.geom()[k] - v[k]).powi(2)).sum::<f64>();
                        if best.is_none_or(|x| (Dist(d2), cb) < x) {
                            best = Some((Dist(d2), cb));
                        }
                        break;
                    }
                }
            }
            if let Some((Dist(d2), cb)) = best {
                let km = chord_km(d2);
                if params.max_km.is_some_and(|limit| km > limit) {
                    blocked = Some((cb, km));
                } else {
                    stats.island_merges += 1;
                    target = Some(cb);
                }
            }
        }
        let Some(t) = target else {
            match blocked {
                Some((d, km)) => {
                    guarded.push((c, d, km));
                    below_min.push((c, SmallReason::TooFar));
                }
                None => below_min.push((c, SmallReason::OnlyCellInCountry)),
            }
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
    // A blocked target may have been merged into another cell since: follow it.
    let guard = guarded
        .into_iter()
        .filter(|(c, _, _)| alive[*c as usize])
        .map(|(c, d, km)| {
            let root = find(&mut parent, d);
            GuardDecision {
                cell: index_of[c as usize],
                blocked: index_of[root as usize],
                km,
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
        guard,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::levels::Level;
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
                    geometry: crate::geom::repair::orient(MultiPolygon::new(vec![sq])),
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

    #[test]
    fn area_points_from_stored_positions_equal_those_from_the_points() {
        // Two areas; repeated positions, in no particular order.
        let area_of = [1, 0, 1, 1, 0, 1];
        let lon = [5.0, -3.5, 5.0, 4.0, -3.5, 6.25];
        let lat = [50.0, 40.0, 50.0, 51.0, 40.0, 49.0];
        let rows = distinct_positions(&area_of, &lon, &lat);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows.iter().map(|r| r.3).sum::<u64>(), 6);
        let stored = AreaPoints::from_distinct(2, rows.iter().copied()).expect("sorted");
        assert_eq!(stored, AreaPoints::new(2, &area_of, &lon, &lat));
        assert_eq!(stored.counts, vec![2, 4]);
        // Out of order, repeated, or of an unknown area: refused.
        let mut swapped = rows.clone();
        swapped.swap(1, 2);
        assert!(AreaPoints::from_distinct(2, swapped).is_err());
        let mut twice = rows.clone();
        twice.push(*rows.last().expect("rows"));
        assert!(AreaPoints::from_distinct(2, twice).is_err());
        assert!(AreaPoints::from_distinct(1, rows).is_err());
    }
}
