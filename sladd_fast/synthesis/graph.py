"""synthesize() captured once in a CUDA graph and replayed: one launch per call instead of hundreds.

At SLADD's per-GPU batch (32) a call issues several hundred small kernels (benchmarks/cost_model.py
counts them), so launch latency, not work, bounds it. The CUDA path of synthesize is sync-free and
its shapes depend only on (batch, size), so it can be captured:

* Shapes: one graph per (batch, size, device); a different batch needs another SynthesisGraph.
* Inputs: the caller's tensors are copied (device to device, inside the stream order) into static
  buffers the graph reads; the random draws (SynthesisParams) are made outside the graph with the
  caller's generator, exactly as synthesize() draws them, and copied in the same way. So a replay
  from a seed gives the same forgeries as the eager call.
* Outputs: the graph writes static buffers; by default they are cloned before returning (set
  ``copy_outputs=False`` to get the buffers themselves, valid until the next call).
* Capture: a few eager calls on a side stream first (NVRTC compilation, the per-device constant
  cache, cuBLAS workspaces), then torch.cuda.graph on the graph's device (sladd_fast/_graph.py); the
  cached constants it reads are kept alive with it. check_values is off inside (it would sync).
"""
from __future__ import annotations

import dataclasses

import torch

from sladd_fast._graph import capture, graph_device
from sladd_fast.synthesis.engine import SynthesisResult, synthesize
from sladd_fast.synthesis.params import SynthesisParams, sample_params


class SynthesisGraph:
    """A CUDA-graph replay of ``synthesize`` for a fixed batch size and image size.

    Example:
        >>> graph = SynthesisGraph(32, 256, "cuda")
        >>> out = graph(real, partner, real_lm, partner_lm, region, blend_type, ratio, generator=g)
    """

    def __init__(self, batch: int, size: int = 256, device: torch.device | str = "cuda", *, with_valid: bool = False,
                 warmup: int = 3, copy_outputs: bool = True) -> None:
        dev = graph_device(device, "SynthesisGraph")
        if batch < 1 or size < 16:
            raise ValueError(f"batch must be >= 1 and size >= 16, got batch={batch}, size={size}")
        self.batch, self.size, self.device, self.copy_outputs = batch, size, dev, copy_outputs
        B, S = batch, size
        z = dict(device=dev)
        self._in = {
            "target": torch.zeros(B, 3, S, S, dtype=torch.uint8, **z),
            "source": torch.zeros(B, 3, S, S, dtype=torch.uint8, **z),
            "target_landmarks": torch.zeros(B, 68, 2, **z),
            "source_landmarks": torch.zeros(B, 68, 2, **z),
            "region": torch.zeros(B, dtype=torch.int64, **z),
            "blend_type": torch.zeros(B, dtype=torch.int64, **z),
            "ratio": torch.zeros(B, **z),
        }
        self._valid = torch.ones(B, dtype=torch.bool, **z) if with_valid else None
        self._params = sample_params(B, S, dev, torch.Generator(dev).manual_seed(0))
        self._graph, self._out, self._held = capture(self._run, dev, warmup)

    def _run(self) -> SynthesisResult:
        return synthesize(**self._in, valid=self._valid, params=self._params, check_values=False)

    def __call__(self, target: torch.Tensor, source: torch.Tensor, target_landmarks: torch.Tensor,
                 source_landmarks: torch.Tensor, region: torch.Tensor, blend_type: torch.Tensor, ratio: torch.Tensor,
                 generator: torch.Generator | None = None, *, valid: torch.Tensor | None = None,
                 params: SynthesisParams | None = None) -> SynthesisResult:
        """Same arguments and result as sladd_fast.synthesize (check_values is always off: the
        inputs are checked for shape, dtype and device only)."""
        args = dict(target=target, source=source, target_landmarks=target_landmarks,
                    source_landmarks=source_landmarks, region=region, blend_type=blend_type, ratio=ratio)
        for name, t in args.items():
            buf = self._in[name]
            if not isinstance(t, torch.Tensor) or t.shape != buf.shape or t.dtype != buf.dtype or t.device != buf.device:
                got = (tuple(t.shape), t.dtype, t.device) if isinstance(t, torch.Tensor) else type(t).__name__
                raise ValueError(f"{name} must be {tuple(buf.shape)} {buf.dtype} on {buf.device} for this graph, "
                                 f"got {got}")
            buf.copy_(t)
        if (valid is None) != (self._valid is None):
            raise ValueError("valid must be given exactly when the graph was built with with_valid=True")
        if valid is not None:
            self._valid.copy_(valid)
        if params is None:
            params = sample_params(self.batch, self.size, self.device, generator)
        elif len(params) != self.batch or params.morph_op.device != self.device:
            raise ValueError(f"params must hold {self.batch} samples on {self.device}")
        for f in dataclasses.fields(SynthesisParams):
            getattr(self._params, f.name).copy_(getattr(params, f.name))
        self._graph.replay()
        out = self._out
        if self.copy_outputs:
            out = SynthesisResult(out.images.clone(), out.masks.clone(), out.mask_targets.clone(), out.applied.clone(),
                                  params)
        else:
            out = dataclasses.replace(out, params=params)
        return out
