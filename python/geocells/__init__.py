"""geocells: semantic geocells for image geolocation, from Python.

A thin layer over the geocells Rust library (the same code as the ``build_cells`` command):

>>> import geocells
>>> run = geocells.build(                       # doctest: +SKIP
...     "data/geonames_cities1000.parquet",
...     admin0="data/admin0_world.parquet",
...     admin1="data/admin1_world.parquet",
...     admin2="data/admin2_us.parquet",
... )
>>> run.cells                                   # doctest: +SKIP  (a GeoDataFrame)
>>> run.write("out")                            # doctest: +SKIP  (the files of build_cells)

Tables cross between Python and Rust as Arrow C streams (the Arrow PyCapsule interface): the
column buffers are handed over, not converted row by row. The work runs without the GIL on a
Rust thread; Ctrl-C stops it and raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa

from . import _geocells
from ._geocells import GeocellsError, InputError, OutputError, ParamsError

__version__ = _geocells.__version__

__all__ = [
    "build",
    "merge",
    "assign_once",
    "Run",
    "Level",
    "assign",
    "smooth",
    "metrics",
    "check_output",
    "default_data",
    "PartitionWarning",
    "GeocellsError",
    "InputError",
    "ParamsError",
    "OutputError",
]

#: The files of the default data shipped in the repository's ``data/`` (what ``build_cells``
#: reads when run without arguments), relative to the repository root.
DEFAULT_DATA = {
    "points": "data/geonames_cities1000.parquet",
    "admin0": "data/admin0_world.parquet",
    "admin1": "data/admin1_world.parquet",
    "admin2": "data/admin2_us.parquet",
}


def default_data(root: Union[str, os.PathLike] = ".") -> dict:
    """The shipped default inputs under the repository ``root`` (keyword arguments of
    :func:`build`): ``geocells.build(**geocells.default_data("path/to/repo"))`` is
    ``build_cells`` without arguments."""
    root = Path(root)
    return {k: str(root / v) for k, v in DEFAULT_DATA.items()}


class _Stream:
    """Hands one Arrow C stream capsule to a consumer (``pyarrow.table``)."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __arrow_c_stream__(self, requested_schema=None):
        capsule, self._capsule = self._capsule, None
        if capsule is None:
            raise RuntimeError("this Arrow stream was already consumed")
        return capsule


def _table(capsule) -> pa.Table:
    return pa.table(_Stream(capsule))


# ----------------------------------------------------------------------------------------------
# Inputs


class Level:
    """A boundary level: a file (shapefile with .prj, GeoJSON, GeoParquet) or a GeoDataFrame,
    with the column options of ``build_cells`` (``--admin1-code-col`` is ``code_col``, ...).
    Columns left out are found as ``build_cells`` finds them (GADM, Natural Earth,
    geoBoundaries, Census names)."""

    def __init__(
        self,
        source,
        *,
        code_col: Optional[str] = None,
        name_col: Optional[str] = None,
        admin1_code_col: Optional[str] = None,
        admin1_name_col: Optional[str] = None,
        country_code_col: Optional[str] = None,
        country_name_col: Optional[str] = None,
        country: Optional[Tuple[str, str]] = None,
    ):
        self.source = source
        self.options = {
            "code_col": code_col,
            "name_col": name_col,
            "admin1_code_col": admin1_code_col,
            "admin1_name_col": admin1_name_col,
            "country_code_col": country_code_col,
            "country_name_col": country_name_col,
            "country": tuple(country) if country is not None else None,
        }


def _is_geodataframe(x) -> bool:
    return type(x).__name__ == "GeoDataFrame" and hasattr(x, "geometry")


def _lonlat_table(lon, lat, ids=None) -> pa.Table:
    cols = {"lon": pa.array(np.asarray(lon, dtype=np.float64)), "lat": pa.array(np.asarray(lat, dtype=np.float64))}
    if ids is not None:
        cols["id"] = pa.array(ids)
    return pa.table(cols)


