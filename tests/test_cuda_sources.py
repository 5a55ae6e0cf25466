"""The CUDA sources compile with nvcc for sm_80 and sm_90 (no GPU needed; skipped without nvcc)."""
from __future__ import annotations

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.needs_nvcc
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_kernels_compile(arch, tmp_path):
    src = os.path.join(ROOT, "csrc", "cuda", "kernels.cu")
    out = tmp_path / f"kernels_{arch}.cubin"
    proc = subprocess.run(["nvcc", f"-arch={arch}", "-cubin", "-Werror", "all-warnings", "-o", str(out), src],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0
    ptx = tmp_path / "kernels.ptx"
    proc = subprocess.run(["nvcc", f"-arch={arch}", "-ptx", "-o", str(ptx), src], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    names = ptx.read_text()
    for kernel in ("sladd_region_mask_kernel", "sladd_hull_mask_kernel", "sladd_blend_linear_kernel",
                   "sladd_poisson_erode_kernel", "sladd_poisson_rhs_kernel", "sladd_poisson_compose_kernel"):
        assert f".entry {kernel}(" in names, kernel
