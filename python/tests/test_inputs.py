"""Every input type gives the same run, and bad input gives the library's error.

Points: the GeoNames places of Belgium, the Netherlands and Luxembourg from the shipped
data (real places); boundaries: the Natural Earth admin-1 fixture of Benelux."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import geocells

BENELUX = "data/fixtures/benelux_admin1.geojson"
PARAMS = dict(admin0=None, admin2=None, min_size=20, max_size=120, progress=False)


@pytest.fixture(scope="module")
def places(root):
    t = pq.read_table(root / "data" / "geonames_cities1000.parquet",
                      columns=["id", "name", "lon", "lat", "cc"])
    df = t.to_pandas()
    return df[df["cc"].isin(["BE", "NL", "LU"])].sort_values("id").reset_index(drop=True)


@pytest.fixture(scope="module")
def from_path(places, tmp_path_factory):
    path = tmp_path_factory.mktemp("pts") / "benelux.parquet"
    pq.write_table(pa.Table.from_pandas(places, preserve_index=False), path)
    return geocells.build(str(path), admin1=BENELUX, **PARAMS)


def same_run(a, b, snap_tolerance=0.0):
    assert a.cells_table.equals(b.cells_table)
    cols = ["row", "cell_id", "area_code"]
    assert a.labels_table.select(cols).equals(b.labels_table.select(cols))
    np.testing.assert_allclose(a.labels["snap_km"], b.labels["snap_km"], rtol=0, atol=snap_tolerance)
    assert a.targets_table.equals(b.targets_table)


def test_the_split_ran(from_path, places):
    # A real run: every place labelled, cells split below MAX.
    assert len(from_path.labels) == len(places)
    sizes = from_path.cells["size"]
    assert sizes.max() <= 120 and len(sizes) > from_path.report["counts"]["admin_cells"]


@pytest.mark.parametrize("kind", ["pandas", "pyarrow", "polars", "numpy", "geopandas"])
def test_every_points_type_gives_the_file_run(kind, places, from_path):
    if kind == "pandas":
        points = places
    elif kind == "pyarrow":
        points = pa.Table.from_pandas(places, preserve_index=False)
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        points = pl.from_pandas(places)
    elif kind == "numpy":
        points = (places["lon"].to_numpy(), places["lat"].to_numpy(), places["id"].to_numpy())
    else:
        gpd = pytest.importorskip("geopandas")
        points = gpd.GeoDataFrame(places[["id", "name"]],
                                  geometry=gpd.points_from_xy(places["lon"], places["lat"]),
                                  crs="EPSG:4326")
    run = geocells.build(points, admin1=BENELUX, **PARAMS)
    same_run(run, from_path)
    # In-memory input is reported as such, with a hash of its data.
    assert run.report["inputs"][0]["kind"] == "dataframe"


def test_a_geodataframe_of_boundaries_gives_the_file_run(from_path, places, tmp_path):
    gpd = pytest.importorskip("geopandas")
    admin1 = gpd.read_file(BENELUX)
    run = geocells.build(places, admin1=admin1, **PARAMS)
    # GDAL reads the GeoJSON's coordinates to the last bit or one off: snap distances (points
    # off the coast) then differ by ~1e-13 km; cells and labels are the same.
    same_run(run, from_path, snap_tolerance=1e-9)
    # ... also in another CRS (reprojected to lon/lat first).
    run = geocells.build(places, admin1=admin1.to_crs("EPSG:3035"), **PARAMS)
    assert run.num_cells == from_path.num_cells
    assert (run.labels["cell_id"] == from_path.labels["cell_id"]).mean() > 0.99


def test_level_column_options(places):
    run = geocells.build(places, admin1=geocells.Level(BENELUX, code_col="iso_a2", name_col="country_name"),
                         admin0=None, admin2=None, split=False, progress=False)
    # Three countries as three admin-1 areas.
    assert sorted(run.cells["name"].unique()) == ["Belgium", "Luxembourg", "Netherlands"]


def test_bad_rows_are_rejected_with_reasons(places):
    bad = places.head(50).copy()
    bad.loc[3, "lat"] = np.nan
    bad.loc[7, "lon"] = 200.0
    run = geocells.build(bad, admin1=BENELUX, split=False, **{k: v for k, v in PARAMS.items() if k not in ("min_size", "max_size")})
    rejects = run.rejects
    assert rejects["row"].tolist() == [3, 7]
    assert rejects["reason"].tolist() == ["missing_coordinate", "out_of_range"]
    assert len(run.labels) == 48


def test_missing_file_is_an_input_error_naming_it():
    with pytest.raises(geocells.InputError, match="no_such_points.parquet"):
        geocells.build("no_such_points.parquet", admin1=BENELUX, **PARAMS)


def test_bad_params_are_refused_with_the_range(places):
    with pytest.raises(geocells.ParamsError, match="min"):
        geocells.build(places, admin1=BENELUX, admin0=None, admin2=None, min_size=500, max_size=100, progress=False)
    with pytest.raises(geocells.ParamsError, match="metric"):
        geocells.build(places, admin1=BENELUX, admin0=None, admin2=None, metric="manhattan", progress=False)
    with pytest.raises(geocells.ParamsError):
        geocells.build(places, admin1=BENELUX, admin0=None, admin2=None, threads=0, progress=False)


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="points"):
        geocells.build(42, admin1=BENELUX, **PARAMS)
    with pytest.raises(TypeError, match="admin1"):
        geocells.build((np.zeros(3), np.zeros(3)), admin1=42, **PARAMS)


def test_points_that_are_not_points_are_refused(places):
    gpd = pytest.importorskip("geopandas")
    boundaries = gpd.read_file(BENELUX)
    with pytest.raises(geocells.InputError, match="row 0 .* not a Point"):
        geocells.build(boundaries, admin1=BENELUX, **PARAMS)


def test_progress_callback_sees_the_stages(places):
    seen = []
    geocells.build(places, admin1=BENELUX, **{**PARAMS, "progress": lambda *a: seen.append(a)})
    names = [s[1] for s in seen]
    assert "read points" in names or "assign points" in names
    assert any(n.startswith("split") for n in names)
    assert [s[0] for s in seen] == sorted(s[0] for s in seen)


def test_a_hive_partitioned_dataset_is_read_as_its_files_in_order(places, tmp_path):
    import pyarrow.dataset as ds

    table = pa.Table.from_pandas(places, preserve_index=False)
    ds.write_dataset(table, tmp_path / "points", format="parquet", partitioning=["cc"],
                     partitioning_flavor="hive")
    files = sorted((tmp_path / "points").rglob("*.parquet"))
    assert [f.parent.name for f in files] == ["cc=BE", "cc=LU", "cc=NL"]
    # The same rows as one file, in the dataset's order (file by file).
    one = tmp_path / "one.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(f) for f in files]), one)
    a = geocells.build(str(tmp_path / "points"), admin1=BENELUX, **PARAMS)
    b = geocells.build(str(one), admin1=BENELUX, **PARAMS)
    same_run(a, b)
    assert a.report["inputs"][0]["path"].endswith("points")
    assert a.report["inputs"][0]["bytes"] == sum(f.stat().st_size for f in files)


def test_a_projected_boundary_file_says_how_to_read_it(places):
    # The wheel is built without PROJ: a file in Web Mercator is refused with both ways out.
    shp = "data/fixtures/lesotho_south_africa_admin1_3857.shp"
    with pytest.raises(geocells.InputError, match="lesotho_south_africa_admin1_3857.shp") as e:
        geocells.build(places, admin0=None, admin1=shp, admin2=None, progress=False)
    assert "MATURIN_PEP517_ARGS" in str(e.value) and "GeoDataFrame" in str(e.value)
    # ... and as a GeoDataFrame it is reprojected and read.
    gpd = pytest.importorskip("geopandas")
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(27, 29.5, 2000), rng.uniform(-30.5, -28.5, 2000)
    run = geocells.build((lon, lat), admin0=None, admin1=gpd.read_file(shp), admin2=None,
                         min_size=50, max_size=400, progress=False)
    assert set(run.cells["country"]) <= {"Lesotho", "South Africa"} and len(run.rejects) == 0
