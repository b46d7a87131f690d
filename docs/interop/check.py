import json, numpy as np, pyarrow.parquet as pq, geopandas as gpd, shapely, pyproj
import os, sys
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "out")
cp = gpd.read_parquet(f"{OUT}/cells.parquet")
cg = gpd.read_file(f"{OUT}/cells.geojson", engine="pyogrio")
pts = gpd.read_parquet(f"{OUT}/points.parquet")
rej = pq.read_table(f"{OUT}/rejects.parquet")
print("rows: cells.parquet", len(cp), "cells.geojson", len(cg), "points", len(pts), "rejects", rej.num_rows)

# CRS
c84, e4326 = pyproj.CRS("OGC:CRS84"), pyproj.CRS("EPSG:4326")
for n, g in [("cells.parquet", cp), ("cells.geojson", cg), ("points.parquet", pts)]:
    print(f"crs {n}: {g.crs.to_string()} equals OGC:CRS84={g.crs.equals(c84)} "
          f"equals EPSG:4326 ignoring axis order={g.crs.equals(e4326, ignore_axis_order=True)}")

# validity
for n, g in [("cells.parquet", cp), ("cells.geojson", cg)]:
    v = shapely.is_valid(g.geometry.values)
    print(f"valid {n}: {v.sum()}/{len(v)}; empty={shapely.is_empty(g.geometry.values).sum()}; types={g.geom_type.value_counts().to_dict()}")
    for i in np.flatnonzero(~v)[:5]:
        print("   invalid cell_id", g.cell_id.iloc[i], shapely.is_valid_reason(g.geometry.iloc[i]))

# ring orientation (RFC 7946: exteriors CCW, holes CW)
for n, g in [("cells.geojson", cg), ("cells.parquet", cp)]:
    polys = shapely.get_parts(g.geometry.values)
    ext = shapely.get_exterior_ring(polys)
    ext_ccw = shapely.is_ccw(ext)
    holes = [h for p in polys for h in p.interiors]
    hole_cw = ~shapely.is_ccw(np.array(holes, dtype=object)) if holes else np.array([], bool)
    print(f"orientation {n}: polygons={len(polys)} exterior CCW={ext_ccw.sum()}/{len(polys)} holes={len(holes)} hole CW={hole_cw.sum()}/{len(holes)}")

# coordinate ranges
for n, g in [("cells.parquet", cp), ("cells.geojson", cg), ("points.parquet", pts)]:
    xy = shapely.get_coordinates(g.geometry.values)
    ok = (xy[:, 0] >= -180) & (xy[:, 0] <= 180) & (xy[:, 1] >= -90) & (xy[:, 1] <= 90)
    print(f"coords {n}: n={len(xy)} out of range={(~ok).sum()} x values {sorted(set(map(repr, xy[~ok, 0].tolist())))} in range={ok.sum()} x=[{xy[:,0].min()!r}, {xy[:,0].max()!r}] y=[{xy[:,1].min()!r}, {xy[:,1].max()!r}] non-finite={(~np.isfinite(xy)).sum()}")

# parquet vs geojson content
cg = cg.sort_values("cell_id").reset_index(drop=True); cp = cp.sort_values("cell_id").reset_index(drop=True)
same_ids = (cg.cell_id.values == cp.cell_id.values).all()
eq = shapely.equals_exact(shapely.normalize(cp.geometry.values), shapely.normalize(cg.geometry.values), tolerance=1e-9)
print(f"parquet vs geojson: same cell_id order={same_ids} geometries equal_exact(1e-9, normalized)={eq.sum()}/{len(eq)}")
for i in np.flatnonzero(~eq)[:5]:
    print("   differs cell_id", cp.cell_id[i], "hausdorff", shapely.hausdorff_distance(cp.geometry[i], cg.geometry[i]))
common = [c for c in cp.columns if c in cg.columns and c != "geometry"]
diffcols = [c for c in common if not (cp[c].values == cg[c].values).all() and not (cp[c].dtype.kind == "f" and np.allclose(cp[c].values, cg[c].values, rtol=0, atol=1e-12))]
print(f"parquet vs geojson attribute columns compared={len(common)} differing={diffcols}; only in parquet={[c for c in cp.columns if c not in cg.columns]} only in geojson={[c for c in cg.columns if c not in cp.columns]}")

# ids, sizes, row totals
for n, g in [("cells.parquet", cp), ("cells.geojson", cg)]:
    ids = np.sort(g.cell_id.values)
    print(f"cell_id dense 0..K-1 {n}: {np.array_equal(ids, np.arange(len(g)))} (K={len(g)})")
