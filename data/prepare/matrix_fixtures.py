"""Build the fixtures of the test matrix (geocells/tests/matrix.rs) in data/fixtures/matrix/.

Usage: python matrix_fixtures.py US_ATLAS_COUNTIES DATA
  US_ATLAS_COUNTIES: package/counties-10m.json of us-atlas 3.0.1 (npm), for the overlapping parishes
  DATA: the repository's data/ directory (reads its parquet files, writes fixtures/matrix/)

Everything else comes from the shipped files data/admin1_world.parquet, data/admin2_us.parquet and
data/geonames_cities1000.parquet. Deterministic: no randomness except numpy generators with fixed
seeds, rows in a fixed order, coordinates written at full double precision. Prints what it wrote.
See data/fixtures/README.md ("matrix/") for what each file is for.
"""
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

US_ATLAS, DATA = Path(sys.argv[1]), Path(sys.argv[2])
OUT = DATA / "fixtures" / "matrix"
OUT.mkdir(parents=True, exist_ok=True)

admin1 = gpd.read_parquet(DATA / "admin1_world.parquet")
admin2 = gpd.read_parquet(DATA / "admin2_us.parquet")
places = gpd.read_parquet(DATA / "geonames_cities1000.parquet")
A1_COLS = ["admin1_code", "admin1_name", "country_code", "country_name"]
A2_COLS = ["admin2_code", "admin2_name", "admin1_code", "admin1_name", "country_code", "country_name"]


def polygonal(g):
    """Only the polygonal parts of g, as a Polygon or MultiPolygon (None if nothing is left)."""
    polys = [q for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")
             for q in shapely.get_parts(p) if not q.is_empty]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def write_geojson(rows, name, props):
    """RFC 7946 FeatureCollection of (properties..., geometry) rows; exteriors CCW, full precision."""
    feats = []
    for r in rows:
        g = shapely.orient_polygons(r["geometry"])
        feats.append({"type": "Feature", "properties": {k: r[k] for k in props},
                      "geometry": json.loads(shapely.to_geojson(g))})
    path = OUT / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n")
    print(f"{name}: {len(feats)} features, {path.stat().st_size} bytes")
    return path


def records(gdf, cols):
    return [dict(zip(cols + ["geometry"], r)) for r in gdf[cols + ["geometry"]].itertuples(index=False)]


def write_points(xy_ids, name):
    """CSV id,lon,lat; coordinates as Python's shortest round-trip repr."""
    lines = ["id,lon,lat"] + [f"{i},{float(x)!r},{float(y)!r}" for i, x, y in xy_ids]
    path = OUT / name
    path.write_text("\n".join(lines) + "\n")
    print(f"{name}: {len(xy_ids)} points, {path.stat().st_size} bytes")


def places_near(geoms, margin=0.2, exclude=None, exclude_margin=0.3):
    """GeoNames rows (id order) within `margin` degrees of the union of `geoms`. With `exclude`
    (a geometry), rows that would land in it are left out: rows inside it, and rows inside none
    of `geoms` within `exclude_margin` degrees of it (the pipeline would snap them into it)."""
    union = shapely.union_all(geoms)
    pts = places.geometry.values
    keep = shapely.dwithin(pts, union, margin)
    if exclude is not None:
        inside_any = shapely.contains_xy(union, places.lon.values, places.lat.values)
        ex = shapely.intersects(pts, exclude) | (~inside_any & shapely.dwithin(pts, exclude, exclude_margin))
        keep &= ~ex
    sel = places[keep].sort_values("id")
    return list(zip(sel.id, sel.lon, sel.lat))


def shared_vertices(geoms, n, seed):
    """Up to n coordinates (seeded sample, sorted) that are vertices of two or more of `geoms`:
    points exactly on a shared border."""
    owners = {}
    for k, g in enumerate(geoms):
        for x, y in {tuple(c) for c in shapely.get_coordinates(g).tolist()}:
            owners.setdefault((x, y), set()).add(k)
    shared = sorted(c for c, o in owners.items() if len(o) > 1)
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(shared), size=min(n, len(shared)), replace=False).tolist())
    return [shared[i] for i in pick], len(shared)


def rows_of(codes):
    sel = admin1[admin1.admin1_code.isin(codes)].sort_values("admin1_code")
    assert len(sel) == len(codes), set(codes) - set(sel.admin1_code)
    return sel


