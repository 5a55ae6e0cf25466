"""Fake (meta) kernels for the sladd_fast ops: output shapes without data, so torch.compile and
FakeTensor tracing can see through them (checked by torch.library.opcheck in the tests)."""
from __future__ import annotations

import torch


def register() -> None:
    """Registers every op's fake kernel once (needs sladd_fast._C loaded)."""
    lib = "sladd_fast::"

    @torch.library.register_fake(lib + "region_mask")
    def _(landmarks, region, size):
        return landmarks.new_empty(landmarks.shape[0], 1, size, size)

    @torch.library.register_fake(lib + "hull_mask")
    def _(landmarks, size):
        return landmarks.new_empty(landmarks.shape[0], 1, size, size)

    @torch.library.register_fake(lib + "blend_linear")
    def _(target, source, mask, weight):
        return torch.empty_like(target)

    @torch.library.register_fake(lib + "poisson_rhs")
    def _(target, source, mask, roi):
        B, C, H, W = target.shape
        return mask.new_empty(B, C, H - 2, W - 2)

    @torch.library.register_fake(lib + "poisson_compose")
    def _(target, solution, roi):
        return torch.empty_like(target)

    @torch.library.register_fake(lib + "deform_mask")
    def _(mask, noise):
        return torch.empty_like(mask)

    @torch.library.register_fake(lib + "morph_square")
    def _(mask, op, k):
        return torch.empty_like(mask)

    @torch.library.register_fake(lib + "warp_affine_cubic")
    def _(input, inverse_map):
        return torch.empty_like(input)
