//! The split stage's parameters and errors: [`SplitParams`] (MINSIZE, MAX, the OPTICS settings
//! and their [`Metric`]) and [`SplitError`]. The stage itself starts at
//! [`crate::split::driver::split_cells`].

use serde::Serialize;
use thiserror::Error;

use crate::split::optics::OpticsError;
use crate::split::voronoi::VoronoiError;

/// Invalid [`SplitParams`].
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum SplitParamsError {
    /// `min_size` is zero.
    #[error("min_size must be at least 1")]
    MinSizeZero,
    /// `max_size` is below twice `min_size`, so no cell could be split into two valid halves.
    #[error(
        "max_size ({max}) must be at least twice min_size ({min}) so that an oversized cell can be split into two cells of at least min_size"
    )]
    MaxTooSmall {
        /// min_size.
        min: usize,
        /// max_size.
        max: usize,
    },
    /// An OPTICS setting is out of range.
    #[error(
        "OPTICS setting {index} (min_samples {min_samples}, xi {xi}) is invalid: min_samples must be at least 2 and xi in (0, 1)"
    )]
    BadSetting {
        /// Position in the list, from 1.
        index: usize,
        /// min_samples given.
        min_samples: usize,
        /// xi given.
        xi: f64,
    },
    /// The semantic tolerance is negative or not a number.
    #[error(
        "semantic tolerance {0} is invalid: it must be a number of at least 0 (how much more spread than straight cuts a density division may be, e.g. 1 for twice)"
    )]
    BadTolerance(f64),
}

/// Errors of the split stage.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum SplitError {
    /// The parameters are out of range (an OPTICS setting, or the sizes).
    #[error(transparent)]
    Params(#[from] SplitParamsError),
    /// The caller's [`crate::Progress::cancelled`] said stop.
    #[error("cancelled")]
    Cancelled,
    /// OPTICS failed on a cell's points.
    #[error("clustering the points of cell '{cell}': {source}")]
    Optics {
        /// Cell name.
        cell: String,
        /// The OPTICS error.
        #[source]
        source: OpticsError,
    },
    /// The Voronoi carve failed.
    #[error("carving cell '{cell}': {source}")]
    Voronoi {
        /// Cell name.
        cell: String,
        /// The Voronoi error.
        #[source]
        source: VoronoiError,
    },
    /// With [`SplitParams::check_each_carve`]: a carve broke the partition's invariants.
    #[error("carve {carve} in family {family} ('{cell}') broke the partition: {detail}")]
    CarveCheck {
        /// Family (admin cell) index.
        family: u32,
        /// Cell name.
        cell: String,
        /// Carves made in the family so far.
        carve: usize,
        /// What failed.
        detail: String,
    },
}

/// The distance OPTICS clusters with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Chord distance on the sphere in km ([`crate::split::optics::optics_sphere`]): right at every
    /// latitude and across the antimeridian. The default.
    #[default]
    Sphere,
    /// Euclidean distance on raw lon/lat degrees, as PIGEON calls scikit-learn; for comparisons.
    Degrees,
}

/// OPTICS settings of PIGEON's street-view geocells (`OPTICS_PARAMS_GEOGUESSR` in PIGEON's
/// `cell_collection.py`): `(min_samples, xi)`.
pub const PIGEON_SETTINGS: [(usize, f64); 3] = [(8, 0.05), (10, 0.025), (15, 0.015)];

/// OPTICS settings of PIGEOTTO's photo geocells (`OPTICS_PARAMS_YFCC`, the list PIGEON's
/// published code always uses).
pub const PIGEOTTO_SETTINGS: [(usize, f64); 3] = [(300, 0.05), (400, 0.005), (1000, 0.0001)];