# ---- Louisiana: three parishes overlapping each other (us-atlas decoded, before prepare.py's trim) ----
topo = json.loads(US_ATLAS.read_text())
(kx, ky), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
arcs = []
for arc in topo["arcs"]:
    q = np.cumsum(np.array(arc, dtype=np.int64), axis=0)
    arcs.append(np.column_stack([q[:, 0] * kx + tx, q[:, 1] * ky + ty]))


def ring(indices):
    pts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
    return np.concatenate([pts[0]] + [p[1:] for p in pts[1:]])


def county(fips):
    g = next(x for x in topo["objects"]["counties"]["geometries"] if x["id"] == fips)
    polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
    out = []
    for p in polys:
        rings = [ring(r) for r in p]
        if len(rings[0]) >= 4:
            out.append(shapely.Polygon(rings[0], [h for h in rings[1:] if len(h) >= 4]))
    geom = shapely.MultiPolygon(out)
    return geom if geom.is_valid else polygonal(shapely.make_valid(geom))


OVERLAP = ["22067", "22073", "22083"]  # Morehouse, Ouachita, Richland
decoded = {f: county(f) for f in OVERLAP}
la = admin2[admin2.admin1_name == "Louisiana"].sort_values("admin2_code").reset_index(drop=True)
for f in OVERLAP:
    la.loc[la.admin2_code == f, "geometry"] = decoded[f]
ov = [shapely.area(shapely.intersection(decoded[a], decoded[b])) for a, b in
      [("22067", "22073"), ("22067", "22083"), ("22073", "22083")]]
print("louisiana overlaps (deg2):", ", ".join(f"{v:.3g}" for v in ov))
three = la[la.admin2_code.isin(OVERLAP)]
write_geojson([{"country": "United States", "admin1": "Louisiana", "admin2": f"{r.admin2_name} ({r.admin2_code})",
                "geoid": r.admin2_code, "geometry": r.geometry} for r in three.itertuples()],
              "louisiana_overlap.geojson", ["country", "admin1", "admin2", "geoid"])
write_points(places_near(three.geometry.values), "louisiana_overlap_geonames.csv")
write_geojson(records(la, A2_COLS), "louisiana_parishes_overlap.geojson", A2_COLS)
verts, total = shared_vertices(admin2[admin2.admin1_name == "Louisiana"].sort_values("admin2_code").geometry.values, 60, 1)
print(f"louisiana shared vertices: {total}")
write_points([(900_000 + k, x, y) for k, (x, y) in enumerate(verts)], "louisiana_border_vertices.csv")

# Gulf states (admin-1) and their union as a country (admin-0), for runs with one, two or three levels.
gulf = rows_of(["USA-3528", "USA-3535", "USA-3544"])  # Arkansas, Louisiana, Mississippi
write_geojson(records(gulf, A1_COLS), "gulf_states_admin1.geojson", A1_COLS)
write_geojson([{"country_code": "USA", "country_name": "United States of America",
                "geometry": polygonal(shapely.union_all(gulf.geometry.values))}],
              "gulf_country_admin0.geojson", ["country_code", "country_name"])
write_points(places_near(gulf.geometry.values), "gulf_geonames.csv")

# ---- Belgium + Luxembourg admin-1 (14 areas) and its defects ----------------------------------------
belux = admin1[admin1.country_code.isin(["BEL", "LUX"])].sort_values("admin1_code").reset_index(drop=True)
print("belux:", ", ".join(f"{r.admin1_code} {r.admin1_name}" for r in belux.itertuples()))
write_geojson(records(belux, A1_COLS), "belux_admin1.geojson", A1_COLS)
write_points(places_near(belux.geometry.values), "belux_geonames.csv")
verts, total = shared_vertices(belux.geometry.values, 60, 2)
print(f"belux shared vertices: {total}")
write_points([(900_000 + k, x, y) for k, (x, y) in enumerate(verts)], "belux_border_vertices.csv")

# Overlap: the Belgian province of Luxembourg buffered by 0.02 degrees over its neighbours.
buffered = belux.copy()
lux_prov = buffered.admin1_code == "BEL-3477"  # the Belgian province of Luxembourg
assert lux_prov.sum() == 1
buffered.loc[lux_prov, "geometry"] = shapely.buffer(buffered.geometry[lux_prov].values, 0.02, quad_segs=2)
write_geojson(records(buffered, A1_COLS), "belux_overlap_buffered.geojson", A1_COLS)

