#!/usr/bin/env bash
# Prepares .carry/ (git-ignored) for a session that has the GPU machine, which has no DALI, dlib or
# network, and accepts at most 64 MiB of carried files per call:
#   .carry/loader_root/      the demo dataset packed to JPEG, with landmarks (a few MB): LOADER_ROOT
#   .carry/dali/part_NN      the nvidia-dali-cuda130 wheel split into 50 MiB parts
#   .carry/dali/NAME         the wheel's file name, to reassemble it
# On the device, while it stays warm (files outside the repo survive between calls):
#   1. one call per part:  cp .carry/dali/part_NN /tmp/     (carry: [".carry/dali/part_NN", ".carry/dali/NAME"])
#   2. then:  cat /tmp/part_* > /tmp/$(cat .carry/dali/NAME) && pip install --no-deps /tmp/$(cat .carry/dali/NAME)
#   3. then:  LOADER_ROOT=.carry/loader_root bash benchmarks/device_check.sh   (carry: [".carry/loader_root"])
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
mkdir -p .carry/dali
rm -rf .carry/loader_root .carry/demo_png
.venv/bin/python -m sladd_fast.data.demo --out .carry/demo_png --videos 8 --frames 8 > /dev/null
.venv/bin/python -m sladd_fast.pack .carry/demo_png .carry/loader_root --quiet
rm -rf .carry/demo_png
.venv/bin/pip download -q --no-deps -d .carry/dali nvidia-dali-cuda130==2.4.0
whl=$(ls .carry/dali/*.whl | head -n1)
basename "$whl" > .carry/dali/NAME
split -b 50m -d "$whl" .carry/dali/part_
rm -f "$whl"
du -sh .carry/loader_root .carry/dali/part_*
