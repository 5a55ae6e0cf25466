"""The synthesis benchmark runs end to end on a tiny input and writes its JSON (no speed asserted)."""
from __future__ import annotations

import json
import os
import sys

import pytest
import torch

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
    assert set(rec["step_s"]) == {"a_networks", "b_with_synthesis", "synthesizer_net", "detector_net", "synthesis",
                                  "c_end_to_end", "loader_only"}
    assert all(v > 0 for v in rec["step_s"].values())
    assert rec["ratio_b_over_a"] > 0 and rec["ratio_c_over_b"] > 0 and rec["loader"]["backend"] == "torch"
    split = rec["split_of_end_to_end_step"]
    assert set(split) == {"synthesizer_net_s", "detector_net_s", "synthesis_s", "b_minus_a_s", "data_s", "other_s"}
    assert split["synthesis_s"] == rec["step_s"]["synthesis"] > 0  # timed alone, never a negative difference
    assert rec["command"]["args"]["workers"] == 0 and rec["env"]["timestamp_utc"]


@pytest.mark.parametrize("bench, argv, message", [
    ("bench_synthesis", ["--batch", "0"], "argument --batch: must be >= 1, got 0"),
    ("bench_synthesis", ["--iters", "-1"], "argument --iters: must be >= 1"),
    ("bench_synthesis", ["--size", "7"], "argument --size: must be >= 16"),
    ("bench_synthesis", ["--threads", "0"], "argument --threads"),
    ("bench_synthesis", ["--batch", "2", "--baseline-batch", "8"], "--baseline-batch 8: at most --batch (2)"),
    ("bench_synthesis", ["--json", "{tmp}"], "--json {tmp}: is a folder"),
    ("bench_augment", ["--mode", "sladd", "--batch", "1"], "needs at least 2"),
    ("bench_augment", ["--rounds", "0"], "argument --rounds"),
    ("bench_loader", ["--epochs", "0"], "argument --epochs: must be >= 1"),
    ("bench_loader", ["--dataset", "Deepfakes"], "argument --dataset: invalid choice"),
    ("bench_loader", ["--workers", "-1"], "argument --workers: must be >= 0"),
    ("bench_train", ["--iters", "-1"], "argument --iters"),
    ("bench_train", ["--size", "128"], "argument --size: invalid choice"),
    ("bench_train", ["--root", "{tmp}/missing"], "--root {tmp}/missing: no such folder"),
    ("bench_train", ["--no-loader", "--backend", "dali"], "--no-loader skips"),
    ("cost_model", ["--batch", "0"], "argument --batch"),
    ("cost_model", ["--json", "{here}/sub/x.json"], "--json {here}/sub/x.json: {here} is a file, not a folder"),
])
def test_bad_arguments_are_one_line_and_status_2_before_any_work(bench, argv, message, tmp_path, capsys):
    """Counts that give no meaningful figure, sizes the code cannot take and output paths that cannot be
    written are refused up front (a bad --json used to lose the whole run at its end)."""
    import importlib

    mod = importlib.import_module(f"benchmarks.{bench}")
    def fill(text: str) -> str:  # {here}: a file (this test module), so nothing can be created under it
        return text.replace("{tmp}", str(tmp_path)).replace("{here}", os.path.abspath(__file__))

    with pytest.raises(SystemExit) as e:
        mod.main([fill(a) for a in argv])
    err = capsys.readouterr().err
    assert e.value.code == 2 and fill(message) in err, err
    assert err.count("\n") == 1 and "Traceback" not in err  # one line, not the usage block


