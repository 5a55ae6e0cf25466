"""train.py's command line: the seed's flags, config files and dotted overrides, clear errors."""
from __future__ import annotations

import os

import pytest

from sladd_fast.train.cli import parse

SEED_CMD = "--resolution 256 --dataname none --dset FF-DF --meta FF-DF -n 1 -g 8 -nr 0 -mp 5555".split()


def test_seed_command_parses_with_seed_defaults() -> None:
    cfg, args, notes = parse(SEED_CMD)
    assert (args.nodes, args.gpus, args.nr, args.masterport, args.master_addr) == (1, 8, 0, 5555, "localhost")
    assert cfg.data.resolution == 256 and cfg.data.dset == "FF-DF" and cfg.run.meta == "FF-DF"
    assert cfg.data.batch_size == 32 and cfg.run.epochs == 30 and cfg.optim.lr == 2e-4
    assert cfg.optim.lr * cfg.optim.syn_lr_scale == pytest.approx(5e-5) and cfg.optim.weight_decay == 5e-4
    assert cfg.policy.entropy == 1e-5 and cfg.data.root == "data" and cfg.model.pretrained is None
    assert cfg.run.seed is None  # train() draws it (or takes a resumed run's): tests/test_train_loop.py
    assert any("--dataname" in n for n in notes)


def test_seed_flags_map_to_config() -> None:
    cfg, _, _ = parse(["--train_batchSize", "4", "--nEpochs", "2", "--lr", "1e-4", "--manualSeed", "7",
                       "--data-root", "/d", "--max-steps", "5", "--device", "cpu", "--compile", "--dset", "ALL"])
    assert (cfg.data.batch_size, cfg.run.epochs, cfg.optim.lr, cfg.run.seed) == (4, 2, 1e-4, 7)
    assert (cfg.data.root, cfg.run.max_steps, cfg.run.device, cfg.run.compile, cfg.data.dset) == (
        "/d", 5, "cpu", True, "ALL")


def test_loader_flags_map_to_config_and_pick_the_loader() -> None:
    """--bad-frames and --decode reach the data config; --decode cuda with --backend auto means the
    PyTorch loader (its option), and with DALI or the synthetic backend it is refused."""
    from sladd_fast.train.loop import backend_name

    cfg, _, _ = parse(["--bad-frames", "raise", "--decode", "cuda"])
    assert (cfg.data.bad_frames, cfg.data.decode, cfg.data.backend) == ("raise", "cuda", "auto")
    assert backend_name(cfg.data) == "torch"
    cfg, _, _ = parse(["--backend", "torch"])
    assert (cfg.data.bad_frames, cfg.data.decode, backend_name(cfg.data)) == ("replace", "cpu", "torch")