print("sum(size) =", int(cp["size"].sum()), "points rows =", len(pts), "equal:", int(cp["size"].sum()) == len(pts))
cnt = pts.cell_id.value_counts().reindex(cp.cell_id, fill_value=0).values
print("per-cell size == count of points with that cell_id:", int((cnt == cp["size"].values).sum()), "/", len(cp),
      "; points with unknown cell_id:", int((~pts.cell_id.isin(cp.cell_id)).sum()))
print("points + rejects =", len(pts) + rej.num_rows, "== 144563:", len(pts) + rej.num_rows == 144563)
print("points geometry == (lon,lat) columns:", bool(np.array_equal(shapely.get_coordinates(pts.geometry.values), pts[["lon", "lat"]].values)))
print("duplicate point id:", int(pts.id.duplicated().sum()), "duplicate row across points+rejects:",
      int(np.unique(np.concatenate([pts.row.values, rej.column("row").to_numpy()]), return_counts=True)[1].max() > 1))

# point in its cell
geoms = cp.set_index("cell_id").geometry
shapely.prepare(geoms.values)
own = geoms.loc[pts.cell_id.values].values
cov = shapely.covers(own, pts.geometry.values)
bad = np.flatnonzero(~cov)
d = shapely.distance(own[bad], pts.geometry.values[bad]) if len(bad) else np.array([])
print(f"points covered by own cell: {cov.sum()}/{len(pts)}; not covered: {len(bad)}; of those within 1e-9 deg: {(d <= 1e-9).sum()}; beyond: {(d > 1e-9).sum()}; max distance deg: {d.max() if len(d) else 0!r}")
for i, di in sorted(zip(bad, d), key=lambda t: -t[1])[:10]:
    if di > 1e-9:
        r = pts.iloc[i]; print(f"   VIOLATION id={r.id} row={r.row} cell_id={r.cell_id} lon={r.lon} lat={r.lat} snap_km={r.snap_km} dist_deg={di!r}")
tree = shapely.STRtree(cp.geometry.values)
pi, gi = tree.query(pts.geometry.values, predicate="intersects")
ncells = np.bincount(pi, minlength=len(pts))
other = cp.cell_id.values[gi] != pts.cell_id.values[pi]
print(f"STRtree intersects: points in 0 cells={int((ncells==0).sum())}, 1 cell={int((ncells==1).sum())}, >1 cells={int((ncells>1).sum())}; (point,cell) pairs with a different cell_id={int(other.sum())}")
print("not covered == snapped (snap_km>0):", bool(np.array_equal(~cov, pts.snap_km.values > 0)))
print("snapped points (snap_km>0):", int((pts.snap_km > 0).sum()), "max snap_km:", float(pts.snap_km.max()))

# overlap
areas = shapely.area(cp.geometry.values)
u = shapely.union_all(cp.geometry.values)
print(f"planar deg^2: sum of cell areas={areas.sum()!r} area of union_all={u.area!r} difference={areas.sum()-u.area!r}")
li, ri = tree.query(cp.geometry.values, predicate="intersects")
m = li < ri
ia = shapely.area(shapely.intersection(cp.geometry.values[li[m]], cp.geometry.values[ri[m]]))
print(f"intersecting cell pairs={int(m.sum())}; pairs with intersection area>0: {int((ia>0).sum())}; >1e-9: {int((ia>1e-9).sum())}; total pairwise intersection area={ia.sum()!r}; max={ia.max() if len(ia) else 0!r}")
for k in np.argsort(-ia)[:5]:
    if ia[k] > 0: print(f"   overlap cells {cp.cell_id[li[m][k]]} & {cp.cell_id[ri[m][k]]}: {ia[k]!r} deg^2")
pos = ia > 0; same = cp.country.values[li[m]] == cp.country.values[ri[m]]
print(f"overlapping pairs (area>0): same country={int((pos & same).sum())} ({ia[pos & same].sum():.3g} deg^2), cross-border={int((pos & ~same).sum())} ({ia[pos & ~same].sum():.3g} deg^2)")
for f in ["admin0_world", "admin1_world", "admin2_us"]:
    a = gpd.read_parquet(os.path.join(ROOT, "data", f"{f}.parquet")).geometry.values
    print(f"input {f}: n={len(a)} valid={shapely.is_valid(a).sum()} sum area={shapely.area(a).sum()!r} union area={shapely.union_all(a).area!r}")
rep = json.load(open(f"{OUT}/report.json"))["validation"]
print("report.json validation:", rep)