def _to_arrow(obj) -> pa.Table:
    """A pandas/polars DataFrame or a pyarrow Table or RecordBatch as a pyarrow Table."""
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(obj, preserve_index=False)
    if module == "polars":
        return obj.to_arrow()
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    raise TypeError(
        "points: expected a path, a pandas/geopandas/polars DataFrame, a pyarrow Table or "
        f"a (lon, lat) pair of arrays, got {type(obj).__name__}"
    )


def _resolve_points(points, columns):
    """(source for the extension, column options)."""
    cols = {k: columns.get(k) for k in ("lon_col", "lat_col", "id_col", "geometry_col")}
    if isinstance(points, (str, os.PathLike)):
        return os.fspath(points), cols
    if isinstance(points, tuple) and len(points) in (2, 3):
        lon, lat = points[0], points[1]
        ids = points[2] if len(points) == 3 else None
        return _lonlat_table(lon, lat, ids), {"lon_col": "lon", "lat_col": "lat", "id_col": "id" if ids is not None else None, "geometry_col": None}
    if _is_geodataframe(points):
        gdf = points
        if gdf.crs is not None and not gdf.crs.equals("OGC:CRS84") and gdf.crs.to_epsg() != 4326:
            gdf = gdf.to_crs("OGC:CRS84")
        geom = gdf.geometry
        if len(geom) and not (geom.geom_type == "Point").all():
            bad = int(np.flatnonzero((geom.geom_type != "Point").to_numpy())[0])
            raise InputError(f"points: row {bad} of the GeoDataFrame is a {geom.iloc[bad].geom_type}, not a Point")
        table = _to_arrow(gdf.drop(columns=[gdf.geometry.name]))
        empty = geom.is_empty.to_numpy() | geom.isna().to_numpy()
        x = np.where(empty, np.nan, geom.x.to_numpy(na_value=np.nan) if not empty.all() else np.nan)
        y = np.where(empty, np.nan, geom.y.to_numpy(na_value=np.nan) if not empty.all() else np.nan)
        table = table.append_column("lon", pa.array(x, mask=empty)).append_column("lat", pa.array(y, mask=empty))
        return table, {"lon_col": "lon", "lat_col": "lat", "id_col": cols["id_col"], "geometry_col": None}
    return _to_arrow(points), cols


def _params(
    preset, min_size, max_size, optics, metric, split, fallback, check_carves,
    snap_km, fuse_max_km, tau_km, top_k, countries, semantic_split=None,
    semantic_tolerance=None,
) -> dict:
    d = {
        "preset": preset,
        "min_size": min_size,
        "max_size": max_size,
        "optics": [tuple(x) for x in optics] if optics is not None else None,
        "metric": metric,
        "split": split,
        "fallback": fallback,
        "check_carves": check_carves,
        "semantic_split": semantic_split,
        "semantic_tolerance": semantic_tolerance,
        "snap_km": snap_km,
        "tau_km": tau_km,
        "top_k": top_k,
        "countries": list(countries) if countries is not None else None,
    }
    if fuse_max_km != "default":
        d["fuse_max_km"] = fuse_max_km
    return d


class _Bars:
    """tqdm bars, one per stage (when tqdm is installed), else a line per stage on stderr."""

    def __init__(self):
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - depends on the environment
            tqdm = None
        self._tqdm = tqdm
        self._stage = 0
        self._bar = None

    def __call__(self, number, name, done, total):
        if number != self._stage:
            self.close()
            self._stage = number
            if self._tqdm is not None:
                self._bar = self._tqdm(total=total or None, desc=name, unit="", leave=False)
            else:
                import sys

                print(f"geocells: {name}", file=sys.stderr)
        if self._bar is not None:
            self._bar.n = done
            self._bar.refresh()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _progress(progress):
    if progress is True:
        return _Bars()
    if progress is False or progress is None:
        return None
    if callable(progress):
        return progress
    raise TypeError("progress: expected True, False or a callable(stage, name, done, total)")


def _call(fn, progress, *args, **kwargs):
    cb = _progress(progress)
    try:
        return fn(*args, progress=cb, **kwargs)
    except InputError as e:
        if "--features proj" in str(e):
            # The library's hint is for cargo; the wheel is rebuilt with maturin's arguments.
            raise InputError(
                f"{e}; for this Python package: MATURIN_PEP517_ARGS=\"--features proj\" pip install ./python "
                "(after bash .ci/install-system-deps.sh), or pass the boundaries as a GeoDataFrame"
            ) from None
        raise
    finally:
        if isinstance(cb, _Bars):
            cb.close()


