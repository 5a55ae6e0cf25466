"""Builds sladd_fast._C from csrc/.

C++ CPU kernels always; CUDA kernels (csrc/cuda/bindings.cu) when a CUDA toolkit (nvcc) and a
CUDA-enabled torch are present, or when FORCE_CUDA=1; FORCE_CUDA=0 skips them. No GPU is needed to
build: without one, TORCH_CUDA_ARCH_LIST defaults to "8.0;9.0" (A100, H100) and the CUDA library
headers torch includes (cusparse.h, ...) are taken from the nvidia-* wheels when the toolkit lacks
them. DEBUG=1 builds with -O0 -g. Build in place with:

    pip install --no-build-isolation -e .

(--no-build-isolation: an isolated build would download a different torch.)
"""
from __future__ import annotations

import glob
import os

import shutil
import sys

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py



def _toolkit_root() -> str | None:
    """A CUDA toolkit root holding bin/nvcc and lib64/libcudart.so. torch guesses it from `which nvcc`,
    which is wrong when nvcc on PATH is a wrapper or link outside the toolkit (/usr/local/bin/nvcc)."""
    nvcc = shutil.which("nvcc")
    candidates = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]
    if nvcc:
        candidates.append(os.path.dirname(os.path.dirname(os.path.realpath(nvcc))))
    for root in candidates:
        if root and os.path.isfile(os.path.join(root, "bin", "nvcc")) and any(
                os.path.exists(os.path.join(root, lib, "libcudart.so")) for lib in ("lib64", "lib")):
            return root
    return None


if _toolkit_root():
    os.environ["CUDA_HOME"] = _toolkit_root()

import torch  # noqa: E402
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension  # noqa: E402

ROOT = os.path.dirname(os.path.abspath(__file__))


def _wheel_cuda_includes() -> list[str]:
    """include/ folders of the nvidia-* pip wheels that come with a CUDA torch."""
    try:
        import nvidia
    except ImportError:
        return []
    out = []
    for root in nvidia.__path__:
        for sub in sorted(os.listdir(root)):
            inc = os.path.join(root, sub, "include")
            if os.path.isdir(inc):
                out.append(inc)
    return out


def _with_cuda() -> bool:
    force = os.environ.get("FORCE_CUDA")
    if force in ("0", "1"):
        return force == "1"
    return CUDA_HOME is not None and torch.version.cuda is not None


def _openmp_flags() -> list[str]:
    """-fopenmp where torch's CPU backend is GNU OpenMP on Linux: at::parallel_for is a header template
    that only runs in parallel when the extension itself is compiled with OpenMP, so without it every
    CPU kernel is serial. Elsewhere (macOS clang, a torch on another runtime) it is left out rather than
    loading a second OpenMP runtime; the kernels then run on one thread."""
    info = torch.__config__.parallel_info()
    return ["-fopenmp"] if sys.platform.startswith("linux") and "OpenMP" in info else []


def _extension():
    debug = os.environ.get("DEBUG", "0") == "1"
    with_cuda = _with_cuda()
    sources = sorted(glob.glob(os.path.join("csrc", "*.cpp")) + glob.glob(os.path.join("csrc", "cpu", "*.cpp")))
    # -ffp-contract=off: g++ would otherwise fuse a*b+c into FMAs wherever the target has them (e.g.
    # CFLAGS=-march=native), and the kernels' rounding must stay that of the references and CUDA.
    openmp = _openmp_flags()
    # -fno-trapping-math: no program here traps on FP exceptions; without it g++ keeps float -> int
    # conversions and float selects out of vector loops (the values are the same either way).
    cxx = (["-O0", "-g"] if debug else ["-O3"]) + ["-ffp-contract=off", "-fno-trapping-math"] + openmp
    extra = {"cxx": cxx}
    cls = CppExtension
    include_dirs = []
    if with_cuda:
        if not os.environ.get("TORCH_CUDA_ARCH_LIST") and not torch.cuda.is_available():
            os.environ["TORCH_CUDA_ARCH_LIST"] = "8.0;9.0"
        include_dirs = _wheel_cuda_includes()
        sources += glob.glob(os.path.join("csrc", "cuda", "bindings.cu"))
        # --fmad=false: device arithmetic rounds like the host's, for exact CPU/CUDA parity.
        extra["nvcc"] = ["-O3", "-lineinfo", "--fmad=false"] + (["-G"] if debug else [])
        cls = CUDAExtension
    print(f"sladd_fast build: cuda={with_cuda} debug={debug} CUDA_HOME={CUDA_HOME} "
          f"arch={os.environ.get('TORCH_CUDA_ARCH_LIST')} sources={sources}")
    return cls("sladd_fast._C", sources, extra_compile_args=extra, extra_link_args=openmp,
               include_dirs=include_dirs)


# The CUDA kernel sources the NVRTC path compiles at run time (sladd_fast/_jit.py), shipped inside the
# package so an installed wheel has them too.
KERNEL_SOURCES = ["cuda/kernels.cu", "cuda/kernels.cuh", "cuda/launch.h"] + sorted(
    os.path.relpath(p, os.path.join(ROOT, "csrc")) for p in glob.glob(os.path.join(ROOT, "csrc", "common", "*.h")))


class BuildPyWithKernelSources(build_py):
    """build_py that also copies KERNEL_SOURCES to sladd_fast/csrc/ in the build."""

    def run(self) -> None:
        super().run()
        for rel in KERNEL_SOURCES:
            dst = os.path.join(self.build_lib, "sladd_fast", "csrc", rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(ROOT, "csrc", rel), dst)


setup(
    name="sladd-fast",
    version="0.1.0",
    description="GPU-batched SLADD forgery synthesis and training",
    packages=find_packages(include=["sladd_fast", "sladd_fast.*", "pipelines"]),
    package_data={"sladd_fast": ["py.typed"]},
    ext_modules=[_extension()],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True), "build_py": BuildPyWithKernelSources},
    python_requires=">=3.10",
)
