"""Training configuration as data: frozen dataclasses per section, YAML files, dotted overrides.

    cfg = load_config("run.yaml", ["optim.lr=1e-4", "run.max_steps=100"])
    dump_config(cfg, "runs/x/config.yaml")

Unknown sections or keys are errors naming them; values are parsed as YAML scalars and checked
against the field's type. Defaults are SLADD's (spec §1.2, §4.2, §5).
"""
from __future__ import annotations

import dataclasses
import os
import types
import typing
from typing import Any

import yaml


class SetupError(ValueError):
    """A run's settings or inputs are unusable (a bad config value, an unreadable checkpoint, a resume that
    would change what the checkpoint means), found before any training step. train.py prints its message
    as one line and exits with status 2."""


@dataclasses.dataclass(frozen=True)
class DataConfig:
    root: str = "data"  # FF++ layout root (data/FF in the seed's README is data/ + FF layout)
    dset: str = "FF-DF"  # FF-DF | FF-F2F | FF-FS | FF-NT | ALL
    layout: str = "ffpp"  # ffpp | deepfakebench
    dfb_json: str | None = None  # DeepfakeBench dataset json (layout deepfakebench)
    compression: str | None = "c23"  # DeepfakeBench compression level
    backend: str = "auto"  # auto (DALI where installed, else torch) | dali | torch | synthetic
    workers: int = 4
    resolution: int = 256
    batch_size: int = 32  # per process (the seed's --train_batchSize)
    eval_split: str = "eval"  # model selection split; never "test"
    eval_batch_size: int = 32
    eval_frames: int | None = None  # frames per eval video (default: the index's)
    seed: int | None = None  # the data plan's seed (None: run.seed, so --manualSeed also reorders the data)
    bad_frames: str = "replace"  # replace | raise: a frame that fails to decode
    decode: str = "cpu"  # cpu | cuda: PyTorch loader frame decoding (cuda: nvJPEG per batch, JPEG frames)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    xception_weights: str | None = None  # ImageNet xception-b5690688.pth, for both trunks
    pretrained: str | None = None  # a detector checkpoint to start from (the seed's --pretrained)
    dropout: float = 0.5


@dataclasses.dataclass(frozen=True)
class LossConfig:
    margin: float = 0.45  # AM-softmax m (on raw logits, as SLADD)
    scale: float = 30.0  # AM-softmax s
    map: float = 0.1
    type: float = 0.05
    mag: float = 0.1


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    lr: float = 2e-4  # detector
    syn_lr_scale: float = 0.25  # synthesizer lr = lr * 0.25 = 5e-5
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 5e-4  # coupled L2 on every parameter (torch Adam), as SLADD


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    entropy: float = 1e-5
    reward: str = "batch"  # batch (SLADD: one scalar per rank) | sample (ablation: each sample's loss)
    baseline: str = "none"  # none (SLADD) | ema (ablation: subtract a moving average of the reward)
    baseline_momentum: float = 0.9


@dataclasses.dataclass(frozen=True)
class RunConfig:
    out: str = "runs"
    meta: str = "FF-DF"  # run sub-folder (the seed's --meta)
    epochs: int = 30  # the seed's --nEpochs
    max_steps: int | None = None  # stop after this many optimizer steps (all epochs together)
    seed: int | None = None  # the seed's --manualSeed; None draws one in [1, 10000] as SLADD does
    device: str = "auto"  # auto | cpu | cuda
    compile: bool = False
    amp: bool = True  # bf16 autocast on CUDA (ignored on CPU)
    channels_last: bool = True  # on CUDA
    flip: bool = True  # spec §5: the detector sees the batch and its horizontal flip
    log_every: int = 20
    ckpt_every: int = 500
    sample_every: int = 500  # PNG grid of synthesized samples
    eval_every: int | None = None  # steps between evaluations (None: 10 per epoch, as SLADD)
    eval_max_batches: int | None = None  # cap evaluation length (None: the whole split)
    evaluate: bool = True  # evaluate on data.eval_split (model selection)
    progress: bool = True
    resume: bool = True  # continue from OUT/META/last.pt when it exists


@dataclasses.dataclass(frozen=True)
class Config:
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    policy: PolicyConfig = PolicyConfig()
    run: RunConfig = RunConfig()


