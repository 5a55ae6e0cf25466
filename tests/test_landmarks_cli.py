"""python -m sladd_fast.landmarks and the demo dataset (real dlib; a few seconds)."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("dlib")
pytest.importorskip("skimage")

from data_helpers import write_png  # noqa: E402
from sladd_fast import landmarks as lmcli  # noqa: E402
from sladd_fast.data import LandmarkStore, ffpp_index  # noqa: E402
from sladd_fast.data import demo  # noqa: E402


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("demo") / "FF")
    summary = demo.build(root, videos=6, frames=3, size=128, seed=1, landmarks=True, workers=2)
    assert summary["fake_frames_not_applied"] == 0
    return root


def test_demo_dataset_is_a_valid_ffpp_tree(demo_root):
    for split in ("train", "eval", "test"):
        idx = ffpp_index(demo_root, split, "ALL")
        assert idx.skipped == {} and len(idx) > 0
    store = LandmarkStore.load(os.path.join(demo_root, "landmarks.npz"))
    idx = ffpp_index(demo_root, "train", "FF-DF")
    rows = store.rows(idx.paths)
    assert store.valid[rows].mean() > 0.9  # dlib finds the astronaut's face in nearly every frame
    # landmarks land on the face: eyes above the mouth, inside the 128 px frame
    lm = store.landmarks[rows][store.valid[rows]]
    assert (lm[:, 36:48, 1].mean(1) < lm[:, 48:60, 1].mean(1)).all()
    assert (lm >= -10).all() and (lm <= 138).all()


def test_cli_resumes_and_reports_unreadable(tmp_path, demo_root, capsys):
    root = str(tmp_path / "ds")
    import shutil

    shutil.copytree(os.path.join(demo_root, "image"), os.path.join(root, "image"))
    bad = os.path.join(root, "image", "real", "000", "0001.png")
    with open(bad, "wb") as f:
        f.write(b"\x89PNG truncated")
    write_png(os.path.join(root, "image", "real", "000", "0009.png"), 0, 64)  # a flat frame: no face
    keys = lmcli.find_frames(root)
    # Pretend an earlier run finished chunk 0, with recognisable values.
    os.makedirs(os.path.join(root, lmcli.PARTS))
    chunk = keys[:4]
    np.savez(lmcli._part_path(root, 0), keys=np.array(chunk), landmarks=np.full((4, 68, 2), 7.0, np.float32),
             valid=np.ones(4, bool), size=np.full((4, 2), 128, np.int32), unreadable=np.array([], dtype=str),
             config=np.array(lmcli.run_config(False, 0, lmcli.default_predictor())))
    # A stale part from a run with another --chunk must not break the clean-up.
    np.savez(lmcli._part_path(root, 999), keys=np.array(["x"]))
    # Damaged parts (a crash between write and rename): chunk 1 zero bytes, chunk 2 truncated. Both are
    # redone; np.load's EOFError and BadZipFile used to end the run in a traceback.
    open(lmcli._part_path(root, 1), "wb").close()
    np.savez(lmcli._part_path(root, 2), keys=np.array(keys[8:12]), landmarks=np.full((4, 68, 2), 7.0, np.float32))
    with open(lmcli._part_path(root, 2), "r+b") as f:
        f.truncate(100)
    assert lmcli.main([root, "--chunk", "4", "--workers", "2", "--quiet"]) == 0
    store = LandmarkStore.load(os.path.join(root, "landmarks.npz"))
    assert store.keys.tolist() == keys
    assert (store.landmarks[:4] == 7.0).all()  # chunk 0 was not recomputed
    assert not (store.landmarks[4:12] == 7.0).all(axis=(1, 2)).any()  # the damaged chunks were
    # With other settings, the same part is not reused.
    os.makedirs(os.path.join(root, lmcli.PARTS))
    np.savez(lmcli._part_path(root, 0), keys=np.array(chunk), landmarks=np.full((4, 68, 2), 7.0, np.float32),
             valid=np.ones(4, bool), size=np.full((4, 2), 128, np.int32), unreadable=np.array([], dtype=str),
             config=np.array(lmcli.run_config(False, 1, lmcli.default_predictor())))
    capsys.readouterr()
    assert lmcli.main([root, "--chunk", "4", "--workers", "2", "--quiet"]) == 0
    out = capsys.readouterr().out  # counts and the first names of both lists, not only "see the report"
    assert "1 unreadable" in out and "unreadable: image/real/000/0001.png" in out
    assert "without a face" in out and "no face: " in out and "image/real/000/0009.png" in out
    again = LandmarkStore.load(os.path.join(root, "landmarks.npz"))
    assert not (again.landmarks[:4][again.valid[:4]] == 7.0).any()
    assert not (store.landmarks[4:][store.valid[4:]] == 7.0).all()
    report = json.load(open(os.path.join(root, lmcli.REPORT)))
    assert report["unreadable"] == ["image/real/000/0001.png"]
    from sladd_fast.data import badfiles

    assert badfiles.load(root) == {"image/real/000/0001.png"}  # the index builders leave it out
    assert "image/real/000/0009.png" in report["no_face"]
    i_bad, i_flat = keys.index("image/real/000/0001.png"), keys.index("image/real/000/0009.png")
    assert not store.valid[i_bad] and not store.valid[i_flat]
    assert not os.path.exists(os.path.join(root, lmcli.PARTS))


def test_cli_imports_deepfakebench_npy(tmp_path):
    root = str(tmp_path / "dfb")
    rng = np.random.default_rng(0)
    pts = (rng.random((81, 2)) * 60).astype(np.int32)
    for i in range(3):
        write_png(os.path.join(root, "frames", "000", f"{i:03d}.png"))
    os.makedirs(os.path.join(root, "landmarks", "000"))
    np.save(os.path.join(root, "landmarks", "000", "000.npy"), pts)
    np.save(os.path.join(root, "landmarks", "000", "001.npy"), np.zeros((5, 2)))  # malformed
    assert lmcli.main([root, "--deepfakebench", "--quiet"]) == 0
    store = LandmarkStore.load(os.path.join(root, "landmarks.npz"))
    assert store.valid.tolist() == [True, False, False]
    assert np.array_equal(store.landmarks[0], pts[:68].astype(np.float32))


def test_cli_errors(tmp_path, capsys):
    assert lmcli.main([str(tmp_path), "--quiet"]) == 2
    assert "no image/ folder" in capsys.readouterr().err


def test_deepfakebench_nested_layout_end_to_end(tmp_path):
    """Real DeepfakeBench trees nest frames/ deep; store keys must match the index's paths."""
    from sladd_fast.data import deepfakebench_index
    from sladd_fast.data.plan import TrainSet

    root = str(tmp_path / "rgb")
    tree = {}
    for sub, part in (("FF-real", "original_sequences/youtube"), ("FF-DF", "manipulated_sequences/Deepfakes")):
        frames = []
        for i in range(2):
            rel = f"FaceForensics++/{part}/c23/frames/000/{i:03d}.png"
            write_png(os.path.join(root, rel))
            npy = os.path.join(root, rel.replace("/frames/", "/landmarks/")[:-4] + ".npy")
            os.makedirs(os.path.dirname(npy), exist_ok=True)
            np.save(npy, (np.random.default_rng(i).random((81, 2)) * 30).astype(np.int32))
            frames.append(rel)
        tree[sub] = {"train": {"c23": {"000": {"label": sub, "frames": frames}}}}
    js = str(tmp_path / "FaceForensics++.json")
    json.dump({"FaceForensics++": tree}, open(js, "w"))
    assert lmcli.main([root, "--deepfakebench", "--quiet"]) == 0
    store = LandmarkStore.load(os.path.join(root, "landmarks.npz"))
    data = TrainSet.build(deepfakebench_index(js, root, "train"), store)
    assert len(data) == 4 and data.valid.all()


