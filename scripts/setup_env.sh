#!/usr/bin/env bash
# Idempotent set-up from nothing: .venv with the pinned stack, then the C++ extension built in place.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt setup.py | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi
# Rebuild sladd_fast._C when any csrc file is newer than the built library.
so=$(ls sladd_fast/_C*.so 2>/dev/null | head -n1 || true)
if [ -z "$so" ] || [ -n "$(find csrc setup.py -newer "$so" -type f | head -n1)" ]; then
  echo "building sladd_fast._C ..."
  .venv/bin/pip install -q --no-build-isolation --no-deps -e . >/dev/null
fi
