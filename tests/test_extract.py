"""python -m sladd_fast.extract on a tiny FF++ download tree made of real videos (cv2.VideoWriter of
the demo faces): the seed's layout, crops, masks, landmarks, resume and the report of bad videos."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")
pytest.importorskip("dlib")

from sladd_fast import extract  # noqa: E402
from sladd_fast.data import LandmarkStore, demo, ffpp_index  # noqa: E402


def _write_video(path: str, frames: list[np.ndarray]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 25, (w, h))
    assert vw.isOpened(), "OpenCV cannot write mp4v here"
    for f in frames:
        vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR) if f.ndim == 3 else cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    vw.release()


def _frames(folder: str, pad: int) -> list[np.ndarray]:
    """The demo's frames, framed by a border (so the face is a part of a larger video frame)."""
    from PIL import Image

    out = []
    for name in sorted(os.listdir(folder)):
        img = np.asarray(Image.open(os.path.join(folder, name)).convert("RGB" if "mask" not in name else "L"))
        out.append(np.pad(img, ((pad, pad), (pad + 16, pad + 16)) + (((0, 0),) if img.ndim == 3 else ()),
                          constant_values=40))
    return out


@pytest.fixture(scope="module")
def ffpp_videos(tmp_path_factory):
    """FF++'s download layout with 6 originals, their Deepfakes fakes and masks, official-style splits,
    plus an unreadable fake and a faceless original (video 006, in no split's pairs but test)."""
    src = str(tmp_path_factory.mktemp("demo") / "FF")
    demo.build(src, videos=6, frames=4, size=128, seed=3, landmarks=False, workers=2)
    root = str(tmp_path_factory.mktemp("ffpp"))
    for v in sorted(os.listdir(os.path.join(src, "image", "real"))):
        _write_video(os.path.join(root, "original_sequences/youtube/c23/videos", f"{v}.mp4"),
                     _frames(os.path.join(src, "image", "real", v), 24))
    for v in sorted(os.listdir(os.path.join(src, "image", "FF-DF"))):
        _write_video(os.path.join(root, "manipulated_sequences/Deepfakes/c23/videos", f"{v}.mp4"),
                     _frames(os.path.join(src, "image", "FF-DF", v), 24))
        _write_video(os.path.join(root, "manipulated_sequences/Deepfakes/masks/videos", f"{v}.mp4"),
                     _frames(os.path.join(src, "mask", "FF-DF", v), 24))
    splits = {}
    for split, name in (("train", "train"), ("eval", "val"), ("test", "test")):
        with open(os.path.join(src, "config", f"{split}.json")) as f:
            splits[name] = json.load(f)
    a, b = splits["test"][0]
    splits["test"].append(["006", "007"])  # 006: a flat video (no face); 006_007: not a video at all
    _write_video(os.path.join(root, "original_sequences/youtube/c23/videos/006.mp4"), [np.full((96, 96, 3), 90, np.uint8)] * 4)
    os.makedirs(os.path.join(root, "manipulated_sequences/Deepfakes/c23/videos"), exist_ok=True)
    for kind in ("c23", "masks"):  # its mask is no video either: the fake itself is what cannot be read
        with open(os.path.join(root, f"manipulated_sequences/Deepfakes/{kind}/videos/006_007.mp4"), "wb") as f:
            f.write(b"not a video")
    os.makedirs(os.path.join(root, "splits"))
    for name, ps in splits.items():
        with open(os.path.join(root, "splits", f"{name}.json"), "w") as f:
            json.dump(ps, f)
    return root


