"""train.py's command line: the seed's flags (same names and defaults) plus ours, resolved to a Config.

    python train.py --resolution 256 --dataname none --dset FF-DF --meta FF-DF -n 1 -g 8 -nr 0 -mp 5555
    python train.py --config run.yaml --data-root data --device cpu -g 1 --train_batchSize 2 --max-steps 20 \\
        --optim.lr=1e-4 --policy.reward=sample

Precedence: Config defaults (SLADD's), then --config FILE.yaml, then the flags given on the command
line, then dotted overrides ``--section.key=value`` (or ``--section.key value``).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import sys
from typing import Any

from sladd_fast._args import OneLineParser, check_output
from sladd_fast.train.config import Config, SetupError, load_config

# Seed flags that SLADD's train.py defines but never uses: accepted so its command lines run.
UNUSED_SEED_FLAGS = ("--dataname", "--ngpu", "--momentum", "--save_epoch", "--rec_iter", "--cuda")


def build_parser() -> argparse.ArgumentParser:
    ap = OneLineParser(prog="train.py", hint="train.py --help lists the flags",
                       description="SLADD training: Xception detector vs. an "
                                   "adversarial synthesizer policy (REINFORCE), batched GPU synthesis.",
                       epilog="Any --section.key=value overrides the config (e.g. --optim.lr=1e-4).")
    S = argparse.SUPPRESS  # only flags actually given override the config file
    seed = ap.add_argument_group("seed flags (SLADD's train.py; same names and defaults)")
    seed.add_argument("--resolution", type=int, default=S, help="input side (256)")
    seed.add_argument("--dset", default=S, choices=["FF-DF", "FF-F2F", "FF-FS", "FF-NT", "ALL"],
                      help="training manipulation (FF-DF)")
    seed.add_argument("--meta", default=S, help="run sub-folder under --out (FF-DF)")
    seed.add_argument("--train_batchSize", type=int, default=S, help="items per process (32)")
    seed.add_argument("--eval_batchSize", type=int, default=S, help="evaluation batch per process (32)")
    seed.add_argument("--nEpochs", type=int, default=S, help="epochs (30)")
    seed.add_argument("--lr", type=float, default=S, help="detector lr; the synthesizer's is lr/4 (2e-4)")
    seed.add_argument("--beta1", type=float, default=S, help="Adam beta1 (0.9)")
    seed.add_argument("--weight_decay", type=float, default=S, help="Adam L2 weight decay (5e-4)")
    seed.add_argument("--manualSeed", type=int, default=S, help="seed (default: random in [1, 10000], logged)")
    seed.add_argument("--pretrained", default=S, help="a detector checkpoint to start from")
    seed.add_argument("--workers", type=int, default=S, help="loader workers / DALI threads (4)")
    seed.add_argument("-n", "--nodes", type=int, default=1, help="nodes (1)")
    seed.add_argument("-g", "--gpus", type=int, default=1, help="processes on this node: one per GPU with --device "
                      "cuda, gloo processes with --device cpu (1)")
    seed.add_argument("-nr", "--nr", type=int, default=0, help="this node's rank (0)")
    seed.add_argument("-mp", "--masterport", type=int, default=5555, help="rendezvous port (5555)")
    for flag in UNUSED_SEED_FLAGS:
        seed.add_argument(flag, nargs="?", const=True, default=S, help=argparse.SUPPRESS)
    ours = ap.add_argument_group("sladd-fast")
    ours.add_argument("--master-addr", default="localhost", help="rendezvous host for -n > 1 (localhost)")
    ours.add_argument("--data-root", default=S, help="dataset root: FF++ layout in DIR or DIR/FF (data)")
    ours.add_argument("--out", default=S, help="runs folder (runs)")
    ours.add_argument("--max-steps", type=int, default=S, help="stop after N steps")
    ours.add_argument("--device", default=S, choices=["auto", "cpu", "cuda"], help="auto: cuda when available")
    ours.add_argument("--compile", action="store_true", default=S, help="torch.compile both networks")
    ours.add_argument("--xception-weights", default=S, help="ImageNet xception-b5690688.pth for both trunks")
    ours.add_argument("--backend", default=S, choices=["auto", "dali", "torch", "synthetic"],
                      help="data loader (auto: DALI where installed)")
    ours.add_argument("--bad-frames", default=S, choices=["replace", "raise"],
                      help="a frame that fails to decode: replace it with another of its label (replace), or stop "
                           "(raise)")
    ours.add_argument("--decode", default=S, choices=["cpu", "cuda"],
                      help="PyTorch loader: decode frames in the workers (cpu) or per batch with nvJPEG (cuda; JPEG "
                           "frames, see python -m sladd_fast.pack)")
    ours.add_argument("--config", default=None, help="YAML config (sections data, model, loss, optim, policy, run)")
    return ap


FLAG_TO_KEY = {"resolution": "data.resolution", "dset": "data.dset", "meta": "run.meta",
               "train_batchSize": "data.batch_size", "eval_batchSize": "data.eval_batch_size",
               "nEpochs": "run.epochs", "lr": "optim.lr", "beta1": "optim.beta1",
               "weight_decay": "optim.weight_decay", "manualSeed": "run.seed", "pretrained": "model.pretrained",
               "workers": "data.workers", "data_root": "data.root", "out": "run.out", "max_steps": "run.max_steps",
               "device": "run.device", "compile": "run.compile", "xception_weights": "model.xception_weights",
               "backend": "data.backend", "bad_frames": "data.bad_frames",
               "decode": "data.decode"}


def parse(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace, list[str]]:
    """(resolved Config, the namespace, notes to log). Errors exit through argparse with a message."""
    return _parse(build_parser(), argv)


def _parse(ap: argparse.ArgumentParser, argv: list[str] | None) -> tuple[Config, argparse.Namespace, list[str]]:
    args, rest = ap.parse_known_args(argv)
    overrides, i = [], 0
    while i < len(rest):
        a = rest[i]
        if not a.startswith("--") or "." not in a.split("=")[0]:
            ap.error(f"unrecognized argument: {a}")
        if "=" in a:
            overrides.append(a[2:])
            i += 1
        elif i + 1 < len(rest):
            overrides.append(f"{a[2:]}={rest[i + 1]}")
            i += 2
        else:
            ap.error(f"{a}: missing value")
    given = [f"{FLAG_TO_KEY[k]}={json.dumps(v) if isinstance(v, str) else v}" for k, v in vars(args).items()
             if k in FLAG_TO_KEY]
    notes = [f"note: {f} is accepted for compatibility with SLADD's train.py and ignored"
             for f in UNUSED_SEED_FLAGS if hasattr(args, f.lstrip("-"))]
    try:
        cfg = load_config(args.config, given + overrides)
    except (FileNotFoundError, ValueError) as e:
        ap.error(str(e))
    # Without --manualSeed, run.seed stays None here: train() takes a resumed run's seed from its
    # checkpoint, or draws one in [1, 10000] as SLADD does (logged and saved).
    if cfg.model.xception_weights and not os.path.isfile(cfg.model.xception_weights):
        ap.error(f"--xception-weights: no such file: {cfg.model.xception_weights}")
    if cfg.model.pretrained and not os.path.isfile(cfg.model.pretrained):
        ap.error(f"--pretrained: no such file: {cfg.model.pretrained}")
    return cfg, args, notes


def check_data(cfg: Config) -> str | None:
    """A one-line problem with the configured data (checked before any process starts), or None."""
    from sladd_fast.train.loop import store_path

    dc = cfg.data
    if dc.backend == "synthetic":
        return None
    if not os.path.isdir(dc.root):
        return (f"--data-root: no such folder: {dc.root} (the FF++ layout of SLADD's README in DIR or DIR/FF; "
                "python -m sladd_fast.data.demo --out DIR builds a demo)")
    store = store_path(dc)
    if not os.path.isfile(store):
        return f"no landmark store at {store}: run python -m sladd_fast.landmarks {os.path.dirname(store)} once first"
    if dc.layout == "deepfakebench" and not os.path.isfile(str(dc.dfb_json)):
        return f"--data.dfb_json: no such file: {dc.dfb_json}"
    return None


def _run(cfg: Config, notes: list[str], env) -> Any:
    from sladd_fast.train.loop import train

    return train(cfg, env, notes=notes)


def main(argv: list[str] | None = None, resume_hint: bool = True) -> int:
    """train.py. ``resume_hint``: on Ctrl-C, say how to resume (off for callers that start over)."""
    from torch.multiprocessing import ProcessExitedException

    from sladd_fast.train.distributed import LaunchSpec, launch, resolve_device, under_torchrun

    ap = build_parser()  # kept for the setup errors below: one-line, as the argument errors
    cfg, args, notes = _parse(ap, argv)
    for n in notes:  # on the console now (a setup error may stop the run first), in log.txt by the run
        print(n, flush=True)
    try:
        device = resolve_device(cfg.run.device)
    except ValueError as e:
        ap.error(str(e))
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, device=device))
    problem = check_data(cfg)
    if problem:
        ap.error(problem)
    run_dir = os.path.join(cfg.run.out, cfg.run.meta)
    check_output(ap, "--out/--meta", run_dir, folder=True)
    spec = LaunchSpec(args.nodes, args.gpus, args.nr, args.master_addr, args.masterport, device)
    speaks = not under_torchrun() or os.environ["RANK"] == "0"  # under torchrun every rank runs this
    try:
        launch(spec, functools.partial(_run, cfg, notes), lambda m: (print(m, flush=True), notes.append(m)))
    except SetupError as e:  # found before training: one line, like the argument errors
        if speaks:
            print(f"train.py: error: {e}", file=sys.stderr)
        return 2
    except ProcessExitedException as e:  # a spawned rank exited; 2: a SetupError it already printed
        if e.exit_code == 2:
            return 2
        raise
    except KeyboardInterrupt:
        last = os.path.join(run_dir, "last.pt")
        if speaks and not resume_hint:
            print("\ninterrupted", file=sys.stderr)
        elif speaks and os.path.isfile(last):
            print(f"\ninterrupted: rerun the same command to resume from {last} (written every "
                  f"run.ckpt_every={cfg.run.ckpt_every} steps)", file=sys.stderr)
        elif speaks:
            print(f"\ninterrupted before the first checkpoint ({last}): a rerun starts over", file=sys.stderr)
        return 130
    path = os.path.join(run_dir, "summary.json")
    if os.path.isfile(path):
        with open(path) as f:
            s = json.load(f)
        best = s.get("best") or {}

        def shown(v: Any) -> Any:
            return "n/a" if v is None else v

        print(f"done: {s['steps']} steps, {shown(s.get('items_per_s'))} items/s "
              f"({shown(s.get('detector_images_per_s'))} detector images/s), best eval AUC "
              f"{best.get('auc') if best.get('step') is not None else 'n/a'} -> {s['run_dir']}")
    return 0
