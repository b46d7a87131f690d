//! Which columns of a boundary file hold the codes, names and parents of its features.
//!
//! Every attribute of a level — its code and name, the parent admin-1 code and name, the
//! country code and name — can be named in [`LevelSpec`]. Whatever is not named is detected from
//! the file's own column names, by the sources below. Matching is case-insensitive, and a name
//! longer than 10 characters also matches its first 10 characters (shapefile fields are cut to
//! 10 characters, so `country_name` is stored as `country_na`).
//!
//! | profile | country level | admin-1 level | admin-2 level |
//! | --- | --- | --- | --- |
//! | `geocells` (the shipped `data/`) | `country_code`, `country_name` | `admin1_code`, `admin1_name` + country | `admin2_code`, `admin2_name`, `admin1_code`, `admin1_name` + country |
//! | `gadm` (GADM 4.1; 3.6) | `GID_0`, `COUNTRY` (`NAME_0`) | `GID_1`, `NAME_1` + country | `GID_2`, `NAME_2`, `GID_1`, `NAME_1` + country |
//! | `geoboundaries` | `shapeGroup`, `shapeName` | `shapeISO` (else `shapeID`), `shapeName`, country `shapeGroup` | as admin-1 |
//! | `natural-earth-admin1` | `adm0_a3`, `admin` | `adm1_code`, `name`, `adm0_a3`, `admin` | — |
//! | `natural-earth-admin0` | `ADM0_A3`, `ADMIN` (`NAME`) | — | — |
//! | `tiger` (US Census TIGER/Line, cartographic boundaries) | — | `GEOID`, `NAME`; country USA | `GEOID`, `NAME`, `STATEFP` (state name `STATE_NAME` or the FIPS table); country USA |
//! | `us-atlas` (TopoJSON converted) | — | `id` (2-digit state FIPS), `name`; country USA | `id` (5-digit county FIPS), `name`; state = first 2 digits, named from the FIPS table; country USA |
//! | `id-name` (any other file with `id` and `name`, e.g. world-atlas) | `id`, `name` | `id`, `name` | `id`, `name` |
//!
//! The geocells profile also knows the shorter shapefile names `adm1_code`, `adm1_name`,
//! `adm2_code`, `adm2_name`, `cntry_code`, `cntry_name`.
//!
//! A profile applies when its code column is in the file (geoBoundaries also needs `shapeName`,
//! Natural Earth admin-1 `adm0_a3`, or `adm1_code` at the country level, TIGER `STATEFP`, `id-name` the `name` column); among those
//! that apply, the one that finds the most attributes wins, ties going to the earlier row of the
//! table. The US profiles are decided after reading: a file with `id` and `name` is `us-atlas`
//! only when every `id` is a 2- or 5-digit FIPS code of a US state or territory.
//! geoBoundaries' `shapeISO` is used only when it is non-empty and unique in every feature;
//! otherwise the codes come from `shapeID` (usually so at ADM2).
//!
//! A missing name is not an error: the name falls back to the code (and a parent's name to the
//! parent's code). A missing code column is: [`IoError::NoCodeColumn`] lists the file's columns
//! and the option to set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::json;

use crate::input::boundaries::Feature;
use crate::input::files::IoError;
use crate::input::levels::{Level, LevelSpec};

/// A source of boundary files, recognised by its column names (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// geocells' own names, as in the shipped `data/`.
    Geocells,
    /// GADM 4.1 (and 3.6).
    Gadm,
    /// geoBoundaries (gbOpen, gbHumanitarian, gbAuthoritative).
    GeoBoundaries,
    /// Natural Earth admin-1 states and provinces.
    NaturalEarthAdmin1,
    /// Natural Earth admin-0 countries.
    NaturalEarthAdmin0,
    /// US Census TIGER/Line and cartographic boundary files.
    Tiger,
    /// us-atlas (counties or states TopoJSON converted to GeoJSON or Parquet).
    UsAtlas,
    /// Any other file with `id` and `name` columns.
    IdName,
}

