"""Markers: needs_cuda (skipped without a GPU), needs_nvcc (skipped without nvcc)."""
from __future__ import annotations

import shutil

import pytest
import torch


def _has_cuda() -> bool:
    return torch.cuda.is_available()


def _has_dali() -> bool:
    try:
        import nvidia.dali  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_cuda: requires a CUDA device")
    config.addinivalue_line("markers", "needs_nvcc: requires nvcc on PATH")
    config.addinivalue_line("markers", "needs_dali: requires nvidia-dali")
    config.addinivalue_line("markers", "slow: takes more than a few seconds on 2 CPU cores")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_cuda = pytest.mark.skip(reason="no CUDA device")
    skip_nvcc = pytest.mark.skip(reason="nvcc not found on PATH")
    skip_dali = pytest.mark.skip(reason="nvidia-dali not installed")
    for item in items:
        if "needs_dali" in item.keywords and not _has_dali():
            item.add_marker(skip_dali)
        if "needs_cuda" in item.keywords and not _has_cuda():
            item.add_marker(skip_cuda)
        if "needs_nvcc" in item.keywords and shutil.which("nvcc") is None:
            item.add_marker(skip_nvcc)


@pytest.fixture(scope="session")
def train_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The embedded demo dataset (FF++ layout, 256 px, landmarks), 6 videos x 2 frames, built once.
    Skips where dlib or its 68-point model is missing (the GPU machine): the demo finds its face with
    them."""
    import importlib.util

    from sladd_fast.data import demo

    for module in ("dlib", "face_recognition_models"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: the demo data is built with dlib's 68-point landmarks")

    root = str(tmp_path_factory.mktemp("demo") / "data")
    demo.build(root, videos=6, frames=2, size=256, seed=0)
    return root
