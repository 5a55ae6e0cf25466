#!/usr/bin/env bash
# One prepared GPU check per suite, for a machine with no network. Each suite has its own time budget
# (DEVICE_BUDGET_S, default 330 s, so that with the machine's start and the transfers it fits 6 minutes):
# its steps run in order of importance, each under a timeout cut to what the suite has left, and a step
# that no longer fits is skipped and listed in skipped.txt, so an over-long run loses its least
# important figures instead of being killed in the middle. A 15-minute allowance holds one suite and
# a rerun.
#   bash benchmarks/device_check.sh [SUITE...]      SUITE: synthesis (default; alias engine), train,
#                                                   train_compile, loader, augment, all (every suite:
#                                                   over one device call's 10 minutes)
# Suite "synthesis":
#   1. the CUDA tests on the NVRTC backend with no sladd_fast._C at all (CPU oracle: the references),
#      while sladd_fast._C with its CUDA kernels builds beside them into its own folder (FORCE_CUDA=1,
#      ninja; about 2 minutes) and is copied in when both are done.
#   2. the CUDA tests again on the compiled backend (SLADD_FAST_TEST_BACKENDS=kernel).
#   3. bench_synthesis --device cuda at batch 256 (with the per-sample baseline and CUDA-graph replay)
#      and 32 (graph replay, torch profile): the targets' two batch sizes.
#   4. compute-sanitizer memcheck over every op (benchmarks/sanitize_ops.py) on the compiled backend;
#      racecheck over poisson_solve, box_of and color_stats (the kernels that share memory between threads).
#   5. bench_synthesis at 1024 (profile) and 4096 (peak memory), the NVRTC backend at 256, and
#      memcheck on the NVRTC backend.
#   A rerun for what the budget skipped, on a machine still warm (its _C kept): DEVICE_REUSE_BUILD=1
#   skips 1 (the NVRTC run and the build), DEVICE_SKIP_TESTS=1 also 2.
# Suite "train" (no build: the NVRTC kernels, or the compiled ones an earlier suite of the same run built):
#   1. the training tests (CUDA step under bf16 and channels_last with no host sync, models, losses).
#   2. train.py for 30 steps on the synthetic backend (the loop, checkpoints and logging on the GPU).
#   3. bench_train eager at batch 32 (SLADD's per-GPU batch) and 64, arm (c) when LOADER_ROOT is set.
# Suite "train_compile": bench_train with --compile at batch 32 (compiling both networks takes minutes).
# Suite "loader" (no build; needs LOADER_ROOT, a packed JPEG dataset with landmarks.npz, e.g. from
#   scripts/device_carry.sh, since the device has no dlib to build one): the GPU-decode tests, then
#   bench_loader with the torch backend decoding on the GPU (nvJPEG per batch) at batch 128 and 256
#   beside the CPU-decode DataLoader, epochs of >= 50 batches; DALI at 128 when it is installed; then
#   bench_batch_transport (the workers' hand-over alone) with every core.
# Suite "augment" (no build): the augmentation tests on the GPU, then bench_augment for each mode
#   (sladd, sbi, xray) at batch 256 with the per-sample baseline, each at 256 replayed from a CUDA
#   graph (--graph), then each at 1024 (module only).
# Results (JSON, junit XML, logs) go to $OUT if set (the device tool's folder), else
# benchmarks/results/device/. Then, here: python benchmarks/collect_device_results.py OUT files the
# JSONs under benchmarks/results/ with the date and the GPU's name, and prints the run's summary.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-benchmarks/results/device}
mkdir -p "$OUT_DIR"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
BUDGET_S=${DEVICE_BUDGET_S:-330}
log() { echo "[$(date +%T)] $*" | tee -a "$OUT_DIR/device_check.log"; }
exec 3>&1  # the terminal, for step's own notes: its output may be piped into the log already
note() { echo "[$(date +%T)] $*" >> "$OUT_DIR/device_check.log"; echo "[$(date +%T)] $*" >&3; }

