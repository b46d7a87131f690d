//! Hostile inputs (issue 12): a table of bad points files and bad boundary files, each with what
//! geocells must do with it — an error whose message names the file and the row or feature, or
//! a documented handling (rejects with a reason code, a note, a warning) — and the "nothing lost"
//! check: every input row is labelled or rejected, exactly once. The user-facing version of the
//! table is `docs/bad_inputs.md`.

mod common;

use std::path::{Path, PathBuf};

use common::{data, run_validated, temp_dir};
use geocells::BoundarySpec;
use geocells::EvaluateError;
use geocells::Inputs;
use geocells::IoError;
use geocells::LevelSpec;
use geocells::Params;
use geocells::PointsSpec;
use geocells::Predicted;
use geocells::evaluate_file;
use geocells::files::Column;
use geocells::files::geo_metadata;
use geocells::files::write_parquet;
use geocells::stages::PointsRead;
use geocells::stages::build_areas;
use geocells::stages::read_boundaries;
use geocells::stages::read_points;
use polars::prelude::{DataFrame, NamedFrom, ParquetWriter, Series};

// ---------------------------------------------------------------------------------------------
// Helpers: writing small files.

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).expect("write");
    path.to_path_buf()
}

/// Writes `df` as Parquet with polars (for column types and nulls the crate's writer has not).
fn write_polars(path: &Path, columns: Vec<Series>) -> PathBuf {
    let mut df =
        DataFrame::new_infer_height(columns.into_iter().map(Into::into).collect()).expect("frame");
    let file = std::fs::File::create(path).expect("create");
    ParquetWriter::new(file).finish(&mut df).expect("parquet");
    path.to_path_buf()
}

fn wkb(g: &geo_types::Geometry<f64>) -> Vec<u8> {
    let mut buf = Vec::new();
    wkb::writer::write_geometry(&mut buf, g, &wkb::writer::WriteOptions::default()).expect("wkb");
    buf
}

/// `POINT EMPTY` in WKB: a point with NaN coordinates.
fn empty_point_wkb() -> Vec<u8> {
    let mut b = vec![1u8, 1, 0, 0, 0];
    b.extend_from_slice(&f64::NAN.to_le_bytes());
    b.extend_from_slice(&f64::NAN.to_le_bytes());
    b
}

fn square(x: f64, y: f64) -> geo_types::Geometry<f64> {
    geo_types::Geometry::Polygon(geo_types::Polygon::new(
        geo_types::LineString::from(vec![(x, y), (x + 1.0, y), (x + 1.0, y + 1.0), (x, y)]),
        vec![],
    ))
}

/// A GeoParquet file with one WKB column `geometry` (its `geo` metadata's CRS replaced by
/// `crs` when given) and string columns.
fn write_geoparquet(
    path: &Path,
    geometries: Vec<Vec<u8>>,
    strings: &[(&str, Vec<&str>)],
    crs: Option<serde_json::Value>,
) -> PathBuf {
    let mut meta: serde_json::Value =
        serde_json::from_str(&geo_metadata("geometry", &[], None)).expect("geo json");
    if let Some(c) = crs {
        meta["columns"]["geometry"]["crs"] = c;
    }
    let mut names = vec!["geometry"];
    let mut kinds = vec![Column::Bin(vec![])];
    for (n, _) in strings {
        names.push(n);
        kinds.push(Column::Str(vec![]));
    }
    let n = geometries.len();
    write_parquet(
        path,
        &names,
        &kinds,
        n,
        1 << 16,
        vec![("geo".into(), meta.to_string())],
        |r| {
            let mut cols = vec![Column::Bin(geometries[r.clone()].to_vec())];
            for (_, v) in strings {
                cols.push(Column::Str(
                    v[r.clone()]
                        .iter()
                        .map(std::string::ToString::to_string)
                        .collect(),
                ));
            }
            cols
        },
    )
    .expect("write geoparquet");
    path.to_path_buf()
}

/// The "nothing lost" check of a read: labelled + rejected == rows in the file, each row once.
fn assert_nothing_lost(read: &PointsRead, input_rows: usize, what: &str) {
    assert_eq!(read.total_rows, input_rows, "{what}: rows read");
    assert_eq!(
        read.points.len() + read.rejects.len(),
        input_rows,
        "{what}: labelled + rejected"
    );
    let mut rows: Vec<u64> = read
        .points
        .rows
        .iter()
        .copied()
        .chain(read.rejects.iter().map(|r| r.row))
        .collect();
    rows.sort_unstable();
    assert_eq!(
        rows,
        (0..input_rows as u64).collect::<Vec<_>>(),
        "{what}: each row exactly once"
    );
}

// ---------------------------------------------------------------------------------------------
// The points table.

/// What must happen with a points file.
enum Expect {
    /// An error whose message holds the file name and all these strings.
    Error(&'static [&'static str]),
    /// Read: `rows` rows in all, and exactly these rejects `(row, reason code, raw)`; the others
    /// are labelled.
    Read {
        rows: usize,
        rejects: &'static [(u64, &'static str, Option<&'static str>)],
    },
}

/// One bad points file: how to make it, how to read it, what must happen.
struct PointsCase {
    name: &'static str,
    /// Writes the file into the directory and returns its path.
    make: fn(&Path) -> PathBuf,
    /// Column options.
    spec: fn(PointsSpec) -> PointsSpec,
    expect: Expect,
}

