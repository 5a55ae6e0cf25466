"""Shared test data: synthetic faces, landmarks, devices."""
from __future__ import annotations

import pytest
import torch

from sladd_fast import faces
from sladd_fast._ext import has_ops

needs_cuda = pytest.mark.needs_cuda
needs_ext = pytest.mark.skipif(not has_ops(), reason="sladd_fast._C not built")


def cuda_backends() -> list[str]:
    """The CUDA backends present ("kernel": the compiled _C, "jit": NVRTC), in that order, limited to
    those SLADD_FAST_TEST_BACKENDS names (comma-separated) where it is set: device_check.sh's second
    run of the CUDA tests takes the compiled backend only, the first having run NVRTC."""
    import os

    from sladd_fast import _ext, _jit

    out = (["kernel"] if _ext.has_cuda_ops() else []) + (["jit"] if _jit.available() else [])
    only = os.environ.get("SLADD_FAST_TEST_BACKENDS")
    return [b for b in out if b in only.split(",")] if only else out


def cpu_and_cuda() -> list:
    return ["cpu", pytest.param("cuda", marks=needs_cuda)]


def landmarks(batch: int, seed: int = 0, size: int = 256) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return faces.random_landmarks(batch, size=size, generator=g)


def posed_landmarks(batch: int, seed: int = 0, size: int = 256, roll: float = 30.0,
                    iod: tuple[float, float] = (30.0, 120.0)) -> torch.Tensor:
    """Template faces with roll uniform in [-roll, roll] degrees and inter-eye distance uniform in
    ``iod`` px, centred in a size x size crop (+-10 px) with 0.7 px landmark noise. float32 [B,68,2]."""
    g = torch.Generator().manual_seed(seed)
    tpl = faces.face_template().double() - 0.5
    eyes = (tpl[36] + tpl[39]) / 2 - (tpl[42] + tpl[45]) / 2
    u = torch.rand(batch, 4, generator=g, dtype=torch.float64)
    ang = torch.deg2rad((u[:, 0] * 2 - 1) * roll)
    scale = (iod[0] + (iod[1] - iod[0]) * u[:, 1]) / eyes.norm()
    c, s = torch.cos(ang), torch.sin(ang)
    rot = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
    pts = torch.einsum("bij,kj->bki", rot, tpl) * scale[:, None, None]
    pts = pts + size / 2 + (u[:, None, 2:] * 20 - 10) + 0.7 * torch.randn(batch, 68, 2, generator=g, dtype=torch.float64)
    return pts.float()


def face_batch(batch: int, seed: int = 0, size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 [B,3,S,S], landmarks float32 [B,68,2])."""
    g = torch.Generator().manual_seed(seed)
    lm = faces.random_landmarks(batch, size=size, generator=g)
    return faces.render_faces(lm, size=size, generator=g), lm


def psnr(a, b) -> float:
    import numpy as np

    mse = float(((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _host_read_watch():
    from torch.utils._python_dispatch import TorchDispatchMode

    syncing = {"aten._local_scalar_dense", "aten.nonzero", "aten.masked_select", "aten._unique2", "aten.unique_dim",
               "aten.unique_consecutive", "aten.is_nonzero", "aten.equal", "aten.repeat_interleave"}
    rng_ops = {"aten.uniform_", "aten.normal_", "aten.random_", "aten.bernoulli_", "aten.bernoulli",
               "aten.exponential_", "aten.rand", "aten.randn", "aten.randint", "aten.randperm", "aten.multinomial",
               "aten.normal", "aten.rand_like", "aten.randn_like", "aten.randint_like"}

    class HostReadWatch(TorchDispatchMode):
        """Records every op that reads a value or a data-dependent size back to the host on a GPU
        (item(), bool(), nonzero, boolean-mask indexing, unique, ...): a CPU proxy of
        torch.cuda.set_sync_debug_mode("error")."""

        def __init__(self):
            super().__init__()
            self.seen = []
            self.rng = []  # random draws: inside a CUDA graph they would replay frozen

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = str(func.overloadpacket)
            if name in rng_ops:
                self.rng.append(name)
            bool_index = name in ("aten.index", "aten.index_put", "aten.index_put_") and any(
                isinstance(t, torch.Tensor) and t.dtype == torch.bool for t in (args[1] or []))
            if name in syncing or bool_index:
                self.seen.append(name)
            return func(*args, **(kwargs or {}))

    return HostReadWatch


HostReadWatch = _host_read_watch()


def interrupt_when(cmd: list[str], ready, timeout: float = 60.0) -> tuple[int, str]:
    """Runs ``cmd`` from the repository root, sends it SIGINT once ``ready()`` is true (or after
    ``timeout`` seconds), and returns its status and stderr: the Ctrl-C tests of the resumable CLIs."""
    import os
    import signal
    import subprocess
    import time

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(cmd, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def run_cpu_copy(code: str, out_path: str, no_avx2: bool = True):
    """Runs ``code`` in a fresh Python process from the repository root on the compiled backend with
    SLADD_FAST_NO_AVX2 set (the CPU loops' SSE2 or AVX2 copy is chosen once per process) and returns
    what it saved to ``sys.argv[1]`` (= ``out_path``) with torch.save."""
    import os
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "SLADD_FAST_NO_AVX2": "1" if no_avx2 else "0", "SLADD_FAST_BACKEND": "kernel"}
    proc = subprocess.run([sys.executable, "-c", code, out_path], capture_output=True, text=True, cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return torch.load(out_path)


def die(task: dict) -> dict:
    """A worker task that kills its own process, as the kernel's OOM killer would."""
    import os

    os._exit(9)
