"""The walkthrough of docs/python.md as one script: build the cells of the shipped data, look at
them, and get the training targets. Run from the repository root:

    python python/examples/walkthrough.py [OUT_DIR]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, no window
import matplotlib.pyplot as plt  # noqa: E402

import geocells  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "out-python")

# 1. Build: the same run as `cargo run --release --example build_cells`.
run = geocells.build(**geocells.default_data("."))
print(run, "| labelled:", run.report["counts"]["points_labelled"], "| rejected:", len(run.rejects))

# 2. Look: the cells are a GeoDataFrame in lon/lat (OGC:CRS84).
cells = run.cells
fig, ax = plt.subplots(figsize=(14, 7))
cells.plot(ax=ax, column="size", cmap="viridis", linewidth=0.05, edgecolor="white", legend=True)
ax.set_title(f"{len(cells)} geocells, coloured by points per cell")
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "cells_by_size.png", dpi=80)
print(cells.sort_values("size", ascending=False)[["cell_id", "name", "country", "size"]].head())

# 3. Train: each labelled point's cell and its smoothed targets (top-k cells and weights).
labels = run.labels                      # row, lon, lat, cell_id, admin names, ...
cell_ids, weights = run.target_arrays()  # (points, top_k) each, rows as in `labels`
print("first point:", labels.loc[0, ["lon", "lat", "cell_id"]].to_dict(),
      "targets:", cell_ids[0, :3].tolist(), weights[0, :3].round(3).tolist())

# 4. Files for QGIS and for the training job.
run.write(out / "run")
print("wrote", sorted(p.name for p in (out / "run").iterdir()))