def test_bad_model_and_options_are_one_line_errors(demo_root, tmp_path, capsys):
    """A missing or damaged --predictor used to hang (the worker pool restarted failing workers forever)."""
    root = str(tmp_path / "r")
    shutil.copytree(demo_root, root)
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"not a model")
    for path, what in ((str(tmp_path / "none.dat"), "no such file"), (str(bad), "not a dlib shape predictor")):
        assert lmcli.main([root, "--predictor", path, "--quiet"]) == 2
        assert what in capsys.readouterr().err
    for flag in (["--upsample", "-1"], ["--workers", "0"]):
        with pytest.raises(SystemExit) as e:
            lmcli.main([root] + flag)
        assert e.value.code == 2 and flag[0] in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SystemExit) as e:
        demo.main(["--out", str(tmp_path / "afile")])
    assert e.value.code == 2 and "is a file" in capsys.readouterr().err


def test_ctrl_c_is_one_message_and_the_run_resumes(tmp_path, demo_root):
    """SIGINT during a landmark run: the parent says how to resume (status 130), the workers (which
    ignore SIGINT) print no tracebacks, and the rerun finishes from the kept chunks."""
    import sys

    from helpers import interrupt_when

    root = str(tmp_path / "ds")
    shutil.copytree(os.path.join(demo_root, "image"), os.path.join(root, "image"))
    cmd = [sys.executable, "-m", "sladd_fast.landmarks", root, "--chunk", "2", "--workers", "1", "--quiet"]
    parts = os.path.join(root, lmcli.PARTS)

    def finished() -> list[str]:  # chunks written whole (a part is written to .tmp.npz, then renamed)
        names = os.listdir(parts) if os.path.isdir(parts) else []
        return [n for n in names if n.startswith("part_") and not n.endswith(".tmp.npz")]

    returncode, err = interrupt_when(cmd, lambda: bool(finished()))
    if returncode == 0 or not os.path.isdir(parts):
        pytest.skip("the run finished before the signal")
    assert returncode == 130 and "interrupted: rerun the same command" in err and "Traceback" not in err, err
    kept = finished()
    assert kept and len(kept) < len(lmcli.find_frames(root)) // 2  # interrupted midway, chunks kept
    assert lmcli.main(cmd[3:]) == 0
    store = LandmarkStore.load(os.path.join(root, "landmarks.npz"))
    assert store.keys.tolist() == lmcli.find_frames(root) and store.valid.mean() > 0.9
