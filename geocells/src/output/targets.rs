//! Training targets: PIGEON's haversine label smoothing, as sparse top-k lists.
//!
//! Source: Haas et al., *PIGEON: Predicting Image Geolocations* (CVPR 2024), section 3.2: the
//! target for a sample at `x` over cells `i` with centroids `c_i` is
//! `y_i = exp(-(d(x, c_i) - min_j d(x, c_j)) / tau)`, normalised to sum 1, with `d` the
//! haversine distance and `tau` = 75 km. Most of the mass sits on the few cells nearest to `x`,
//! so the targets are exported as the `k` largest weights (the `k` nearest centroids), each
//! normalised over all cells (within the bound below); the list's sum says how much mass the
//! cells beyond the `k` nearest hold. As before, a list holds only cells within
//! `dmin + tau ln 1e9` (weight at least `1e-9` of the largest), so it can be shorter than `k`.
//!
//! # Error bound
//! `Z = sum_i exp(-(d(x, c_i) - dmin) / tau)` runs over every centroid; `Z >= 1` (the nearest
//! term is 1). The computed `Z` differs from it by at most `5e-13 Z` plus floating-point
//! rounding (of order `m u Z` for `m` terms summed, `u = 2^-53`), so every weight is within a
//! relative `5e-13` (plus rounding) of the exact one; the tests check `1e-12` against a
//! brute-force sum over all centroids. Until decision 0009 the sum stopped at
//! `dmin + tau ln 1e9` (1,554 km for tau = 75 km): each term left out was below `1e-9`, but
//! the total had no bound better than `N 1e-9` for `N` centroids, and on a 5M-point run it
//! reached `6.9e-8` relative. Why `5e-13` holds:
//!
//! * **Dropped centroids** (`EPS_DROP = 2.5e-13`): a centroid is left out only when it is
//!   at least `dmin + tau ln(N / EPS_DROP)` from the point (2,800 km for tau = 75 km and
//!   3,900 cells), so each of the at most `N` left out adds less than `EPS_DROP / N` to
//!   `Z >= 1`.
//! * **Far field** (`EPS_TAYLOR = 2.5e-13`): on the tile path the centroids not summed
//!   exactly are summed by one polynomial per tile whose error has a rigorous bound
//!   (Cauchy's estimate on the Taylor series of `exp(-a acos s)`, module `far_field`); the bounds
//!   are budgeted so that their total is at most `EPS_TAYLOR Z` for every point the tile
//!   serves.
//!
//! The listed weights are the numerators of the exact path, bit for bit (same unit vectors,
//! same chord and `asin`), so the ids and their order are those of the exact sum.
//!
//! # Algorithm and complexity
//! The sphere is cut into tiles of a fixed latitude/longitude grid (`TILE_DEG`), built on
//! first use and shared by every point in them (a fast-multipole-style split, Greengard and
//! Rokhlin, *A fast algorithm for particle simulations*, J. Comput. Phys. 73, 1987; here with
//! one level and a series in `x . c`). A tile keeps the centroids that may be among a point's
//! `k` nearest or whose series would not meet the budget ("near", summed exactly per point)
//! and the moments of the polynomial for the others. Per point: the near terms and one
//! polynomial of `C(P_MAX + 3, 3) = 286` monomials, `O(m_near + 286)`, where `m_near` grows
//! with the density of cells within a few hundred km rather than within the 2,800 km horizon.
//! Per tile: a k-nearest and a range query in an R-tree of 3-D unit vectors (chord order is
//! great-circle order) and `O(286)` per centroid in range. A point outside its tile's
//! reach, or with no tile (coordinates out of range), takes the exact path: every centroid
//! within `dmin + tau ln(N / 5e-13)`, `O(log N + m)` for the `m` in range. A point's
//! result depends on the point only (tiles depend on the grid and the centroids), so it does
//! not depend on the thread count or on the other points.

use rstar::RTree;
use rstar::primitives::GeomWithData;
use thiserror::Error;

mod far_field;

use far_field::{Budget, FarField, Sources, chord};

/// Errors of the smoothing.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum LabelsError {
    /// The parameters are out of range.
    #[error(transparent)]
    Params(#[from] SmoothingParamsError),
    /// No cell has a centroid.
    #[error("no cell centroids to smooth over")]
    NoCentroids,
}