def _coerce(name: str, tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(name, inner[0], value)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    raise ValueError(f"config {name}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


def _apply(cfg: Config, values: dict[str, dict[str, Any]], where: str) -> Config:
    sections = {f.name: f for f in dataclasses.fields(Config)}
    hints = {name: typing.get_type_hints(type(getattr(cfg, name))) for name in sections}
    new = {}
    for sec, kv in values.items():
        if sec not in sections:
            raise ValueError(f"{where}: unknown config section {sec!r} (have {sorted(sections)})")
        if not isinstance(kv, dict):
            raise ValueError(f"{where}: section {sec!r} must be a mapping")
        for k, v in kv.items():
            if k not in hints[sec]:
                raise ValueError(f"{where}: unknown key {sec}.{k} (have {sorted(hints[sec])})")
            new.setdefault(sec, {})[k] = _coerce(f"{sec}.{k}", hints[sec][k], v)
    return dataclasses.replace(cfg, **{s: dataclasses.replace(getattr(cfg, s), **kv) for s, kv in new.items()})


def parse_override(text: str) -> tuple[str, str, Any]:
    """'section.key=value' -> (section, key, YAML-parsed value)."""
    name, sep, raw = text.partition("=")
    if not sep or name.count(".") != 1:
        raise ValueError(f"override {text!r}: expected section.key=value, e.g. optim.lr=1e-4")
    sec, key = name.split(".")
    value = yaml.safe_load(raw) if raw.strip() else None
    if isinstance(value, str) and raw.strip().lower() in ("none", "null"):
        value = None
    return sec.strip(), key.strip(), value


def load_config(path: str | None = None, overrides: list[str] | None = None, base: Config | None = None) -> Config:
    """Config from defaults (or ``base``), then a YAML file, then ``section.key=value`` overrides."""
    cfg = base or Config()
    if path is not None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--config: no such file: {path}")
        with open(path) as f:
            try:
                values = yaml.safe_load(f) or {}
            except yaml.YAMLError as e:
                raise ValueError(f"{path}: not valid YAML ({' '.join(str(e).split())})") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a mapping of sections")
        cfg = _apply(cfg, values, path)
    for text in overrides or []:
        sec, key, value = parse_override(text)
        cfg = _apply(cfg, {sec: {key: value}}, f"override {text!r}")
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Cross-field checks, errors naming the key."""
    choices = {"data.layout": (cfg.data.layout, ("ffpp", "deepfakebench")),
               "data.backend": (cfg.data.backend, ("auto", "dali", "torch", "synthetic")),
               "data.bad_frames": (cfg.data.bad_frames, ("replace", "raise")),
               "data.decode": (cfg.data.decode, ("cpu", "cuda")),
               "policy.reward": (cfg.policy.reward, ("batch", "sample")),
               "policy.baseline": (cfg.policy.baseline, ("none", "ema")),
               "run.device": (cfg.run.device, ("auto", "cpu", "cuda"))}
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValueError(f"config {name}: {value!r} is not one of {allowed}")
    if cfg.data.decode == "cuda" and cfg.data.backend not in ("auto", "torch"):
        # auto then means the PyTorch loader (train/loop.py backend_name): the one this option is for.
        raise ValueError(f"config data.decode: cuda decodes in the PyTorch loader (data.backend torch or auto); "
                         f"data.backend is {cfg.data.backend!r}" + (", which decodes on the GPU by itself"
                                                                   if cfg.data.backend == "dali" else ""))
    if cfg.data.eval_split == "test":
        raise ValueError("config data.eval_split: model selection never uses the test split (use eval)")
    if cfg.data.layout == "deepfakebench" and not cfg.data.dfb_json:
        raise ValueError("config data.dfb_json: required with data.layout=deepfakebench")
    # None means "the default" for the optional counts; a number must be usable.
    for name, v in (("data.batch_size", cfg.data.batch_size), ("data.eval_batch_size", cfg.data.eval_batch_size),
                    ("data.eval_frames", cfg.data.eval_frames), ("run.epochs", cfg.run.epochs),
                    ("run.max_steps", cfg.run.max_steps), ("run.log_every", cfg.run.log_every),
                    ("run.ckpt_every", cfg.run.ckpt_every), ("run.sample_every", cfg.run.sample_every),
                    ("run.eval_every", cfg.run.eval_every), ("run.eval_max_batches", cfg.run.eval_max_batches),
                    ("loss.scale", cfg.loss.scale)):
        if v is not None and not v > 0:
            raise ValueError(f"config {name}: must be positive, got {v}")
    # lr 0 (or syn_lr_scale 0) freezes that network: an ablation, so allowed.
    for name, v in (("data.workers", cfg.data.workers), ("optim.lr", cfg.optim.lr),
                    ("optim.syn_lr_scale", cfg.optim.syn_lr_scale), ("optim.weight_decay", cfg.optim.weight_decay),
                    ("loss.map", cfg.loss.map), ("loss.type", cfg.loss.type), ("loss.mag", cfg.loss.mag),
                    ("policy.entropy", cfg.policy.entropy)):
        if not v >= 0:
            raise ValueError(f"config {name}: must be >= 0, got {v}")
    for name, v in (("optim.beta1", cfg.optim.beta1), ("optim.beta2", cfg.optim.beta2),
                    ("model.dropout", cfg.model.dropout), ("policy.baseline_momentum", cfg.policy.baseline_momentum)):
        if not 0 <= v < 1:
            raise ValueError(f"config {name}: must be in [0, 1), got {v}")
    if cfg.data.resolution != 256:
        # The detector's map head gives S/16 and the mask targets are 16x16 (spec §3.7), as in SLADD.
        raise ValueError(f"config data.resolution: training runs at 256 (SLADD's size: the detector's "
                         f"S/16 map is trained against 16x16 mask targets), got {cfg.data.resolution}")


def to_dict(cfg: Config) -> dict[str, dict[str, Any]]:
    return dataclasses.asdict(cfg)


def dump_config(cfg: Config, path: str, extra: dict[str, Any] | None = None) -> None:
    """Writes the resolved config (plus ``extra``, e.g. the git SHA and world size) as YAML."""
    d = to_dict(cfg)
    if extra:
        d["meta"] = extra
    with open(path, "w") as f:
        yaml.safe_dump(d, f, sort_keys=False)
