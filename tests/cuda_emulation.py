"""Runs csrc/cuda/kernels.cuh on the host: every kernel compiled by g++ behind a tiny CUDA shim and
executed block by block, thread by thread, in order, with the launch geometry of sladd_fast._jit.

What this checks without a GPU: the kernels' own indexing (sample, channel, pixel, box, plane
offsets), early returns, and the argument order and types that _jit.py passes. What it cannot
check: races and anything about real concurrency (threads run one after another, so "thread 0 fills
shared memory, then __syncthreads()" works; compute-sanitizer on a GPU is the tool for races), and
device arithmetic (host libm stands in for CUDA's). nvcc and NVRTC compile checks are separate tests.
"""
from __future__ import annotations

import ctypes
import os
import re
import subprocess

import numpy as np

from sladd_fast import _jit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = os.path.join(ROOT, "csrc", "cuda", "kernels.cuh")
THREADS = _jit.constants()["kThreads"]  # the launch geometry of cuda/launch.h, as _jit uses it

_SHIM = r"""
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
struct dim3 { unsigned x = 1, y = 1, z = 1; };
static dim3 blockIdx, threadIdx, blockDim, gridDim;
static inline void __syncthreads() {}
"""

_CTYPES = {"int": ctypes.c_int, "long long": ctypes.c_longlong, "float": ctypes.c_float}


def kernel_signatures() -> dict[str, list[tuple[str, str]]]:
    """{kernel name: [(C type, parameter name), ...]} parsed from kernels.cuh."""
    with open(KERNELS) as f:
        src = f.read()
    out = {}
    for name, params in re.findall(r"__global__\s+void\s+(\w+)\s*\(([^)]*)\)", src):
        items = []
        for p in params.split(","):
            m = re.match(r"\s*(.*?)\s*(\w+)\s*$", " ".join(p.split()))
            items.append((m.group(1), m.group(2)))
        out[name] = items
    return out


def _wrapper(name: str, params: list[tuple[str, str]]) -> str:
    decl = ", ".join(f"{t} {n}" for t, n in params)
    call = ", ".join(n for _, n in params)
    return f"""
extern "C" void emu_{name}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, {decl}) {{
  gridDim.x = gx; gridDim.y = gy; gridDim.z = gz; blockDim.x = bx;
  for (unsigned z = 0; z < gz; ++z)
    for (unsigned y = 0; y < gy; ++y)
      for (unsigned x = 0; x < gx; ++x) {{
        blockIdx.x = x; blockIdx.y = y; blockIdx.z = z;
        for (unsigned t = 0; t < bx; ++t) {{ threadIdx.x = t; {name}({call}); }}
      }}
}}
"""


def build(out_dir: str) -> "Emulator":
    """Compiles the kernels with the shim into a shared library under out_dir."""
    sigs = kernel_signatures()
    src = os.path.join(out_dir, "emulated_kernels.cpp")
    with open(src, "w") as f:
        f.write(_SHIM + f'#include "{KERNELS}"\n' + "".join(_wrapper(n, p) for n, p in sigs.items()))
    lib = os.path.join(out_dir, "emulated_kernels.so")
    proc = subprocess.run(["g++", "-std=c++17", "-O2", "-ffp-contract=off", "-fPIC", "-shared", "-o", lib, src],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return Emulator(ctypes.CDLL(lib), sigs)


class Emulator:
    """launch(name, n, samples, args, device, channels) with sladd_fast._jit._launch's signature."""

    def __init__(self, lib: ctypes.CDLL, sigs: dict[str, list[tuple[str, str]]]) -> None:
        self.lib, self.sigs = lib, sigs
        self.launched: set[str] = set()

    def launch(self, name: str, n: int, samples: int, args: tuple, device: object, channels: int = 1) -> None:
        if n == 0 or samples == 0 or channels == 0:
            return
        params = self.sigs[name]
        if len(args) != len(params):
            raise TypeError(f"{name} takes {len(params)} arguments, _jit passed {len(args)}")
        conv = []
        for (ctype, pname), a in zip(params, args):
            if ctype.endswith("*"):
                if not isinstance(a, int):
                    raise TypeError(f"{name}.{pname} is a pointer, _jit passed {type(a).__name__}")
                conv.append(ctypes.c_void_p(a))
            else:
                want = {"int": np.int32, "long long": np.int64, "float": np.float32}[ctype]
                if not isinstance(a, want):
                    raise TypeError(f"{name}.{pname} is {ctype}, _jit passed {type(a).__name__}")
                conv.append(_CTYPES[ctype](a.item()))
        grid = ((n + THREADS - 1) // THREADS, samples, channels)
        getattr(self.lib, "emu_" + name)(*(ctypes.c_uint(v) for v in grid + (THREADS,)), *conv)
        self.launched.add(name)