fn same(s: PointsSpec) -> PointsSpec {
    s
}

fn geometry_column(s: PointsSpec) -> PointsSpec {
    s.geometry_column("geometry")
}

const POINTS_CASES: &[PointsCase] = &[
    PointsCase {
        name: "empty CSV (0 bytes)",
        make: |d| write(&d.join("empty.csv"), ""),
        spec: same,
        expect: Expect::Error(&["the file is empty"]),
    },
    PointsCase {
        name: "empty Parquet (0 bytes)",
        make: |d| write(&d.join("empty.parquet"), ""),
        spec: same,
        expect: Expect::Error(&["the file is empty"]),
    },
    PointsCase {
        name: "header-only CSV",
        make: |d| write(&d.join("header.csv"), "id,lon,lat\n"),
        spec: same,
        expect: Expect::Error(&["the file is empty (no rows)"]),
    },
    PointsCase {
        name: "header-only Parquet (0 rows)",
        make: |d| {
            write_polars(
                &d.join("header.parquet"),
                vec![
                    Series::new("lon".into(), Vec::<f64>::new()),
                    Series::new("lat".into(), Vec::<f64>::new()),
                ],
            )
        },
        spec: same,
        expect: Expect::Error(&["the file is empty (no rows)"]),
    },
    PointsCase {
        name: "truncated Parquet",
        make: |d| {
            let p = write_polars(
                &d.join("truncated.parquet"),
                vec![
                    Series::new("lon".into(), vec![4.35f64; 1000]),
                    Series::new("lat".into(), vec![50.85f64; 1000]),
                ],
            );
            let bytes = std::fs::read(&p).expect("read");
            std::fs::write(&p, &bytes[..bytes.len() / 2]).expect("truncate");
            p
        },
        spec: same,
        expect: Expect::Error(&[]),
    },
    PointsCase {
        name: "string lon column in Parquet: parsed value by value",
        make: |d| {
            write_polars(
                &d.join("string_lon.parquet"),
                vec![
                    Series::new("lon".into(), vec!["4.35", "abc", "", " 5.5 ", "4,35"]),
                    Series::new("lat".into(), vec![50.85f64; 5]),
                ],
            )
        },
        spec: same,
        expect: Expect::Read {
            rows: 5,
            rejects: &[
                (1, "not_a_number", Some("lon=abc")),
                (2, "missing_coordinate", None),
                (4, "not_a_number", Some("lon=4,35")),
            ],
        },
    },
    PointsCase {
        name: "bool lon column in Parquet",
        make: |d| {
            write_polars(
                &d.join("bool_lon.parquet"),
                vec![
                    Series::new("lon".into(), vec![true, false]),
                    Series::new("lat".into(), vec![50.85f64; 2]),
                ],
            )
        },
        spec: same,
        expect: Expect::Error(&["column 'lon'", "bool", "expected numbers"]),
    },
    PointsCase {
        name: "NaN, inf and out of range in a CSV",
        make: |d| {
            write(
                &d.join("nan.csv"),
                "lon,lat\nNaN,0\n0,inf\n-inf,0\n180.5,0\n0,-90.01\n180,90\n-180,-90\n",
            )
        },
        spec: same,
        expect: Expect::Read {
            rows: 7,
            rejects: &[
                (0, "not_finite", None),
                (1, "not_finite", None),
                (2, "not_finite", None),
                (3, "out_of_range", None),
                (4, "out_of_range", None),
            ],
        },
    },
    PointsCase {
        name: "NaN, inf and null in Parquet doubles",
        make: |d| {
            write_polars(
                &d.join("nan.parquet"),
                vec![
                    Series::new(
                        "lon".into(),
                        vec![Some(f64::NAN), Some(f64::INFINITY), None, Some(1.0)],
                    ),
                    Series::new("lat".into(), vec![Some(0.0), Some(0.0), Some(0.0), None]),
                ],
            )
        },
        spec: same,
        expect: Expect::Read {
            rows: 4,
            rejects: &[
                (0, "not_finite", None),
                (1, "not_finite", None),
                (2, "missing_coordinate", None),
                (3, "missing_coordinate", None),
            ],
        },
    },
    PointsCase {
        name: "polygons, lines, null and empty geometries in a WKB points file",
        make: |d| {
            use geo_types::{Geometry, LineString, MultiPoint, Point};
            let geoms: Vec<Option<Vec<u8>>> = vec![
                Some(wkb(&Geometry::Point(Point::new(4.35, 50.85)))),
                Some(wkb(&square(4.0, 50.0))),
                None,
                Some(empty_point_wkb()),
                Some(wkb(&Geometry::LineString(LineString::from(vec![
                    (0.0, 0.0),
                    (1.0, 1.0),
                ])))),
                Some(wkb(&Geometry::MultiPoint(MultiPoint::from(vec![(
                    5.0, 51.0,
                )])))),
                Some(vec![1, 2, 3]),
            ];
            let geoms: Vec<Option<&[u8]>> = geoms.iter().map(|g| g.as_deref()).collect();
            write_polars(
                &d.join("polygons.parquet"),
                vec![Series::new("geometry".into(), geoms)],
            )
        },
        spec: geometry_column,
        expect: Expect::Read {
            rows: 7,
            rejects: &[
                (1, "bad_geometry", None),
                (2, "bad_geometry", None),
                (3, "bad_geometry", None),
                (4, "bad_geometry", None),
                (6, "bad_geometry", None),
            ],
        },
    },
    PointsCase {
        name: "decimal commas, quoted",
        make: |d| {
            write(
                &d.join("comma.csv"),
                "id,lon,lat\n1,\"4,35\",\"50,85\"\n2,4.35,\"50,85\"\n3,4.35,50.85\n",
            )
        },
        spec: same,
        expect: Expect::Read {
            rows: 3,
            rejects: &[
                (0, "not_a_number", Some("lon=4,35; lat=50,85")),
                (1, "not_a_number", Some("lat=50,85")),
            ],
        },
    },
    PointsCase {
        name: "decimal commas, unquoted (a ragged row)",
        make: |d| {
            write(
                &d.join("comma_bare.csv"),
                "id,lon,lat\n1,4.35,50.85\n2,4,35,50,85\n",
            )
        },
        spec: same,
        expect: Expect::Error(&[
            "line 3 (data row 1,",
            "has 5 fields, the header has 3",
            "\"4,35\"",
        ]),
    },
    PointsCase {
        name: "semicolon-separated with decimal commas",
        make: |d| write(&d.join("semicolon.csv"), "id;lon;lat\n1;4,35;50,85\n"),
        spec: same,
        expect: Expect::Error(&["one column 'id;lon;lat'", "separated by ';'"]),
    },
    PointsCase {
        name: "lon/lat swapped: latitudes out of range",
        // US places with the columns swapped: every "latitude" is below -90.
        make: |d| {
            write(
                &d.join("swapped.csv"),
                "lon,lat\n40.7,-100.0\n34.05,-118.2\n41.9,-93.6\n",
            )
        },
        spec: same,
        expect: Expect::Read {
            rows: 3,
            rejects: &[
                (0, "out_of_range", None),
                (1, "out_of_range", None),
                (2, "out_of_range", None),
            ],
        },
    },
    PointsCase {
        name: "text in coordinates",
        make: |d| {
            write(
                &d.join("text.csv"),
                "id,lon,lat\n1,abc,50\n2,4.3,N50\n3,x,y\n4, 4.3 ,50\n5,,50\n6,  ,50\n",
            )
        },
        spec: same,
        expect: Expect::Read {
            rows: 6,
            rejects: &[
                (0, "not_a_number", Some("lon=abc")),
                (1, "not_a_number", Some("lat=N50")),
                (2, "not_a_number", Some("lon=x; lat=y")),
                (4, "missing_coordinate", None),
                (5, "missing_coordinate", None),
            ],
        },
    },
    PointsCase {
        name: "text in a coordinate after the first 10,000 rows (past type inference)",
        make: |d| {
            let mut s = String::from("lon,lat\n");
            for i in 0..10_005 {
                s.push_str(if i == 10_003 { "abc,1\n" } else { "1.5,2.5\n" });
            }
            write(&d.join("late_text.csv"), &s)
        },
        spec: same,
        expect: Expect::Read {
            rows: 10_005,
            rejects: &[(10_003, "not_a_number", Some("lon=abc"))],
        },
    },
    PointsCase {
        name: "ragged CSV: a row with more fields",
        make: |d| {
            write(
                &d.join("ragged_more.csv"),
                "id,lon,lat\n1,4,50\n2,4,50,9\n3,4,50\n",
            )
        },
        spec: same,
        expect: Expect::Error(&[
            "ragged_more.csv: line 3 (data row 1,",
            "has 4 fields, the header has 3",
        ]),
    },
    PointsCase {
        name: "ragged CSV: a row with fewer fields, and more rows like it",
        make: |d| {
            write(
                &d.join("ragged_less.csv"),
                "id,lon,lat\n1,4,50\n2,4,50\n3,4\n4,5\n5\n6,4,50\n",
            )
        },
        spec: same,
        expect: Expect::Error(&[
            "ragged_less.csv: line 4 (data row 2,",
            "has 2 fields, the header has 3",
            "(and 2 more rows like it)",
        ]),
    },
    PointsCase {
        name: "quoted commas and quotes are not ragged",
        make: |d| {
            write(
                &d.join("quoted.csv"),
                "name,lon,lat\n\"Brussels, \"\"BE\"\"\",4.35,50.85\n\"a\nb\",5,51\nplain,6,52\r\n",
            )
        },
        spec: same,
        expect: Expect::Read {
            rows: 3,
            rejects: &[],
        },
    },
    PointsCase {
        name: "blank lines are rows with nothing: missing_coordinate",
        make: |d| write(&d.join("blank.csv"), "lon,lat\n4,50\n\nabc,51\n5,51\n\n\n"),
        spec: same,
        expect: Expect::Read {
            rows: 6,
            rejects: &[
                (1, "missing_coordinate", None),
                (2, "not_a_number", Some("lon=abc")),
                (4, "missing_coordinate", None),
                (5, "missing_coordinate", None),
            ],
        },
    },
    PointsCase {
        name: "blank lines with CRLF",
        make: |d| write(&d.join("blank_crlf.csv"), "lon,lat\r\n4,50\r\n\r\n5,51\r\n"),
        spec: same,
        expect: Expect::Read {
            rows: 3,
            rejects: &[(1, "missing_coordinate", None)],
        },
    },
    PointsCase {
        name: "ragged CSV after a blank line: the row number counts the blank line",
        make: |d| write(&d.join("ragged_blank.csv"), "lon,lat\n4,50\n\n5,51,7\n"),
        spec: same,
        expect: Expect::Error(&["line 4 (data row 2,", "has 3 fields, the header has 2"]),
    },
    PointsCase {
        name: "a blank line with an integer id column: the null id is an error naming the row",
        make: |d| write(&d.join("blank_id.csv"), "id,lon,lat\n1,4,50\n\n2,5,51\n"),
        spec: same,
        expect: Expect::Error(&["row 1: id column 'id' is null"]),
    },
    PointsCase {
        name: "a UTF-8 byte-order mark before the header",
        make: |d| write(&d.join("bom.csv"), "\u{feff}lon,lat\n4,50\nabc,51\n"),
        spec: same,
        expect: Expect::Read {
            rows: 2,
            rejects: &[(1, "not_a_number", Some("lon=abc"))],
        },
    },
    PointsCase {
        name: "GeoParquet points with a projected CRS",
        make: |d| {
            write_geoparquet(
                &d.join("points_3857.parquet"),
                vec![wkb(&geo_types::Geometry::Point(geo_types::Point::new(
                    484_000.0,
                    6_594_000.0,
                )))],
                &[],
                Some(serde_json::json!({"id": {"authority": "EPSG", "code": 3857}})),
            )
        },
        spec: same,
        expect: Expect::Error(&["EPSG:3857", "is not EPSG:4326"]),
    },
];

