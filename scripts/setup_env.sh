#!/usr/bin/env bash
# Idempotent set-up from nothing: .venv with the pinned stack, then the C++ extension built in place.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# What the scripts cannot install themselves (a C++ compiler, Python's venv): say so before a long
# pip run fails at its end.
so=$(ls sladd_fast/_C*.so 2>/dev/null | head -n1 || true)
if [ -z "$so" ] || [ -n "$(find csrc setup.py -newer "$so" -type f | head -n1)" ]; then
  if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
    echo "error: no C++ compiler (c++ or g++) on PATH: sladd_fast._C needs one with OpenMP (Debian/Ubuntu: apt install g++)" >&2
    exit 1
  fi
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -c "import ensurepip, venv" 2>/dev/null; then
    echo "error: $PY cannot create a virtual environment (Debian/Ubuntu: apt install python3-venv)" >&2
    exit 1
  fi
  # The pinned stack (CUDA build of torch, DALI, CuPy) takes ~7 GB in .venv; say so before pip fails halfway.
  free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
  if [ "${free_kb:-0}" -lt $((8 * 1024 * 1024)) ]; then
    echo "warning: $(( free_kb / 1024 )) MB free in $(pwd); .venv needs about 7 GB (the tests ~1 GB more)" >&2
  fi
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
  echo "building sladd_fast._C (log: .venv/build.log) ..."
  if ! .venv/bin/pip install -v --no-build-isolation --no-deps -e . >.venv/build.log 2>&1; then
    tail -n 60 .venv/build.log >&2
    echo "sladd_fast._C failed to build; the full log is .venv/build.log" >&2
    exit 1
  fi
  grep -m1 "sladd_fast build:" .venv/build.log || true
fi