# Gaps: every area shrunk by 0.003 degrees on its own (no overlaps; gaps of ~0.6 km between neighbours).
shrunk = belux.copy()
shrunk["geometry"] = [polygonal(shapely.buffer(g, -0.003, quad_segs=2)) for g in shrunk.geometry]
assert shrunk.geometry.notna().all()
write_geojson(records(shrunk, A1_COLS), "belux_gaps_shrunk.geojson", A1_COLS)

# Slivers: every area simplified on its own (Douglas-Peucker, 0.01 degrees): neighbours' borders no
# longer coincide, leaving thin gaps and thin overlaps along every border.
simple = belux.copy()
simple["geometry"] = shapely.simplify(simple.geometry.values, 0.01, preserve_topology=True)
g = simple.geometry.values
pairs = [(i, j) for i in range(len(g)) for j in range(i + 1, len(g)) if shapely.intersects(g[i], g[j])]
print("belux simplified: overlap area", sum(shapely.area(shapely.intersection(g[i], g[j])) for i, j in pairs),
      "gap area", shapely.area(shapely.difference(shapely.union_all(belux.geometry.values), shapely.union_all(g))))
write_geojson(records(simple, A1_COLS), "belux_slivers_simplified.geojson", A1_COLS)

# A sliver area: a strip 1e-4 degrees (~10 m) either side of the Belgium-Luxembourg border, cut out
# of its neighbours and made an area of its own (country LUX).
bel = shapely.union_all(belux.geometry[belux.country_code == "BEL"].values)
lux = shapely.union_all(belux.geometry[belux.country_code == "LUX"].values)
border = shapely.intersection(shapely.boundary(bel), shapely.boundary(lux))
strip = shapely.buffer(border, 1e-4, quad_segs=2)
sliver = belux.copy()
sliver["geometry"] = [polygonal(shapely.difference(g, strip)) for g in sliver.geometry]
strip_area = polygonal(shapely.intersection(strip, shapely.union(bel, lux)))
sliver_rows = records(sliver, A1_COLS) + [{"admin1_code": "LUX-SLIVER", "admin1_name": "Border sliver",
                                           "country_code": "LUX", "country_name": "Luxembourg",
                                           "geometry": strip_area}]
print(f"belux sliver: {shapely.area(strip_area):.3g} deg2, border {shapely.length(border):.3f} deg")
write_geojson(sliver_rows, "belux_sliver_area.geojson", A1_COLS)

# A duplicated feature: Brussels appears twice with the same code (as in files concatenated twice).
dup_rows = records(belux, A1_COLS)
dup_rows.append(dict(next(r for r in dup_rows if r["admin1_name"].startswith("Brussels"))))
write_geojson(dup_rows, "belux_duplicate_feature.geojson", A1_COLS)

# ---- Countries that are only islands; tiny islands; the antimeridian ----------------------------------
isl = admin1[admin1.country_code.isin(["MDV", "BHS", "FJI", "KIR"]) | (admin1.admin1_code == "NLD-5149")]
isl = isl.sort_values("admin1_code").reset_index(drop=True)
parts = sum(len(shapely.get_parts(g)) for g in isl.geometry)
print(f"islands: {len(isl)} areas, {parts} polygons, "
      f"{sum(shapely.area(p) < 1e-4 for g in isl.geometry for p in shapely.get_parts(g))} below 1e-4 deg2")
write_geojson(records(isl, A1_COLS), "island_countries.geojson", A1_COLS)
write_points(places_near(isl.geometry.values), "island_countries_geonames.csv")

# ---- Exclaves: Nakhchivan (AZE), Cabinda (AGO) ---------------------------------------------------------
NAKHCHIVAN = ["AZE-2415", "AZE-2418", "AZE-2419", "AZE-2420", "AZE-2421", "AZE-2422", "AZE-2423", "AZE-5567"]
arm_aze = admin1[admin1.country_code.isin(["ARM", "AZE"])].sort_values("admin1_code").reset_index(drop=True)
nakh = shapely.union_all(arm_aze.geometry[arm_aze.admin1_code.isin(NAKHCHIVAN)].values)
aze_main = shapely.union_all(arm_aze.geometry[(arm_aze.country_code == "AZE") & ~arm_aze.admin1_code.isin(NAKHCHIVAN)].values)
assert not shapely.intersects(nakh, aze_main)
write_geojson(records(arm_aze, A1_COLS), "armenia_azerbaijan.geojson", A1_COLS)
write_points(places_near(arm_aze.geometry.values), "armenia_azerbaijan_geonames.csv")
write_points(places_near(arm_aze.geometry.values, exclude=nakh), "armenia_azerbaijan_geonames_no_nakhchivan.csv")
verts, total = shared_vertices(arm_aze.geometry.values, 60, 3)
print(f"armenia_azerbaijan shared vertices: {total}")
write_points([(900_000 + k, x, y) for k, (x, y) in enumerate(verts)], "armenia_azerbaijan_border_vertices.csv")

