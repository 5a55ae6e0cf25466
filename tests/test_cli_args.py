"""Every command-line tool answers a bad argument with one line on stderr and status 2 (the usage block
of argparse buried the message), naming the flag or path; nothing is created on the way."""
from __future__ import annotations

import importlib
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # for benchmarks/

from helpers import needs_ext  # noqa: E402

CASES = [
    ("sladd_fast.landmarks", ["{tmp}/missing"], "not a folder: {tmp}/missing"),
    ("sladd_fast.landmarks", ["{tmp}", "--workers", "0"], "argument --workers: must be >= 1, got 0"),
    ("sladd_fast.landmarks", ["{tmp}", "--chunk", "0"], "argument --chunk: must be >= 1, got 0"),
    ("sladd_fast.pack", ["{tmp}", "{tmp}/out", "--bogus"], "unrecognized arguments: --bogus"),
    ("sladd_fast.pack", ["{tmp}", "{tmp}/out", "--quality", "0"], "--quality must lie in 1..100"),
    ("sladd_fast.extract", ["{tmp}", "{tmp}/out", "--size", "0"], "argument --size: must be >= 16, got 0"),
    ("sladd_fast.extract", ["{tmp}", "{tmp}/out", "--format", "gif"], "argument --format: invalid choice: 'gif'"),
    ("sladd_fast.evaluate", ["ckpt.pt"], "the following arguments are required: --data-root, --dataset"),
    ("sladd_fast.evaluate", ["ckpt.pt", "--data-root", "{tmp}", "--dataset", "FF-DF", "--batch-size", "0"],
     "argument --batch-size: must be >= 1, got 0"),
    ("sladd_fast.evaluate", ["ckpt.pt", "--data-root", "{tmp}", "--dataset", "FF-DF", "--workers", "-1"],
     "argument --workers: must be >= 0, got -1"),
    ("sladd_fast.evaluate", ["{tmp}/missing.pt", "--data-root", "{tmp}", "--dataset", "FF-DF"],
     "checkpoint not found: {tmp}/missing.pt"),
    ("sladd_fast.data.demo", ["--out", "{tmp}/out", "--frames", "0"], "argument --frames: must be >= 1, got 0"),
    ("sladd_fast.data.demo", ["--out", "{tmp}/out", "--workers", "0"], "argument --workers: must be >= 1, got 0"),
    ("sladd_fast.data.demo", ["--out", "{tmp}/out", "--videos", "4"], "argument --videos: must be >= 6, got 4"),
    ("sladd_fast.demo", ["--out", "{tmp}/out", "--steps", "0"], "argument --steps: must be >= 1, got 0"),
    pytest.param("benchmarks.sanitize_ops", ["--device", "cpu", "--ops", "nope"], "--ops: unknown op(s) ['nope']",
                 marks=needs_ext),  # without _C its --backend kernel check speaks first
]


def _id(case) -> str:
    module, argv, _ = case.values if hasattr(case, "values") else case
    return f"{module}:{argv[-1]}"


@pytest.mark.parametrize("module, argv, message", CASES, ids=[_id(c) for c in CASES])
def test_argument_errors_are_one_line(module, argv, message, tmp_path, capsys):
    def fill(text: str) -> str:
        return text.replace("{tmp}", str(tmp_path))

    before = sorted(os.listdir(tmp_path))
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main([fill(a) for a in argv])
    err = capsys.readouterr().err
    assert e.value.code == 2 and fill(message) in err, err
    assert err.count("\n") == 1 and "usage:" not in err and "Traceback" not in err, err
    assert sorted(os.listdir(tmp_path)) == before  # no output folder made before the refusal
