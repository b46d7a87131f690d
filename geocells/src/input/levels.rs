//! Admin levels and the boundaries a run reads for them: [`Level`], [`LevelSpec`] (one file and
//! its columns, or polygons held in memory, [`BoundaryFeature`]) and [`BoundarySpec`] (the levels
//! of a run).

use std::path::PathBuf;
use std::sync::Arc;

use geo_types::MultiPolygon;

/// The `path` of a level given in memory ([`LevelSpec::polygons`]): messages and the report name
/// it in place of a file.
pub const MEMORY_BOUNDARIES: &str = "in-memory boundaries";

/// One boundary feature held in memory: its polygons, code, name and parent codes, the
/// attributes a file's columns would give. It goes through the same build as a file's feature
/// (repair, antimeridian cut, merge of shared codes, overlaps).
///
/// ```
/// use geo::wkt;
/// use geocells::BoundaryFeature;
/// let f = BoundaryFeature::new("BE-VLG", wkt!(POLYGON((3. 51., 5. 51., 5. 51.5, 3. 51.5, 3. 51.))))
///     .name("Flanders")
///     .country("BEL", "Belgium");
/// assert_eq!(f.country_code.as_deref(), Some("BEL"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFeature {
    /// Its code (features of one level sharing a code are merged into one area).
    pub code: String,
    /// Its name (`None`: the code).
    pub name: Option<String>,
    /// The admin-1 code of its parent (admin-2 features).
    pub admin1_code: Option<String>,
    /// The admin-1 name of its parent (admin-2 features; used without an admin-1 level).
    pub admin1_name: Option<String>,
    /// Its country code (admin-1 and admin-2 features).
    pub country_code: Option<String>,
    /// Its country name (used without a country level).
    pub country_name: Option<String>,
    /// Its polygons, lon/lat degrees.
    pub geometry: MultiPolygon<f64>,
}

impl BoundaryFeature {
    /// A feature with a code and polygons (a `Polygon` or a `MultiPolygon`), no name or parents.
    pub fn new(code: impl Into<String>, geometry: impl Into<MultiPolygon<f64>>) -> Self {
        Self {
            code: code.into(),
            name: None,
            admin1_code: None,
            admin1_name: None,
            country_code: None,
            country_name: None,
            geometry: geometry.into(),
        }
    }
    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Sets the parent admin-1 code and name (admin-2 features).
    #[must_use]
    pub fn admin1(mut self, code: impl Into<String>, name: impl Into<String>) -> Self {
        self.admin1_code = Some(code.into());
        self.admin1_name = Some(name.into());
        self
    }
    /// Sets the country code and name (admin-1 and admin-2 features).
    #[must_use]
    pub fn country(mut self, code: impl Into<String>, name: impl Into<String>) -> Self {
        self.country_code = Some(code.into());
        self.country_name = Some(name.into());
        self
    }
}

/// An admin level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Countries (admin-0).
    Country = 0,
    /// First-level subdivisions (states, provinces).
    Admin1 = 1,
    /// Second-level subdivisions (counties, districts).
    Admin2 = 2,
}

impl Level {
    /// `"country"`, `"admin1"` or `"admin2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Country => "country",
            Level::Admin1 => "admin1",
            Level::Admin2 => "admin2",
        }
    }
}

/// One boundary file and the columns that hold its codes and names, or boundary features held
/// in memory ([`LevelSpec::polygons`]).
///
/// Every column is optional: `None` means detected from the file's own column names (GADM,
/// geoBoundaries, Natural Earth, US Census TIGER, us-atlas and geocells' names are known; see
/// `input::columns`). Only the code is required; a missing name falls back to the code.
/// Parent columns a level cannot have are ignored (admin-1 columns of a country or admin-1
/// file, country columns of a country file).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LevelSpec {
    /// The file (GeoParquet, GeoJSON or Shapefile).
    pub path: PathBuf,
    /// Column with the feature's own code (unique per area; rows sharing a code are merged and
    /// reported in [`crate::input::admin::AdminNotes::duplicate_codes`]).
    pub code_column: Option<String>,
    /// Column with the feature's name.
    pub name_column: Option<String>,
    /// Column with the admin-1 code of the parent (admin-2 files).
    pub admin1_code_column: Option<String>,
    /// Column with the admin-1 name of the parent (admin-2 files; used when the admin-1 level
    /// is not given).
    pub admin1_name_column: Option<String>,
    /// Column with the country code (admin-1 and admin-2 files).
    pub country_code_column: Option<String>,
    /// Column with the country name (used when the country level is not given).
    pub country_name_column: Option<String>,
    /// Country code and name of every feature of the file, in place of any country column.
    pub fixed_country: Option<(String, String)>,
    /// Features held in memory, read in place of a file (`path` is then
    /// `MEMORY_BOUNDARIES` and the column options are ignored, `fixed_country` excepted).
    pub features: Option<Arc<[BoundaryFeature]>>,
}

impl LevelSpec {
    /// A boundary file whose columns are all detected.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }
    /// A level given as features held in memory (geo-types polygons with their codes, names
    /// and parent codes), in place of a file; put it in a [`BoundarySpec`] field like a file's.
    pub fn polygons(features: impl IntoIterator<Item = BoundaryFeature>) -> Self {
        Self {
            path: PathBuf::from(MEMORY_BOUNDARIES),
            features: Some(features.into_iter().collect()),
            ..Self::default()
        }
    }
    /// A country file; the same as [`LevelSpec::new`] (the level is the [`BoundarySpec`] field
    /// it goes in).
    pub fn country(path: impl Into<PathBuf>) -> Self {
        Self::new(path)
    }
    /// An admin-1 file; the same as [`LevelSpec::new`].
    pub fn admin1(path: impl Into<PathBuf>) -> Self {
        Self::new(path)
    }
    /// An admin-2 file; the same as [`LevelSpec::new`].
    pub fn admin2(path: impl Into<PathBuf>) -> Self {
        Self::new(path)
    }
    /// Sets the code column.
    #[must_use]
    pub fn code_column(mut self, c: impl Into<String>) -> Self {
        self.code_column = Some(c.into());
        self
    }
    /// Sets the name column.
    #[must_use]
    pub fn name_column(mut self, c: impl Into<String>) -> Self {
        self.name_column = Some(c.into());
        self
    }
    /// Sets the parent admin-1 code column (`None`: detect).
    #[must_use]
    pub fn admin1_code_column(mut self, c: Option<String>) -> Self {
        self.admin1_code_column = c;
        self
    }
    /// Sets the parent admin-1 name column (`None`: detect).
    #[must_use]
    pub fn admin1_name_column(mut self, c: Option<String>) -> Self {
        self.admin1_name_column = c;
        self
    }
    /// Sets the country code column (`None`: detect).
    #[must_use]
    pub fn country_code_column(mut self, c: Option<String>) -> Self {
        self.country_code_column = c;
        self
    }
    /// Sets the country name column (`None`: detect).
    #[must_use]
    pub fn country_name_column(mut self, c: Option<String>) -> Self {
        self.country_name_column = c;
        self
    }
    /// Puts every feature of the file in one country (code, name), whatever its columns say.
    #[must_use]
    pub fn fixed_country(mut self, code: impl Into<String>, name: impl Into<String>) -> Self {
        self.fixed_country = Some((code.into(), name.into()));
        self
    }
}

/// The boundary levels a run uses; any non-empty subset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundarySpec {
    /// Countries.
    pub country: Option<LevelSpec>,
    /// Admin-1.
    pub admin1: Option<LevelSpec>,
    /// Admin-2.
    pub admin2: Option<LevelSpec>,
}
