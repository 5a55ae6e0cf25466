#!/usr/bin/env bash
# One prepared GPU check per suite, for a machine with no network; each suite fits its own 6 minutes.
#   bash benchmarks/device_check.sh [engine|train|train_compile|all]      (default: engine)
# Suite "engine" (target: under 8 minutes on one H100):
#   1. NVRTC JIT path (no build): the whole test suite, CUDA tests included.
#   2. Builds sladd_fast._C with its CUDA kernels (FORCE_CUDA=1, ninja, all cores) and reruns the suite.
#   3. bench_synthesis on the GPU for the jit and the compiled backends, at batch 256 and 1024.
#   4. compute-sanitizer over every op on small inputs (benchmarks/sanitize_ops.py): memcheck for the
#      compiled and JIT backends, initcheck and racecheck for the compiled one.
# Suite "train" (no build: the NVRTC kernels; about 5 minutes at most):
#   1. the training tests (CUDA step under bf16 and channels_last with no host sync, models, losses).
#   2. train.py for 30 steps on the synthetic backend (the loop, checkpoints and logging on the GPU).
#   3. bench_train eager at batch 32 (SLADD's per-GPU batch) and 64, arm (c) when LOADER_ROOT is set.
# Suite "train_compile": bench_train with --compile at batch 32 (compiling both networks takes minutes).
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
SUITE=${1:-engine}
case "$SUITE" in engine|train|train_compile|all) ;; *) echo "unknown suite: $SUITE (engine|train|train_compile|all)"; exit 2;; esac
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
if [ "$SUITE" = train ]; then train_suite; exit 0; fi
if [ "$SUITE" = train_compile ]; then train_compile_suite; exit 0; fi

log "1/4 tests, JIT backend (no build)"
rm -f sladd_fast/_C*.so
timeout 180 $PY -m pytest -q tests -p no:cacheprovider --junitxml="$OUT_DIR/pytest_jit.xml" \
  > "$OUT_DIR/pytest_jit.log" 2>&1
log "pytest (jit) rc=$?: $(tail -n 1 "$OUT_DIR/pytest_jit.log")"
timeout 90 env SLADD_FAST_BACKEND=jit $PY benchmarks/bench_synthesis.py --device cuda --batch 256 --iters 10 \
  --json "$OUT_DIR/bench_synthesis_cuda_jit_b256.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"

log "2/4 build with CUDA kernels"
# The GPU's own architecture, and the CUDA library headers that ship in the nvidia-* wheels.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$($PY -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())" 2>/dev/null || echo "9.0")}
NV_INC=$($PY -c "import nvidia, os; print(':'.join(os.path.join(r, d, 'include') for r in nvidia.__path__ for d in sorted(os.listdir(r)) if os.path.isdir(os.path.join(r, d, 'include'))))" 2>/dev/null || true)
export CPATH="${NV_INC}${CPATH:+:$CPATH}"
MAX_JOBS=$(nproc) FORCE_CUDA=1 timeout 240 $PY setup.py build_ext --inplace > "$OUT_DIR/build.log" 2>&1
log "build rc=$?"
timeout 150 $PY -m pytest -q tests -p no:cacheprovider --junitxml="$OUT_DIR/pytest_kernel.xml" \
  > "$OUT_DIR/pytest_kernel.log" 2>&1
log "pytest (compiled) rc=$?: $(tail -n 1 "$OUT_DIR/pytest_kernel.log")"

log "3/4 benchmarks"
for b in 256 1024; do
  timeout 90 $PY benchmarks/bench_synthesis.py --device cuda --batch $b --iters 10 \
    --json "$OUT_DIR/bench_synthesis_cuda_b$b.json" --profile "$OUT_DIR/profile_synthesis_cuda_b$b.txt" 2>&1 \
    | tee -a "$OUT_DIR/device_check.log"
done
# Loader: needs DALI (pip install --no-deps the carried wheel) and a packed dataset (LOADER_ROOT);
# scripts/device_carry.sh prepares both under .carry/ and says how to carry them.
if $PY -c "import nvidia.dali" 2>/dev/null && [ -n "${LOADER_ROOT:-}" ]; then
  timeout 120 $PY benchmarks/bench_loader.py --backend dali --device cuda --root "$LOADER_ROOT" --workers "$(nproc)" \
    --json "$OUT_DIR/bench_loader_cuda_dali.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
else
  log "loader benchmark skipped: needs nvidia.dali and LOADER_ROOT"
fi
log "4/4 compute-sanitizer"
# Last, as the most expendable step (about 30 s a run): our kernels only (--kernel-name kns=sladd),
# memcheck on both backends, initcheck and racecheck (shared memory: the mask kernels) on the compiled
# one. Without torch's caching allocator, so an access past a tensor leaves its allocation.
if command -v compute-sanitizer > /dev/null; then
  for run in memcheck:kernel memcheck:jit initcheck:kernel racecheck:kernel; do
    tool=${run%%:*}; backend=${run##*:}
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout 60 compute-sanitizer --tool "$tool" --kernel-name kns=sladd \
      --error-exitcode 3 $PY benchmarks/sanitize_ops.py --device cuda --backend "$backend" > "$OUT_DIR/sanitizer_${tool}_${backend}.log" 2>&1
    log "compute-sanitizer $tool ($backend) rc=$?: $(grep -E 'ERROR SUMMARY|all ops ran' "$OUT_DIR/sanitizer_${tool}_${backend}.log" | tr '\n' ' ')"
  done
else
  log "compute-sanitizer not found: skipped"
fi
if [ "$SUITE" = all ]; then train_suite; train_compile_suite; fi
log "done"
