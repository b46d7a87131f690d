//! Boundary files in other sources' column layouts, read as the only level with no column
//! options: GADM, geoBoundaries, Natural Earth, us-atlas, geocells' shapefile names; files whose
//! code column cannot be found; codes shared by several features.

mod common;

use std::path::Path;

use common::{data, temp_dir};
use geo::{Area as _, Validation};
use geocells::AdminAreas;
use geocells::BoundarySpec;
use geocells::IoError;
use geocells::Level;
use geocells::LevelSpec;
use geocells::UNKNOWN_COUNTRY_CODE;
use geocells::UNKNOWN_COUNTRY_NAME;
use geocells::files::Profile;
use geocells::stages::build_areas;

fn only(level: Level, spec: LevelSpec) -> AdminAreas {
    let mut b = BoundarySpec::default();
    match level {
        Level::Country => b.country = Some(spec),
        Level::Admin1 => b.admin1 = Some(spec),
        Level::Admin2 => b.admin2 = Some(spec),
    }
    build_areas(&b).unwrap_or_else(|e| panic!("{e}"))
}

/// (code, name, admin1 code, admin1 name, country code, country name) of every area.
fn rows(built: &AdminAreas) -> Vec<[&str; 6]> {
    built
        .areas
        .iter()
        .map(|a| {
            [
                a.code.as_str(),
                a.name.as_str(),
                a.admin1_code.as_str(),
                a.admin1_name.as_str(),
                a.country_code.as_str(),
                a.country_name.as_str(),
            ]
        })
        .collect()
}

const USA: &str = "United States of America";

#[test]
fn us_atlas_counties_get_their_state_and_country() {
    let built = only(
        Level::Admin2,
        LevelSpec::new(data("fixtures/us_atlas_counties_ri_de.geojson")),
    );
    assert_eq!(built.columns[0].profile, Some(Profile::UsAtlas));
    assert_eq!(
        rows(&built),
        vec![
            ["10001", "Kent", "10", "Delaware", "USA", USA],
            ["10003", "New Castle", "10", "Delaware", "USA", USA],
            ["10005", "Sussex", "10", "Delaware", "USA", USA],
            ["44001", "Bristol", "44", "Rhode Island", "USA", USA],
            ["44003", "Kent", "44", "Rhode Island", "USA", USA],
            ["44005", "Newport", "44", "Rhode Island", "USA", USA],
            ["44007", "Providence", "44", "Rhode Island", "USA", USA],
            ["44009", "Washington", "44", "Rhode Island", "USA", USA],
        ]
    );
    assert!(built.notes.duplicate_codes.is_empty());
    assert!(built.notes.unknown_country.is_empty());
    for a in &built.areas {
        assert!(a.geometry.is_valid(), "{}", a.code);
    }
}

#[test]
fn us_atlas_states_and_counties_link_by_fips() {
    let built = build_areas(&BoundarySpec {
        admin1: Some(LevelSpec::new(data(
            "fixtures/us_atlas_states_ri_de.geojson",
        ))),
        admin2: Some(LevelSpec::new(data(
            "fixtures/us_atlas_counties_ri_de.geojson",
        ))),
        ..Default::default()
    })
    .expect("areas");
    // Both states have counties: the counties replace them.
    assert_eq!(built.notes.replaced_parents, 2);
    assert_eq!(built.areas.len(), 8);
    assert!(built.areas.iter().all(|a| a.level == Level::Admin2));
    let states = only(
        Level::Admin1,
        LevelSpec::new(data("fixtures/us_atlas_states_ri_de.geojson")),
    );
    assert_eq!(states.columns[0].profile, Some(Profile::UsAtlas));
    assert_eq!(
        rows(&states),
        vec![
            ["10", "Delaware", "10", "Delaware", "USA", USA],
            ["44", "Rhode Island", "44", "Rhode Island", "USA", USA],
        ]
    );
}

#[test]
fn natural_earth_admin1_geojson_matches_the_shipped_parquet() {
    let ne = only(
        Level::Admin1,
        LevelSpec::new(data("fixtures/natural_earth_admin1_aut_lie.geojson")),
    );
    assert_eq!(ne.columns[0].profile, Some(Profile::NaturalEarthAdmin1));
    assert_eq!(ne.areas.len(), 20);
    // The shipped admin1_world.parquet holds the same Natural Earth rows under geocells' names.
    let world = only(Level::Admin1, LevelSpec::new(data("admin1_world.parquet")));
    assert_eq!(world.columns[0].profile, Some(Profile::Geocells));
    let expected: Vec<[&str; 6]> = rows(&world)
        .into_iter()
        .filter(|r| r[4] == "AUT" || r[4] == "LIE")
        .collect();
    assert_eq!(rows(&ne), expected);
    assert!(rows(&ne).contains(&["AUT-2329", "Tirol", "AUT-2329", "Tirol", "AUT", "Austria"]));
}

