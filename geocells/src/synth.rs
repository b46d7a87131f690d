//! A seeded generator of realistic point sets: points scattered around real places, each place
//! drawn with probability proportional to its weight (population), offsets Gaussian in km.
//!
//! The random number generator is SplitMix64 (Steele, Lea, Flood: *Fast splittable
//! pseudorandom number generators*, OOPSLA 2014): the same seed gives the same points on every
//! machine. Complexity `O(m + n log m)` for `m` places and `n` points.

use crate::geom::geodesy::KM_PER_DEG;

/// SplitMix64: a small, fast, seedable generator.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Standard normal (Box-Muller).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(f64::MIN_POSITIVE);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Scatters `n` points around `places` (lon, lat, weight): a place is drawn with probability
/// proportional to its weight, then the point is offset by a Gaussian of `sigma_km` in each
/// direction (latitudes clamped to ±90, longitudes wrapped).
///
/// ```
/// let places = [(2.35, 48.85, 2.1e6), (-0.13, 51.5, 8.9e6)];
/// let a = geocells::algorithms::scatter(&places, 1000, 7, 5.0);
/// let b = geocells::algorithms::scatter(&places, 1000, 7, 5.0);
/// assert_eq!(a, b);
/// assert_eq!(a.len(), 1000);
/// ```
pub fn scatter(places: &[(f64, f64, f64)], n: usize, seed: u64, sigma_km: f64) -> Vec<(f64, f64)> {
    let mut cum = Vec::with_capacity(places.len());
    let mut total = 0.0;
    for p in places {
        total += p.2.max(0.0);
        cum.push(total);
    }
    if places.is_empty() || total <= 0.0 {
        return Vec::new();
    }
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let r = rng.next_f64() * total;
            let i = cum.partition_point(|&c| c <= r).min(places.len() - 1);
            let (lon, lat, _) = places[i];
            let dy = rng.next_normal() * sigma_km / KM_PER_DEG;
            let dx = rng.next_normal() * sigma_km / (KM_PER_DEG * lat.to_radians().cos().max(0.01));
            let mut x = lon + dx;
            if x > 180.0 {
                x -= 360.0;
            } else if x < -180.0 {
                x += 360.0;
            }
            (x, (lat + dy).clamp(-90.0, 90.0))
        })
        .collect()
}

/// Places `(lon, lat, weight)` from a GeoNames-style Parquet file with `lon`, `lat` and
/// `population` columns (the shipped `data/geonames_cities1000.parquet`). The weight is
/// `population^power` (at least 1 before the power): `power = 1` concentrates points in big
/// cities as photo collections are, `power = 0` weights every place alike.
///
/// # Errors
/// [`crate::input::files::IoError`] when the file cannot be read or lacks a column.
pub fn geonames_places(
    path: &std::path::Path,
    power: f64,
) -> Result<Vec<(f64, f64, f64)>, crate::input::files::IoError> {
    let cols: Vec<String> = ["lon", "lat", "population"]
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let df = crate::input::files::read_parquet_columns(path, &cols)?;
    let column = |name: &str| -> Result<Vec<f64>, crate::input::files::IoError> {
        let missing = || crate::input::files::IoError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: "lon, lat, population".into(),
        };
        let s = df.column(name).map_err(|_| missing())?;
        let s = s
            .cast(&polars::prelude::DataType::Float64)
            .map_err(|_| missing())?;
        let ca = s.f64().map_err(|_| missing())?;
        Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let (lon, lat, pop) = (column("lon")?, column("lat")?, column("population")?);
    Ok(lon
        .into_iter()
        .zip(lat)
        .zip(pop)
        .filter(|((x, y), _)| x.is_finite() && y.is_finite())
        .map(|((x, y), p)| (x, y, p.max(1.0).powf(power)))
        .collect())
}
