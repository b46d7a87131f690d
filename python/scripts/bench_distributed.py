"""Measures the single run against the Dask build on a local cluster (docs/batch.md).

    python python/scripts/bench_distributed.py POINTS.parquet OUT_DIR [--workers 2] [--preset pigeotto]
        [--no-assign-once] [--skip-single]

Runs, in order: the single run in this process (``geocells.build(...).write``), then
``geocells.distributed.build`` on a LocalCluster of N worker processes (1 Dask thread each; the
Rust work inside a task uses all cores). Prints wall times, this process's peak RSS after the
single run, and each worker's peak RSS (``ru_maxrss`` read in the worker after the build), then
compares the two outputs file by file (report.json up to timings_s). ``--no-assign-once``: every
task reads and assigns all points (``distributed.build(..., assign_once=False)``).
"""

import argparse
import json
import resource
import time
from pathlib import Path

import geocells
import geocells.distributed


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("points")
    ap.add_argument("out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--preset", default="pigeotto")
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--no-assign-once", action="store_true")
    a = ap.parse_args()
    out = Path(a.out)
    single, dist = out / "single", out / "dask"

    if not a.skip_single:
        t = time.monotonic()
        run = geocells.build(a.points, preset=a.preset, progress=False)
        run.write(single)
        del run
        print(f"single run: {time.monotonic() - t:.1f} s wall, peak RSS {peak_mb():.0f} MB")

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit=0) as cluster, Client(cluster) as client:
        t = time.monotonic()
        geocells.distributed.build(client, a.points, out=dist, preset=a.preset,
                                   assign_once=not a.no_assign_once)
        wall = time.monotonic() - t
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(f"dask, {a.workers} workers: {wall:.1f} s wall, peak RSS per worker (MB): "
              + ", ".join(f"{v:.0f}" for v in sorted(peaks.values())))

    if not a.skip_single:
        same = []
        for f in sorted(p.name for p in single.iterdir()):
            if f == "report.json":
                x, y = (json.loads((d / f).read_text()) for d in (single, dist))
                x.pop("timings_s"), y.pop("timings_s")
                same.append((f, x == y))
            else:
                same.append((f, (single / f).read_bytes() == (dist / f).read_bytes()))
        print("identical:", all(s for _, s in same), same)


if __name__ == "__main__":
    main()