impl Profile {
    /// The profile's name in reports: `"geocells"`, `"gadm"`, `"geoboundaries"`,
    /// `"natural-earth-admin1"`, `"natural-earth-admin0"`, `"tiger"`, `"us-atlas"`, `"id-name"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Geocells => "geocells",
            Profile::Gadm => "gadm",
            Profile::GeoBoundaries => "geoboundaries",
            Profile::NaturalEarthAdmin1 => "natural-earth-admin1",
            Profile::NaturalEarthAdmin0 => "natural-earth-admin0",
            Profile::Tiger => "tiger",
            Profile::UsAtlas => "us-atlas",
            Profile::IdName => "id-name",
        }
    }
}

/// The profiles tried, in order of preference on ties (`UsAtlas` comes out of `IdName`).
const PROFILES: [Profile; 7] = [
    Profile::Geocells,
    Profile::Gadm,
    Profile::GeoBoundaries,
    Profile::NaturalEarthAdmin1,
    Profile::NaturalEarthAdmin0,
    Profile::Tiger,
    Profile::IdName,
];

/// Country code of the US sources.
pub const USA_CODE: &str = "USA";
/// Country name of the US sources (Natural Earth's `admin` value, as in the shipped data).
pub const USA_NAME: &str = "United States of America";

/// Where one attribute's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A column of the file (its name as spelled in the file).
    Column(String),
    /// The first `n` characters of the feature's code (us-atlas counties: the state FIPS code).
    CodePrefix(usize),
    /// The name of the US state or territory whose two-digit FIPS code is the admin-1 code, from
    /// the built-in table [`fips_state_name`].
    FipsStateName,
    /// The same value for every feature.
    Fixed(String),
}

impl Source {
    /// This attribute's value for one feature: trimmed, `None` when empty.
    fn value(
        &self,
        props: &BTreeMap<String, String>,
        code: &str,
        admin1_code: Option<&str>,
    ) -> Option<String> {
        let v = match self {
            Source::Column(c) => props.get(c).map(|s| s.trim().to_string()),
            Source::CodePrefix(n) => {
                (code.chars().count() > *n).then(|| code.chars().take(*n).collect())
            }
            Source::FipsStateName => admin1_code.and_then(fips_state_name).map(str::to_string),
            Source::Fixed(v) => Some(v.clone()),
        };
        v.filter(|s| !s.is_empty())
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Column(c) => write!(f, "column {c}"),
            Source::CodePrefix(n) => write!(f, "first {n} characters of the code"),
            Source::FipsStateName => write!(f, "US state name of the FIPS code (built-in table)"),
            Source::Fixed(v) => write!(f, "'{v}' for every feature"),
        }
    }
}

/// The values of one feature's attributes (trimmed; `None` when absent or empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Values {
    /// The feature's code (empty when the code column is empty).
    pub code: String,
    /// Its name.
    pub name: Option<String>,
    /// Its parent admin-1 code.
    pub admin1_code: Option<String>,
    /// Its parent admin-1 name.
    pub admin1_name: Option<String>,
    /// Its country code.
    pub country_code: Option<String>,
    /// Its country name.
    pub country_name: Option<String>,
}

/// The attributes of one boundary level and where each comes from: the caller's options first,
/// then the detected [`Profile`].
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// The level.
    pub level: Level,
    /// The source recognised, if any.
    pub profile: Option<Profile>,
    /// The code column.
    pub code: String,
    /// The name (`None`: the code is the name).
    pub name: Option<Source>,
    /// The parent admin-1 code (admin-2 levels).
    pub admin1_code: Option<Source>,
    /// The parent admin-1 name (`None`: the admin-1 level's name, else the admin-1 code).
    pub admin1_name: Option<Source>,
    /// The country code (`None`: the parent's, else see [`crate::input::admin`]).
    pub country_code: Option<Source>,
    /// The country name (`None`: the country level's name, else the country code).
    pub country_name: Option<Source>,
    /// The attributes the caller named (`"code"`, `"name"`, `"admin1_code"`, ...).
    pub given: Vec<&'static str>,
    /// Decisions taken after reading the values (e.g. geoBoundaries codes from `shapeID`).
    pub notes: Vec<String>,
    /// A column to take the codes from instead when the code column has empty or repeated
    /// values (geoBoundaries' `shapeID`); settled by [`Columns::settle`].
    code_fallback: Option<String>,
}

