#!/usr/bin/env bash
# Sets everything up if needed, then runs the main job on the embedded demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m sladd_fast.demo --out demo_out "$@"
