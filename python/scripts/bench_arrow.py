"""What handing tables over as Arrow C streams costs, against converting them row by row
(docs/decisions/python-arrow.md).

    python python/scripts/bench_arrow.py [N]

Times, on N random points (default 1,000,000): (1) `geocells.metrics` on four float64 columns,
which imports the table through the C stream and computes N great-circle distances; (2) only
turning the same table into Python rows (`to_pylist`), the least a row-by-row API would cost
before any Rust ran; (3) a run's labels table exported back to pyarrow; (4) writing the shipped
admin-1 GeoDataFrame to GeoParquet, the round trip a GeoDataFrame of boundaries takes.
"""

import sys
import tempfile
import time

import numpy as np
import pyarrow as pa

import geocells
from geocells import _geocells


def best(f, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = np.random.default_rng(0)
table = pa.table({k: rng.uniform(-60, 60, n) for k in ("true_lon", "true_lat", "pred_lon", "pred_lat")})
print(f"{n:,} rows")
print(f"C stream import + metrics: {best(lambda: _geocells.metrics(table)) * 1e3:.1f} ms")
print(f"to_pylist only (row by row, Python side): {best(lambda: table.to_pylist(), 1) * 1e3:.1f} ms")

run = geocells.build(progress=False, split=False)
print(f"labels table out ({run.report['counts']['points_labelled']:,} rows, 13 columns): "
      f"{best(lambda: geocells._table(run._handle.labels())) * 1e3:.1f} ms")

try:
    import geopandas as gpd

    gdf = gpd.read_parquet("data/admin1_world.parquet")
    with tempfile.TemporaryDirectory() as d:
        print(f"GeoDataFrame of {len(gdf):,} admin-1 features to GeoParquet: "
              f"{best(lambda: gdf.to_parquet(d + '/a.parquet', index=False)) * 1e3:.0f} ms")
except ImportError:
    pass
