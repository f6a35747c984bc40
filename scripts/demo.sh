#!/usr/bin/env bash
# Sets up .venv (scripts/setup_env.sh) and runs the main job: `opsrl demo` (train on a small preset,
# compare with the OR reference and heuristics, write opsrl_demo.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/opsrl demo "$@"
