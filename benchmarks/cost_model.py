"""Cost model of synthesize() per forgery, stage by stage, for the GPU path, measured without a GPU.

    python benchmarks/cost_model.py --batch 32 [--json PATH]

Runs the engine on CPU with SLADD_FAST_SYNC_FREE=1, so it takes the branches the GPU takes (the whole
batch through every op with no compaction; per-sample kernels do each sample's own colour mode, and
the Poisson solve only on the Poisson samples' boxes), under a
TorchDispatchMode that sees every op the GPU would launch. Per stage (sladd_fast.synthesis.stages)
it counts:
  - ops: dispatcher calls that launch work (views, allocations and profiler marks excluded), about
    one kernel launch each: the launch-bound cost at small batches (allocations still count as memory);
  - MB read / written: bytes of each op's tensor inputs and outputs, plus its large scratch buffers
    written and read once (a kernel's own re-reads, such as a 4x4 cubic window, hit cache and are
    not counted: a lower bound on DRAM traffic);
  - MFLOP: dense math (bmm/mm: 2*m*n*k; poisson_solve's four products on each sample's own box) and
    one per output element for everything else;
  - CPU ms: this machine's time for the stage, for tracking progress between GPU runs;
and for the whole call the peak of the live intermediate tensors (outputs of ops and allocations still
referenced, plus the large scratch buffers poisson_solve and blur_in_box allocate while they run), an
estimate of the GPU memory one call needs beyond its inputs (the caching allocator's rounding aside).
Mixed alpha / Poisson / copy blends over all 10 regions, as bench_synthesis. A benchmark, not a
test: nothing asserts. Device figures follow from bytes and ops (HBM bandwidth, launch latency) and
stay estimates until a GPU run measures them.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_synthesis import make_inputs  # noqa: E402
from benchmarks.common import (at_least, check_outputs, command, environment, parser, sync_free,  # noqa: E402
                               write_json)
from sladd_fast import _jit, synthesize  # noqa: E402
from sladd_fast.synthesis import stages  # noqa: E402

STAGES = ("params", "region", "deform", "align", "postprocess", "color", "guard", "blend", "target", "other")


def _nbytes(x: object) -> int:
    return x.numel() * x.element_size() if isinstance(x, torch.Tensor) else 0


def _flops(func: object, args: tuple, out: object) -> int:
    name = str(func)
    if name.startswith(("aten.bmm", "aten.mm", "aten.matmul", "aten.baddbmm")):
        a, b = args[-2], args[-1]
        batch = a.shape[0] if a.dim() == 3 else 1
        return 2 * batch * a.shape[-2] * a.shape[-1] * b.shape[-1]
    if name.startswith("sladd_fast.poisson_solve"):  # four products on each sample's n_h x n_w block
        rhs, roi = args[0], args[1]
        n_w = (roi[:, 2] - 2).clamp(0, rhs.shape[3]).double()
        n_h = (roi[:, 3] - 2).clamp(0, rhs.shape[2]).double()
        return int((4 * rhs.shape[1] * n_h * n_w * (n_h + n_w)).sum())
    return sum(t.numel() for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor))


def _scratch(name: str, args: tuple) -> int:
    """Bytes an op allocates for itself while it runs (csrc/cuda/bindings.cu), beside its inputs and
    outputs: the ones large enough to matter. Each is written once and read once: counted in the
    traffic too."""
    if name == "sladd_fast.poisson_solve":  # one plane like its rhs
        return _nbytes(args[0])
    if name == "sladd_fast.blur_in_box":  # the horizontal pass, one float channel at a time
        B, _, H, W = args[0].shape
        return 4 * B * H * W
    if name == "sladd_fast.resize_u8":  # the float plane between the two passes, [B,C,H,O]
        B, C, H, _ = args[0].shape
        return 4 * B * C * H * args[1].shape[1]
    if name == "sladd_fast.jpeg_round_trip":  # the decoded uint8 planes (common/jpeg_math.h)
        c = _jit.constants()
        B, _, H, W = args[0].shape
        mcu = c["kJpegMcu"]
        return B * (-(-H // mcu) * mcu) * (-(-W // mcu) * mcu) * c["kJpegPlaneHalves"] // 2
    return 0


class CostCounter(TorchDispatchMode):
    """Per-stage op count, bytes in/out and FLOPs of everything dispatched inside the mode."""

    def __init__(self) -> None:
        super().__init__()
        self.cost = collections.defaultdict(lambda: collections.Counter())
        self.ops = collections.defaultdict(collections.Counter)
        self.bytes = collections.Counter()  # (stage, op) -> bytes read + written
        self.live = 0
        self.peak = 0
        self.peak_stage = "other"

    def _free(self, nbytes: int) -> None:
        self.live -= nbytes

    def _hold(self, out: object, args: object = ()) -> None:
        """Counts the op's new output tensors as live until Python drops them (an in-place op's output is
        one of its inputs' storage: nothing new)."""
        held = {t.untyped_storage().data_ptr() for t in tree_flatten(args)[0] if isinstance(t, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.numel() and t.untyped_storage().data_ptr() not in held:
                self.live += _nbytes(t)
                weakref.finalize(t, self._free, _nbytes(t))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = str(func.overloadpacket)
        st = stages.current()
        if getattr(func, "is_view", False) or name.startswith(("profiler.", "aten.detach", "aten.lift_fresh",
                                                                   "aten.alias", "aten._unsafe_view",
                                                                   "aten._reshape_alias")):
            return out  # no kernel and no memory: metadata or a profiler mark
        if name.startswith(("aten.empty", "aten.new_empty")):  # memory but no kernel: an allocation
            self._hold(out)
            self._peak(st, 0)
            return out
        scratch = _scratch(name, args)
        ins = sum(_nbytes(t) for t in tree_flatten((args, kwargs))[0]) + scratch
        outs = sum(_nbytes(t) for t in tree_flatten(out)[0]) + scratch
        c = self.cost[st]
        c["ops"] += 1
        c["read"] += ins
        c["written"] += outs
        c["flops"] += _flops(func, args, out)
        self._hold(out, (args, kwargs))
        self._peak(st, scratch)
        self.ops[st][name] += 1
        self.bytes[(st, name)] += ins + outs
        return out

    def _peak(self, stage: str, scratch: int) -> None:
        if self.live + scratch > self.peak:
            self.peak, self.peak_stage = self.live + scratch, stage


def _stage_times(inputs: list[torch.Tensor], seed: int, iters: int) -> dict[str, float]:
    """Seconds per call spent in each stage (wall clock of the stage blocks, CPU)."""
    with stages.timing() as acc:
        for _ in range(iters):
            synthesize(*inputs, generator=torch.Generator().manual_seed(seed), check_values=False)
    return {k: v / iters for k, v in acc.items()}


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--batch", type=at_least(1), default=32, help="forgeries per call")
    ap.add_argument("--size", type=at_least(16), default=256, help="image side in pixels")
    ap.add_argument("--iters", type=at_least(1), default=3, help="timed calls for the CPU ms column")
    ap.add_argument("--threads", type=at_least(1), default=1, help="CPU threads for the timed calls")
    ap.add_argument("--top", type=at_least(0), default=10,
                    help="list this many (stage, op) pairs moving the most bytes per forgery")
    ap.add_argument("--json", default=None, help="write the record (figures, arguments, environment) here")
    args = ap.parse_args(argv)
    check_outputs(ap, json=args.json)
    env = environment(torch.device("cpu"))  # the caller's environment, before sync_free() changes it
    with sync_free():  # the GPU's branches
        return _run(args, {"command": command(args, argv), "env": env})


def _run(args: argparse.Namespace, how: dict) -> int:
    torch.set_num_threads(args.threads)
    inputs = make_inputs(args.batch, args.size, seed=0)
    # A call that draws its own parameters, as the benchmarks' and every training step's calls do (the
    # "params" stage: its random draws are launches too).
    synthesize(*inputs, generator=torch.Generator().manual_seed(1), check_values=False)  # warm-up
    counter = CostCounter()
    with counter:
        synthesize(*inputs, generator=torch.Generator().manual_seed(1), check_values=False)
    times = _stage_times(inputs, 1, args.iters)
    B = args.batch
    rows = []
    total = collections.Counter()
    for st in STAGES:
        c = counter.cost.get(st)
        if not c:
            continue
        row = {"stage": st, "ops": c["ops"], "mb_read_per_forgery": c["read"] / B / 1e6,
               "mb_written_per_forgery": c["written"] / B / 1e6, "mflop_per_forgery": c["flops"] / B / 1e6,
               "cpu_ms_per_forgery": 1e3 * times.get(st, 0.0) / B,
               "top_ops": dict(counter.ops[st].most_common(6))}
        rows.append(row)
        total.update({k: c[k] for k in ("ops", "read", "written", "flops")})
    print(f"synthesize cost per forgery, GPU path (sync-free branches), batch {B}, {args.size}px, "
          f"{args.threads} CPU thread(s)")
    print(f"{'stage':<12}{'ops':>6}{'MB read':>10}{'MB written':>12}{'MFLOP':>9}{'CPU ms':>9}")
    for r in rows:
        print(f"{r['stage']:<12}{r['ops']:>6}{r['mb_read_per_forgery']:>10.2f}{r['mb_written_per_forgery']:>12.2f}"
              f"{r['mflop_per_forgery']:>9.1f}{r['cpu_ms_per_forgery']:>9.2f}")
    cpu_total = 1e3 * sum(times.values()) / B
    print(f"{'total':<12}{total['ops']:>6}{total['read'] / B / 1e6:>10.2f}{total['written'] / B / 1e6:>12.2f}"
          f"{total['flops'] / B / 1e6:>9.1f}{cpu_total:>9.2f}")
    print(f"ops per call: {total['ops']} (each about one kernel launch; at ~5 us each, "
          f"{total['ops'] * 5e-3:.1f} ms of launch latency per call before any work)")
    print(f"peak of live intermediates: {counter.peak / B / 1e6:.2f} MB per forgery (reached in {counter.peak_stage})")
    heaviest = [{"stage": st, "op": name, "mb_per_forgery": b / B / 1e6, "calls": counter.ops[st][name]}
                for (st, name), b in counter.bytes.most_common(args.top)]
    if heaviest:
        print("heaviest ops (MB read + written per forgery):")
        for h in heaviest:
            print(f"  {h['mb_per_forgery']:6.2f}  {h['stage']:<12}{h['op']} x{h['calls']}")
    if args.json:
        write_json(args.json, {"suite": "cost_model", "batch": B, "size": args.size, "threads": args.threads,
                               "stages": rows, "total": {"ops": total["ops"],
                                                         "mb_read_per_forgery": total["read"] / B / 1e6,
                                                         "mb_written_per_forgery": total["written"] / B / 1e6,
                                                         "mflop_per_forgery": total["flops"] / B / 1e6,
                                                         "cpu_ms_per_forgery": cpu_total,
                                                         "peak_live_mb_per_forgery": counter.peak / B / 1e6,
                                                         "peak_stage": counter.peak_stage},
                               "heaviest_ops": heaviest,
                               **how})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
