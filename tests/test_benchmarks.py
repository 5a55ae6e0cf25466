"""The synthesis benchmark runs end to end on a tiny input and writes its JSON (no speed asserted)."""
from __future__ import annotations

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytest.importorskip("cv2")
pytest.importorskip("skimage")

from benchmarks import bench_synthesis  # noqa: E402


def test_bench_synthesis_writes_its_record(tmp_path):
    import torch

    env = {var: os.environ.get(var) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    threads = torch.get_num_threads()
    path = tmp_path / "synthesis.json"
    try:
        rc = bench_synthesis.main(["--device", "cpu", "--batch", "4", "--size", "64", "--threads", "1", "--iters",
                                   "2", "--baseline-iters", "2", "--rounds", "2", "--json", str(path)])
    finally:
        torch.set_num_threads(threads)
    assert rc == 0
    rec = json.loads(path.read_text())
    assert rec["suite"] == "synthesis" and rec["batch"] == 4 and rec["threads"] == 1
    assert rec["engine"]["iters"] == 2 and rec["engine"]["samples_per_s"] > 0
    assert rec["baseline"]["iters"] == 2 and len(rec["ratio_rounds"]) == 2 and rec["ratio"] > 0
    stages = rec["baseline"]["breakdown"]["stage_ms_per_sample"]
    assert set(stages) <= {"region", "deform", "align", "postprocess", "colour", "blend"} and "deform" in stages
    assert rec["env"]["git_sha"] and rec["env"]["device"] == "cpu"
    assert {var: os.environ.get(var) for var in env} == env  # main() restores this process's environment


def test_bench_train_writes_its_record(tmp_path, train_root):
    """All three arms and the step split on CPU at batch 1 (the loader arm on the demo data)."""
    import torch

    from benchmarks import bench_train

    threads = torch.get_num_threads()
    path = tmp_path / "train.json"
    try:
        rc = bench_train.main(["--device", "cpu", "--batch", "1", "--iters", "1", "--warmup", "1", "--rounds", "1",
                               "--root", train_root, "--backend", "torch", "--workers", "0", "--json", str(path)])
    finally:
        torch.set_num_threads(threads)
    assert rc == 0
    rec = json.loads(path.read_text())
    assert rec["suite"] == "train" and rec["batch"] == 1
    assert set(rec["step_s"]) == {"a_networks", "b_with_synthesis", "synthesizer_net", "detector_net", "c_end_to_end",
                                  "loader_only"}
    assert all(v > 0 for v in rec["step_s"].values())
    assert rec["ratio_b_over_a"] > 0 and rec["ratio_c_over_b"] > 0 and rec["loader"]["backend"] == "torch"
    assert set(rec["split_of_end_to_end_step"]) == {"synthesizer_net_s", "detector_net_s", "synthesis_s", "data_s",
                                                      "other_s"}