/// Invalid [`SmoothingParams`]: `tau_km` is not a positive finite number up to half the
/// Earth's circumference, or `top_k` is not from 1 to `MAX_K`.
#[derive(Debug, Error, PartialEq)]
#[error(
    "label smoothing needs tau_km above 0 and at most 20015 (got {tau_km}) and top_k from 1 to 1000 (got {top_k})"
)]
pub struct SmoothingParamsError {
    /// tau given.
    pub tau_km: f64,
    /// top_k given.
    pub top_k: usize,
}

/// The most weights kept per point ([`SmoothingParams::top_k`]).
pub const MAX_K: usize = 1000;

/// Parameters of the smoothing. `Default`: `tau_km` 75 (PIGEON), `top_k` 10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothingParams {
    /// Temperature in km.
    pub tau_km: f64,
    /// Number of weights kept per point.
    pub top_k: usize,
}

impl Default for SmoothingParams {
    fn default() -> Self {
        Self {
            tau_km: 75.0,
            top_k: 10,
        }
    }
}

impl SmoothingParams {
    /// Sets tau in km.
    #[must_use]
    pub fn tau_km(mut self, v: f64) -> Self {
        self.tau_km = v;
        self
    }
    /// Sets how many weights are kept per point.
    #[must_use]
    pub fn top_k(mut self, v: usize) -> Self {
        self.top_k = v;
        self
    }
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`SmoothingParamsError`].
    pub fn validate(&self) -> Result<(), SmoothingParamsError> {
        // top_k sizes targets.parquet (top_k rows per point): bounded so that a typo cannot
        // fill the disk; tau beyond half the Earth's circumference means nothing.
        let tau_ok = self.tau_km.is_finite()
            && self.tau_km > 0.0
            && self.tau_km <= crate::geom::geodesy::HALF_CIRCUMFERENCE_KM;
        if !(tau_ok && (1..=MAX_K).contains(&self.top_k)) {
            return Err(SmoothingParamsError {
                tau_km: self.tau_km,
                top_k: self.top_k,
            });
        }
        Ok(())
    }
}

/// Error budget of the dropped centroids, relative to `Z` (module docs).
const EPS_DROP: f64 = 2.5e-13;
/// Error budget of the far-field polynomials, relative to `Z` (module docs).
const EPS_TAYLOR: f64 = 2.5e-13;
/// `ln 1e9`: centroids farther than `dmin + tau ln 1e9` (weight below 1e-9 of the largest) are
/// not listed, though they count in `Z`.
const LIST_LN: f64 = 20.723_265_836_946_41;
/// Tile size of the far-field grid, in degrees.
const TILE_DEG: f64 = 1.0;

/// Cell centroids indexed for smoothing.
#[derive(Debug)]
pub struct Smoother {
    tree: RTree<GeomWithData<[f64; 3], u32>>,
    count: usize,
    params: SmoothingParams,
    budget: Budget,
    /// `None`: every point takes the exact path.
    field: Option<FarField>,
}

fn unit(lon: f64, lat: f64) -> [f64; 3] {
    let (sl, cl) = lat.to_radians().sin_cos();
    let (so, co) = lon.to_radians().sin_cos();
    [cl * co, cl * so, sl]
}

/// Keeps the `k` nearest of `near` (by distance, then cell id) that are within the listing
/// horizon `dmin + tau ln 1e9` (weights below 1e-9 of the largest are not listed, as before
/// decision 0009) and normalises their weights by `z`.
fn top_k(mut near: Vec<(f64, u32)>, k: usize, dmin: f64, tau: f64, z: f64) -> Vec<(u32, f64)> {
    let dlist = dmin + tau * LIST_LN;
    let order = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let k = k.min(near.len());
    if k < near.len() {
        near.select_nth_unstable_by(k, order);
        near.truncate(k);
    }
    near.sort_by(order);
    let listed = near.partition_point(|n| n.0 <= dlist);
    near.truncate(listed);
    // A fresh vector: `near` may have thousands of slots, and collecting in place would
    // keep them all allocated for every point.
    let mut out = Vec::with_capacity(near.len());
    out.extend(
        near.iter()
            .map(|&(d, id)| (id, (-(d - dmin) / tau).exp() / z)),
    );
    out
}

