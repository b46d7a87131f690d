#!/usr/bin/env bash
# The Python package's tests: builds the wheel with maturin (abi3), installs it into a virtual
# environment under target/ with the pinned test requirements, and runs pytest from the
# repository root (the tests compare with target/release/examples/build_cells, which the
# README's `cargo test --release` builds first).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
rm -rf target/wheels
"$venv/bin/maturin" build --release --quiet -m python/Cargo.toml -o target/wheels
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/geocells-*.whl
GEOCELLS_WHEEL_DIR=target/wheels "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests "$@"
