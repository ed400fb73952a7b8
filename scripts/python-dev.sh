#!/usr/bin/env bash
# Builds the Python package (crates/python, PyO3 + maturin) and installs it into a virtual
# environment, .venv at the repository root by default (VENV=path to choose another).
# Needs python3 (>= 3.9) with venv, the Rust toolchain, and PyPI for maturin, pytest, numpy, pandas.
# Then: .venv/bin/python -m pytest crates/python/tests
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "maturin>=1.5,<2" pytest numpy pandas jsonschema
# `maturin develop` builds the extension in release mode and installs it into the venv.
VIRTUAL_ENV="$(cd "$venv" && pwd)" PATH="$(cd "$venv" && pwd)/bin:$PATH" \
  maturin develop --release --manifest-path crates/python/Cargo.toml --quiet
"$venv/bin/python" -c 'import sxplan; print("sxplan", sxplan.__version__, "installed in '"$venv"'")'
