import json, os, pyarrow, pyarrow.parquet as pq, geopandas as gpd, shapely, pyogrio, duckdb
import os, sys
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "out")
print("versions: pyarrow", pyarrow.__version__, "geopandas", gpd.__version__, "shapely", shapely.__version__,
      "pyogrio", pyogrio.__version__, "GDAL", pyogrio.__gdal_version_string__, "duckdb", duckdb.__version__)
print("GDAL drivers: Parquet" , "Parquet" in pyogrio.list_drivers(), "ADBC", "ADBC" in pyogrio.list_drivers(), "LD_LIBRARY_PATH=", os.environ.get("LD_LIBRARY_PATH"))
for f in ["cells.parquet", "points.parquet", "targets.parquet", "rejects.parquet"]:
    t = pq.read_table(f"{OUT}/{f}")
    print(f"\n== pyarrow {f}: rows={t.num_rows}\n{t.schema.to_string(show_schema_metadata=False)}")
    md = t.schema.metadata or {}
    print("geo metadata:", json.dumps(json.loads(md[b"geo"])) if b"geo" in md else None)
ref = {}
for f in ["cells.parquet", "points.parquet"]:
    g = ref[f] = gpd.read_parquet(f"{OUT}/{f}")
    print(f"\n== geopandas.read_parquet {f}: rows={len(g)} crs={g.crs.to_string()} types={g.geom_type.value_counts().to_dict()}")
for f in ["cells.parquet", "points.parquet", "cells.geojson"]:
    try:
        i = pyogrio.read_info(f"{OUT}/{f}")
        g = gpd.read_file(f"{OUT}/{f}", engine="pyogrio")
        print(f"\n== geopandas.read_file/pyogrio {f}: driver={i['driver']} rows={len(g)} crs={g.crs.to_string()} types={g.geom_type.value_counts().to_dict()} fields={list(i['fields'])}")
        if f in ref:
            r = ref[f]
            print("   geometries equal to read_parquet:", bool(shapely.equals_exact(g.geometry.values, r.geometry.values, tolerance=0).all()),
                  " attributes equal:", all((g[c].values == r[c].values).all() for c in r.columns if c != "geometry"))
    except Exception as e:
        print(f"\n== geopandas.read_file/pyogrio {f}: FAILED {type(e).__name__}: {e}")
for f in ["targets.parquet", "rejects.parquet"]:
    try:
        g = pyogrio.read_dataframe(f"{OUT}/{f}")
        r = pq.read_table(f"{OUT}/{f}").to_pandas()
        print(f"\n== pyogrio.read_dataframe {f}: driver={pyogrio.read_info(f'{OUT}/{f}')['driver']} rows={len(g)} type={type(g).__name__} columns={list(g.columns)}"
              f" equal to pyarrow: {all((g[c].values == r[c].values).all() for c in r.columns)}")
    except Exception as e:
        print(f"\n== pyogrio.read_dataframe {f}: FAILED {type(e).__name__}: {e}")
print("\n== duckdb")
con = duckdb.connect()
try:
    con.sql("INSTALL spatial; LOAD spatial;"); print("spatial extension loaded")
except Exception as e:
    print("INSTALL spatial FAILED:", str(e).splitlines()[0])
for q in ["SELECT count(*), sum(size), min(cell_id), max(cell_id), count(DISTINCT cell_id) FROM read_parquet('out/cells.parquet')",
          "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('out/cells.parquet')) WHERE column_name = 'geometry'",
          "SELECT count(*), count(DISTINCT cell_id) FROM read_parquet('out/points.parquet')",
          "SELECT count(*) FROM read_parquet('out/rejects.parquet')",
          "SELECT count(*), count(DISTINCT row), min(rank), max(rank), min(weight), max(weight) FROM read_parquet('out/targets.parquet')",
          "SELECT count(*) FROM read_parquet('out/targets.parquet') t ANTI JOIN read_parquet('out/cells.parquet') c USING (cell_id)",
          "SELECT count(*) FROM read_parquet('out/targets.parquet') t ANTI JOIN read_parquet('out/points.parquet') p USING (row)",
          "SELECT count(*) FROM (SELECT row, sum(weight) s FROM read_parquet('out/targets.parquet') GROUP BY row) WHERE s > 1 + 1e-9",
          "SELECT reason, count(*) FROM read_parquet('out/rejects.parquet') GROUP BY ALL",
          "SELECT ST_AsText(geometry), lon, lat FROM read_parquet('out/points.parquet') LIMIT 1",
          "SELECT count(*) FROM read_parquet('out/points.parquet') WHERE ST_AsWKB(geometry) <> ST_AsWKB(ST_GeomFromGeoJSON('{\"type\":\"Point\",\"coordinates\":[' || lon || ',' || lat || ']}'))",
          "SELECT ST_CRS(geometry), count(*) FROM read_parquet('out/cells.parquet') GROUP BY ALL",
          "SELECT count(*), min(cell_id), max(cell_id), sum(size), count(*) FILTER (WHERE id <> cell_id) FROM read_json('out/cells.geojson', maximum_object_size=100000000)",
          "SELECT count(*), count(*) FILTER (WHERE ST_AsWKB(g.geometry) = ST_AsWKB(p.geometry)) FROM read_json('out/cells.geojson', maximum_object_size=100000000) g JOIN read_parquet('out/cells.parquet') p USING (cell_id)"]:
    try: print(q, "->", con.sql(q.replace("out/", OUT + "/")).fetchall())
    except Exception as e: print(q, "-> FAILED", str(e).splitlines()[0])
