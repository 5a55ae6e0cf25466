"""The sladd_fast::* operator library: one set of schemas, one implementation per dispatch key.

The schemas are defined here, in Python, so torch.ops.sladd_fast.* exist with or without the
compiled extension; fake kernels (ops/_fake.py) make them traceable by torch.compile either way.
Implementations, chosen once at import:

    CPU:  the compiled C++ kernels (sladd_fast._C) where built, else the PyTorch reference.
    CUDA: the compiled CUDA kernels where built, else the NVRTC launchers (sladd_fast._jit) when
          CuPy sees the GPU (decided at the first call, so importing never touches the driver),
          else the PyTorch reference.

SLADD_FAST_BACKEND=kernel|jit|reference forces one at import (jit is CUDA only; a forced backend
that is missing fails at the op's first call with the reason). Every caller goes through the
dispatcher, so the backends share the schema, the fake kernels, opcheck and torch.compile.
``use_backend`` switches a device type's implementation inside a ``with`` block (tests, benchmarks).
"""
from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any, Callable, Iterator

import torch

from sladd_fast import _ext, _jit
from sladd_fast.ops import _fake, _reference

SCHEMAS = {
    "region_mask": "region_mask(Tensor landmarks, Tensor region, int size) -> Tensor",
    "hull_mask": "hull_mask(Tensor landmarks, int size) -> Tensor",
    "hull_feather": "hull_feather(Tensor mask, Tensor frac) -> Tensor",
    "blend_linear": "blend_linear(Tensor target, Tensor source, Tensor mask, Tensor weight) -> Tensor",
    "poisson_rhs": "poisson_rhs(Tensor target, Tensor source, Tensor mask, Tensor roi) -> Tensor",
    "poisson_compose": "poisson_compose(Tensor target, Tensor solution, Tensor roi) -> Tensor",
    "poisson_solve": "poisson_solve(Tensor rhs, Tensor roi) -> Tensor",
    "box_of": "box_of(Tensor on, bool exclude_frame) -> Tensor",
    "similarity_align": "similarity_align(Tensor source_landmarks, Tensor target_landmarks) "
                        "-> (Tensor, Tensor, Tensor)",
    "affine_reach_box": "affine_reach_box(Tensor box, Tensor map, int size) -> Tensor",
    "fraction_inside": "fraction_inside(Tensor mask, Tensor map, int cell) -> Tensor",
    "skimage_taps": "skimage_taps(Tensor n_in, Tensor n_out, int canvas_out, int radius) -> (Tensor, Tensor)",
    "pil_taps": "pil_taps(Tensor n_in, Tensor n_out, Tensor nearest, int canvas_in, int canvas_out, int span) "
                "-> (Tensor, Tensor)",
    "xray_blend": "xray_blend(Tensor both, Tensor mask, Tensor weight) -> Tensor",
    "jpeg_round_trip": "jpeg_round_trip(Tensor images, Tensor quality, Tensor select, bool bgr) -> Tensor",
    "deform_mask": "deform_mask(Tensor mask, Tensor noise) -> Tensor",
    "morph_square": "morph_square(Tensor mask, Tensor op, Tensor k) -> Tensor",
    "warp_affine_cubic": "warp_affine_cubic(Tensor input, Tensor inverse_map, Tensor box) -> Tensor",
    "rgb_to_lab": "rgb_to_lab(Tensor rgb) -> Tensor",
    "lab_to_rgb": "lab_to_rgb(Tensor lab) -> Tensor",
    "blur_in_box": "blur_in_box(Tensor input, Tensor kernels, Tensor radius, Tensor box) -> Tensor",
    "resample_taps": "resample_taps(Tensor input, Tensor index, Tensor weight, int axis) -> Tensor",
    "resize_u8": "resize_u8(Tensor input, Tensor index, Tensor weight, int mode) -> Tensor",
    "gaussian_filter": "gaussian_filter(Tensor input, Tensor taps, float scale) -> Tensor",
    "hsv_shift": "hsv_shift(Tensor rgb, Tensor shifts, int block) -> Tensor",
    "sbi_quality": "sbi_quality(Tensor rgb, Tensor shifts, Tensor coeffs, Tensor branch, int block) -> Tensor",
    "uniform_noise": "uniform_noise(Tensor seeds, int channels, int height, int width) -> Tensor",
    "piecewise_affine_grid": "piecewise_affine_grid(Tensor tx, Tensor ty, Tensor step, Tensor main, int canvas) "
                             "-> Tensor",
    "warp_linear_u8": "warp_linear_u8(Tensor input, Tensor col_index, Tensor col_weight, Tensor row_index, "
                      "Tensor row_weight) -> Tensor",
    "remap_nearest": "remap_nearest(Tensor input, Tensor map, Tensor col_table, Tensor row_table, bool relative) "
                     "-> Tensor",
    "color_stats": "color_stats(Tensor fake, Tensor real, Tensor mask, Tensor mode, Tensor box) -> Tensor",
    "color_apply": "color_apply(Tensor fake, Tensor real, Tensor mask, Tensor mode, Tensor stats, Tensor blurred, "
                   "Tensor blur_row) -> Tensor",
}
BACKENDS = ("kernel", "jit", "reference")

