import json, numpy as np, pandas as pd, pyarrow.parquet as pq, geopandas as gpd, shapely, pyproj
import os, sys
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "out")
cp = gpd.read_parquet(f"{OUT}/cells.parquet")
cg = gpd.read_file(f"{OUT}/cells.geojson", engine="pyogrio")
pts = gpd.read_parquet(f"{OUT}/points.parquet")
rej = pq.read_table(f"{OUT}/rejects.parquet")
tg = pq.read_table(f"{OUT}/targets.parquet").to_pandas()
print("rows: cells.parquet", len(cp), "cells.geojson", len(cg), "points", len(pts), "rejects", rej.num_rows, "targets", len(tg))

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

# raw GeoJSON, read with json (no GDAL in between): RFC 7946 structure, closed rings, orientation by signed area
gj = json.load(open(f"{OUT}/cells.geojson"))
def sarea(r):  # shoelace relative to the first vertex (absolute coordinates lose the sign of 1e-14 deg^2 rings)
    r = np.asarray(r, float); r = r - r[0]; return 0.5 * np.sum(r[:-1, 0] * r[1:, 1] - r[1:, 0] * r[:-1, 1])
ext = [sarea(poly[0]) for f in gj["features"] for poly in f["geometry"]["coordinates"]]
hol = [sarea(h) for f in gj["features"] for poly in f["geometry"]["coordinates"] for h in poly[1:]]
rings = [np.asarray(r, float) for f in gj["features"] for poly in f["geometry"]["coordinates"] for r in poly]
print(f"raw geojson: top-level keys={sorted(gj)} crs member={'crs' in gj} features={len(gj['features'])} geometry types={sorted({f['geometry']['type'] for f in gj['features']})}"
      f" rings={len(rings)} closed={sum(bool((r[0] == r[-1]).all()) for r in rings)} >=4 positions={sum(len(r) >= 4 for r in rings)} 2-D positions={sum(r.shape[1] == 2 for r in rings)}")
print(f"raw geojson orientation (signed area): exteriors CCW={sum(a > 0 for a in ext)}/{len(ext)} holes CW={sum(a < 0 for a in hol)}/{len(hol)}")
# antimeridian (RFC 7946 3.1.9): no edge may cross 180; a cell spanning it is cut into parts on x=+-180
dx = np.concatenate([np.abs(np.diff(r[:, 0])) for r in rings])
print(f"antimeridian: ring edges={len(dx)} with |dx|>180: {(dx > 180).sum()}; >90: {(dx > 90).sum()}; max |dx|={dx.max()!r}")
for f in gj["features"]:  # cells with parts on both sides of the antimeridian (a part east of 170 and one west of -170)
    parts = [[np.asarray(r, float) for r in p] for p in f["geometry"]["coordinates"]]
    if max(p[0][:, 0].max() for p in parts) > 170 and min(p[0][:, 0].min() for p in parts) < -170:
        pr = f["properties"]; xs = np.concatenate([r[:, 0] for p in parts for r in p])
        w = sum(p[0][:, 0].max() <= 0 for p in parts); e = sum(p[0][:, 0].min() >= 0 for p in parts)
        mdx = max(np.abs(np.diff(r[:, 0])).max() for p in parts for r in p)
        print(f"   both sides of 180: cell {pr['cell_id']} {pr['country_code']} {pr['admin1']!r} {pr['name']!r} origin={pr['origin']} parts={len(parts)} (all x<=0: {w}, all x>=0: {e})"
              f" x=[{xs.min()!r}, {xs.max()!r}] vertices at -180: {(xs == -180).sum()} at 180: {(xs == 180).sum()} max |dx| {mdx:.3g}")
pa = shapely.area(shapely.get_parts(cp.geometry.values)); pc = shapely.get_parts(cp.geometry.values, return_index=True)[1]
print(f"polygon parts with area < 1e-12 deg^2: {(pa < 1e-12).sum()} (cells {sorted(set(cp.cell_id.values[pc[pa < 1e-12]].tolist()))}); < 1e-9: {(pa < 1e-9).sum()} (cells {sorted(set(cp.cell_id.values[pc[pa < 1e-9]].tolist()))})")
grid = np.concatenate(rings) * 2.0**22
print(f"vertices on the 2^-22 deg grid: {(grid == np.round(grid)).all(axis=1).sum()}/{len(grid)}")

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