@pytest.mark.parametrize("bench", ["bench_synthesis", "bench_augment", "bench_loader", "bench_train", "sanitize_ops"])
def test_device_cuda_without_a_gpu_is_one_line(bench, monkeypatch, capsys):
    """--device cuda where no GPU is visible, and --graph without --device cuda, are refused up front with
    one line (benchmarks.common.check_device), on a GPU machine too (is_available patched)."""
    import importlib

    import torch

    mod = importlib.import_module(f"benchmarks.{bench}")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cases = [(["--device", "cuda"], "--device cuda: no CUDA device")]
    if bench in ("bench_synthesis", "bench_augment"):
        cases.append((["--device", "cpu", "--graph"], "--graph needs --device cuda"))
    for argv, message in cases:
        with pytest.raises(SystemExit) as e:
            mod.main(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2 and message in err and err.count("\n") == 1, err


def test_cost_model_counts_every_stage(tmp_path, monkeypatch):
    """The cost model runs the sync-free branches (the GPU's) and attributes ops, bytes and the
    peak to named stages; totals are the stages' sums."""
    import torch

    from benchmarks import cost_model

    monkeypatch.setenv("SLADD_FAST_SYNC_FREE", "0")  # main() sets it to 1 for its run only
    threads = torch.get_num_threads()
    path = tmp_path / "cost.json"
    try:
        assert cost_model.main(["--batch", "4", "--size", "64", "--iters", "1", "--json", str(path)]) == 0
    finally:
        torch.set_num_threads(threads)
    rec = json.loads(path.read_text())
    names = [r["stage"] for r in rec["stages"]]
    assert {"params", "region", "deform", "align", "postprocess", "color", "guard", "blend", "target"} <= set(names)
    assert rec["total"]["ops"] == sum(r["ops"] for r in rec["stages"]) > 100
    assert rec["total"]["mb_read_per_forgery"] > 0 and rec["total"]["peak_live_mb_per_forgery"] > 0
    blend = next(r for r in rec["stages"] if r["stage"] == "blend")
    # The DST's FLOPs are the four products on the Poisson samples' boxes only: below the full 62 x 62
    # canvas' (4 products x 3 channels x 2 62^3) that every sample paid before.
    assert 0 < blend["mflop_per_forgery"] < 4 * 3 * 2 * 62 ** 3 / 1e6
    heavy = rec["heaviest_ops"]  # the ops moving the most bytes, heaviest first, within the total
    assert len(heavy) == 10 and [h["mb_per_forgery"] for h in heavy] == sorted(
        (h["mb_per_forgery"] for h in heavy), reverse=True)
    total_mb = rec["total"]["mb_read_per_forgery"] + rec["total"]["mb_written_per_forgery"]
    assert 0 < sum(h["mb_per_forgery"] for h in heavy) <= total_mb + 1e-9
    assert all(h["stage"] in names and h["calls"] >= 1 for h in heavy)
    assert os.environ["SLADD_FAST_SYNC_FREE"] == "0"  # main() restores the environment


def test_bench_loader_repeats_a_small_index_to_whole_epochs(tmp_path, train_root, capsys):
    """A batch larger than the whole index: the index is repeated to --min-batches batches per epoch
    (start-up no longer dominates); without repetition the short epoch is one clear line."""
    from benchmarks import bench_loader

    path = tmp_path / "loader.json"
    args = ["--backend", "torch", "--root", train_root, "--batch", "64", "--size", "64", "--epochs", "1",
            "--workers", "0", "--dataset", "FF-DF"]
    assert bench_loader.main(args + ["--min-batches", "2", "--json", str(path)]) == 0
    rec = json.loads(path.read_text())
    assert rec["items_per_epoch"] >= 128 and rec["torch"]["frames"] == 2 * 2 * 64
    assert len(rec["torch"]["epoch_frames_per_s"]) == 1
    assert bench_loader.main(args + ["--min-batches", "0"]) == 2
    assert "cannot give every one of 1 rank(s) a batch of 64" in capsys.readouterr().err


def test_bench_loader_loaders_take_turns_epoch_by_epoch():
    """The timed loader and its baseline alternate epochs after a warm-up epoch each, and each one's
    per-epoch rates and totals are its own."""
    from benchmarks import bench_loader

    calls = []

    class Fake:
        def __init__(self, name, items):
            self.name, self.items = name, items

        def epoch(self, e):
            calls.append((self.name, e))
            return iter([[0] * self.items] * 3)

    a, b = bench_loader.measure([Fake("a", 4), Fake("b", 2)], 2, torch.device("cpu"))
    assert calls == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert a["frames"] == 2 * 3 * 2 * 4 and b["frames"] == 2 * 3 * 2 * 2
    assert len(a["epoch_frames_per_s"]) == len(b["epoch_frames_per_s"]) == 2


def test_bench_batch_transport_times_both_hand_overs(tmp_path, train_root, capsys):
    """All four ways (frames packed or a tensor each, masks uint8 or float) run over the same epochs
    through real DataLoader workers and are recorded with their rounds and the now/before ratio."""
    from benchmarks import bench_batch_transport

    path = tmp_path / "transport.json"
    assert bench_batch_transport.main(["--root", train_root, "--batch", "4", "--workers", "1", "--min-batches", "3",
                                       "--rounds", "2", "--json", str(path)]) == 0
    rec = json.loads(path.read_text())
    assert rec["frames_per_epoch"] == 2 * 4 * (rec["frames_per_epoch"] // 8) >= 2 * 4 * 3
    for side in ("packed_uint8", "packed_float", "per_frame_uint8", "per_frame_float"):
        assert len(rec[side]["rounds"]) == 2 and rec[side]["frames_per_s"] > 0
    assert len(rec["ratio_rounds"]) == 2 and rec["ratio"] > 0 and "ratio now/before" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench_batch_transport.main(["--root", str(tmp_path / "nope")])
    assert "no landmarks.npz" in capsys.readouterr().err


def test_bench_augment_writes_its_record(tmp_path, capsys):
    import torch

    from benchmarks import bench_augment

    threads = torch.get_num_threads()
    path = tmp_path / "augment.json"
    try:
        assert bench_augment.main(["--mode", "sladd", "--batch", "4", "--size", "64", "--threads", "1", "--iters", "2",
                                   "--baseline-iters", "2", "--rounds", "2", "--json", str(path)]) == 0
    finally:
        torch.set_num_threads(threads)
    rec = json.loads(path.read_text())
    assert rec["suite"] == "augment" and rec["mode"] == "sladd" and rec["module"]["samples_per_s"] > 0
    assert len(rec["ratio_rounds"]) == 2 and rec["ratio"] > 0 and rec["baseline"]["batch"] == 4
    assert bench_augment.main(["--mode", "sbi", "--batch", "4", "--size", "64", "--threads", "1", "--iters", "1",
                               "--baseline-iters", "1", "--rounds", "1", "--json", str(path)]) == 0
    rec = json.loads(path.read_text())
    assert rec["mode"] == "sbi" and rec["baseline"]["impl"] in ("albumentations", "opencv")
    # SBI's own calls exactly where albumentations 1.x is installed (the env records its version)
    assert (rec["baseline"]["impl"] == "albumentations") == (rec["env"]["albumentations"] or "").startswith("1.")
    assert bench_augment.main(["--mode", "xray", "--batch", "4", "--size", "64", "--threads", "1", "--iters", "1",
                               "--baseline-iters", "1", "--rounds", "1", "--json", str(path)]) == 0
    rec = json.loads(path.read_text())
    torch.set_num_threads(threads)
    assert rec["mode"] == "xray" and rec["ratio"] > 0 and rec["baseline"]["samples_per_s"] > 0


def _device_check_commands(text: str) -> dict[str, list[list[str]]]:
    """{script: [the flags of each of its command lines]} in device_check.sh: benchmarks/*.py, train.py,
    and the bench_synthesis shell function's calls (flags for bench_synthesis.py, after its backend,
    batch and time)."""
    import re

    logical = re.sub(r"\\\n\s*", " ", text)  # continuation lines joined
    values: dict[str, list[str]] = {}
    for name, value in re.findall(r'(\w+)="(--[^"]*)"', logical):  # flags kept in variables (loader_args=...)
        values.setdefault(name, []).append(value)
    for name, vs in values.items():  # every value the variable may hold
        logical = logical.replace(f"${name}", " ".join(vs))
    out: dict[str, list[list[str]]] = {}
    for line in logical.splitlines():
        for m in re.finditer(r"\$PY (benchmarks/\w+\.py|train\.py)|^\s*(bench_synthesis)(?= (?:kernel|jit) \d)", line):
            script = m.group(1) or "benchmarks/bench_synthesis.py"
            rest = re.split(r"\s(?:\d?>|\||2>&1)", line[m.end():])[0]
            out.setdefault(script, []).append(rest.split())
    return out


def test_device_check_script_is_valid_and_its_test_selections_exist(capsys, tmp_path):
    """The GPU checklist runs unattended on scarce device time: the script parses, every suite is
    reachable, every test file it names exists and every -k selection picks tests, and every flag it
    passes to a benchmark or to train.py is one that program accepts."""
    import importlib
    import re
    import subprocess

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.join(repo, "benchmarks", "device_check.sh")
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    text = open(script).read()
    suites = ("synthesis", "train", "train_compile", "loader", "augment")
    assert re.search(r"^\s*" + re.escape("|".join(suites)) + r"\) SUITES\+=", text, re.M)
    for suite in suites:
        assert re.search(rf"^{suite}_suite\(\) {{", text, re.M), suite
    assert "engine) SUITES+=(synthesis)" in text and "all) SUITES+=(" + " ".join(suites) + ")" in text
    files = set(re.findall(r"tests/test_\w+\.py", text))
    assert files and all(os.path.isfile(os.path.join(repo, f)) for f in files), files
    for k in re.findall(r'-k "([^"]+)"', text):
        proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/test_data_loader.py",
                               "-k", k], capture_output=True, text=True, cwd=repo)
        assert " selected" in proc.stdout or "tests collected" in proc.stdout, (k, proc.stdout[-500:])
        assert not re.search(r"\b0 selected\b|no tests ran", proc.stdout), k

    commands = _device_check_commands(text)
    assert set(commands) == {"benchmarks/bench_synthesis.py", "benchmarks/bench_train.py", "benchmarks/bench_loader.py",
                             "benchmarks/bench_augment.py", "benchmarks/sanitize_ops.py", "train.py",
                             "benchmarks/bench_batch_transport.py"}, set(commands)
    assert len(commands["benchmarks/bench_synthesis.py"]) == 6  # the function, 4 calls compiled, 1 on NVRTC
    from sladd_fast.ops import _library

    sanitized = re.findall(r"\bsanitize (\w+) (kernel|jit) \d+(?: ([\w,]+))?", text)
    assert {(t, b) for t, b, _ in sanitized} == {("memcheck", "kernel"), ("racecheck", "kernel"), ("memcheck", "jit")}
    for _, _, op_list in sanitized:  # sanitize_ops' --ops: schema names
        assert not op_list or set(op_list.split(",")) <= set(_library.SCHEMAS), op_list
    from sladd_fast.train import cli

    for path, lines in commands.items():
        if path == "train.py":
            for argv in lines:  # the whole command line parses (dotted --run.* overrides included)
                cli.parse([str(tmp_path) if a.startswith('"$OUT_DIR') else a for a in argv])
            continue
        with pytest.raises(SystemExit):
            importlib.import_module(path[:-3].replace("/", ".")).main(["--help"])
        shown = capsys.readouterr().out
        flags = {a.split("=")[0] for argv in lines for a in argv if a.startswith("--")}
        assert flags, path
        if path.endswith("bench_train.py"):
            assert {"--root", "--workers", "--no-loader"} <= flags  # loader_args' two forms
        for f in flags:
            assert re.search(rf"(?<![\w-]){re.escape(f)}(?=[\s,=\]]|$)", shown, re.M), (path, f)