def test_extracts_the_seeds_layout_with_landmarks_and_reports_bad_videos(ffpp_videos, tmp_path, capsys):
    out = str(tmp_path / "data")
    rc = extract.main([ffpp_videos, out, "--methods", "Deepfakes", "--frames", "3,2,2", "--size", "128",
                       "--workers", "2", "--quiet"])
    assert rc == 0
    printed = capsys.readouterr().out
    report = json.load(open(os.path.join(out, extract.REPORT)))
    assert [r["video"] for r in report["no_face"]] == ["real/006"]
    assert {r["video"] for r in report["unreadable"]} >= {"FF-DF/006_007"}
    assert "unreadable" in printed and "006" in printed
    train = ffpp_index(out, "train", "FF-DF")
    assert train.skipped == {} and len(train) == 3 * 4  # 3 frames of 2 reals and 2 fakes
    img = cv2.imread(os.path.join(out, train.paths[0]))
    assert img.shape == (128, 128, 3)
    fake = [p for p, l in zip(train.paths, train.labels) if l == 1][0]
    mask = cv2.imread(os.path.join(out, fake.replace("image/", "mask/").replace(".png", "_mask.png")), 0)
    assert mask.shape == (128, 128) and mask.max() > 200 and mask.min() < 50  # the region, cropped like its frame
    store = LandmarkStore.load(os.path.join(out, "landmarks.npz"))
    rows = store.rows(train.paths)
    assert store.valid[rows].mean() > 0.8
    lm = store.landmarks[rows][store.valid[rows]]
    inner = lm[:, 27:48]  # nose and eyes inside the crop (the jaw line may reach past a 1.3x box)
    assert (inner > 0).all() and (inner < 128).all()
    eye_dist = np.linalg.norm(lm[:, 36:42].mean(1) - lm[:, 42:48].mean(1), axis=1)
    assert (eye_dist > 128 * 0.15).all() and (eye_dist < 128 * 0.6).all()  # a face crop, not the whole frame
    assert json.load(open(os.path.join(out, "config", "frames.json"))) == {"train": 3, "eval": 2, "test": 2}
    assert not os.path.exists(os.path.join(out, extract.PARTS))


def test_resumes_finished_videos(ffpp_videos, tmp_path):
    """A video whose part file exists from an earlier (interrupted) run is not extracted again; a
    damaged part (zero bytes: a crash before its rename) is, and so is a fake whose part says no_mask
    when its mask video is there now."""
    out = str(tmp_path / "data")
    os.makedirs(os.path.join(out, extract.PARTS))
    np.savez(extract._part(out, "real/000"), error=np.array("unreadable"), detail=np.array("kept from an earlier run"))
    open(extract._part(out, "real/001"), "wb").close()
    fake = sorted(os.listdir(os.path.join(ffpp_videos, "manipulated_sequences/Deepfakes/masks/videos")))[0][:-4]
    np.savez(extract._part(out, f"FF-DF/{fake}"), error=np.array("no_mask"), detail=np.array("mask not downloaded"))
    report = extract.extract(ffpp_videos, out, methods=["Deepfakes"], frames=(2, 1, 1), size=64, workers=2,
                             progress=False)
    assert {"video": "real/000", "detail": "kept from an earlier run"} in report["unreadable"]
    assert not os.path.exists(os.path.join(out, "image", "real", "000"))
    assert os.path.isfile(os.path.join(out, "image", "real", "001", "0000.png"))
    assert not report["no_mask"] and os.path.isfile(os.path.join(out, "mask", "FF-DF", fake, "0000_mask.png"))


def test_frame_numbers_and_bad_arguments(tmp_path, capsys):
    assert extract.frame_numbers(10, 4) == [0, 3, 6, 9]
    assert extract.frame_numbers(3, 5) == [0, 1, 2]
    assert extract.main([str(tmp_path), str(tmp_path / "o"), "--quiet"]) == 2
    assert "original_sequences" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        extract.main([str(tmp_path), str(tmp_path / "o"), "--frames", "1,2"])
    assert e.value.code == 2 and "--frames takes three positive numbers" in capsys.readouterr().err
    for flag in (["--scale", "inf"], ["--scale", "nan"], ["--workers", "0"]):
        with pytest.raises(SystemExit) as e:
            extract.main([str(tmp_path), str(tmp_path / "o")] + flag)
        assert e.value.code == 2 and flag[0] in capsys.readouterr().err


