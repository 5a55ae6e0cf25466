"""The CUDA sources compile with nvcc for sm_80 and sm_90 (no GPU needed; skipped without nvcc)."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from cuda_emulation import kernel_signatures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = tuple(kernel_signatures())  # every __global__ in kernels.cuh


@pytest.mark.needs_nvcc
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_kernels_compile(arch, tmp_path):
    """Every kernel compiles without warnings, and ptxas spills no register of any of them (a spill is
    local-memory traffic the GPU pays on every access: the JPEG block kernel spilled 184 bytes before it
    worked in place)."""
    src = os.path.join(ROOT, "csrc", "cuda", "kernels.cu")
    out = tmp_path / f"kernels_{arch}.cubin"
    proc = subprocess.run(["nvcc", f"-arch={arch}", "-cubin", "--fmad=false", "-Werror", "all-warnings", "-Xptxas", "-v",
                           "-o", str(out), src], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0
    stats = re.findall(r"Compiling entry function '(\w+)'.*?(\d+) bytes spill stores, (\d+) bytes spill loads",
                       proc.stderr, re.S)
    assert {name for name, _, _ in stats} == set(KERNELS)
    spilled = {name: (int(st), int(ld)) for name, st, ld in stats if int(st) or int(ld)}
    assert not spilled, spilled
    ptx = tmp_path / "kernels.ptx"
    proc = subprocess.run(["nvcc", f"-arch={arch}", "-ptx", "-o", str(ptx), src], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    names = ptx.read_text()
    for kernel in KERNELS:
        assert f".entry {kernel}(" in names, kernel


def _torch_cuda_includes() -> list[str] | None:
    """Include dirs for compiling against torch's CUDA headers, or None if this torch has none."""
    import sysconfig

    import torch
    from torch.utils import cpp_extension

    if torch.version.cuda is None:
        return None
    dirs = cpp_extension.include_paths(device_type="cuda") + [sysconfig.get_paths()["include"]]
    try:  # CUDA library headers (cusparse.h, ...) ship in the nvidia-* wheels next to torch
        import nvidia

        for root in nvidia.__path__:
            for sub in sorted(os.listdir(root)):
                inc = os.path.join(root, sub, "include")
                if os.path.isdir(inc):
                    dirs.append(inc)
    except ImportError:
        pass
    return dirs


@pytest.mark.needs_nvcc
def test_torch_bindings_compile(tmp_path):
    """bindings.cu (the setup.py CUDA backend) compiles against torch's ATen/c10 CUDA headers."""
    dirs = _torch_cuda_includes()
    if dirs is None:
        pytest.skip("this torch build has no CUDA headers")
    src = os.path.join(ROOT, "csrc", "cuda", "bindings.cu")
    cmd = ["nvcc", "-c", src, "-o", str(tmp_path / "bindings.o"), "-std=c++20", "-arch=sm_90", "--fmad=false", "-Xcompiler",
           "-fPIC", "--expt-relaxed-constexpr", "-DTORCH_EXTENSION_NAME=_C", "-DTORCH_API_INCLUDE_EXTENSION_H",
           "-D__CUDA_NO_HALF_OPERATORS__"] + [f"-I{d}" for d in dirs]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]


def _nvrtc_compile(nvrtc, extra: list[str]):
    """The JIT source compiled by NVRTC with its own options plus ``extra``; skips without libnvrtc."""
    from sladd_fast import _jit

    code, options = _jit.jit_source()
    try:
        prog = nvrtc.createProgram(code, "kernels.cu", [], [])
    except Exception as e:  # libnvrtc missing
        pytest.skip(f"NVRTC unavailable: {e}")
    try:
        nvrtc.compileProgram(prog, list(options) + extra)
    except Exception as e:
        pytest.fail(f"NVRTC failed: {e}\n{nvrtc.getProgramLog(prog)}")
    return prog


@pytest.mark.parametrize("arch", ["compute_80", "compute_90"])
def test_nvrtc_compiles_the_jit_source(arch):
    """The NVRTC (CuPy) path compiles exactly what it would compile on a GPU; NVRTC needs no device."""
    nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc")
    prog = _nvrtc_compile(nvrtc, [f"-arch={arch}"])
    ptx = nvrtc.getPTX(prog)
    ptx = ptx.decode() if isinstance(ptx, bytes) else ptx
    for kernel in KERNELS:
        assert f".entry {kernel}(" in ptx, kernel


