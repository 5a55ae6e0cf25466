"""Runs csrc/cuda/kernels.cuh on the host: every kernel compiled by g++ behind a tiny CUDA shim and
executed block by block, thread by thread, in order, with the launch geometry of sladd_fast._jit.

What this checks without a GPU: the kernels' own indexing (sample, channel, pixel, box, plane
offsets), early returns, and the argument order and types that _jit.py passes. Kernels without
__syncthreads run their threads one after another; a kernel that calls it (the tiled DST products,
whose threads fill shared memory together) runs each block's threads as host threads meeting at a
real barrier, so a missing or misplaced barrier shows up as wrong values there too. What it cannot
check: races between barriers (compute-sanitizer's racecheck on a GPU is the tool) and device
arithmetic (host libm stands in for CUDA's). nvcc and NVRTC compile checks are separate tests.
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
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
struct dim3 { unsigned x = 1, y = 1, z = 1; };
static dim3 blockIdx, blockDim, gridDim;
static thread_local dim3 threadIdx;
struct EmuBarrier {  // the block's barrier when its threads run as host threads
  std::mutex m;
  std::condition_variable cv;
  unsigned waiting = 0, total = 1, generation = 0;
  void wait() {
    std::unique_lock<std::mutex> lock(m);
    const unsigned g = generation;
    if (++waiting == total) {
      waiting = 0;
      ++generation;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return generation != g; });
    }
  }
};
static EmuBarrier emu_barrier;
static inline void __syncthreads() { emu_barrier.wait(); }
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


def barrier_kernels() -> set[str]:
    """The kernels whose body calls __syncthreads (run with one host thread per CUDA thread)."""
    with open(KERNELS) as f:
        src = f.read()
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"__global__\s+void\s+(\w+)\s*\(", src)]
    out = set()
    for k, (pos, name) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(src)
        if "__syncthreads" in src[pos:end]:
            out.add(name)
    return out


def _wrapper(name: str, params: list[tuple[str, str]], threaded: bool) -> str:
    decl = ", ".join(f"{t} {n}" for t, n in params)
    call = ", ".join(n for _, n in params)
    if threaded:
        return f"""
extern "C" void emu_{name}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, {decl}) {{
  gridDim.x = gx; gridDim.y = gy; gridDim.z = gz; blockDim.x = bx;
  emu_barrier.total = bx;
  for (unsigned z = 0; z < gz; ++z)
    for (unsigned y = 0; y < gy; ++y)
      for (unsigned x = 0; x < gx; ++x) {{
        blockIdx.x = x; blockIdx.y = y; blockIdx.z = z;
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < bx; ++t)
          threads.emplace_back([=] {{ threadIdx.x = t; {name}({call}); }});
        for (auto& th : threads) th.join();
      }}
}}
"""
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
    threaded = barrier_kernels()
    src = os.path.join(out_dir, "emulated_kernels.cpp")
    with open(src, "w") as f:
        f.write(_SHIM + f'#include "{KERNELS}"\n' + "".join(_wrapper(n, p, n in threaded) for n, p in sigs.items()))
    lib = os.path.join(out_dir, "emulated_kernels.so")
    cmd = ["g++", "-std=c++17", "-O2", "-ffp-contract=off", "-fPIC", "-shared", "-pthread", "-o", lib, src]
    proc = subprocess.run(cmd, capture_output=True, text=True)
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
