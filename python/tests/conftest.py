"""Shared fixtures: the repository root, the CLI's output on the shipped data, and the same run
through the Python package (each made once per test session)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_CELLS = ROOT / "target" / "release" / "examples" / "build_cells"

@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    # The shipped data paths are relative to the repository root, as for build_cells.
    monkeypatch.chdir(ROOT)


def run_cli(out, *args):
    if not BUILD_CELLS.exists():
        pytest.fail(f"{BUILD_CELLS} is missing: run `cargo build --release --examples` first")
    subprocess.run([str(BUILD_CELLS), "--quiet", "--out", str(out), *args], cwd=ROOT, check=True)
    return out


@pytest.fixture(scope="session")
def cli_out(tmp_path_factory):
    """build_cells without arguments (the shipped data), written by the CLI."""
    return run_cli(tmp_path_factory.mktemp("cli") / "out")


@pytest.fixture(scope="session")
def py_run():
    """The same run through the Python package."""
    import geocells

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return geocells.build(progress=False)
    finally:
        os.chdir(cwd)


def run_files(out):
    """The files of an output directory (what build_cells --out wrote), by name."""
    return sorted(p.name for p in Path(out).iterdir() if not p.name.startswith("."))


def report_without_timings(path):
    r = json.loads(Path(path).read_text())
    r.pop("timings_s", None)
    return r
