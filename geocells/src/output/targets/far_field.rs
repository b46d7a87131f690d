//! The far field of the label smoothing: per tile of a fixed latitude/longitude grid, the sum
//! `F(x) = sum_c exp(-d(x, c) / tau)` over the centroids `c` that are not near the tile, as one
//! polynomial in the point's offset from the tile centre, with a rigorous bound on its error.
//!
//! # The expansion
//! With `x` and `c` unit vectors, `d(x, c) = R acos(x . c)`, so each term is `g(x . c)` with
//! `g(s) = exp(-a acos s)` and `a = R / tau`. Around a tile centre `t`, `x . c = s0 + w . c`
//! with `s0 = t . c` and `w = x - t`, and Taylor's theorem in `s` gives
//! `g(x . c) = sum_n g^(n)(s0) / n! (w . c)^n`. Summed over the centroids, with `(w . c)^n`
//! expanded by the multinomial theorem in a frame `(e1, e2, t)` at the tile centre, the far
//! field is a polynomial in `w` whose coefficients ("moments", one per monomial) are computed
//! once per tile: evaluating it costs `O(C(p + 3, 3))` per point, whatever the number of
//! centroids in the far field.
//!
//! The derivatives come from the differential equation `(1 - s^2) g'' - s g' - a^2 g = 0`
//! (`g = exp(-a theta)` with `s = cos theta`: `d^2 g / d theta^2 = a^2 g`, the Chebyshev
//! operator), differentiated `n` times by Leibniz's rule:
//! `(1 - s^2) g^(n+2) = (2n + 1) s g^(n+1) + (n^2 + a^2) g^(n)`, with `g' = a g / sqrt(1 - s^2)`.
//! For `s0 > 0` every term is positive, so the recurrence loses no digits to cancellation.
//!
//! # The error bound (Cauchy's estimate)
//! `g` is analytic off the cuts `(-inf, -1]` and `[1, inf)` of `acos`, so on any disk
//! `|z - s0| <= rho` with `rho < 1 - s0` (and `s0 > 0`) Cauchy's estimate gives
//! `|g^(n)(s0)| / n! <= M / rho^n`, `M = max |g(z)|` on the circle (Ahlfors, *Complex
//! Analysis*, 3rd ed., 4.2.3). `|g(z)| = exp(-a Re acos z)`, and `Re acos z = acos(beta)` with
//! `beta = (|z + 1| - |z - 1|) / 2` (Abramowitz and Stegun 4.4.37); `beta <= max(Re z, 0)`
//! (`|z+1|^2 - |z-1|^2 = 4 Re z` and `|z+1| + |z-1| >= 2`), so
//! `M <= exp(-a acos(s0 + rho))`. If `|w . c| <= h < rho` for every point served by the tile,
//! the terms of degree above `p` sum to at most `M (h / rho)^(p+1) / (1 - h / rho)`.
//! `h` follows from `|w| <= omega`: `w . t = -|w|^2 / 2` and the rest of `w` is orthogonal to
//! `t`, so `|w . c| <= |s0| omega^2 / 2 + omega sqrt(1 - s0^2)`.
//!
//! Each centroid gets the lowest degree `p <= P_MAX` (over a few radii `rho = kappa (1 - s0)`)
//! whose bound is within its share of the budget; a centroid that no degree fits is summed
//! exactly per point ("near"), as are the centroids that can be among the `k` nearest of a
//! point of the tile. The shares are chosen so that, for every point of the tile, the far
//! field's error relative to the normaliser `Z` is at most the Taylor budget (see
//! [`Tile::build`]).

use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::geom::geodesy::EARTH_RADIUS_KM;

/// Highest degree of the far-field polynomial.
pub(super) const P_MAX: usize = 10;

/// Radii of the Cauchy disks tried, as fractions of `1 - s0`.
const KAPPAS: [f64; 5] = [0.3, 0.5, 0.7, 0.85, 0.95];

