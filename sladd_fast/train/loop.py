"""The training loop: data, both networks (DDP when world_size > 1), resume, logging, checkpoints,
sample grids and model selection on the eval split (never on test; SLADD selected on test).

``train(cfg, env)`` runs on every rank; rank 0 writes the run folder OUT/META:
config.yaml (resolved), last.pt (every run.ckpt_every steps, atomic), best.pt (best eval AUC),
tb/ (TensorBoard scalars), samples/step_NNNNNNN.png, log.txt and summary.json.
"""
from __future__ import annotations

import dataclasses
import math
import os
import random
import time
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from sladd_fast._git import git_sha
from sladd_fast.data.batch import Batch
from sladd_fast.data.index import ffpp_root
from sladd_fast.models import Detector, SynthesizerPolicy, load_trunk_weights, read_imagenet_weights
from sladd_fast.train import checkpoint as ckpt_io
from sladd_fast.train.config import Config, DataConfig, OptimConfig, SetupError, dump_config, to_dict
from sladd_fast.train.step import RewardBaseline, StepOptions, train_step
from sladd_fast.train.visualize import sample_grid, save_png


@dataclasses.dataclass(frozen=True)
class DistEnv:
    """rank / world_size: global; local_rank: this node's process index (GPU id with CUDA)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: str = "cpu"

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def build_index(dc: DataConfig, split: str, frames: int | None = None):
    """The FrameIndex of ``split`` (train / eval / test) for the configured layout and manipulation."""
    from sladd_fast.data.index import deepfakebench_split, ffpp_index

    if not os.path.isdir(dc.root):
        raise FileNotFoundError(f"--data-root: no such folder: {dc.root}")
    if dc.layout == "deepfakebench":
        return deepfakebench_split(dc.dfb_json, dc.root, split, dc.dset, dc.compression, frames)
    return ffpp_index(ffpp_root(dc.root), split, dc.dset, frames)


def store_path(dc: DataConfig) -> str:
    """The landmark store of the configured data (python -m sladd_fast.landmarks writes it)."""
    from sladd_fast.data.store import STORE_NAME

    root = dc.root if dc.layout == "deepfakebench" else ffpp_root(dc.root)
    return os.path.join(root, STORE_NAME)


def build_train_set(dc: DataConfig):
    from sladd_fast.data import LandmarkStore
    from sladd_fast.data.plan import TrainSet

    return TrainSet.build(build_index(dc, "train"), LandmarkStore.load(store_path(dc)))


def backend_name(dc: DataConfig) -> str:
    """The loader: data.backend, or for auto the PyTorch one where decode is cuda (nvJPEG per batch is
    its option), else DALI where it is installed."""
    if dc.backend != "auto":
        return dc.backend
    if dc.decode == "cuda":
        return "torch"
    from pipelines import has_dali

    return "dali" if has_dali() else "torch"


def _data_seed(dc: DataConfig) -> int:
    return int(dc.seed) if dc.seed is not None else 0


def build_loader(dc: DataConfig, env: DistEnv, start_epoch: int, start_batch: int):
    """The training loader for this rank (``loader.epoch(e, start_batch)``), batches on env.device."""
    dev = torch.device(env.device)
    name = backend_name(dc)
    if name == "synthetic":
        from sladd_fast.data.synthetic import SyntheticLoader

        return SyntheticLoader(dc.batch_size, dc.resolution, steps=100, device=dev)
    data = build_train_set(dc)
    if name == "dali":
        from pipelines.ffpp import DaliLoader

        device_id = env.local_rank if dev.type == "cuda" else None
        return DaliLoader(data, dc.resolution, dc.batch_size, env.rank, env.world_size, device_id=device_id,
                          workers=max(1, dc.workers), seed=_data_seed(dc), start_epoch=start_epoch, start_batch=start_batch,
                          bad_frames=dc.bad_frames)
    from sladd_fast.data.torch_loader import TorchLoader

    return TorchLoader(data, dc.resolution, dc.batch_size, env.rank, env.world_size, _data_seed(dc), workers=dc.workers,
                       device=dev, bad_frames=dc.bad_frames, decode=dc.decode)


def build_models(cfg: Config, device: torch.device, log=print) -> tuple[nn.Module, nn.Module]:
    """Detector and synthesizer policy (spec §2.1, §4.1), ImageNet trunks when configured."""
    det, syn = Detector(cfg.model.dropout), SynthesizerPolicy(cfg.model.dropout)
    path = cfg.model.xception_weights
    if path:
        w = read_imagenet_weights(path)
        load_trunk_weights(det.trunk, w, source=path)
        load_trunk_weights(syn.trunk, w, skip=("conv1.",), source=path)  # 6-channel conv1 stays xavier(0.02)
        log(f"loaded ImageNet Xception weights into both trunks from {path}")
    else:
        log("warning: no --xception-weights given: both networks start from random weights (SLADD starts "
            "from ImageNet xception-b5690688.pth)")
    if cfg.model.pretrained:
        try:
            ckpt_io.load_detector_state(det, cfg.model.pretrained)
        except ValueError as e:
            raise SetupError(f"--pretrained: {e}") from None
        log(f"detector initialised from {cfg.model.pretrained}")
    return det.to(device), syn.to(device)


def _hyperparameters(oc: OptimConfig) -> tuple[dict, dict]:
    """Adam's settings for the detector and the synthesizer (its lr scaled by syn_lr_scale)."""
    common = dict(betas=(oc.beta1, oc.beta2), weight_decay=oc.weight_decay)
    return dict(lr=oc.lr, **common), dict(lr=oc.lr * oc.syn_lr_scale, **common)