impl Smoother {
    /// Indexes `centroids[cell_id]` (lon/lat; `None` for a cell that should get no weight).
    ///
    /// # Errors
    /// [`LabelsError`] for bad parameters or no centroids at all.
    pub fn new(
        centroids: &[Option<(f64, f64)>],
        params: SmoothingParams,
    ) -> Result<Self, LabelsError> {
        Self::with_options(
            centroids,
            params,
            Budget {
                drop: EPS_DROP,
                taylor: EPS_TAYLOR,
            },
            Some(TILE_DEG),
        )
    }

    /// [`Smoother::new`] with an error budget and a tile size (`None`: exact path only).
    fn with_options(
        centroids: &[Option<(f64, f64)>],
        params: SmoothingParams,
        budget: Budget,
        tile_deg: Option<f64>,
    ) -> Result<Self, LabelsError> {
        params.validate()?;
        let items: Vec<_> = centroids
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|(x, y)| GeomWithData::new(unit(x, y), i as u32)))
            .collect();
        if items.is_empty() {
            return Err(LabelsError::NoCentroids);
        }
        Ok(Self {
            count: items.len(),
            tree: RTree::bulk_load(items),
            params,
            budget,
            field: tile_deg.map(FarField::new),
        })
    }

    /// The `k` largest smoothed weights for a sample at `(lon, lat)`, as `(cell_id, weight)`
    /// pairs, largest first (ties: lower cell id first); weights are normalised over all cells,
    /// within the error bound of the module docs.
    ///
    /// ```
    /// use geocells::{Smoother, SmoothingParams};
    /// let s = Smoother::new(&[Some((0.0, 0.0)), Some((1.0, 0.0))], SmoothingParams::default()).unwrap();
    /// let w = s.targets(0.0, 0.0);
    /// assert_eq!(w[0].0, 0);
    /// assert!((w[0].1 + w[1].1 - 1.0).abs() < 1e-12);
    /// ```
    pub fn targets(&self, lon: f64, lat: f64) -> Vec<(u32, f64)> {
        let q = unit(lon, lat);
        if let Some(out) = self.tiled(q, lon, lat) {
            return out;
        }
        self.exact(q)
    }

    /// The tile path: exact terms for the tile's near centroids, one polynomial for the rest
    /// (`None` when the point has no tile).
    fn tiled(&self, q: [f64; 3], lon: f64, lat: f64) -> Option<Vec<(u32, f64)>> {
        let field = self.field.as_ref()?;
        let src = Sources {
            tree: &self.tree,
            count: self.count,
            tau: self.params.tau_km,
            k: self.params.top_k,
            budget: self.budget,
        };
        let tile = field.tile(lon, lat, &src)?;
        let w = tile.offset(&q)?;
        let tau = self.params.tau_km;
        let near: Vec<(f64, u32)> = tile
            .near()
            .iter()
            .map(|(p, id)| (far_field::chord_km(chord(p, &q)), *id))
            .collect();
        let dmin = near.iter().map(|n| n.0).fold(f64::INFINITY, f64::min);
        if !dmin.is_finite() {
            return None;
        }
        let z_near: f64 = near.iter().map(|&(d, _)| (-(d - dmin) / tau).exp()).sum();
        let z = z_near + (dmin / tau).exp() * field.eval(tile, w);
        Some(top_k(near, self.params.top_k, dmin, tau, z))
    }

    /// The exact path: every centroid within `dmin + tau ln(N / eps)` of the point, from the
    /// R-tree.
    fn exact(&self, q: [f64; 3]) -> Vec<(u32, f64)> {
        let tau = self.params.tau_km;
        let Some(nearest) = self.tree.nearest_neighbor(&q) else {
            return Vec::new();
        };
        let dmin = far_field::chord_km(chord(nearest.geom(), &q));
        let eps = self.budget.drop + self.budget.taylor;
        let dcut = dmin + tau * (self.count as f64 / eps).ln();
        let ch = far_field::km_chord(dcut);
        let mut near: Vec<(f64, u32)> = Vec::new();
        let mut z = 0.0;
        for c in self.tree.locate_within_distance(q, ch * ch) {
            let d = far_field::chord_km(chord(c.geom(), &q));
            z += (-(d - dmin) / tau).exp();
            near.push((d, c.data));
        }
        top_k(near, self.params.top_k, dmin, tau, z)
    }
}

