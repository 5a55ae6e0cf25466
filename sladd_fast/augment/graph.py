"""An augmentation mode captured once in a CUDA graph and replayed: one launch per call instead of
hundreds (SLADD, SBI and Face X-ray modes).

A call of the eager modules dispatches a few hundred small ops on a GPU (``bench_augment`` records
``ops_per_call``; counted on CPU with the GPU's branches: 250 for SBI, 243 for SLADD, 158 for Face
X-ray), so at moderate batches launch latency, not work, bounds it. Their CUDA paths are sync-free with ``check_values=False`` and their shapes depend
only on (batch, size, landmark count, image dtype), so they can be captured, the way
sladd_fast.synthesis.SynthesisGraph captures synthesize():

* Shapes: one graph per (mode, batch, size, points, dtype, device).
* Inputs: the caller's tensors are copied (device to device, in stream order) into static buffers the
  graph reads; the random draws (the mode's params) are made outside the graph with the caller's
  generator, exactly as the eager call draws them, and copied in the same way, so a seed replays the
  same batch as the eager module. For SLADD and Face X-ray, partners are drawn outside too (from the
  batch or the module's pool, which the graph reads in place: keep the pool's tensors alive and
  unchanged).
* Outputs: static buffers, cloned before returning unless ``copy_outputs=False`` (then valid until the
  next call).
* Capture: a few eager calls on a side stream first (NVRTC compilation, the per-device constant cache),
  then torch.cuda.graph on the graph's device (sladd_fast/_graph.py; Face X-ray's tables for every work
  size, built on the host, are cached during the warm-up, and the cached constants the graph reads are
  kept alive with it). Inputs and params are checked for shape, dtype and device only (no NaN check: a
  sync). A module's pool is read in place: replacing it needs a new graph.
Not yet run on a GPU (no device in the sessions that wrote it): tests/test_augment.py compares graph
and eager results where CUDA is present.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from sladd_fast._graph import capture, graph_device
from sladd_fast.augment.common import AugmentResult
from sladd_fast.augment.sbi import SbiAugment, sample_sbi_params, sbi_augment
from sladd_fast.augment.sladd import SladdAugment, sample_sladd_params, sladd_augment
from sladd_fast.augment.xray import XrayAugment, draw_xray_params, xray_augment


def _check_like(dst: Any, src: Any, path: str) -> None:
    """ValueError unless the params dataclass ``src`` has ``dst``'s type and, field by field
    (recursively), tensors of the same shape, dtype and device."""
    if type(src) is not type(dst):
        raise ValueError(f"{path} must be {type(dst).__name__}, got {type(src).__name__}")
    for f in dataclasses.fields(dst):
        d, s, name = getattr(dst, f.name), getattr(src, f.name), f"{path}.{f.name}"
        if isinstance(d, torch.Tensor):
            if not isinstance(s, torch.Tensor) or (s.shape, s.dtype, s.device) != (d.shape, d.dtype, d.device):
                got = (tuple(s.shape), s.dtype, s.device) if isinstance(s, torch.Tensor) else type(s).__name__
                raise ValueError(f"{name} must be {tuple(d.shape)} {d.dtype} on {d.device} for this graph, got {got}")
        elif dataclasses.is_dataclass(d):
            _check_like(d, s, name)
        elif d != s:
            raise ValueError(f"{name} must be {d!r} for this graph, got {s!r}")


def _copy_into(dst: Any, src: Any) -> None:
    """Copies every tensor of the params dataclass ``src`` into the same field of ``dst`` (recursively)."""
    for f in dataclasses.fields(dst):
        d, s = getattr(dst, f.name), getattr(src, f.name)
        if isinstance(d, torch.Tensor):
            d.copy_(s)
        elif dataclasses.is_dataclass(d):
            _copy_into(d, s)


def _clone(out: AugmentResult, params: Any) -> AugmentResult:
    return AugmentResult(out.images.clone(), out.masks.clone(), out.labels.clone(), params,
                         {k: v.clone() for k, v in out.extras.items()})


class AugmentGraph:
    """A CUDA-graph replay of an SbiAugment, SladdAugment or XrayAugment module for a fixed batch.

    Example:
        >>> graph = AugmentGraph(SbiAugment(), batch=256, size=256, device="cuda")
        >>> out = graph(images, landmarks, generator=g)  # AugmentResult, as SbiAugment()(...)

    Args:
        mode: the module whose settings (p, weights, pool) the graph fixes.
        batch, size: the batch's B and S ([B,3,S,S] images).
        device: a CUDA device.
        points: 68 or 81 landmarks per face.
        dtype: the images' dtype (uint8, or a float dtype for [0,1] images).
        with_video_ids: SLADD and Face X-ray: calls pass video_ids (int64 [B]) for the partner draw.
        warmup: eager calls before the capture.
        copy_outputs: clone the outputs (False: the graph's buffers, valid until the next call).
    """

    def __init__(self, mode: nn.Module, batch: int, size: int = 256, device: torch.device | str = "cuda", *,
                 points: int = 68, dtype: torch.dtype = torch.uint8, with_video_ids: bool = False, warmup: int = 3,
                 copy_outputs: bool = True) -> None:
        if not isinstance(mode, (SbiAugment, SladdAugment, XrayAugment)):
            raise ValueError("AugmentGraph captures SbiAugment, SladdAugment or XrayAugment, got "
                             f"{type(mode).__name__}")
        if batch < 1 or size < 16 or points not in (68, 81):
            raise ValueError(f"batch must be >= 1, size >= 16 and points 68 or 81, got batch={batch}, size={size}, "
                             f"points={points}")
        if with_video_ids and isinstance(mode, SbiAugment):
            raise ValueError("with_video_ids is for the SLADD and Face X-ray modes (SBI blends each image with itself)")
        dev = graph_device(device, "AugmentGraph")
        self.mode, self.batch, self.size, self.device, self.copy_outputs = mode, batch, size, dev, copy_outputs
        self._images = torch.zeros(batch, 3, size, size, dtype=dtype, device=dev)
        angle = torch.linspace(0, 6.283, points, device=dev)  # warm-up landmarks: a circle, a non-empty hull
        self._landmarks = (size / 2 + size * 0.3 * torch.stack([angle.cos(), angle.sin()], 1)).expand(batch, -1, -1)
        self._landmarks = self._landmarks.contiguous()
        self._video_ids = torch.arange(batch, device=dev) if with_video_ids else None
        self._pool = getattr(mode, "pool", None)  # the graph reads this pool's memory: it must stay the module's
        self._params = self._draw(self._images, self._landmarks, self._video_ids, torch.Generator(dev).manual_seed(0))
        self._graph, self._out, self._held = capture(self._run, dev, warmup)

    def _draw(self, images: torch.Tensor, landmarks: torch.Tensor, video_ids: torch.Tensor | None,
              generator: torch.Generator | None) -> Any:
        """The mode's params, drawn exactly as the eager call draws them."""
        m, B, S = self.mode, self.batch, self.size
        if isinstance(m, SbiAugment):
            return sample_sbi_params(B, S, self.device, generator)
        if isinstance(m, XrayAugment):
            return draw_xray_params(images, landmarks, generator, video_ids=video_ids, pool=self._pool, p=m.p,
                                    check_values=False)
        return sample_sladd_params(B, S, self.device, generator, p=m.p, region_weights=m.region_weights,
                                   blend_weights=m.blend_weights, ratio_range=m.ratio_range, video_ids=video_ids,
                                   pool=self._pool)

    def _run(self) -> AugmentResult:
        m = self.mode
        if isinstance(m, SbiAugment):
            return sbi_augment(self._images, self._landmarks, params=self._params, check_values=False)
        if isinstance(m, XrayAugment):
            return xray_augment(self._images, self._landmarks, video_ids=self._video_ids, pool=self._pool, p=m.p,
                                params=self._params, check_values=False)
        return sladd_augment(self._images, self._landmarks, video_ids=self._video_ids, pool=self._pool, p=m.p,
                             region_weights=m.region_weights, blend_weights=m.blend_weights,
                             ratio_range=m.ratio_range, params=self._params, check_values=False)

    def __call__(self, images: torch.Tensor, landmarks: torch.Tensor, *args: Any, video_ids: torch.Tensor | None = None,
                 generator: torch.Generator | None = None, params: Any = None) -> AugmentResult:
        """The mode's call on the graph: the same arguments (positional after the landmarks as in the
        module's forward: SBI's generator, params; SLADD's and Face X-ray's video_ids, generator, params)
        and the same result."""
        names = ("generator", "params") if isinstance(self.mode, SbiAugment) else ("video_ids", "generator", "params")
        if len(args) > len(names):
            raise TypeError(f"at most {2 + len(names)} positional arguments (images, landmarks, {', '.join(names)})")
        given = dict(video_ids=video_ids, generator=generator, params=params)
        for name, value in zip(names, args):
            if given[name] is not None:
                raise TypeError(f"{name} given twice")
            given[name] = value
        video_ids, generator, params = given["video_ids"], given["generator"], given["params"]
        if getattr(self.mode, "pool", None) is not self._pool:
            raise ValueError("the module's pool changed after the graph was built (the graph reads the old pool's "
                             "memory): build a new AugmentGraph")
        for name, t, buf in (("images", images, self._images), ("landmarks", landmarks, self._landmarks)):
            if not isinstance(t, torch.Tensor) or (t.shape, t.dtype, t.device) != (buf.shape, buf.dtype, buf.device):
                got = (tuple(t.shape), t.dtype, t.device) if isinstance(t, torch.Tensor) else type(t).__name__
                raise ValueError(f"{name} must be {tuple(buf.shape)} {buf.dtype} on {buf.device} for this graph, "
                                 f"got {got}")
        if (video_ids is None) != (self._video_ids is None):
            raise ValueError("video_ids must be given exactly when the graph was built with with_video_ids=True")
        if video_ids is not None:
            if video_ids.shape != self._video_ids.shape or video_ids.device != self.device:
                raise ValueError(f"video_ids must be [{self.batch}] on {self.device}, got {tuple(video_ids.shape)} "
                                 f"on {video_ids.device}")
            self._video_ids.copy_(video_ids)
        self._images.copy_(images)
        self._landmarks.copy_(landmarks)
        if params is None:
            params = self._draw(self._images, self._landmarks, self._video_ids, generator)
        else:
            _check_like(self._params, params, "params")
        _copy_into(self._params, params)
        self._graph.replay()
        if self.copy_outputs:
            return _clone(self._out, params)
        return dataclasses.replace(self._out, params=params, extras=dict(self._out.extras))


__all__ = ["AugmentGraph"]
