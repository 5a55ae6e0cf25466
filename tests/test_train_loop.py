"""The training loop on the demo data (CPU, 256 px, batch 1): run folder, exact resume, 2-process DDP."""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket

import pytest
import torch
import yaml

from sladd_fast.train.distributed import LaunchSpec, launch
from sladd_fast.train.loop import DistEnv, train
from train_helpers import ddp_worker, small_config


def test_run_folder_and_model_selection(train_root, tmp_path) -> None:
    cfg = small_config(train_root, str(tmp_path), "e2e", max_steps=2, evaluate=True, eval_max_batches=1,
                       sample_every=1, ckpt_every=1)
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, eval_batch_size=4))
    s = train(cfg)
    run = tmp_path / "e2e"
    for name in ("config.yaml", "last.pt", "best.pt", "log.txt", "summary.json", "samples/step_0000002.png"):
        assert (run / name).is_file(), name
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(run / "tb"))
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["data"]["batch_size"] == 1 and saved["meta"]["world_size"] == 1
    assert s["steps"] == 2 and s["eval"] is not None and 0.0 <= s["eval"]["auc"] <= 1.0
    best = torch.load(run / "best.pt", weights_only=False)
    assert best["metrics"]["auc"] == s["best"]["auc"]
    log = (run / "log.txt").read_text()
    assert "eval (eval) frame AUC" in log  # selection on the eval split, never test
    # best.pt newer than last.pt's record (a crash between the two): resuming keeps it, and the
    # replayed evaluations must beat it to replace it. 1.5 is an AUC no evaluation can reach.
    best["metrics"]["auc"], best["step"] = 1.5, 2
    torch.save(best, run / "best.pt")
    s = train(dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, max_steps=3)))
    assert s["steps"] == 3 and s["best"]["auc"] == 1.5 and s["eval"]["auc"] <= 1.0
    assert torch.load(run / "best.pt", weights_only=False)["metrics"]["auc"] == 1.5


def test_unreadable_training_frames_are_replaced_and_reported(train_root, tmp_path) -> None:
    """A frame damaged after indexing, one the first step loads, is replaced (bad_frames=replace, the
    default): named in the log and counted in summary.json. With bad_frames=raise the run stops with an
    error naming the file."""
    import shutil

    from sladd_fast.data.plan import plan_epoch
    from sladd_fast.train.loop import _data_seed, build_train_set

    root = str(tmp_path / "data")
    shutil.copytree(train_root, root)
    cfg = small_config(root, str(tmp_path), "bad", max_steps=2)
    data = build_train_set(cfg.data)
    first = int(plan_epoch(data, 0, cfg.data.batch_size, seed=_data_seed(cfg.data)).items[0][0])
    bad = data.index.paths[first]
    with open(os.path.join(data.index.root, bad), "r+b") as f:
        f.truncate(100)
    s = train(cfg)
    assert s["steps"] == 2 and s["bad_frames"]["replaced"] >= 1
    assert any(bad in f for f in s["bad_frames"]["files"])
    assert json.loads((tmp_path / "bad" / "summary.json").read_text())["bad_frames"] == s["bad_frames"]
    assert os.path.basename(bad) in (tmp_path / "bad" / "log.txt").read_text()
    raising = small_config(root, str(tmp_path), "bad_raise", max_steps=2)
    raising = dataclasses.replace(raising, data=dataclasses.replace(raising.data, bad_frames="raise"))
    with pytest.raises(ValueError, match=os.path.basename(bad)):
        train(raising)


def test_last_checkpoint_is_written_once_per_state_and_untimed(train_root, tmp_path, monkeypatch) -> None:
    """A run whose last step is a checkpoint step writes last.pt once for it (not again at the end),
    and the time of checkpoints and sample grids among the steps is left out of the timed window."""
    from sladd_fast.train import checkpoint as ckpt_io

    saved = []
    real = ckpt_io.save_atomic
    monkeypatch.setattr(ckpt_io, "save_atomic", lambda obj, path: (saved.append((obj["step"], path)), real(obj, path)))
    s = train(small_config(train_root, str(tmp_path), "once", max_steps=2, ckpt_every=1, sample_every=1))
    last = [st for st, path in saved if path.endswith("last.pt")]
    assert last == [1, 2], saved
    assert s["seconds_untimed"] > 0 and s["seconds_timed"] >= 0 and s["timed_steps"] == 1


class _Killed(Exception):
    pass


