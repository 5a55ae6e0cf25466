"""Runs every csrc op once on small inputs, for compute-sanitizer on a GPU machine.

    PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool memcheck --kernel-name kns=sladd \
        python benchmarks/sanitize_ops.py --device cuda --backend kernel
    (the same with --tool initcheck or racecheck, and --backend jit for the NVRTC kernels)

The sanitizer reports out-of-bounds accesses (memcheck), reads of uninitialised device memory
(initcheck) and shared-memory races (racecheck); this script only makes every kernel run, on inputs
that reach the edge cases (out-of-image landmarks, empty and clipped boxes, border-touching masks).
With --device cpu it runs the same calls on the CPU kernels (a check of the script itself).
"""
from __future__ import annotations

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import check_device, parser  # noqa: E402
from sladd_fast import _ext, _jit, faces, ops  # noqa: E402
from sladd_fast.synthesis.filters import gaussian_kernels  # noqa: E402


def color_stats_for(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Statistics with every field filled (all modes' sums over the whole image), so color_apply's
    arithmetic is exercised for any mode."""
    from sladd_fast.ops import _reference

    B, _, H, W = fake.shape
    full = torch.tensor([[0, 0, W, H]] * B)
    rct = _reference.color_stats(fake, real, mask, torch.zeros(B, dtype=torch.int64), full)
    shift = _reference.color_stats(fake, real, mask, torch.ones(B, dtype=torch.int64), full)
    return torch.cat([shift[:, :7], rct[:, 7:]], 1)


def warp_u8_taps(B: int, n_out: int, n_in: int, g: torch.Generator, opencv: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """warp_linear_u8's taps along one axis, int64 [B,n_out,2] index and weight. opencv: as cv2.warpAffine's
    (i, i + 1 with weights 32 - f and f, 0 for a tap outside the image), i from -2 to n_in, so some pairs
    straddle either border; the indices are left unclamped (the kernels clamp them). Else arbitrary: indices
    a few past either border, weights < 0 and > 32 (clamped into [0, 32]: sums past 255 saturate), and int64's
    extremes in both."""
    if opencv:
        i0 = torch.randint(-2, n_in + 1, (B, n_out), generator=g)
        f = torch.randint(0, 32, (B, n_out), generator=g)
        f[:, ::7] = 0  # a whole-pixel position: the second tap has weight 0
        idx = torch.stack([i0, i0 + 1], -1)
        return idx, torch.stack([32 - f, f], -1) * ((idx >= 0) & (idx < n_in))
    idx = torch.randint(-6, n_in + 6, (B, n_out, 2), generator=g)
    w = torch.randint(-20, 60, (B, n_out, 2), generator=g)
    extremes = torch.tensor([-(1 << 63), (1 << 63) - 1, -1, 1 << 40])
    for t, start in ((idx, 3), (w, 5)):
        sel = t.view(-1)[start::7]
        k = min(sel.numel(), extremes.numel())
        sel[:k] = extremes[:k]
    return idx, w


def piecewise_targets(n: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """piecewise_affine_grid's tx, ty float32 [B,4,4] and step [B] as augment/xray.py draws them for work
    sizes n int64 [B]: anchors n / 3 apart, jittered by a normal times scale 0.01..0.15 times n, clipped to
    [0, n - 1]."""
    B = n.shape[0]
    nf = n.float()[:, None, None]
    step = nf / 3
    anchor = torch.arange(4, dtype=torch.float32)[None, :] * step[:, 0]  # [B,4]
    jitter = torch.randn(B, 4, 4, 2, generator=g) * (0.01 + 0.14 * torch.rand(B, generator=g))[:, None, None, None]
    ty = torch.minimum((anchor[:, :, None] + jitter[..., 0] * nf).clamp(min=0), nf - 1)
    tx = torch.minimum((anchor[:, None, :] + jitter[..., 1] * nf).clamp(min=0), nf - 1)
    return tx, ty, step[:, 0, 0].contiguous()


def calls(device: torch.device) -> dict[str, tuple]:
    """op name (":variant" for a second call of one op) -> its arguments on ``device``; together they
    reach every kernel of csrc/cuda/kernels.cuh."""
    S = 64
    g = torch.Generator().manual_seed(0)
    lm = torch.cat([faces.random_landmarks(3, size=S, generator=g), torch.rand(2, 68, 2, generator=g) * 90 - 13])
    img = faces.render_faces(lm[:3], size=S, generator=g)
    src = faces.render_faces(faces.random_landmarks(3, size=S, generator=g), size=S, generator=g)
    m = ops.region_mask(lm[:3], torch.tensor([0, 4, 9]), S)
    m[2, :, :2] = 1  # touches the image frame
    roi = ops.blend.poisson_roi(m)
    k = torch.tensor([3, 9, 21])
    box = torch.tensor([[5, 6, 30, 20], [0, 0, S, S], [-3, 40, 20, 0]])  # inside, whole, clipped and empty
    odd = torch.zeros(4, 1, S, S)  # hull_feather's degenerate masks: empty, one pixel, a line, the whole image
    odd[1, 0, 7, 9] = 1
    odd[2, 0, 3:40, 20] = -2
    odd[3] = 1
    blobs = (torch.rand(2, 1, 40, 72, generator=g) > 0.97).float()  # H != W, scattered pixels
    flat = torch.zeros(2, 68, 2)  # hull_mask's degenerate hulls: collinear points (a line), one point (a pixel)
    flat[0, :, 0] = torch.arange(68) - 3.0
    flat[0, :, 1] = torch.arange(68) * 0.5
    flat[1] = 17.0
    # resample_taps: out-of-range indices (clamped), zero-weight taps, O < H, O > W, H != W, an empty axis
    rs_in = torch.rand(3, 2, 40, 72, generator=g) * 255
    rs_idx = torch.randint(-5, 80, (3, 30, 6), generator=g)
    rs_w = torch.rand(3, 30, 6, generator=g) * (torch.rand(3, 30, 6, generator=g) > 0.3)
    rs_idx_wide = torch.randint(-3, 75, (3, 90, 4), generator=g)
    rs_w_wide = torch.rand(3, 90, 4, generator=g)
    # hsv_shift: W not a multiple of the block (a scalar tail), shifts of both signs, large, NaN and inf
    hsv_in = torch.randint(0, 256, (3, 3, 40, 72), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    hsv_shifts = torch.tensor([[-0.2, -0.1, 0.25], [179.9, -300.0, 7.3], [float("nan"), float("inf"), float("-inf")]])
    # sbi_quality: every branch (0, Sharpen 1, RandomDownScale 2 and 4, and values that act as 0), odd sizes,
    # RGBShift adds that are fractional, large, NaN and infinite; images smaller than the down ratio (no
    # downscale: 4 > H) and one pixel wide or high (reflect-101 of a single row or column)
    nan, inf = float("nan"), float("inf")
    sbi_in = torch.randint(0, 256, (7, 3, 37, 53), generator=torch.Generator().manual_seed(2), dtype=torch.uint8)
    sbi_shifts = torch.cat([hsv_shifts, torch.tensor([[3.0, -40.0, 25.0], [-7.0, 12.0, -9.0], [0.0] * 3,
                                                       [-178.0, 255.0, -255.0]])])
    sbi_coeffs = torch.tensor([[3.0, -2.0, 0.0, 1.05, -10.0, 0.3, 9.7, 0.7],
                               [0.0, 0.0, 0.0, 0.95, 5.0, 0.2, 9.5, 0.8],
                               [-19.5, 12.2, 7.9, 1.1, -3.5, 0.45, 9.9, 0.55],
                               [nan, inf, -inf, 0.9, 12.75, 0.5, 10.0, 0.5],
                               [300.0, -300.0, 255.5, -1.0, 300.0, 4.0, 9.5, -3.0],  # negative gain, large a
                               [-255.0, 0.4, -0.4, 3.0, -255.0, 0.25, 9.75, 0.75],
                               [1.0, 1.0, 1.0, 1.0, 0.0, 0.3, 9.6, 0.7]])
    sbi_branch = torch.tensor([1, 2, 0, 4, 1, 3, -1])  # sample 2 is black (value shift -inf)
    sbi_tiny = torch.randint(0, 256, (4, 3, 3, 5), generator=torch.Generator().manual_seed(3), dtype=torch.uint8)
    sbi_line = torch.randint(0, 256, (3, 3, 9, 1), generator=torch.Generator().manual_seed(4), dtype=torch.uint8)
    # gaussian_filter: sigma 7 truncated at R = 28 (augment/sbi.py's elastic blur) on odd sizes, R larger than
    # both sides of the plane (the 'reflect' index folded several times), one pixel wide, R = 0, an empty plane
    t = torch.arange(29, dtype=torch.float64)
    gf_taps = torch.exp(-t * t / 98)
    gf_taps = (gf_taps / (2 * gf_taps.sum() - gf_taps[0])).float()
    gf_in = torch.rand(2, 3, 37, 53, generator=torch.Generator().manual_seed(5)) * 2 - 1
    # uniform_noise: seeds of every sign and size (2^62 - 1, the largest draw_seeds gives, and int64's
    # extremes), odd sizes, one value, a zero-size dimension and no samples (empty outputs, no launch)
    un_seeds = torch.tensor([0, 1, -1, 7, (1 << 62) - 1, -(1 << 63), (1 << 63) - 1, -123456789012345])
    # remap_nearest: maps with NaN, +-inf, huge values (saturated to a short, then folded many times), halves
    # (rounded to even); relative and absolute; table values negative and >= W, H (the border's 0); tables of
    # length 1; Ho, Wo != H, W; 1 and 3 channels; an input with no rows (every pixel reads the border)
    rm_g = torch.Generator().manual_seed(6)
    rm_in = torch.rand(3, 3, 37, 53, generator=rm_g) * 2 - 1
    rm_map = torch.randn(3, 2, 41, 29, generator=rm_g) * 40
    rm_special = torch.tensor([nan, inf, -inf, 1e9, -1e9, 3.4e38, -3.4e38, 32767.5, -32768.5, 40000.5, 2.5, -0.5,
                               1.5, 52.5, -53.0, 0.49999997])
    rm_map.view(-1)[::97][:rm_special.numel()] = rm_special
    rm_bad = rm_special[:3].repeat(12)[:35].view(5, 7)  # NaN, inf and -inf in both coordinates, mixed
    rm_map[1, 0, :5, :7], rm_map[1, 1, :5, :7] = rm_bad, rm_bad.roll(1)
    rm_abs = torch.rand(3, 2, 41, 29, generator=rm_g) * 160 - 50  # absolute coordinates from -50 to 110
    rm_abs.view(-1)[5::131][:rm_special.numel()] = rm_special
    rm_cols = torch.randint(-4, 58, (3, 61), generator=rm_g)  # Wt != W, values < 0 and >= W = 53
    rm_rows = torch.randint(-4, 42, (3, 23), generator=rm_g)  # Ht != H, values < 0 and >= H = 37
    rm_id_cols, rm_id_rows = torch.arange(53).expand(3, 53).contiguous(), torch.arange(37).expand(3, 37).contiguous()
    # warp_linear_u8: OpenCV-like and arbitrary taps (warp_u8_taps); Ho, Wo != H, W; 3 and 1 channels; a 1x1
    # input and a 1x1 output; inputs with no rows or no columns (a non-empty output of zeros, no launch); an
    # empty output and no samples (no launch)
    wl_g = torch.Generator().manual_seed(7)
    wl_in = torch.randint(0, 256, (3, 3, 37, 53), generator=wl_g, dtype=torch.uint8)
    wl_cols, wl_rows = warp_u8_taps(3, 29, 53, wl_g, True), warp_u8_taps(3, 41, 37, wl_g, True)
    wl_any_cols, wl_any_rows = warp_u8_taps(3, 61, 53, wl_g, False), warp_u8_taps(3, 23, 37, wl_g, False)
    wl_px_cols, wl_px_rows = warp_u8_taps(3, 5, 1, wl_g, False), warp_u8_taps(3, 4, 1, wl_g, True)
    # piecewise_affine_grid: Face X-ray's targets (piecewise_targets) for work sizes 128..256 on a 256 canvas
    # (pixels past n clamp to the last cell); canvases 1, 2 and 7; steps that clamp every cell: tiny (cell 2,
    # u and v huge), subnormal and 0 (x / 0: NaN at pixel 0, inf elsewhere), NaN (NaN everywhere), negative,
    # huge and inf (cell 0); arbitrary targets (negative, past the canvas); main all True, all False and mixed;
    # no samples (no launch)
    pw_g = torch.Generator().manual_seed(8)
    pw_tx, pw_ty, pw_step = piecewise_targets(torch.tensor([128, 256, 171, 200]), pw_g)
    pw_main = torch.rand(4, 9, generator=pw_g) < 0.5
    pw_main[0], pw_main[1] = True, False
    pw_any_tx, pw_any_ty = (torch.rand(8, 4, 4, generator=pw_g) * 320 - 30 for _ in range(2))
    pw_any_step = torch.tensor([1e-3, 1e-40, 0.0, nan, -5.0, 1e30, inf, 2.5])
    pw_any_main, pw_all = torch.rand(8, 9, generator=pw_g) < 0.5, torch.ones(8, 9, dtype=torch.bool)
    # poisson_solve: a block per tile size (the whole 70 x 130 canvas: 2 x 3 tiles), clamped, one row, empty;
    # values everywhere (the kernels never read past a sample's block)
    ps_in = torch.randn(5, 2, 70, 130, generator=g) * 100
    ps_roi = torch.zeros(5, 6, dtype=torch.int64)
    ps_roi[:, 2:4] = torch.tensor([[132, 72], [300, 9], [100, 3], [1, 50], [67, 66]])
    # jpeg_round_trip: sides that are and are not multiples of 16 (edges replicated), 1 x 1, a mix of selected
    # and passed-through samples, qualities past [1, 100] (clamped), RGB and BGR, no samples
    jp_g = torch.Generator().manual_seed(9)
    jp_in = torch.randint(0, 256, (4, 3, 37, 53), generator=jp_g, dtype=torch.uint8)
    jp_q, jp_sel = torch.tensor([75, 1, 100, 0]), torch.tensor([True, True, False, True])
    args = {
        "region_mask": (lm, torch.arange(5) % 10, S),
        "hull_mask": (lm, S),
        "hull_mask:int": (torch.cat([lm.trunc(), flat]), S),  # integer points: cv2's shift-0 fill, clipped edges
        "hull_mask:parts": (torch.cat([lm[:4], flat]).view(3, 2, 68, 2), S),  # unions of 2 hulls, degenerate ones
        "hull_feather": (torch.cat([m, odd]), torch.tensor([0.2, 0.05, 1.0, 0.2, 0.2, 0.2, 0.0])),
        "hull_feather:wide": (blobs, torch.tensor([0.2, 0.3])),
        "blend_linear": (img, src, m, torch.tensor([0.3, 1.0, 0.0])),
        "poisson_rhs": (img, src, m, roi),
        "poisson_compose": (img, torch.rand(3, 3, S - 2, S - 2, generator=g) * 255, roi),
        "poisson_solve": (torch.ops.sladd_fast.poisson_rhs(img, src, m, roi), roi),
        "poisson_solve:sizes": (ps_in, ps_roi),
        "poisson_solve:empty": (torch.zeros(2, 3, 0, 5), ps_roi[:2]),
        "box_of": (torch.cat([m[:, 0] > 0.5, odd[:, 0] != 0]), False),
        "box_of:frame": (torch.cat([m[:, 0] > 0.5, odd[:, 0] != 0]), True),  # the whole image: its interior
        "box_of:narrow": (blobs[:, 0, :, :2] > 0, True),  # W = 2: no interior
        "box_of:no_rows": (torch.zeros(2, 0, 5, dtype=torch.bool), False),
        "box_of:no_columns": (torch.zeros(2, 5, 0, dtype=torch.bool), True),
        "box_of:tall": (blobs[:, 0, :, :2].transpose(1, 2).contiguous() > 0, True),  # H = 2: no interior
        "similarity_align": (lm, torch.cat([lm[3:], flat, lm[:1] * float("nan")])[:5].contiguous()),
        "affine_reach_box": (torch.tensor([[5, 6, 30, 20], [0, 0, S, S], [-3, 40, 20, 0], [60, 60, 9, 9]]),
                             torch.tensor([[[1.3, 0.4, -20.0], [-0.4, 1.3, 5.0]], [[0.5, 0.0, 1.0], [0.0, 0.5, 2.0]],
                                           [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [[90.0, 0.0, 0.0], [0.0, 90.0, 0.0]]]),
                             S),
        "affine_reach_box:none": (torch.zeros(0, 4, dtype=torch.int64), torch.zeros(0, 2, 3), S),
        # resize taps: shrinking and growing, an odd canvas, NEAREST, n_out past the canvas
        "skimage_taps": (torch.tensor([64, 64, 40, 1]), torch.tensor([23, 64, 64, 9]), 64, 6),
        "skimage_taps:grow": (torch.tensor([23, 50, 64]), torch.tensor([64, 64, 64]), 61, 0),
        "pil_taps": (torch.tensor([64, 64, 64, 30]), torch.tensor([23, 40, 64, 64]),
                     torch.tensor([False, True, True, False]), 64, 64, 8),
        "pil_taps:past": (torch.tensor([64, 64]), torch.tensor([70, 0]), torch.tensor([True, False]), 64, 64, 8),
        "resize_u8": (jp_in[:3], rs_idx, rs_w, 0),  # H != W, indices past both sides (clamped)
        "resize_u8:round": (jp_in[:3, :2].contiguous(), rs_idx_wide, rs_w_wide, 1),
        "resize_u8:no_rows": (jp_in[:3, :, :0], rs_idx, rs_w, 0),
        # xray_blend: blob masks (one of them touching the frame), an empty one and a 1-pixel image
        "xray_blend": (torch.cat([img, src], 1), torch.cat([m[:2], torch.zeros(1, 1, S, S)]), m.clone()),
        "xray_blend:pixel": (torch.cat([img, src], 1)[:, :, :1, :1].contiguous(), m[:, :, 20:21, 30:31].contiguous(),
                             torch.rand(3, 1, 1, 1, generator=g)),
        "jpeg_round_trip": (jp_in, jp_q, jp_sel, False),
        "jpeg_round_trip:bgr": (jp_in[:, :, :32, :48].contiguous(), torch.tensor([60, 250, -3, 95]), jp_sel.flip(0),
                                True),
        "jpeg_round_trip:pixel": (jp_in[:2, :, :1, :1].contiguous(), jp_q[:2], jp_sel[:2], True),
        "jpeg_round_trip:none": (jp_in[:0], jp_q[:0], jp_sel[:0], False),
        "fraction_inside": (torch.cat([m, odd[:3]]), torch.tensor([[[1.3, 0.4, -20.0], [-0.4, 1.3, 5.0]]] * 6), 4),
        "fraction_inside:one": (m, torch.tensor([[[0.5, 0.0, 40.0], [0.0, 0.5, 2.0]]] * 3), 1),
        "deform_mask": (m, torch.trunc(torch.randn(3, 5, 5, 2, generator=g) * 8)),
        "morph_square": (m, torch.tensor([0, 1, 2]), torch.tensor([3, 19, 5])),
        "morph_square:odd_k": (m, torch.tensor([1, 0, 1]), torch.tensor([-3, 2, 1001])),  # none, k - 1, all
        "warp_affine_cubic": (torch.cat([src.float(), m], 1),
                              torch.tensor([[[1.3, 0.4, -20.0], [-0.4, 1.3, 5.0]]] * 3), box),
        "warp_affine_cubic:u8": (src, torch.tensor([[[0.8, -0.3, 30.0], [0.3, 0.8, -9.0]]] * 3), box),
        "rgb_to_lab": (img,),
        "lab_to_rgb": (torch.rand(3, 3, S, S, generator=g) * 300 - 20,),
        "blur_in_box": (torch.cat([img.float(), src.float()], 1), gaussian_kernels(k, 21), k // 2, box),
        "blur_in_box:u8": (torch.cat([img, src], 1), gaussian_kernels(k, 21), k // 2, box),  # rounded to uint8
        "resample_taps": (rs_in, rs_idx, rs_w, 2),
        "resample_taps:cols": (rs_in, rs_idx_wide, rs_w_wide, 3),
        "resample_taps:empty_axis": (torch.zeros(2, 3, 0, 5), torch.zeros(2, 4, 2, dtype=torch.int64),
                                     torch.ones(2, 4, 2), 2),
        "gaussian_filter": (gf_in, gf_taps, 50.0),
        "gaussian_filter:tiny": (gf_in[:1, :2, 3:8, 7:16].contiguous(), gf_taps, 50.0),  # R = 28 > H = 5, W = 9
        "gaussian_filter:line": (gf_in[:, :, :, :1].contiguous(), gf_taps[:4], -2.0),  # W = 1
        "gaussian_filter:centre": (gf_in, torch.tensor([1.5]), 0.5),  # R = 0
        "gaussian_filter:empty": (torch.zeros(2, 3, 0, 5), gf_taps, 1.0),
        "hsv_shift": (hsv_in, hsv_shifts, 32),
        "hsv_shift:no_block": (img, torch.tensor([[0.2, -0.3, -0.1]] * 3), 0),  # every column rounds
        "sbi_quality": (sbi_in, sbi_shifts, sbi_coeffs, sbi_branch, 32),
        "sbi_quality:no_block": (sbi_in, sbi_shifts, sbi_coeffs, sbi_branch.roll(2), 0),
        "sbi_quality:tiny": (sbi_tiny, sbi_shifts[3:], sbi_coeffs[3:], torch.tensor([4, 2, 1, 4]), 2),
        "sbi_quality:line": (sbi_line, sbi_shifts[4:], sbi_coeffs[4:], torch.tensor([1, 2, 4]), 64),
        "sbi_quality:row": (sbi_line.transpose(2, 3).contiguous(), sbi_shifts[:3], sbi_coeffs[:3],
                            torch.tensor([1, 2, 4]), 64),
        "uniform_noise": (un_seeds, 3, 37, 53),
        "uniform_noise:one": (un_seeds[4:5], 1, 1, 1),
        "uniform_noise:empty": (un_seeds[:2], 3, 0, 5),
        "uniform_noise:no_samples": (un_seeds[:0], 2, 3, 3),
        "remap_nearest": (rm_in, rm_map, rm_cols, rm_rows, True),
        "remap_nearest:absolute": (rm_in, rm_abs, rm_cols, rm_rows, False),
        "remap_nearest:identity": (rm_in[:, :1].contiguous(), rm_map, rm_id_cols, rm_id_rows, True),  # 1 channel
        "remap_nearest:identity_abs": (rm_in[:, 1:2].contiguous(), rm_abs, rm_id_cols, rm_id_rows, False),
        "remap_nearest:one_entry": (rm_in, rm_map[:, :, :9, :11].contiguous(), torch.tensor([[7], [0], [60]]),
                                    torch.tensor([[3], [36], [10]]), True),  # tables of length 1 (60: outside)
        "remap_nearest:no_rows": (torch.zeros(3, 3, 0, 53), rm_abs, rm_cols, rm_rows, False),  # reads the border
        "remap_nearest:empty": (rm_in, torch.zeros(3, 2, 0, 6), rm_cols[:, :0], rm_rows[:, :0], True),
        "warp_linear_u8": (wl_in, *wl_cols, *wl_rows),
        "warp_linear_u8:arbitrary": (wl_in[:, :1].contiguous(), *wl_any_cols, *wl_any_rows),  # 1 channel
        "warp_linear_u8:mixed": (wl_in, *wl_any_cols, *wl_rows),
        "warp_linear_u8:one_pixel": (wl_in[:, :, :1, :1].contiguous(), *wl_px_cols, *wl_px_rows),  # 1x1 input
        "warp_linear_u8:one_out": (wl_in, wl_any_cols[0][:, 1:2].contiguous(), wl_any_cols[1][:, 1:2].contiguous(),
                                   wl_rows[0][:, :1].contiguous(), wl_rows[1][:, :1].contiguous()),  # 1x1 output
        "warp_linear_u8:no_rows": (wl_in[:, :, :0].contiguous(), *wl_cols, *wl_rows),  # H = 0: zeros
        "warp_linear_u8:no_cols": (wl_in[:, :1, :, :0].contiguous(), *wl_cols, *wl_any_rows),  # W = 0: zeros
        "warp_linear_u8:empty": (wl_in, *wl_cols, wl_rows[0][:, :0], wl_rows[1][:, :0]),  # Ho = 0
        "warp_linear_u8:no_samples": (wl_in[:0], wl_cols[0][:0], wl_cols[1][:0], wl_rows[0][:0], wl_rows[1][:0]),
        "piecewise_affine_grid": (pw_tx, pw_ty, pw_step, pw_main, 256),
        "piecewise_affine_grid:one": (pw_tx, pw_ty, pw_step, pw_main, 1),  # a 1x1 canvas
        "piecewise_affine_grid:two": (pw_tx[:3], pw_ty[:3], torch.tensor([0.5, 1.0, 2 / 3]), pw_main[:3], 2),
        "piecewise_affine_grid:seven": (pw_tx[1:], pw_ty[1:], torch.tensor([2.0, 2.5, 7 / 3]), pw_main[1:], 7),
        "piecewise_affine_grid:clamp": (pw_any_tx, pw_any_ty, pw_any_step, pw_any_main, 23),
        "piecewise_affine_grid:all_main": (pw_any_tx, pw_any_ty, pw_any_step.roll(1), pw_all, 19),
        "piecewise_affine_grid:no_main": (pw_any_tx, pw_any_ty, pw_any_step.roll(2), ~pw_all, 19),
        "piecewise_affine_grid:no_samples": (pw_tx[:0], pw_ty[:0], pw_step[:0], pw_main[:0], 256),
        "color_stats": (src, img, m, torch.tensor([0, 1, 2]), torch.tensor([[0, 0, S, S], [5, 6, 30, 20],
                                                                           [-3, 40, 90, 0]])),
        "color_apply": (src, img, m, torch.tensor([0, 3, 3]), color_stats_for(src, img, m),
                        torch.randint(0, 256, (2, 6, S, S), generator=g, dtype=torch.uint8),
                        torch.tensor([-1, 1, 7])),  # 7: out of range
        # no rows / no columns: a launch grid of x = 0 is an invalid configuration on a GPU
        "color_stats:no_rows": (src[:, :, :0], img[:, :, :0], m[:, :, :0], torch.tensor([0, 1, 2]),
                                torch.tensor([[0, 0, S, 0]] * 3)),
        "color_stats:no_columns": (src[..., :0], img[..., :0], m[..., :0], torch.tensor([0, 1, 2]),
                                   torch.tensor([[0, 0, 0, S]] * 3)),
        "color_apply:no_columns": (src[..., :0], img[..., :0], m[..., :0], torch.tensor([0, 1, 2]),
                                   color_stats_for(src, img, m), torch.zeros(1, 6, S, 0, dtype=torch.uint8),
                                   torch.tensor([0, 0, 0])),
    }
    return {name: tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in v) for name, v in args.items()}


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    ap.add_argument("--backend", default="kernel", choices=["kernel", "jit"],
                    help="compiled sladd_fast._C or the NVRTC JIT (CUDA only)")
    ap.add_argument("--ops", default=None,
                    help="comma-separated op names to run (default: all), e.g. poisson_solve for racecheck")
    args = ap.parse_args(argv)
    dev = check_device(ap, args)
    if args.backend == "jit" and (dev.type != "cuda" or not _jit.available()):
        ap.error("--backend jit needs a CUDA device and CuPy")
    if args.backend == "kernel" and not (_ext.has_cuda_ops() if dev.type == "cuda" else _ext.has_ops()):
        ap.error(f"--backend kernel: sladd_fast._C has no {dev.type} kernels (build it first)")
    with ops.use_backend(args.backend, dev.type):  # through the dispatcher, as the engine calls them
        wanted = set(args.ops.split(",")) if args.ops else None
        if wanted and not wanted <= set(ops._library.SCHEMAS):
            ap.error(f"--ops: unknown op(s) {sorted(wanted - set(ops._library.SCHEMAS))}")
        for name, a in calls(dev).items():
            if wanted and name.split(":")[0] not in wanted:
                continue
            out = getattr(torch.ops.sladd_fast, name.split(":")[0])(*a)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            outs = (out,) if isinstance(out, torch.Tensor) else out  # similarity_align returns three
            print(f"{name}: " + ", ".join(f"{tuple(o.shape)} {o.dtype}" for o in outs))
    print("all ops ran")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