/// Candidate column names of one profile at one level; the first present one is used.
struct Candidates {
    code: &'static [&'static str],
    code_fallback: Option<&'static str>,
    /// Columns that must also be present for the profile to apply.
    requires: &'static [&'static str],
    name: &'static [&'static str],
    admin1_code: &'static [&'static str],
    admin1_name: &'static [&'static str],
    country_code: &'static [&'static str],
    country_name: &'static [&'static str],
}

const NONE: &[&str] = &[];

fn candidates(profile: Profile, level: Level) -> Option<Candidates> {
    use Level::{Admin1, Admin2, Country};
    let base = Candidates {
        code: NONE,
        code_fallback: None,
        requires: NONE,
        name: NONE,
        admin1_code: NONE,
        admin1_name: NONE,
        country_code: NONE,
        country_name: NONE,
    };
    const GC_COUNTRY_CODE: &[&str] = &["country_code", "cntry_code"];
    const GC_COUNTRY_NAME: &[&str] = &["country_name", "cntry_name"];
    const GC_ADMIN1_CODE: &[&str] = &["admin1_code", "adm1_code"];
    const GC_ADMIN1_NAME: &[&str] = &["admin1_name", "adm1_name"];
    const GADM_COUNTRY_NAME: &[&str] = &["COUNTRY", "NAME_0"];
    Some(match (profile, level) {
        (Profile::Geocells, Country) => Candidates {
            code: GC_COUNTRY_CODE,
            name: GC_COUNTRY_NAME,
            ..base
        },
        (Profile::Geocells, Admin1) => Candidates {
            code: GC_ADMIN1_CODE,
            name: GC_ADMIN1_NAME,
            country_code: GC_COUNTRY_CODE,
            country_name: GC_COUNTRY_NAME,
            ..base
        },
        (Profile::Geocells, Admin2) => Candidates {
            code: &["admin2_code", "adm2_code"],
            name: &["admin2_name", "adm2_name"],
            admin1_code: GC_ADMIN1_CODE,
            admin1_name: GC_ADMIN1_NAME,
            country_code: GC_COUNTRY_CODE,
            country_name: GC_COUNTRY_NAME,
            ..base
        },
        (Profile::Gadm, Country) => Candidates {
            code: &["GID_0"],
            name: GADM_COUNTRY_NAME,
            ..base
        },
        (Profile::Gadm, Admin1) => Candidates {
            code: &["GID_1"],
            name: &["NAME_1"],
            country_code: &["GID_0"],
            country_name: GADM_COUNTRY_NAME,
            ..base
        },
        (Profile::Gadm, Admin2) => Candidates {
            code: &["GID_2"],
            name: &["NAME_2"],
            admin1_code: &["GID_1"],
            admin1_name: &["NAME_1"],
            country_code: &["GID_0"],
            country_name: GADM_COUNTRY_NAME,
            ..base
        },
        (Profile::GeoBoundaries, Country) => Candidates {
            code: &["shapeGroup"],
            requires: &["shapeName"],
            name: &["shapeName"],
            ..base
        },
        (Profile::GeoBoundaries, Admin1 | Admin2) => Candidates {
            code: &["shapeISO", "shapeID"],
            code_fallback: Some("shapeID"),
            requires: &["shapeName"],
            name: &["shapeName"],
            country_code: &["shapeGroup"],
            ..base
        },
        (Profile::NaturalEarthAdmin1, Country) => Candidates {
            code: &["adm0_a3"],
            requires: &["adm1_code"],
            name: &["admin"],
            ..base
        },
        (Profile::NaturalEarthAdmin1, Admin1) => Candidates {
            code: &["adm1_code"],
            requires: &["adm0_a3"],
            name: &["name"],
            country_code: &["adm0_a3"],
            country_name: &["admin"],
            ..base
        },
        (Profile::NaturalEarthAdmin0, Country) => Candidates {
            code: &["ADM0_A3"],
            name: &["ADMIN", "NAME"],
            ..base
        },
        (Profile::Tiger, Admin1) => Candidates {
            code: &["GEOID"],
            requires: &["STATEFP"],
            name: &["NAME"],
            ..base
        },
        (Profile::Tiger, Admin2) => Candidates {
            code: &["GEOID"],
            requires: &["STATEFP"],
            name: &["NAME", "NAMELSAD"],
            admin1_code: &["STATEFP"],
            admin1_name: &["STATE_NAME"],
            ..base
        },
        (Profile::IdName, _) => Candidates {
            code: &["id"],
            requires: &["name"],
            name: &["name"],
            ..base
        },
        _ => return None,
    })
}

