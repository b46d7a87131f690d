"""The Python package against the CLI on the shipped data: the same files, the same tables."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

import geocells
from conftest import report_without_timings, run_files


def test_write_gives_the_files_of_build_cells(py_run, cli_out, tmp_path):
    out = tmp_path / "py"
    written = py_run.write(out)
    assert sorted(p.split("/")[-1] for p in map(str, written)) == run_files(cli_out) == run_files(out)
    assert len(run_files(out)) == 9
    for name in run_files(cli_out):
        if name == "report.json":
            assert report_without_timings(out / name) == report_without_timings(cli_out / name)
        else:
            assert (out / name).read_bytes() == (cli_out / name).read_bytes(), name
    check = geocells.check_output(out)
    assert check["consistent"], check["problems"]
    assert check["run_id"] == json.loads((cli_out / "report.json").read_text())["run_id"]


def test_tables_equal_the_files(py_run, cli_out):
    cells = pq.read_table(cli_out / "cells.parquet")
    assert py_run.cells_table.equals(cells.cast(py_run.cells_table.schema))
    points = pq.read_table(cli_out / "points.parquet").drop_columns(["geometry"])
    labels = py_run.labels_table
    assert labels.column_names == points.column_names
    assert labels.equals(points.cast(labels.schema))
    targets = pq.read_table(cli_out / "targets.parquet")
    assert py_run.targets_table.equals(targets.cast(py_run.targets_table.schema))
    rejects = pq.read_table(cli_out / "rejects.parquet")
    assert py_run.rejects.equals(rejects.to_pandas())


def test_cells_is_a_geodataframe_in_crs84(py_run):
    gpd = pytest.importorskip("geopandas")
    cells = py_run.cells
    assert isinstance(cells, gpd.GeoDataFrame)
    assert cells.crs.equals("OGC:CRS84")
    assert len(cells) == py_run.num_cells
    assert (cells["cell_id"].to_numpy() == np.arange(len(cells))).all()
    assert cells.geometry.is_valid.all()
    # Cell sizes are the labelled points per cell.
    counts = np.bincount(py_run.labels["cell_id"].to_numpy(), minlength=len(cells))
    assert (counts == cells["size"].to_numpy()).all()


def test_report_is_a_dict_with_the_run(py_run):
    r = py_run.report
    assert r["params"]["preset"] == "pigeon"
    c = r["counts"]
    assert c["points_labelled"] == len(py_run.labels)
    assert c["points_labelled"] + c["rejects"] == c["input_rows"] == len(py_run.labels) + len(py_run.rejects)
    assert c["cells"] == py_run.num_cells


def test_target_arrays_match_the_long_table(py_run):
    cells, weights = py_run.target_arrays()
    labels = py_run.labels
    assert cells.shape == weights.shape == (len(labels), py_run.report["params"]["top_k"])
    # Weights are normalised over all cells: the top k hold at most all of it, largest first.
    assert (weights.sum(axis=1) <= 1 + 1e-9).all() and (weights[:, 0] > 0).all()
    assert (np.diff(weights, axis=1) <= 0).all()
    t = py_run.targets
    first = t[t["rank"] == 0].set_index("row")["cell_id"]
    assert (cells[:, 0] == first.loc[labels["row"]].to_numpy()).all()


def test_write_draws_a_zoomed_map_by_rule(py_run, tmp_path):
    # --map-bbox paris --map-colour rule from Python: a complete run with its own run id, the
    # map 2,400 px wide; the same box as four numbers gives the same map.
    out = tmp_path / "paris"
    py_run.write(out, map_bbox="paris", map_colour="rule")
    check = geocells.check_output(out)
    assert check["consistent"], check["problems"]
    png = (out / "map.png").read_bytes()
    assert int.from_bytes(png[16:20], "big") == 2400
    again = tmp_path / "paris-numbers"
    py_run.write(again, map_bbox=[1.90, 48.55, 2.80, 49.10], map_colour="rule")
    assert (again / "map.png").read_bytes() == png
    for bad, says in [("berlin", "neither a known name"), ((3, 0, 1, 1), "east of max_lon"),
                      ((1, 2, 3), "neither a name nor four numbers")]:
        with pytest.raises(ValueError, match=says):
            py_run.write(tmp_path / "bad", map_bbox=bad)
    with pytest.raises(ValueError, match="not one of cell, rule"):
        py_run.write(tmp_path / "bad", map_colour="admin")
    assert not (tmp_path / "bad" / "map.png").exists()


def test_write_refuses_a_directory_it_did_not_write(py_run, tmp_path):
    # A run replaces its whole output directory, so one holding other files is refused by name.
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.tex").write_text("\\documentclass{article}")
    with pytest.raises(geocells.OutputError, match="thesis.tex"):
        py_run.write(out)
    assert (out / "thesis.tex").exists() and len(list(out.iterdir())) == 1
    # A regular file in its place is refused too.
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(geocells.OutputError, match="a_file"):
        py_run.write(f)


def test_the_semantic_pass_is_a_keyword_and_its_origins_are_in_the_cells():
    # Benelux with PIGEON's sizes: what the OPTICS settings leave above MAX is divided by the
    # density tree of the last setting (issue 15) instead of straight cuts; a tolerance gates it.
    params = dict(admin0=None, admin1="data/fixtures/benelux_admin1.geojson", admin2=None,
                  progress=False)
    points = "data/geonames_cities1000.parquet"
    classic = geocells.build(points, **params)
    semantic = geocells.build(points, semantic_split=True, **params)
    s = semantic.report["split"]["semantic"]
    assert semantic.report["params"]["semantic"] is True
    assert "semantic" not in classic.report["params"]
    origins = semantic.cells_table.column("origin").to_pylist()
    last = len(semantic.report["params"]["optics"])
    assert origins.count(f"valley:{last}") == s["carves_valley"]
    assert s["carves_valley"] > 0
    assert semantic.report["split"]["fallback_carves"] < classic.report["split"]["fallback_carves"]
    assert not semantic.problems
    gated = geocells.build(points, semantic_split=True, semantic_tolerance=0.0, **params)
    g = gated.report["split"]["semantic"]
    assert gated.report["params"]["semantic_tolerance"] == 0.0
    assert g["carves_valley"] + g["divisions_refused"] > 0
    assert g["carves_valley"] <= s["carves_valley"]
    assert not gated.problems
    with pytest.raises(geocells.ParamsError, match="semantic tolerance"):
        geocells.build(points, semantic_split=True, semantic_tolerance=-1.0, **params)