/// One monomial `w1^i w2^j w3^k` of degree `n = i + j + k` with its multinomial coefficient
/// `n! / (i! j! k!)`, in order of degree.
#[derive(Debug, Clone, Copy)]
struct Monomial {
    n: u8,
    i: u8,
    j: u8,
    k: u8,
    multinomial: f64,
}

/// Number of monomials in three variables of degree at most `p`: `C(p + 3, 3)`.
pub(super) const fn monomials_up_to(p: usize) -> usize {
    (p + 1) * (p + 2) * (p + 3) / 6
}

fn monomials() -> Vec<Monomial> {
    let fact = |n: usize| (1..=n).map(|v| v as f64).product::<f64>();
    let mut out = Vec::with_capacity(monomials_up_to(P_MAX));
    for n in 0..=P_MAX {
        for i in (0..=n).rev() {
            for j in (0..=n - i).rev() {
                let k = n - i - j;
                out.push(Monomial {
                    n: n as u8,
                    i: i as u8,
                    j: j as u8,
                    k: k as u8,
                    multinomial: fact(n) / (fact(i) * fact(j) * fact(k)),
                });
            }
        }
    }
    out
}

pub(super) fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(super) fn chord(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Great-circle distance in km from a chord between unit vectors (the formula of the exact
/// path, so that near distances are bit-identical to it).
pub(super) fn chord_km(c: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (0.5 * c).min(1.0).asin()
}

/// Chord of a great-circle distance in km (2 for half the circumference and beyond).
pub(super) fn km_chord(d: f64) -> f64 {
    if d >= std::f64::consts::PI * EARTH_RADIUS_KM {
        2.0
    } else {
        2.0 * (d / (2.0 * EARTH_RADIUS_KM)).sin()
    }
}

/// The fixed grid: bands of `deg` degrees of latitude, each cut into columns at most `deg`
/// degrees of longitude wide at the band's edge nearest the equator.
#[derive(Debug)]
pub(super) struct Grid {
    deg: f64,
    /// First tile index of each band (one more entry: the total).
    band_start: Vec<usize>,
}

impl Grid {
    pub(super) fn new(deg: f64) -> Self {
        let bands = (180.0 / deg).ceil() as usize;
        let mut band_start = Vec::with_capacity(bands + 1);
        let mut total = 0;
        for b in 0..bands {
            band_start.push(total);
            total += Self::columns_of(deg, b);
        }
        band_start.push(total);
        Self { deg, band_start }
    }

    fn columns_of(deg: f64, band: usize) -> usize {
        let lo = -90.0 + band as f64 * deg;
        let hi = (lo + deg).min(90.0);
        let widest = if lo <= 0.0 && hi >= 0.0 {
            1.0
        } else {
            lo.abs().min(hi.abs()).to_radians().cos()
        };
        ((360.0 * widest / deg).ceil() as usize).max(1)
    }

    /// Number of tiles.
    pub(super) fn len(&self) -> usize {
        self.band_start.last().copied().unwrap_or(0)
    }

    /// The tile of a lon/lat in range (`None` outside [-180, 180] x [-90, 90] or NaN).
    pub(super) fn tile_of(&self, lon: f64, lat: f64) -> Option<usize> {
        if !((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)) {
            return None;
        }
        let bands = self.band_start.len() - 1;
        let b = (((lat + 90.0) / self.deg) as usize).min(bands - 1);
        let cols = self.band_start[b + 1] - self.band_start[b];
        let c = (((lon + 180.0) / 360.0 * cols as f64) as usize).min(cols - 1);
        Some(self.band_start[b] + c)
    }

    /// Centre (lon, lat) and corner/edge sample points of tile `idx`.
    fn geometry(&self, idx: usize) -> ((f64, f64), Vec<(f64, f64)>) {
        let b = self.band_start.partition_point(|&s| s <= idx) - 1;
        let cols = self.band_start[b + 1] - self.band_start[b];
        let c = idx - self.band_start[b];
        let lat0 = -90.0 + b as f64 * self.deg;
        let lat1 = (lat0 + self.deg).min(90.0);
        let w = 360.0 / cols as f64;
        let lon0 = -180.0 + c as f64 * w;
        let lon1 = lon0 + w;
        let centre = (0.5 * (lon0 + lon1), 0.5 * (lat0 + lat1));
        let mut samples = Vec::with_capacity(25);
        for fy in [0.0, 0.25, 0.5, 0.75, 1.0] {
            for fx in [0.0, 0.25, 0.5, 0.75, 1.0] {
                samples.push((lon0 + fx * (lon1 - lon0), lat0 + fy * (lat1 - lat0)));
            }
        }
        (centre, samples)
    }
}

/// The error budget, relative to `Z` (module docs of [`super`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    /// Bound on the mass of the centroids left out (beyond the horizon).
    pub(super) drop: f64,
    /// Bound on the error of the far-field polynomial.
    pub(super) taylor: f64,
}

/// The precomputed sums of one tile.
#[derive(Debug)]
pub(super) struct Tile {
    t: [f64; 3],
    e1: [f64; 3],
    e2: [f64; 3],
    /// Points farther than this chord from `t` are not served by the tile.
    omega: f64,
    /// Centroids summed exactly per point: unit vectors and cell ids.
    near: Vec<([f64; 3], u32)>,
    /// Coefficients of the far-field polynomial, by monomial, up to the degree needed.
    moments: Vec<f64>,
}

/// Everything a tile needs from the smoother.
pub(super) struct Sources<'a> {
    pub(super) tree: &'a RTree<GeomWithData<[f64; 3], u32>>,
    pub(super) count: usize,
    pub(super) tau: f64,
    pub(super) k: usize,
    pub(super) budget: Budget,
}