SUITES=()
for arg in "${@:-synthesis}"; do
  case "$arg" in
    engine) SUITES+=(synthesis) ;;
    all) SUITES+=(synthesis train train_compile loader augment) ;;
    synthesis|train|train_compile|loader|augment) SUITES+=("$arg") ;;
    *) echo "unknown suite: $arg (synthesis|train|train_compile|loader|augment|all)"; exit 2 ;;
  esac
done

log "environment"
$PY - > "$OUT_DIR/env.json" <<'PYEOF'
import datetime, json, torch
info = {"torch": torch.__version__, "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0)
        if torch.cuda.is_available() else None,
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
for name in ("cupy", "timm", "torchvision"):
    try:
        info[name] = __import__(name).__version__
    except Exception as e:  # noqa: BLE001
        info[name] = repr(e)
print(json.dumps(info, indent=2))
PYEOF
cat "$OUT_DIR/env.json"
if [ -z "${LOADER_ROOT:-}" ] && [ -f .carry/loader_root/landmarks.npz ]; then
  LOADER_ROOT=.carry/loader_root  # prepared by scripts/device_carry.sh
fi

# step NAME MAX_S CMD...: CMD under a timeout of MAX_S seconds cut to what the suite has left. Skipped
# (status 99, listed in skipped.txt) when less than half of MAX_S is left: it would likely be killed
# midway. A step that runs out of time is listed there too. Its status is noted either way (a step
# piped into tee loses it otherwise).
suite_start() { SUITE_NAME=$1; SUITE_T0=$SECONDS; log "suite $1 (budget ${BUDGET_S}s)"; }
left_s() { echo $((BUDGET_S - (SECONDS - SUITE_T0))); }
clamp_s() { local left; left=$(left_s); echo $(($1 < left ? $1 : left)); }  # clamp_s S: S cut to what is left
step() {
  local name=$1 max=$2
  shift 2
  local left
  left=$(left_s)
  if [ $((2 * left)) -lt "$max" ] || [ "$left" -lt 10 ]; then
    note "skipped, ${SUITE_NAME}'s budget spent (${left}s left): $name"
    echo "$SUITE_NAME: $name" >> "$OUT_DIR/skipped.txt"
    return 99
  fi
  max=$(clamp_s "$max")
  local rc=0
  timeout -k 10 "$max" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "$SUITE_NAME: $name (timed out after ${max}s)" >> "$OUT_DIR/skipped.txt"
  fi
  note "step '$name' rc=$rc"
  return "$rc"
}
# logged_step FILE NAME MAX_S CMD...: step with CMD's output in $OUT_DIR/FILE, then that file's last line
# (pytest's tally, train.py's summary) in the log.
logged_step() {
  local file="$OUT_DIR/$1"
  shift
  step "$@" > "$file" 2>&1
  local rc=$?
  [ "$rc" -ne 99 ] && log "$1: $(tail -n 1 "$file")"
  return "$rc"
}

train_suite() {
  suite_start train
  logged_step pytest_train.log "training tests" 90 $PY -m pytest -q tests/test_train_cuda.py tests/test_train_step.py \
    tests/test_models.py -p no:cacheprovider --junitxml="$OUT_DIR/pytest_train.xml"
  logged_step train_synthetic.log "train.py on the synthetic backend" 60 $PY train.py --backend synthetic --device cuda \
    --train_batchSize 32 --max-steps 30 --manualSeed 1 --out "$OUT_DIR/runs" --meta synthetic --run.evaluate=false \
    --run.progress=false --run.log_every=10 --run.ckpt_every=30 --run.sample_every=30
  cp "$OUT_DIR/runs/synthetic/summary.json" "$OUT_DIR/train_synthetic_summary.json" 2>/dev/null
  rm -f "$OUT_DIR"/runs/synthetic/*.pt  # 170 MB of weights: not worth carrying back
  local loader_args="--no-loader"
  if [ -n "${LOADER_ROOT:-}" ]; then loader_args="--root $LOADER_ROOT --workers $(nproc)"; fi
  for b in 32 64; do  # 100 timed steps at 32, 60 at 64: well above a 16-worker loader's 32 queued batches
    step "bench_train b$b" 75 $PY benchmarks/bench_train.py --device cuda --batch $b --iters $((b == 32 ? 100 : 60)) \
      --rounds 3 $loader_args \
      --json "$OUT_DIR/bench_train_cuda_b$b.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
  done
}
train_compile_suite() {
  suite_start train_compile
  step "bench_train --compile" 320 $PY benchmarks/bench_train.py --device cuda --compile --batch 32 --iters 40 \
    --rounds 3 --no-loader --json "$OUT_DIR/bench_train_cuda_b32_compile.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
}
loader_suite() {
  suite_start loader
  if [ -z "${LOADER_ROOT:-}" ]; then log "loader suite skipped: set LOADER_ROOT (scripts/device_carry.sh)"; return; fi
  logged_step pytest_loader.log "GPU-decode tests" 60 $PY -m pytest -q tests/test_data_loader.py \
    -k "gpu_decode or encoded" -p no:cacheprovider
  for b in 128 256; do
    step "bench_loader nvJPEG b$b" 90 $PY benchmarks/bench_loader.py --backend torch --device cuda --decode cuda \
      --root "$LOADER_ROOT" --batch $b --epochs 3 --min-batches 50 --workers "$(nproc)" \
      --json "$OUT_DIR/bench_loader_cuda_nvjpeg_b$b.json" 2>&1 | tee -a "$OUT_DIR/device_check.log"
  done
  if $PY -c "import nvidia.dali" 2>/dev/null; then
    step "bench_loader DALI b128" 90 $PY benchmarks/bench_loader.py --backend dali --device cuda --root "$LOADER_ROOT" \
      --batch 128 --epochs 3 --min-batches 50 --workers "$(nproc)" --json "$OUT_DIR/bench_loader_cuda_dali_b128.json" \
      2>&1 | tee -a "$OUT_DIR/device_check.log"
  else
    log "DALI not installed: skipped (see scripts/device_carry.sh)"
  fi
  # The workers-to-main hand-over alone, no GPU (packed frames and uint8 masks against one tensor per
  # frame and float masks): its ceiling with this machine's cores.
  # Epochs of 4 batches per worker: 10 left most of 16 workers idle and timed start-up.
  step "bench_batch_transport b128" 60 $PY benchmarks/bench_batch_transport.py --root "$LOADER_ROOT" --batch 128 \
    --workers "$(nproc)" --min-batches $((4 * $(nproc))) --rounds 2 --json "$OUT_DIR/bench_batch_transport_b128.json" 2>&1 \
    | tee -a "$OUT_DIR/device_check.log"
}
augment_suite() {
  suite_start augment
  logged_step pytest_augment.log "augmentation tests" 90 $PY -m pytest -q tests/test_augment.py -p no:cacheprovider \
    --junitxml="$OUT_DIR/pytest_augment.xml"
  local mode
  for mode in sladd sbi xray; do  # the module beside the per-sample baseline
    step "bench_augment $mode b256" 50 $PY benchmarks/bench_augment.py --mode $mode --device cuda --batch 256 --iters 20 \
      --baseline-iters 3 --rounds 3 --json "$OUT_DIR/bench_augment_${mode}_cuda_b256.json" 2>&1 \
      | tee -a "$OUT_DIR/device_check.log"
  done
  for mode in sladd sbi xray; do  # replayed from a CUDA graph (AugmentGraph): the launch-bound batch
    step "bench_augment $mode b256 --graph" 40 $PY benchmarks/bench_augment.py --mode $mode --device cuda --batch 256 \
      --iters 20 --baseline-iters 0 --graph --json "$OUT_DIR/bench_augment_${mode}_cuda_b256_graph.json" 2>&1 \
      | tee -a "$OUT_DIR/device_check.log"
  done
  for mode in sladd sbi xray; do
    step "bench_augment $mode b1024" 40 $PY benchmarks/bench_augment.py --mode $mode --device cuda --batch 1024 \
      --iters 20 --baseline-iters 0 --json "$OUT_DIR/bench_augment_${mode}_cuda_b1024.json" 2>&1 \
      | tee -a "$OUT_DIR/device_check.log"
  done
}
bench_synthesis() {  # bench_synthesis BACKEND BATCH MAX_S [ARGS...]: one batch size on one ops backend (kernel, jit)
  local backend=$1 b=$2 max=$3
  shift 3
  step "bench_synthesis $backend b$b $*" "$max" env SLADD_FAST_BACKEND="$backend" $PY benchmarks/bench_synthesis.py \
    --device cuda --batch "$b" --iters 20 "$@" 2>&1 | tee -a "$OUT_DIR/device_check.log"
}
sanitize() {  # sanitize TOOL BACKEND MAX_S [OPS]: benchmarks/sanitize_ops.py (every op, or the comma-separated
  # OPS) under compute-sanitizer --tool TOOL, our kernels only (kns=sladd), without torch's caching
  # allocator (an access past a tensor then leaves its allocation); the summary lines in the log
  local tool=$1 backend=$2 max=$3 ops=${4:+--ops $4}
  local log_file="$OUT_DIR/sanitizer_${tool}_${backend}.log"
  step "$tool ($backend${4:+: $4})" "$max" env PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool "$tool" \
    --kernel-name kns=sladd --error-exitcode 3 $PY benchmarks/sanitize_ops.py --device cuda --backend "$backend" $ops \
    > "$log_file" 2>&1
  local rc=$?
  [ "$rc" -ne 99 ] && log "compute-sanitizer $tool ($backend) rc=$rc: $(grep -E 'SUMMARY|all ops ran' "$log_file" | tr '\n' ' ')"
  return "$rc"
}
synthesis_build() {  # the NVRTC test run without _C beside the CUDA build; sets compiled=1 when _C is in
  local tests=$1
  log "synthesis: CUDA tests on NVRTC without _C, beside the CUDA build"
  rm -f sladd_fast/_C*.so
  # The GPU's own architecture, and the CUDA library headers that ship in the nvidia-* wheels.
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$($PY -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())" 2>/dev/null || echo "9.0")}
  local nv_inc
  nv_inc=$($PY -c "import nvidia, os; print(':'.join(os.path.join(r, d, 'include') for r in nvidia.__path__ for d in sorted(os.listdir(r)) if os.path.isdir(os.path.join(r, d, 'include'))))" 2>/dev/null || true)
  local build_dir
  build_dir=$(mktemp -d)
  # Its own folders: the test run beside it imports sladd_fast without _C, and nothing lands in the
  # package until the build is done.
  local build_max
  build_max=$(clamp_s 240)
  ( export CPATH="${nv_inc}${CPATH:+:$CPATH}"
    MAX_JOBS=$(( $(nproc) > 4 ? $(nproc) - 2 : 2 )) FORCE_CUDA=1 timeout -k 10 "$build_max" $PY setup.py build_ext \
      --build-lib "$build_dir/lib" --build-temp "$build_dir/tmp" > "$OUT_DIR/build.log" 2>&1
    echo $? > "$build_dir/rc" ) &
  local build_pid=$!
  logged_step pytest_jit.log "CUDA tests, NVRTC, no _C" 200 $PY -m pytest -q $tests -p no:cacheprovider \
    --junitxml="$OUT_DIR/pytest_jit.xml"
  wait "$build_pid"
  local build_rc
  build_rc=$(cat "$build_dir/rc" 2>/dev/null || echo '?')
  log "build rc=$build_rc"
  if [ "$build_rc" = 0 ] && cp "$build_dir"/lib/sladd_fast/_C*.so sladd_fast/; then
    compiled=1
  else
    compiled=0
    log "no sladd_fast._C was built (see build.log): the compiled backend's steps are skipped"
    echo "synthesis: every step of the compiled backend (the build failed: build.log)" >> "$OUT_DIR/skipped.txt"
  fi
  rm -rf "$build_dir"
}
synthesis_suite() {
  suite_start synthesis
  local tests="tests/test_cuda_ops.py tests/test_synthesis.py tests/test_region_mask.py tests/test_opcheck.py"
  local compiled=0
  # A rerun on a machine still warm from a first run (its _C kept: git-ignored build outputs stay):
  # DEVICE_REUSE_BUILD=1 keeps that _C and skips the NVRTC run and the build, DEVICE_SKIP_TESTS=1 the
  # compiled test run too, so the budget goes to the steps the first run's skipped.txt lists.
  if [ "${DEVICE_REUSE_BUILD:-0}" = 1 ] && $PY -c "from sladd_fast import _ext; raise SystemExit(not _ext.has_cuda_ops())" 2>/dev/null; then
    log "synthesis: reusing the built sladd_fast._C (DEVICE_REUSE_BUILD=1)"
    compiled=1
  else
    [ "${DEVICE_REUSE_BUILD:-0}" = 1 ] && log "DEVICE_REUSE_BUILD=1 but no sladd_fast._C with CUDA kernels here: building"
    synthesis_build "$tests"
  fi
  local sanitizer=0
  if command -v compute-sanitizer > /dev/null; then sanitizer=1; else log "compute-sanitizer not found: skipped"; fi
  if [ "$compiled" = 1 ]; then  # the compiled backend's steps, in order of importance
    if [ "${DEVICE_SKIP_TESTS:-0}" = 1 ]; then
      log "synthesis: compiled test run skipped (DEVICE_SKIP_TESTS=1)"
    else  # the compiled backend only (SLADD_FAST_TEST_BACKENDS): the first run covered NVRTC
      logged_step pytest_kernel.log "CUDA tests, compiled" 120 env SLADD_FAST_TEST_BACKENDS=kernel $PY -m pytest -q \
        $tests -p no:cacheprovider --junitxml="$OUT_DIR/pytest_kernel.xml"
    fi
    bench_synthesis kernel 256 50 --baseline-iters 3 --rounds 3 --baseline-batch 64 --graph \
      --json "$OUT_DIR/bench_synthesis_cuda_b256.json"
    bench_synthesis kernel 32 40 --baseline-iters 0 --graph --profile "$OUT_DIR/profile_synthesis_cuda_b32.txt" \
      --json "$OUT_DIR/bench_synthesis_cuda_b32.json"
    if [ "$sanitizer" = 1 ]; then
      sanitize memcheck kernel 50
      # The ops whose kernels share memory between threads (the tiled DST products; box_of's and
      # color_stats' per-sample block reductions): shared-memory races.
      sanitize racecheck kernel 40 poisson_solve,box_of,color_stats
    fi
    bench_synthesis kernel 1024 40 --baseline-iters 0 --profile "$OUT_DIR/profile_synthesis_cuda_b1024.txt" \
      --json "$OUT_DIR/bench_synthesis_cuda_b1024.json"
    bench_synthesis kernel 4096 45 --baseline-iters 0 --json "$OUT_DIR/bench_synthesis_cuda_b4096.json"
  fi
  bench_synthesis jit 256 40 --baseline-iters 0 --json "$OUT_DIR/bench_synthesis_cuda_jit_b256.json"
  if [ "$sanitizer" = 1 ]; then sanitize memcheck jit 50; fi
}

for suite in "${SUITES[@]}"; do
  "${suite}_suite"
  log "suite $suite done in $((SECONDS - SUITE_T0)) s"
done
log "done"
