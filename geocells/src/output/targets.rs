//! Training targets: PIGEON's haversine label smoothing, as sparse top-k lists.
//!
//! Source: Haas et al., *PIGEON: Predicting Image Geolocations* (CVPR 2024), section 3.2: the
//! target for a sample at `x` over cells `i` with centroids `c_i` is
//! `y_i = exp(-(d(x, c_i) - min_j d(x, c_j)) / tau)`, normalised to sum 1, with `d` the
//! haversine distance and `tau` = 75 km. Most of the mass sits on the few cells nearest to `x`,
//! so the targets are exported as the `k` largest weights (the `k` nearest centroids), each
//! normalised over all cells (within the horizon below); the list's sum says how much mass the
//! cells beyond the `k` nearest hold.
//!
//! The sum runs over every centroid within `min_j d(x, c_j) + tau ln(1e9)` of `x` (1,554 km for
//! tau = 75 km); each term left out is below `1e-9` of the largest.
//!
//! Complexity: per point, one nearest-neighbour and one range query in an R-tree of 3-D unit
//! vectors (chord order is great-circle order): `O(log K + m)` for the `m` centroids in range.

use rstar::RTree;
use rstar::primitives::GeomWithData;
use thiserror::Error;

use crate::geom::geodesy::EARTH_RADIUS_KM;

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

/// Cell centroids indexed for smoothing.
#[derive(Debug)]
pub struct Smoother {
    tree: RTree<GeomWithData<[f64; 3], u32>>,
    params: SmoothingParams,
}

fn unit(lon: f64, lat: f64) -> [f64; 3] {
    let (sl, cl) = lat.to_radians().sin_cos();
    let (so, co) = lon.to_radians().sin_cos();
    [cl * co, cl * so, sl]
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
            tree: RTree::bulk_load(items),
            params,
        })
    }

    /// The `k` largest smoothed weights for a sample at `(lon, lat)`, as `(cell_id, weight)`
    /// pairs, largest first (ties: lower cell id first); weights are normalised over all cells
    /// within the horizon (module docs).
    ///
    /// ```
    /// use geocells::{Smoother, SmoothingParams};
    /// let s = Smoother::new(&[Some((0.0, 0.0)), Some((1.0, 0.0))], SmoothingParams::default()).unwrap();
    /// let w = s.targets(0.0, 0.0);
    /// assert_eq!(w[0].0, 0);
    /// assert!((w[0].1 + w[1].1 - 1.0).abs() < 1e-12);
    /// ```
    pub fn targets(&self, lon: f64, lat: f64) -> Vec<(u32, f64)> {
        let tau = self.params.tau_km;
        let q = unit(lon, lat);
        // Great-circle distance from the chord between unit vectors.
        let dist = |p: &[f64; 3]| {
            let c = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
            2.0 * EARTH_RADIUS_KM * (0.5 * c).min(1.0).asin()
        };
        let Some(nearest) = self.tree.nearest_neighbor(&q) else {
            return Vec::new();
        };
        let dmin = dist(nearest.geom());
        // Terms below 1e-9 of the largest (beyond dmin + tau ln 1e9) are left out of the sum.
        let dcut = dmin + tau * 1e9f64.ln();
        let chord = if dcut >= std::f64::consts::PI * EARTH_RADIUS_KM {
            2.0
        } else {
            2.0 * (dcut / (2.0 * EARTH_RADIUS_KM)).sin()
        };
        let mut near: Vec<(f64, u32)> = Vec::new();
        let mut z = 0.0;
        for c in self.tree.locate_within_distance(q, chord * chord) {
            let d = dist(c.geom());
            z += (-(d - dmin) / tau).exp();
            near.push((d, c.data));
        }
        let order = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let k = self.params.top_k.min(near.len());
        if k < near.len() {
            near.select_nth_unstable_by(k, order);
            near.truncate(k);
        }
        near.sort_by(order);
        // A fresh vector: `near` may have thousands of slots, and collecting in place would
        // keep them all allocated for every point.
        let mut out = Vec::with_capacity(near.len());
        out.extend(
            near.iter()
                .map(|&(d, id)| (id, (-(d - dmin) / tau).exp() / z)),
        );
        out
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
