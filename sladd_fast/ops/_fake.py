"""Fake (meta) kernels for the sladd_fast ops: output shapes without data, so torch.compile and
FakeTensor tracing can see through them (checked by torch.library.opcheck in the tests)."""
from __future__ import annotations

import torch


def register() -> None:
    """Registers every op's fake kernel once (after ops/_library.py has defined the schemas)."""
    lib = "sladd_fast::"

    @torch.library.register_fake(lib + "region_mask")
    def _(landmarks, region, size):
        return landmarks.new_empty(landmarks.shape[0], 1, size, size)

    @torch.library.register_fake(lib + "hull_mask")
    def _(landmarks, size):  # [B,K,2] or [B,P,K,2]: one mask per sample
        return landmarks.new_empty(landmarks.shape[0], 1, size, size)

    @torch.library.register_fake(lib + "poisson_rhs")
    def _(target, source, mask, roi):
        B, C, H, W = target.shape
        return mask.new_empty(B, C, H - 2, W - 2)

    @torch.library.register_fake(lib + "box_of")
    def _(on, exclude_frame):
        return on.new_empty(on.shape[0], 4, dtype=torch.int64)

    @torch.library.register_fake(lib + "similarity_align")
    def _(source_landmarks, target_landmarks):
        B = source_landmarks.shape[0]
        return (source_landmarks.new_empty(B, 2, 3), source_landmarks.new_empty(B, 2, 3),
                source_landmarks.new_empty(B, dtype=torch.bool))

    @torch.library.register_fake(lib + "skimage_taps")
    def _(n_in, n_out, canvas_out, radius):
        shape = (n_in.shape[0], canvas_out, 2 * (2 * radius + 1))
        return n_in.new_empty(shape), n_in.new_empty(shape, dtype=torch.float32)

    @torch.library.register_fake(lib + "pil_taps")
    def _(n_in, n_out, nearest, canvas_in, canvas_out, span):
        shape = (n_in.shape[0], canvas_out, span)
        return n_in.new_empty(shape), n_in.new_empty(shape, dtype=torch.float32)

    @torch.library.register_fake(lib + "resize_u8")
    def _(input, index, weight, mode):
        return input.new_empty(input.shape[0], input.shape[1], index.shape[1], index.shape[1])

    @torch.library.register_fake(lib + "xray_blend")
    def _(both, mask, weight):
        return both.new_empty(both.shape[0], 3, both.shape[2], both.shape[3])

    @torch.library.register_fake(lib + "jpeg_round_trip")
    def _(images, quality, select, bgr):
        return images.new_empty(images.shape)  # contiguous, as the kernels return it

    @torch.library.register_fake(lib + "fraction_inside")
    def _(mask, map, cell):
        return mask.new_empty(mask.shape[0])

    @torch.library.register_fake(lib + "affine_reach_box")
    def _(box, map, size):
        return torch.empty_like(box)

    @torch.library.register_fake(lib + "rgb_to_lab")
    def _(rgb):
        return rgb.new_empty(rgb.shape, dtype=torch.float32)

    @torch.library.register_fake(lib + "lab_to_rgb")
    def _(lab):
        return lab.new_empty(lab.shape, dtype=torch.uint8)

    @torch.library.register_fake(lib + "color_stats")
    def _(fake, real, mask, mode, box):
        return fake.new_empty(fake.shape[0], 25, dtype=torch.float64)  # kColorStats

    @torch.library.register_fake(lib + "resample_taps")
    def _(input, index, weight, axis):
        # The checks of csrc/checks.h that decide the shape, so a traced call fails where the kernel would.
        torch._check(input.dim() == 4 and index.dim() == 3, lambda: "resample_taps: input [B,C,H,W], index [B,O,T]")
        torch._check(axis in (2, 3), lambda: f"resample_taps: axis must be 2 (rows) or 3 (columns), got {axis}")
        torch._check(weight.shape == index.shape, lambda: "resample_taps: weight must match index [B,O,T]")
        B, C, H, W = input.shape
        torch._check(index.shape[0] == B, lambda: "resample_taps: index must be [B,O,T] with input's B")
        O = index.shape[1]
        return input.new_empty(B, C, O, W) if axis == 2 else input.new_empty(B, C, H, O)

    @torch.library.register_fake(lib + "hsv_shift")
    def _(rgb, shifts, block):
        # The checks of csrc/checks.h (check_hsv_shift), so a traced call fails where the kernel would.
        torch._check(rgb.dtype == torch.uint8 and shifts.dtype == torch.float32,
                     lambda: "hsv_shift: rgb uint8 [B,3,H,W], shifts float32 [B,3]")
        torch._check(rgb.dim() == 4 and rgb.shape[1] == 3, lambda: "hsv_shift: rgb must be [B,3,H,W]")
        torch._check(shifts.dim() == 2 and shifts.shape[0] == rgb.shape[0] and shifts.shape[1] == 3,
                     lambda: "hsv_shift: shifts must be [B,3] with rgb's B")
        torch._check(block >= 0, lambda: f"hsv_shift: block must be >= 0, got {block}")
        return rgb.new_empty(rgb.shape)

    @torch.library.register_fake(lib + "gaussian_filter")
    def _(input, taps, scale):
        # check_gaussian_filter (csrc/checks.h).
        torch._check(input.dtype == torch.float32 and taps.dtype == torch.float32,
                     lambda: "gaussian_filter: input and taps float32")
        torch._check(input.dim() == 4, lambda: "gaussian_filter: input must be [B,C,H,W]")
        torch._check(taps.dim() == 1 and 1 <= taps.shape[0] <= 1 << 20,
                     lambda: "gaussian_filter: taps must be [R+1], R < 2^20")
        return torch.empty_like(input)

    @torch.library.register_fake(lib + "sbi_quality")
    def _(rgb, shifts, coeffs, branch, block):
        # check_sbi_quality (csrc/checks.h).
        torch._check(rgb.dtype == torch.uint8 and shifts.dtype == torch.float32 and coeffs.dtype == torch.float32
                     and branch.dtype == torch.int64,
                     lambda: "sbi_quality: rgb uint8, shifts and coeffs float32, branch int64")
        torch._check(rgb.dim() == 4 and rgb.shape[1] == 3, lambda: "sbi_quality: rgb must be [B,3,H,W]")
        B = rgb.shape[0]
        torch._check(shifts.dim() == 2 and shifts.shape[0] == B and shifts.shape[1] == 3,
                     lambda: "sbi_quality: shifts must be [B,3] with rgb's B")
        torch._check(coeffs.dim() == 2 and coeffs.shape[0] == B and coeffs.shape[1] == 8,
                     lambda: "sbi_quality: coeffs must be [B,8] with rgb's B")
        torch._check(branch.dim() == 1 and branch.shape[0] == B, lambda: "sbi_quality: branch must be [B]")
        torch._check(block >= 0, lambda: f"sbi_quality: block must be >= 0, got {block}")
        return rgb.new_empty(rgb.shape)

    @torch.library.register_fake(lib + "uniform_noise")
    def _(seeds, channels, height, width):
        # check_uniform_noise (csrc/checks.h).
        torch._check(seeds.dtype == torch.int64 and seeds.dim() == 1, lambda: "uniform_noise: seeds must be int64 [B]")
        torch._check(channels >= 0 and height >= 0 and width >= 0,
                     lambda: "uniform_noise: channels, height and width must be >= 0")
        torch._check(channels * height * width <= 1 << 32, lambda: "uniform_noise: at most 2^32 values per sample")
        return seeds.new_empty(seeds.shape[0], channels, height, width, dtype=torch.float32)

    @torch.library.register_fake(lib + "piecewise_affine_grid")
    def _(tx, ty, step, main, canvas):
        # check_piecewise_affine_grid (csrc/checks.h).
        torch._check(tx.dtype == torch.float32 and ty.dtype == torch.float32 and step.dtype == torch.float32
                     and main.dtype == torch.bool, lambda: "piecewise_affine_grid: tx, ty, step float32, main bool")
        torch._check(tx.dim() == 3 and tuple(tx.shape[1:]) == (4, 4) and ty.shape == tx.shape,
                     lambda: "piecewise_affine_grid: tx and ty must be [B,4,4]")
        B = tx.shape[0]
        torch._check(step.dim() == 1 and step.shape[0] == B and main.dim() == 2 and main.shape[0] == B
                     and main.shape[1] == 9, lambda: "piecewise_affine_grid: step [B], main [B,9]")
        torch._check(1 <= canvas <= 46340, lambda: f"piecewise_affine_grid: canvas must be in [1, 46340], got {canvas}")
        return tx.new_empty(B, canvas, canvas, 2)

    @torch.library.register_fake(lib + "warp_linear_u8")
    def _(input, col_index, col_weight, row_index, row_weight):
        # check_warp_linear_u8 (csrc/checks.h).
        torch._check(input.dtype == torch.uint8 and all(t.dtype == torch.int64 for t in
                                                        (col_index, col_weight, row_index, row_weight)),
                     lambda: "warp_linear_u8: input uint8, taps int64")
        torch._check(input.dim() == 4 and col_index.dim() == 3 and row_index.dim() == 3,
                     lambda: "warp_linear_u8: input [B,C,H,W], taps [B,n,2]")
        B = input.shape[0]
        torch._check(col_index.shape[0] == B and col_index.shape[2] == 2 and row_index.shape[0] == B
                     and row_index.shape[2] == 2, lambda: "warp_linear_u8: taps must be [B,n,2] with input's B")
        torch._check(col_weight.shape == col_index.shape and row_weight.shape == row_index.shape,
                     lambda: "warp_linear_u8: weights must match their indices")
        return input.new_empty(B, input.shape[1], row_index.shape[1], col_index.shape[1])

    @torch.library.register_fake(lib + "remap_nearest")
    def _(input, map, col_table, row_table, relative):
        # check_remap_nearest (csrc/checks.h).
        torch._check(input.dtype == torch.float32 and map.dtype == torch.float32 and col_table.dtype == torch.int64
                     and row_table.dtype == torch.int64,
                     lambda: "remap_nearest: input and map float32, col_table and row_table int64")
        torch._check(input.dim() == 4 and map.dim() == 4 and col_table.dim() == 2 and row_table.dim() == 2,
                     lambda: "remap_nearest: input [B,C,H,W], map [B,2,Ho,Wo], tables [B,n]")
        B = input.shape[0]
        torch._check(map.shape[0] == B and map.shape[1] == 2, lambda: "remap_nearest: map must be [B,2,Ho,Wo]")
        torch._check(col_table.shape[0] == B and row_table.shape[0] == B,
                     lambda: "remap_nearest: tables must be [B,n] with input's B")
        return input.new_empty(B, input.shape[1], map.shape[2], map.shape[3])

    # These return a tensor shaped like their first argument.
    for name in ("blend_linear", "poisson_compose", "poisson_solve", "deform_mask", "morph_square",
                 "warp_affine_cubic", "blur_in_box", "color_apply", "hull_feather"):
        torch.library.register_fake(lib + name)(lambda first, *rest: torch.empty_like(first))
