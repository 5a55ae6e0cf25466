"""Dataset indexes and the landmark store: item rules, layouts, and every bad-input path."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from data_helpers import make_ffpp, write_png
from sladd_fast.data import LandmarkStore, deepfakebench_index, ffpp_index
from sladd_fast.data import index as dindex

PAIRS = {"train": [["000", "001"], ["002", "003"]], "eval": [["004", "005"]], "test": [["006", "007"]]}


@pytest.fixture()
def ff(tmp_path):
    root = str(tmp_path / "FF")
    make_ffpp(root, PAIRS, frames=4, methods=("FF-DF", "FF-F2F", "FF-FS", "FF-NT"))
    return root


def test_single_method_items_follow_sladd(ff):
    idx = ffpp_index(ff, "train", "FF-DF")
    assert len(idx) == 2 * 4 * 4 and idx.skipped == {}
    assert (idx.labels == 1).sum() == (idx.labels == 0).sum()  # 1:1
    # frame 0 of pair (000, 001): real 000, real 001, fake 000_001, fake 001_000
    assert idx.paths[:4].tolist() == ["image/real/000/0000.png", "image/real/001/0000.png",
                                      "image/FF-DF/000_001/0000.png", "image/FF-DF/001_000/0000.png"]
    assert idx.mask_paths[2] == "mask/FF-DF/000_001/0000_mask.png" and idx.mask_paths[0] == ""
    assert set(idx.methods[idx.labels == 1].tolist()) == {1}


def test_all_uses_four_methods_on_the_first_quarter(ff):
    idx = ffpp_index(ff, "train", "ALL", frames=4)
    fakes = idx.labels == 1
    assert set(idx.frames[fakes].tolist()) == {0, 1}  # i <= 4 // 4
    assert set(idx.methods[fakes].tolist()) == {1, 2, 3, 4}
    assert fakes.sum() == 2 * 2 * 4 * 2 and (~fakes).sum() == 2 * 2 * 4
    # Each method's fake of a pair is its own video (video-level metrics must not average four
    # methods' 000_001 into one): 2 pairs x 2 directions x 4 methods fake videos, 4 real ones.
    assert len(set(idx.videos[fakes].tolist())) == 2 * 2 * 4 and len(set(idx.videos[~fakes].tolist())) == 4
    assert "FF-F2F/000_001" in idx.videos.tolist()


def test_missing_frames_and_masks_are_counted_or_strict(ff):
    os.remove(os.path.join(ff, "image", "real", "000", "0003.png"))
    os.remove(os.path.join(ff, "mask", "FF-DF", "002_003", "0001_mask.png"))
    idx = ffpp_index(ff, "train", "FF-DF")
    assert idx.skipped == {"missing_frame": 1, "missing_mask": 1} and len(idx) == 30
    assert "image/real/000/0003.png" not in idx.paths.tolist()
    with pytest.raises(FileNotFoundError, match="0003.png"):
        ffpp_index(ff, "train", "FF-DF", strict=True)
    write_png(os.path.join(ff, "image", "real", "000", "0003.png"))
    with pytest.raises(FileNotFoundError, match="fake frame without mask.*0001_mask.png"):
        ffpp_index(ff, "train", "FF-DF", strict=True)


@pytest.mark.parametrize("content, match", [
    ("not json", "train.json: not valid JSON"),
    ("[]", "train.json: the split is empty"),
    ('{"a": 1}', "train.json: expected a JSON list"),
    ('[["000"]]', "train.json: expected a JSON list"),
])
def test_bad_split_files(ff, content, match):
    with open(os.path.join(ff, "config", "train.json"), "w") as f:
        f.write(content)
    with pytest.raises(ValueError, match=match):
        ffpp_index(ff, "train", "FF-DF")


def test_unknown_method_missing_split_and_empty_result(ff, tmp_path):
    with pytest.raises(ValueError, match="unknown method 'FF-XX'"):
        ffpp_index(ff, "train", "FF-XX")
    with pytest.raises(ValueError, match="split must be one of"):
        ffpp_index(ff, "val", "FF-DF")
    with pytest.raises(FileNotFoundError, match="split file not found"):
        ffpp_index(str(tmp_path / "nowhere"), "train", "FF-DF")
    with open(os.path.join(ff, "config", "test.json"), "w") as f:
        json.dump([["900", "901"]], f)
    with pytest.raises(ValueError, match="test.json: no frames found.*missing_frame"):
        ffpp_index(ff, "test", "FF-DF")
    with open(os.path.join(ff, "config", "frames.json"), "w") as f:
        json.dump({"train": -1}, f)
    with pytest.raises(ValueError, match="frames.json"):
        ffpp_index(ff, "train", "FF-DF")


def test_testset_layout(tmp_path):
    root = str(tmp_path / "CDF")
    for v, n in (("real/id0_0000", 3), ("fake/id0_id1_0000", 2)):
        for i in range(n):
            write_png(os.path.join(root, "image", v, f"{i:04d}.png"))
    os.makedirs(os.path.join(root, "config"))
    with open(os.path.join(root, "config", "test.json"), "w") as f:
        json.dump([["real/id0_0000", 0], ["fake/id0_id1_0000", 1]], f)
    idx = dindex.testset_index(root, frames=3)
    assert len(idx) == 5 and idx.skipped == {"missing_frame": 1}
    assert idx.labels.tolist() == [0, 0, 0, 1, 1]
    with open(os.path.join(root, "config", "test.json"), "w") as f:
        json.dump([["real/id0_0000", 2]], f)
    with pytest.raises(ValueError, match="test.json: expected"):
        dindex.testset_index(root)


def test_deepfakebench_layout(tmp_path):
    root = str(tmp_path / "dfb")
    frames = {}
    for sub, vid in (("FF-real", "000"), ("FF-DF", "000_003")):
        paths = []
        for i in range(2):
            p = f"FaceForensics++/manipulated/{sub}/c23/frames/{vid}/{i:03d}.png"
            write_png(os.path.join(root, p))
            if sub == "FF-DF" and i == 0:
                write_png(os.path.join(root, p.replace("/frames/", "/masks/")), 255)
            paths.append(p.replace("/", "\\"))
        frames[sub] = {"train": {"c23": {vid: {"label": sub, "frames": paths}}}}
    js = str(tmp_path / "FaceForensics++.json")
    with open(js, "w") as f:
        json.dump({"FaceForensics++": frames}, f)
    idx = deepfakebench_index(js, root, "train")
    assert len(idx) == 4
    assert idx.labels.tolist() == [0, 0, 1, 1] and idx.methods.tolist() == [0, 0, 1, 1]
    assert idx.videos.tolist() == ["FF-real/000"] * 2 + ["FF-DF/000_003"] * 2  # per sub-label
    assert idx.mask_paths[2].endswith("masks/000_003/000.png") and idx.mask_paths[3] == ""
    assert idx.skipped == {"fake_without_mask": 1}
    with pytest.raises(ValueError, match="no frames found for split 'test'"):
        deepfakebench_index(js, root, "test")
    # pack --verify finds DeepfakeBench's deep frames/ and masks/ folders; the index leaves out a
    # damaged frame and the fake whose mask is damaged, counted (the mask used to be ignored).
    from sladd_fast import pack
    from sladd_fast.data import badfiles

    real = os.path.join(root, "FaceForensics++/manipulated/FF-real/c23/frames/000/001.png")
    mask = os.path.join(root, "FaceForensics++/manipulated/FF-DF/c23/masks/000_003/000.png")
    for path in (real, mask):
        open(path, "wb").close()
    res = pack.verify(root, workers=1, progress=False)
    assert res["checked"] == 5 and len(res["bad"]) == 2
    assert badfiles.load(root) == {os.path.relpath(p, root).replace(os.sep, "/") for p in (real, mask)}
    idx = deepfakebench_index(js, root, "train")
    assert len(idx) == 2 and idx.skipped == {"unreadable": 2, "fake_without_mask": 1}
    assert idx.labels.tolist() == [0, 1] and idx.mask_paths.tolist() == ["", ""]


def test_deepfakebench_root_holding_frames_finds_masks_beside_them_never_the_frame(tmp_path):
    """rgb_root may hold frames/ itself (frames/<video>/<NNN>.png): the mask is masks/<video>/<NNN>.png.
    The path swap used to need a '/frames/' inside, so a leading frames/ gave the frame itself as
    its own mask. The same video name under two methods stays two videos."""
    from sladd_fast.data.index import dfb_sibling

    assert dfb_sibling("frames/v/000.png", "masks") == "masks/v/000.png"
    assert dfb_sibling("frames/a/frames/v/000.png", "masks") == "frames/a/masks/v/000.png"  # the last one
    assert dfb_sibling("rgb/v/000.png", "masks") is None and dfb_sibling("v/frames", "masks") is None
    root = str(tmp_path / "dfb")
    write_png(os.path.join(root, "frames", "000_003", "000.png"))
    write_png(os.path.join(root, "masks", "000_003", "000.png"), 255)
    write_png(os.path.join(root, "frames", "001_002", "000.png"))  # no mask file
    write_png(os.path.join(root, "other", "002_001", "000.png"))  # outside any frames/ folder
    tree = {"FF-DF": {"test": {"000_003": {"label": "FF-DF", "frames": ["frames/000_003/000.png"]},
                               "001_002": {"label": "FF-DF", "frames": ["frames/001_002/000.png"]},
                               "002_001": {"label": "FF-DF", "frames": ["other/002_001/000.png"]}}},
            "FF-F2F": {"test": {"000_003": {"label": "FF-F2F", "frames": ["frames/000_003/000.png"]}}}}
    js = str(tmp_path / "FaceForensics++.json")
    with open(js, "w") as f:
        json.dump({"FaceForensics++": tree}, f)
    idx = deepfakebench_index(js, root, "test", compression=None)
    assert idx.mask_paths.tolist() == ["masks/000_003/000.png", "", "", "masks/000_003/000.png"]
    assert not set(idx.mask_paths.tolist()) & set(idx.paths.tolist())
    assert idx.skipped == {"fake_without_mask": 2}
    assert idx.videos.tolist() == ["FF-DF/000_003", "FF-DF/001_002", "FF-DF/002_001", "FF-F2F/000_003"]


def test_deepfakebench_frames_are_numbered_in_file_order_whatever_the_json_order(tmp_path):
    """deepfakebench_split(frames=N) keeps the first N frames in time: the json may list them in any
    order, and unpadded numbers sort as numbers (9 before 10)."""
    from sladd_fast.data.index import deepfakebench_split

    root = str(tmp_path / "dfb")
    names = ["10.png", "9.png", "0.png", "1.png"]
    for n in names:
        write_png(os.path.join(root, "FF-real", "frames", "v0", n))
        write_png(os.path.join(root, "FF-DF", "frames", "v1", n))
        write_png(os.path.join(root, "FF-DF", "masks", "v1", n), 255)
    tree = {sub: {"test": {v: {"label": sub, "frames": [f"{sub}/frames/{v}/{n}" for n in names]}}}
            for sub, v in (("FF-real", "v0"), ("FF-DF", "v1"))}
    js = str(tmp_path / "FaceForensics++.json")
    with open(js, "w") as f:
        json.dump({"FaceForensics++": tree}, f)
    idx = deepfakebench_index(js, root, "test", compression=None)
    assert [p.rsplit("/", 1)[1] for p in idx.paths[:4]] == ["0.png", "1.png", "9.png", "10.png"]
    assert idx.frames[:4].tolist() == [0, 1, 2, 3]
    first = deepfakebench_split(js, root, "test", "FF-DF", compression=None, frames=2)
    assert sorted(p.rsplit("/", 1)[1] for p in first.paths) == ["0.png", "0.png", "1.png", "1.png"]


def test_landmark_store_roundtrip_and_sync(tmp_path):
    keys = np.array(["image/real/000/0000.png", "image/real/000/0001.png", "image/real/001/0000.png"])
    lm = np.random.default_rng(0).random((3, 68, 2)).astype(np.float32)
    store = LandmarkStore(keys, lm, np.array([True, False, True]), np.full((3, 2), 32, np.int32))
    path = str(tmp_path / "landmarks.npz")
    store.save(path)
    back = LandmarkStore.load(path)
    assert np.array_equal(back.landmarks, lm) and back.valid.tolist() == [True, False, True]
    assert back.rows(np.array([keys[2], keys[0]])).tolist() == [2, 0]
    with pytest.raises(ValueError, match="out of sync.*image/real/009/0000.png"):
        back.rows(np.array([keys[0], "image/real/009/0000.png"]))
    with open(path, "wb") as f:
        f.write(b"garbage")
    with pytest.raises(ValueError, match="landmarks.npz: not a landmark store"):
        LandmarkStore.load(path)
    with pytest.raises(FileNotFoundError, match="python -m sladd_fast.landmarks"):
        LandmarkStore.load(str(tmp_path / "none.npz"))
    with pytest.raises(ValueError, match="inconsistent"):
        LandmarkStore(keys, lm[:2], np.ones(3, bool), np.ones((3, 2), np.int32))


@pytest.mark.parametrize("dataset", ["FF-DF", "DeepFakeDetection"])
def test_deepfakebench_labels_come_from_the_sub_label(tmp_path, dataset):
    """DeepfakeBench names datasets FF-DF.json -> {"FF-DF": {"FF-real": ..., "FF-DF": ...}} or
    DeepFakeDetection: the dataset name must not decide the label."""
    root = str(tmp_path / "frames" / "rgb")  # a root that itself contains /frames/
    subs = {"FF-DF": ("FF-real", "FF-DF"), "DeepFakeDetection": ("DFD_real", "DFD_fake")}[dataset]
    tree = {}
    for sub in subs:
        p = f"{dataset}/{sub}/c23/frames/v0/000.png"
        write_png(os.path.join(root, p))
        if sub == subs[1]:
            write_png(os.path.join(root, p.replace("/frames/", "/masks/")), 255)
        tree[sub] = {"test": {"c23": {"v0": {"label": sub, "frames": [p]}}}}
    js = str(tmp_path / f"{dataset}.json")
    with open(js, "w") as f:
        json.dump({dataset: tree}, f)
    idx = deepfakebench_index(js, root, "test")
    assert idx.labels.tolist() == [0, 1]
    assert idx.mask_paths[1] == f"{dataset}/{subs[1]}/c23/masks/v0/000.png" and idx.skipped == {}
    assert idx.methods.tolist() == ([0, 1] if dataset == "FF-DF" else [0, -1])


def test_bad_file_list_sources_merge_and_clear(tmp_path):
    from sladd_fast.data import badfiles

    root = str(tmp_path)
    assert badfiles.load(root) == frozenset()
    badfiles.record(root, "landmarks", ["image/real/000/0001.png"])
    badfiles.record(root, "verify", ["mask/FF-DF/000_001/0002_mask.png", "image/real/000/0001.png"])
    assert badfiles.load(root) == {"image/real/000/0001.png", "mask/FF-DF/000_001/0002_mask.png"}
    badfiles.record(root, "verify", [])  # a clean rerun clears its own entry only
    assert badfiles.load(root) == {"image/real/000/0001.png"}
    badfiles.record(root, "landmarks", [])
    assert not os.path.exists(os.path.join(root, badfiles.BAD_FILES))
    for text in ("{not json", "{}", '{"sources": {"verify": "image/x.png"}}', '{"sources": [1]}'):
        with open(os.path.join(root, badfiles.BAD_FILES), "w") as f:
            f.write(text)
        with pytest.raises(ValueError, match="bad_files.json: not a bad-file list"):
            badfiles.load(root)
        badfiles.record(root, "verify", ["image/real/000/0002.png"])  # rewritten, not a KeyError
        assert badfiles.load(root) == {"image/real/000/0002.png"}


def test_verify_lists_damaged_files_and_the_index_leaves_them_out(tmp_path, capsys):
    """pack --verify decodes every frame and mask: a truncated frame and a zero-byte mask are listed in
    bad_files.json, and ffpp_index skips the frame and the fake that owns the mask, counted."""
    from data_helpers import make_ffpp

    from sladd_fast import pack
    from sladd_fast.data import badfiles, ffpp_index

    root = str(tmp_path / "FF")
    make_ffpp(root, {"train": [["000", "001"]], "eval": [["002", "003"]], "test": [["004", "005"]]}, frames=3)
    before = ffpp_index(root, "train", "FF-DF")
    frame = os.path.join(root, "image", "real", "000", "0001.png")
    with open(frame, "rb") as f:
        head = f.read(60)
    with open(frame, "wb") as f:
        f.write(head)
    open(os.path.join(root, "mask", "FF-DF", "000_001", "0002_mask.png"), "wb").close()
    assert pack.main(["--verify", root, "--quiet", "--workers", "2"]) == 1
    out = capsys.readouterr().out
    assert "2 unreadable" in out and "image/real/000/0001.png" in out
    assert badfiles.load(root) == {"image/real/000/0001.png", "mask/FF-DF/000_001/0002_mask.png"}
    after = ffpp_index(root, "train", "FF-DF")
    assert len(after) == len(before) - 2 and after.skipped.get("unreadable") == 2
    assert "image/real/000/0001.png" not in set(after.paths)
    assert "image/FF-DF/000_001/0002.png" not in set(after.paths)
    with open(frame, "wb") as f:  # repaired: a clean verify clears the list
        f.write(open(os.path.join(root, "image", "real", "000", "0000.png"), "rb").read())
    open(os.path.join(root, "mask", "FF-DF", "000_001", "0002_mask.png"), "wb").write(
        open(os.path.join(root, "mask", "FF-DF", "000_001", "0001_mask.png"), "rb").read())
    assert pack.main(["--verify", root, "--quiet"]) == 0
    assert len(ffpp_index(root, "train", "FF-DF")) == len(before)
    # image/ and mask/ linked in from another disk are followed (os.walk does not by default).
    linked = tmp_path / "linked"
    linked.mkdir()
    for top in ("image", "mask"):
        os.symlink(os.path.join(root, top), linked / top)
    assert pack.verify(str(linked), workers=1, progress=False)["checked"] == \
        pack.verify(root, workers=1, progress=False)["checked"] > 0
    assert pack.main(["--verify", str(tmp_path / "nope"), "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_split_naming_a_missing_video_is_a_counted_skip(ff):
    """One pair of a split names videos that are not on disk: their frames are counted skips, the
    rest of the split is indexed (all of a split missing is the ValueError above)."""
    with open(os.path.join(ff, "config", "train.json")) as f:
        pairs = json.load(f)
    before = ffpp_index(ff, "train", "FF-DF")
    with open(os.path.join(ff, "config", "train.json"), "w") as f:
        json.dump(pairs + [["950", "951"]], f)
    idx = ffpp_index(ff, "train", "FF-DF")
    assert len(idx) == len(before) and idx.skipped["missing_frame"] > 0
    assert not any(v.startswith(("950", "951")) for v in idx.videos.tolist())


def test_masks_of_another_size_are_resized_with_their_frames(ff):
    """A mask stored at another size than its frame reaches the batch at the frame's output size (the
    PyTorch loader resizes every mask; DALI's pipeline is told to from the PNG headers)."""
    from pipelines.ffpp import masks_need_resize
    from sladd_fast.data.plan import TrainSet
    from sladd_fast.data.torch_loader import PairDataset
    from sladd_fast.landmarks import find_frames

    idx = ffpp_index(ff, "train", "FF-DF")
    fake = int(np.flatnonzero(idx.labels == 1)[0])
    write_png(os.path.join(ff, idx.mask_paths[fake]), 255, size=64)  # frames are 32 px
    keys = np.array(find_frames(ff))
    store = LandmarkStore(keys, np.full((len(keys), 68, 2), 10, np.float32), np.ones(len(keys), bool),
                          np.full((len(keys), 2), 32, np.int32))
    ts = TrainSet.build(idx, store)
    sample = PairDataset(ts, 32)[(fake, 0)]
    assert sample["masks"].shape == (1, 32, 32) and sample["masks"].min() >= 0 and sample["masks"].max() <= 1
    assert masks_need_resize(ts, 32)