/// Parameters of the split. `Default` is the `pigeon` preset (MINSIZE 30, MAX 60,
/// [`PIGEON_SETTINGS`], sphere metric, fallback on).
///
/// MINSIZE and MAX live here only: the fuse takes MINSIZE from here
/// (`partition::fuse::plan_cells_with`).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitParams {
    /// MINSIZE: neither side of a carve may hold fewer points; the fuse fuses cells below it.
    pub min_size: usize,
    /// MAX: cells above this are split.
    pub max_size: usize,
    /// OPTICS settings `(min_samples, xi)`, applied in order.
    pub optics: Vec<(usize, f64)>,
    /// OPTICS distance.
    pub metric: Metric,
    /// Split what the settings leave above MAX (straight cuts, then an exact division).
    pub fallback: bool,
    /// Check the family's invariants after every carve (slow; for tests and debugging).
    pub check_each_carve: bool,
    /// Semantic mode: every OPTICS run carves all its disjoint xi clusters that fit (largest
    /// first) instead of the largest only, and a pass before the fallback divides the cells
    /// the settings leave above MAX by the density tree of the last setting's run
    /// (`split::density::density_tree`). Off: PIGEON's rule only, then the fallback.
    pub semantic: bool,
    /// The compactness gate of the semantic pass: a density-tree division is taken only when
    /// the squared distances of its pieces to their centroids sum to at most `1 + t` times
    /// those of straight cuts of the same points (`split::density::straight_cuts_sse`);
    /// otherwise the cell goes to the fallback. `None`: no gate. The trade-off between the
    /// share of geometric carves and the cells' spread is measured in docs/split.md.
    pub semantic_tolerance: Option<f64>,
}

impl Default for SplitParams {
    fn default() -> Self {
        Self {
            min_size: 30,
            max_size: 60,
            optics: PIGEON_SETTINGS.to_vec(),
            metric: Metric::Sphere,
            fallback: true,
            check_each_carve: false,
            semantic: false,
            semantic_tolerance: None,
        }
    }
}

impl SplitParams {
    /// Sets MINSIZE.
    #[must_use]
    pub fn min_size(mut self, v: usize) -> Self {
        self.min_size = v;
        self
    }
    /// Sets MAX.
    #[must_use]
    pub fn max_size(mut self, v: usize) -> Self {
        self.max_size = v;
        self
    }
    /// Sets the OPTICS settings `(min_samples, xi)`.
    #[must_use]
    pub fn optics(mut self, v: Vec<(usize, f64)>) -> Self {
        self.optics = v;
        self
    }
    /// Sets the metric.
    #[must_use]
    pub fn metric(mut self, v: Metric) -> Self {
        self.metric = v;
        self
    }
    /// Turns the MAX fallback on or off.
    #[must_use]
    pub fn fallback(mut self, v: bool) -> Self {
        self.fallback = v;
        self
    }
    /// Turns the semantic pass on or off.
    #[must_use]
    pub fn semantic(mut self, v: bool) -> Self {
        self.semantic = v;
        self
    }
    /// Sets the semantic pass's compactness gate (`None`: none).
    #[must_use]
    pub fn semantic_tolerance(mut self, v: Option<f64>) -> Self {
        self.semantic_tolerance = v;
        self
    }
    /// Turns the per-carve check on or off.
    #[must_use]
    pub fn check_each_carve(mut self, v: bool) -> Self {
        self.check_each_carve = v;
        self
    }

    /// Checks the sizes and the OPTICS settings.
    ///
    /// ```
    /// use geocells::SplitParams;
    /// assert!(SplitParams::default().validate().is_ok());
    /// assert!(SplitParams::default().optics(vec![(1, 0.05)]).validate().is_err());
    /// assert!(SplitParams::default().min_size(40).validate().is_err());
    /// assert!(SplitParams::default().semantic_tolerance(Some(-0.5)).validate().is_err());
    /// assert!(SplitParams::default().semantic_tolerance(Some(f64::NAN)).validate().is_err());
    /// assert!(SplitParams::default().semantic_tolerance(Some(1.0)).validate().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`SplitParamsError::MinSizeZero`], [`SplitParamsError::MaxTooSmall`], or
    /// [`SplitParamsError::BadSetting`] naming the first bad setting, or
    /// [`SplitParamsError::BadTolerance`].
    pub fn validate(&self) -> Result<(), SplitParamsError> {
        if let Some(t) = self.semantic_tolerance
            && (t.is_nan() || t < 0.0)
        {
            return Err(SplitParamsError::BadTolerance(t));
        }
        if self.min_size == 0 {
            return Err(SplitParamsError::MinSizeZero);
        }
        if self.max_size < self.min_size.saturating_mul(2) {
            return Err(SplitParamsError::MaxTooSmall {
                min: self.min_size,
                max: self.max_size,
            });
        }
        for (i, &(m, xi)) in self.optics.iter().enumerate() {
            if m < 2 || !(xi > 0.0 && xi < 1.0) {
                return Err(SplitParamsError::BadSetting {
                    index: i + 1,
                    min_samples: m,
                    xi,
                });
            }
        }
        Ok(())
    }
}