def test_device_check_budget_skips_what_no_longer_fits(tmp_path):
    """With a budget too small for any step, every step of the named suites is skipped and listed (the
    suites that need no GPU to get that far: train, augment, loader), and an unknown suite is refused."""
    import subprocess

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, DEVICE_BUDGET_S="10", OUT=str(tmp_path), PYTHON=sys.executable, LOADER_ROOT=str(tmp_path))
    proc = subprocess.run(["bash", "benchmarks/device_check.sh", "train", "nope"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown suite: nope" in proc.stdout
    proc = subprocess.run(["bash", "benchmarks/device_check.sh", "train", "augment", "loader"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    skipped = (tmp_path / "skipped.txt").read_text().splitlines()
    assert len([s for s in skipped if s.startswith("train: ")]) == 4
    assert len([s for s in skipped if s.startswith("augment: ")]) == 10
    assert len([s for s in skipped if s.startswith("loader: ")]) in (4, 5)  # 5 where DALI is installed
    assert [p.name for p in tmp_path.glob("*.json")] == ["env.json"]  # nothing ran


def test_device_check_steps_time_out_and_skip_by_the_budget(tmp_path):
    """device_check.sh's step function (sourced alone): a step past its timeout is killed, noted with
    its status and listed in skipped.txt; a step needing more than twice what is left is skipped;
    logged_step keeps the output in its own file and logs the last line, with the step's status."""
    import subprocess

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(repo, "benchmarks", "device_check.sh")).read()
    fns = text[text.index("log() {"):text.index("note() {")] + text[text.index("note() {"):].split("\n", 1)[0] + "\n"
    fns += text[text.index("suite_start() {"):text.index("\ntrain_suite() {")]
    script = fns + f"""
OUT_DIR={tmp_path}; BUDGET_S=30
suite_start demo
step "sleeper" 2 sleep 20 2>&1 | tee -a "$OUT_DIR/device_check.log"
step "quick" 5 true
step "too long" 100 true
echo "rc=$?"
logged_step out.log "tally" 5 bash -c 'echo first; echo "2 passed"; exit 1'
echo "logged rc=$?"
logged_step never.log "never" 100 true
echo "never rc=$?"
"""
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "rc=99" in proc.stdout, proc.stdout + proc.stderr
    assert (tmp_path / "skipped.txt").read_text().splitlines() == ["demo: sleeper (timed out after 2s)",
                                                                   "demo: too long", "demo: never"]
    log = (tmp_path / "device_check.log").read_text()
    assert "step 'sleeper' rc=124" in log and "step 'quick' rc=0" in log and log.count("too long") == 1
    assert "logged rc=1" in proc.stdout and "never rc=99" in proc.stdout
    assert (tmp_path / "out.log").read_text() == "first\n2 passed\n"
    assert "step 'tally' rc=1" in log and "] tally: 2 passed" in log and "never:" not in log


def test_collect_device_results_files_and_summarizes_a_run(tmp_path, capsys):
    """A device_check.sh folder (env.json, a benchmark JSON, junit XML, sanitizer logs, skipped.txt):
    its JSONs are copied under date--name--gpu names, the summary carries the tests, sanitizers, build,
    skipped steps and figures; a second run refuses to overwrite; a CPU run's folder is refused."""
    from benchmarks import collect_device_results as cdr

    out, dest = tmp_path / "out", tmp_path / "results"
    out.mkdir()
    (out / "env.json").write_text(json.dumps({"torch": "2.11", "cuda": "13.0", "gpu": "NVIDIA H200", "timm": "1.0",
                                              "timestamp_utc": "2026-12-01T09:58:00+00:00"}))
    (out / "bench_synthesis_cuda_b256.json").write_text(json.dumps({
        "suite": "synthesis", "engine": {"samples_per_s": 51234.5}, "graph": {"samples_per_s": 60001.0},
        "peak_mem_mb_per_forgery": 1.91, "ratio": 400.0, "env": {"timestamp_utc": "2026-12-01T10:00:00+00:00"}}))
    (out / "pytest_kernel.xml").write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1">'
        '<testcase classname="tests.test_cuda_ops" name="test_a"/><testcase classname="tests.test_cuda_ops" '
        'name="test_b"><failure message="x"/></testcase></testsuite></testsuites>')
    (out / "sanitizer_memcheck_kernel.log").write_text("all ops ran\n========= ERROR SUMMARY: 0 errors\n")
    (out / "skipped.txt").write_text("synthesis: bench_synthesis b4096\n")
    (out / "device_check.log").write_text("[10:00:00] build rc=0\n")
    assert cdr.main([str(out), "--dest", str(dest)]) == 0
    text = capsys.readouterr().out
    name = "2026-12-01--bench_synthesis_cuda_b256--nvidia-h200.json"
    assert (dest / name).is_file() and json.loads((dest / name).read_text())["engine"]["samples_per_s"] == 51234.5
    assert "GPU: NVIDIA H200" in text and "CUDA build: rc 0" in text
    assert "3 tests: 1 failed, 0 errors, 1 skipped; failing: tests.test_cuda_ops::test_b" in text
    assert "sanitizer_memcheck_kernel: ERROR SUMMARY: 0 errors" in text
    assert "skipped: synthesis: bench_synthesis b4096" in text
    assert f"{name}: engine 51,234 samples/s, graph 60,001 samples/s, peak 1.91 MB/forgery, ratio 400.0x" in text
    rec = {"env": {"timestamp_utc": "2026-12-01T10:00:00+00:00"}}
    (out / "bench_batch_transport_b128.json").write_text(json.dumps({
        **rec, "packed_uint8": {"frames_per_s": 41000.0}, "per_frame_float": {"frames_per_s": 4100.0}, "ratio": 10.0}))
    (out / "bench_train_cuda_b32.json").write_text(json.dumps({
        **rec, "items_per_s": {"a": 900.0}, "ratio_b_over_a": 0.91, "ratio_c_over_b": 0.97}))
    assert cdr.main([str(out), "--dest", str(dest), "--dry-run", "--force"]) == 0
    text = capsys.readouterr().out
    assert "packed_uint8 41,000 frames/s, per_frame_float 4,100 frames/s, ratio 10.0x" in text
    assert "a 900.0 items/s, b/a 0.91, c/b 0.97" in text
    # A record without a time of its own (the training summary) is dated by the run, not by today.
    (out / "train_synthetic_summary.json").write_text(json.dumps({"items_per_s": 800.0}))
    assert cdr.main([str(out), "--dest", str(dest), "--dry-run", "--force"]) == 0
    assert "2026-12-01--train_synthetic_summary--nvidia-h200.json" in capsys.readouterr().out
    for f in ("bench_batch_transport_b128.json", "bench_train_cuda_b32.json", "train_synthetic_summary.json"):
        (out / f).unlink()
    assert cdr.main([str(out), "--dest", str(dest)]) == 2 and "exists (--force replaces it)" in capsys.readouterr().err
    assert cdr.main([str(out), "--dest", str(dest), "--force"]) == 0
    (out / "env.json").write_text(json.dumps({"torch": "2.11", "gpu": None}))
    assert cdr.main([str(out), "--dest", str(dest), "--force"]) == 2
    assert "names no GPU" in capsys.readouterr().err
    (out / "env.json").write_text(json.dumps({"gpu": "NVIDIA H200"}))
    (out / "bench_broken.json").write_text("{not json")
    assert cdr.main([str(out), "--dest", str(dest), "--force"]) == 2
    assert "bench_broken.json: not valid JSON" in capsys.readouterr().err
    (out / "env.json").unlink()
    assert cdr.main([str(out), "--dest", str(dest)]) == 2
    assert "env.json: not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cdr.main([str(tmp_path / "nope")])
    assert "not a folder" in capsys.readouterr().err


def test_device_check_synthesis_rerun_reuses_the_build(tmp_path):
    """DEVICE_REUSE_BUILD=1 with a _C that has its CUDA kernels: no NVRTC run, no build (the _C is
    kept), DEVICE_SKIP_TESTS=1 no compiled test run; the budget then goes to the benchmarks."""
    import subprocess

    from sladd_fast import _ext

    if not _ext.has_cuda_ops():  # without one the suite would delete and rebuild this checkout's _C
        pytest.skip("sladd_fast._C has no CUDA kernels here")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    before = sorted(f for f in os.listdir(os.path.join(repo, "sladd_fast")) if f.startswith("_C"))
    env = dict(os.environ, DEVICE_BUDGET_S="10", OUT=str(tmp_path), PYTHON=sys.executable,
               DEVICE_REUSE_BUILD="1", DEVICE_SKIP_TESTS="1")
    proc = subprocess.run(["bash", "benchmarks/device_check.sh", "synthesis"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert sorted(f for f in os.listdir(os.path.join(repo, "sladd_fast")) if f.startswith("_C")) == before
    assert "reusing the built sladd_fast._C" in proc.stdout and "compiled test run skipped" in proc.stdout
    assert not (tmp_path / "build.log").exists() and not (tmp_path / "pytest_jit.log").exists()
    skipped = (tmp_path / "skipped.txt").read_text()
    assert skipped.count("synthesis: bench_synthesis") == 5
