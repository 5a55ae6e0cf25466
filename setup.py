"""Builds sladd_fast._C from csrc/.

C++ CPU kernels always; CUDA kernels (csrc/cuda/bindings.cu) when a CUDA toolkit is found and torch
sees a GPU, or when FORCE_CUDA=1 (torchvision's rule, so a CPU-only CI never pays for nvcc).
DEBUG=1 builds with -O0 -g. Build in place with:

    pip install --no-build-isolation -e .

(--no-build-isolation: an isolated build would download a different torch.)
"""
from __future__ import annotations

import glob
import os

from setuptools import find_packages, setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

import torch

ROOT = os.path.dirname(os.path.abspath(__file__))


def _extension():
    debug = os.environ.get("DEBUG", "0") == "1"
    force_cuda = os.environ.get("FORCE_CUDA", "0") == "1"
    with_cuda = CUDA_HOME is not None and (torch.cuda.is_available() or force_cuda)
    sources = sorted(glob.glob(os.path.join("csrc", "*.cpp")) + glob.glob(os.path.join("csrc", "cpu", "*.cpp")))
    cxx = ["-O0", "-g"] if debug else ["-O3"]
    extra = {"cxx": cxx}
    cls = CppExtension
    if with_cuda:
        sources += glob.glob(os.path.join("csrc", "cuda", "bindings.cu"))
        # --fmad=false: device arithmetic rounds like the host's, for exact CPU/CUDA parity.
        extra["nvcc"] = ["-O3", "-lineinfo", "--fmad=false"] + (["-G"] if debug else [])
        cls = CUDAExtension
    print(f"sladd_fast build: cuda={with_cuda} debug={debug} CUDA_HOME={CUDA_HOME} sources={sources}")
    return cls("sladd_fast._C", sources, extra_compile_args=extra)


setup(
    name="sladd-fast",
    version="0.1.0",
    description="GPU-batched SLADD forgery synthesis and training",
    packages=find_packages(include=["sladd_fast", "sladd_fast.*", "pipelines"]),
    package_data={"sladd_fast": ["py.typed"]},
    ext_modules=[_extension()],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)},
    python_requires=">=3.10",
)
