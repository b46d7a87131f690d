"""The docs' walkthrough and the PyTorch Dataset example run as written."""

import subprocess
import sys

import pytest


def test_walkthrough_runs(root, tmp_path):
    r = subprocess.run([sys.executable, "python/examples/walkthrough.py", str(tmp_path)], cwd=root,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "cells_by_size.png").stat().st_size > 10_000
    assert (tmp_path / "run" / "cells.parquet").exists()
    assert "first point" in r.stdout


def test_torch_dataset_example_runs(root):
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, "python/examples/torch_dataset.py"], cwd=root,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "loss" in r.stdout