/// Finds a column by exact name, then case-insensitively, then (names longer than 10
/// characters) by its first 10 characters, as shapefile fields are cut.
pub fn find_column<'a>(columns: &'a [String], name: &str) -> Option<&'a String> {
    crate::input::files::find_column(columns, name).or_else(|| {
        let cut: String = name.chars().take(10).collect();
        (cut.len() < name.len())
            .then(|| crate::input::files::find_column(columns, &cut))
            .flatten()
    })
}

fn first_present(available: &[String], names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| find_column(available, n).cloned())
}

/// The build_cells flag that names a level's code column.
fn code_flag(level: Level) -> &'static str {
    match level {
        Level::Country => "--admin0-code-col",
        Level::Admin1 => "--admin1-code-col",
        Level::Admin2 => "--admin2-code-col",
    }
}

impl Columns {
    /// Decides the columns of a level from the caller's options in `spec` and the file's
    /// `available` column names. Parent options are ignored where the level has no such parent
    /// (admin-1 options at the country and admin-1 levels, country options at the country
    /// level).
    ///
    /// # Errors
    /// [`IoError::MissingColumn`] for a named column the file does not have;
    /// [`IoError::NoCodeColumn`] when no code column is named and none is recognised.
    pub fn detect(
        level: Level,
        spec: &LevelSpec,
        available: &[String],
    ) -> Result<Columns, IoError> {
        let path = spec.path.as_path();
        let given = |name: &Option<String>| -> Result<Option<String>, IoError> {
            name.as_ref()
                .map(|c| {
                    find_column(available, c)
                        .cloned()
                        .ok_or_else(|| IoError::MissingColumn {
                            path: path.to_path_buf(),
                            column: c.clone(),
                            available: available.join(", "),
                        })
                })
                .transpose()
        };
        let has_admin1 = level == Level::Admin2;
        let has_country = level != Level::Country;
        let user = [
            ("code", given(&spec.code_column)?),
            ("name", given(&spec.name_column)?),
            (
                "admin1_code",
                given(&spec.admin1_code_column)?.filter(|_| has_admin1),
            ),
            (
                "admin1_name",
                given(&spec.admin1_name_column)?.filter(|_| has_admin1),
            ),
            (
                "country_code",
                given(&spec.country_code_column)?.filter(|_| has_country),
            ),
            (
                "country_name",
                given(&spec.country_name_column)?.filter(|_| has_country),
            ),
        ];
        // The profile that applies and finds the most attributes.
        let mut best: Option<(usize, Profile, Candidates)> = None;
        for p in PROFILES {
            let Some(c) = candidates(p, level) else {
                continue;
            };
            if first_present(available, c.code).is_none()
                || c.requires
                    .iter()
                    .any(|r| find_column(available, r).is_none())
            {
                continue;
            }
            let found = [
                c.code,
                c.name,
                c.admin1_code,
                c.admin1_name,
                c.country_code,
                c.country_name,
            ]
            .iter()
            .filter(|names| first_present(available, names).is_some())
            .count();
            if best.as_ref().is_none_or(|(n, _, _)| found > *n) {
                best = Some((found, p, c));
            }
        }
        let profile = best.as_ref().map(|(_, p, _)| *p);
        let detected = |pick: fn(&Candidates) -> &'static [&'static str]| {
            best.as_ref()
                .and_then(|(_, _, c)| first_present(available, pick(c)))
        };
        let [
            code,
            name,
            admin1_code,
            admin1_name,
            country_code,
            country_name,
        ] = user.clone().map(|(_, v)| v);
        let code = if let Some(c) = code.or_else(|| detected(|c| c.code)) {
            c
        } else {
            let mut known: Vec<String> = Vec::new();
            for p in PROFILES {
                if let Some(c) = candidates(p, level) {
                    let label = match p {
                        Profile::IdName => "us-atlas or id-name",
                        p => p.as_str(),
                    };
                    let mut cols = c.code.join(" or ");
                    for r in c.requires {
                        cols.push_str(" + ");
                        cols.push_str(r);
                    }
                    known.push(format!("{label} ({cols})"));
                }
            }
            return Err(IoError::NoCodeColumn {
                path: path.to_path_buf(),
                level: level.as_str(),
                available: available.join(", "),
                known: known.join(", "),
                flag: code_flag(level),
            });
        };
        let column = |given: Option<String>, pick: fn(&Candidates) -> &'static [&'static str]| {
            given.or_else(|| detected(pick)).map(Source::Column)
        };
        let mut columns = Columns {
            level,
            profile,
            name: column(name, |c| c.name),
            admin1_code: column(admin1_code, |c| c.admin1_code).filter(|_| has_admin1),
            admin1_name: column(admin1_name, |c| c.admin1_name).filter(|_| has_admin1),
            country_code: column(country_code, |c| c.country_code).filter(|_| has_country),
            country_name: column(country_name, |c| c.country_name).filter(|_| has_country),
            given: user
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| *k)
                .collect(),
            notes: Vec::new(),
            code_fallback: best
                .as_ref()
                .and_then(|(_, _, c)| c.code_fallback)
                .filter(|_| spec.code_column.is_none())
                .and_then(|f| find_column(available, f).cloned())
                .filter(|f| *f != code),
            code,
        };
        if profile == Some(Profile::Tiger) {
            columns.us_defaults(spec);
        }
        if let Some((c, n)) = &spec.fixed_country
            && has_country
        {
            columns.country_code = Some(Source::Fixed(c.clone()));
            columns.country_name = Some(Source::Fixed(n.clone()));
            columns.given.retain(|g| !g.starts_with("country"));
            columns.given.extend(["country_code", "country_name"]);
        }
        Ok(columns)
    }

    /// The US sources: the state name from the FIPS table, country USA (unless given).
    fn us_defaults(&mut self, spec: &LevelSpec) {
        if self.level == Level::Admin2 && self.admin1_name.is_none() && self.admin1_code.is_some() {
            self.admin1_name = Some(Source::FipsStateName);
        }
        if spec.fixed_country.is_none()
            && spec.country_code_column.is_none()
            && spec.country_name_column.is_none()
        {
            self.country_code = Some(Source::Fixed(USA_CODE.into()));
            self.country_name = Some(Source::Fixed(USA_NAME.into()));
        }
    }

    /// The file columns to read.
    pub fn needed(&self) -> Vec<String> {
        let mut v = vec![self.code.clone()];
        v.extend(self.code_fallback.clone());
        for s in [
            &self.name,
            &self.admin1_code,
            &self.admin1_name,
            &self.country_code,
            &self.country_name,
        ]
        .into_iter()
        .flatten()
        {
            if let Source::Column(c) = s
                && !v.contains(c)
            {
                v.push(c.clone());
            }
        }
        v
    }

    /// Settles what depends on the values, once the features are read: geoBoundaries' code
    /// column, and whether an `id`/`name` file is us-atlas. `spec` tells which attributes the
    /// caller named.
    pub fn settle(&mut self, spec: &LevelSpec, features: &[Feature]) {
        if let Some(fallback) = self.code_fallback.take() {
            let mut seen = BTreeSet::new();
            let empty = features
                .iter()
                .filter(|f| f.props.get(&self.code).is_none_or(|v| v.trim().is_empty()))
                .count();
            let repeated = features
                .iter()
                .filter_map(|f| f.props.get(&self.code).map(|v| v.trim()))
                .filter(|v| !v.is_empty() && !seen.insert(*v))
                .count();
            if empty + repeated > 0 {
                self.notes.push(format!(
                    "{} is empty in {empty} and repeated in {repeated} of {} features: codes from {fallback}",
                    self.code,
                    features.len()
                ));
                self.code = fallback;
            }
        }
        if self.profile == Some(Profile::IdName) && self.level != Level::Country {
            let codes: Vec<&str> = features
                .iter()
                .map(|f| f.props.get(&self.code).map_or("", |v| v.trim()))
                .collect();
            let fips = |n: usize| {
                codes.iter().all(|c| {
                    c.len() == n
                        && c.bytes().all(|b| b.is_ascii_digit())
                        && fips_state_name(&c[..2]).is_some()
                })
            };
            let counties = fips(5);
            if counties || fips(2) {
                self.profile = Some(Profile::UsAtlas);
                if counties && self.level == Level::Admin2 && spec.admin1_code_column.is_none() {
                    self.admin1_code = Some(Source::CodePrefix(2));
                }
                self.us_defaults(spec);
            }
        }
    }

    /// One feature's values.
    pub fn values(&self, props: &BTreeMap<String, String>) -> Values {
        let code = props
            .get(&self.code)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let get = |s: &Option<Source>, admin1: Option<&str>| {
            s.as_ref().and_then(|s| s.value(props, &code, admin1))
        };
        let admin1_code = get(&self.admin1_code, None);
        Values {
            name: get(&self.name, None),
            admin1_name: get(&self.admin1_name, admin1_code.as_deref()),
            country_code: get(&self.country_code, None),
            country_name: get(&self.country_name, None),
            admin1_code,
            code,
        }
    }

    /// The choice as JSON for `report.json`: profile, each attribute's source (`null`: absent),
    /// the attributes the caller named, and notes.
    pub fn report(&self, path: &Path) -> serde_json::Value {
        let s = |s: &Option<Source>| s.as_ref().map(std::string::ToString::to_string);
        json!({
            "level": self.level.as_str(),
            "path": path.display().to_string(),
            "profile": self.profile.map(Profile::as_str),
            "code": format!("column {}", self.code),
            "name": s(&self.name),
            "admin1_code": s(&self.admin1_code),
            "admin1_name": s(&self.admin1_name),
            "country_code": s(&self.country_code),
            "country_name": s(&self.country_name),
            "given": self.given,
            "notes": self.notes,
        })
    }
}