#[test]
fn natural_earth_admin1_as_countries_reports_and_dissolves_shared_codes() {
    let built = only(
        Level::Country,
        LevelSpec::new(data("fixtures/natural_earth_admin1_aut_lie.geojson")),
    );
    assert_eq!(
        rows(&built),
        vec![
            ["AUT", "Austria", "AUT", "Austria", "AUT", "Austria"],
            [
                "LIE",
                "Liechtenstein",
                "LIE",
                "Liechtenstein",
                "LIE",
                "Liechtenstein"
            ],
        ]
    );
    let dups: Vec<(&str, usize, &[String])> = built
        .notes
        .duplicate_codes
        .iter()
        .map(|d| (d.code.as_str(), d.features.len(), d.names.as_slice()))
        .collect();
    assert_eq!(
        dups,
        vec![
            ("AUT", 9, &["Austria".to_string()][..]),
            ("LIE", 11, &["Liechtenstein".to_string()][..]),
        ]
    );
    // The admin-1 polygons are dissolved: one valid polygon per country, same area.
    let parts = only(
        Level::Admin1,
        LevelSpec::new(data("fixtures/natural_earth_admin1_aut_lie.geojson")),
    );
    for country in &built.areas {
        assert!(country.geometry.is_valid(), "{}", country.code);
        assert_eq!(country.geometry.0.len(), 1, "{}", country.code);
        assert!(
            country.geometry.0[0].interiors().is_empty(),
            "{}",
            country.code
        );
        let sum: f64 = parts
            .areas
            .iter()
            .filter(|a| a.country_code == country.code)
            .map(|a| a.geometry.unsigned_area())
            .sum();
        let area = country.geometry.unsigned_area();
        assert!(
            (area - sum).abs() < 1e-6 * sum,
            "{}: {area} vs {sum}",
            country.code
        );
    }
}

#[test]
fn gadm_shapefile_needs_no_options_at_either_level() {
    let file = data("fixtures/gadm_style_admin1_cze_svk.shp");
    let built = only(Level::Admin1, LevelSpec::new(&file));
    assert_eq!(built.columns[0].profile, Some(Profile::Gadm));
    assert_eq!(built.areas.len(), 22);
    let r = rows(&built);
    assert!(r.contains(&[
        "CZE-10368",
        "Ústecký",
        "CZE-10368",
        "Ústecký",
        "CZE",
        "Czech Republic"
    ]));
    assert!(r.contains(&[
        "SVK-1058", "Prešov", "SVK-1058", "Prešov", "SVK", "Slovakia"
    ]));
    // The same file as the country level too (GID_0, COUNTRY): the countries are replaced by
    // their admin-1 areas, as in the README's GADM example.
    let both = build_areas(&BoundarySpec {
        country: Some(LevelSpec::new(&file)),
        admin1: Some(LevelSpec::new(&file)),
        ..Default::default()
    })
    .expect("areas");
    assert_eq!(both.notes.replaced_parents, 2);
    assert_eq!(rows(&both), r);
    assert_eq!(both.columns[0].code, "GID_0");
    assert_eq!(both.columns[1].code, "GID_1");
}

#[test]
fn geoboundaries_adm2_without_shape_iso_uses_shape_id() {
    let built = only(
        Level::Admin2,
        LevelSpec::new(data("fixtures/geoboundaries_style_adm2_ri_de.geojson")),
    );
    let c = &built.columns[0];
    assert_eq!(c.profile, Some(Profile::GeoBoundaries));
    assert_eq!(c.code, "shapeID");
    assert!(
        c.notes[0].contains("shapeISO is empty in 8"),
        "{:?}",
        c.notes
    );
    let r = rows(&built);
    assert_eq!(r.len(), 8);
    // No parent column: each county is its own admin-1; the country has no name column.
    assert_eq!(
        r[0],
        [
            "USA-ADM2-10001",
            "Kent",
            "USA-ADM2-10001",
            "Kent",
            "USA",
            "USA"
        ]
    );
}

