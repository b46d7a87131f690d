//! Admin areas: the finest available level of the boundaries the user supplied.
//!
//! The user gives one to three levels (country, admin-1, admin-2), each a polygon file whose
//! features carry a code and a name, and, below the country level, the codes of their parents.
//! The areas that cells are built from are the *finest* features: every admin-2 feature, every
//! admin-1 feature with no admin-2 children, and every country with no admin-1 children. So a
//! world admin-1 file plus a US county file gives counties in the US and admin-1 areas elsewhere.
//!
//! Which columns hold the codes, names and parents is set per level in [`LevelSpec`] or
//! detected from the file's column names ([`crate::input::columns`]: GADM, geoBoundaries, Natural
//! Earth, US Census TIGER, us-atlas, and geocells' own names). A missing name falls back to the
//! code, a missing parent name to the parent's code. When a parent level is given, a feature
//! whose file names no parent, or a parent code that level does not have (us-atlas' state FIPS
//! codes under Natural Earth admin-1), gets the parent area that holds its interior point
//! ([`AdminNotes::parents_by_location`]), so parents are replaced by their children and nothing
//! overlaps. An area's country is, in order: its country column (or
//! [`LevelSpec::fixed_country`]; a country name column alone serves as the code too), its
//! admin-1 parent's country, and otherwise the placeholder
//! [`UNKNOWN_COUNTRY_CODE`] (`XXX`, "Unknown country"), shared by every area without a country so
//! that their cells can still fuse with one another (cells never fuse across countries). The US
//! sources (TIGER, us-atlas) are in `USA`. An admin-2 area without a parent column is its own
//! admin-1 area.
//!
//! Each area's geometry is cleaned once, here:
//! * features that share a code are merged into one area (multi-row countries are common),
//!   their polygons dissolved with [`crate::geom::overlay::union`] where they touch or overlap; each
//!   such code is listed in [`AdminNotes::duplicate_codes`] with the names seen;
//! * rings that cross the antimeridian (consecutive longitudes more than 180 degrees apart, not
//!   both on the ±180 map edge) are unwrapped, cut at 180 and wrapped back, so every area lies in
//!   `[-180, 180]`;
//! * invalid polygons (self-intersections, bow-ties) are repaired with geo's `MakeValid` (the
//!   prepair method: a constrained Delaunay triangulation of the rings, keeping the triangles
//!   inside by the odd-even rule), falling back to an i_overlay self-union;
//! * rings are oriented counter-clockwise (holes clockwise), as RFC 7946 wants.
//!
//! Every repair is listed in [`AdminNotes`], which the report carries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use geo::Area as _;
use geo_types::MultiPolygon;
use rstar::RTree;
use thiserror::Error;

use crate::geom::repair::{clean_geometry, is_valid_fast, orient};
use crate::input::area::{Area, UNKNOWN_COUNTRY_CODE, UNKNOWN_COUNTRY_NAME};
use crate::input::boundaries::{BoundaryFile, Feature, read_boundaries_with};
use crate::input::columns::Columns;
use crate::input::files::IoError;
use crate::input::levels::{BoundaryFeature, BoundarySpec, Level, LevelSpec};

/// Errors while building admin areas.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No boundary level was given.
    #[error("no boundary file given: at least one level (country, admin-1 or admin-2) is needed")]
    NoLevels,
    /// A feature has an empty code.
    #[error("{path}: feature {feature}: empty value in code column '{column}'")]
    EmptyCode {
        /// The file.
        path: PathBuf,
        /// The feature index.
        feature: usize,
        /// The code column.
        column: String,
    },
    /// No area with a polygon of non-zero area is left.
    #[error("no admin area with a non-empty polygon in the boundary files")]
    NoAreas,
    /// Reading a boundary file failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Features of one file that share a code: they were merged into one area (their polygons
/// dissolved), which keeps the first feature's name.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateCode {
    /// The level.
    pub level: Level,
    /// The file.
    pub path: PathBuf,
    /// The shared code.
    pub code: String,
    /// The features' zero-based indices in the file.
    pub features: Vec<usize>,
    /// The distinct names seen, in file order (the first is the area's).
    pub names: Vec<String>,
}

