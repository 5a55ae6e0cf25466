#!/usr/bin/env bash
# One prepared GPU check per suite, for a machine with no network; each suite fits its own 6 minutes
# from a cold start, so a 15-minute allowance holds one suite and a rerun.
#   bash benchmarks/device_check.sh [synthesis|train|train_compile|loader|augment|all]      (default: synthesis)
# Suite "synthesis" ("engine" is an alias):
#   1. the CUDA tests on the NVRTC backend with no sladd_fast._C at all (CPU oracle: the references).
#   2. builds sladd_fast._C with its CUDA kernels (FORCE_CUDA=1, ninja, all cores; about 2 minutes)
#      and runs the CUDA tests again, compiled backend first, NVRTC through ops.use_backend.
#   3. bench_synthesis --device cuda at batch 32, 256, 1024 and 4096 (JSON with peak memory, profile at
#      32 and 1024, CUDA-graph replay at 32 and 256), the NVRTC backend at 256 beside it; the
#      per-sample baseline only in the batch-256 run.
#   4. compute-sanitizer memcheck over every op (benchmarks/sanitize_ops.py), both backends; racecheck
#      over poisson_solve (the tiled DST kernel, the one that shares memory between threads).
# Suite "train" (no build: the NVRTC kernels; about 5 minutes at most):
#   1. the training tests (CUDA step under bf16 and channels_last with no host sync, models, losses).
#   2. train.py for 30 steps on the synthetic backend (the loop, checkpoints and logging on the GPU).
#   3. bench_train eager at batch 32 (SLADD's per-GPU batch) and 64, arm (c) when LOADER_ROOT is set.
# Suite "train_compile": bench_train with --compile at batch 32 (compiling both networks takes minutes).
# Suite "loader" (no build; needs LOADER_ROOT, a packed JPEG dataset with landmarks.npz, e.g. from
#   scripts/device_carry.sh, since the device has no dlib to build one): the GPU-decode tests, then
#   bench_loader with the torch backend decoding on the GPU (nvJPEG per batch) at batch 128 and 256
#   beside the CPU-decode DataLoader, epochs of >= 50 batches; DALI at 128 when it is installed.
# Suite "augment" (no build): the augmentation tests on the GPU, then bench_augment for each mode
#   (sladd, sbi, xray) at batch 256 (with the per-sample baseline) and 1024 (module only), and each at
#   256 replayed from a CUDA graph (--graph).
# Results (JSON, junit XML, logs) go to $OUT if set (the device tool's folder), else
# benchmarks/results/device/. Commit them under benchmarks/results/ with the GPU's name.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-benchmarks/results/device}
mkdir -p "$OUT_DIR"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
log() { echo "[$(date +%T)] $*" | tee -a "$OUT_DIR/device_check.log"; }

log "environment"
$PY - > "$OUT_DIR/env.json" <<'PYEOF'
import json, torch
info = {"torch": torch.__version__, "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0)
        if torch.cuda.is_available() else None}
try:
    import cupy
    info["cupy"] = cupy.__version__
except Exception as e:  # noqa: BLE001
    info["cupy"] = repr(e)
print(json.dumps(info, indent=2))
PYEOF
cat "$OUT_DIR/env.json"
SUITE=${1:-synthesis}
[ "$SUITE" = engine ] && SUITE=synthesis
case "$SUITE" in synthesis|train|train_compile|loader|augment|all) ;; *) echo "unknown suite: $SUITE (synthesis|train|train_compile|loader|augment|all)"; exit 2;; esac
if [ -z "${LOADER_ROOT:-}" ] && [ -f .carry/loader_root/landmarks.npz ]; then
  LOADER_ROOT=.carry/loader_root  # prepared by scripts/device_carry.sh
fi

