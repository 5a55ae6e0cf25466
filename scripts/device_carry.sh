#!/usr/bin/env bash
# Prepares .carry/ (git-ignored) for a session that has the GPU machine, which has no DALI, dlib or
# network, and accepts at most 64 MiB of carried files per call:
#   .carry/loader_root/      the demo dataset packed to JPEG, with landmarks (a few MB): LOADER_ROOT
#   .carry/dali/part_NN      one tar of the wheels DALI needs there, in 60 MiB parts: nvidia-dali-cuda130
#                            and its dependencies (nvImageCodec, nvJPEG, nvtx, libcst, optree, astunparse,
#                            gast, makefun, six, PyYAML), for CPython 3.12 on manylinux x86_64 (the
#                            device's; DEVICE_PYTHON overrides). nvcomp is left out: DALI opens it on
#                            demand only, and JPEG decoding does not need it.
# On the device, while it stays warm (files outside the repo survive between calls):
#   1. one call per part:  mkdir -p /tmp/carry && cp .carry/dali/part_NN /tmp/carry/
#                          (carry: [".carry/dali/part_NN"])
#   2. then:  cat /tmp/carry/part_* | tar xf - -C /tmp/carry
#             && pip install --no-index --no-deps --target /tmp/dali_pkgs /tmp/carry/wheels/*.whl
#   3. then:  PYTHONPATH=/tmp/dali_pkgs LOADER_ROOT=.carry/loader_root bash benchmarks/device_check.sh loader
#             (carry: [".carry/loader_root"]). That PYTHONPATH for the loader suite only: the wheels'
#             nvidia/ package shadows site-packages' one, whose CUDA headers the synthesis suite's build needs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
rm -rf .carry/loader_root .carry/demo_png .carry/dali .carry/wheels
mkdir -p .carry/dali .carry/wheels
.venv/bin/python -m sladd_fast.data.demo --out .carry/demo_png --videos 8 --frames 8 > /dev/null
.venv/bin/python -m sladd_fast.pack .carry/demo_png .carry/loader_root --quiet
rm -rf .carry/demo_png
# The versions installed and tested here (requirements.txt pins DALI).
.venv/bin/pip download -q --no-deps --only-binary=:all: --implementation cp --python-version "${DEVICE_PYTHON:-3.12}" \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .carry/wheels nvidia-dali-cuda130==2.4.0 nvidia-nvimgcodec-cu13==0.9.0.20 nvidia-nvjpeg==13.3.2.43 nvtx==0.2.17 \
  libcst==1.9.0 optree==0.20.0 astunparse==1.6.3 gast==0.7.0 makefun==1.16.0 six pyyaml
tar cf - -C .carry wheels | split -b 60m -d - .carry/dali/part_
rm -rf .carry/wheels
du -sh .carry/loader_root .carry/dali/part_*
