//! The parameters of a run: one [`Params`] made of the stage parameters
//! ([`AssignParams`], [`FuseParams`], [`SplitParams`], [`SmoothingParams`]) and what belongs to
//! the whole run (preset, countries, split on or off), the named presets, and
//! [`ValidParams`], what [`Params::validate`] gives: parameters that were checked once and
//! cannot be changed since.
//!
//! Every value lives in one place: MINSIZE and MAX in [`SplitParams`] (the fuse reads MINSIZE
//! from there), the OPTICS settings in [`SplitParams::optics`], `top_k` in
//! [`SmoothingParams::top_k`]. Every stage checks its own parameters with its own error;
//! [`ParamsError`] wraps them.

use thiserror::Error;

use crate::output::targets::{SmoothingParams, SmoothingParamsError};
use crate::partition::assign::{AssignParams, AssignParamsError};
use crate::partition::fuse::{FuseParams, FuseParamsError};
use crate::pipeline::report::{OpticsSetting, ParamsSection};
use crate::split::params::{
    Metric, PIGEON_SETTINGS, PIGEOTTO_SETTINGS, SplitParams, SplitParamsError,
};

/// Invalid parameters.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum ParamsError {
    /// Unknown preset name.
    #[error("unknown preset '{0}' (known: pigeon, pigeotto)")]
    UnknownPreset(String),
    /// The assignment's parameters are out of range (the snap distance).
    #[error(transparent)]
    Assign(#[from] AssignParamsError),
    /// The fuse's parameters are out of range (the distance guard).
    #[error(transparent)]
    Fuse(#[from] FuseParamsError),
    /// The split's parameters are out of range (the sizes or an OPTICS setting).
    #[error(transparent)]
    Split(#[from] SplitParamsError),
    /// The label-smoothing parameters are out of range.
    #[error(transparent)]
    Smoothing(#[from] SmoothingParamsError),
    /// `countries` is an empty list.
    #[error("countries is empty: give at least one country code or name, or none for the world")]
    NoCountries,
    /// A merge was asked of a run restricted to countries.
    #[error(
        "a merge combines per-country runs into the whole run: do not restrict it to countries"
    )]
    MergeWithCountries,
}

/// Parameters of a run. `Default` is the `pigeon` preset. Check them with
/// [`Params::validate`] (which [`crate::pipeline::run::Pipeline::new`] does).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Preset the values started from, if any (for the report; [`Params::preset_overrides`]
    /// names the preset's values changed since).
    pub preset: Option<String>,
    /// The assignment: snap distance for points on no polygon.
    pub assign: AssignParams,
    /// The fuse: its distance guard ([`FuseParams::max_km`]; `None`: no guard, as in PIGEON).
    /// MINSIZE is [`SplitParams::min_size`].
    pub fuse: FuseParams,
    /// The split: MINSIZE, MAX, OPTICS settings, metric, fallback, per-carve check.
    pub split: SplitParams,
    /// Split cells above MAX at all (off: admin cells + fuse only).
    pub split_enabled: bool,
    /// Label smoothing of the training targets (`targets.parquet`).
    pub smoothing: SmoothingParams,
    /// Restrict the run to these countries (codes or names, see
    /// `pipeline::merge::select_countries`); `None`: the whole world. Outputs of such runs
    /// combine with [`crate::pipeline::run::Pipeline::merge`].
    pub countries: Option<Vec<String>>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            preset: Some("pigeon".into()),
            assign: AssignParams::default(),
            fuse: FuseParams::default(),
            split: SplitParams::default(),
            split_enabled: true,
            smoothing: SmoothingParams::default(),
            countries: None,
        }
    }
}

