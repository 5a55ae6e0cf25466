"""CUDA kernels with no build step: NVRTC-compiles csrc/cuda/kernels.cu through CuPy at first use.

Why CuPy RawModule rather than torch.utils.cpp_extension.load: NVRTC needs no host compiler, no
torch CUDA headers and no ninja, compiles the kernel file in about a second, and the kernels are
plain extern "C" functions over raw pointers, so torch tensors are passed by data_ptr and launched on
torch's current stream. The same kernels.cuh is what setup.py compiles with nvcc, and the launch
geometry and scratch sizes are read from the same headers (cuda/launch.h, common/*_math.h).
The sources come from the installed package (setup.py copies them into sladd_fast/csrc) or from
the checkout, so this works from a wheel too.
"""
from __future__ import annotations

import functools
import os
import re
from typing import Any

import torch

_HERE = os.path.dirname(os.path.abspath(__file__))


def csrc_dir() -> str:
    """The kernel sources: SLADD_FAST_CSRC, else the copy inside an installed package, else the
    checkout's csrc/."""
    env = os.environ.get("SLADD_FAST_CSRC")
    if env:
        return env
    packaged = os.path.join(_HERE, "csrc")
    if os.path.exists(os.path.join(packaged, "cuda", "kernels.cu")):
        return packaged
    return os.path.join(os.path.dirname(_HERE), "csrc")


@functools.lru_cache(maxsize=None)
def constants(root: str | None = None) -> dict[str, int]:
    """The integer constexprs (kThreads, kMaxGridYZ, scratch sizes, input limits, ...) of cuda/launch.h and
    the common/*_math.h headers listed below: the launch geometry, input limits and scratch sizes,
    written once in C++."""
    root = root or csrc_dir()
    out: dict[str, int] = {}
    for rel in (("cuda", "launch.h"), ("common", "geometry.h"), ("common", "region_math.h"),
                ("common", "color_transfer_math.h"), ("common", "feather_math.h"), ("common", "hull_math.h"),
                ("common", "sbi_quality_math.h"), ("common", "warp_u8_math.h"), ("common", "piecewise_math.h"),
                ("common", "dst_math.h"), ("common", "box_math.h"), ("common", "align_math.h"),
                ("common", "jpeg_math.h"), ("common", "resample_math.h"),
                ("common", "xray_math.h")):
        with open(os.path.join(root, *rel)) as f:
            for name, value in re.findall(r"constexpr\s+(?:int|long long)\s+(k\w+)\s*=\s*(\d+)\s*;", f.read()):
                out[name] = int(value)
    return out


@functools.lru_cache(maxsize=None)
def available() -> bool:
    """True if CuPy sees a CUDA device and the kernel sources are present."""
    try:
        import cupy
    except ImportError:
        return False
    try:
        ok = cupy.cuda.is_available()
    except Exception:  # driver missing or broken
        return False
    return bool(ok) and os.path.exists(os.path.join(csrc_dir(), "cuda", "kernels.cu"))


# --fmad=false: no a*b+c contraction, so device arithmetic rounds like the host's (the CPU kernels).
NVRTC_OPTIONS = ("-std=c++17", "--fmad=false")


def _source_hash(root: str) -> str:
    """Hash of every file the kernels include. CuPy keys its on-disk cache on the source string only,
    and kernels.cu just #includes the rest, so the hash goes into the source to invalidate it."""
    import glob
    import hashlib

    h = hashlib.sha256()
    sources = (glob.glob(os.path.join(root, "cuda", "kernels.cu*")) + glob.glob(os.path.join(root, "cuda", "*.h"))
               + glob.glob(os.path.join(root, "common", "*.h")))  # cuda/launch.h: kThreads sizes shared arrays
    for path in sorted(sources):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def jit_source() -> tuple[str, tuple[str, ...]]:
    """(source, NVRTC options) exactly as the JIT path compiles them (CI compiles these too)."""
    root = csrc_dir()
    with open(os.path.join(root, "cuda", "kernels.cu")) as f:
        code = f"// sources sha256 {_source_hash(root)}\n" + f.read()
    return code, NVRTC_OPTIONS + (f"-I{os.path.join(root, 'cuda')}",)


@functools.lru_cache(maxsize=None)
def _module() -> Any:
    import cupy

    code, options = jit_source()
    module = cupy.RawModule(code=code, options=options)
    module.compile()
    return module


@functools.lru_cache(maxsize=None)
def _kernel(name: str, device_index: int) -> Any:
    import cupy

    with cupy.cuda.Device(device_index):
        return _module().get_function(name)