# ----------------------------------------------------------------------------------------------
# The run


class Run:
    """A finished run (what :func:`build` returns). Its tables are built on first use."""

    def __init__(self, handle):
        self._handle = handle
        self._cache = {}

    def __repr__(self) -> str:
        return f"<geocells.Run: {self._handle.num_cells()} cells>"

    def _get(self, name):
        if name not in self._cache:
            self._cache[name] = _table(getattr(self._handle, name)())
        return self._cache[name]

    @property
    def cells_table(self) -> pa.Table:
        """The cells as a pyarrow Table: the columns of ``cells.parquet``, ``geometry`` as WKB
        (lon/lat, OGC:CRS84)."""
        return self._get("cells")

    @property
    def cells(self):
        """The cells as a geopandas GeoDataFrame (CRS OGC:CRS84) when geopandas is installed,
        else as :attr:`cells_table`."""
        table = self.cells_table
        try:
            import geopandas as gpd
        except ImportError:
            return table
        df = table.drop_columns(["geometry"]).to_pandas()
        geometry = gpd.GeoSeries.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False), crs="OGC:CRS84")
        return gpd.GeoDataFrame(df, geometry=geometry, crs="OGC:CRS84")

    @property
    def labels_table(self) -> pa.Table:
        """The point labels as a pyarrow Table (the columns of ``points.parquet`` but its
        geometry), one row per labelled point in input order."""
        return self._get("labels")

    @property
    def labels(self):
        """The point labels as a pandas DataFrame."""
        return self.labels_table.to_pandas()

    @property
    def targets_table(self) -> pa.Table:
        """The smoothed targets as a pyarrow Table in the long form of ``targets.parquet``:
        ``row``, ``rank``, ``cell_id``, ``weight``."""
        return self._get("targets")

    @property
    def targets(self):
        """The smoothed targets as a pandas DataFrame (long form, see :attr:`targets_table`)."""
        return self.targets_table.to_pandas()

    def target_arrays(self) -> Tuple[np.ndarray, np.ndarray]:
        """The targets as two arrays of shape (labelled points, top_k), rows in the order of
        :attr:`labels`: cell ids (int64, -1 where a point has fewer cells within the horizon)
        and weights (float64, 0 there)."""
        t = self.targets_table
        labels = self.labels_table.column("row").to_numpy()
        return _dense(t.column("row").to_numpy(), t.column("rank").to_numpy(),
                      t.column("cell_id").to_numpy(), t.column("weight").to_numpy(), labels)

    @property
    def rejects(self):
        """The input rows that got no label (the ``rejects.parquet`` table) as a pandas
        DataFrame: ``row``, ``id``, ``lon``, ``lat``, ``reason``, ``detail``, ``raw``."""
        return self._get("rejects").to_pandas()

    @property
    def report(self) -> dict:
        """The report (``report.json`` without its manifest of files) as a dict."""
        if "report" not in self._cache:
            self._cache["report"] = json.loads(self._handle.report_json())
        return self._cache["report"]

    @property
    def problems(self) -> list:
        """What the partition check found (empty when it passed or did not run)."""
        return list(self._handle.problems())

    @property
    def num_cells(self) -> int:
        """Number of cells."""
        return self._handle.num_cells()

    def write(self, out: Union[str, os.PathLike], *, map_points: bool = False, map_width: int = 2400,
              progress: Any = False, map_bbox: Union[None, str, Sequence[float]] = None,
              map_colour: str = "cell") -> list:
        """Writes every output file into ``out`` as one unit, the files ``build_cells --out``
        writes (``cells.parquet``, ``cells.geojson``, ``cells.qml``, ``points.parquet``,
        ``targets.parquet``, ``rejects.parquet``, ``map.png``, ``report.md``, ``report.json``).
        ``map_bbox`` draws only a box on ``map.png``: ``(min_lon, min_lat, max_lon, max_lat)``
        or ``"new-york"``, ``"los-angeles"``, ``"paris"``, ``"tokyo"`` (``--map-bbox``);
        ``map_colour="rule"`` colours the cells by the rule that made them (``--map-colour``).
        A bad value raises ``ValueError`` before anything is written. Returns the written
        paths."""
        if map_bbox is not None and not isinstance(map_bbox, str):
            map_bbox = tuple(float(v) for v in map_bbox)
        return _call(self._handle.write, progress, os.fspath(out), map_points, map_width,
                     map_bbox=map_bbox, map_colour=map_colour)