/// The name of a US state, DC or territory from its two-digit FIPS code (as in the Census
/// Bureau's state FIPS list; territories 60, 66, 69, 72, 74, 78 included).
pub fn fips_state_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "01" => "Alabama",
        "02" => "Alaska",
        "04" => "Arizona",
        "05" => "Arkansas",
        "06" => "California",
        "08" => "Colorado",
        "09" => "Connecticut",
        "10" => "Delaware",
        "11" => "District of Columbia",
        "12" => "Florida",
        "13" => "Georgia",
        "15" => "Hawaii",
        "16" => "Idaho",
        "17" => "Illinois",
        "18" => "Indiana",
        "19" => "Iowa",
        "20" => "Kansas",
        "21" => "Kentucky",
        "22" => "Louisiana",
        "23" => "Maine",
        "24" => "Maryland",
        "25" => "Massachusetts",
        "26" => "Michigan",
        "27" => "Minnesota",
        "28" => "Mississippi",
        "29" => "Missouri",
        "30" => "Montana",
        "31" => "Nebraska",
        "32" => "Nevada",
        "33" => "New Hampshire",
        "34" => "New Jersey",
        "35" => "New Mexico",
        "36" => "New York",
        "37" => "North Carolina",
        "38" => "North Dakota",
        "39" => "Ohio",
        "40" => "Oklahoma",
        "41" => "Oregon",
        "42" => "Pennsylvania",
        "44" => "Rhode Island",
        "45" => "South Carolina",
        "46" => "South Dakota",
        "47" => "Tennessee",
        "48" => "Texas",
        "49" => "Utah",
        "50" => "Vermont",
        "51" => "Virginia",
        "53" => "Washington",
        "54" => "West Virginia",
        "55" => "Wisconsin",
        "56" => "Wyoming",
        "60" => "American Samoa",
        "66" => "Guam",
        "69" => "Northern Mariana Islands",
        "72" => "Puerto Rico",
        "74" => "United States Minor Outlying Islands",
        "78" => "United States Virgin Islands",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fips_state_name_example() {
        assert_eq!(
            crate::input::columns::fips_state_name("06"),
            Some("California")
        );
        assert_eq!(crate::input::columns::fips_state_name("03"), None);
    }

    use super::*;
    use geo_types::MultiPolygon;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(std::string::ToString::to_string).collect()
    }

    fn detect(level: Level, names: &[&str]) -> Columns {
        Columns::detect(level, &LevelSpec::new("f.shp"), &cols(names)).expect("detected")
    }

    fn column(s: &Option<Source>) -> Option<&str> {
        match s {
            Some(Source::Column(c)) => Some(c),
            _ => None,
        }
    }

    fn feature(index: usize, props: &[(&str, &str)]) -> Feature {
        Feature {
            index,
            props: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            geometry: MultiPolygon::new(vec![]),
        }
    }

    #[test]
    fn gadm_levels_and_gadm36_country_name() {
        let all = [
            "GID_0",
            "COUNTRY",
            "GID_1",
            "NAME_1",
            "NL_NAME_1",
            "GID_2",
            "NAME_2",
            "TYPE_2",
        ];
        let c = detect(Level::Admin2, &all);
        assert_eq!(c.profile, Some(Profile::Gadm));
        assert_eq!(c.code, "GID_2");
        assert_eq!(column(&c.name), Some("NAME_2"));
        assert_eq!(column(&c.admin1_code), Some("GID_1"));
        assert_eq!(column(&c.admin1_name), Some("NAME_1"));
        assert_eq!(column(&c.country_code), Some("GID_0"));
        assert_eq!(column(&c.country_name), Some("COUNTRY"));
        let c = detect(Level::Country, &["GID_0", "NAME_0"]);
        assert_eq!(
            (c.code.as_str(), column(&c.name)),
            ("GID_0", Some("NAME_0"))
        );
    }

    #[test]
    fn tiger_counties_are_in_usa_with_state_names_from_fips() {
        let c = detect(
            Level::Admin2,
            &[
                "STATEFP", "COUNTYFP", "COUNTYNS", "GEOID", "NAME", "NAMELSAD", "ALAND",
            ],
        );
        assert_eq!(c.profile, Some(Profile::Tiger));
        let v = c.values(
            &[
                ("GEOID", "06075"),
                ("NAME", "San Francisco"),
                ("STATEFP", "06"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        assert_eq!(v.code, "06075");
        assert_eq!(v.admin1_code.as_deref(), Some("06"));
        assert_eq!(v.admin1_name.as_deref(), Some("California"));
        assert_eq!(v.country_code.as_deref(), Some(USA_CODE));
        assert_eq!(v.country_name.as_deref(), Some(USA_NAME));
        // A newer file's STATE_NAME column is preferred to the table.
        let c = detect(Level::Admin2, &["STATEFP", "GEOID", "NAME", "STATE_NAME"]);
        assert_eq!(column(&c.admin1_name), Some("STATE_NAME"));
    }

    #[test]
    fn natural_earth_admin0_and_admin1_by_case_insensitive_names() {
        let c = detect(
            Level::Country,
            &["featurecla", "ADM0_A3", "ADMIN", "NAME", "ISO_A3"],
        );
        assert_eq!(c.profile, Some(Profile::NaturalEarthAdmin0));
        assert_eq!(
            (c.code.as_str(), column(&c.name)),
            ("ADM0_A3", Some("ADMIN"))
        );
        let c = detect(
            Level::Admin1,
            &["ADM1_CODE", "NAME", "ADM0_A3", "ADMIN", "ISO_3166_2"],
        );
        assert_eq!(c.profile, Some(Profile::NaturalEarthAdmin1));
        assert_eq!(c.code, "ADM1_CODE");
        assert_eq!(column(&c.country_name), Some("ADMIN"));
    }

    #[test]
    fn shapefile_cut_names_are_found() {
        let c = detect(
            Level::Admin2,
            &[
                "admin2_cod",
                "admin2_nam",
                "admin1_cod",
                "admin1_nam",
                "country_co",
                "country_na",
            ],
        );
        assert_eq!(c.profile, Some(Profile::Geocells));
        assert_eq!(c.code, "admin2_cod");
        assert_eq!(column(&c.country_name), Some("country_na"));
        // Named options are cut the same way.
        let spec = LevelSpec::new("f.shp").name_column("admin2_name");
        let c = Columns::detect(Level::Admin2, &spec, &cols(&["admin2_cod", "admin2_nam"]))
            .expect("detected");
        assert_eq!(column(&c.name), Some("admin2_nam"));
        assert_eq!(c.given, vec!["name"]);
    }

    #[test]
    fn options_win_and_the_rest_is_detected() {
        let spec = LevelSpec::new("f.geojson")
            .code_column("iso_3166_2")
            .country_name_column(Some("geonunit".into()));
        let c = Columns::detect(
            Level::Admin1,
            &spec,
            &cols(&[
                "adm1_code",
                "iso_3166_2",
                "name",
                "adm0_a3",
                "admin",
                "geonunit",
            ]),
        )
        .expect("detected");
        assert_eq!(c.profile, Some(Profile::NaturalEarthAdmin1));
        assert_eq!(c.code, "iso_3166_2");
        assert_eq!(column(&c.name), Some("name"));
        assert_eq!(column(&c.country_code), Some("adm0_a3"));
        assert_eq!(column(&c.country_name), Some("geonunit"));
        assert_eq!(c.given, vec!["code", "country_name"]);
    }

    #[test]
    fn id_name_files_are_us_atlas_only_with_fips_codes() {
        let spec = LevelSpec::new("f.geojson");
        let mut c = Columns::detect(Level::Admin2, &spec, &cols(&["id", "name"])).expect("ok");
        assert_eq!(c.profile, Some(Profile::IdName));
        c.settle(
            &spec,
            &[
                feature(0, &[("id", "44001"), ("name", "Bristol")]),
                feature(1, &[("id", "72001"), ("name", "Adjuntas")]),
            ],
        );
        assert_eq!(c.profile, Some(Profile::UsAtlas));
        let v = c.values(&feature(1, &[("id", "72001")]).props);
        assert_eq!(v.admin1_code.as_deref(), Some("72"));
        assert_eq!(v.admin1_name.as_deref(), Some("Puerto Rico"));
        assert_eq!(v.country_code.as_deref(), Some("USA"));
        // world-atlas countries: ISO numeric ids, not FIPS; a fixed country is kept.
        let spec = LevelSpec::new("f.geojson").fixed_country("FRA", "France");
        let mut c = Columns::detect(Level::Admin1, &spec, &cols(&["id", "name"])).expect("ok");
        c.settle(&spec, &[feature(0, &[("id", "250"), ("name", "France")])]);
        assert_eq!(c.profile, Some(Profile::IdName));
        assert_eq!(c.country_code, Some(Source::Fixed("FRA".into())));
        let mut c = Columns::detect(Level::Admin2, &spec, &cols(&["id", "name"])).expect("ok");
        c.settle(
            &spec,
            &[feature(0, &[("id", "44001"), ("name", "Bristol")])],
        );
        assert_eq!(c.profile, Some(Profile::UsAtlas));
        assert_eq!(c.country_code, Some(Source::Fixed("FRA".into())));
    }

    #[test]
    fn geoboundaries_keeps_shape_iso_when_complete_and_unique() {
        let spec = LevelSpec::new("f.geojson");
        let names = cols(&[
            "shapeName",
            "shapeISO",
            "shapeID",
            "shapeGroup",
            "shapeType",
        ]);
        let mut c = Columns::detect(Level::Admin1, &spec, &names).expect("ok");
        assert_eq!(
            c.needed(),
            cols(&["shapeISO", "shapeID", "shapeName", "shapeGroup"])
        );
        c.settle(
            &spec,
            &[
                feature(0, &[("shapeISO", "US-CA"), ("shapeID", "a")]),
                feature(1, &[("shapeISO", "US-NV"), ("shapeID", "b")]),
            ],
        );
        assert_eq!(c.code, "shapeISO");
        assert!(c.notes.is_empty());
        let mut c = Columns::detect(Level::Admin1, &spec, &names).expect("ok");
        c.settle(
            &spec,
            &[
                feature(0, &[("shapeISO", "X-1"), ("shapeID", "a")]),
                feature(1, &[("shapeISO", "X-1"), ("shapeID", "b")]),
            ],
        );
        assert_eq!(c.code, "shapeID");
        assert!(c.notes[0].contains("repeated in 1"), "{:?}", c.notes);
    }

    #[test]
    fn no_code_column_names_the_flag() {
        let err = Columns::detect(
            Level::Admin2,
            &LevelSpec::new("counties.shp"),
            &cols(&["FIPS", "LABEL"]),
        )
        .expect_err("no code");
        let msg = err.to_string();
        assert!(
            msg.contains("counties.shp")
                && msg.contains("FIPS, LABEL")
                && msg.contains("--admin2-code-col")
                && msg.contains("tiger (GEOID + STATEFP)")
                && msg.contains("us-atlas or id-name (id + name)"),
            "{msg}"
        );
    }
}
