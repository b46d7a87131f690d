#!/usr/bin/env bash
# System packages geocells needs beyond the Rust toolchain.
# python3 with venv for the Python package's tests (its wheel needs only Rust and pip).
# The `proj` cargo feature needs the rest: it builds PROJ 9.6 from source (Debian's is older),
# which takes cmake, a C++ compiler, pkg-config and SQLite (library and command-line tool).
# Safe to run again; it installs only what is missing.
set -euo pipefail
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v g++ >/dev/null 2>&1 || need+=(g++)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)
# The Python package's tests (python/test.sh) make a virtual environment with python3's venv.
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
else
  echo "system packages already present: cmake sqlite3 pkg-config g++ libsqlite3-dev python3-venv"
fi