train_suite() {
  log "train 1/3 training tests (NVRTC kernels)"
  timeout 90 $PY -m pytest -q tests/test_train_cuda.py tests/test_train_step.py tests/test_models.py \
    -p no:cacheprovider --junitxml="$OUT_DIR/pytest_train.xml" > "$OUT_DIR/pytest_train.log" 2>&1
  log "pytest (train) rc=$?: $(tail -n 1 "$OUT_DIR/pytest_train.log")"
  log "train 2/3 train.py on the synthetic backend"
  timeout 60 $PY train.py --backend synthetic --device cuda --train_batchSize 32 --max-steps 30 --manualSeed 1 \
    --out "$OUT_DIR/runs" --meta synthetic --run.evaluate=false --run.progress=false --run.log_every=10 \
    --run.ckpt_every=30 --run.sample_every=30 > "$OUT_DIR/train_synthetic.log" 2>&1
  log "train.py rc=$?: $(tail -n 1 "$OUT_DIR/train_synthetic.log")"
  cp "$OUT_DIR/runs/synthetic/summary.json" "$OUT_DIR/train_synthetic_summary.json" 2>/dev/null
  rm -f "$OUT_DIR"/runs/synthetic/*.pt  # 170 MB of weights: not worth carrying back
  log "train 3/3 bench_train eager"
  loader_args="--no-loader"
  if [ -n "${LOADER_ROOT:-}" ]; then loader_args="--root $LOADER_ROOT --workers $(nproc)"; fi
  for b in 32 64; do
    timeout 75 $PY benchmarks/bench_train.py --device cuda --batch $b --iters 40 --rounds 3 $loader_args \
      --json "$OUT_DIR/bench_train_cuda_b$b.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
  done
  log "train suite done"
}
train_compile_suite() {
  log "train_compile: bench_train --compile"
  timeout 330 $PY benchmarks/bench_train.py --device cuda --compile --batch 32 --iters 40 --rounds 3 --no-loader \
    --json "$OUT_DIR/bench_train_cuda_b32_compile.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
}
loader_suite() {
  if [ -z "${LOADER_ROOT:-}" ]; then log "loader suite skipped: set LOADER_ROOT (scripts/device_carry.sh)"; return; fi
  log "loader 1/3 GPU-decode tests"
  timeout 60 $PY -m pytest -q tests/test_data_loader.py -k "gpu_decode or encoded" -p no:cacheprovider \
    > "$OUT_DIR/pytest_loader.log" 2>&1
  log "pytest (loader) rc=$?: $(tail -n 1 "$OUT_DIR/pytest_loader.log")"
  log "loader 2/3 torch backend, nvJPEG decode"
  for b in 128 256; do
    timeout 100 $PY benchmarks/bench_loader.py --backend torch --device cuda --decode cuda --root "$LOADER_ROOT" \
      --batch $b --epochs 3 --min-batches 50 --workers "$(nproc)" --json "$OUT_DIR/bench_loader_cuda_nvjpeg_b$b.json" \
      2>&1 | tee -a "$OUT_DIR/device_check.log"
  done
  log "loader 3/3 DALI"
  if $PY -c "import nvidia.dali" 2>/dev/null; then
    timeout 100 $PY benchmarks/bench_loader.py --backend dali --device cuda --root "$LOADER_ROOT" --batch 128 \
      --epochs 3 --min-batches 50 --workers "$(nproc)" --json "$OUT_DIR/bench_loader_cuda_dali_b128.json" 2>&1 \
      | tee -a "$OUT_DIR/device_check.log"
  else
    log "DALI not installed: skipped (see scripts/device_carry.sh)"
  fi
}
augment_suite() {
  log "augment 1/2 tests"
  timeout 90 $PY -m pytest -q tests/test_augment.py -p no:cacheprovider > "$OUT_DIR/pytest_augment.log" 2>&1
  log "pytest (augment) rc=$?: $(tail -n 1 "$OUT_DIR/pytest_augment.log")"
  log "augment 2/2 bench_augment"
  for mode in sladd sbi xray; do
    for b in 256 1024; do
      base="--baseline-iters 0"; [ $b = 256 ] && base="--baseline-iters 1 --rounds 2"
      timeout 60 $PY benchmarks/bench_augment.py --mode $mode --device cuda --batch $b --iters 20 $base \
        --json "$OUT_DIR/bench_augment_${mode}_cuda_b$b.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
    done
  done
  for mode in sladd sbi xray; do  # replayed from a CUDA graph (AugmentGraph): the launch-bound batch
    timeout 60 $PY benchmarks/bench_augment.py --mode $mode --device cuda --batch 256 --iters 20 --baseline-iters 0 \
      --graph --json "$OUT_DIR/bench_augment_${mode}_cuda_b256_graph.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
  done
}
if [ "$SUITE" = train ]; then train_suite; exit 0; fi
if [ "$SUITE" = augment ]; then augment_suite; exit 0; fi
if [ "$SUITE" = loader ]; then loader_suite; exit 0; fi
if [ "$SUITE" = train_compile ]; then train_compile_suite; exit 0; fi

CUDA_TESTS="tests/test_cuda_ops.py tests/test_synthesis.py tests/test_region_mask.py tests/test_opcheck.py"
log "synthesis 1/4 CUDA tests, NVRTC backend, no _C"
rm -f sladd_fast/_C*.so
timeout 120 $PY -m pytest -q $CUDA_TESTS -p no:cacheprovider --junitxml="$OUT_DIR/pytest_jit.xml" \
  > "$OUT_DIR/pytest_jit.log" 2>&1
log "pytest (jit, no _C) rc=$?: $(tail -n 1 "$OUT_DIR/pytest_jit.log")"

log "synthesis 2/4 build with CUDA kernels, tests again"
# The GPU's own architecture, and the CUDA library headers that ship in the nvidia-* wheels.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$($PY -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())" 2>/dev/null || echo "9.0")}
NV_INC=$($PY -c "import nvidia, os; print(':'.join(os.path.join(r, d, 'include') for r in nvidia.__path__ for d in sorted(os.listdir(r)) if os.path.isdir(os.path.join(r, d, 'include'))))" 2>/dev/null || true)
export CPATH="${NV_INC}${CPATH:+:$CPATH}"
MAX_JOBS=$(nproc) FORCE_CUDA=1 timeout 200 $PY setup.py build_ext --inplace > "$OUT_DIR/build.log" 2>&1
log "build rc=$?"
timeout 90 $PY -m pytest -q $CUDA_TESTS -p no:cacheprovider --junitxml="$OUT_DIR/pytest_kernel.xml" \
  > "$OUT_DIR/pytest_kernel.log" 2>&1
log "pytest (compiled) rc=$?: $(tail -n 1 "$OUT_DIR/pytest_kernel.log")"

log "synthesis 3/4 benchmarks"
for b in 32 256 1024 4096; do
  base="--baseline-iters 0"; prof=""; graph=""
  [ $b = 256 ] && base="--baseline-iters 2 --rounds 2 --baseline-batch 64"
  { [ $b = 32 ] || [ $b = 256 ]; } && graph="--graph"
  { [ $b = 32 ] || [ $b = 1024 ]; } && prof="--profile $OUT_DIR/profile_synthesis_cuda_b$b.txt"
  timeout 60 $PY benchmarks/bench_synthesis.py --device cuda --batch $b --iters 20 $base $prof $graph \
    --json "$OUT_DIR/bench_synthesis_cuda_b$b.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
done
timeout 40 env SLADD_FAST_BACKEND=jit $PY benchmarks/bench_synthesis.py --device cuda --batch 256 --iters 20 \
  --baseline-iters 0 --json "$OUT_DIR/bench_synthesis_cuda_jit_b256.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"

log "synthesis 4/4 compute-sanitizer memcheck"
# Our kernels only (--kernel-name kns=sladd), without torch's caching allocator, so an access past a
# tensor leaves its allocation.
if command -v compute-sanitizer > /dev/null; then
  for backend in kernel jit; do
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout 45 compute-sanitizer --tool memcheck --kernel-name kns=sladd \
      --error-exitcode 3 $PY benchmarks/sanitize_ops.py --device cuda --backend "$backend" > "$OUT_DIR/sanitizer_memcheck_${backend}.log" 2>&1
    log "compute-sanitizer memcheck ($backend) rc=$?: $(grep -E 'ERROR SUMMARY|all ops ran' "$OUT_DIR/sanitizer_memcheck_${backend}.log" | tr '\n' ' ')"
  done
  # The one kernel that shares memory between threads (the tiled DST products): shared-memory races.
  race_log="$OUT_DIR/sanitizer_racecheck.log"
  timeout 40 compute-sanitizer --tool racecheck --kernel-name kns=sladd_dst --error-exitcode 3 \
    $PY benchmarks/sanitize_ops.py --device cuda --backend kernel --ops poisson_solve > "$race_log" 2>&1
  log "compute-sanitizer racecheck (poisson_solve) rc=$?: $(grep -E 'RACECHECK SUMMARY|ERROR SUMMARY|all ops ran' "$race_log" | tr '\n' ' ')"
else
  log "compute-sanitizer not found: skipped"
fi
if [ "$SUITE" = all ]; then train_suite; train_compile_suite; loader_suite; augment_suite; fi
log "done"