impl Params {
    /// The named preset, from Haas et al., *PIGEON: Predicting Image Geolocations* (CVPR
    /// 2024) and its published `dataset_creation/geocell` code (`config.py` sizes,
    /// `cell_collection.py` OPTICS lists):
    /// * `pigeon`: MINSIZE 30, MAX 60, OPTICS [(8, 0.05), (10, 0.025), (15, 0.015)]
    ///   (street-view scale; the code's `OPTICS_PARAMS_GEOGUESSR`);
    /// * `pigeotto`: MINSIZE 1000, MAX 2000, OPTICS [(300, 0.05), (400, 0.005), (1000, 0.0001)]
    ///   (4.5M photos; `OPTICS_PARAMS_YFCC`).
    ///
    /// ```
    /// let p = geocells::Params::preset("pigeotto").unwrap();
    /// assert_eq!((p.split.min_size, p.split.max_size), (1000, 2000));
    /// assert_eq!(p.split.optics[0], (300, 0.05));
    /// assert!(geocells::Params::preset("nope").is_err());
    /// ```
    ///
    /// # Errors
    /// [`ParamsError::UnknownPreset`].
    pub fn preset(name: &str) -> Result<Self, ParamsError> {
        let (min, max, optics) = match name {
            "pigeon" => (30, 60, PIGEON_SETTINGS.to_vec()),
            "pigeotto" => (1000, 2000, PIGEOTTO_SETTINGS.to_vec()),
            other => return Err(ParamsError::UnknownPreset(other.to_string())),
        };
        let d = Self::default();
        Ok(Self {
            preset: Some(name.to_string()),
            split: d.split.min_size(min).max_size(max).optics(optics),
            ..d
        })
    }
    /// Sets MINSIZE ([`SplitParams::min_size`]; the fuse uses it too).
    #[must_use]
    pub fn min_size(mut self, v: usize) -> Self {
        self.split.min_size = v;
        self
    }
    /// Sets MAX ([`SplitParams::max_size`]).
    #[must_use]
    pub fn max_size(mut self, v: usize) -> Self {
        self.split.max_size = v;
        self
    }
    /// Sets the OPTICS settings `(min_samples, xi)` ([`SplitParams::optics`]).
    #[must_use]
    pub fn optics(mut self, v: Vec<(usize, f64)>) -> Self {
        self.split.optics = v;
        self
    }
    /// Sets the OPTICS metric.
    #[must_use]
    pub fn metric(mut self, v: Metric) -> Self {
        self.split.metric = v;
        self
    }
    /// Turns the split on or off ([`Params::split_enabled`]).
    #[must_use]
    pub fn split(mut self, v: bool) -> Self {
        self.split_enabled = v;
        self
    }
    /// Sets the semantic pass's compactness gate (`SplitParams::semantic_tolerance`).
    #[must_use]
    pub fn semantic_tolerance(mut self, v: Option<f64>) -> Self {
        self.split.semantic_tolerance = v;
        self
    }
    /// Turns the split's semantic pass on or off (`SplitParams::semantic`).
    #[must_use]
    pub fn semantic_split(mut self, v: bool) -> Self {
        self.split.semantic = v;
        self
    }
    /// Turns the MAX fallback on or off.
    #[must_use]
    pub fn fallback(mut self, v: bool) -> Self {
        self.split.fallback = v;
        self
    }
    /// Turns the per-carve invariant check on or off.
    #[must_use]
    pub fn check_each_carve(mut self, v: bool) -> Self {
        self.split.check_each_carve = v;
        self
    }
    /// Sets the snap distance in km.
    #[must_use]
    pub fn snap_km(mut self, v: f64) -> Self {
        self.assign.snap_km = v;
        self
    }
    /// Sets the fuse's distance guard in km (`None`: off, as in PIGEON).
    #[must_use]
    pub fn fuse_max_km(mut self, v: Option<f64>) -> Self {
        self.fuse.max_km = v;
        self
    }
    /// Sets the label-smoothing temperature in km (PIGEON: 75).
    #[must_use]
    pub fn tau_km(mut self, v: f64) -> Self {
        self.smoothing.tau_km = v;
        self
    }
    /// Sets how many smoothed weights are kept per point.
    #[must_use]
    pub fn top_k(mut self, v: usize) -> Self {
        self.smoothing.top_k = v;
        self
    }
    /// Sets [`Params::countries`].
    #[must_use]
    pub fn countries(mut self, v: Option<Vec<String>>) -> Self {
        self.countries = v;
        self
    }

    /// Checks the parameters: each stage's with its own check, then the run's own
    /// (`countries`).
    ///
    /// ```
    /// use geocells::{Params, ParamsError};
    /// use geocells::SplitParamsError;
    /// assert!(Params::default().validate().is_ok());
    /// assert_eq!(
    ///     Params::default().min_size(0).validate().err(),
    ///     Some(ParamsError::Split(SplitParamsError::MinSizeZero))
    /// );
    /// ```
    ///
    /// # Errors
    /// [`ParamsError`] wrapping the first stage error, or [`ParamsError::NoCountries`].
    pub fn validate(self) -> Result<ValidParams, ParamsError> {
        self.assign.validate()?;
        self.fuse.validate()?;
        self.split.validate()?;
        self.smoothing.validate()?;
        if self.countries.as_ref().is_some_and(std::vec::Vec::is_empty) {
            return Err(ParamsError::NoCountries);
        }
        Ok(ValidParams(self))
    }

