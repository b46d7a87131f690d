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
