"""Counter-based uniform noise from per-sample seeds (csrc op ``uniform_noise``).

A random field drawn as a [B,C,H,W] tensor from a torch.Generator costs one generator step per value
(mt19937 on CPU: about 2 ns each, 0.3 ms for SBI's two 256 x 256 planes) and differs between CPU and
CUDA. Here the random decision is one int64 seed per sample, drawn from the generator; the field is a
pure function of (seed, position) (common/noise_math.h: two rounds of Wellons' lowbias32 hash, 24
bits per value, as torch.rand's float32), the same on CPU, CUDA and in the PyTorch reference, and
computed at memory speed.
"""
from __future__ import annotations

import torch

from sladd_fast.ops import _checks
from sladd_fast.ops._dispatch import op

SEED_HIGH = 1 << 62  # seeds are drawn in [0, 2^62)


def draw_seeds(batch: int, device: torch.device | str = "cpu",
               generator: torch.Generator | None = None) -> torch.Tensor:
    """One noise seed per sample: int64 [batch] in [0, 2^62), drawn from ``generator`` on ``device``."""
    return torch.randint(0, SEED_HIGH, (batch,), generator=generator, device=torch.device(device))


def uniform_noise(seeds: torch.Tensor, channels: int, height: int, width: int) -> torch.Tensor:
    """Uniform noise in [-1, 1), one field per seed.

    Args:
        seeds: int64 [B], any device (``draw_seeds``). Equal seeds give equal fields.
        channels, height, width: the field's shape per sample (at most 2^32 values).
    Returns:
        float32 [B,channels,height,width] on the seeds' device: multiples of 2^-23 in [-1, 1), value
        (c, y, x) of sample b a function of seeds[b] and c H W + y W + x only.
    Raises:
        ValueError naming the argument: seeds not int64 [B], a negative size or one past int32, more than
        2^32 values.
    """
    _checks.tensor("seeds", seeds, torch.int64, (None,))
    for name, v in (("channels", channels), ("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be an int >= 0, got {v!r}")
        if v > 2 ** 31 - 1:
            raise ValueError(f"{name} must fit in int32, got {v}")
    if channels * height * width > 1 << 32:
        raise ValueError(f"at most 2^32 values per sample, got {channels} x {height} x {width}")
    return op("uniform_noise")(seeds.contiguous(), channels, height, width)


__all__ = ["SEED_HIGH", "draw_seeds", "uniform_noise"]