/// Smoothed targets for many points, in order (parallel, deterministic).
///
/// # Errors
/// As [`Smoother::new`].
pub fn smoothed_targets(
    points: &[(f64, f64)],
    centroids: &[Option<(f64, f64)>],
    params: SmoothingParams,
) -> Result<Vec<Vec<(u32, f64)>>, LabelsError> {
    use rayon::prelude::*;
    let s = Smoother::new(centroids, params)?;
    Ok(points
        .par_iter()
        .with_min_len(1024)
        .map(|&(x, y)| s.targets(x, y))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound the tests hold the weights to, relative: the module's bound.
    const BOUND: f64 = 1e-12;

    /// Centroids by cell id, as [`Smoother::new`] takes them.
    type Centroids = Vec<Option<(f64, f64)>>;

    #[test]
    fn hand_computed_example() {
        // A sample at (0, 0); centroids at (0, 0), (1, 0), (0, 2) and (10, 10) degrees.
        // Haversine: 0, 111.19508, 222.39016, 1568.52 km. With tau = 75 km:
        // y = 1, exp(-1.482601) = 0.227049, exp(-2.965202) = 0.051551, exp(-20.9136) = 8.3e-10;
        // Z = 1.278601, so the weights are 0.782108, 0.177575, 0.040318, 6.5e-10.
        let c = [
            Some((0.0, 0.0)),
            Some((1.0, 0.0)),
            Some((0.0, 2.0)),
            Some((10.0, 10.0)),
            None,
        ];
        let s = Smoother::new(&c, SmoothingParams::default().top_k(3)).expect("smoother");
        let w = s.targets(0.0, 0.0);
        assert_eq!(w.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1, 2]);
        for (got, want) in w.iter().map(|p| p.1).zip([0.782108, 0.177575, 0.040318]) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        // The fourth centroid, 1,568 km away, is beyond the 1,554 km horizon: the three weights
        // sum to 1 within 1e-9.
        let mass: f64 = w.iter().map(|p| p.1).sum();
        assert!((1.0 - mass).abs() < 1e-9, "{mass}");
    }

    /// Today's algorithm before decision 0009: every centroid within `dmin + tau ln 1e9`.
    fn legacy(s: &Smoother, lon: f64, lat: f64) -> Vec<(u32, f64)> {
        let tau = s.params.tau_km;
        let q = unit(lon, lat);
        let dist = |p: &[f64; 3]| far_field::chord_km(chord(p, &q));
        let Some(nearest) = s.tree.nearest_neighbor(&q) else {
            return Vec::new();
        };
        let dmin = dist(nearest.geom());
        let ch = far_field::km_chord(dmin + tau * 1e9f64.ln());
        let mut near = Vec::new();
        let mut z = 0.0;
        for c in s.tree.locate_within_distance(q, ch * ch) {
            let d = dist(c.geom());
            z += (-(d - dmin) / tau).exp();
            near.push((d, c.data));
        }
        top_k(near, s.params.top_k, dmin, tau, z)
    }

    /// The exact sum over every centroid, terms added smallest first.
    fn brute(
        centroids: &[Option<(f64, f64)>],
        p: SmoothingParams,
        lon: f64,
        lat: f64,
    ) -> Vec<(u32, f64)> {
        let q = unit(lon, lat);
        let near: Vec<(f64, u32)> = centroids
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.map(|(x, y)| (far_field::chord_km(chord(&unit(x, y), &q)), i as u32))
            })
            .collect();
        let dmin = near.iter().map(|n| n.0).fold(f64::INFINITY, f64::min);
        let mut terms: Vec<f64> = near
            .iter()
            .map(|&(d, _)| (-(d - dmin) / p.tau_km).exp())
            .collect();
        terms.sort_by(f64::total_cmp);
        let z: f64 = terms.iter().sum();
        top_k(near, p.top_k, dmin, p.tau_km, z)
    }

    /// A realistic set: 3,900 centroids and 3,000 points around GeoNames places (population
    /// to the power 0.5, as `make_points`), plus 300 points anywhere on the sphere and a few
    /// at the poles and the antimeridian.
    fn world() -> (Centroids, Vec<(f64, f64)>) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/geonames_cities1000.parquet");
        let places = crate::synth::geonames_places(&path, 0.5).expect("shipped GeoNames places");
        let centroids = crate::synth::scatter(&places, 3900, 1, 20.0)
            .into_iter()
            .map(Some)
            .collect();
        let mut points = crate::synth::scatter(&places, 3000, 2, 5.0);
        let mut rng = crate::synth::SplitMix64::new(3);
        for _ in 0..300 {
            let z: f64 = 2.0 * rng.next_f64() - 1.0;
            points.push((360.0 * rng.next_f64() - 180.0, z.asin().to_degrees()));
        }
        points.extend([
            (0.0, 90.0),
            (0.0, -90.0),
            (180.0, 0.0),
            (-180.0, 65.0),
            (179.99, -16.5),
            (12.0, 89.9),
        ]);
        (centroids, points)
    }

    /// Largest relative error of the weights against [`brute`], after checking that the ids
    /// and their order are those of [`legacy`] (today's algorithm).
    fn max_error(
        s: &Smoother,
        centroids: &[Option<(f64, f64)>],
        points: &[(f64, f64)],
        f: impl Fn(&Smoother, f64, f64) -> Vec<(u32, f64)>,
    ) -> f64 {
        let mut worst: f64 = 0.0;
        for &(x, y) in points {
            let got = f(s, x, y);
            let want = brute(centroids, s.params, x, y);
            let ids = |v: &[(u32, f64)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
            assert_eq!(ids(&got), ids(&legacy(s, x, y)), "top-k ids at ({x}, {y})");
            assert_eq!(ids(&got), ids(&want), "top-k ids at ({x}, {y})");
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((g.1 - w.1).abs() / w.1);
            }
        }
        worst
    }

    #[test]
    fn weights_are_within_the_bound_of_the_exact_sum() {
        let (c, pts) = world();
        for p in [
            SmoothingParams::default(),
            SmoothingParams::default().tau_km(25.0).top_k(3),
            SmoothingParams::default().tau_km(300.0).top_k(40),
        ] {
            let s = Smoother::new(&c, p).expect("smoother");
            let err = max_error(&s, &c, &pts, Smoother::targets);
            assert!(
                err <= BOUND,
                "{p:?}: relative error {err:e} above {BOUND:e}"
            );
        }
    }

    #[test]
    fn the_check_catches_a_wrong_horizon_or_budget() {
        let (c, pts) = world();
        let p = SmoothingParams::default();
        // Today's horizon (each term below 1e-9 of the largest) misses more than 1e-12 of Z.
        let s = Smoother::new(&c, p).expect("smoother");
        let err = max_error(&s, &c, &pts, legacy);
        assert!(err > BOUND, "legacy {err:e}");
        // A drop budget of 1e-6 (horizon 1,500 km shorter than the bound allows).
        let b = Budget {
            drop: 1e-6,
            taylor: EPS_TAYLOR,
        };
        let s = Smoother::with_options(&c, p, b, Some(TILE_DEG)).expect("smoother");
        let err = max_error(&s, &c, &pts, Smoother::targets);
        assert!(err > BOUND, "short horizon {err:e}");
        // A far-field budget of 1e-6.
        let b = Budget {
            drop: EPS_DROP,
            taylor: 1e-6,
        };
        let s = Smoother::with_options(&c, p, b, Some(TILE_DEG)).expect("smoother");
        let err = max_error(&s, &c, &pts, Smoother::targets);
        assert!(err > BOUND, "loose far field {err:e}");
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let (c, pts) = world();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| smoothed_targets(&pts, &c, SmoothingParams::default()))
                .expect("targets")
        };
        let one = run(1);
        assert!(one == run(2), "1 vs 2 threads");
        // Each point's result depends on the point only, not on which points came before.
        let s = Smoother::new(&c, SmoothingParams::default()).expect("smoother");
        for (i, &(x, y)) in pts.iter().enumerate().rev().step_by(7) {
            assert!(s.targets(x, y) == one[i], "point {i}");
        }
    }

    /// Times the smoothing of a real run, old against new, in one process:
    /// `GEOCELLS_SMOOTH_POINTS=points.parquet GEOCELLS_SMOOTH_CELLS=cells.parquet cargo test
    /// --release --lib output::targets::tests::time_real_run -- --ignored --nocapture`.
    #[test]
    #[ignore = "needs a points file and a run's cells.parquet; prints timings"]
    #[allow(
        clippy::too_many_lines,
        reason = "a measurement script: read, time, compare, print"
    )]
    fn time_real_run() {
        use rayon::prelude::*;
        let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("set {k}"));
        let read = |path: String, cols: [&str; 2]| -> Vec<(f64, f64)> {
            let names: Vec<String> = cols.iter().map(ToString::to_string).collect();
            let df = crate::input::files::read_parquet_columns(std::path::Path::new(&path), &names)
                .expect("parquet");
            let col = |n: &str| -> Vec<f64> {
                let s = df
                    .column(n)
                    .expect("column")
                    .cast(&polars::prelude::DataType::Float64)
                    .expect("f64");
                s.f64()
                    .expect("f64")
                    .iter()
                    .map(|v| v.unwrap_or(f64::NAN))
                    .collect()
            };
            col(cols[0]).into_iter().zip(col(cols[1])).collect()
        };
        let mut pts = read(var("GEOCELLS_SMOOTH_POINTS"), ["lon", "lat"]);
        if let Ok(n) = std::env::var("GEOCELLS_SMOOTH_N") {
            pts.truncate(n.parse().expect("N"));
        }
        let c: Vec<Option<(f64, f64)>> = read(
            var("GEOCELLS_SMOOTH_CELLS"),
            ["centroid_lon", "centroid_lat"],
        )
        .into_iter()
        .map(|(x, y)| (x.is_finite() && y.is_finite()).then_some((x, y)))
        .collect();
        let p = SmoothingParams::default();
        println!(
            "{} points, {} centroids, {} threads",
            pts.len(),
            c.len(),
            rayon::current_num_threads()
        );
        let t0 = std::time::Instant::now();
        let s = Smoother::with_options(
            &c,
            p,
            Budget {
                drop: EPS_DROP,
                taylor: EPS_TAYLOR,
            },
            None,
        )
        .expect("smoother");
        let old: Vec<_> = pts
            .par_iter()
            .with_min_len(1024)
            .map(|&(x, y)| legacy(&s, x, y))
            .collect();
        let t_old = t0.elapsed().as_secs_f64();
        println!("old (horizon tau ln 1e9 per term): {t_old:.2} s");
        // Variants: "TILE_DEG:EPS_DROP:EPS_TAYLOR", TILE_DEG 0 for the exact path only.
        let variants = std::env::var("GEOCELLS_SMOOTH_VARIANTS")
            .unwrap_or_else(|_| format!("{TILE_DEG}:{EPS_DROP}:{EPS_TAYLOR}"));
        for v in variants.split(',') {
            let f: Vec<f64> = v.split(':').map(|x| x.parse().expect("number")).collect();
            let tile = (f[0] > 0.0).then_some(f[0]);
            let t0 = std::time::Instant::now();
            let s = Smoother::with_options(
                &c,
                p,
                Budget {
                    drop: f[1],
                    taylor: f[2],
                },
                tile,
            )
            .expect("smoother");
            let new: Vec<_> = pts
                .par_iter()
                .with_min_len(1024)
                .map(|&(x, y)| s.targets(x, y))
                .collect();
            let t_new = t0.elapsed().as_secs_f64();
            let (mut tiles, mut near, mut moments) = (0usize, 0usize, 0usize);
            if let Some(field) = s.field.as_ref() {
                for t in field
                    .tiles
                    .iter()
                    .filter_map(|t| t.get().and_then(Option::as_ref))
                {
                    tiles += 1;
                    near += t.near().len();
                    moments += t.moment_count();
                }
            }
            let mut worst: f64 = 0.0;
            for (o, n) in old.iter().zip(&new) {
                assert_eq!(
                    o.iter().map(|p| p.0).collect::<Vec<_>>(),
                    n.iter().map(|p| p.0).collect::<Vec<_>>()
                );
                for (a, b) in o.iter().zip(n) {
                    worst = worst.max((a.1 - b.1).abs() / b.1);
                }
            }
            let per = |x: usize| x as f64 / tiles.max(1) as f64;
            println!(
                "new {v}: {t_new:.2} s, old/new {:.2}; {tiles} tiles built, mean near {:.1}, mean moments {:.1}; max relative difference old vs new {worst:e}",
                t_old / t_new,
                per(near),
                per(moments)
            );
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        let c = [Some((0.0, 0.0))];
        assert!(Smoother::new(&c, SmoothingParams::default().tau_km(0.0)).is_err());
        assert!(Smoother::new(&c, SmoothingParams::default().top_k(0)).is_err());
        assert_eq!(
            Smoother::new(&[None], SmoothingParams::default()).err(),
            Some(LabelsError::NoCentroids)
        );
    }
}
