"""sladd_fast.ops: batched mask and blend ops (C++/CUDA kernels with PyTorch references)."""
from sladd_fast.ops._dispatch import backend_for, use_backend
from sladd_fast.ops.blend import (blend_alpha, blend_copy, blend_linear, blend_poisson, feather_alpha,
                                  hull_feather, mask_bbox)
from sladd_fast.ops.masks import NUM_REGIONS, hull_mask, region_mask

__all__ = ["backend_for", "use_backend", "blend_alpha", "blend_copy", "blend_linear", "blend_poisson", "feather_alpha",
           "hull_feather", "mask_bbox", "hull_mask", "region_mask", "NUM_REGIONS"]
