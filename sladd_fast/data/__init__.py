"""Datasets: indexes (FF++, FF++-like test sets, DeepfakeBench), the landmark store, the demo data."""
from sladd_fast.data.index import (DEFAULT_FRAMES, METHODS, FrameIndex, deepfakebench_index, ffpp_index, read_pairs,
                                   testset_index)
from sladd_fast.data.store import LandmarkStore

__all__ = ["DEFAULT_FRAMES", "METHODS", "FrameIndex", "LandmarkStore", "deepfakebench_index", "ffpp_index",
           "read_pairs", "testset_index"]