# admin1_id / country_id: dense 0..n-1, one id per code, numbered in sorted code order
for idc, code in [("admin1_id", "admin1_code"), ("country_id", "country_code")]:
    pairs = cp[[idc, code]].drop_duplicates()
    codes = sorted(pairs[code].unique())
    key = ["country_code", code] if code == "admin1_code" else [code]  # admin1 ids follow (country_code, admin1_code)
    order = cp[[idc] + key].drop_duplicates().sort_values(key)[idc].values
    print(f"{idc}: distinct ids={cp[idc].nunique()} distinct {code}={len(codes)} dense 0..n-1={np.array_equal(np.sort(cp[idc].unique()), np.arange(cp[idc].nunique()))}"
          f" one id per code and one code per id={len(pairs) == len(codes) == cp[idc].nunique()} id == rank in sorted {tuple(key)} order={np.array_equal(order, np.arange(len(order)))}"
          f" (in sorted {code} order alone: {int((pairs[idc].values == np.searchsorted(codes, pairs[code].values)).sum())}/{len(pairs)})")
print("each admin1_id in one country_id:", bool((cp.groupby("admin1_id").country_id.nunique() == 1).all()))
pre = cp.country_code.values == cp.admin1_code.str[:3].values
print("country_code == admin1_code prefix:", int(pre.sum()), "/", len(cp), "; others:", cp[~pre].groupby(["country_code", "admin1_code"]).size().to_dict())
# family_id / origin
fam = cp.groupby("family_id")
print(f"family_id: families={cp.family_id.nunique()} dense={np.array_equal(np.sort(cp.family_id.unique()), np.arange(cp.family_id.nunique()))}"
      f" non-decreasing in cell_id={bool((np.diff(cp.family_id.values) >= 0).all())} origin counts={cp.origin.value_counts().to_dict()}")
print(f"family: one 'admin' cell each={int((fam.origin.apply(lambda o: (o == 'admin').sum()) == 1).sum())}/{cp.family_id.nunique()}"
      f" admin cell first={int(fam.origin.first().eq('admin').sum())}; same areas={int((fam.areas.nunique() == 1).sum())} same num_areas={int((fam.num_areas.nunique() == 1).sum())}"
      f" same country_code={int((fam.country_code.nunique() == 1).sum())}; num_areas == len(areas)={int((cp.num_areas.values == cp.areas.str.split(';').str.len().values).sum())}/{len(cp)}")
fa = fam.areas.first().str.split(";").explode()
print(f"admin areas over families: listed={len(fa)} distinct={fa.nunique()} (an area in two families: {int(fa.duplicated().sum())}); point area_code in its cell's family areas:"
      f" {int(sum(a in set(s.split(';')) for a, s in zip(pts.area_code.values, cp.areas.values[pts.cell_id.values])))}/{len(pts)}")
# targets.parquet: per point rank 0..k-1, weights descending, sum <= 1, ids exist
tg = tg.sort_values(["row", "rank"], kind="stable").reset_index(drop=True)
g = tg.groupby("row", sort=False)
k = g.size(); first = np.r_[0, np.cumsum(k.values)[:-1]]
rank_ok = np.array_equal(tg["rank"].values, np.arange(len(tg)) - np.repeat(first, k.values))
w = tg.weight.values; same_row = tg.row.values[1:] == tg.row.values[:-1]
sums = g.weight.sum()
print(f"targets: rows={len(tg)} points with targets={len(k)} k per point={k.value_counts().sort_index().to_dict()} rank 0..k-1={rank_ok}"
      f" duplicate (row,rank)={int(tg.duplicated(['row','rank']).sum())} duplicate (row,cell_id)={int(tg.duplicated(['row','cell_id']).sum())}")
print(f"targets: weights in (0,1]={bool(((w > 0) & (w <= 1)).all())} non-increasing within a point={bool((w[1:][same_row] <= w[:-1][same_row]).all())}"
      f" sum per point min={sums.min()!r} median={sums.median()!r} max={sums.max()!r} >1+1e-9: {int((sums > 1 + 1e-9).sum())}")
print(f"targets: cell_id not in cells={int((~tg.cell_id.isin(cp.cell_id)).sum())} row not in points={int((~tg.row.isin(pts.row)).sum())}"
      f" points without targets={int((~pts.row.isin(tg.row)).sum())} rank-0 cell == point's cell_id: {int((g.cell_id.first().reindex(pts.row.values).values == pts.cell_id.values).sum())}/{len(pts)}")