#[test]
fn points_table() {
    let dir = temp_dir("bad-points");
    let mut failures = Vec::new();
    for case in POINTS_CASES {
        let path = (case.make)(&dir);
        let file = path.file_name().and_then(|f| f.to_str()).expect("name");
        let result = (case.spec)(PointsSpec::new(&path));
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_points(&result)));
        let got = match outcome {
            Err(_) => {
                failures.push(format!("{}: read_points panicked", case.name));
                continue;
            }
            Ok(r) => r,
        };
        match (&case.expect, got) {
            (Expect::Error(parts), Err(e)) => {
                let msg = e.to_string();
                for p in std::iter::once(&file).chain(parts.iter()) {
                    if !msg.contains(p) {
                        failures.push(format!("{}: message lacks {p:?}: {msg}", case.name));
                    }
                }
            }
            (Expect::Error(_), Ok(r)) => failures.push(format!(
                "{}: expected an error, read {} points and {} rejects",
                case.name,
                r.points.len(),
                r.rejects.len()
            )),
            (Expect::Read { .. }, Err(e)) => {
                failures.push(format!("{}: unexpected error: {e}", case.name));
            }
            (Expect::Read { rows, rejects }, Ok(r)) => {
                assert_nothing_lost(&r, *rows, case.name);
                let got: Vec<(u64, &str, Option<&str>)> = r
                    .rejects
                    .iter()
                    .map(|x| (x.row, x.reason.code(), x.raw.as_deref()))
                    .collect();
                if got != *rejects {
                    failures.push(format!(
                        "{}: rejects {got:?}, expected {rejects:?}",
                        case.name
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_geometry_rejects_say_what_they_found() {
    // The reason text of each bad WKB row (the table above checks the codes).
    let dir = temp_dir("bad-wkb");
    let case = POINTS_CASES
        .iter()
        .find(|c| c.name.starts_with("polygons, lines"))
        .expect("case");
    let read = read_points(&(case.spec)(PointsSpec::new((case.make)(&dir)))).expect("read");
    let details: Vec<String> = read.rejects.iter().map(|r| r.reason.to_string()).collect();
    let expected = [
        "expected a point, found Polygon",
        "null geometry",
        "empty point",
        "expected a point, found LineString",
        "invalid WKB",
    ];
    for (d, e) in details.iter().zip(expected) {
        assert!(d.contains(e), "{d} should say {e}");
    }
    // The one-point MultiPoint is taken as its point.
    assert_eq!(
        (read.points.lon.clone(), read.points.lat.clone()),
        (vec![4.35, 5.0], vec![50.85, 51.0])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rejects_parquet_keeps_the_raw_text() {
    use polars::prelude::*;
    let dir = temp_dir("raw");
    let csv = write(
        &dir.join("text.csv"),
        "id,lon,lat\n1,abc,50\n2,4.3,\"4,35\"\n3,,50\n4,4.3,50\n",
    );
    let read = read_points(&PointsSpec::new(&csv)).expect("read");
    let out = dir.join("rejects.parquet");
    geocells::files::write_rejects_parquet(&read.rejects, &out, "0123456789abcdef").expect("write");
    let df = ParquetReader::new(std::fs::File::open(&out).expect("open"))
        .finish()
        .expect("read back");
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(
        names,
        ["row", "id", "lon", "lat", "reason", "detail", "raw"]
    );
    let col = |n: &str| -> Vec<Option<String>> {
        df.column(n)
            .expect("column")
            .str()
            .expect("strings")
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(col("raw"), vec![s("lon=abc"), s("lat=4,35"), None]);
    assert_eq!(
        col("reason"),
        vec![
            s("not_a_number"),
            s("not_a_number"),
            s("missing_coordinate")
        ]
    );
    assert_eq!(col("id"), vec![s("1"), s("2"), s("3")]);
    // lat of the decimal-comma row is NaN (not a number), lon kept.
    let lon = df.column("lon").expect("lon").f64().expect("f64").get(1);
    let lat = df.column("lat").expect("lat").f64().expect("f64").get(1);
    assert_eq!(lon, Some(4.3));
    assert!(lat.is_some_and(f64::is_nan));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Points through the whole pipeline: every row ends labelled or rejected with its reason.

fn lso_level(path: &Path) -> LevelSpec {
    LevelSpec::admin1(path)
        .code_column("adm1_code")
        .name_column("adm1_name")
        .country_code_column(Some("cntry_code".into()))
        .country_name_column(Some("cntry_name".into()))
}

#[test]
fn pipeline_labels_or_rejects_every_hostile_row() {
    let dir = temp_dir("bad-pipeline");
    // Lesotho and South Africa; rows 0-3 on land, then one of each kind of bad row.
    let csv = write(
        &dir.join("points.csv"),
        "id,lon,lat\n\
         a,27.48,-29.32\nb,28.04,-26.20\nc,18.42,-33.93\nd,31.03,-29.86\n\
         e,abc,-29\nf,\"27,5\",-29\ng,,-29\nh,NaN,-29\ni,27.5,-95\nj,-29.32,27.48\n",
    );
    let run = run_validated(
        &Inputs {
            points: PointsSpec::new(&csv),
            boundaries: BoundarySpec {
                admin1: Some(lso_level(&data("fixtures/lesotho_south_africa_admin1.shp"))),
                ..Default::default()
            },
        },
        Params::default().min_size(1).max_size(2),
    );
    assert_eq!(run.input_rows(), 10);
    assert_eq!(run.point_cells().points.len(), 4);
    let got: Vec<(&str, &str, Option<&str>)> = run
        .rejects()
        .iter()
        .map(|r| (r.id.as_str(), r.reason.code(), r.raw.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("e", "not_a_number", Some("lon=abc")),
            ("f", "not_a_number", Some("lon=27,5")),
            ("g", "missing_coordinate", None),
            ("h", "not_finite", None),
            ("i", "out_of_range", None),
            // lon/lat swapped: in range, in the Atlantic.
            ("j", "off_land", None),
        ]
    );
    let by_reason = run.report().to_value()["counts"]["rejects_by_reason"].clone();
    assert_eq!(by_reason["not_a_number"], 2);
    // No warnings with a .prj beside the shapefile.
    assert_eq!(run.report().to_value()["warnings"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn swapped_lon_lat_in_range_are_rejected_off_land() {
    // Belgian places with lon and lat swapped (lon 50.8, lat 4.4: in range, in the Indian
    // Ocean): each is an off_land reject against the Benelux boundaries, none is lost.
    use geocells::AssignParams;
    use geocells::stages::AreaIndex;
    use geocells::stages::Placement;
    use geocells::stages::assign_points;
    let built = build_areas(&BoundarySpec {
        admin1: Some(LevelSpec::admin1(data("fixtures/benelux_admin1.geojson"))),
        ..Default::default()
    })
    .expect("areas");
    let points = geocells::Points::from_lonlat(vec![50.85, 51.22, 50.63], vec![4.35, 4.40, 5.57]);
    let index = AreaIndex::new(&built.areas);
    let placements = assign_points(&index, built.areas.len(), &points, &AssignParams::default())
        .expect("assign");
    assert_eq!(placements.len(), 3);
    for p in &placements {
        match p {
            Placement::Rejected(r) => assert_eq!(r.code(), "off_land"),
            other => panic!("expected off_land, got {other:?}"),
        }
    }
    // The same places the right way round are all on land.
    let right = geocells::Points::from_lonlat(vec![4.35, 4.40, 5.57], vec![50.85, 51.22, 50.63]);
    let placements =
        assign_points(&index, built.areas.len(), &right, &AssignParams::default()).expect("assign");
    assert!(placements.iter().all(|p| matches!(p, Placement::Inside(_))));
}

// ---------------------------------------------------------------------------------------------
// Boundary files.

const FEATURE: &str = r#"{"type":"Feature","properties":{"admin1_code":"CODE","admin1_name":"NAME","country_code":"X","country_name":"Xland"},"geometry":GEOM}"#;

fn geojson(features: &[(&str, &str, &str)]) -> String {
    let fs: Vec<String> = features
        .iter()
        .map(|(code, name, geom)| {
            FEATURE
                .replace("CODE", code)
                .replace("NAME", name)
                .replace("GEOM", geom)
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        fs.join(",")
    )
}

const SQ_A: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;
const SQ_B: &str = r#"{"type":"Polygon","coordinates":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}"#;

fn admin1(path: &Path) -> BoundarySpec {
    BoundarySpec {
        admin1: Some(LevelSpec::admin1(path)),
        ..Default::default()
    }
}

#[test]
fn duplicated_features_are_merged_and_reported() {
    let dir = temp_dir("dup");
    let p = write(
        &dir.join("dup.geojson"),
        &geojson(&[
            ("A", "Alpha", SQ_A),
            ("B", "Beta", SQ_B),
            ("A", "Alpha", SQ_A),
        ]),
    );
    let built = build_areas(&admin1(&p)).expect("areas");
    let codes: Vec<&str> = built.areas.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, ["A", "B"]);
    let d = &built.notes.duplicate_codes;
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].code.as_str(), d[0].features.clone()),
        ("A", vec![0, 2])
    );
    assert!(d[0].path.ends_with("dup.geojson"));
    // The two copies dissolve into one valid square of the original area.
    use geo::Area;
    let a = &built.areas[0].geometry;
    assert!(geocells::algorithms::is_valid_fast(a));
    assert!(
        (a.unsigned_area() - 1.0).abs() < 1e-9,
        "{}",
        a.unsigned_area()
    );
}

#[test]
fn null_and_empty_boundary_geometries_are_dropped_and_listed() {
    let dir = temp_dir("nullgeom");
    // GeoJSON: a null geometry and an empty polygon.
    let p = write(
        &dir.join("null.geojson"),
        &geojson(&[
            ("A", "Alpha", SQ_A),
            ("N", "Null", "null"),
            ("E", "Empty", r#"{"type":"Polygon","coordinates":[]}"#),
            ("B", "Beta", SQ_B),
        ]),
    );
    // GeoParquet: a null WKB and an empty polygon (written by polars: the crate's writer has no
    // nullable binary).
    let empty_polygon = wkb(&geo_types::Geometry::Polygon(geo_types::Polygon::new(
        geo_types::LineString::new(vec![]),
        vec![],
    )));
    let sq = wkb(&square(0.0, 0.0));
    let sq2 = wkb(&square(1.0, 0.0));
    let geoms: Vec<Option<&[u8]>> = vec![Some(&sq), None, Some(&empty_polygon), Some(&sq2)];
    let q = write_polars(
        &dir.join("null.parquet"),
        vec![
            Series::new("geometry".into(), geoms),
            Series::new("admin1_code".into(), vec!["A", "N", "E", "B"]),
            Series::new("admin1_name".into(), vec!["Alpha", "Null", "Empty", "Beta"]),
            Series::new("country_code".into(), vec!["X"; 4]),
            Series::new("country_name".into(), vec!["Xland"; 4]),
        ],
    );
    for path in [p, q] {
        let built =
            build_areas(&admin1(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let codes: Vec<&str> = built.areas.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, ["A", "B"], "{}", path.display());
        let name = path.display().to_string();
        assert_eq!(
            built.notes.dropped_empty,
            vec![format!("{name}: N (Null)"), format!("{name}: E (Empty)")],
        );
    }
    // The reader keeps the features, with no polygons: nothing lost between file and admin.
    let file = read_boundaries(&dir.join("null.geojson"), &["admin1_code".into()]).expect("read");
    assert_eq!(file.features.len(), 4);
    assert!(file.features[1].geometry.0.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shapefile_null_shape_is_dropped_and_listed() {
    // The Lesotho / South Africa shapefile with its last record made a null shape (shape type
    // 0, content 2 words), .shx and file length to match.
    let dir = temp_dir("nullshape");
    let shp = shapefile_without_prj(&dir, "lesotho_south_africa_admin1", "nullshape");
    std::fs::copy(
        data("fixtures/lesotho_south_africa_admin1.prj"),
        dir.join("nullshape.prj"),
    )
    .expect("copy prj");
    let mut shx = std::fs::read(dir.join("nullshape.shx")).expect("shx");
    let n = (shx.len() - 100) / 8;
    let at = 100 + 8 * (n - 1);
    let words = |b: &[u8]| i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let offset = 2 * words(&shx[at..at + 4]);
    shx[at + 4..at + 8].copy_from_slice(&2i32.to_be_bytes());
    std::fs::write(dir.join("nullshape.shx"), &shx).expect("write shx");
    let mut bytes = std::fs::read(&shp).expect("shp");
    bytes.truncate(offset + 8);
    bytes[offset + 4..offset + 8].copy_from_slice(&2i32.to_be_bytes());
    bytes.extend_from_slice(&0i32.to_le_bytes());
    let len = (bytes.len() / 2) as i32;
    bytes[24..28].copy_from_slice(&len.to_be_bytes());
    std::fs::write(&shp, &bytes).expect("write shp");

    let file = read_boundaries(&shp, &["adm1_code".into()]).expect("read");
    assert_eq!(file.features.len(), n);
    assert!(file.features[n - 1].geometry.0.is_empty());
    assert!(
        file.features[..n - 1]
            .iter()
            .all(|f| !f.geometry.0.is_empty())
    );
    let code = file.features[n - 1].props["adm1_code"].clone();
    let built = build_areas(&BoundarySpec {
        admin1: Some(lso_level(&shp)),
        ..Default::default()
    })
    .expect("areas");
    assert_eq!(built.areas.len(), n - 1);
    assert!(built.areas.iter().all(|a| a.code != code));
    assert_eq!(built.notes.dropped_empty.len(), 1);
    assert!(
        built.notes.dropped_empty[0].starts_with(&format!("{}: {code} (", shp.display())),
        "{:?}",
        built.notes.dropped_empty
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_polygon_features_are_errors_naming_the_feature() {
    let dir = temp_dir("nonpoly");
    let cases = [
        (
            "point.geojson",
            r#"{"type":"Point","coordinates":[0.5,0.5]}"#,
            "Point",
        ),
        (
            "line.geojson",
            r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#,
            "LineString",
        ),
        (
            "collection.geojson",
            r#"{"type":"GeometryCollection","geometries":[{"type":"Polygon","coordinates":[[[1,0],[2,0],[2,1],[1,0]]]},{"type":"Point","coordinates":[0,0]}]}"#,
            "Point",
        ),
    ];
    for (file, geom, kind) in cases {
        let p = write(
            &dir.join(file),
            &geojson(&[("A", "Alpha", SQ_A), ("B", "Beta", geom)]),
        );
        let msg = build_areas(&admin1(&p)).expect_err("must fail").to_string();
        assert!(
            msg.contains(file) && msg.contains("feature 1") && msg.contains(kind),
            "{msg}"
        );
    }
    // The same in GeoParquet: a WKB point among polygons.
    let q = write_geoparquet(
        &dir.join("point.parquet"),
        vec![
            wkb(&square(0.0, 0.0)),
            wkb(&geo_types::Geometry::Point(geo_types::Point::new(0.5, 0.5))),
        ],
        &[
            ("admin1_code", vec!["A", "B"]),
            ("country_code", vec!["X", "X"]),
        ],
        None,
    );
    let msg = build_areas(&admin1(&q)).expect_err("must fail").to_string();
    assert!(
        msg.contains("point.parquet") && msg.contains("feature 1") && msg.contains("Point"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn empty_boundary_files_are_errors_naming_the_file() {
    let dir = temp_dir("emptyb");
    let cases = [
        (write(&dir.join("zero.geojson"), ""), "invalid GeoJSON"),
        (
            write(
                &dir.join("none.geojson"),
                r#"{"type":"FeatureCollection","features":[]}"#,
            ),
            "the file is empty (no features)",
        ),
        (write(&dir.join("zero.parquet"), ""), "the file is empty"),
    ];
    for (p, expected) in cases {
        let msg = read_boundaries(&p, &[]).expect_err("must fail").to_string();
        let file = p.file_name().and_then(|f| f.to_str()).expect("name");
        assert!(msg.contains(file) && msg.contains(expected), "{msg}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Copies the Lesotho / South Africa shapefile (4326, or its 3857 copy) to `dir/name.*`
/// without its `.prj`.
fn shapefile_without_prj(dir: &Path, source: &str, name: &str) -> PathBuf {
    for ext in ["shp", "shx", "dbf", "cpg"] {
        std::fs::copy(
            data(&format!("fixtures/{source}.{ext}")),
            dir.join(format!("{name}.{ext}")),
        )
        .expect("copy");
    }
    dir.join(format!("{name}.shp"))
}

#[test]
fn shapefile_without_prj_is_read_as_lonlat_with_a_warning() {
    let dir = temp_dir("noprj");
    let shp = shapefile_without_prj(&dir, "lesotho_south_africa_admin1", "noprj");
    let file = read_boundaries(&shp, &["adm1_code".into()]).expect("read");
    assert_eq!(file.warnings.len(), 1);
    assert!(
        file.warnings[0].contains("noprj.shp") && file.warnings[0].contains("no .prj"),
        "{:?}",
        file.warnings
    );
    // With its .prj: no warning, and the same areas.
    let with_prj = data("fixtures/lesotho_south_africa_admin1.shp");
    assert!(
        read_boundaries(&with_prj, &["adm1_code".into()])
            .expect("read")
            .warnings
            .is_empty()
    );
    let a = build_areas(&BoundarySpec {
        admin1: Some(lso_level(&shp)),
        ..Default::default()
    })
    .expect("areas");
    let b = build_areas(&BoundarySpec {
        admin1: Some(lso_level(&with_prj)),
        ..Default::default()
    })
    .expect("areas");
    assert_eq!(a.areas, b.areas);
    assert_eq!(a.notes.warnings, file.warnings);
    assert!(b.notes.warnings.is_empty());
    // The pipeline's report.json carries it in its top-level "warnings".
    let run = run_validated(
        &Inputs {
            points: PointsSpec::new(data("fixtures/points_bad.csv")),
            boundaries: BoundarySpec {
                admin1: Some(lso_level(&shp)),
                ..Default::default()
            },
        },
        Params::default().min_size(1).max_size(2),
    );
    assert_eq!(
        run.report().to_value()["warnings"],
        serde_json::json!(file.warnings)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shapefile_without_prj_in_metres_is_refused() {
    let dir = temp_dir("noprj3857");
    let shp = shapefile_without_prj(&dir, "lesotho_south_africa_admin1_3857", "metres");
    let msg = read_boundaries(&shp, &[])
        .expect_err("must fail")
        .to_string();
    assert!(
        msg.contains("metres.shp") && msg.contains("no .prj file") && msg.contains("not lon/lat"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_crs_is_an_error_naming_the_file() {
    let dir = temp_dir("unknowncrs");
    // A .prj that is not a CRS at all (inputs.rs has one naming an unknown projection).
    let shp = shapefile_without_prj(&dir, "lesotho_south_africa_admin1", "garbage");
    write(
        &dir.join("garbage.prj"),
        "this is not a coordinate reference system",
    );
    let msg = read_boundaries(&shp, &[])
        .expect_err("must fail")
        .to_string();
    assert!(
        msg.contains("garbage.shp") && msg.contains("is not EPSG:4326"),
        "{msg}"
    );
    // GeoParquet boundaries whose PROJJSON names a code that does not exist.
    let q = write_geoparquet(
        &dir.join("unknown_crs.parquet"),
        vec![wkb(&square(0.0, 0.0))],
        &[("admin1_code", vec!["A"]), ("country_code", vec!["X"])],
        Some(serde_json::json!({"id": {"authority": "EPSG", "code": 999_999}})),
    );
    let msg = read_boundaries(&q, &[]).expect_err("must fail").to_string();
    assert!(
        msg.contains("unknown_crs.parquet") && msg.contains("EPSG:999999"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// evaluate: every row counts.

fn coords() -> Predicted {
    Predicted::Coordinates {
        lon: "pred_lon".into(),
        lat: "pred_lat".into(),
    }
}

#[test]
fn evaluate_counts_missing_predictions_as_misses() {
    let dir = temp_dir("eval-missing");
    // Four rows, all exact, but two have no usable prediction: half the rows are misses.
    let p = write(
        &dir.join("preds.csv"),
        "true_lon,true_lat,pred_lon,pred_lat\n0,0,0,0\n10,10,10,10\n20,20,,\n30,30,abc,30\n",
    );
    let e = evaluate_file(&p, "true_lon", "true_lat", &coords()).expect("evaluate");
    assert_eq!(
        (e.rows, e.scored, e.missing_prediction, e.unknown_cell),
        (4, 2, 2, 0)
    );
    assert_eq!(e.stats.n, 4);
    for a in &e.stats.accuracy {
        assert_eq!(a.fraction, 0.5, "within {} km", a.km);
    }
    assert_eq!(e.stats.geoguessr, 2500.0);
    assert_eq!(e.stats.median_km, f64::INFINITY);
    assert_eq!(e.stats.mean_km, f64::INFINITY);
    assert_eq!(e.mean_km_scored, 0.0);
    assert!(e.rule.starts_with("every row counts"));
    // In JSON: the counts, the rule, infinite values as null.
    let j = serde_json::to_value(&e).expect("json");
    assert_eq!(j["missing_prediction"], 2);
    assert_eq!(j["stats"]["mean_km"], serde_json::Value::Null);
    // No usable prediction at all: accuracy 0, not 1 and not an empty mean.
    let q = write(
        &dir.join("none.csv"),
        "true_lon,true_lat,pred_lon,pred_lat\n0,0,,\n1,1,,\n",
    );
    let e = evaluate_file(&q, "true_lon", "true_lat", &coords()).expect("evaluate");
    assert_eq!((e.rows, e.scored, e.missing_prediction), (2, 0, 2));
    assert!(e.stats.accuracy.iter().all(|a| a.fraction == 0.0));
    assert_eq!(e.stats.geoguessr, 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn evaluate_counts_unknown_cells_as_misses() {
    let dir = temp_dir("eval-cells");
    // Cell 0 at (0, 0); cell 7 unknown; a null cell; 0.0 as pandas writes ints with gaps; 0.5
    // is no cell.
    let p = write_polars(
        &dir.join("cells.parquet"),
        vec![
            Series::new("true_lon".into(), vec![0.0f64; 5]),
            Series::new("true_lat".into(), vec![0.0f64; 5]),
            Series::new(
                "pred_cell".into(),
                vec![Some(0.0f64), Some(7.0), None, Some(0.0), Some(0.5)],
            ),
        ],
    );
    let predicted = Predicted::Cells {
        column: "pred_cell".into(),
        centroids: [(0i64, (0.0, 0.0)), (200, (1.0, 0.0))]
            .into_iter()
            .collect(),
    };
    let e = evaluate_file(&p, "true_lon", "true_lat", &predicted).expect("evaluate");
    assert_eq!(
        (e.rows, e.scored, e.missing_prediction, e.unknown_cell),
        (5, 2, 1, 2)
    );
    assert_eq!(e.stats.accuracy[0].fraction, 0.4);
    // Integer cell ids above 90 (out of any latitude range) are still cells.
    let q = write(
        &dir.join("cells.csv"),
        "true_lon,true_lat,pred_cell\n1,0,200\n0,0,0\n",
    );
    let e = evaluate_file(&q, "true_lon", "true_lat", &predicted).expect("evaluate");
    assert_eq!((e.rows, e.scored, e.unknown_cell), (2, 2, 0));
    assert_eq!(e.stats.accuracy[0].fraction, 1.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn evaluate_refuses_rows_without_a_true_coordinate() {
    let dir = temp_dir("eval-truth");
    let p = write(
        &dir.join("truth.csv"),
        "true_lon,true_lat,pred_lon,pred_lat\n0,0,0,0\n,1,1,1\n2,2,2,2\nabc,3,3,3\n",
    );
    let err = evaluate_file(&p, "true_lon", "true_lat", &coords()).expect_err("must fail");
    assert!(
        matches!(err, EvaluateError::BadTruth { count: 2, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("truth.csv")
            && msg.contains("2 row(s)")
            && msg.contains("row 1 (missing_coordinate), row 3 (not_a_number)"),
        "{msg}"
    );
    // No rows at all: an error too.
    let q = write(
        &dir.join("header.csv"),
        "true_lon,true_lat,pred_lon,pred_lat\n",
    );
    let err = evaluate_file(&q, "true_lon", "true_lat", &coords()).expect_err("must fail");
    assert!(
        matches!(err, EvaluateError::Io(IoError::Empty { .. }))
            && err.to_string().contains("header.csv"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
