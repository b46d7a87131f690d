"""The per-country runs and their merge as tasks of Dask (``dask.distributed``).

Why Dask and not Ray: the shards are a handful of coarse tasks that exchange only file paths,
so any engine would do; Dask is pure Python, installs from PyPI with pip on the Python the
user already has, starts a local cluster in a second (the CI test), and reaches the clusters
where these models are trained through the same ``Client``: Slurm (dask-jobqueue), Kubernetes
(dask-kubernetes / dask-gateway), or a plain ``dask scheduler`` / ``dask worker`` pair. See
docs/batch.md.

How it runs (the same as ``build_cells --write-assigned``, ``--countries`` then ``--merge``,
docs/batch.md):

1. a planning task assigns the points once (:func:`geocells.assign_once`) into
   ``work_dir/assigned``, a Parquet dataset partitioned by country, then runs without the
   split (``split=False``) on it to find which countries have an admin cell above MAX, and how
   many points each has; only those need a shard;
2. the countries are dealt into ``n_groups`` groups balanced by points (largest first, each
   to the lightest group), one task per group: ``build(..., countries=group)`` on the dataset
   reads only its countries' partitions and writes a shard into ``work_dir``;
3. one merge task reads the shards and the dataset and writes ``out``.

With ``assign_once=False`` every task reads and assigns the original points instead.

Every task reads the inputs by path, so ``work_dir``, ``out`` and the inputs must be on
storage every worker sees (a shared filesystem; on one machine, any directory). Points given as
a DataFrame or arrays are written once to ``work_dir`` as Parquet first. The result is
byte-identical to ``geocells.build(...).write(out)`` (``report.json`` up to ``timings_s``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import geocells

__all__ = ["build", "plan_groups"]


_ASSIGN_KEYS = ("admin0", "admin1", "admin2", "lon_col", "lat_col", "id_col", "geometry_col",
                "snap_km", "threads")


def _assign_and_plan(kwargs: dict, dataset: str) -> Dict[str, int]:
    """Task: assigns the points once into ``dataset``, then plans on it."""
    geocells.assign_once(dataset, kwargs["points"], progress=False,
                         **{k: v for k, v in kwargs.items() if k in _ASSIGN_KEYS})
    return _countries_above_max({**_on_dataset(kwargs, dataset)})


def _on_dataset(kwargs: dict, dataset: str) -> dict:
    """The arguments of a run on the assigned dataset (its columns are known)."""
    out = {k: v for k, v in kwargs.items() if k not in ("lon_col", "lat_col", "id_col", "geometry_col")}
    out["points"] = dataset
    return out


def _countries_above_max(kwargs: dict) -> Dict[str, int]:
    """Task: points per country code over the countries with an admin cell above MAX."""
    run = geocells.build(**{**kwargs, "split": False, "progress": False})
    cells = run.cells_table
    max_size = run.report["params"]["max_size"]
    codes = cells.column("country_code").to_pylist()
    sizes = cells.column("size").to_pylist()
    points: Dict[str, int] = {}
    above = set()
    for code, size in zip(codes, sizes):
        points[code] = points.get(code, 0) + size
        if size > max_size:
            above.add(code)
    return {c: points[c] for c in sorted(above)}


def plan_groups(points_per_country: Dict[str, int], n_groups: int) -> List[List[str]]:
    """Deals countries into at most ``n_groups`` groups balanced by points: largest country
    first, each into the group with the fewest points so far (ties: lower group index). The
    groups and the countries in each are in a fixed order, so the plan is deterministic."""
    if n_groups < 1:
        raise ValueError(f"n_groups: must be at least 1, got {n_groups}")
    order = sorted(points_per_country.items(), key=lambda kv: (-kv[1], kv[0]))
    groups: List[List[str]] = [[] for _ in range(min(n_groups, len(order)))]
    load = [0] * len(groups)
    for code, n in order:
        g = min(range(len(groups)), key=lambda i: (load[i], i))
        groups[g].append(code)
        load[g] += n
    return [sorted(g) for g in groups if g]


def _shard(kwargs: dict, countries: List[str], out: str) -> str:
    """Task: one per-country run, written to ``out``."""
    run = geocells.build(**{**kwargs, "countries": countries, "progress": False})
    run.write(out)
    return out


def _merge(kwargs: dict, shards: List[str], out: str, write_options: dict) -> dict:
    """Task: the merge of the shards, written to ``out``; returns the report."""
    run = geocells.merge(shards, **{**kwargs, "progress": False})
    run.write(out, **write_options)
    return run.report


def build(
    client,
    points: Any = None,
    *,
    out: Union[str, os.PathLike],
    work_dir: Optional[Union[str, os.PathLike]] = None,
    n_groups: Optional[int] = None,
    groups: Optional[Sequence[Sequence[str]]] = None,
    map_points: bool = False,
    map_width: int = 2400,
    map_bbox: Union[None, str, Sequence[float]] = None,
    map_colour: str = "cell",
    keep_shards: bool = False,
    assign_once: bool = True,
    **kwargs: Any,
) -> dict:
    """Builds the cells on a Dask cluster and writes them to ``out``; returns the report.

    client
        A ``dask.distributed.Client`` (a ``LocalCluster``, a Slurm or Kubernetes cluster, ...).
    points, kwargs
        The inputs and parameters of :func:`geocells.build` (paths, as the workers read them;
        not ``countries``, ``progress``).
    out
        The output directory (written as one unit, like ``build_cells --out``).
    work_dir
        Where the assigned points and the shards go (default: ``<out>.shards`` beside ``out``);
        removed after the merge unless ``keep_shards``.
    n_groups
        Shard tasks (default: the number of workers).
    groups
        The country groups to use instead of the planning task's (codes or names, as
        ``--countries`` takes them).
    assign_once
        Assign the points once in the planning task and let the other tasks read the
        partitioned dataset (default); ``False``: every task reads and assigns all points.
    """
    for k in ("countries", "progress"):
        if k in kwargs:
            raise TypeError(f"distributed.build: '{k}' is chosen per task")
    out = os.path.abspath(os.fspath(out))
    work = Path(work_dir) if work_dir is not None else Path(out + ".shards")
    work = work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    if points is None:
        points = geocells.DEFAULT_DATA["points"]
    if not isinstance(points, (str, os.PathLike)):
        points = _points_to_parquet(points, work, kwargs)
    kwargs = {**kwargs, "points": os.fspath(points)}
    dataset = str(work / "assigned")
    if assign_once:
        counts = client.submit(_assign_and_plan, kwargs, dataset, pure=False).result()
        kwargs = _on_dataset(kwargs, dataset)
    elif groups is None:
        counts = client.submit(_countries_above_max, kwargs, pure=False).result()
    if groups is None:
        if n_groups is None:
            n_groups = max(1, len(client.scheduler_info().get("workers", {})))
        groups = plan_groups(counts, n_groups)
    groups = [list(g) for g in groups]
    shard_dirs = [str(work / f"shard-{i:03}") for i in range(len(groups))]
    futures = [
        client.submit(_shard, kwargs, g, d, pure=False, key=f"geocells-shard-{i}-{os.getpid()}-{id(work)}")
        for i, (g, d) in enumerate(zip(groups, shard_dirs))
    ]
    written = client.gather(futures)
    report = client.submit(
        _merge,
        kwargs,
        written,
        out,
        {"map_points": map_points, "map_width": map_width, "map_bbox": map_bbox, "map_colour": map_colour},
        pure=False,
    ).result()
    if not keep_shards:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _points_to_parquet(points: Any, work: Path, kwargs: dict) -> str:
    """Points held in memory, written once where every worker can read them."""
    import pyarrow.parquet as pq

    from . import _resolve_points, _to_arrow  # noqa: F401 - the package's own resolver

    columns = {k: kwargs.pop(k, None) for k in ("lon_col", "lat_col", "id_col", "geometry_col")}
    table, cols = _resolve_points(points, columns)
    for k, v in cols.items():
        if v is not None:
            kwargs[k] = v
    path = work / "points.parquet"
    pq.write_table(table, path)
    return str(path)
