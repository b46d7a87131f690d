"""The per-country shards and their merge as Dask tasks on a local cluster of 2 worker
processes: the files equal the single run's."""

import json

import pytest

import geocells
import geocells.distributed
from conftest import report_without_timings, run_files

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as c:
            yield c


def test_plan_groups_balances_points():
    groups = geocells.distributed.plan_groups({"USA": 100, "FRA": 40, "DEU": 35, "ITA": 30, "LUX": 1}, 2)
    # Greedy by points: USA; FRA, DEU, ITA to the other group (105); LUX to the lighter (101).
    assert groups == [["LUX", "USA"], ["DEU", "FRA", "ITA"]]
    with pytest.raises(ValueError):
        geocells.distributed.plan_groups({"USA": 1}, 0)


def test_distributed_build_equals_the_single_run(client, cli_out, tmp_path):
    out = tmp_path / "out"
    report = geocells.distributed.build(client, out=out, keep_shards=True)
    shards = sorted((tmp_path / "out.shards").glob("shard-*"))
    # Two shards, each a usable run of its own countries.
    assert len(shards) == 2
    for s in shards:
        assert geocells.check_output(s)["consistent"]
    # The points were assigned once, into a dataset partitioned by country, which the shards
    # read (their reports name the original points all the same).
    manifest = json.loads((tmp_path / "out.shards" / "assigned" / "_geocells_assigned.json").read_text())
    assert manifest["labelled"] == report["counts"]["points_labelled"]
    assert (tmp_path / "out.shards" / "assigned" / "country=USA" / "part-0.parquet").is_file()
    assert run_files(out) == run_files(cli_out)
    for name in run_files(cli_out):
        if name == "report.json":
            assert report_without_timings(out / name) == report_without_timings(cli_out / name)
        else:
            assert (out / name).read_bytes() == (cli_out / name).read_bytes(), name
    assert report["counts"] == json.loads((cli_out / "report.json").read_text())["counts"]


def test_a_merge_missing_a_country_is_refused_with_the_librarys_message(tmp_path):
    # Benelux split into a shard of Belgium only: the Netherlands' family above MAX is in no shard.
    params = dict(admin0=None, admin1="data/fixtures/benelux_admin1.geojson", admin2=None,
                  min_size=20, max_size=120, progress=False)
    points = "data/geonames_cities1000.parquet"
    shard = tmp_path / "bel"
    geocells.build(points, countries=["BEL"], **params).write(shard)
    with pytest.raises(geocells.GeocellsError, match="above MAX but no shard has it"):
        geocells.merge([shard], points, **params)
    with pytest.raises(TypeError, match="countries"):
        geocells.merge([shard], points, countries=["NLD"], **params)


def test_assign_once_gives_a_hive_dataset_that_runs_read_in_place_of_the_points(tmp_path):
    import pyarrow.dataset as ds

    params = dict(admin0=None, admin1="data/fixtures/benelux_admin1.geojson", admin2=None,
                  min_size=20, max_size=120, progress=False)
    points = "data/geonames_cities1000.parquet"
    assigned = tmp_path / "assigned"
    manifest = geocells.assign_once(assigned, points, admin0=None,
                                    admin1="data/fixtures/benelux_admin1.geojson", admin2=None,
                                    progress=False)
    assert [p["country_code"] for p in manifest["partitions"]] == ["BEL", "LUX", "NLD"]
    # Engines read it as a dataset of the points, the country from the folder names.
    table = ds.dataset(assigned, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == manifest["labelled"]
    assert sorted(set(table.column("country").to_pylist())) == ["BEL", "LUX", "NLD"]
    assert manifest["labelled"] + manifest["rejected"] == manifest["input_rows"]

    whole = geocells.build(points, **params)
    again = geocells.build(assigned, **params)
    assert again.labels_table.equals(whole.labels_table)
    assert again.cells_table.equals(whole.cells_table)
    assert again.rejects.equals(whole.rejects)
    assert again.report["inputs"] == whole.report["inputs"]

    # A country's run reads only its partition.
    (assigned / "country=NLD").rename(tmp_path / "nld")
    bel = geocells.build(assigned, countries=["BEL"], **params)
    assert set(bel.cells_table.column("country_code").to_pylist()) == {"BEL"}
    with pytest.raises(geocells.InputError, match="country=NLD"):
        geocells.build(assigned, **params)
    (tmp_path / "nld").rename(assigned / "country=NLD")
    # Other inputs than the dataset's are refused, naming the difference.
    with pytest.raises(geocells.InputError, match="snap_km"):
        geocells.build(assigned, **{**params, "snap_km": 5.0})