/// What was repaired or dropped while building areas; each entry names file and feature.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminNotes {
    /// Codes shared by several features of one file (merged into one area).
    pub duplicate_codes: Vec<DuplicateCode>,
    /// Files whose features got the placeholder country [`UNKNOWN_COUNTRY_CODE`]: no country
    /// column, no country level, no parent with a country.
    pub unknown_country: Vec<String>,
    /// Invalid polygons repaired.
    pub repaired: Vec<String>,
    /// Polygons cut at the antimeridian.
    pub antimeridian_split: Vec<String>,
    /// Features dropped because their polygons have no area.
    pub dropped_empty: Vec<String>,
    /// Parent areas replaced by their children (admin-1 by admin-2, country by admin-1).
    pub replaced_parents: usize,
    /// Overlaps between areas, resolved: each shared part stays with one area
    /// (`input::topology::resolve_overlaps`).
    pub overlaps: Vec<crate::input::topology::Overlap>,
    /// Land between areas that no area covers (`input::topology::measure_gaps`).
    pub gaps: crate::input::topology::GapSummary,
    /// Parent codes found by location: areas whose file names no parent (country, or admin-1
    /// for admin-2) got the area of the parent level that holds their interior point.
    pub parents_by_location: usize,
    /// Areas whose parent was looked for by location but that no parent area holds; they keep
    /// the parent code their file gives, if any.
    pub parents_not_located: Vec<String>,
    /// Warnings of the boundary readers, each naming its file (e.g. a shapefile without `.prj`
    /// read as lon/lat): `report.json`'s top-level `warnings`.
    pub warnings: Vec<String>,
}

/// The finest admin areas, sorted by (country code, admin-1 code, code).
#[derive(Debug, Clone)]
pub struct AdminAreas {
    /// The areas.
    pub areas: Vec<Area>,
    /// Repairs and drops.
    pub notes: AdminNotes,
    /// Input files, by level, for the report.
    pub files: Vec<(Level, PathBuf)>,
    /// The columns used for each level (same order as `files`).
    pub columns: Vec<Columns>,
}

struct RawArea {
    code: String,
    name: String,
    admin1_code: Option<String>,
    admin1_name: Option<String>,
    country_code: Option<String>,
    country_name: Option<String>,
    geometry: MultiPolygon<f64>,
}

