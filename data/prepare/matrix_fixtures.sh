#!/usr/bin/env bash
# Rebuild only data/fixtures/matrix/ (the test matrix's fixtures) from the shipped data/*.parquet and
# us-atlas 3.0.1. Run from the repository root:   bash data/prepare/matrix_fixtures.sh
# Needs: bash, npm, python3 (3.11, with venv), tar, sha256sum; network access to npm and PyPI.
# prepare_data.sh runs the same Python step after rebuilding data/*.parquet.
set -euo pipefail
cd "$(dirname "$0")/../.."

TMP=$(mktemp -d /tmp/geocells-matrix.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

(cd "$TMP" && npm pack --silent us-atlas@3.0.1 >/dev/null)
(cd "$TMP" && grep ' us-atlas-3.0.1.tgz$' | sha256sum --check --quiet) < data/prepare/sources.sha256
mkdir -p "$TMP/us"
tar xzf "$TMP/us-atlas-3.0.1.tgz" -C "$TMP/us" package/counties-10m.json

python3 -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install --quiet --disable-pip-version-check -r data/prepare/requirements.txt

"$TMP/venv/bin/python" data/prepare/matrix_fixtures.py "$TMP/us/package/counties-10m.json" data
