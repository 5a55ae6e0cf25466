"""torch.library.opcheck on every csrc op: schema, fake (meta) kernels, dispatch consistency."""
from __future__ import annotations

import pytest
import torch

from helpers import face_batch, landmarks
from sladd_fast import ops
from sladd_fast._ext import has_ops

pytestmark = pytest.mark.skipif(not has_ops(), reason="sladd_fast._C not built")


def _cases():
    img, lm = face_batch(2, 0, size=64)
    src, _ = face_batch(2, 1, size=64)
    m = ops.region_mask(lm, torch.tensor([3, 9]), 64)
    roi = ops.blend.poisson_roi(m)
    return {
        "region_mask": (lm, torch.tensor([3, 9]), 64),
        "hull_mask": (landmarks(2, 2, 64), 64),
        "blend_linear": (img, src, m, torch.tensor([0.3, 1.0])),
        "poisson_rhs": (img, src, m, roi),
        "poisson_compose": (img, torch.rand(2, 3, 62, 62) * 255, roi),
        "deform_mask": (m, torch.trunc(torch.randn(2, 5, 5, 2) * 5)),
        "morph_square": (m, torch.tensor([0, 1]), torch.tensor([5, 9])),
        "warp_affine_cubic": (img.float(), torch.tensor([[[1.0, 0.1, 2.0], [-0.1, 1.0, 3.0]]] * 2)),
        "rgb_to_lab": (img,),
        "lab_to_rgb": (torch.rand(2, 3, 8, 8) * 255,),
        "blur_in_box": (img.float(), torch.rand(2, 9), torch.tensor([4, 2]),
                        torch.tensor([[3, 4, 20, 30], [0, 0, 64, 64]])),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_opcheck(name):
    args = _cases()[name]
    torch.library.opcheck(getattr(torch.ops.sladd_fast, name).default, args)  # all default checks


def test_cpu_kernels_built_with_openmp():
    """at::parallel_for is a header template: an extension compiled without -fopenmp runs every CPU
    kernel on one thread even though torch itself is parallel (the bug this guards against)."""
    from sladd_fast import _C  # type: ignore[attr-defined]

    if "OpenMP" not in torch.__config__.parallel_info():
        pytest.skip("torch's parallel backend is not OpenMP")
    assert _C.openmp == 1


def test_every_op_has_every_backend():
    """Each schema has a CPU kernel, a CUDA kernel when the extension was built with them, an NVRTC
    launcher and a PyTorch reference of the same name (the fallback chain of ops._dispatch)."""
    from sladd_fast import _jit
    from sladd_fast._ext import has_cuda_ops
    from sladd_fast.ops import _reference

    names = [s.name.split("::")[1] for s in torch._C._jit_get_all_schemas() if s.name.startswith("sladd_fast::")]
    assert set(names) == set(_cases())  # and opcheck above covers each one
    for name in names:
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"sladd_fast::{name}", "CPU"), name
        if has_cuda_ops():
            assert torch._C._dispatch_has_kernel_for_dispatch_key(f"sladd_fast::{name}", "CUDA"), name
        assert callable(getattr(_jit, name)) and callable(getattr(_reference, name)), name