#[test]
fn shapefile_with_geocells_short_field_names_needs_no_options() {
    let built = only(
        Level::Admin1,
        LevelSpec::new(data("fixtures/lesotho_south_africa_admin1.shp")),
    );
    let c = &built.columns[0];
    assert_eq!(c.profile, Some(Profile::Geocells));
    assert_eq!(c.code, "adm1_code");
    assert_eq!(built.areas.len(), 19);
    assert!(
        built
            .areas
            .iter()
            .all(|a| a.country_code == "LSO" && a.country_name == "Lesotho"
                || a.country_code == "ZAF" && a.country_name == "South Africa")
    );
}

fn write(dir: &Path, name: &str, features: &[(&str, [[f64; 2]; 2])]) -> std::path::PathBuf {
    let feats: Vec<String> = features
        .iter()
        .map(|(props, [[x0, y0], [x1, y1]])| {
            format!(
                r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}"#
            )
        })
        .collect();
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            feats.join(",")
        ),
    )
    .expect("write");
    p
}

#[test]
fn unknown_columns_give_an_error_listing_columns_and_the_flag() {
    let dir = temp_dir("unknown_columns");
    let p = write(
        &dir,
        "regions.geojson",
        &[(r#"{"REGION_ID":"R1","LABEL":"One"}"#, [[0., 0.], [1., 1.]])],
    );
    let err = build_areas(&BoundarySpec {
        admin1: Some(LevelSpec::new(&p)),
        ..Default::default()
    })
    .expect_err("no code column");
    let msg = err.to_string();
    assert!(
        matches!(err, geocells::AdminError::Io(IoError::NoCodeColumn { .. })),
        "{msg}"
    );
    for needle in [
        "regions.geojson",
        "REGION_ID",
        "LABEL",
        "--admin1-code-col",
        "GID_1",
        "shapeISO",
    ] {
        assert!(msg.contains(needle), "{needle} not in: {msg}");
    }
    // Named, it works; the missing name falls back to the code, the country to the
    // placeholder, which the notes state.
    let built = only(Level::Admin1, LevelSpec::new(&p).code_column("region_id"));
    assert_eq!(
        rows(&built),
        vec![[
            "R1",
            "R1",
            "R1",
            "R1",
            UNKNOWN_COUNTRY_CODE,
            UNKNOWN_COUNTRY_NAME
        ]]
    );
    assert_eq!(built.notes.unknown_country.len(), 1);
    assert!(built.notes.unknown_country[0].contains("regions.geojson"));
    // A named column the file does not have is an error naming it.
    let msg = build_areas(&BoundarySpec {
        admin1: Some(
            LevelSpec::new(&p)
                .code_column("region_id")
                .name_column("NAME_1"),
        ),
        ..Default::default()
    })
    .expect_err("missing column")
    .to_string();
    assert!(msg.contains("NAME_1") && msg.contains("REGION_ID"), "{msg}");
}

#[test]
fn files_without_a_country_share_one_placeholder_country_or_a_fixed_one() {
    let dir = temp_dir("no_country");
    let states = write(
        &dir,
        "states.geojson",
        &[
            (
                r#"{"admin1_code":"A","admin1_name":"Aa"}"#,
                [[0., 0.], [1., 1.]],
            ),
            (
                r#"{"admin1_code":"B","admin1_name":"Bb"}"#,
                [[1., 0.], [2., 1.]],
            ),
        ],
    );
    let counties = write(
        &dir,
        "counties.geojson",
        &[(
            r#"{"admin2_code":"A1","admin2_name":"A one","admin1_code":"A"}"#,
            [[0., 0.], [0.5, 1.]],
        )],
    );
    let built = build_areas(&BoundarySpec {
        admin1: Some(LevelSpec::new(&states)),
        admin2: Some(LevelSpec::new(&counties)),
        ..Default::default()
    })
    .expect("areas");
    assert_eq!(
        rows(&built),
        vec![
            ["A1", "A one", "A", "Aa", "XXX", "Unknown country"],
            ["B", "Bb", "B", "Bb", "XXX", "Unknown country"],
        ]
    );
    // Two levels, one placeholder country, stated for each file.
    assert_eq!(built.notes.unknown_country.len(), 2, "{:?}", built.notes);
    let fixed = only(
        Level::Admin1,
        LevelSpec::new(&states).fixed_country("DEU", "Germany"),
    );
    assert!(
        fixed
            .areas
            .iter()
            .all(|a| a.country_code == "DEU" && a.country_name == "Germany")
    );
    assert!(fixed.notes.unknown_country.is_empty());
}

#[test]
fn features_sharing_a_code_are_reported_and_dissolved() {
    let dir = temp_dir("dups");
    // X's two features touch along x = 1 and overlap in [1.5, 2] x [0, 1]; names differ.
    let p = write(
        &dir,
        "dups.geojson",
        &[
            (
                r#"{"admin1_code":"X","admin1_name":"First","country_code":"C"}"#,
                [[0., 0.], [1., 1.]],
            ),
            (
                r#"{"admin1_code":"Y","admin1_name":"Other","country_code":"C"}"#,
                [[5., 5.], [6., 6.]],
            ),
            (
                r#"{"admin1_code":"X","admin1_name":"Second","country_code":"C"}"#,
                [[1., 0.], [2., 1.]],
            ),
            (
                r#"{"admin1_code":"X","admin1_name":"First","country_code":"C"}"#,
                [[1.5, 0.], [3., 1.]],
            ),
        ],
    );
    let built = only(Level::Admin1, LevelSpec::new(&p));
    assert_eq!(built.notes.duplicate_codes.len(), 1);
    let d = &built.notes.duplicate_codes[0];
    assert_eq!(d.code, "X");
    assert_eq!(d.level, Level::Admin1);
    assert_eq!(d.features, vec![0, 2, 3]);
    assert_eq!(d.names, vec!["First".to_string(), "Second".to_string()]);
    let x = &built.areas[0];
    assert_eq!((x.code.as_str(), x.name.as_str()), ("X", "First"));
    assert!(x.geometry.is_valid());
    assert_eq!(x.geometry.0.len(), 1);
    assert!((x.geometry.unsigned_area() - 3.0).abs() < 1e-9);
}

#[test]
fn us_atlas_counties_under_natural_earth_states_find_their_state_by_location() {
    // us-atlas' state codes ("44") are not Natural Earth's ("USA-3539"): each county gets the
    // NE state that holds it, so the two states are replaced and nothing overlaps.
    let built = build_areas(&BoundarySpec {
        admin1: Some(LevelSpec::new(data("admin1_world.parquet"))),
        admin2: Some(LevelSpec::new(data(
            "fixtures/us_atlas_counties_ri_de.geojson",
        ))),
        ..Default::default()
    })
    .expect("areas");
    assert_eq!(built.notes.parents_by_location, 8);
    assert_eq!(built.notes.replaced_parents, 2);
    let counties: Vec<[&str; 6]> = rows(&built)
        .into_iter()
        .filter(|r| r[0].len() == 5 && r[0].bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(counties.len(), 8);
    let states: std::collections::BTreeSet<(&str, &str, &str)> =
        counties.iter().map(|r| (r[2], r[3], r[4])).collect();
    let names: Vec<&str> = states.iter().map(|s| s.1).collect();
    assert_eq!(names.len(), 2, "{states:?}");
    assert!(names.contains(&"Delaware") && names.contains(&"Rhode Island"));
    assert!(
        states
            .iter()
            .all(|s| s.0.starts_with("USA-") && s.2 == "USA")
    );
    assert!(
        !built
            .areas
            .iter()
            .any(|a| a.level == Level::Admin1 && (a.name == "Delaware" || a.name == "Rhode Island"))
    );
}

#[test]
fn an_admin1_file_without_countries_under_a_country_level_is_located() {
    let dir = temp_dir("locate_country");
    // Two squares inside Austria (Tirol, Styria), one in the Atlantic.
    let p = write(
        &dir,
        "regions.geojson",
        &[
            (r#"{"admin1_code":"T"}"#, [[11.0, 47.0], [11.2, 47.2]]),
            (r#"{"admin1_code":"S"}"#, [[15.0, 47.2], [15.2, 47.4]]),
            (r#"{"admin1_code":"W"}"#, [[-30.0, 40.0], [-29.0, 41.0]]),
        ],
    );
    let built = build_areas(&BoundarySpec {
        country: Some(LevelSpec::new(data(
            "fixtures/natural_earth_admin1_aut_lie.geojson",
        ))),
        admin1: Some(LevelSpec::new(&p)),
        ..Default::default()
    })
    .expect("areas");
    assert_eq!(built.notes.parents_by_location, 2);
    assert_eq!(built.notes.parents_not_located.len(), 1);
    assert!(
        built.notes.parents_not_located[0].ends_with("regions.geojson: W (W): in no country area"),
        "{:?}",
        built.notes.parents_not_located
    );
    assert_eq!(
        rows(&built),
        vec![
            ["S", "S", "S", "S", "AUT", "Austria"],
            ["T", "T", "T", "T", "AUT", "Austria"],
            [
                "LIE",
                "Liechtenstein",
                "LIE",
                "Liechtenstein",
                "LIE",
                "Liechtenstein"
            ],
            ["W", "W", "W", "W", "XXX", "Unknown country"],
        ]
    );
}
