#!/usr/bin/env bash
# Sets up .venv (scripts/setup_env.sh) and runs the default test suite (slow reproductions excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python -m pytest -q "$@"