def test_split_files_and_methods_are_checked_before_any_work(ffpp_videos, tmp_path, capsys):
    """An unknown method, a missing split file, one that is not JSON, and entries that are not pairs of
    string ids: one line naming it, exit 2, nothing written."""
    import shutil

    out = str(tmp_path / "o")
    assert extract.main([ffpp_videos, out, "--methods", "Deepfakes,Foo", "--quiet"]) == 2
    assert "unknown method(s) ['Foo']" in capsys.readouterr().err
    splits = str(tmp_path / "splits")
    shutil.copytree(os.path.join(ffpp_videos, "splits"), splits)
    os.remove(os.path.join(splits, "test.json"))
    assert extract.main([ffpp_videos, out, "--methods", "Deepfakes", "--splits", splits, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing split file" in err and "test.json" in err
    for text, what in (("[[", "not JSON"), ('[["000", 3]]', "expected a list of [a, b] pairs"),
                       ('[["000"]]', "expected a list of [a, b] pairs"), ('{"a": 1}', "expected a list")):
        with open(os.path.join(splits, "test.json"), "w") as f:
            f.write(text)
        assert extract.main([ffpp_videos, out, "--methods", "Deepfakes", "--splits", splits, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "test.json" in err and what in err, err
    assert not os.path.exists(out)


def test_a_missing_or_damaged_predictor_is_one_line_not_a_hang(ffpp_videos, tmp_path, capsys):
    """The model is loaded once before any worker starts: a worker pool whose start-up fails would
    restart its workers forever."""
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"not a model")
    for path, what in ((str(tmp_path / "none.dat"), "no such file"), (str(bad), "not a dlib shape predictor")):
        assert extract.main([ffpp_videos, str(tmp_path / "o"), "--methods", "Deepfakes", "--predictor", path,
                             "--quiet"]) == 2
        err = capsys.readouterr().err
        assert what in err and path in err


def test_a_missing_folder_of_the_download_is_one_line_naming_it(ffpp_videos, tmp_path, capsys):
    """Another compression, a method not downloaded, or a method without its masks download: one line
    naming the folder, exit 2, before anything is decoded (the masks would otherwise leave every fake
    out, one video at a time, and train on reals only)."""
    import shutil

    assert extract.main([ffpp_videos, str(tmp_path / "o"), "--compression", "c40", "--methods", "Deepfakes",
                         "--frames", "1,1,1", "--workers", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "youtube/c40/videos: no such folder" in err and "--compression c40" in err
    assert extract.main([ffpp_videos, str(tmp_path / "o"), "--methods", "Deepfakes,FaceSwap", "--quiet"]) == 2
    assert "FaceSwap/c23/videos: no such folder" in capsys.readouterr().err
    root = str(tmp_path / "ffpp")
    shutil.copytree(ffpp_videos, root)
    shutil.rmtree(os.path.join(root, "manipulated_sequences/Deepfakes/masks"))
    assert extract.main([root, str(tmp_path / "o"), "--methods", "Deepfakes", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Deepfakes/masks/videos: no such folder" in err and "-t masks" in err
    assert not os.path.exists(tmp_path / "o")


def test_fakes_without_their_masks_are_reported_and_a_rerun_redoes_only_them(ffpp_videos, tmp_path, capsys):
    """A fake whose mask video is missing: no_mask, left out before it is decoded; when no fake of a
    method is left the run fails (status 1) instead of passing a set of reals only; once the masks are
    there, the rerun of the finished run extracts the failed videos only."""
    import shutil

    root = str(tmp_path / "ffpp")
    shutil.copytree(ffpp_videos, root)
    masks = os.path.join(root, "manipulated_sequences/Deepfakes/masks/videos")
    shutil.move(masks, str(tmp_path / "masks_later"))
    os.makedirs(masks)
    out = str(tmp_path / "data")
    cmd = [root, out, "--methods", "Deepfakes", "--frames", "2,1,1", "--size", "64", "--workers", "2", "--quiet"]
    assert extract.main(cmd) == 1
    captured = capsys.readouterr()
    report = json.load(open(os.path.join(out, extract.REPORT)))
    fakes = sorted(v[:-4] for v in os.listdir(str(tmp_path / "masks_later")) if v != "006_007.mp4")
    assert sorted(r["video"] for r in report["no_mask"]) == sorted(f"FF-DF/{v}" for v in fakes + ["006_007"])
    assert report["fake_videos"] == {"FF-DF": 0} and "no fake video of FF-DF" in captured.err
    assert "without a mask video" in captured.out and not os.path.exists(os.path.join(out, "image", "FF-DF"))
    reals = {k for k in LandmarkStore.load(os.path.join(out, "landmarks.npz")).keys.tolist()}
    stamp = {k: os.path.getmtime(os.path.join(out, k)) for k in reals}
    shutil.rmtree(masks)
    shutil.move(str(tmp_path / "masks_later"), masks)
    assert extract.main(cmd) == 0
    report = json.load(open(os.path.join(out, extract.REPORT)))
    assert not report["no_mask"] and report["fake_videos"]["FF-DF"] == len(fakes)
    keys = set(LandmarkStore.load(os.path.join(out, "landmarks.npz")).keys.tolist())
    assert reals < keys and all(os.path.getmtime(os.path.join(out, k)) == stamp[k] for k in reals)  # kept
    assert len(ffpp_index(out, "train", "FF-DF").labels) > 0
    # A kept video whose frames were removed (to redo it) is extracted again, not kept from the store.
    gone = sorted(reals)[0].split("/")[2]
    shutil.rmtree(os.path.join(out, "image", "real", gone))
    assert extract.main(cmd) == 0
    assert os.path.isfile(os.path.join(out, sorted(reals)[0]))
    assert set(LandmarkStore.load(os.path.join(out, "landmarks.npz")).keys.tolist()) == keys
    # the rerun the message asks for, into the same folder, is not refused as "other settings"
    assert extract.main([ffpp_videos, str(tmp_path / "o"), "--methods", "Deepfakes", "--frames", "1,1,1",
                         "--workers", "2", "--quiet"]) == 0


def test_rerun_with_other_settings_is_refused(ffpp_videos, tmp_path):
    """Frames of two sizes or counts under one index would be silently wrong: a finished run's settings
    (config/extract.json) and an interrupted one's (in .extract_parts) must match the rerun's."""
    out = str(tmp_path / "data")
    kw = dict(methods=["Deepfakes"], frames=(1, 1, 1), workers=2, progress=False)
    extract.extract(ffpp_videos, out, size=64, **kw)
    with pytest.raises(ValueError, match=r"other settings \(size: 64 -> 96\)"):
        extract.extract(ffpp_videos, out, size=96, **kw)
    extract.extract(ffpp_videos, out, size=64, **kw)  # the same settings: fine
    out2 = str(tmp_path / "interrupted")
    os.makedirs(os.path.join(out2, extract.PARTS))
    with open(os.path.join(out2, extract.PARTS, extract.SETTINGS), "w") as f:
        json.dump({"compression": "c23", "methods": ["Deepfakes"], "frames": {"train": 60, "eval": 1, "test": 1},
                   "size": 64, "scale": 1.3, "format": "png"}, f)
    with pytest.raises(ValueError, match=r"an interrupted extraction with other settings \(frames: "):
        extract.extract(ffpp_videos, out2, size=64, **kw)


def test_masks_of_another_size_or_length_and_jpeg_output(ffpp_videos, tmp_path, capsys):
    """A mask video of another frame size: reported (bad_mask), the fake left out. A shorter one: the
    fake keeps the frames that have a mask (short_mask, reported). --format jpg: the index reads it."""
    import shutil

    root = str(tmp_path / "ffpp")
    shutil.copytree(ffpp_videos, root)
    masks = os.path.join(root, "manipulated_sequences/Deepfakes/masks/videos")
    names = sorted(os.listdir(masks))
    _write_video(os.path.join(masks, names[0]), [np.zeros((64, 64), np.uint8)] * 4)  # another size
    cap = cv2.VideoCapture(os.path.join(masks, names[1]))
    ok, first = cap.read()
    cap.release()
    _write_video(os.path.join(masks, names[1]), [cv2.cvtColor(first, cv2.COLOR_BGR2GRAY)])  # one frame of 4
    out = str(tmp_path / "data")
    assert extract.main([root, out, "--methods", "Deepfakes", "--frames", "3,3,3", "--size", "64", "--format", "jpg",
                         "--workers", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    report = json.load(open(os.path.join(out, extract.REPORT)))
    assert [r["video"] for r in report["bad_mask"]] == [f"FF-DF/{names[0][:-4]}"] and "64x64" in printed
    assert [r["video"] for r in report["short_mask"]] == [f"FF-DF/{names[1][:-4]}"]
    assert sorted(os.listdir(os.path.join(out, "image", "FF-DF", names[1][:-4]))) == ["0000.jpg"]
    assert not os.path.exists(os.path.join(out, "image", "FF-DF", names[0][:-4]))
    index = ffpp_index(out, "train", "FF-DF")
    assert len(index) > 0 and all(p.endswith(".jpg") for p in index.paths) and "missing_mask" not in index.skipped


def test_ctrl_c_is_one_message_and_the_run_resumes(ffpp_videos, tmp_path):
    """SIGINT during an extraction: the parent says how to resume (status 130), the workers (which
    ignore SIGINT) print no tracebacks, and the rerun finishes from the kept videos."""
    import sys

    from helpers import interrupt_when

    out = str(tmp_path / "data")
    cmd = [sys.executable, "-m", "sladd_fast.extract", ffpp_videos, out, "--methods", "Deepfakes", "--frames",
           "3,3,3", "--workers", "1", "--quiet"]
    parts = os.path.join(out, extract.PARTS)
    returncode, err = interrupt_when(cmd, lambda: os.path.isdir(parts) and len(os.listdir(parts)) > 1)
    if returncode == 0:
        pytest.skip("the extraction finished before the signal")
    assert returncode == 130 and "interrupted: rerun the same command" in err and "Traceback" not in err, err
    assert extract.main(cmd[3:]) == 0


def test_a_video_is_opened_once_for_its_length_and_its_frames(ffpp_videos, monkeypatch):
    """read_frames with a count picks evenly spaced frames from the length of the capture it reads, so
    a damaged video is opened (and reported by the decoder) once, not twice."""
    import cv2

    opened = []
    real = cv2.VideoCapture
    monkeypatch.setattr(cv2, "VideoCapture", lambda path: (opened.append(path), real(path))[1])
    good = os.path.join(ffpp_videos, "original_sequences/youtube/c23/videos/000.mp4")
    cap = real(good)
    length = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    frames, numbers = extract.read_frames(good, 3)
    assert length > 3 and numbers == extract.frame_numbers(length, 3) and len(frames) == 3 and frames[0].ndim == 3
    assert extract.read_frames(good, [0, 2])[1] == [0, 2]
    bad = os.path.join(ffpp_videos, "manipulated_sequences/Deepfakes/c23/videos/006_007.mp4")
    with pytest.raises(ValueError, match="006_007.mp4"):
        extract.read_frames(bad, 3)
    assert opened == [good, good, bad]


def test_a_worker_that_dies_stops_the_run_with_a_message_not_a_hang(tmp_path):
    """multiprocessing.Pool never returns the task of a worker killed for memory (the run hung); the
    process pool breaks instead, and the run stops with one message saying how to resume."""
    from helpers import die

    from sladd_fast.landmarks import check_predictor

    os.makedirs(tmp_path / extract.PARTS)
    with pytest.raises(OSError, match=r"a worker process died .* rerun the same command to resume"):
        extract._run([{"key": "real/000"}, {"key": "real/001"}], str(tmp_path), check_predictor(None), 1, False, 2,
                     task_fn=die)