fn read_level(
    level: Level,
    spec: &LevelSpec,
    notes: &mut AdminNotes,
) -> Result<(Vec<RawArea>, Columns), AdminError> {
    let mut columns: Option<Columns> = None;
    let memory_spec;
    let (spec, file) = match &spec.features {
        Some(features) => {
            let (s, file) = memory_level(spec, features)?;
            columns = Some(Columns::detect(level, &s, &file.columns)?);
            memory_spec = s;
            (&memory_spec, file)
        }
        None => (
            spec,
            read_boundaries_with(&spec.path, |available| {
                let c = Columns::detect(level, spec, available)?;
                let needed = c.needed();
                columns = Some(c);
                Ok(needed)
            })?,
        ),
    };
    let Some(mut columns) = columns else {
        return Err(IoError::Empty {
            path: spec.path.clone(),
            what: "attribute columns",
        }
        .into());
    };
    columns.settle(spec, &file.features);
    notes.warnings.extend(file.warnings);
    let mut by_code: BTreeMap<String, RawArea> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    // Features of each code, and the distinct names seen.
    let mut seen: BTreeMap<String, (Vec<usize>, Vec<String>)> = BTreeMap::new();
    for f in file.features {
        let v = columns.values(&f.props);
        let code = v.code;
        if code.is_empty() {
            return Err(AdminError::EmptyCode {
                path: spec.path.clone(),
                feature: f.index,
                column: columns.code.clone(),
            });
        }
        let label = format!("{}: feature {} ({code})", spec.path.display(), f.index);
        let geometry = clean_feature(f.geometry, &label, notes);
        let name = v.name.unwrap_or_else(|| code.clone());
        let entry = seen.entry(code.clone()).or_default();
        entry.0.push(f.index);
        if !entry.1.contains(&name) {
            entry.1.push(name.clone());
        }
        if let Some(existing) = by_code.get_mut(&code) {
            existing.geometry.0.extend(geometry.0);
        } else {
            order.push(code.clone());
            by_code.insert(
                code.clone(),
                RawArea {
                    code,
                    name,
                    admin1_code: v.admin1_code,
                    admin1_name: v.admin1_name,
                    // A country name alone identifies the country too.
                    country_code: v.country_code.or_else(|| v.country_name.clone()),
                    country_name: v.country_name,
                    geometry,
                },
            );
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for code in order {
        if let Some((features, names)) = seen.remove(&code)
            && features.len() > 1
        {
            notes.duplicate_codes.push(DuplicateCode {
                level,
                path: spec.path.clone(),
                code: code.clone(),
                features,
                names,
            });
        }
        if let Some(mut a) = by_code.remove(&code) {
            if a.geometry.0.is_empty() || a.geometry.unsigned_area() == 0.0 {
                notes.dropped_empty.push(format!(
                    "{}: {} ({})",
                    spec.path.display(),
                    a.code,
                    a.name
                ));
                continue;
            }
            // Parts merged from several rows may touch or overlap: dissolve them.
            if a.geometry.0.len() > 1 && !is_valid_fast(&a.geometry) {
                a.geometry = orient(crate::geom::overlay::union(a.geometry.0.iter()));
            }
            out.push(a);
        }
    }
    Ok((out, columns))
}

/// Features held in memory as a boundary file: each attribute a feature has is a column named
/// after the attribute (`code`, `name`, `admin1_code`, ...), which the returned spec names, so
/// the file's path through [`Columns`] is taken unchanged.
fn memory_level(
    spec: &LevelSpec,
    features: &[BoundaryFeature],
) -> Result<(LevelSpec, BoundaryFile), IoError> {
    if features.is_empty() {
        return Err(IoError::Empty {
            path: spec.path.clone(),
            what: "features",
        });
    }
    let mut out = Vec::with_capacity(features.len());
    let mut present = BTreeSet::new();
    for (index, f) in features.iter().enumerate() {
        let mut props = BTreeMap::new();
        for (k, v) in [
            ("code", Some(&f.code)),
            ("name", f.name.as_ref()),
            ("admin1_code", f.admin1_code.as_ref()),
            ("admin1_name", f.admin1_name.as_ref()),
            ("country_code", f.country_code.as_ref()),
            ("country_name", f.country_name.as_ref()),
        ] {
            if let Some(v) = v {
                present.insert(k);
                props.insert(k.to_string(), v.clone());
            }
        }
        out.push(Feature {
            index,
            props,
            geometry: f.geometry.clone(),
        });
    }
    let named = |k: &str| present.contains(k).then(|| k.to_string());
    let s = LevelSpec {
        path: spec.path.clone(),
        code_column: named("code"),
        name_column: named("name"),
        admin1_code_column: named("admin1_code"),
        admin1_name_column: named("admin1_name"),
        country_code_column: named("country_code"),
        country_name_column: named("country_name"),
        fixed_country: spec.fixed_country.clone(),
        features: None,
    };
    let file = BoundaryFile {
        path: spec.path.clone(),
        columns: present
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        features: out,
        warnings: Vec::new(),
    };
    Ok((s, file))
}

/// Cleans one feature's polygons ([`clean_geometry`]) and records what was done under `label`.
fn clean_feature(mp: MultiPolygon<f64>, label: &str, notes: &mut AdminNotes) -> MultiPolygon<f64> {
    let (mp, done) = clean_geometry(mp);
    if done.antimeridian_split {
        notes.antimeridian_split.push(label.to_string());
    }
    if done.repaired {
        notes.repaired.push(label.to_string());
    }
    mp
}

/// Which parent code [`locate_parents`] fills in.
#[derive(Clone, Copy)]
enum Parent {
    Country,
    Admin1,
}

/// Gives each child that `needs` it the code (country or admin-1, per `kind`) of the parent
/// whose polygons hold the child's interior point (the lowest index if several do); children
/// in no parent keep theirs and are listed in `missed` as "code (name)". Returns how many were
/// found.
fn locate_parents(
    children: &mut [RawArea],
    parents: &[RawArea],
    kind: Parent,
    needs: impl Fn(&RawArea) -> bool,
    missed: &mut Vec<String>,
) -> usize {
    use geo::InteriorPoint;
    if parents.is_empty() || !children.iter().any(&needs) {
        return 0;
    }
    let boxes = crate::geom::bbox::box_entries(parents.iter().map(|p| &p.geometry));
    let tree = RTree::bulk_load(boxes);
    let mut found = 0;
    for c in children.iter_mut().filter(|c| needs(c)) {
        let Some(pt) = c.geometry.interior_point() else {
            missed.push(format!("{} ({})", c.code, c.name));
            continue;
        };
        let mut hits: Vec<usize> = tree
            .locate_all_at_point(&[pt.x(), pt.y()])
            .map(|b| b.data as usize)
            .filter(|&i| geo::Intersects::intersects(&parents[i].geometry, &pt))
            .collect();
        hits.sort_unstable();
        let Some(&p) = hits.first() else {
            missed.push(format!("{} ({})", c.code, c.name));
            continue;
        };
        let code = Some(parents[p].code.clone());
        match kind {
            Parent::Country => c.country_code = code,
            Parent::Admin1 => c.admin1_code = code,
        }
        found += 1;
    }
    found
}

/// Builds the finest admin areas from the given levels.
///
/// # Errors
/// [`AdminError`] when no level is given, a file cannot be read, a code is empty, or nothing is
/// left.
pub fn build_areas(spec: &BoundarySpec) -> Result<AdminAreas, AdminError> {
    let mut notes = AdminNotes::default();
    let mut files = Vec::new();
    let mut columns = Vec::new();
    let mut levels: Vec<Vec<RawArea>> = vec![Vec::new(), Vec::new(), Vec::new()];
    for (level, s) in [
        (Level::Country, &spec.country),
        (Level::Admin1, &spec.admin1),
        (Level::Admin2, &spec.admin2),
    ] {
        if let Some(s) = s {
            files.push((level, s.path.clone()));
            let (areas, c) = read_level(level, s, &mut notes)?;
            levels[level as usize] = areas;
            columns.push(c);
        }
    }
    if files.is_empty() {
        return Err(AdminError::NoLevels);
    }
    let [countries, mut admin1, mut admin2] = [
        std::mem::take(&mut levels[0]),
        std::mem::take(&mut levels[1]),
        std::mem::take(&mut levels[2]),
    ];
    // Children whose file names no parent, or a code the parent level does not have (us-atlas
    // state FIPS codes under Natural Earth admin-1), get the parent that holds them.
    let codes =
        |level: &[RawArea]| -> BTreeSet<String> { level.iter().map(|a| a.code.clone()).collect() };
    let (country_codes, admin1_codes) = (codes(&countries), codes(&admin1));
    let unknown_in = |set: &BTreeSet<String>, code: &Option<String>| {
        code.as_ref().is_none_or(|c| !set.contains(c))
    };
    let mut missed = [Vec::new(), Vec::new(), Vec::new()];
    notes.parents_by_location += locate_parents(
        &mut admin1,
        &countries,
        Parent::Country,
        |a| unknown_in(&country_codes, &a.country_code),
        &mut missed[0],
    );
    notes.parents_by_location += locate_parents(
        &mut admin2,
        &admin1,
        Parent::Admin1,
        |a| unknown_in(&admin1_codes, &a.admin1_code),
        &mut missed[1],
    );
    let admin1_with_country: BTreeSet<String> = admin1
        .iter()
        .filter(|a| a.country_code.is_some())
        .map(|a| a.code.clone())
        .collect();
    notes.parents_by_location += locate_parents(
        &mut admin2,
        &countries,
        Parent::Country,
        |a| {
            unknown_in(&country_codes, &a.country_code)
                && unknown_in(&admin1_with_country, &a.admin1_code)
        },
        &mut missed[2],
    );
    for ((child, parent), missed) in [
        (&spec.admin1, Level::Country),
        (&spec.admin2, Level::Admin1),
        (&spec.admin2, Level::Country),
    ]
    .into_iter()
    .zip(missed)
    {
        if let Some(child) = child {
            notes
                .parents_not_located
                .extend(missed.into_iter().map(|m| {
                    format!(
                        "{}: {m}: in no {} area",
                        child.path.display(),
                        parent.as_str()
                    )
                }));
        }
    }
    let country_names: BTreeMap<String, String> = countries
        .iter()
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect();
    let admin1_info: BTreeMap<String, (String, Option<String>, Option<String>)> = admin1
        .iter()
        .map(|a| {
            (
                a.code.clone(),
                (
                    a.name.clone(),
                    a.country_code.clone(),
                    a.country_name.clone(),
                ),
            )
        })
        .collect();
    let parents_of_admin2: BTreeSet<String> = admin2
        .iter()
        .filter_map(|a| a.admin1_code.clone())
        .collect();
    let countries_with_children: BTreeSet<String> = admin1
        .iter()
        .chain(admin2.iter())
        .filter_map(|a| a.country_code.clone())
        .collect();

    // Areas per level that got the placeholder country, and its name.
    let mut unknown = [0usize; 3];
    let unknown_name = |code: &str| {
        if code == UNKNOWN_COUNTRY_CODE {
            UNKNOWN_COUNTRY_NAME.to_string()
        } else {
            code.to_string()
        }
    };
    let mut areas = Vec::new();
    for c in countries {
        if countries_with_children.contains(&c.code) {
            notes.replaced_parents += 1;
            continue;
        }
        areas.push(Area {
            level: Level::Country,
            admin1_code: c.code.clone(),
            admin1_name: c.name.clone(),
            country_code: c.code.clone(),
            country_name: c.name.clone(),
            code: c.code,
            name: c.name,
            geometry: c.geometry,
        });
    }
    for a in admin1 {
        if parents_of_admin2.contains(&a.code) {
            notes.replaced_parents += 1;
            continue;
        }
        let country_code = a.country_code.clone().unwrap_or_else(|| {
            unknown[1] += 1;
            UNKNOWN_COUNTRY_CODE.into()
        });
        let country_name = country_names
            .get(&country_code)
            .cloned()
            .or(a.country_name.clone())
            .unwrap_or_else(|| unknown_name(&country_code));
        areas.push(Area {
            level: Level::Admin1,
            admin1_code: a.code.clone(),
            admin1_name: a.name.clone(),
            country_code,
            country_name,
            code: a.code,
            name: a.name,
            geometry: a.geometry,
        });
    }
    for a in admin2 {
        let admin1_code = a.admin1_code.clone().unwrap_or_else(|| a.code.clone());
        let parent = admin1_info.get(&admin1_code);
        // Without a parent column the area is its own admin-1 area, name included.
        let own_name = a.admin1_code.is_none().then(|| a.name.clone());
        let admin1_name = parent
            .map(|p| p.0.clone())
            .or(a.admin1_name.clone())
            .or(own_name)
            .unwrap_or_else(|| admin1_code.clone());
        let country_code = a
            .country_code
            .clone()
            .or_else(|| parent.and_then(|p| p.1.clone()))
            .unwrap_or_else(|| {
                unknown[2] += 1;
                UNKNOWN_COUNTRY_CODE.into()
            });
        let country_name = country_names
            .get(&country_code)
            .cloned()
            .or_else(|| parent.and_then(|p| p.2.clone()))
            .or(a.country_name.clone())
            .unwrap_or_else(|| unknown_name(&country_code));
        areas.push(Area {
            level: Level::Admin2,
            admin1_code,
            admin1_name,
            country_code,
            country_name,
            code: a.code,
            name: a.name,
            geometry: a.geometry,
        });
    }
    for (level, path) in &files {
        let n = unknown[*level as usize];
        if n > 0 {
            notes.unknown_country.push(format!(
                "{}: {n} {} areas have no country (no country column, no parent with one): country {UNKNOWN_COUNTRY_CODE} ({UNKNOWN_COUNTRY_NAME})",
                path.display(),
                level.as_str()
            ));
        }
    }
    if areas.is_empty() {
        return Err(AdminError::NoAreas);
    }
    areas.sort_by(|a, b| {
        (&a.country_code, &a.admin1_code, a.level, &a.code).cmp(&(
            &b.country_code,
            &b.admin1_code,
            b.level,
            &b.code,
        ))
    });
    // Codes must be unique across levels too: a clash would make two areas indistinguishable.
    areas.dedup_by(|b, a| {
        if a.code == b.code && a.level == b.level {
            a.geometry.0.append(&mut b.geometry.0);
            true
        } else {
            false
        }
    });
    // Overlapping neighbours: the shared part stays with the first area (crate::input::topology).
    notes.overlaps = crate::input::topology::resolve_overlaps(&mut areas);
    areas.retain(|a| {
        let keep = !a.geometry.0.is_empty();
        if !keep {
            notes
                .dropped_empty
                .push(format!("{} (covered by earlier areas)", a.code));
        }
        keep
    });
    if areas.is_empty() {
        return Err(AdminError::NoAreas);
    }
    notes.gaps = crate::input::topology::measure_gaps(&areas);
    Ok(AdminAreas {
        areas,
        notes,
        files,
        columns,
    })
}