def _dense(row, rank, cell, weight, rows):
    """Long (row, rank, cell, weight) into (n, k) arrays in the order of ``rows``."""
    k = int(rank.max()) + 1 if len(rank) else 0
    position = {int(r): i for i, r in enumerate(rows)} if len(rows) else {}
    index = np.fromiter((position[int(r)] for r in row), dtype=np.int64, count=len(row))
    cells = np.full((len(rows), k), -1, dtype=np.int64)
    weights = np.zeros((len(rows), k), dtype=np.float64)
    cells[index, rank] = cell
    weights[index, rank] = weight
    return cells, weights


def build(
    points: Any = None,
    *,
    admin0: Any = "default",
    admin1: Any = "default",
    admin2: Any = "default",
    lon_col: Optional[str] = None,
    lat_col: Optional[str] = None,
    id_col: Optional[str] = None,
    geometry_col: Optional[str] = None,
    preset: str = "pigeon",
    min_size: Optional[int] = None,
    max_size: Optional[int] = None,
    optics: Optional[Sequence[Tuple[int, float]]] = None,
    metric: Optional[str] = None,
    split: Optional[bool] = None,
    fallback: Optional[bool] = None,
    check_carves: Optional[bool] = None,
    semantic_split: Optional[bool] = None,
    semantic_tolerance: Optional[float] = None,
    snap_km: Optional[float] = None,
    fuse_max_km: Any = "default",
    tau_km: Optional[float] = None,
    top_k: Optional[int] = None,
    countries: Optional[Iterable[str]] = None,
    threads: Optional[int] = None,
    progress: Any = True,
    validate: bool = True,
    _shards: Optional[Sequence[str]] = None,
) -> Run:
    """Builds the cells, as ``build_cells`` does, and returns the :class:`Run`.

    points
        A path (GeoParquet with a WKB geometry, Parquet or CSV with lon/lat columns), a pandas,
        geopandas or polars DataFrame, a pyarrow Table, or a ``(lon, lat)`` or
        ``(lon, lat, ids)`` tuple of arrays. ``None``: the shipped
        ``data/geonames_cities1000.parquet`` under the current directory, like ``build_cells``.
    admin0, admin1, admin2
        A path, a GeoDataFrame, a :class:`Level` (with column options) or ``None`` to leave the
        level out. Left at ``"default"``: the shipped file under ``data/``.
    lon_col, lat_col, id_col, geometry_col
        The points' columns, when they are not found by name.
    preset, min_size, max_size, optics, metric, split, fallback, check_carves, snap_km,
    fuse_max_km, tau_km, top_k, countries, semantic_split, semantic_tolerance
        The parameters of ``build_cells`` (``--preset``, ``--min``, ``--max``, ``--optics``,
        ``--metric``, not ``--no-split``, not ``--no-fallback``, ``--check-carves``,
        ``--snap-km``, ``--fuse-max-km`` (``None`` is ``--no-fuse-guard``), ``--tau-km``,
        ``--top-k``, ``--countries``, ``--semantic-split``, ``--semantic-tolerance``); ``None``
        keeps the preset's value.
    threads
        Worker threads (default: all cores). The result is the same at any count.
    progress
        ``True``: a tqdm bar per stage (a line per stage without tqdm); ``False``: quiet; or a
        callable ``(stage_number, stage_name, done, total)``.
    validate
        Check the partition (disjoint, covering, every point in its cell) and record it in the
        report, as ``build_cells`` does unless ``--no-validate``. A failed check keeps the run:
        a :class:`PartitionWarning` lists the problems (also in ``run.problems`` and
        ``run.report["validation"]``).

    Raises :class:`InputError`, :class:`ParamsError` or :class:`GeocellsError` with the
    library's message, and ``KeyboardInterrupt`` on Ctrl-C.
    """
    inputs = _prepare(points, admin0, admin1, admin2, lon_col, lat_col, id_col, geometry_col)
    params = _params(preset, min_size, max_size, optics, metric, split, fallback, check_carves,
                     snap_km, fuse_max_km, tau_km, top_k, countries, semantic_split,
                     semantic_tolerance)
    handle = _call(_geocells.build, progress, inputs.points, inputs.columns, *inputs.levels,
                   params, threads, validate=validate, shards=_shards)
    return _checked(Run(handle))