def test_kill_and_resume_gives_the_same_next_step(train_root, tmp_path) -> None:
    losses: dict[str, dict[int, float]] = {"a": {}, "b": {}}

    def record(name, step, batch, r, det, syn):
        losses[name][step] = float(r.stats["loss"])
        if name == "b" and step == 3 and 3 not in killed:
            killed.add(3)
            raise _Killed  # dies after step 3's update, before its checkpoint: last.pt holds step 2

    killed: set[int] = set()
    cfg_a = small_config(train_root, str(tmp_path), "a", max_steps=4, ckpt_every=1)
    train(cfg_a, on_step=functools.partial(record, "a"))
    cfg_b = small_config(train_root, str(tmp_path), "b", max_steps=4, ckpt_every=1)
    with pytest.raises(_Killed):
        train(cfg_b, on_step=functools.partial(record, "b"))
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=False)["step"] == 2
    train(cfg_b, on_step=functools.partial(record, "b"))  # resumes at step 2 and redoes step 3
    assert sorted(losses["a"]) == [1, 2, 3, 4]
    assert losses["b"][3] == losses["a"][3] and losses["b"][4] == losses["a"][4], losses


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_process_gloo_ddp_disjoint_data_identical_weights(train_root, tmp_path) -> None:
    cfg = small_config(train_root, str(tmp_path), "ddp", max_steps=1)
    spec = LaunchSpec(nodes=1, gpus=2, node_rank=0, master_addr="localhost", master_port=_free_port(), device="cpu")
    launch(spec, functools.partial(ddp_worker, cfg=cfg, out=str(tmp_path)))
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    assert r0["seen"] and r1["seen"] and not set(r0["seen"]) & set(r1["seen"])
    for net in ("det", "syn"):
        assert r0[net].keys() == r1[net].keys()
        for k in r0[net]:
            assert torch.equal(r0[net][k], r1[net][k]), (net, k)
    saved = yaml.safe_load((tmp_path / "ddp" / "config.yaml").read_text())
    assert saved["meta"]["world_size"] == 2
    # The logged step statistics are the ranks' mean, not rank 0's alone.
    line = next(ln for ln in (tmp_path / "ddp" / "log.txt").read_text().splitlines() if ln.startswith("step 1: "))
    logged = dict((kv.rsplit(" ", 1)[0], float(kv.rsplit(" ", 1)[1])) for kv in line[len("step 1: "):].split(", "))
    for k in ("loss", "reward"):
        want = (r0["stats"][k] + r1["stats"][k]) / 2
        assert logged[k] == pytest.approx(want, rel=1e-3), (k, logged[k], r0["stats"][k], r1["stats"][k])


def test_resume_with_another_world_size_or_data_settings_is_refused(train_root, tmp_path) -> None:
    cfg = small_config(train_root, str(tmp_path), "ws", max_steps=1)
    train(cfg)
    ck = torch.load(tmp_path / "ws" / "last.pt", weights_only=False)
    ck["world_size"] = 2
    torch.save(ck, tmp_path / "ws" / "last.pt")
    with pytest.raises(ValueError, match="2 process"):
        train(dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, max_steps=2)), DistEnv())
    ck["world_size"] = 1
    torch.save(ck, tmp_path / "ws" / "last.pt")
    changed = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, batch_size=2),
                                  run=dataclasses.replace(cfg.run, max_steps=2))
    with pytest.raises(ValueError, match=r"data.batch_size: 1 -> 2"):
        train(changed)
    other_eval = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, eval_frames=7),
                                     run=dataclasses.replace(cfg.run, max_steps=2))
    with pytest.raises(ValueError, match=r"data.eval_frames: .* -> 7"):  # best's AUC was on another set
        train(other_eval)
    # A training set that changed size (bad_files.json updated by pack --verify, say) resumes with a
    # warning: the epoch plan is drawn from the new set.
    assert torch.load(tmp_path / "ws" / "last.pt", weights_only=False)["train_items"] > 0
    ck["train_items"] = 5
    torch.save(ck, tmp_path / "ws" / "last.pt")
    train(dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, max_steps=2)))
    assert "the checkpoint's 5 (the data or its bad_files.json changed)" in (tmp_path / "ws" / "log.txt").read_text()