def build_optimizers(oc: OptimConfig, det: nn.Module, syn: nn.Module) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam with coupled L2 weight decay on every parameter, as SLADD (whole_model.py:36-39)."""
    hp_det, hp_syn = _hyperparameters(oc)
    return torch.optim.Adam(det.parameters(), **hp_det), torch.optim.Adam(syn.parameters(), **hp_syn)


def set_hyperparameters(oc: OptimConfig, opt_det: torch.optim.Adam, opt_syn: torch.optim.Adam) -> None:
    """Sets lr, betas and weight decay of every parameter group from ``oc`` (after a state dict load)."""
    for opt, hp in zip((opt_det, opt_syn), _hyperparameters(oc)):
        for group in opt.param_groups:
            group.update(**hp)


class _Log:
    """Rank-0 logging to stdout (through tqdm when a bar is open) and OUT/META/log.txt."""

    def __init__(self, rank: int, path: str | None) -> None:
        self.rank, self.path, self.bar = rank, path, None

    def __call__(self, msg: str) -> None:
        if self.rank != 0:
            return
        if self.bar is not None:
            self.bar.write(msg)
        else:
            print(msg, flush=True)
        self.file(msg)

    def file(self, msg: str) -> None:
        """``msg`` to log.txt only (rank 0)."""
        if self.rank == 0 and self.path:
            with open(self.path, "a") as f:
                f.write(msg + "\n")


def _best_record(path: str) -> dict | None:
    """{"auc", "step", "metrics"} of a best.pt (memory-mapped: its weights are not read), or None
    where there is none or it cannot be read."""
    if not os.path.isfile(path):
        return None
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
        return {"auc": float(ck["metrics"]["auc"]), "step": ck["step"], "metrics": ck["metrics"]}
    except Exception:  # a damaged best.pt: last.pt's record stands
        return None


def _broadcast(obj: Any, env: DistEnv) -> Any:
    """rank 0's ``obj`` on every rank."""
    if not env.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


# Settings that fix the data position and the meaning of a checkpoint: a resume must not change them.
RESUME_KEYS = (("data", "batch_size"), ("data", "dset"), ("data", "layout"), ("data", "resolution"),
               ("data", "seed"), ("run", "flip"), ("policy", "reward"), ("policy", "baseline"),
               ("data", "eval_split"), ("data", "eval_frames"))  # the last two: the best AUC's evaluation set


