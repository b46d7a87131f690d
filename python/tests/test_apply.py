"""assign, smooth and metrics with numpy in and out, checked against the run's own tables and
against hand computations."""

import numpy as np
import pytest

import geocells


def test_assign_puts_the_runs_points_in_their_cells(py_run, cli_out):
    labels = py_run.labels
    inside = labels[labels["snap_km"] == 0].head(5000)
    cell, km = geocells.assign(py_run, inside["lon"].to_numpy(), inside["lat"].to_numpy())
    assert cell.dtype == np.int64 and km.dtype == np.float64
    # A point inside a cell is in exactly one (the partition is disjoint): its own.
    assert (cell == inside["cell_id"].to_numpy()).mean() > 0.999
    assert (km == 0).mean() > 0.999
    # The written cells give the same answer as the run in memory.
    cell2, km2 = geocells.assign(cli_out, inside["lon"].to_numpy(), inside["lat"].to_numpy())
    assert (cell2 == cell).all() and (km2 == km).all()


def test_assign_snaps_points_at_sea():
    cells = geocells.build((np.array([4.35, 4.40, 5.1]), np.array([50.85, 50.80, 52.1])),
                           admin0=None, admin1="data/fixtures/benelux_admin1.geojson", admin2=None,
                           min_size=1, max_size=10, split=False, progress=False)
    # Off the Belgian coast, in the North Sea.
    cell, km = geocells.assign(cells, [2.5], [51.4])
    assert cell[0] >= 0 and 0 < km[0] < 100


def test_smooth_of_the_runs_points_is_its_targets(py_run):
    labels = py_run.labels
    cells, weights = py_run.target_arrays()
    got_cells, got_weights = geocells.smooth(py_run, labels["lon"].to_numpy(), labels["lat"].to_numpy(),
                                             tau_km=py_run.report["params"]["tau_km"],
                                             top_k=py_run.report["params"]["top_k"])
    assert (got_cells == cells).all()
    assert (got_weights == weights).all()


def test_smooth_hand_computed(tmp_path):
    # Two cells whose centroids are 111.195 km apart (1 degree of longitude at the equator); a
    # point on the first: weights 1 and exp(-111.195/75), normalised.
    import pyarrow as pa
    import pyarrow.parquet as pq

    cells = tmp_path / "cells.parquet"
    pq.write_table(pa.table({"cell_id": [1, 0], "centroid_lon": [1.0, 0.0], "centroid_lat": [0.0, 0.0]}), cells)
    ids, w = geocells.smooth(cells, [0.0], [0.0], tau_km=75.0, top_k=2)
    e = np.exp(-111.19508 / 75.0)
    assert ids.tolist() == [[0, 1]]
    np.testing.assert_allclose(w[0], [1 / (1 + e), e / (1 + e)], rtol=1e-5)


def test_metrics_hand_computed():
    # Errors of 0, 111.195 (1 degree on the equator) and 20015.1 km (antipode).
    m = geocells.metrics([0, 0, 0], [0, 0, 0], [0, 1, 180], [0, 0, 0])
    assert m["n"] == 3
    assert m["median_km"] == pytest.approx(111.19508, rel=1e-5)
    assert m["mean_km"] == pytest.approx((111.19508 + 20015.0868) / 3, rel=1e-5)
    acc = {a["km"]: a["fraction"] for a in m["accuracy"]}
    assert acc[1.0] == pytest.approx(1 / 3) and acc[200.0] == pytest.approx(2 / 3)
    assert 0 < m["geoguessr"] < 5000