# Cabinda, Zaire, Uíge, Bengo, Luanda (AGO) and Bas-Congo, Kinshasa (COD): Cabinda is cut off from the
# rest of Angola by Bas-Congo.
ago_cod = rows_of(["AGO-1877", "AGO-1880", "AGO-1881", "AGO-1882", "AGO-1885", "COD-1883", "COD-1884"])
cabinda = ago_cod.geometry[ago_cod.admin1_code == "AGO-1885"].iloc[0]
assert not shapely.intersects(cabinda, shapely.union_all(
    ago_cod.geometry[(ago_cod.country_code == "AGO") & (ago_cod.admin1_code != "AGO-1885")].values))
write_geojson(records(ago_cod, A1_COLS), "angola_drc_cabinda.geojson", A1_COLS)
write_points(places_near(ago_cod.geometry.values), "angola_drc_geonames.csv")
write_points(places_near(ago_cod.geometry.values, exclude=cabinda), "angola_drc_geonames_no_cabinda.csv")

# ---- Far islands of a country: France's overseas départements + Paris and its three neighbours ------
fra = rows_of(["FRA-1442", "FRA-2000", "FRA-4601", "FRA-4602", "FRA-4603",  # Martinique, Guyane, Réunion, Mayotte, Guadeloupe
               "FRA-5333", "FRA-5306", "FRA-5344", "FRA-5350"])  # Paris, Hauts-de-Seine, Seine-Saint-Denis, Val-de-Marne
print("france:", ", ".join(f"{r.admin1_code} {r.admin1_name}" for r in fra.itertuples()))
write_geojson(records(fra, A1_COLS), "france_overseas.geojson", A1_COLS)
write_points(places_near(fra.geometry.values), "france_overseas_geonames.csv")

# Chile: Coquimbo and Valparaíso (whose admin-1 includes Easter Island and the Juan Fernández islands).
chl = rows_of(["CHL-2697", "CHL-2699"])
write_geojson(records(chl, A1_COLS), "chile_coquimbo_valparaiso.geojson", A1_COLS)
write_points(places_near(chl.geometry.values), "chile_coquimbo_valparaiso_geonames.csv")

# ---- Points at the edges of the coordinate space, and in the ocean -------------------------------------
fiji = shapely.union_all(admin1.geometry[admin1.country_code == "FJI"].values)


def on_meridian(x):
    """Latitude of the middle of the longest piece of Fiji's boundary on longitude x."""
    line = shapely.LineString([(x, -21.0), (x, -12.0)])
    parts = [p for p in shapely.get_parts(shapely.intersection(shapely.boundary(fiji), line)) if p.geom_type == "LineString"]
    best = max(parts, key=shapely.length)
    return float(np.mean(shapely.get_coordinates(best)[:, 1]))


east, west = on_meridian(180.0), on_meridian(float(shapely.bounds(fiji)[0]))
extremes = [
    (910_001, 180.0, east), (910_002, -180.0, east), (910_003, -180.0, west), (910_004, 180.0, west),  # Fiji's cut at ±180
    (910_005, 0.0, 90.0), (910_006, 180.0, 90.0), (910_007, -180.0, 90.0),  # North Pole: ocean
    (910_008, 0.0, -90.0), (910_009, 180.0, -90.0), (910_010, -180.0, -90.0),  # South Pole: Antarctica's edge
    (910_011, 0.0, -30.0), (910_012, -140.0, 0.0), (910_013, -30.0, 45.0),  # open ocean
    (910_014, 180.0, 0.0), (910_015, -180.0, 0.0),  # the antimeridian at sea
]
print(f"fiji on 180: lat {east!r}; on the west edge: lat {west!r}")
write_points(extremes, "extremes.csv")
