"""The CUDA kernels (csrc/cuda/kernels.cuh) and their NVRTC launchers (sladd_fast/_jit.py), run on the
host by tests/cuda_emulation.py, against the CPU kernels. Bit-exact: both sides run the same
common/*.h functions compiled by g++ without FMA contraction. Runs wherever g++ is (CI included);
on a GPU, test_cuda_ops.py runs the real thing."""
from __future__ import annotations

import shutil
from typing import Callable

import pytest
import torch

import cuda_emulation
from helpers import face_batch, landmarks, needs_ext
from sladd_fast import _jit, ops
from sladd_fast.synthesis.filters import gaussian_kernels

pytestmark = [needs_ext, pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not found")]
S = 64


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    return cuda_emulation.build(str(tmp_path_factory.mktemp("emulated")))


@pytest.fixture
def jit(emulator, monkeypatch):
    monkeypatch.setattr(_jit, "_launch", emulator.launch)
    return _jit


def _masks(lm: torch.Tensor) -> torch.Tensor:
    return torch.ops.sladd_fast.region_mask(lm, torch.arange(lm.shape[0]) % 10, S)


def _cases() -> dict[str, Callable[[object], list[tuple[torch.Tensor, torch.Tensor]]]]:
    """name -> fn(jit) giving (emulated CUDA result, CPU kernel result) pairs."""
    C = torch.ops.sladd_fast
    lm = torch.cat([landmarks(4, 0, S), torch.rand(2, 68, 2) * 80 - 8])  # some out of the image
    t, lm_t = face_batch(3, 1, S)
    s, _ = face_batch(3, 2, S)
    m = _masks(lm_t)
    roi = ops.blend.poisson_roi(m)
    w = torch.tensor([0.3, 1.0, 0.0])
    noise = torch.trunc(torch.randn(3, 5, 5, 2, generator=torch.Generator().manual_seed(0)) * 6)
    op, k = torch.tensor([0, 1, 2]), torch.tensor([3, 9, 5])
    x4 = torch.cat([s.float(), m], 1)
    Mi = torch.tensor([[[0.9, 0.1, 4.0], [-0.1, 0.9, 2.0]], [[1.3, 0.4, -20.0], [-0.4, 1.3, 5.0]],
                       [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    lab = torch.randint(0, 256, (3, 3, 16, 16), generator=torch.Generator().manual_seed(1)).float()
    kb = torch.tensor([3, 9, 21])
    g = gaussian_kernels(kb, 21)
    box = torch.tensor([[5, 6, 30, 20], [0, 0, S, S], [-3, 40, 20, 40]])
    x6 = torch.cat([t.float(), s.float()], 1)
    u = torch.rand(3, 3, S - 2, S - 2, generator=torch.Generator().manual_seed(2)) * 300 - 20
    region = torch.arange(6) % 10
    return {
        "masks": lambda j: [(j.region_mask(lm, region, S), C.region_mask(lm, region, S)),
                            (j.hull_mask(lm, S), C.hull_mask(lm, S))],
        "blend_linear": lambda j: [(j.blend_linear(t, s, m, w), C.blend_linear(t, s, m, w))],
        "poisson": lambda j: [(j.poisson_rhs(t, s, m, roi), C.poisson_rhs(t, s, m, roi)),
                              (j.poisson_compose(t, u, roi), C.poisson_compose(t, u, roi))],
        "deform_mask": lambda j: [(j.deform_mask(m, noise), C.deform_mask(m, noise))],
        "morph_square": lambda j: [(j.morph_square(m, op, k), C.morph_square(m, op, k))],
        "warp_affine_cubic": lambda j: [(j.warp_affine_cubic(x4, Mi), C.warp_affine_cubic(x4, Mi))],
        "lab": lambda j: [(j.rgb_to_lab(t), C.rgb_to_lab(t)), (j.lab_to_rgb(lab), C.lab_to_rgb(lab))],
        "blur_in_box": lambda j: [(j.blur_in_box(x6, g, kb // 2, box), C.blur_in_box(x6, g, kb // 2, box))],
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_emulated_cuda_kernel_equals_cpu_kernel(jit, name):
    for got, want in _cases()[name](jit):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert torch.equal(got, want), name


def test_every_kernel_is_covered(jit, emulator):
    emulator.launched.clear()
    for case in _cases().values():
        case(jit)
    assert emulator.launched == set(cuda_emulation.kernel_signatures())


def test_wrong_argument_types_are_caught(emulator):
    """The emulator checks what _jit passes against the kernel's C signature."""
    import numpy as np

    out = torch.zeros(1, 1, 4, 4)
    with pytest.raises(TypeError, match="size is int"):
        emulator.launch("sladd_hull_mask_kernel", 16, 1, (out.data_ptr(), out.data_ptr(), np.int32(68), 4), None)


def test_synthesize_on_the_gpu_path(jit, emulator, monkeypatch):
    """synthesize() as it runs on CUDA: every op through the emulated NVRTC kernels and the sync-free
    Python branches (whole batch, full canvas), against the CPU path."""
    import dataclasses

    from sladd_fast import synthesize
    from sladd_fast.ops import _dispatch
    from sladd_fast.synthesis.params import sample_params

    B = 8
    real, lm_t = face_batch(B, 21, S)
    partner, lm_s = face_batch(B, 22, S)
    args = (real, partner, lm_t, lm_s, torch.arange(B) % 10, torch.tensor([0, 1, 2, 0, 1, 2, 1, 3]),
            torch.rand(B, generator=torch.Generator().manual_seed(3)))
    p = sample_params(B, S, "cpu", torch.Generator().manual_seed(4))
    p = dataclasses.replace(p, color_mode=torch.arange(B) % 4)  # every colour branch
    cpu = synthesize(*args, params=p)
    monkeypatch.setenv("SLADD_FAST_SYNC_FREE", "1")
    monkeypatch.setattr(_dispatch, "backend_for", lambda device: "jit")
    emulator.launched.clear()
    gpu_path = synthesize(*args, params=p)
    assert emulator.launched == set(cuda_emulation.kernel_signatures()) - {"sladd_hull_mask_kernel"}
    assert torch.equal(gpu_path.applied, cpu.applied) and torch.equal(gpu_path.masks, cpu.masks)
    assert torch.equal(gpu_path.mask_targets, cpu.mask_targets) and cpu.applied.sum() >= 4
    diff = (gpu_path.images.int() - cpu.images.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 0.001  # BLAS summation order only


def test_jit_launchers_reject_wrong_dtypes(jit):
    """A wrong dtype would be read through a raw pointer as another type: the launchers refuse it."""
    x = torch.zeros(1, 3, 8, 8)
    with pytest.raises(ValueError, match="box must have dtype torch.int64"):
        jit.blur_in_box(x, torch.ones(1, 3), torch.ones(1, dtype=torch.int64), torch.zeros(1, 4, dtype=torch.int32))
    with pytest.raises(ValueError, match="input must have dtype torch.uint8"):
        jit.rgb_to_lab(x)
    with pytest.raises(ValueError, match=r"input must be \[B,3,H,W\]"):
        jit.lab_to_rgb(torch.zeros(1, 4, 8, 8))


def test_sanitizer_script_reaches_every_kernel(jit, emulator):
    """benchmarks/sanitize_ops.py (run under compute-sanitizer on a GPU) launches every kernel, with
    arguments the kernels accept; here on the emulated kernels, against the CPU kernels."""
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import sanitize_ops

    emulator.launched.clear()
    for name, args in sanitize_ops.calls(torch.device("cpu")).items():
        assert torch.equal(getattr(jit, name)(*args), getattr(torch.ops.sladd_fast, name)(*args)), name
    assert emulator.launched == set(cuda_emulation.kernel_signatures())
    assert sanitize_ops.main(["--device", "cpu", "--backend", "kernel"]) == 0