class PartitionWarning(UserWarning):
    """The partition check of a run found problems (the run is kept; see ``run.problems``)."""


def _checked(run: "Run") -> "Run":
    problems = run.problems
    if problems:
        import warnings

        shown = "\n  - ".join(problems[:10])
        warnings.warn(f"the partition check failed ({len(problems)} problem(s)):\n  - {shown}",
                      PartitionWarning, stacklevel=3)
    return run


def merge(shards: Sequence[Union[str, os.PathLike]], points: Any = None, **kwargs: Any) -> Run:
    """Merges per-country runs written to ``shards`` (``build_cells --merge``), with the same
    inputs and parameters as the shards (``points`` and the keyword arguments of :func:`build`,
    without ``countries``). The result equals the single run."""
    if kwargs.get("countries") is not None:
        raise TypeError("merge: the shards' countries are not an argument of the merge")
    return build(points, _shards=[os.fspath(s) for s in shards], **kwargs)


def assign_once(
    out: Union[str, os.PathLike],
    points: Any = None,
    *,
    admin0: Any = "default",
    admin1: Any = "default",
    admin2: Any = "default",
    lon_col: Optional[str] = None,
    lat_col: Optional[str] = None,
    id_col: Optional[str] = None,
    geometry_col: Optional[str] = None,
    snap_km: Optional[float] = None,
    threads: Optional[int] = None,
    progress: Any = True,
) -> dict:
    """Assigns the points to their admin areas once and writes them to ``out`` as a Parquet
    dataset partitioned by country (``build_cells --write-assigned``): ``country=<code>/``
    folders of points with their ``area`` and ``snap_km``, plus ``_area_positions.parquet``,
    ``_rejects.parquet`` and the manifest ``_geocells_assigned.json`` (returned as a dict).

    Give ``out`` as the ``points`` of :func:`build` or :func:`merge` afterwards, with the same
    boundaries and ``snap_km``: the points are not assigned again, a run with ``countries``
    reads only those countries' partitions, and the outputs equal those of the run on the
    original points. ``pandas.read_parquet(out)`` reads the points (the ``_`` files are
    skipped). Arguments as in :func:`build`.
    """
    inputs = _prepare(points, admin0, admin1, admin2, lon_col, lat_col, id_col, geometry_col)
    params = _params("pigeon", None, None, None, None, None, None, None, snap_km, "default",
                     None, None, None)
    text = _call(_geocells.assign_once, progress, inputs.points, inputs.columns, *inputs.levels,
                 params, os.fspath(out), threads)
    return json.loads(text)


class _Prepared:
    pass


def _prepare(points, admin0, admin1, admin2, lon_col, lat_col, id_col, geometry_col):
    if points is None:
        points = DEFAULT_DATA["points"]
    columns = {"lon_col": lon_col, "lat_col": lat_col, "id_col": id_col, "geometry_col": geometry_col}
    out = _Prepared()
    out.points, out.columns = _resolve_points(points, columns)
    out.tmp = None
    levels = []
    for x, name in ((admin0, "admin0"), (admin1, "admin1"), (admin2, "admin2")):
        if isinstance(x, str) and x == "default":
            x = DEFAULT_DATA[name]
        if x is None:
            levels.append(None)
            continue
        level = x if isinstance(x, Level) else Level(x)
        source = level.source
        if _is_geodataframe(source):
            # Boundaries are thousands of features: written once as GeoParquet and read by the
            # same reader as a file, so the column detection and repairs are the file's.
            if out.tmp is None:
                out.tmp = tempfile.TemporaryDirectory(prefix="geocells-")
            gdf = source
            if gdf.crs is not None and gdf.crs.to_epsg() != 4326 and not gdf.crs.equals("OGC:CRS84"):
                gdf = gdf.to_crs("OGC:CRS84")
            path = os.path.join(out.tmp.name, f"{name}.parquet")
            gdf.to_parquet(path, index=False)
            source = path
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"{name}: expected a path, a GeoDataFrame or a geocells.Level, got {type(source).__name__}")
        levels.append({"path": os.fspath(source), **level.options})
    out.levels = levels
    return out


