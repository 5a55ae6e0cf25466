"""torch.library.opcheck on every csrc op and CPU backend: schema, fake (meta) kernels, dispatch
consistency; the schemas and their backends (ops/_library.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from helpers import cuda_backends, face_batch, landmarks, needs_cuda
from sladd_fast import ops
from sladd_fast._ext import has_ops

CPU_BACKENDS = ["reference"] + (["kernel"] if has_ops() else [])


def _cases():
    img, lm = face_batch(2, 0, size=64)
    src, _ = face_batch(2, 1, size=64)
    m = ops.region_mask(lm, torch.tensor([3, 9]), 64)
    roi = ops.blend.poisson_roi(m)
    return {
        "region_mask": (lm, torch.tensor([3, 9]), 64),
        "hull_mask": (landmarks(2, 2, 64), 64),
        "hull_mask:parts": (landmarks(4, 2, 64).view(2, 2, 68, 2), 64),
        "hull_feather": (torch.cat([m, torch.zeros(1, 1, 64, 64)]), torch.tensor([0.2, 0.1, 0.2])),
        "blend_linear": (img, src, m, torch.tensor([0.3, 1.0])),
        "poisson_rhs": (img, src, m, roi),
        "poisson_compose": (img, torch.rand(2, 3, 62, 62) * 255, roi),
        "poisson_solve": (torch.randn(2, 3, 62, 62), roi),
        "box_of": (m[:, 0] > 0.5, True),
        "similarity_align": (lm, lm.flip(0)),
        "skimage_taps": (torch.tensor([64, 64]), torch.tensor([40, 64]), 64, 3),
        "pil_taps": (torch.tensor([64, 30]), torch.tensor([40, 64]), torch.tensor([True, False]), 64, 64, 7),
        "xray_blend": (torch.cat([img, src], 1), m, torch.rand(2, 1, 64, 64)),
        "jpeg_round_trip": (img, torch.tensor([60, 95]), torch.tensor([True, False]), True),
        "fraction_inside": (m, torch.tensor([[[1.0, 0.1, 2.0], [-0.1, 1.0, 3.0]]] * 2), 4),
        "affine_reach_box": (roi[:, :4].contiguous(), torch.tensor([[[1.0, 0.1, 2.0], [-0.1, 1.0, 3.0]]] * 2), 64),
        "deform_mask": (m, torch.trunc(torch.randn(2, 5, 5, 2) * 5)),
        "morph_square": (m, torch.tensor([0, 1]), torch.tensor([5, 9])),
        "warp_affine_cubic": (img, torch.tensor([[[1.0, 0.1, 2.0], [-0.1, 1.0, 3.0]]] * 2),
                              torch.tensor([[3, 4, 20, 30], [0, 0, 64, 64]])),
        "rgb_to_lab": (img,),
        "lab_to_rgb": (torch.rand(2, 3, 8, 8) * 255,),
        "blur_in_box": (img.float(), torch.rand(2, 9), torch.tensor([4, 2]),
                        torch.tensor([[3, 4, 20, 30], [0, 0, 64, 64]])),
        "resample_taps": (img.float(), torch.randint(-2, 70, (2, 40, 5)), torch.rand(2, 40, 5), 3),
        "resize_u8": (img, torch.randint(-2, 70, (2, 40, 5)), torch.rand(2, 40, 5), 0),
        "gaussian_filter": (torch.rand(2, 2, 9, 11), torch.tensor([0.4, 0.2, 0.07, 0.03]), 2.0),
        "hsv_shift": (img, torch.tensor([[-0.2, 0.1, -0.3], [12.5, -3.2, 0.0]]), 32),
        "sbi_quality": (img, torch.tensor([[-0.2, 0.1, -0.3], [12.5, -3.2, 0.0]]),
                        torch.tensor([[3., -2., 0., 1.05, -10., 0.3, 9.7, 0.7], [0., 0., 0., 0.95, 5., 0.2, 9.5, 0.8]]),
                        torch.tensor([1, 2]), 32),
        "uniform_noise": (torch.tensor([5, -(1 << 62)]), 3, 7, 9),
        "remap_nearest": (img.float(), torch.randn(2, 2, 40, 50) * 20, torch.randint(-2, 67, (2, 70)),
                          torch.randint(-2, 67, (2, 33)), True),
        "warp_linear_u8": (img, torch.randint(-2, 67, (2, 50, 2)), torch.randint(-3, 36, (2, 50, 2)),
                           torch.randint(-2, 67, (2, 40, 2)), torch.randint(-3, 36, (2, 40, 2))),
        "piecewise_affine_grid": (torch.rand(2, 4, 4) * 70 - 3, torch.rand(2, 4, 4) * 70 - 3,
                                  torch.tensor([21.3, 5.0]), torch.tensor([[True, False] * 4 + [True], [False] * 9]),
                                  64),
        "color_stats": (src, img, m, torch.tensor([0, 1]), torch.tensor([[0, 0, 64, 64], [3, 4, 40, 30]])),
        "color_apply": (src, img, m, torch.tensor([0, 3]), torch.rand(2, 25, dtype=torch.float64) * 100,
                        torch.randint(0, 256, (1, 6, 64, 64), dtype=torch.uint8), torch.tensor([-1, 0])),
        "blur_in_box:u8": (img, torch.rand(2, 9), torch.tensor([4, 2]), torch.tensor([[3, 4, 20, 30], [0, 0, 64, 64]])),
    }


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("name", list(_cases()))
def test_opcheck(name, backend):
    args = _cases()[name]
    with ops.use_backend(backend, "cpu"):  # "op:variant": a second case of one op
        torch.library.opcheck(getattr(torch.ops.sladd_fast, name.split(":")[0]).default, args)  # default checks


@pytest.mark.skipif(not has_ops(), reason="sladd_fast._C not built")
def test_cpu_kernels_built_with_openmp():
    """at::parallel_for is a header template: an extension compiled without -fopenmp runs every CPU
    kernel on one thread even though torch itself is parallel (the bug this guards against)."""
    from sladd_fast import _C  # type: ignore[attr-defined]

    if "OpenMP" not in torch.__config__.parallel_info():
        pytest.skip("torch's parallel backend is not OpenMP")
    assert _C.openmp == 1


def test_every_op_has_every_backend():
    """One schema per op, defined in Python; each has a CPU and a CUDA implementation registered
    (compiled, NVRTC or reference), an NVRTC launcher and a PyTorch reference of the same name."""
    from sladd_fast import _jit
    from sladd_fast.ops import _library, _reference

    names = [s.name.split("::")[1] for s in torch._C._jit_get_all_schemas() if s.name.startswith("sladd_fast::")]
    cases = {c.split(":")[0] for c in _cases()}
    assert set(names) == cases == set(_library.SCHEMAS)  # and opcheck above covers each one
    for name in names:
        for key in ("CPU", "CUDA"):
            assert torch._C._dispatch_has_kernel_for_dispatch_key(f"sladd_fast::{name}", key), (name, key)
        assert callable(getattr(_jit, name)) and callable(getattr(_reference, name)), name


def test_use_backend_switches_and_restores():
    from sladd_fast.ops import _library, _reference

    lm, region = landmarks(2, 1, 32), torch.tensor([0, 9])
    calls = []

    def spy(*args):
        calls.append(args[2])
        return _reference.region_mask(*args)

    before = ops.backend_for("cpu")
    with ops.use_backend("reference", "cpu", impls={**{n: getattr(_reference, n) for n in _library.SCHEMAS},
                                                    "region_mask": spy}):
        assert ops.backend_for("cpu") == "reference"
        ops.region_mask(lm, region, 32)
    ops.region_mask(lm, region, 32)
    assert calls == [32] and ops.backend_for("cpu") == before
    with pytest.raises(ValueError, match="CUDA only"):
        with ops.use_backend("jit", "cpu"):
            pass
    with pytest.raises(ValueError, match="backend must be one of"):
        with ops.use_backend("fast", "cpu"):
            pass
    assert ops.backend_for("cpu") == before


_NO_C = """
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "sladd_fast._C":
            raise ImportError("blocked for the test")
