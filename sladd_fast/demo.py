"""The main job on the embedded demo data: build the data, train SLADD briefly, evaluate, report.

    python -m sladd_fast.demo --out demo_out [--steps 24] [--batch 2] [--device auto|cpu|cuda]
        [--backend auto|torch|dali] [--seed 0] [--data ROOT]

1. Builds the embedded FF++-layout demo dataset under OUT/data once (sladd_fast.data.demo: the
   astronaut photograph under per-video pose and colour changes, with its landmark store).
2. Trains the detector against the synthesizer policy for ``--steps`` steps through train.py's
   own code path (sladd_fast.train.cli), model selection on the eval split, into OUT/runs/demo
   (config.yaml, last.pt, best.pt, TensorBoard scalars, samples/*.png grids of the forgeries).
3. Evaluates the selected detector on the test split (sladd_fast.evaluate).
4. Prints throughput and AUC and writes OUT/summary.json.
The demo data is smoke data: its AUC says the pipeline runs end to end, not how well SLADD detects
deepfakes. Two Xceptions cost about 36 GFLOP per item per step at 256 px, hence batch 2 on a CPU.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import time

import torch

from sladd_fast._args import OneLineParser, at_least


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m sladd_fast.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (the dataset is cached in OUT/data)")
    ap.add_argument("--steps", type=at_least(1), default=None, help="training steps (default: 24 on CPU, 300 on CUDA)")
    ap.add_argument("--batch", type=at_least(1), default=None, help="items per step (default: 2 on CPU, 32 on CUDA)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--backend", default="auto", choices=["auto", "torch", "dali"],
                    help="training loader (auto: DALI where installed)")
    ap.add_argument("--eval-batches", type=at_least(1), default=None,
                    help="cap the eval/test passes (default: all frames)")
    ap.add_argument("--data", default=None, help="use this FF++-layout root instead of building OUT/data")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device is available")
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    steps = args.steps if args.steps is not None else (300 if device == "cuda" else 24)
    batch = args.batch if args.batch is not None else (32 if device == "cuda" else 2)
    if args.data is not None and not os.path.isfile(os.path.join(args.data, "landmarks.npz")):
        what = "no such folder" if not os.path.isdir(args.data) else "no landmarks.npz in it"
        print(f"error: --data {args.data}: {what} (an FF++-layout root with its landmark store; "
              "omit --data to build the demo data)", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    root = args.data or os.path.join(args.out, "data")

    from sladd_fast import evaluate
    from sladd_fast.data import demo as demo_data
    from sladd_fast.synthesis import BlendType, Region
    from sladd_fast.train import cli

    t0 = time.perf_counter()
    if args.data is None and not os.path.isfile(os.path.join(root, "landmarks.npz")):
        print(f"building the embedded demo dataset in {root} ...", flush=True)
        demo_data.build(root, videos=8, frames=8, size=256, seed=args.seed)
    t_data = time.perf_counter() - t0

    runs = os.path.join(args.out, "runs")
    run_dir = os.path.join(runs, "demo")
    shutil.rmtree(run_dir, ignore_errors=True)  # the demo always trains from scratch
    train_args = ["--data-root", root, "--out", runs, "--meta", "demo", "--device", device, "--backend", args.backend,
                  "--train_batchSize", str(batch), "--max-steps", str(steps), "--manualSeed", str(args.seed),
                  "--workers", "2", "--eval_batchSize", "8", f"--run.eval_every={steps}",
                  f"--run.sample_every={max(1, steps // 2)}", f"--run.ckpt_every={steps}",
                  f"--run.log_every={max(1, steps // 6)}"]
    if args.eval_batches is not None:
        train_args.append(f"--run.eval_max_batches={args.eval_batches}")
    print("train.py " + " ".join(train_args), flush=True)
    t1 = time.perf_counter()
    rc = cli.main(train_args, resume_hint=False)  # the demo always starts over
    if rc != 0:  # train.py said why
        return rc
    t_train = time.perf_counter() - t1
    with open(os.path.join(run_dir, "summary.json")) as f:
        trained = json.load(f)

    ckpt = os.path.join(run_dir, "best.pt")
    if not os.path.isfile(ckpt):
        ckpt = os.path.join(run_dir, "last.pt")
    test_json = os.path.join(args.out, "test_metrics.json")
    eval_args = [ckpt, "--data-root", root, "--dataset", "FF-DF", "--split", "test", "--json", test_json,
                 "--device", device, "--batch-size", "8", "--workers", "2", "--quiet"]
    if args.eval_batches is not None:
        eval_args += ["--max-batches", str(args.eval_batches)]
    evaluate.main(eval_args)
    with open(test_json) as f:
        test = json.load(f)

    samples = sorted(glob.glob(os.path.join(run_dir, "samples", "*.png")))
    summary = {"dataset": root, "device": device, "run_dir": run_dir, "steps": trained["steps"], "batch": batch,
               "train_items_per_s": trained["items_per_s"], "detector_images_per_s": trained["detector_images_per_s"],
               "eval_split_auc": (trained.get("best") or {}).get("auc"), "test_auc": test.get("auc"),
               "test_video_auc": test.get("video_auc"), "test_frames": test.get("frames"), "sample_grid":
               samples[-1] if samples else None, "seconds_data": round(t_data, 1), "seconds_train": round(t_train, 1),
               "note": "demo data is smoke data: the AUC shows the pipeline runs, not detection quality",
               "region_codes": {int(r): r.name for r in Region}, "blend_type_codes": {int(b): b.name for b in BlendType}}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"\nmain job done in {time.perf_counter() - t0:.0f} s on {device}: {trained['steps']} steps of {batch} "
          f"items, {trained['items_per_s']} items/s ({trained['detector_images_per_s']} detector images/s)")
    print(f"test AUC on the demo data (smoke figure, not a benchmark): frame {test.get('auc'):.3f}, video "
          f"{test.get('video_auc', float('nan')):.3f}; forgeries: {summary['sample_grid']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