def test_config_file_then_flags_then_dotted_overrides(tmp_path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("data:\n  batch_size: 8\n  workers: 1\noptim:\n  lr: 0.001\npolicy:\n  reward: sample\n")
    cfg, _, _ = parse(["--config", str(path), "--lr", "3e-4", "--optim.weight_decay=0", "--run.max_steps", "9",
                       "--manualSeed", "1"])
    assert cfg.data.batch_size == 8 and cfg.data.workers == 1 and cfg.policy.reward == "sample"
    assert cfg.optim.lr == 3e-4 and cfg.optim.weight_decay == 0.0 and cfg.run.max_steps == 9


def test_scientific_notation_reads_as_a_float(tmp_path) -> None:
    """YAML 1.1 reads 1e-4 (no dot) as a string: the help's own example must still work."""
    path = tmp_path / "run.yaml"
    path.write_text("optim:\n  weight_decay: 5e-5\n")
    cfg, _, _ = parse(["--config", str(path), "--optim.lr=1e-4"])
    assert cfg.optim.lr == 1e-4 and cfg.optim.weight_decay == 5e-5


@pytest.mark.parametrize("argv, message", [
    (["--optim.nope=1"], "unknown key optim.nope"),
    (["--policy.reward=best"], "policy.reward"),
    (["--data.eval_split=test"], "never uses the test split"),
    (["--data.batch_size=abc"], "data.batch_size"),
    (["--bogus"], "unrecognized"),
    (["--xception-weights", "/no/such/xception-b5690688.pth"], "/no/such/xception-b5690688.pth"),
    (["--pretrained", "/no/such/ckpt.pt"], "/no/such/ckpt.pt"),
    (["--optim.lr=fast"], "optim.lr"),
    (["--max-steps", "0"], "run.max_steps: must be positive"),
    (["--workers", "-3"], "data.workers: must be >= 0"),
    (["--data.eval_batch_size=0"], "data.eval_batch_size"),
    (["--run.eval_every=0"], "run.eval_every"),
    (["--lr=-1e-3"], "optim.lr: must be >= 0"),
    (["--beta1", "1.5"], "optim.beta1"),
    (["--resolution", "128"], "data.resolution: training runs at 256"),
    (["--decode", "cuda", "--backend", "dali"], "data.decode: cuda decodes in the PyTorch loader"),
    (["--decode", "cuda", "--backend", "synthetic"], "data.backend is 'synthetic'"),
    (["--bad-frames", "skip"], "--bad-frames"),
])
def test_bad_arguments_exit_with_a_message(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        parse(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err
    assert err.count("\n") == 1 and err.startswith("train.py: error: ")  # one line, not the usage block


def test_missing_config_file(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        parse(["--config", str(tmp_path / "none.yaml")])
    assert "none.yaml" in capsys.readouterr().err


def test_config_file_with_a_yaml_syntax_error(tmp_path, capsys) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("optim:\n  lr: [1e-4\n")
    with pytest.raises(SystemExit) as e:
        parse(["--config", str(path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "broken.yaml: not valid YAML" in err and "Traceback" not in err


def test_setup_errors_found_in_training_are_one_line_and_status_2(tmp_path, capsys) -> None:
    """Problems found after parsing (launch geometry, an unreadable last.pt to resume from) end like
    the argument errors: one line naming the flag or file, status 2, no traceback."""
    from sladd_fast.train.cli import main

    base = ["--backend", "synthetic", "--device", "cpu", "--out", str(tmp_path), "--meta", "m", "--max-steps", "1",
            "--run.progress=false"]
    assert main(base + ["-g", "0"]) == 2
    err = capsys.readouterr().err
    assert "-g 0" in err and "Traceback" not in err
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SystemExit) as e:
        main(base[:4] + ["--out", str(tmp_path / "afile")])
    assert e.value.code == 2 and "is a file" in capsys.readouterr().err
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "last.pt").write_bytes(b"half a checkpoint")
    assert main(base) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("train.py: error: ") and "last.pt" in err and "\n" not in err


def test_a_setup_error_in_spawned_ranks_is_one_line_and_status_2(tmp_path, capfd) -> None:
    """-g 2 on the CPU (two gloo processes) resuming from an unreadable last.pt: both ranks find it,
    local rank 0 prints it once, the others exit quietly; no traceback, no spawn warnings."""
    import socket

    from sladd_fast.train.cli import main

    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "last.pt").write_bytes(b"half a checkpoint")
    assert main(["--backend", "synthetic", "--device", "cpu", "-g", "2", "-mp", str(port), "--out", str(tmp_path),
                 "--meta", "m", "--max-steps", "1", "--run.progress=false"]) == 2
    err = capfd.readouterr().err.strip()
    assert err.count("train.py: error: ") == 1 and "last.pt" in err, err
    assert "Traceback" not in err and "Terminating process" not in err, err


def test_the_same_command_without_manual_seed_resumes(tmp_path, capsys) -> None:
    """README: rerunning the same command resumes. Without --manualSeed each run used to draw a new
    seed, and the data seed that follows it made the rerun a refused change."""
    import json

    from sladd_fast.train.cli import main

    cmd = ["--backend", "synthetic", "--device", "cpu", "--out", str(tmp_path), "--meta", "m", "--train_batchSize",
           "1", "--run.progress=false", "--run.log_every=1"]
    assert main(cmd + ["--max-steps", "1"]) == 0
    assert main(cmd + ["--max-steps", "2"]) == 0
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["steps"] == 2
    # SLADD's flags that do nothing here are noted on the console and in the run's log.txt.
    assert main(cmd + ["--max-steps", "2", "--dataname", "none"]) == 0
    assert "note: --dataname is accepted for compatibility" in (tmp_path / "m" / "log.txt").read_text()
    # a run shorter than run.sample_every (500) still leaves a grid of its last step's forgeries
    assert sorted(os.listdir(tmp_path / "m" / "samples")) == ["step_0000001.png", "step_0000002.png"]
    assert "resumed from" in capsys.readouterr().out


def test_under_torchrun_the_seed_launch_flags_are_ignored(monkeypatch) -> None:
    from sladd_fast.train.distributed import LaunchSpec, launch

    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("LOCAL_RANK", "0")
    notes: list[str] = []
    seen = []
    threads = __import__("torch").get_num_threads()
    try:
        launch(LaunchSpec(nodes=4, gpus=8, node_rank=3, device="cpu"), seen.append, notes.append)
    finally:
        __import__("torch").set_num_threads(threads)
    assert [(e.rank, e.world_size, e.device) for e in seen] == [(0, 1, "cpu")]
    assert any("torchrun" in n and "ignored" in n for n in notes)


def test_bad_launch_geometry_is_refused() -> None:
    from sladd_fast.train.distributed import LaunchSpec, launch

    with pytest.raises(ValueError, match="-nr"):
        launch(LaunchSpec(nodes=2, gpus=1, node_rank=2, device="cpu"), print)


def test_missing_data_is_a_one_line_error_before_any_process_starts(tmp_path, capsys) -> None:
    from sladd_fast.train.cli import main

    with pytest.raises(SystemExit):
        main(SEED_CMD + ["--data-root", str(tmp_path / "nodata"), "--device", "cpu"])
    assert "nodata" in capsys.readouterr().err
    (tmp_path / "FF" / "image").mkdir(parents=True)
    with pytest.raises(SystemExit):
        main(["--data-root", str(tmp_path), "--device", "cpu"])
    err = capsys.readouterr().err
    assert "python -m sladd_fast.landmarks" in err and str(tmp_path / "FF") in err  # data/FF as in SLADD's README