/// The tiles, built on first use.
#[derive(Debug)]
pub(super) struct FarField {
    pub(super) grid: Grid,
    pub(super) tiles: Vec<std::sync::OnceLock<Option<Tile>>>,
    monomials: Vec<Monomial>,
}

impl FarField {
    pub(super) fn new(deg: f64) -> Self {
        let grid = Grid::new(deg);
        let tiles = (0..grid.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        Self {
            grid,
            tiles,
            monomials: monomials(),
        }
    }

    /// The tile of `(lon, lat)`, built if needed (`None`: no tile; use the exact path).
    pub(super) fn tile(&self, lon: f64, lat: f64, src: &Sources<'_>) -> Option<&Tile> {
        let idx = self.grid.tile_of(lon, lat)?;
        self.tiles[idx]
            .get_or_init(|| Tile::build(&self.grid, idx, src, &self.monomials))
            .as_ref()
    }

    /// Evaluates a tile's polynomial at `w` (local coordinates).
    pub(super) fn eval(&self, tile: &Tile, w: [f64; 3]) -> f64 {
        let mut p1 = [1.0; P_MAX + 1];
        let mut p2 = [1.0; P_MAX + 1];
        let mut p3 = [1.0; P_MAX + 1];
        for n in 1..=P_MAX {
            p1[n] = p1[n - 1] * w[0];
            p2[n] = p2[n - 1] * w[1];
            p3[n] = p3[n - 1] * w[2];
        }
        tile.moments
            .iter()
            .zip(&self.monomials)
            .map(|(m, mono)| {
                m * p1[usize::from(mono.i)] * p2[usize::from(mono.j)] * p3[usize::from(mono.k)]
            })
            .sum()
    }
}

/// Lowest degree at which the Taylor remainder for a centroid with `1 - s0 = om` and
/// `|w . c| <= h` is within `delta`, with its bound; `None` if no degree up to `P_MAX` is.
/// `a = R / tau`.
fn degree_for(om: f64, h: f64, a: f64, delta: f64) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for kappa in KAPPAS {
        let rho = kappa * om;
        let q = h / rho;
        if q.is_nan() || q >= 1.0 {
            continue;
        }
        // acos(s0 + rho) = acos(1 - (1 - kappa) om) = 2 asin(sqrt((1 - kappa) om / 2)),
        // lowered by a relative 1e-12 so that M stays an upper bound under rounding.
        let theta = 2.0 * ((1.0 - kappa) * om / 2.0).sqrt().min(1.0).asin() * (1.0 - 1e-12);
        let m = (-a * theta).exp();
        let mut bound = m * q / (1.0 - q);
        for p in 0..=P_MAX {
            // bound = M q^(p+1) / (1 - q)
            if bound <= delta {
                if best.is_none_or(|(bp, bb)| p < bp || (p == bp && bound < bb)) {
                    best = Some((p, bound));
                }
                break;
            }
            bound *= q;
        }
    }
    best
}