# recompute for a sample: haversine to every centroid, tau 75 km, normalised over all cells
R, tau = 6371.0088, 75.0
rng = np.random.default_rng(0); sample = pts.iloc[np.sort(rng.choice(len(pts), 2000, replace=False))]
lo1, la1 = np.radians(sample.lon.values)[:, None], np.radians(sample.lat.values)[:, None]
lo2, la2 = np.radians(cp.centroid_lon.values)[None, :], np.radians(cp.centroid_lat.values)[None, :]
d = 2 * R * np.arcsin(np.sqrt(np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2))
y = np.exp(-(d - d.min(axis=1, keepdims=True)) / tau); y /= y.sum(axis=1, keepdims=True)
ts = tg[tg.row.isin(sample.row)]; pos = pd.Series(np.arange(len(sample)), index=sample.row.values)[ts.row.values].values
kk = np.bincount(pos, minlength=len(sample)); topk = np.argsort(-y, axis=1, kind="stable")
setok = sum(set(ts.cell_id.values[pos == i]) == set(topk[i, :kk[i]]) for i in range(len(sample)))
err = np.abs(ts.weight.values - y[pos, ts.cell_id.values])
print(f"targets recomputed for 2000 random points (all {len(cp)} cells): max |stored - recomputed| weight={err.max():.3g} (relative {(err / y[pos, ts.cell_id.values]).max():.3g});"
      f" stored cell_ids = the recomputed k largest: {setok}/{len(sample)}")

# point in its cell
geoms = cp.set_index("cell_id").geometry
shapely.prepare(geoms.values)
own = geoms.loc[pts.cell_id.values].values
cov = shapely.covers(own, pts.geometry.values)
bad = np.flatnonzero(~cov)
d = shapely.distance(own[bad], pts.geometry.values[bad]) if len(bad) else np.array([])
print(f"points covered by own cell: {cov.sum()}/{len(pts)}; not covered: {len(bad)}; of those within 1e-9 deg: {(d <= 1e-9).sum()}; beyond: {(d > 1e-9).sum()}; distance deg min/median/max: {d.min() if len(d) else 0!r} / {np.median(d) if len(d) else 0!r} / {d.max() if len(d) else 0!r}")
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
samef = cp.family_id.values[li[m]] == cp.family_id.values[ri[m]]
print(f"overlapping pairs (area>0): same family={int((pos & samef).sum())} ({ia[pos & samef].sum():.3g} deg^2, max {ia[pos & samef].max() if (pos & samef).any() else 0:.3g}),"
      f" different family={int((pos & ~samef).sum())} ({ia[pos & ~samef].sum():.3g} deg^2, max {ia[pos & ~samef].max() if (pos & ~samef).any() else 0:.3g})")
fsize = cp.family_id.map(cp.family_id.value_counts()).values; unsplit = (fsize[li[m]] == 1) & (fsize[ri[m]] == 1)
print(f"overlapping pairs (area>0) between two unsplit families (one cell each): {int((pos & unsplit).sum())} ({ia[pos & unsplit].sum():.3g} deg^2; same country {int((pos & unsplit & same).sum())});"
      f" with at least one split family: {int((pos & ~unsplit).sum())} ({ia[pos & ~unsplit].sum():.3g} deg^2)")
parts, owner = shapely.get_parts(cp.geometry.values, return_index=True)
qi, ci = tree.query(parts, predicate="covered_by"); keep = ci != owner[qi]
print(f"polygon parts lying wholly inside another cell: {int(keep.sum())}")
for q, c in zip(qi[keep], ci[keep]):
    print(f"   part of cell {cp.cell_id[owner[q]]} (family {cp.family_id[owner[q]]}, {cp.admin1[owner[q]]}) area {shapely.area(parts[q]):.3g} deg^2 at"
          f" {shapely.centroid(parts[q]).x:.5f},{shapely.centroid(parts[q]).y:.5f} inside cell {cp.cell_id[c]} (family {cp.family_id[c]}, {cp.admin1[c]})")
per = shapely.length(cp.geometry.values)
bound = np.minimum(per[li[m]], per[ri[m]]) * 2 * 2.0**-22
print(f"pairs over validate()'s bound (shorter perimeter x 2 x 2^-22 deg): {int((ia > bound).sum())} (same family {int(((ia > bound) & samef).sum())}); max area/bound={(ia / bound).max():.3g}")
for k in np.argsort(-(ia / bound))[:3]:
    if ia[k] > 0: print(f"   cells {cp.cell_id[li[m][k]]} & {cp.cell_id[ri[m][k]]} families {cp.family_id[li[m][k]]}/{cp.family_id[ri[m][k]]}: area {ia[k]!r} bound {bound[k]!r}")
for f in ["admin0_world", "admin1_world", "admin2_us"]:
    a = gpd.read_parquet(os.path.join(ROOT, "data", f"{f}.parquet")).geometry.values
    print(f"input {f}: n={len(a)} valid={shapely.is_valid(a).sum()} sum area={shapely.area(a).sum()!r} union area={shapely.union_all(a).area!r}")
rep = json.load(open(f"{OUT}/report.json"))["validation"]
print("report.json validation:", rep)