    /// The fields set by [`Params::preset`] whose values differ from the named preset's, as
    /// `report.json` names them (`min_size`, `max_size`, `optics`, in that order): what was
    /// overridden after choosing the preset. Empty without a preset or for a preset name
    /// [`Params::preset`] does not know.
    ///
    /// ```
    /// use geocells::Params;
    /// assert!(Params::default().preset_overrides().is_empty());
    /// assert_eq!(Params::default().max_size(100).preset_overrides(), ["max_size"]);
    /// // Setting a preset's own value is no override.
    /// assert!(Params::default().min_size(30).preset_overrides().is_empty());
    /// ```
    pub fn preset_overrides(&self) -> Vec<&'static str> {
        let Some(preset) = self.preset.as_deref().and_then(|n| Self::preset(n).ok()) else {
            return Vec::new();
        };
        [
            ("min_size", self.split.min_size != preset.split.min_size),
            ("max_size", self.split.max_size != preset.split.max_size),
            ("optics", self.split.optics != preset.split.optics),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }

    /// The parameters as `report.json` shows them (its `params` section).
    /// `preset_overrides` (see [`Params::preset_overrides`]) is there only when a preset's
    /// value was overridden.
    pub fn report_section(&self) -> ParamsSection {
        let s = &self.split;
        ParamsSection {
            countries: self.countries.clone(),
            fallback: s.fallback,
            fuse_max_km: self.fuse.max_km,
            max_size: s.max_size,
            metric: crate::pipeline::report::metric_name(s.metric),
            min_size: s.min_size,
            optics: s
                .optics
                .iter()
                .map(|&(min_samples, xi)| OpticsSetting { min_samples, xi })
                .collect(),
            preset: self.preset.clone(),
            preset_overrides: self
                .preset_overrides()
                .into_iter()
                .map(str::to_string)
                .collect(),
            semantic: s.semantic,
            semantic_tolerance: s.semantic_tolerance,
            snap_km: self.assign.snap_km,
            split: self.split_enabled,
            tau_km: self.smoothing.tau_km,
            top_k: self.smoothing.top_k,
        }
    }
}

/// [`Params`] that passed [`Params::validate`]: the only way to make one, and read-only since,
/// so every stage receives parameters that were checked once.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidParams(Params);

impl ValidParams {
    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.0
    }
    /// The parameters, to change them (and validate them again).
    pub fn into_params(self) -> Params {
        self.0
    }
    /// The assignment's parameters.
    pub fn assign(&self) -> &AssignParams {
        &self.0.assign
    }
    /// The fuse's parameters.
    pub fn fuse(&self) -> &FuseParams {
        &self.0.fuse
    }
    /// The split's parameters.
    pub fn split(&self) -> &SplitParams {
        &self.0.split
    }
    /// Whether cells above MAX are split at all.
    pub fn split_enabled(&self) -> bool {
        self.0.split_enabled
    }
    /// The label smoothing's parameters.
    pub fn smoothing(&self) -> &SmoothingParams {
        &self.0.smoothing
    }
    /// The countries the run is restricted to (`None`: the whole world).
    pub fn countries(&self) -> Option<&[String]> {
        self.0.countries.as_deref()
    }
    /// MINSIZE ([`SplitParams::min_size`]).
    pub fn min_size(&self) -> usize {
        self.0.split.min_size
    }
    /// MAX ([`SplitParams::max_size`]).
    pub fn max_size(&self) -> usize {
        self.0.split.max_size
    }
    /// [`Params::report_section`].
    pub fn report_section(&self) -> ParamsSection {
        self.0.report_section()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_stage_is_refused_once_with_its_own_message() {
        let cases: [(Params, &str); 5] = [
            (Params::default().min_size(0), "min_size must be at least 1"),
            (
                Params::default().max_size(59),
                "max_size (59) must be at least twice min_size (30)",
            ),
            (
                Params::default().snap_km(-1.0),
                "snap_km must be a number from 0 to 20015",
            ),
            (
                Params::default().fuse_max_km(Some(0.0)),
                "fuse_max_km must be a number above 0",
            ),
            (Params::default().top_k(0), "top_k from 1 to 1000 (got 0)"),
        ];
        for (p, says) in cases {
            let e = p.validate().expect_err(says);
            let msg = e.to_string();
            assert!(msg.contains(says), "{msg}");
            // One check, one message: the stage's text, not repeated or prefixed.
            assert_eq!(msg.matches(says).count(), 1, "{msg}");
        }
        assert!(matches!(
            Params::default().optics(vec![(1, 0.05)]).validate(),
            Err(ParamsError::Split(SplitParamsError::BadSetting {
                index: 1,
                ..
            }))
        ));
        assert_eq!(
            Params::default().countries(Some(vec![])).validate().err(),
            Some(ParamsError::NoCountries)
        );
        let v = Params::default().max_size(100).validate().expect("valid");
        assert_eq!((v.min_size(), v.max_size()), (30, 100));
        assert_eq!(
            v.report_section(),
            Params::default().max_size(100).report_section()
        );
    }
}
