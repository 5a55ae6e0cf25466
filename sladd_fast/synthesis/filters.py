"""Batched image filters with OpenCV semantics and per-sample kernel sizes, and per-sample resampling
with explicit taps (resample_taps). No host sync, except resample_taps' index check (check_values)."""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from sladd_fast._consts import const
from sladd_fast.ops import _checks
from sladd_fast.ops.blend import box_of
from sladd_fast.ops._dispatch import op as op_for

# cv2.getGaussianKernel(k, sigma<=0) uses these fixed tables for k <= 9 (OpenCV 4.14, measured: the
# 9-tap one is [4, 13, 30, 51, 60, 51, 30, 13, 4] / 256, not the sampled Gaussian of sigma 1.7).
_SMALL_GAUSSIAN = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: tuple(v / 256 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)),
}


def _gaussian_rows(k: torch.Tensor, width: int) -> torch.Tensor:
    """cv2.getGaussianKernel(k, 0) for each k int64 [N], centred in float32 [N, width]."""
    r = width // 2
    t = torch.arange(width, device=k.device, dtype=torch.float64) - r  # [width]
    sigma = 0.3 * ((k.double() - 1) / 2 - 1) + 0.8
    g = torch.exp(-(t[None] ** 2) / (2 * sigma[:, None] ** 2))
    g = torch.where(t[None].abs() <= (k[:, None] // 2), g, torch.zeros((), dtype=g.dtype, device=k.device))
    g = g / g.sum(1, keepdim=True)
    for ks, vals in _SMALL_GAUSSIAN.items():
        if ks > width:
            continue
        pad = (0.0,) * (r - ks // 2)
        tab = const(pad + vals + pad, k.device, torch.float64)
        g = torch.where((k == ks)[:, None], tab[None], g)
    return g.float()


@functools.lru_cache(maxsize=None)  # keys: widths and devices; never evicted (CUDA graphs read it)
def _gaussian_table(width: int, device: str) -> torch.Tensor:
    """float32 [width + 1, width]: row k is cv2.getGaussianKernel(k, 0) centred (k = 0 .. width).
    Computed on the CPU and copied: CUDA's exp may differ from the host's in the last place, and the
    blurred masks are thresholded, so both devices use the same weights."""
    return _gaussian_rows(torch.arange(width + 1), width).to(device)


def gaussian_kernels(k: torch.Tensor, width: int) -> torch.Tensor:
    """cv2.getGaussianKernel(k_b, 0) for every sample, centred in float32 [B, width] (zeros outside).

    sigma = 0.3 ((k - 1)/2 - 1) + 0.8, or OpenCV's fixed tables for k <= 9. width must be odd and
    >= max(k); k is clamped to [0, width]. The rows come from one table per width and device, built
    once: one gather per call instead of the ~25 small ops that compute them.
    """
    return _gaussian_table(width, str(k.device))[k.clamp(0, width)]


def separable_blur(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Blurs x float [B,C,H,W] with per-sample 1-D kernels [B,K] along both axes, reflect-101 border
    (OpenCV's BORDER_DEFAULT), as a grouped convolution."""
    B, C, H, W = x.shape
    K = kernels.shape[1]
    r = K // 2
    w = kernels.repeat_interleave(C, 0)  # [B*C, K]
    y = x.reshape(1, B * C, H, W)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="reflect"), w.view(B * C, 1, 1, K), groups=B * C)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), w.view(B * C, 1, K, 1), groups=B * C)
    return y.view(B, C, H, W)


def blur_support(x: torch.Tensor, kernels: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """separable_blur of x float32 [B,C,H,W] for inputs that are zero outside a region (masks):
    blur_in_box on the box of x's nonzero pixels grown by each sample's radius, which holds every
    pixel the blur can reach. Same result as a whole-image blur up to float summation order."""
    box = box_of(x[:, 0] != 0 if x.shape[1] == 1 else (x != 0).any(1))
    grown = box + radius[:, None] * const((-1, -1, 2, 2), x.device, torch.int64)  # (x - r, y - r, w + 2r, h + 2r)
    grown = torch.where(box[:, 2:3] > 0, grown, box)  # an all-zero sample stays empty
    return blur_in_box(x, kernels, radius, grown)


def blur_in_box(x: torch.Tensor, kernels: torch.Tensor, radius: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Separable per-sample blur inside a box (csrc op ``blur_in_box``).

    ``x`` is taken as zero outside each sample's box and the result is computed inside the box only
    (zero outside): exactly the blur of a masked image wherever the mask's box is, at a cost
    proportional to the box and the radius rather than to the image. Border: reflect-101.

    Args:
        x: float32 [B,C,H,W], or uint8 (the result is then rounded half up to uint8: faceswap's blurs
            of uint8 images). kernels: float32 [B,K], K odd, centred (gaussian_kernels).
        radius: int64 [B], taps used on each side (clamped to [0, K//2]).
        box: int64 [B,4] (x, y, w, h), clipped to the image (mask_bbox's format).
    Returns:
        [B,C,H,W] of x's dtype.
    """
    _checks.tensor("x", x, torch.uint8 if isinstance(x, torch.Tensor) and x.dtype == torch.uint8 else torch.float32,
                   (None, None, None, None))
    B = x.shape[0]
    _checks.tensor("kernels", kernels, torch.float32, (B, None))
    if kernels.shape[1] % 2 == 0:
        raise ValueError(f"kernels must have an odd length, got {kernels.shape[1]}")
    _checks.tensor("radius", radius, torch.int64, (B,))
    _checks.tensor("box", box, torch.int64, (B, 4))
    _checks.same_device(x=x, kernels=kernels, radius=radius, box=box)
    return op_for("blur_in_box")(x.contiguous(), kernels.contiguous(), radius.contiguous(), box.contiguous())


def resample_taps(x: torch.Tensor, index: torch.Tensor, weight: torch.Tensor, axis: int, *,
                  check_values: bool = True) -> torch.Tensor:
    """Separable per-sample resampling along one axis with explicit taps (csrc op ``resample_taps``).

    Each sample's rows (``axis=2``) or columns (``axis=3``) are resized to ``O`` outputs, each a
    weighted sum of ``T`` input lines: a linear filter (skimage's or PIL's resize) written as taps,
    one set per sample, at a cost of O * T per line instead of a dense [O, H] matrix product.

        axis 2: out[b,c,o,x] = sum_t weight[b,o,t] * x[b,c,index[b,o,t],x]
        axis 3: out[b,c,y,o] = sum_t weight[b,o,t] * x[b,c,y,index[b,o,t]]

    The sum runs over t ascending in float32 (a multiply, then an add; no FMA), the same on CPU, CUDA
    and in the PyTorch reference. Taps with weight 0 are skipped (they add nothing, even on inf/NaN
    pixels). Out-of-range indices are clamped into [0, H) (axis 2) or [0, W) (axis 3) by the kernels,
    which never read out of bounds; an empty resampled axis gives zeros.

    Args:
        x: float32 [B,C,H,W], any device.
        index: int64 [B,O,T], the input row (axis 2) or column (axis 3) of each tap.
        weight: float32 [B,O,T], each tap's weight.
        axis: 2 (resample rows) or 3 (resample columns).
        check_values: check that every index lies in [0, H) or [0, W) (a host sync on a GPU); False
            leaves out-of-range indices to the kernels' clamping.
    Returns:
        float32 [B,C,O,W] (axis 2) or [B,C,H,O] (axis 3), on x's device.
    Raises:
        ValueError naming the argument: wrong type, dtype or shape, batch sizes that differ, tensors
        on different devices, axis not 2 or 3, an index out of range (with check_values).
    """
    _checks.tensor("x", x, torch.float32, (None, None, None, None))
    _checks.tensor("index", index, torch.int64, (None, None, None))
    _checks.batch("index", index, x.shape[0])
    _checks.tensor("weight", weight, torch.float32, tuple(index.shape))
    if isinstance(axis, bool) or not isinstance(axis, int) or axis not in (2, 3):
        raise ValueError(f"axis must be 2 (rows) or 3 (columns), got {axis!r}")
    _checks.same_device(x=x, index=index, weight=weight)
    if check_values and index.numel():
        n = x.shape[axis]
        lo, hi = (int(v) for v in torch.aminmax(index))
        if lo < 0 or hi >= n:
            raise ValueError(f"index must lie in [0, {n}) (x's size along axis {axis}), got min {lo} max {hi}")
    return op_for("resample_taps")(x.contiguous(), index.contiguous(), weight.contiguous(), axis)


def gaussian_half_taps(sigma: float, truncate: float = 4.0, device: torch.device | str = "cpu") -> torch.Tensor:
    """scipy.ndimage.gaussian_filter's kernel (radius int(truncate sigma + 0.5), exp(-x^2 / 2 sigma^2)
    normalised in float64) as float32 [R+1]: the centre weight, then one half."""
    R = int(truncate * float(sigma) + 0.5)
    t = torch.arange(-R, R + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * t ** 2 / float(sigma) ** 2)
    return (w / w.sum())[R:].float().to(device)


def gaussian_filter(x: torch.Tensor, taps: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """scipy.ndimage.gaussian_filter of every plane with its default 'reflect' border (d c b a | a b c d),
    times ``scale`` (csrc op ``gaussian_filter``): rows, then columns, each output w0 x0 + sum over t of
    w_t (x_-t + x_t) with fused multiply-adds in float32, the same on CPU, CUDA and in the reference.

    Args:
        x: float32 [B,C,H,W], any device.
        taps: float32 [R+1], the kernel's centre weight and one half (``gaussian_half_taps``).
        scale: multiplies the result.
    Returns:
        float32 [B,C,H,W].
    Raises:
        ValueError naming the argument: wrong type, dtype or shape, tensors on different devices.
    """
    _checks.tensor("x", x, torch.float32, (None, None, None, None))
    _checks.tensor("taps", taps, torch.float32, (None,))
    if taps.shape[0] < 1:
        raise ValueError("taps must hold the centre weight at least, got an empty tensor")
    if taps.shape[0] > 1 << 20:
        raise ValueError(f"taps: at most 2^20 taps (R < 2^20), got {taps.shape[0]}")
    _checks.same_device(x=x, taps=taps)
    return op_for("gaussian_filter")(x.contiguous(), taps.contiguous(), float(scale))


def warp_linear_u8(x: torch.Tensor, col_index: torch.Tensor, col_weight: torch.Tensor, row_index: torch.Tensor,
                   row_weight: torch.Tensor) -> torch.Tensor:
    """A separable bilinear warp of uint8 images in OpenCV's warpAffine fixed point (csrc op
    ``warp_linear_u8``; common/warp_u8_math.h): each output column reads two source columns, each output
    row two source rows, with integer weights in 32nds (32 - f and f, 0 for a tap outside the image):

        out = min(255, (sum_i rw_i sum_j cw_j x[ri_i, ci_j] + 512) >> 10)

    which is cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT 0) bit for bit for a scale-and-translate matrix
    with augment/cv2_taps.py's warp_affine_taps.

    Args:
        x: uint8 [B,C,H,W], any device.
        col_index, col_weight: int64 [B,Wo,2]; row_index, row_weight: int64 [B,Ho,2]. Indices are clamped
            into the image and weights into [0, 32] by the kernels.
    Returns:
        uint8 [B,C,Ho,Wo] on x's device.
    Raises:
        ValueError naming the argument: wrong type, dtype or shape, batch sizes that differ, tensors on
        different devices.
    """
    _checks.tensor("x", x, torch.uint8, (None, None, None, None))
    B = x.shape[0]
    _checks.tensor("col_index", col_index, torch.int64, (B, None, 2))
    _checks.tensor("col_weight", col_weight, torch.int64, tuple(col_index.shape))
    _checks.tensor("row_index", row_index, torch.int64, (B, None, 2))
    _checks.tensor("row_weight", row_weight, torch.int64, tuple(row_index.shape))
    _checks.same_device(x=x, col_index=col_index, col_weight=col_weight, row_index=row_index, row_weight=row_weight)
    return op_for("warp_linear_u8")(x.contiguous(), col_index.contiguous(), col_weight.contiguous(),
                                    row_index.contiguous(), row_weight.contiguous())


def remap_nearest(x: torch.Tensor, map: torch.Tensor, col_table: torch.Tensor, row_table: torch.Tensor, *,
                  relative: bool = True) -> torch.Tensor:
    """cv2.remap(INTER_NEAREST, BORDER_REFLECT_101) with float maps, per sample, read through column and row
    tables (csrc op ``remap_nearest``; common/remap_math.h).

    Output pixel (x, y) takes map (fx, fy) (``relative``: x + map_x and y + map_y in float32, a
    displacement field), rounds each half to even into a short as cv2 does on x86-64 (NaN and values from
    2^31 up -> -32768), reflects it into the tables' lengths (gfedcb|abcdefgh|gfedcba) and reads
    x[b, :, row_table[iy], col_table[ix]];
    a table value outside the input reads 0. Identity tables (``arange``) give the plain cv2.remap; a
    nearest scale-and-translate warpAffine's per-axis source indices (-1 outside) give the warp
    followed by the remap, in one gather.

    Args:
        x: float32 [B,C,H,W], any device.
        map: float32 [B,2,Ho,Wo], x then y (absolute coordinates, or displacements with ``relative``).
        col_table: int64 [B,Wt], row_table: int64 [B,Ht], Wt, Ht >= 1: the remapped image's columns and
            rows (cv2's remap source is Wt x Ht) as columns and rows of x.
        relative: map holds displacements.
    Returns:
        float32 [B,C,Ho,Wo] on x's device.
    Raises:
        ValueError naming the argument: wrong type, dtype or shape, batch sizes that differ, an empty
        table, tensors on different devices.
    """
    _checks.remap_args("x", x, map, col_table, row_table)
    return op_for("remap_nearest")(x.contiguous(), map.contiguous(), col_table.contiguous(), row_table.contiguous(),
                                   bool(relative))


def morph_square(mask: torch.Tensor, op: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Per-sample k x k square erosion (op 0), dilation (op 1) or nothing (other) of a {0,1} mask
    [B,1,H,W], with OpenCV's borders. csrc op ``morph_square``, separable: on the CPU distance sweeps,
    O(HW) whatever k is; on CUDA one thread per pixel reading its window, O(HW k) but coalesced (at most
    65535 samples a call, as the other CUDA ops). float32 out."""
    return op_for("morph_square")(mask.contiguous(), op.contiguous(), k.contiguous())