def _gather(obj: Any, env: DistEnv) -> list[Any]:
    if not env.distributed:
        return [obj]
    out: list[Any] = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def train(cfg: Config, env: DistEnv = DistEnv(),
          on_step: Callable[..., None] | None = None, notes: Sequence[str] = ()) -> dict[str, Any]:
    """Trains per ``cfg`` on this rank; returns the run summary (same on every rank).

    ``on_step(step, batch, StepResult, detector, synthesizer)``, if given, runs after every step, before
    that step's checkpoint (tests, benchmarks); the networks are the unwrapped modules. ``notes``: lines
    of the command line's (ignored flags and the like, already printed), written first to log.txt."""
    device = torch.device(env.device)
    run_dir = os.path.join(cfg.run.out, cfg.run.meta)
    if env.rank == 0:
        os.makedirs(os.path.join(run_dir, "samples"), exist_ok=True)
    log = _Log(env.rank, os.path.join(run_dir, "log.txt") if env.rank == 0 else None)
    for note in notes:  # the command line's notes, already on the console
        log.file(note)

    # A run folder with last.pt resumes (both networks, optimizers, baseline, RNG, data position).
    last = os.path.join(run_dir, "last.pt")
    found = _gather(cfg.run.resume and os.path.isfile(last), env)
    if any(found) and not all(found):  # e.g. several nodes without a shared --out
        raise SetupError(f"{last} exists on rank(s) {[r for r, f in enumerate(found) if f]} but not on the others: "
                         "every rank must see the run folder (use a shared --out across nodes)")
    ck = None
    if found[0]:
        try:
            ck = ckpt_io.load_checkpoint(last)
        except ValueError as e:
            raise SetupError(f"{e}; delete it to start over, or use another run.meta") from None
        if not isinstance(ck.get("config"), dict) or "rng" not in ck:
            raise SetupError(f"{last}: not a train.py checkpoint (no config or RNG states)")

    # One seed for all ranks: rank 0's. Without --manualSeed a new run draws one in [1, 10000] as SLADD
    # does, and a resumed run keeps its checkpoint's, so rerunning the same command resumes.
    seed = cfg.run.seed
    if seed is None:
        seed = int(ck["config"]["run"]["seed"]) if ck is not None else random.randint(1, 10000)
        log(f"note: --manualSeed not given: using seed {seed}" + (" (the checkpoint's)" if ck is not None else ""))
    seed = int(_broadcast(seed, env))
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, seed=seed))
    if cfg.data.seed is None:  # the data plan follows the run's seed unless data.seed is set
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, seed=seed))
    if ck is not None:
        if ck.get("world_size", 1) != env.world_size:
            raise SetupError(f"{last} was written by {ck.get('world_size')} process(es), this run has "
                             f"{env.world_size}: the data position and RNG states do not carry over "
                             "(use another run.meta, or run.resume=false)")
        changed = [f"{a}.{b}: {ck['config'][a][b]!r} -> {getattr(getattr(cfg, a), b)!r}" for a, b in RESUME_KEYS
                   if ck["config"][a][b] != getattr(getattr(cfg, a), b)]
        if changed:
            raise SetupError(f"{last}: cannot resume with changed settings ({'; '.join(changed)}); "
                             "use another run.meta, or run.resume=false")

    # Seeds: per rank, so dropout, the policy's draws and synthesis differ across ranks.
    random.seed(seed + env.rank)
    np.random.seed(seed + env.rank)
    torch.manual_seed(seed + env.rank)
    gen = torch.Generator(device).manual_seed(seed * 1000 + env.rank)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    det, syn = build_models(cfg, device, log)
    opt_det, opt_syn = build_optimizers(cfg.optim, det, syn)
    baseline = RewardBaseline(cfg.policy.baseline_momentum).to(device) if cfg.policy.baseline == "ema" else None

    step, epoch, start_batch, best = 0, 0, 0, {"auc": -1.0, "step": None}
    ck_items = None  # the checkpoint's training-set size: the epoch plans depend on it
    if ck is not None:
        det.load_state_dict(ck["detector"])
        syn.load_state_dict(ck["synthesizer"])
        opt_det.load_state_dict(ck["opt_det"])
        opt_syn.load_state_dict(ck["opt_syn"])
        # The optimizer states carry the checkpoint's hyperparameters: the config's win, so what
        # config.yaml records is what trains (a resume may lower the lr, say).
        set_hyperparameters(cfg.optim, opt_det, opt_syn)
        moved = [f"optim.{k}: {ck['config']['optim'].get(k)!r} -> {v!r}" for k, v in to_dict(cfg)["optim"].items()
                 if ck["config"]["optim"].get(k) != v]
        if moved:
            log(f"note: resuming with changed optimizer settings ({'; '.join(moved)})")
        if baseline is not None and ck.get("baseline") is not None:
            baseline.load_state_dict(ck["baseline"][env.rank])
        ckpt_io.set_rng_state(ck["rng"][env.rank], gen)
        step, epoch, start_batch, best = ck["step"], ck["epoch"], ck["batch"], ck.get("best", best)
        ck_items = ck.get("train_items")
        log(f"resumed from {last}: step {step}, epoch {epoch}, batch {start_batch}")
        del ck
        # best.pt is written at every better evaluation, last.pt only every ckpt_every steps: after a
        # crash between them best.pt holds more than last.pt's record, and the replayed steps (not
        # bit-exact on a GPU) must not replace it with a lower AUC.
        on_disk = _broadcast(_best_record(os.path.join(run_dir, "best.pt")) if env.rank == 0 else None, env)
        if on_disk is not None and on_disk["auc"] > best["auc"]:
            best = on_disk

    if device.type == "cuda" and cfg.run.channels_last:
        det, syn = det.to(memory_format=torch.channels_last), syn.to(memory_format=torch.channels_last)
    det_m, syn_m = det, syn
    if env.distributed:
        ids = [env.local_rank] if device.type == "cuda" else None
        det_m = nn.parallel.DistributedDataParallel(det, device_ids=ids)  # every parameter is used: no unused scan
        syn_m = nn.parallel.DistributedDataParallel(syn, device_ids=ids)
    if cfg.run.compile:
        det_m, syn_m = torch.compile(det_m), torch.compile(syn_m)
    det_m.train()
    syn_m.train()  # SLADD samples with the synthesizer in train mode (dropout on, batch-stat BN)

    loader = build_loader(cfg.data, env, epoch, start_batch)
    train_items = len(loader.data) if hasattr(loader, "data") else None  # the synthetic backend has none
    if ck_items is not None and train_items is not None and ck_items != train_items:
        log(f"warning: the training set holds {train_items} items, the checkpoint's {ck_items} (the data or "
            "its bad_files.json changed): the rest of this epoch follows a new plan, not the interrupted one")
    steps_per_epoch = len(loader)
    total = cfg.run.epochs * steps_per_epoch
    if cfg.run.max_steps is not None:
        total = min(total, cfg.run.max_steps)
    eval_every = cfg.run.eval_every or max(1, steps_per_epoch // 10)
    eval_index = None
    if cfg.data.backend != "synthetic" and cfg.run.evaluate:
        try:
            eval_index = build_index(cfg.data, cfg.data.eval_split, cfg.data.eval_frames)
        except (FileNotFoundError, ValueError) as e:
            log(f"warning: no model selection: eval split {cfg.data.eval_split!r} unavailable ({e})")

    if env.rank == 0:
        dump_config(cfg, os.path.join(run_dir, "config.yaml"),
                    {"git_sha": git_sha(), "world_size": env.world_size, "device": str(device),
                     "backend": backend_name(cfg.data), "steps_per_epoch": steps_per_epoch})
    writer = None
    if env.rank == 0:
        try:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(os.path.join(run_dir, "tb"))
        except ImportError:
            log("warning: tensorboard is not installed: no TensorBoard scalars")
    opts = StepOptions(cfg.loss, cfg.policy, amp=cfg.run.amp and device.type == "cuda",
                       channels_last=cfg.run.channels_last and device.type == "cuda", flip=cfg.run.flip)
    log(f"training {total - step} step(s) of {cfg.data.batch_size} item(s) x {env.world_size} process(es) on "
        f"{device} ({backend_name(cfg.data)} loader, {steps_per_epoch} steps/epoch) -> {run_dir}")

    def save(path: str, position: tuple[int, int]) -> None:
        e, b = position
        if b >= steps_per_epoch:
            e, b = e + 1, 0
        nonlocal saved_step
        saved_step = step
        rngs = _gather(ckpt_io.rng_state(gen), env)
        # Per rank, like the RNG; on the host: a CUDA tensor would be unpickled on rank 0 onto the
        # sender's device index, opening a context on every GPU of the node.
        baselines = _gather({k: v.cpu() for k, v in baseline.state_dict().items()} if baseline is not None else None,
                            env)
        if env.rank == 0:
            ckpt_io.save_atomic({"version": ckpt_io.CKPT_VERSION, "step": step, "epoch": e, "batch": b,
                                 "world_size": env.world_size, "config": to_dict(cfg),
                                 "detector": det.state_dict(), "synthesizer": syn.state_dict(),
                                 "opt_det": opt_det.state_dict(), "opt_syn": opt_syn.state_dict(),
                                 "baseline": baselines if baseline is not None else None,
                                 "rng": rngs, "best": best, "train_items": train_items}, path)

    eval_step = saved_step = -1

    def evaluate() -> dict[str, float] | None:
        nonlocal best, eval_step
        eval_step = step
        if eval_index is None:
            return None
        from sladd_fast.evaluate import evaluate_index

        if env.distributed:  # every rank scores with rank 0's BN statistics, the ones best.pt stores
            for buf in det.buffers():
                dist.broadcast(buf, 0)
        try:
            m = evaluate_index(det, eval_index, size=cfg.data.resolution,
                               batch_size=cfg.data.eval_batch_size, workers=min(2, cfg.data.workers),
                               device=str(device), max_batches=cfg.run.eval_max_batches, amp=opts.amp)
        except ValueError as e:  # e.g. a one-class eval split: no AUC
            log(f"warning: evaluation skipped: {e}")
            return None
        if writer is not None:
            for k in ("auc", "video_auc", "eer", "ap", "acc"):
                if k in m:
                    writer.add_scalar(f"eval/{k}", m[k], step)
        log(f"step {step}: eval ({cfg.data.eval_split}) frame AUC {m['auc']:.4f}, video AUC "
            f"{m.get('video_auc', float('nan')):.4f}, EER {m['eer']:.4f}, ACC {m['acc']:.4f}")
        if m["auc"] > best["auc"]:
            best = {"auc": float(m["auc"]), "step": step, "metrics": m}
            if env.rank == 0:
                ckpt_io.save_atomic({"version": ckpt_io.CKPT_VERSION, "step": step, "config": to_dict(cfg),
                                     "detector": det.state_dict(), "metrics": m}, os.path.join(run_dir, "best.pt"))
        return m

    bar = None
    if env.rank == 0 and cfg.run.progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=step, desc="train", unit="step", dynamic_ncols=True)
        log.bar = bar
    sums: dict[str, torch.Tensor] = {}
    n_sum = 0
    t_start, step0 = None, step
    paused = 0.0  # seconds of sample grids, evaluations and checkpoints inside the timed steps

    def clock() -> float:  # the GPU's queued work done, then the time
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter()

    def untimed(fn: Callable[[], Any]) -> Any:
        nonlocal paused
        t0 = clock()
        try:
            return fn()
        finally:
            paused += clock() - t0

    last_pos = (epoch, start_batch)
    last_eval = None
    sampled = False

    def save_samples(batch: Batch, r) -> None:
        nonlocal sampled
        shown = torch.where((batch.labels == 1).view(-1, 1, 1, 1), batch.masks, r.masks)  # FF++ masks
        grid = sample_grid(batch.images, batch.partners, r.images, shown, r.actions.region,
                           r.actions.blend_type, r.targets.labels, r.targets.type_labels)
        save_png(grid, os.path.join(run_dir, "samples", f"step_{step:07d}.png"))
        sampled = True
        if writer is not None:
            writer.add_image("samples", grid, step, dataformats="HWC")

    t_end = time.perf_counter()
    try:
        for e in range(epoch, cfg.run.epochs):
            if step >= total:
                break
            batches: Iterator[Batch] = loader.epoch(e, start_batch if e == epoch else 0)
            b = start_batch if e == epoch else 0
            for batch in batches:
                batch = batch.to(device, non_blocking=True)
                r = train_step(det_m, syn_m, opt_det, opt_syn, batch, opts, gen, baseline)
                step, b = step + 1, b + 1
                last_pos = (e, b)
                if on_step is not None:
                    on_step(step, batch, r, det, syn)
                if t_start is None:  # the first step (allocations, cudnn autotuning) is not timed
                    t_start, step0 = clock(), step
                for k, v in r.stats.items():
                    sums[k] = sums.get(k, 0) + v
                n_sum += 1
                if bar is not None:
                    bar.update(1)
                if step % cfg.run.log_every == 0 or step == total:
                    # Averaged over the steps since the last log and over the ranks (every rank logs at the
                    # same steps); the only host read, every N steps.
                    keys = sorted(sums)
                    mean = torch.stack([torch.as_tensor(sums[k], dtype=torch.float32) for k in keys]) / n_sum
                    if env.distributed:
                        dist.all_reduce(mean)
                        mean /= env.world_size
                    stats = dict(zip(keys, mean.tolist()))
                    sums, n_sum = {}, 0
                    if writer is not None:
                        for k, v in stats.items():
                            writer.add_scalar(f"train/{k}", v, step)
                    if bar is not None:
                        bar.set_postfix(loss=f"{stats['loss']:.3f}", fake=f"{stats['fake_rate']:.2f}")
                    else:
                        log(f"step {step}: " + ", ".join(f"{k} {v:.4g}" for k, v in stats.items()))
                if step % cfg.run.sample_every == 0 and env.rank == 0:
                    untimed(lambda: save_samples(batch, r))
                if step % eval_every == 0:  # before the checkpoint, so last.pt holds this step's best record
                    last_eval = untimed(evaluate)
                    det_m.train()
                if step % cfg.run.ckpt_every == 0:
                    untimed(lambda: save(last, last_pos))
                if step >= total:
                    break
            report = loader.bad_frames_report() if hasattr(loader, "bad_frames_report") else None
            if report and report["replaced"]:
                log(f"epoch {e}: {report['replaced']} unreadable frame(s) replaced so far on rank {env.rank}: "
                    + ", ".join(report["files"][:10]) + (" ..." if len(report["files"]) > 10 else ""))
        t_end = clock()
        best_before = best
        if eval_step != step:  # the final weights are always evaluated
            last_eval = evaluate()
        if t_start is not None and not sampled and env.rank == 0:  # a short run still shows its forgeries
            save_samples(batch, r)  # the last step's
        if saved_step != step or best is not best_before:  # not twice for the same state
            save(last, last_pos)
    finally:
        if bar is not None:
            bar.close()
            log.bar = None
        if writer is not None:
            writer.close()
        if hasattr(loader, "close"):
            loader.close()
    timed = step - step0
    secs = (t_end - t_start - paused) if t_start is not None else 0.0
    items_s = timed * cfg.data.batch_size * env.world_size / secs if secs > 0 and timed > 0 else float("nan")
    summary = {"run_dir": run_dir, "steps": step, "epochs_started": last_pos[0] + 1, "world_size": env.world_size,
               "device": str(device), "seconds_timed": round(secs, 3), "timed_steps": timed,
               "seconds_untimed": round(paused, 3),  # sample grids, evaluations, checkpoints among the steps
               "items_per_s": round(items_s, 3) if math.isfinite(items_s) else None,
               "detector_images_per_s": round(items_s * (2 if cfg.run.flip else 1), 3)
               if math.isfinite(items_s) else None,
               "eval": last_eval, "best": best,
               "bad_frames": loader.bad_frames_report() if hasattr(loader, "bad_frames_report") else None}
    if env.rank == 0:
        import json

        with open(os.path.join(run_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2, default=float)
    return summary