def test_kernels_use_little_local_memory():
    """The driver reserves a kernel's local memory (stack frame) for every resident thread: about 2 GiB on
    an H200 for 8 KB per thread, outside PyTorch's allocator. Per-sample work goes to global scratch
    instead (hull_mask: common/hull_math.h); ptxas' stack frame per kernel (NVRTC, sm_90) stays small."""
    import re

    nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc")
    prog = _nvrtc_compile(nvrtc, ["-arch=sm_90", "--ptxas-options=-v"])
    log = nvrtc.getProgramLog(prog)
    log = log.decode() if isinstance(log, bytes) else log
    frames = {name: int(stack) for name, stack in
              re.findall(r"Function properties for (\w+)\n\S*\s*\.?\s*(\d+) bytes stack frame", log)}
    assert set(KERNELS) <= set(frames), log[-2000:]
    big = {k: v for k, v in frames.items() if k in KERNELS and v > 256}
    assert not big, f"kernels with more than 256 bytes of local memory per thread: {big}"
    # color_stats' column pass keeps its 25 double accumulators in registers (unrolled, not 200 bytes of
    # local memory read and written per pixel)
    assert frames["sladd_color_stats_cols_kernel"] == 0


def _included(path: str, seen: set[str] | None = None) -> set[str]:
    """Every file ``path`` #includes with quotes, transitively (the NVRTC source's real inputs)."""
    seen = set() if seen is None else seen
    with open(path) as f:
        for name in re.findall(r'^\s*#include\s+"([^"]+)"', f.read(), re.M):
            inc = os.path.normpath(os.path.join(os.path.dirname(path), name))
            if inc not in seen:
                seen.add(inc)
                _included(inc, seen)
    return seen


def test_jit_source_hash_tracks_headers(tmp_path, monkeypatch):
    """Editing any file kernels.cu includes, directly or not (launch.h's kThreads sizes shared arrays),
    changes the JIT source string, CuPy's cache key."""
    import shutil

    from sladd_fast import _jit

    root = tmp_path / "csrc"
    shutil.copytree(os.path.join(ROOT, "csrc"), root)
    monkeypatch.setenv("SLADD_FAST_CSRC", str(root))
    headers = _included(str(root / "cuda" / "kernels.cu"))
    assert str(root / "cuda" / "launch.h") in headers and str(root / "common" / "blend_math.h") in headers
    for header in sorted(headers):
        before = _jit.jit_source()[0]
        with open(header, "a") as f:
            f.write("\n// edited\n")
        assert _jit.jit_source()[0] != before, header


def test_installed_package_carries_the_kernel_sources(tmp_path, monkeypatch):
    """setup.py's build_py copies every file the NVRTC path compiles into sladd_fast/csrc/, _jit finds
    that copy before the checkout's, and the packaged sources compile with NVRTC."""
    import filecmp
    import sys

    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    packaged = tmp_path / "sladd_fast" / "csrc"
    code = "from sladd_fast import _jit; print(_jit.csrc_dir())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "SLADD_FAST_CSRC"})
    assert proc.returncode == 0 and proc.stdout.strip() == str(packaged), proc.stderr[-2000:]
    from sladd_fast import _jit

    assert _jit.constants(str(packaged)) == _jit.constants(os.path.join(ROOT, "csrc"))
    for sub in ("common", "cuda"):
        names = sorted(os.listdir(packaged / sub))
        _, mismatch, errors = filecmp.cmpfiles(packaged / sub, os.path.join(ROOT, "csrc", sub), names, shallow=False)
        assert not mismatch and not errors
    monkeypatch.setenv("SLADD_FAST_CSRC", str(packaged))
    test_nvrtc_compiles_the_jit_source("compute_90")


@pytest.mark.needs_nvcc
def test_cuda_kernels_were_built():
    """Where nvcc and a CUDA torch are present (CI included) setup.py builds the CUDA kernels into
    sladd_fast._C; a build that silently fell back to CPU only would skip every compiled-CUDA check.
    FORCE_CUDA=0 opts out."""
    import torch

    from sladd_fast import _ext

    if torch.version.cuda is None or os.environ.get("FORCE_CUDA") == "0":
        pytest.skip("CPU-only torch or FORCE_CUDA=0: no CUDA kernels expected")
    assert _ext.has_ops(), "sladd_fast._C is not built: run scripts/setup_env.sh (build log: .venv/build.log)"
    assert _ext.has_cuda_ops(), "sladd_fast._C was built without its CUDA kernels (see .venv/build.log)"
