"""sladd_fast.evaluate: the CLI on demo data, score_index's order and modes, the distributed gather.

A randomly initialised Detector on the CPU; images of 64-128 px keep each test to a few seconds.
"""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch

from data_helpers import make_ffpp, write_png
from sladd_fast import evaluate
from sladd_fast.data.evaluation import TorchEvalLoader
from sladd_fast.data.index import ffpp_index
from sladd_fast.models import Detector, fake_probability, normalize

PAIRS = {"train": [["000", "001"]], "eval": [["002", "003"]], "test": [["004", "005"]]}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp("ckpt") / "det.pt")
    torch.save({"detector": Detector().state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def demo128(tmp_path_factory) -> str:
    pytest.importorskip("dlib")
    pytest.importorskip("skimage")
    from sladd_fast.data import demo

    root = str(tmp_path_factory.mktemp("demo") / "FF")
    # 3 pairs: one per split; test = 3 frames x (2 real + 2 fake) = 12 frames, 4 videos.
    demo.build(root, videos=6, frames=3, size=128, seed=0, landmarks=False)
    return root


def test_cli_on_demo_data_writes_json(demo128, ckpt, tmp_path, capsys):
    out = tmp_path / "sub" / "metrics.json"
    rc = evaluate.main([ckpt, "--data-root", demo128, "--dataset", "FF-DF", "--split", "test", "--json", str(out),
                        "--resolution", "128", "--batch-size", "4", "--max-batches", "2", "--workers", "0",
                        "--device", "cpu", "--quiet"])
    assert rc == 0
    rec = json.loads(out.read_text())
    for k in ("auc", "video_auc", "eer", "ap", "acc"):
        assert 0.0 <= rec[k] <= 1.0, k
    # 2 batches of 4 of the 12 frames; each batch is (real A, real B, fake A_B, fake B_A) of one frame.
    assert (rec["frames"], rec["index_frames"], rec["real"], rec["fake"], rec["videos"]) == (8, 12, 4, 4, 4)
    assert (rec["dataset"], rec["split"], rec["checkpoint"]) == ("FF-DF", "test", os.path.abspath(ckpt))
    assert rec["seconds"] > 0 and rec["frames_per_s"] > 0
    table = capsys.readouterr().out
    assert "video_auc" in table and "frames/s" in table


def test_cli_missing_paths_are_one_line_errors(small_root, ckpt, tmp_path, capsys):
    missing = str(tmp_path / "nope.pt")
    with pytest.raises(SystemExit) as e:
        evaluate.main([missing, "--data-root", small_root, "--dataset", "FF-DF"])
    assert e.value.code == 2 and missing in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate.main([ckpt, "--data-root", str(tmp_path / "no_root"), "--dataset", "FF-DF"])
    assert "no_root" in capsys.readouterr().err
    # A root without the method's frames: the index's error, one line, no traceback.
    with pytest.raises(SystemExit) as e:
        evaluate.main([ckpt, "--data-root", str(tmp_path), "--dataset", "FF-DF", "--device", "cpu"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and re.search(r"error: .*test\.json", err) and "Traceback" not in err
    for bad in (str(tmp_path), os.path.join(ckpt, "sub", "m.json")):  # a folder; under a file
        with pytest.raises(SystemExit) as e:  # a --json that cannot be written: refused before the evaluation
            evaluate.main([ckpt, "--data-root", small_root, "--dataset", "FF-DF", "--json", bad])
        assert e.value.code == 2 and "--json" in capsys.readouterr().err
    # A file that is not a checkpoint: the same one line.
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit) as e:
        evaluate.main([str(bad), "--data-root", small_root, "--dataset", "FF-DF", "--device", "cpu"])
    assert e.value.code == 2 and "bad.pt" in capsys.readouterr().err


def test_cli_testset_layout(tmp_path, ckpt):
    # CelebDF/DFDC/DF1.0: image/<video>/<NNNN>.png and config/test.json = [[video, label], ...].
    root = tmp_path / "celeb"
    for video, value in (("real/id0_0000", 90), ("fake/id0_id1_0000", 160)):
        for i in range(2):
            write_png(str(root / "image" / video / f"{i:04d}.png"), value, 64)
    os.makedirs(root / "config")
    (root / "config" / "test.json").write_text(json.dumps([["real/id0_0000", 0], ["fake/id0_id1_0000", 1]]))
    out = tmp_path / "m.json"
    assert evaluate.main([ckpt, "--data-root", str(root), "--dataset", "CelebDF", "--frames", "2", "--json", str(out),
                          "--resolution", "64", "--workers", "0", "--device", "cpu", "--quiet"]) == 0
    rec = json.loads(out.read_text())
    assert (rec["frames"], rec["videos"], rec["real"], rec["fake"]) == (4, 2, 2, 2)
    assert rec["video_auc"] in (0.0, 1.0)  # one video per class


@pytest.fixture(scope="module")
def small_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("ff") / "FF")
    make_ffpp(root, PAIRS, frames=2, size=64)  # test: 8 frames
    return root


def test_score_index_order_modes_and_max_batches(small_root):
    torch.manual_seed(1)
    det = Detector().train()
    det.trunk.bn1.eval()  # a deliberately frozen BN: its mode must survive, not become train()
    index = ffpp_index(small_root, "test", "FF-DF")
    loader = TorchEvalLoader(index, 64, batch_size=3, workers=0)
    scores, labels, rows = evaluate.score_index(det, loader, len(index), "cpu", max_batches=2, progress=True)
    assert det.training and not det.trunk.bn1.training and det.cls.training
    assert scores.dtype == np.float32 and rows.tolist() == list(range(6))  # 2 batches of 3, index order
    assert labels.tolist() == index.labels[:6].tolist()
    from sladd_fast.data.decode import read_image

    images = torch.stack([read_image(os.path.join(small_root, p), 64) for p in index.paths[:6]])
    det.eval()
    with torch.no_grad():
        want = fake_probability(det(normalize(images)).logits).numpy()
    np.testing.assert_allclose(scores, want, rtol=1e-4, atol=1e-5)


def test_evaluate_index_one_class_raises(small_root):
    det = Detector()
    index = ffpp_index(small_root, "test", "FF-DF")
    reals = index.select(np.flatnonzero(index.labels == 0))
    with pytest.raises(ValueError, match="only real frames"):
        evaluate.evaluate_index(det, reals, size=64, batch_size=4, workers=0)


def _rank_main(rank: int, world: int, init: str, root: str, ckpt: str, out: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        from sladd_fast.train.checkpoint import load_detector

        index = ffpp_index(root, "test", "FF-DF")
        index = index.select(np.arange(7))  # 7 frames: uneven slices of 3 and 4
        m = evaluate.evaluate_index(load_detector(ckpt), index, size=64, batch_size=2, workers=0)
        with open(f"{out}.{rank}", "w") as f:
            json.dump(m, f)
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow  # two spawned processes, each importing torch: ~5-12 s on 2 cores
def test_distributed_ranks_agree_with_single_process(small_root, ckpt, tmp_path):
    import torch.multiprocessing as mp

    out = str(tmp_path / "m")
    mp.spawn(_rank_main, args=(2, f"file://{tmp_path / 'rdv'}", small_root, ckpt, out), nprocs=2, join=True)
    from sladd_fast.train.checkpoint import load_detector

    index = ffpp_index(small_root, "test", "FF-DF").select(np.arange(7))
    want = evaluate.evaluate_index(load_detector(ckpt), index, size=64, batch_size=2, workers=0)
    got = [json.load(open(f"{out}.{r}")) for r in range(2)]
    assert got[0] == got[1]
    assert got[0]["frames"] == 7
    for k, v in want.items():
        assert got[0][k] == pytest.approx(v, abs=1e-6), k


def test_cli_deepfakebench_json_keeps_the_method_and_reals(tmp_path, ckpt, capsys):
    # DeepfakeBench's FaceForensics++.json holds every method: --dataset FF-F2F takes reals + F2F only.
    root = tmp_path / "dfb"
    tree = {}
    for sub, vid in (("FF-real", "000"), ("FF-DF", "000_003"), ("FF-F2F", "003_000")):
        paths = []
        for i in range(3):
            p = f"FaceForensics++/manipulated/{sub}/c23/frames/{vid}/{i:03d}.png"
            write_png(str(root / p), 60 * len(tree) + 40, 64)
            paths.append(p)
        tree[sub] = {"test": {"c23": {vid: {"label": sub, "frames": paths}}}}
    js = tmp_path / "FaceForensics++.json"
    js.write_text(json.dumps({"FaceForensics++": tree}))
    out = tmp_path / "m.json"
    assert evaluate.main([ckpt, "--data-root", str(root), "--dataset", "FF-F2F", "--dfb-json", str(js),
                          "--compression", "c23", "--frames", "2", "--json", str(out), "--resolution", "64",
                          "--workers", "0", "--device", "cpu", "--quiet"]) == 0
    rec = json.loads(out.read_text())
    assert (rec["frames"], rec["videos"], rec["real"], rec["fake"]) == (4, 2, 2, 2)
    with pytest.raises(SystemExit) as e:
        evaluate.main([ckpt, "--data-root", str(root), "--dataset", "FF-F2F", "--dfb-json", str(js),
                       "--compression", "c40", "--device", "cpu", "--quiet"])
    assert e.value.code == 2 and "no frames found for split" in capsys.readouterr().err