def test_rerunning_without_manual_seed_resumes_with_the_new_optimizer_settings(train_root, tmp_path) -> None:
    """No --manualSeed: the first run draws a seed, the rerun takes the checkpoint's (so the same
    command resumes instead of refusing a changed data seed); a changed lr reaches the optimizers."""
    from sladd_fast.train.config import SetupError

    cfg = small_config(train_root, str(tmp_path), "r", max_steps=1)
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, seed=None))
    first = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text()) if train(cfg) else None
    lr = cfg.optim.lr / 10
    again = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, max_steps=2),
                                optim=dataclasses.replace(cfg.optim, lr=lr))
    assert train(again)["steps"] == 2
    log = (tmp_path / "r" / "log.txt").read_text()
    assert f"using seed {first['run']['seed']} (the checkpoint's)" in log and "resumed from" in log
    assert f"optim.lr: {cfg.optim.lr!r} -> {lr!r}" in log
    ck = torch.load(tmp_path / "r" / "last.pt", weights_only=False)
    assert ck["config"]["run"]["seed"] == first["run"]["seed"]
    assert {g["lr"] for g in ck["opt_det"]["param_groups"]} == {lr}
    assert {g["lr"] for g in ck["opt_syn"]["param_groups"]} == {lr * cfg.optim.syn_lr_scale}
    # A detector file of another network is refused before training, naming the flag and file.
    torch.save({"detector": {"conv.weight": torch.zeros(1)}}, tmp_path / "other.pt")
    other = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, pretrained=str(tmp_path / "other.pt")),
                                run=dataclasses.replace(cfg.run, meta="p"))
    with pytest.raises(SetupError, match=r"--pretrained: .*other\.pt: not a sladd_fast detector"):
        train(other)


def test_main_job_demo_on_the_demo_data(train_root, tmp_path):
    """The README's main job: trains, evaluates on the test split, reports throughput and AUC."""
    from sladd_fast import demo as main_job

    out = str(tmp_path / "out")
    assert main_job.main(["--out", out, "--data", train_root, "--steps", "2", "--batch", "1", "--device", "cpu",
                          "--backend", "torch", "--eval-batches", "1"]) == 0
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert summary["steps"] == 2 and 0.0 <= summary["test_auc"] <= 1.0 and summary["test_frames"] > 0
    assert summary["train_items_per_s"] > 0
    from PIL import Image

    assert Image.open(summary["sample_grid"]).size[0] == 4 * 256


def test_deepfakebench_layout_index_for_training(tmp_path) -> None:
    """data.layout=deepfakebench: train / eval (DeepfakeBench's "val") splits, one FF++ method kept."""
    from data_helpers import write_png

    from sladd_fast.train.config import load_config
    from sladd_fast.train.loop import build_index

    tree: dict = {}
    root = tmp_path / "rgb"
    for sub, part in (("FF-real", "original_sequences/youtube"), ("FF-DF", "manipulated_sequences/Deepfakes"),
                      ("FF-NT", "manipulated_sequences/NeuralTextures")):
        for split in ("train", "val"):
            rel = f"FaceForensics++/{part}/c23/frames/{split}0/000.png"
            write_png(str(root / rel))
            tree.setdefault(sub, {})[split] = {"c23": {f"{split}0": {"label": sub, "frames": [rel]}}}
    js = tmp_path / "FaceForensics++.json"
    js.write_text(json.dumps({"FaceForensics++": tree}))
    cfg = load_config(None, [f"data.root={root}", "data.layout=deepfakebench", f"data.dfb_json={js}",
                             "data.dset=FF-DF"])
    train_idx, eval_idx = build_index(cfg.data, "train"), build_index(cfg.data, "eval")
    assert sorted(train_idx.labels.tolist()) == [0, 1] and sorted(eval_idx.labels.tolist()) == [0, 1]
    assert all("/train0/" in p for p in train_idx.paths) and all("/val0/" in p for p in eval_idx.paths)
    assert not any("NeuralTextures" in p for p in train_idx.paths)


def test_sample_grid_has_column_titles_and_row_captions():
    from sladd_fast.train import visualize

    B, S = 3, 32
    img = torch.full((B, 3, S, S), 60, dtype=torch.uint8)
    grid = visualize.sample_grid(img, img, img, torch.zeros(B, 1, S, S), torch.tensor([0, 4, 9]),
                                 torch.tensor([0, 1, 2]), torch.tensor([1, 1, 0]), torch.tensor([0, 1, 3]))
    H = visualize.HEADER
    assert grid.shape == (H + B * (S + H), 4 * S, 3)
    for c in range(4):  # a title over every column (yellow text on black)
        assert (grid[:H, c * S:(c + 1) * S, 0] > 200).any()
    for i in range(B):  # a caption over every row
        y = H + i * (S + H)
        assert (grid[y:y + H, :, 0] > 200).any()