def _launch(name: str, n: int, samples: int, args: tuple, device: torch.device, channels: int = 1) -> None:
    """grid = (ceil(n / kThreads), samples, channels): blockIdx.y = sample, blockIdx.z = channel
    (cuda/launch.h, as bindings.cu launches them). ``device``: the arguments' device (the launchers
    check that every tensor is on it), which must be a CUDA device: the kernels dereference the raw
    pointers."""
    if device.type != "cuda":
        raise ValueError(f"the NVRTC kernels take CUDA tensors, got tensors on {device}")
    import cupy

    if n == 0 or samples == 0 or channels == 0:
        return
    c = constants()
    threads, max_yz = c["kThreads"], c["kMaxGridYZ"]
    if samples > max_yz or channels > max_yz:
        raise ValueError(f"sladd_fast CUDA ops take at most {max_yz} samples and channels per call, "
                         f"got {samples} x {channels}")
    index = device.index if device.index is not None else torch.cuda.current_device()
    kernel = _kernel(name, index)
    with cupy.cuda.Device(index), _cupy_stream(index, torch.cuda.current_stream(device).cuda_stream):
        kernel(((n + threads - 1) // threads, samples, channels), (threads,), args)


@functools.lru_cache(maxsize=64)
def _cupy_stream(index: int, handle: int) -> Any:
    """CuPy's view of torch's stream ``handle`` on device ``index``, made once per stream (not per
    launch). CuPy 14 marks ExternalStream deprecated (Stream.from_external wants an object with
    __cuda_stream__, which torch 2.11's streams may lack): its warning is silenced here, once."""
    import warnings

    import cupy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return cupy.cuda.ExternalStream(handle, index)


def _ptr(t: torch.Tensor) -> int:
    return t.data_ptr()


_INT32_MAX = 2**31 - 1  # the kernels take sizes as int (csrc/checks.h kInt32Max)


MAX_REFLECT_SIDE = 2**30 - 1  # csrc/checks.h kMaxReflectSide: a reflected border's period 2n fits int


def _check_int32(op: str, limit: int = _INT32_MAX, **sizes: int) -> None:
    """Sizes the kernels take as int, at most ``limit`` (the limits of csrc/checks.h)."""
    for name, v in sizes.items():
        if v > limit:
            raise ValueError(f"{op}: {name} must be at most {limit} (the kernels index with int32), got {v}")


def _check_roi(roi: torch.Tensor, target: torch.Tensor) -> None:
    """csrc/checks.h check_roi: int64 [B,6] on the target's device."""
    from sladd_fast.ops import _checks

    _checks.tensor("roi", roi, torch.int64, (target.shape[0], 6))
    _checks.same_device(target=target, roi=roi)


def region_mask(landmarks: torch.Tensor, region: torch.Tensor, size: int) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.landmarks("landmarks", landmarks, 68, check_values=False)  # raw pointers: as csrc/checks.h
    _checks.tensor("region", region, torch.int64, (landmarks.shape[0],))
    _checks.size("size", size)
    _checks.same_device(landmarks=landmarks, region=region)  # raw pointers: one device
    lm, reg = landmarks.contiguous(), region.contiguous()
    B = lm.shape[0]
    out = torch.empty(B, 1, size, size, device=lm.device, dtype=torch.float32)
    c = constants()
    prims = c["kMaxPrimitives"]
    spans = torch.empty(B, prims, c["kSpanRows"], size, device=lm.device, dtype=torch.int32)  # as bindings.cu
    args = (_ptr(lm), _ptr(reg), _ptr(spans), np.int32(size))
    _launch("sladd_region_lines_kernel", prims, B, args, lm.device)
    _launch("sladd_region_dilate_kernel", prims * size, B, args, lm.device)
    _launch("sladd_region_fill_kernel", size * size, B, (_ptr(spans), _ptr(out), np.int32(size)), lm.device)
    return out


def hull_mask(landmarks: torch.Tensor, size: int) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    c = constants()
    _checks.hull_landmarks(landmarks, c["kMaxHullInput"])  # raw pointers: as csrc/checks.h
    _checks.size("size", size)
    lm = landmarks.contiguous()
    B, K = lm.shape[0], lm.shape[-2]
    P = lm.shape[1] if lm.dim() == 4 else 1
    N = B * P  # hulls, P per sample
    out = torch.empty(B, 1, size, size, device=lm.device, dtype=torch.float32)
    if B == 0:
        return out
    # As bindings.cu: the hulls' scratch (common/hull_math.h), written once by pass 1, read by passes 2 and 3.
    points = torch.empty(N, c["kHullPointsPerInput"] * K + c["kHullPointSlack"], 2, device=lm.device,
                         dtype=torch.int64)
    vertices = torch.empty(N, c["kHullVertexRows"], K + c["kHullVertexSlack"], device=lm.device, dtype=torch.int64)
    meta = torch.empty(N, c["kHullMetaFields"], device=lm.device, dtype=torch.int32)
    spans = torch.empty(N, c["kHullSpanRows"], size, device=lm.device, dtype=torch.int32)
    dims = (np.int32(N), np.int32(K), np.int32(size))
    _launch("sladd_hull_spans_kernel", N, 1, (_ptr(lm), _ptr(points), _ptr(vertices), _ptr(meta), _ptr(spans)) + dims,
            lm.device)
    _launch("sladd_hull_fill_kernel", size * size, B, (_ptr(spans), _ptr(out), np.int32(size), np.int32(P)),
            lm.device)
    _launch("sladd_hull_edges_kernel", N, 1, (_ptr(vertices), _ptr(meta), _ptr(out)) + dims + (np.int32(P),),
            lm.device)
    return out


def hull_feather(mask: torch.Tensor, frac: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("mask", mask, torch.float32, (None, 1, None, None))  # raw pointers: a wrong dtype would be misread
    _checks.tensor("frac", frac, torch.float32, (mask.shape[0],))
    _checks.same_device(mask=mask, frac=frac)
    c = constants()
    _check_int32("hull_feather", W=mask.shape[3])
    _check_int32("hull_feather", (_INT32_MAX - c["kFeatherHullSlack"]) // c["kFeatherEndsPerRow"], H=mask.shape[2])
    m, fr = mask.contiguous(), frac.contiguous()
    B, _, H, W = m.shape
    out = torch.empty_like(m)
    if m.numel() == 0:
        return out
    cap = c["kFeatherEndsPerRow"] * H + c["kFeatherHullSlack"]
    ends, hull = (torch.empty(B, cap, 2, device=m.device, dtype=torch.int64) for _ in range(2))  # as bindings.cu
    count = torch.empty(B, device=m.device, dtype=torch.int32)
    f = torch.empty(B, device=m.device, dtype=torch.float32)
    _launch("sladd_hull_feather_rows_kernel", H, B, (_ptr(m), _ptr(ends), np.int32(H), np.int32(W)), m.device)
    _launch("sladd_hull_feather_hull_kernel", B, 1,
            (_ptr(ends), _ptr(fr), _ptr(hull), _ptr(count), _ptr(f), np.int32(B), np.int32(H)), m.device)
    _launch("sladd_hull_feather_weight_kernel", H * W, B,
            (_ptr(m), _ptr(hull), _ptr(count), _ptr(f), _ptr(out), np.int32(H), np.int32(W)), m.device)
    return out


def blend_linear(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.images(target, source, mask)  # raw pointers: as csrc/checks.h
    _checks.tensor("weight", weight, torch.float32, (target.shape[0],))
    _checks.same_device(target=target, weight=weight)
    t, s, m, w = target.contiguous(), source.contiguous(), mask.contiguous(), weight.contiguous()
    out = torch.empty_like(t)
    B, C, H, W = t.shape
    _launch("sladd_blend_linear_kernel", H * W, B,
            (_ptr(t), _ptr(s), _ptr(m), _ptr(w), _ptr(out), np.int32(C), np.int64(H * W)), t.device, C)
    return out


def poisson_rhs(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.images(target, source, mask)  # raw pointers: as csrc/checks.h
    _check_roi(roi, target)
    if target.shape[2] < 3 or target.shape[3] < 3:
        raise ValueError(f"poisson_rhs needs H, W >= 3, got {list(target.shape)}")
    _check_int32("poisson_rhs", C_H_W=max(target.shape[1], 1) * target.shape[2] * target.shape[3])
    t, s, m, r = target.contiguous(), source.contiguous(), mask.contiguous(), roi.contiguous()
    B, C, H, W = t.shape
    eroded = torch.zeros(B, H, W, device=t.device, dtype=torch.uint8)
    rhs = torch.zeros(B, C, H - 2, W - 2, device=t.device, dtype=torch.float32)
    _launch("sladd_poisson_erode_kernel", H * W, B,
            (_ptr(m), _ptr(r), _ptr(eroded), np.int32(H), np.int32(W)), t.device)
    _launch("sladd_poisson_rhs_kernel", (H - 2) * (W - 2), B,
            (_ptr(t), _ptr(s), _ptr(m), _ptr(eroded), _ptr(r), _ptr(rhs), np.int32(C), np.int32(H), np.int32(W)),
            t.device, C)
    return rhs


def poisson_compose(target: torch.Tensor, solution: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("target", target, torch.uint8, (None, None, None, None))  # raw pointers: as csrc/checks.h
    B, C, H, W = target.shape
    if H < 3 or W < 3:
        raise ValueError(f"poisson_compose needs H, W >= 3, got {list(target.shape)}")
    _check_int32("poisson_compose", C_H_W=max(C, 1) * H * W)
    _checks.tensor("solution", solution, torch.float32, (B, C, H - 2, W - 2))
    _check_roi(roi, target)
    _checks.same_device(target=target, solution=solution)
    t, u, r = target.contiguous(), solution.contiguous(), roi.contiguous()
    out = torch.empty_like(t)
    _launch("sladd_poisson_compose_kernel", H * W, B,
            (_ptr(t), _ptr(u), _ptr(r), _ptr(out), np.int32(C), np.int32(H), np.int32(W)), t.device, C)
    return out


def similarity_align(source_landmarks: torch.Tensor,
                     target_landmarks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """bindings.cu's similarity_align: one thread per sample (common/align_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.landmarks("source_landmarks", source_landmarks, 68, check_values=False)
    _checks.tensor("target_landmarks", target_landmarks, torch.float32, tuple(source_landmarks.shape))
    _checks.same_device(source_landmarks=source_landmarks, target_landmarks=target_landmarks)
    s, t = source_landmarks.contiguous(), target_landmarks.contiguous()
    B = s.shape[0]
    _check_int32("similarity_align", B=B)
    M, Mi = torch.empty(B, 2, 3, device=s.device), torch.empty(B, 2, 3, device=s.device)
    ok = torch.empty(B, device=s.device, dtype=torch.bool)
    _launch("sladd_similarity_align_kernel", B, 1, (_ptr(s), _ptr(t), _ptr(M), _ptr(Mi), _ptr(ok), np.int32(B)),
            s.device)
    return M, Mi, ok


def _taps_sizes(n_in: torch.Tensor, n_out: torch.Tensor, canvas_out: int, taps: int) -> None:
    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("n_in", n_in, torch.int64, (None,))
    _checks.tensor("n_out", n_out, torch.int64, (n_in.shape[0],))
    _checks.same_device(n_in=n_in, n_out=n_out)
    if not 0 <= canvas_out <= _INT32_MAX or not 1 <= taps <= 65536:
        raise ValueError(f"canvas_out must be in [0, 2^31) and the taps per output in [1, 65536], got "
                         f"{canvas_out} and {taps}")


def skimage_taps(n_in: torch.Tensor, n_out: torch.Tensor, canvas_out: int,
                 radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """bindings.cu's skimage_taps: one thread per (sample, output pixel) (common/taps_math.h)."""
    import numpy as np

    if not 0 <= radius < 16384:
        raise ValueError(f"radius must be in [0, 16384), got {radius}")
    T = 2 * (2 * radius + 1)
    _taps_sizes(n_in, n_out, canvas_out, T)
    a, b = n_in.contiguous(), n_out.contiguous()
    B = a.shape[0]
    index = torch.empty(B, canvas_out, T, device=a.device, dtype=torch.int64)
    weight = torch.empty(B, canvas_out, T, device=a.device, dtype=torch.float32)
    _launch("sladd_skimage_taps_kernel", canvas_out, B,
            (_ptr(a), _ptr(b), _ptr(index), _ptr(weight), np.int32(canvas_out), np.int32(radius)), a.device)
    return index, weight


def pil_taps(n_in: torch.Tensor, n_out: torch.Tensor, nearest: torch.Tensor, canvas_in: int, canvas_out: int,
             span: int) -> tuple[torch.Tensor, torch.Tensor]:
    """bindings.cu's pil_taps: one thread per (sample, output pixel) (common/taps_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _taps_sizes(n_in, n_out, canvas_out, span)
    _checks.tensor("nearest", nearest, torch.bool, (n_in.shape[0],))
    _checks.same_device(n_in=n_in, nearest=nearest)
    if not 1 <= canvas_in <= _INT32_MAX:
        raise ValueError(f"canvas_in must be in [1, 2^31), got {canvas_in}")
    a, b, near = n_in.contiguous(), n_out.contiguous(), nearest.contiguous()
    B = a.shape[0]
    index = torch.empty(B, canvas_out, span, device=a.device, dtype=torch.int64)
    weight = torch.empty(B, canvas_out, span, device=a.device, dtype=torch.float32)
    _launch("sladd_pil_taps_kernel", canvas_out, B,
            (_ptr(a), _ptr(b), _ptr(near), _ptr(index), _ptr(weight), np.int32(canvas_in), np.int32(canvas_out),
             np.int32(span)), a.device)
    return index, weight


def xray_blend(both: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """bindings.cu's xray_blend: a thread per (sample, column) for the sums, one per sample for the shifts,
    one per (sample, pixel) for the blend (common/xray_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("both", both, torch.uint8, (None, 6, None, None))
    B, _, H, W = both.shape
    _checks.tensor("mask", mask, torch.float32, (B, 1, H, W))
    _checks.tensor("weight", weight, torch.float32, (B, 1, H, W))
    _checks.same_device(both=both, mask=mask, weight=weight)
    _check_int32("xray_blend", H=H, W=W)
    x, m, w = both.contiguous(), mask.contiguous(), weight.contiguous()
    out = torch.empty(B, 3, H, W, device=x.device, dtype=torch.uint8)
    if out.numel() == 0:
        return out
    partials = torch.empty(B, W, constants()["kXraySums"], device=x.device, dtype=torch.int64)
    shift = torch.empty(B, 3, device=x.device, dtype=torch.float32)
    _launch("sladd_xray_columns_kernel", W, B, (_ptr(x), _ptr(m), _ptr(partials), np.int32(H), np.int32(W)), x.device)
    _launch("sladd_xray_shift_kernel", 1, B, (_ptr(partials), _ptr(shift), np.int32(W)), x.device)
    _launch("sladd_xray_blend_kernel", H * W, B,
            (_ptr(x), _ptr(m), _ptr(w), _ptr(shift), _ptr(out), np.int32(H), np.int32(W)), x.device)
    return out


def jpeg_round_trip(images: torch.Tensor, quality: torch.Tensor, select: torch.Tensor, bgr: bool) -> torch.Tensor:
    """bindings.cu's jpeg_round_trip: a thread per (sample, table entry) writes the quantisation tables, one
    per (sample, MCU block) codes the blocks into uint8 planes, then one per (sample, pixel) upsamples and
    converts (common/jpeg_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("images", images, torch.uint8, (None, 3, None, None))
    B, _, H, W = images.shape
    _checks.tensor("quality", quality, torch.int64, (B,))
    _checks.tensor("select", select, torch.bool, (B,))
    _checks.same_device(images=images, quality=quality, select=select)
    c = constants()
    mcu = c["kJpegMcu"]
    hp, wp = -(-H // mcu) * mcu, -(-W // mcu) * mcu
    if H < 1 or W < 1 or hp * wp > _INT32_MAX:
        raise ValueError(f"images must be [B,3,H,W] with 1 <= H, W and a padded area under 2^31, got "
                         f"{list(images.shape)}")
    x, q, s = images.contiguous(), quality.contiguous(), select.contiguous()
    out = torch.empty_like(x)
    planes = torch.empty(B, hp * wp * c["kJpegPlaneHalves"] // 2, device=x.device, dtype=torch.uint8)
    tables = torch.empty(B, c["kJpegTables"], device=x.device, dtype=torch.float32)
    sizes = (np.int32(H), np.int32(W), np.int32(hp), np.int32(wp), np.int32(bool(bgr)))
    _launch("sladd_jpeg_tables_kernel", c["kJpegTables"], B, (_ptr(q), _ptr(tables)), x.device)
    _launch("sladd_jpeg_blocks_kernel", (hp // mcu) * (wp // mcu) * c["kJpegBlocksPerMcu"], B,
            (_ptr(x), _ptr(tables), _ptr(s), _ptr(planes)) + sizes, x.device)
    _launch("sladd_jpeg_pixels_kernel", H * W, B, (_ptr(x), _ptr(s), _ptr(planes), _ptr(out)) + sizes, x.device)
    return out


def fraction_inside(mask: torch.Tensor, map: torch.Tensor, cell: int) -> torch.Tensor:
    """bindings.cu's fraction_inside: a thread per (sample, row of cells), then one per sample
    (common/align_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("mask", mask, torch.float32, (None, 1, None, None))
    _checks.tensor("map", map, torch.float32, (mask.shape[0], 2, 3))
    _checks.same_device(mask=mask, map=map)
    B, _, S, W = mask.shape
    if S != W or not 1 <= cell <= _INT32_MAX or S % cell:
        raise ValueError(f"fraction_inside: mask must be square with cell dividing its side, got "
                         f"{list(mask.shape)} and cell {cell}")
    _check_int32("fraction_inside", pixels=S * W)
    m, M = mask.contiguous(), map.contiguous()
    n = S // cell
    out = torch.zeros(B, device=m.device)
    rows = torch.empty(B, n, constants()["kInsideEntries"], device=m.device)
    _launch("sladd_inside_rows_kernel", n, B, (_ptr(m), _ptr(M), _ptr(rows), np.int32(S), np.int32(cell)), m.device)
    _launch("sladd_inside_sum_kernel", 1 if n else 0, B, (_ptr(rows), _ptr(out), np.int32(n)), m.device)
    return out


def affine_reach_box(box: torch.Tensor, map: torch.Tensor, size: int) -> torch.Tensor:
    """bindings.cu's affine_reach_box: one thread per sample (common/align_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("box", box, torch.int64, (None, 4))
    _checks.tensor("map", map, torch.float32, (box.shape[0], 2, 3))
    _checks.same_device(box=box, map=map)
    if not 0 < size <= _INT32_MAX:
        raise ValueError(f"size must be in [1, 2^31), got {size}")
    b, m = box.contiguous(), map.contiguous()
    out = torch.empty_like(b)
    B = b.shape[0]
    _check_int32("affine_reach_box", B=B)
    _launch("sladd_reach_box_kernel", B, 1, (_ptr(b), _ptr(m), _ptr(out), np.int32(size), np.int32(B)), b.device)
    return out


def box_of(on: torch.Tensor, exclude_frame: bool) -> torch.Tensor:
    """bindings.cu's box_of: each column's first and last on row, then one block per sample
    (common/box_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("on", on, torch.bool, (None, None, None))
    m = on.contiguous()
    B, H, W = m.shape
    _check_int32("box_of", H=H, W=W)
    box = torch.empty(B, 4, device=m.device, dtype=torch.int64)
    cols = torch.empty(B, W, constants()["kBoxRowEntries"], device=m.device, dtype=torch.int32)
    _launch("sladd_box_cols_kernel", W, B,
            (_ptr(m), _ptr(cols), np.int32(H), np.int32(W), np.int32(bool(exclude_frame))), m.device)
    # n = kThreads: one block per sample, the reduction's shape
    _launch("sladd_box_reduce_kernel", constants()["kThreads"], B, (_ptr(cols), _ptr(box), np.int32(W)), m.device)
    return box


def poisson_solve(rhs: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    """bindings.cu's poisson_solve: four sladd_dst_pass_kernel passes (common/dst_math.h) over one scratch
    buffer, the output last (its pass writes every element)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("rhs", rhs, torch.float32, (None, None, None, None))
    _checks.tensor("roi", roi, torch.int64, (rhs.shape[0], 6))
    _checks.same_device(rhs=rhs, roi=roi)  # raw pointers: one device
    x, r = rhs.contiguous(), roi.contiguous()
    B, C, Nh, Nw = x.shape
    _check_int32("poisson_solve", constants()["kDstMaxSide"], Nh=Nh, Nw=Nw)
    _check_int32("poisson_solve", plane=Nh * Nw)
    out, tmp = torch.empty_like(x), torch.empty_like(x)
    if x.numel() == 0:
        return out
    c = constants()
    tile = c["kDstTile"]
    tiles = -(-Nh // tile) * -(-Nw // tile)
    passes = ((x, tmp, c["kDstSineLeft"], c["kDstEpiNone"]), (tmp, out, 0, c["kDstEpiEig"]),
              (out, tmp, c["kDstSineLeft"], c["kDstEpiNone"]), (tmp, out, 0, c["kDstEpiScale"]))
    for src, dst, sine_left, epi in passes:
        _launch("sladd_dst_pass_kernel", tiles * c["kThreads"], B,
                (_ptr(src), _ptr(dst), _ptr(r), np.int32(Nh), np.int32(Nw), np.int32(sine_left), np.int32(epi)),
                x.device, C)
    return out


def deform_mask(mask: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("mask", mask, torch.float32, (None, 1, None, None))  # raw pointers: as csrc/checks.h
    if mask.shape[2] != mask.shape[3] or mask.shape[2] < 5:
        raise ValueError(f"mask must be [B,1,S,S] with S >= 5, got {list(mask.shape)}")
    _checks.tensor("noise", noise, torch.float32, (mask.shape[0], 5, 5, 2))
    _checks.same_device(mask=mask, noise=noise)
    _check_int32("deform_mask", plane=mask.shape[-1] ** 2)
    m, n = mask.contiguous(), noise.contiguous()
    out = torch.empty_like(m)
    S = m.shape[-1]
    _launch("sladd_deform_mask_kernel", S * S, m.shape[0], (_ptr(m), _ptr(n), _ptr(out), np.int32(S)), m.device)
    return out


def morph_square(mask: torch.Tensor, op: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("mask", mask, torch.float32, (None, 1, None, None))  # raw pointers: as csrc/checks.h
    _checks.tensor("op", op, torch.int64, (mask.shape[0],))
    _checks.tensor("k", k, torch.int64, (mask.shape[0],))
    _checks.same_device(mask=mask, op=op, k=k)
    _check_int32("morph_square", plane=mask.shape[-2] * mask.shape[-1])
    m, o, kk = mask.contiguous(), op.contiguous(), k.contiguous()
    B, _, H, W = m.shape
    out = torch.empty_like(m)
    rows = torch.empty(B, H, W, device=m.device, dtype=torch.uint8)  # as bindings.cu
    dims = (np.int32(H), np.int32(W))
    _launch("sladd_morph_rows_kernel", H * W, B, (_ptr(m), _ptr(o), _ptr(kk), _ptr(rows)) + dims, m.device)
    _launch("sladd_morph_cols_kernel", H * W, B, (_ptr(m), _ptr(o), _ptr(kk), _ptr(rows), _ptr(out)) + dims, m.device)
    return out


def warp_affine_cubic(input: torch.Tensor, inverse_map: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("box", box, torch.int64, (input.shape[0], 4))  # raw pointers: a wrong dtype would be misread
    if input.dtype not in (torch.float32, torch.uint8):
        raise ValueError(f"input must have dtype torch.float32 or torch.uint8, got {input.dtype}")
    if input.dim() == 4:
        _check_int32("warp_affine_cubic", C=input.shape[1])
        _check_int32("warp_affine_cubic", MAX_REFLECT_SIDE, H=input.shape[2], W=input.shape[3])
    _checks.same_device(input=input, inverse_map=inverse_map, box=box)
    x, mp, bx = input.contiguous(), inverse_map.contiguous(), box.contiguous()
    B, C, H, W = x.shape
    out = torch.empty_like(x)  # uint8 in, uint8 out (saturated), as cv2.warpAffine
    kernel = "sladd_warp_affine_cubic_u8_kernel" if x.dtype == torch.uint8 else "sladd_warp_affine_cubic_kernel"
    _launch(kernel, H * W, B,
            (_ptr(x), _ptr(mp), _ptr(bx), _ptr(out), np.int32(C), np.int32(H), np.int32(W)), x.device)
    return out


def _per_pixel(kernel: str, x: torch.Tensor, in_dtype: torch.dtype, out_dtype: torch.dtype) -> torch.Tensor:
    """A [B,3,H,W] -> [B,3,H,W] kernel with one thread per pixel (rgb_to_lab, lab_to_rgb)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    # The kernels read raw pointers: a wrong dtype or layout is an error here, not a misread (the
    # public wrappers check first; this guards direct calls).
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"input must be [B,3,H,W], got {list(x.shape)}")
    _checks.tensor("input", x, in_dtype, (None, 3, None, None))
    x = x.contiguous()
    out = torch.empty(x.shape, device=x.device, dtype=out_dtype)
    B, _, H, W = x.shape
    _launch(kernel, H * W, B, (_ptr(x), _ptr(out), np.int64(H * W)), x.device)
    return out


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    return _per_pixel("sladd_rgb_to_lab_kernel", rgb, torch.uint8, torch.float32)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    return _per_pixel("sladd_lab_to_rgb_kernel", lab, torch.float32, torch.uint8)


def blur_in_box(input: torch.Tensor, kernels: torch.Tensor, radius: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    B = input.shape[0]
    u8 = isinstance(input, torch.Tensor) and input.dtype == torch.uint8
    for name, t, dtype, shape in (("input", input, torch.uint8 if u8 else torch.float32, (B, None, None, None)),
                                  ("kernels", kernels, torch.float32, (B, None)),
                                  ("radius", radius, torch.int64, (B,)), ("box", box, torch.int64, (B, 4))):
        _checks.tensor(name, t, dtype, shape)  # raw pointers: a wrong dtype would be misread
    _check_int32("blur_in_box", MAX_REFLECT_SIDE, H=input.shape[2], W=input.shape[3])
    _checks.same_device(input=input, kernels=kernels, radius=radius, box=box)
    x, g, r, bx = input.contiguous(), kernels.contiguous(), radius.contiguous(), box.contiguous()
    B, C, H, W = x.shape
    # One channel at a time, as bindings.cu: the horizontal pass' float plane is [B,1,H,W].
    tmp, out = torch.empty(B, 1, H, W, device=x.device, dtype=torch.float32), torch.empty_like(x)
    src = (0, _ptr(x)) if u8 else (_ptr(x), 0)  # (float input, uint8 input): one is null
    dst = (0, _ptr(out)) if u8 else (_ptr(out), 0)
    for c in range(C):
        dims = (np.int32(C), np.int32(c), np.int32(H), np.int32(W), np.int32(g.shape[1]))
        _launch("sladd_blur_rows_kernel", H * W, B, src + (_ptr(g), _ptr(r), _ptr(bx), _ptr(tmp)) + dims, x.device)
        _launch("sladd_blur_cols_kernel", H * W, B, (_ptr(tmp), _ptr(g), _ptr(r), _ptr(bx)) + dst + dims, x.device)
    return out


def resample_taps(input: torch.Tensor, index: torch.Tensor, weight: torch.Tensor, axis: int) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("input", input, torch.float32, (None, None, None, None))  # raw pointers: a wrong dtype is misread
    B = input.shape[0]
    _checks.tensor("index", index, torch.int64, (B, None, None))
    _checks.tensor("weight", weight, torch.float32, tuple(index.shape))
    if axis not in (2, 3):
        raise ValueError(f"axis must be 2 (rows) or 3 (columns), got {axis}")
    _checks.same_device(input=input, index=index, weight=weight)
    _check_int32("resample_taps", H=input.shape[2], W=input.shape[3], O=index.shape[1], T=index.shape[2])
    x, i, w = input.contiguous(), index.contiguous(), weight.contiguous()
    B, C, H, W = x.shape
    O, T = i.shape[1], i.shape[2]
    out = torch.empty((B, C, O, W) if axis == 2 else (B, C, H, O), device=x.device, dtype=torch.float32)
    _launch("sladd_resample_taps_kernel", O * W if axis == 2 else H * O, B,
            (_ptr(x), _ptr(i), _ptr(w), _ptr(out), np.int32(C), np.int32(H), np.int32(W), np.int32(O), np.int32(T),
             np.int32(axis)), x.device, C)
    return out


def resize_u8(input: torch.Tensor, index: torch.Tensor, weight: torch.Tensor, mode: int) -> torch.Tensor:
    """bindings.cu's resize_u8: the columns pass into a float plane, then the rows pass into uint8
    (common/resample_math.h)."""
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("input", input, torch.uint8, (None, None, None, None))  # raw pointers: a wrong dtype is misread
    B = input.shape[0]
    _checks.tensor("index", index, torch.int64, (B, None, None))
    _checks.tensor("weight", weight, torch.float32, tuple(index.shape))
    c = constants()
    if mode not in (c["kResizeFloor"], c["kResizeRound"]):
        raise ValueError(f"mode must be {c['kResizeFloor']} (floor) or {c['kResizeRound']} (round), got {mode}")
    _checks.same_device(input=input, index=index, weight=weight)
    _, C, H, W = input.shape
    O, T = index.shape[1], index.shape[2]
    _check_int32("resize_u8", H=H, W=W, O=O, T=T, HO=H * O, OO=O * O)
    x, i, w = input.contiguous(), index.contiguous(), weight.contiguous()
    out = torch.empty(B, C, O, O, device=x.device, dtype=torch.uint8)
    mid = torch.empty(B, C, H, O, device=x.device, dtype=torch.float32)
    sizes = (np.int32(C), np.int32(H))
    if mid.numel():
        dims = (np.int32(W), np.int32(O), np.int32(T), np.int32(mode))
        _launch("sladd_resize_u8_cols_kernel", H * O, B, (_ptr(x), _ptr(i), _ptr(w), _ptr(mid)) + sizes + dims,
                x.device, C)
    _launch("sladd_resize_u8_rows_kernel", O * O, B,
            (_ptr(mid), _ptr(i), _ptr(w), _ptr(out)) + sizes + (np.int32(O), np.int32(T), np.int32(mode)), x.device, C)
    return out


def gaussian_filter(input: torch.Tensor, taps: torch.Tensor, scale: float) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("input", input, torch.float32, (None,) * 4)  # raw pointers: a wrong dtype would be misread
    _checks.tensor("taps", taps, torch.float32, (None,))
    if taps.shape[0] < 1:
        raise ValueError(f"taps must hold the centre weight at least, got {list(taps.shape)}")
    _checks.same_device(input=input, taps=taps)
    _check_int32("gaussian_filter", H=input.shape[2], W=input.shape[3])
    if taps.shape[0] > 1 << 20:
        raise ValueError(f"taps: at most 2^20 taps (R < 2^20), got {taps.shape[0]}")  # as check_gaussian_filter
    x, w = input.contiguous(), taps.contiguous()
    B, C, H, W = x.shape
    out = torch.empty_like(x)
    tmp = torch.empty_like(x)  # as bindings.cu: the rows pass, read by the columns pass
    dims = (np.int32(C), np.int32(H), np.int32(W), np.int32(w.shape[0] - 1))
    _launch("sladd_gauss_rows_kernel", H * W, B, (_ptr(x), _ptr(w), _ptr(tmp)) + dims, x.device, C)
    _launch("sladd_gauss_cols_kernel", H * W, B, (_ptr(tmp), _ptr(w), _ptr(out)) + dims + (np.float32(scale),),
            x.device, C)
    return out


def hsv_shift(rgb: torch.Tensor, shifts: torch.Tensor, block: int) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("rgb", rgb, torch.uint8, (None, 3, None, None))  # raw pointers: a wrong dtype would be misread
    _checks.tensor("shifts", shifts, torch.float32, (rgb.shape[0], 3))
    if block < 0:
        raise ValueError(f"block must be >= 0 (0: no SIMD block), got {block}")
    _checks.same_device(rgb=rgb, shifts=shifts)
    _check_int32("hsv_shift", W=rgb.shape[3])
    x, sh = rgb.contiguous(), shifts.contiguous()
    out = torch.empty_like(x)
    B, _, H, W = x.shape
    _launch("sladd_hsv_shift_kernel", H * W, B,
            (_ptr(x), _ptr(sh), _ptr(out), np.int32(W), np.int64(H * W), np.int64(block)), x.device)
    return out


def sbi_quality(rgb: torch.Tensor, shifts: torch.Tensor, coeffs: torch.Tensor, branch: torch.Tensor,
                block: int) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    B = rgb.shape[0]
    _checks.tensor("rgb", rgb, torch.uint8, (None, 3, None, None))  # raw pointers: a wrong dtype would be misread
    _checks.tensor("shifts", shifts, torch.float32, (B, 3))
    _checks.tensor("coeffs", coeffs, torch.float32, (B, constants()["kSbiCoeffs"]))
    _checks.tensor("branch", branch, torch.int64, (B,))
    if block < 0:
        raise ValueError(f"block must be >= 0 (0: no SIMD block), got {block}")
    _checks.same_device(rgb=rgb, shifts=shifts, coeffs=coeffs, branch=branch)
    _check_int32("sbi_quality", H=rgb.shape[2], W=rgb.shape[3], **{"H * W": rgb.shape[2] * rgb.shape[3]})
    x, sh, q, br = rgb.contiguous(), shifts.contiguous(), coeffs.contiguous(), branch.contiguous()
    out = torch.empty_like(x)
    _, _, H, W = x.shape
    planes = torch.empty_like(x)  # as bindings.cu: the colour stage, read by the branch stage
    _launch("sladd_sbi_color_kernel", H * W, B,
            (_ptr(x), _ptr(sh), _ptr(q), _ptr(planes), np.int32(W), np.int64(H * W), np.int64(block)), x.device)
    _launch("sladd_sbi_branch_kernel", H * W, B, (_ptr(planes), _ptr(q), _ptr(br), _ptr(out), np.int32(H), np.int32(W)),
            x.device, 3)
    return out


def uniform_noise(seeds: torch.Tensor, channels: int, height: int, width: int) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("seeds", seeds, torch.int64, (None,))  # raw pointers: a wrong dtype would be misread
    if min(channels, height, width) < 0:
        raise ValueError(f"uniform_noise: channels, height and width must be >= 0, got {channels}, {height}, {width}")
    _check_int32("uniform_noise", channels=channels, height=height, width=width)
    n = channels * height * width
    if n > 1 << 32:  # as check_uniform_noise: the counter is a 32-bit word
        raise ValueError(f"uniform_noise: at most 2^32 values per sample, got {channels} x {height} x {width}")
    s = seeds.contiguous()
    B = s.shape[0]
    out = torch.empty(B, channels, height, width, device=s.device, dtype=torch.float32)
    if out.numel() == 0:
        return out
    _launch("sladd_uniform_noise_kernel", n, B, (_ptr(s), _ptr(out), np.int64(n)), s.device)
    return out


def remap_nearest(input: torch.Tensor, map: torch.Tensor, col_table: torch.Tensor, row_table: torch.Tensor,
                  relative: bool) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.remap_args("input", input, map, col_table, row_table)  # raw pointers: a wrong dtype would be misread
    B, C, H, W = input.shape
    Ho, Wo, Wt, Ht = map.shape[2], map.shape[3], col_table.shape[1], row_table.shape[1]
    _check_int32("remap_nearest", C=input.shape[1], H=H, W=W, Ho=Ho, Wo=Wo, Wt=Wt, Ht=Ht, **{"H * W": H * W})
    x, mp, ct, rt = input.contiguous(), map.contiguous(), col_table.contiguous(), row_table.contiguous()
    out = torch.empty(B, C, Ho, Wo, device=x.device, dtype=torch.float32)
    if out.numel() == 0:
        return out
    _launch("sladd_remap_nearest_kernel", Ho * Wo, B,
            (_ptr(x), _ptr(mp), _ptr(ct), _ptr(rt), _ptr(out), np.int32(C), np.int32(H), np.int32(W), np.int32(Ho),
             np.int32(Wo), np.int32(Wt), np.int32(Ht), np.int32(1 if relative else 0)), x.device)
    return out


def warp_linear_u8(input: torch.Tensor, col_index: torch.Tensor, col_weight: torch.Tensor, row_index: torch.Tensor,
                   row_weight: torch.Tensor) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    _checks.tensor("input", input, torch.uint8, (None,) * 4)  # raw pointers: a wrong dtype would be misread
    B, T = input.shape[0], constants()["kWarpU8Taps"]
    _checks.tensor("col_index", col_index, torch.int64, (B, None, T))
    _checks.tensor("col_weight", col_weight, torch.int64, tuple(col_index.shape))
    _checks.tensor("row_index", row_index, torch.int64, (B, None, T))
    _checks.tensor("row_weight", row_weight, torch.int64, tuple(row_index.shape))
    _checks.same_device(input=input, col_index=col_index, col_weight=col_weight, row_index=row_index,
                        row_weight=row_weight)
    _, C, H, W = input.shape
    Ho, Wo = row_index.shape[1], col_index.shape[1]
    _check_int32("warp_linear_u8", C=C, H=H, W=W, Ho=Ho, Wo=Wo)  # C too: the kernel takes it as int
    x, ci, cw = input.contiguous(), col_index.contiguous(), col_weight.contiguous()
    ri, rw = row_index.contiguous(), row_weight.contiguous()
    out = torch.empty(B, C, Ho, Wo, device=x.device, dtype=torch.uint8)
    if out.numel() == 0:
        return out
    if H == 0 or W == 0:  # as bindings.cu: nothing to read, every tap reads the border's 0
        return out.zero_()
    _launch("sladd_warp_linear_u8_kernel", Ho * Wo, B,
            (_ptr(x), _ptr(ci), _ptr(cw), _ptr(ri), _ptr(rw), _ptr(out), np.int32(C), np.int32(H), np.int32(W),
             np.int32(Ho), np.int32(Wo)), x.device)
    return out


_PIECEWISE_MAX_CANVAS = 46340  # csrc/checks.h check_piecewise_affine_grid: canvas^2 fits int32


def piecewise_affine_grid(tx: torch.Tensor, ty: torch.Tensor, step: torch.Tensor, main: torch.Tensor,
                          canvas: int) -> torch.Tensor:
    import numpy as np

    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    M = constants()["kPiecewiseMesh"]
    _checks.tensor("tx", tx, torch.float32, (None, M, M))  # raw pointers: a wrong dtype would be misread
    B = tx.shape[0]
    _checks.tensor("ty", ty, torch.float32, (B, M, M))
    _checks.tensor("step", step, torch.float32, (B,))
    _checks.tensor("main", main, torch.bool, (B, (M - 1) * (M - 1)))
    if isinstance(canvas, bool) or not isinstance(canvas, int) or not 1 <= canvas <= _PIECEWISE_MAX_CANVAS:
        raise ValueError(f"piecewise_affine_grid: canvas must be in [1, {_PIECEWISE_MAX_CANVAS}], got {canvas!r}")
    _checks.same_device(tx=tx, ty=ty, step=step, main=main)
    x, y, s, m = tx.contiguous(), ty.contiguous(), step.contiguous(), main.contiguous()
    out = torch.empty(B, canvas, canvas, 2, device=x.device, dtype=torch.float32)
    if out.numel() == 0:
        return out
    _launch("sladd_piecewise_affine_grid_kernel", canvas * canvas, B,
            (_ptr(x), _ptr(y), _ptr(s), _ptr(m), _ptr(out), np.int32(canvas)), x.device)
    return out


def _checked_color_args(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, mode: torch.Tensor,
                        extra: tuple) -> None:
    from sladd_fast.ops import _checks  # imported here: sladd_fast.ops imports this module

    B = fake.shape[0]
    _checks.tensor("fake", fake, torch.uint8, (B, 3, None, None))  # raw pointers: a wrong dtype would be misread
    _checks.tensor("real", real, torch.uint8, tuple(fake.shape))
    _check_int32("color", H=fake.shape[2], W=fake.shape[3])
    _checks.tensor("mask", mask, torch.float32, (B, 1, fake.shape[2], fake.shape[3]))
    _checks.tensor("mode", mode, torch.int64, (B,))
    for name, t, dtype, shape in extra:
        _checks.tensor(name, t, dtype, shape)
    _checks.same_device(fake=fake, real=real, mask=mask, mode=mode, **{name: t for name, t, _, _ in extra})


def color_stats(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, mode: torch.Tensor,
                box: torch.Tensor) -> torch.Tensor:
    import numpy as np

    B = fake.shape[0]
    _checked_color_args(fake, real, mask, mode, (("box", box, torch.int64, (B, 4)),))
    f, r, m, md, bx = (t.contiguous() for t in (fake, real, mask, mode, box))
    H, W = f.shape[2], f.shape[3]
    n = constants()["kColorStats"]
    stats = torch.empty(B, n, device=f.device, dtype=torch.float64)
    partials = torch.empty(B, n, W, device=f.device, dtype=torch.float64)  # as bindings.cu
    _launch("sladd_color_stats_cols_kernel", W, B,
            (_ptr(f), _ptr(r), _ptr(m), _ptr(md), _ptr(bx), _ptr(partials), np.int32(H), np.int32(W)), f.device)
    _launch("sladd_color_stats_sum_kernel", constants()["kThreads"], B,  # one block per sample
            (_ptr(partials), _ptr(stats), np.int32(W)), f.device)
    return stats


def color_apply(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, mode: torch.Tensor, stats: torch.Tensor,
                blurred: torch.Tensor, blur_row: torch.Tensor) -> torch.Tensor:
    import numpy as np

    B, _, H, W = fake.shape
    _checked_color_args(fake, real, mask, mode, (("stats", stats, torch.float64, (B, constants()["kColorStats"])),
                                                 ("blurred", blurred, torch.uint8, (None, 6, H, W)),
                                                 ("blur_row", blur_row, torch.int64, (B,))))
    f, r, m, md, st, bl, br = (t.contiguous() for t in (fake, real, mask, mode, stats, blurred, blur_row))
    out = torch.empty_like(f)
    _launch("sladd_color_apply_kernel", H * W, B, (_ptr(f), _ptr(r), _ptr(m), _ptr(md), _ptr(st), _ptr(bl), _ptr(br),
                                                   np.int32(bl.shape[0]), _ptr(out), np.int64(H * W)), f.device)
    return out