def check_output(out: Union[str, os.PathLike]) -> dict:
    """Checks an output directory as ``build_cells --check-output`` does: returns
    ``{"consistent": bool, "run_id": str | None, "problems": [str]}``."""
    ok, run_id, problems = _geocells.check_output(os.fspath(out))
    return {"consistent": ok, "run_id": run_id, "problems": list(problems)}


# ----------------------------------------------------------------------------------------------
# Assign, smooth, metrics


def _cells_arg(cells):
    if isinstance(cells, Run):
        return cells._handle
    if isinstance(cells, (str, os.PathLike)):
        p = Path(cells)
        return os.fspath(p / "cells.parquet" if p.is_dir() else p)
    raise TypeError("cells: expected a geocells.Run, an output directory or a cells.parquet path")


def assign(cells, lon, lat) -> Tuple[np.ndarray, np.ndarray]:
    """Assigns new points to the cells of a run (a :class:`Run`, an output directory or its
    ``cells.parquet``), as ``assign_cells`` does: returns ``(cell_id, distance_km)`` arrays;
    ``distance_km`` is 0 inside a cell, else the distance to the nearest cell the point was
    put in."""
    t = _table(_geocells.assign(_cells_arg(cells), _lonlat_table(lon, lat)))
    return t.column("cell_id").to_numpy(), t.column("distance_km").to_numpy()


def smooth(cells, lon, lat, *, tau_km: float = 75.0, top_k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
    """PIGEON's haversine label smoothing for arbitrary points against the cells of a run (a
    :class:`Run`, an output directory or its ``cells.parquet``): returns ``(cell_ids,
    weights)`` of shape (points, top_k), largest weight first (cell id -1 and weight 0 where
    fewer cells are within the horizon). For the run's own points with its own parameters this
    is ``targets.parquet``."""
    if isinstance(cells, Run):
        table = cells.cells_table
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(_cells_arg(cells), columns=["cell_id", "centroid_lon", "centroid_lat"])
    order = np.argsort(table.column("cell_id").to_numpy(), kind="stable")
    centroids = pa.table({
        "centroid_lon": pa.array(table.column("centroid_lon").to_numpy()[order]),
        "centroid_lat": pa.array(table.column("centroid_lat").to_numpy()[order]),
    })
    t = _table(_geocells.smooth(_lonlat_table(lon, lat), centroids, float(tau_km), int(top_k)))
    n = len(np.asarray(lon))
    return _dense(t.column("point").to_numpy(), t.column("rank").to_numpy(), t.column("cell_id").to_numpy(),
                  t.column("weight").to_numpy(), np.arange(n))


def metrics(true_lon, true_lat, pred_lon, pred_lat) -> dict:
    """The prediction metrics of ``evaluate``: great-circle errors between true and predicted
    locations: ``n``, ``median_km``, ``mean_km``, ``accuracy`` (fraction within 1, 25, 200,
    750, 2500 km) and the mean ``geoguessr`` score."""
    table = pa.table({
        "true_lon": pa.array(np.asarray(true_lon, dtype=np.float64)),
        "true_lat": pa.array(np.asarray(true_lat, dtype=np.float64)),
        "pred_lon": pa.array(np.asarray(pred_lon, dtype=np.float64)),
        "pred_lat": pa.array(np.asarray(pred_lat, dtype=np.float64)),
    })
    return json.loads(_geocells.metrics(table))