/// `g^(n)(s0) / n!` for `n = 0..=p`, `g(s) = exp(-a acos s)`, from `1 - s0 = om`
/// (recurrence in the module docs).
fn taylor_coefficients(om: f64, a: f64, p: usize, out: &mut [f64; P_MAX + 1]) {
    let s0 = 1.0 - om;
    let one_minus_s2 = om * (2.0 - om);
    let theta = 2.0 * (om / 2.0).sqrt().min(1.0).asin();
    let mut d = [0.0; P_MAX + 2];
    d[0] = (-a * theta).exp();
    d[1] = a * d[0] / one_minus_s2.sqrt();
    for n in 0..p.saturating_sub(1) {
        let nf = n as f64;
        d[n + 2] = ((2.0 * nf + 1.0) * s0 * d[n + 1] + (nf * nf + a * a) * d[n]) / one_minus_s2;
    }
    let mut fact = 1.0;
    for (n, (o, dn)) in out.iter_mut().zip(d).take(p + 1).enumerate() {
        if n > 0 {
            fact *= n as f64;
        }
        *o = dn / fact;
    }
}

impl Tile {
    /// Builds tile `idx`. The budget split, for a point `x` of the tile (`|x - t| <= omega`,
    /// `omega_km` the matching distance):
    ///
    /// * `dmin(x) <= dmin_hi = d(t, nearest) + omega_km`;
    /// * near: every centroid within `d_k(t) + 2 omega_km` of `t` (`d_k` the `k`-th nearest
    ///   distance), so the `k` nearest of `x` (within `d_k(t) + omega_km` of `x`) are near and
    ///   the top-k lists come from exact distances, as on the exact path;
    /// * dropped: centroids beyond `D = dmin_hi + omega_km + tau ln(N / drop)` of `t` are at
    ///   least `dmin(x) + tau ln(N / drop)` from `x`: each adds below `drop / N` to `Z >= 1`;
    /// * far: each of the `m` others gets a Taylor bound of at most
    ///   `taylor exp(-dmin_hi / tau) / m` on its term `exp(-d / tau)`; `Z` multiplies the far
    ///   field by `exp(dmin(x) / tau) <= exp(dmin_hi / tau)`, so their total is at most
    ///   `taylor` relative to `Z`.
    fn build(grid: &Grid, idx: usize, src: &Sources<'_>, monos: &[Monomial]) -> Option<Tile> {
        let ((clon, clat), samples) = grid.geometry(idx);
        let t = super::unit(clon, clat);
        let omega = samples
            .iter()
            .map(|&(x, y)| chord(&super::unit(x, y), &t))
            .fold(0.0, f64::max)
            * 1.05
            + 1e-12;
        // Frame: e1 east, e2 north (any orthonormal pair orthogonal to t works).
        let (sl, cl) = clat.to_radians().sin_cos();
        let (so, co) = clon.to_radians().sin_cos();
        let e1 = [-so, co, 0.0];
        let e2 = [-sl * co, -sl * so, cl];
        let omega_km = chord_km(omega) * (1.0 + 1e-12);
        let tau = src.tau;
        let a = EARTH_RADIUS_KM / tau;
        let mut knn = src.tree.nearest_neighbor_iter(&t);
        let d1 = chord_km(chord(knn.next()?.geom(), &t));
        let dk = if src.k <= 1 {
            Some(d1)
        } else {
            knn.nth(src.k - 2).map(|c| chord_km(chord(c.geom(), &t)))
        };
        let dmin_hi = d1 + omega_km;
        let near_km = dk.map_or(f64::INFINITY, |dk| {
            (dk + 2.0 * omega_km) * (1.0 + 1e-9) + 1e-6
        });
        let drop_km = dmin_hi + omega_km + tau * (src.count as f64 / src.budget.drop).ln();
        let cand: Vec<&GeomWithData<[f64; 3], u32>> = src
            .tree
            .locate_within_distance(t, km_chord(drop_km).powi(2))
            .collect();
        let delta = src.budget.taylor * (-dmin_hi / tau).exp() / cand.len().max(1) as f64;
        let mut near = Vec::new();
        let mut moments = vec![0.0; monomials_up_to(P_MAX)];
        let mut deg = 0;
        let mut b = [0.0; P_MAX + 1];
        let (mut p1, mut p2, mut p3) = ([1.0; P_MAX + 1], [1.0; P_MAX + 1], [1.0; P_MAX + 1]);
        for c in cand {
            let v = c.geom();
            let ch = chord(v, &t);
            let d0 = chord_km(ch);
            let om = ch * ch / 2.0;
            // Far-field terms need s0 > 0 (under 10,000 km, well beyond any horizon here).
            let expand = if d0 > near_km && om < 1.0 {
                let s0 = 1.0 - om;
                let h =
                    (s0 * omega * omega / 2.0 + omega * (om * (2.0 - om)).sqrt()) * (1.0 + 1e-10);
                degree_for(om, h, a, delta)
            } else {
                None
            };
            let Some((p, _)) = expand else {
                near.push((*v, c.data));
                continue;
            };
            deg = deg.max(p);
            taylor_coefficients(om, a, p, &mut b);
            let l = [dot(v, &e1), dot(v, &e2), dot(v, &t)];
            for n in 1..=p {
                p1[n] = p1[n - 1] * l[0];
                p2[n] = p2[n - 1] * l[1];
                p3[n] = p3[n - 1] * l[2];
            }
            for (m, mono) in moments[..monomials_up_to(p)].iter_mut().zip(monos) {
                *m += b[usize::from(mono.n)]
                    * mono.multinomial
                    * p1[usize::from(mono.i)]
                    * p2[usize::from(mono.j)]
                    * p3[usize::from(mono.k)];
            }
        }
        moments.truncate(monomials_up_to(deg));
        // Keep the exact path's order of summation irrelevant: sort near by cell id.
        near.sort_by_key(|n| n.1);
        Some(Tile {
            t,
            e1,
            e2,
            omega,
            near,
            moments,
        })
    }

    /// `w = x - t` in the tile's frame, or `None` if `x` is beyond the tile's reach.
    pub(super) fn offset(&self, x: &[f64; 3]) -> Option<[f64; 3]> {
        let w = [x[0] - self.t[0], x[1] - self.t[1], x[2] - self.t[2]];
        if dot(&w, &w).sqrt() > self.omega {
            return None;
        }
        Some([dot(&w, &self.e1), dot(&w, &self.e2), dot(&w, &self.t)])
    }

    /// Number of coefficients of the far-field polynomial.
    #[cfg(test)]
    pub(super) fn moment_count(&self) -> usize {
        self.moments.len()
    }

    /// The centroids summed exactly.
    pub(super) fn near(&self) -> &[([f64; 3], u32)] {
        &self.near
    }
}