sys.meta_path.insert(0, _Block())
"""


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _NO_C + code], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ops_exist_without_the_extension():
    """Without sladd_fast._C the schemas still exist and serve CPU with the reference; a forced
    backend that is missing fails at the first call with its reason; a bad name fails at import."""
    proc = _python("""
import torch
from sladd_fast import _ext, ops
from sladd_fast.ops import _reference
assert not _ext.has_ops() and ops.backend_for("cpu") == "reference"
lm = torch.rand(2, 68, 2) * 60
r = torch.tensor([1, 9])
assert torch.equal(torch.ops.sladd_fast.region_mask(lm, r, 64), _reference.region_mask(lm, r, 64))
torch.library.opcheck(torch.ops.sladd_fast.region_mask.default, (lm, r, 64))
print("ok")
""", SLADD_FAST_BACKEND="")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    proc = _python("""
import torch
from sladd_fast import ops
ops.region_mask(torch.zeros(1, 68, 2), torch.tensor([0]))
""", SLADD_FAST_BACKEND="kernel")
    assert proc.returncode != 0 and "backend 'kernel' is not available on cpu: sladd_fast._C is not built" in proc.stderr
    proc = _python("import sladd_fast", SLADD_FAST_BACKEND="fast")
    assert proc.returncode != 0 and "SLADD_FAST_BACKEND must be kernel, jit or reference" in proc.stderr


def _cuda_backends() -> list[str]:
    return cuda_backends() or ["reference"]


@needs_cuda
@pytest.mark.parametrize("name", list(_cases()))
def test_opcheck_cuda(name):
    """The same checks with CUDA tensors, for each CUDA backend present (compiled and NVRTC): the fake
    kernels against both launch layers."""
    args = tuple(a.cuda() if isinstance(a, torch.Tensor) else a for a in _cases()[name])
    for backend in _cuda_backends():
        with ops.use_backend(backend, "cuda"):
            torch.library.opcheck(getattr(torch.ops.sladd_fast, name.split(":")[0]).default, args)


def _chain(lm, img, src, region, ratio, op, k):
    """A few ops end to end, as the engine chains them: mask, morphology, box, blend."""
    sf = torch.ops.sladd_fast
    m = sf.morph_square(sf.region_mask(lm, region, img.shape[-1]), op, k)
    return m, sf.box_of(m[:, 0] > 0.5, True), sf.blend_linear(img, src, m, ratio)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=needs_cuda)])
def test_ops_under_torch_compile_fullgraph(device):
    """torch.compile traces the ops whole (no graph break: fullgraph) through their fake kernels, and
    the compiled function gives the eager result."""
    img, lm = face_batch(2, 0, size=64)
    src, _ = face_batch(2, 1, size=64)
    args = tuple(t.to(device) for t in (lm, img, src, torch.tensor([3, 9]), torch.tensor([0.3, 1.0]),
                                        torch.tensor([0, 1]), torch.tensor([5, 9])))
    torch._dynamo.reset()
    got = torch.compile(_chain, fullgraph=True)(*args)
    for g, w in zip(got, _chain(*args)):
        assert g.device.type == device and torch.equal(g, w)


def test_cuda_test_backends_follow_the_environment(monkeypatch):
    """The CUDA tests' backend list: both where both are present, the named ones where
    SLADD_FAST_TEST_BACKENDS is set (device_check.sh's compiled rerun)."""
    from sladd_fast import _ext, _jit

    monkeypatch.setattr(_ext, "has_cuda_ops", lambda: True)
    monkeypatch.setattr(_jit, "available", lambda: True)
    monkeypatch.delenv("SLADD_FAST_TEST_BACKENDS", raising=False)
    assert cuda_backends() == ["kernel", "jit"]
    monkeypatch.setenv("SLADD_FAST_TEST_BACKENDS", "kernel")
    assert cuda_backends() == ["kernel"]
    monkeypatch.setattr(_ext, "has_cuda_ops", lambda: False)
    assert cuda_backends() == []
