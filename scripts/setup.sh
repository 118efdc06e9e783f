#!/usr/bin/env bash
# Set up a fresh machine: a virtual environment in .venv with the project (editable) and its test tools.
# torch/torchvision are pinned to the builds this project is developed with (2.14.1 / 0.29.1).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
.venv/bin/python -m pip install -q -e ".[test]"