_DEF = torch.library.Library("sladd_fast", "DEF")
for _schema in SCHEMAS.values():
    _DEF.define(_schema)
_fake.register()
_HAS_CPU, _HAS_CUDA = _ext.has_ops(), _ext.has_cuda_ops()  # importing _C registers its kernels

_active: dict[str, str] = {}  # device type -> backend ("auto": CUDA's jit-or-reference)
_libs: dict[str, torch.library.Library] = {}  # device type -> the Python registrations in effect


def _missing(name: str, backend: str, device_type: str, why: str) -> Callable[..., Any]:
    def fail(*args: Any) -> Any:
        raise RuntimeError(f"sladd_fast::{name}: backend {backend!r} is not available on {device_type}: {why}")

    return fail


def _jit_or_reference(name: str, forced: bool) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        if _jit.available():
            return getattr(_jit, name)(*args)
        if forced:
            raise RuntimeError(f"sladd_fast::{name}: backend 'jit' needs CuPy and a visible CUDA device "
                               f"(pip install cupy-cuda13x) and the kernel sources ({_jit.csrc_dir()})")
        return getattr(_reference, name)(*args)

    return run


def _python_impls(backend: str, device_type: str) -> dict[str, Callable[..., Any]] | None:
    """Python functions that make ``backend`` serve ``device_type``; None where the compiled kernels,
    registered when _C was imported, already do."""
    if device_type == "cpu":
        if backend == "kernel":
            return None if _HAS_CPU else {n: _missing(n, backend, "cpu", "sladd_fast._C is not built") for n in SCHEMAS}
        if backend == "jit":
            raise ValueError("the jit backend (NVRTC) runs on CUDA only; use kernel or reference on cpu")
    else:
        if backend == "kernel":
            return None if _HAS_CUDA else {n: _missing(n, backend, "cuda", "sladd_fast._C was built without CUDA")
                                           for n in SCHEMAS}
        if backend in ("jit", "auto"):
            return {n: _jit_or_reference(n, forced=backend == "jit") for n in SCHEMAS}
    return {n: getattr(_reference, n) for n in SCHEMAS}


def _install(device_type: str, backend: str, impls: dict[str, Callable[..., Any]] | None = None) -> None:
    if impls is None:
        impls = _python_impls(backend, device_type)
    old = _libs.pop(device_type, None)
    if old is not None:
        old._destroy()  # the compiled kernel, if any, is in effect again
    if impls:
        lib = torch.library.Library("sladd_fast", "IMPL")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*previously registered kernel.*")
            for name, fn in impls.items():
                lib.impl(name, fn, device_type.upper())
        _libs[device_type] = lib
    _active[device_type] = backend


def _default(device_type: str) -> str:
    forced = os.environ.get("SLADD_FAST_BACKEND") or None
    if forced is not None and forced not in BACKENDS:
        raise ValueError(f"SLADD_FAST_BACKEND must be kernel, jit or reference, got {forced!r}")
    if device_type == "cpu":
        return forced if forced in ("kernel", "reference") else ("kernel" if _HAS_CPU else "reference")
    return forced or ("kernel" if _HAS_CUDA else "auto")


for _dt in ("cpu", "cuda"):
    _install(_dt, _default(_dt))


def backend_for(device: torch.device | str) -> str:
    """The backend serving ``device``: 'kernel' (sladd_fast._C), 'jit' (CuPy/NVRTC) or 'reference'
    (pure PyTorch). Raises RuntimeError where a forced backend is unavailable."""
    dt = torch.device(device).type
    backend = _active.get(dt, "reference")
    if backend == "auto":
        return "jit" if _jit.available() else "reference"
    if backend == "kernel" and not (_HAS_CPU if dt == "cpu" else _HAS_CUDA):
        raise RuntimeError(f"SLADD_FAST_BACKEND=kernel is not available on {dt}: sladd_fast._C was not built for it")
    if backend == "jit" and not _jit.available():
        raise RuntimeError("SLADD_FAST_BACKEND=jit is not available: it needs CuPy and a visible CUDA device")
    return backend


@contextlib.contextmanager
def use_backend(backend: str, device_type: str = "cpu",
                impls: dict[str, Callable[..., Any]] | None = None) -> Iterator[None]:
    """Serves ``device_type`` ('cpu' or 'cuda') with ``backend`` inside the block, then restores.

    ``impls`` registers the given functions instead (tests run the NVRTC launchers on CPU memory
    through a host emulation of the kernels this way). Not thread-safe: registration is global.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if device_type not in ("cpu", "cuda"):
        raise ValueError(f"device_type must be 'cpu' or 'cuda', got {device_type!r}")
    previous = _active[device_type]
    _install(device_type, backend, impls)
    try:
        yield
    finally:
        _install(device_type, previous)
