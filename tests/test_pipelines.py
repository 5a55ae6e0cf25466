"""DALI pipelines (CPU-only mode here; GPU decode where a GPU is present) and sladd_fast.pack's JPEG
read back through them (pack without DALI: test_pack.py)."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from sladd_fast.data import LandmarkStore, ffpp_index
from sladd_fast.data.plan import TrainSet
from sladd_fast.data.torch_loader import TorchLoader

pytestmark = pytest.mark.needs_dali
dlib = pytest.importorskip("dlib")


@pytest.fixture(scope="module")
def demo_png(tmp_path_factory):
    from sladd_fast.data import demo

    root = str(tmp_path_factory.mktemp("dali") / "FF")
    demo.build(root, videos=6, frames=2, size=96, seed=2, landmarks=True, workers=2)
    return root


def _trainset(root: str) -> TrainSet:
    return TrainSet.build(ffpp_index(root, "train", "FF-DF"), LandmarkStore.load(os.path.join(root, "landmarks.npz")))


def _dali(ts: TrainSet, size: int, device_id=None, batch: int = 4, bad_frames: str = "replace"):
    from pipelines.ffpp import DaliLoader

    return DaliLoader(ts, size, batch, workers=1, seed=7, device_id=device_id, bad_frames=bad_frames)


def test_dali_cpu_matches_torch_backend(demo_png):
    ts = _trainset(demo_png)
    dali = _dali(ts, 96)
    ref = TorchLoader(ts, 96, 4, workers=0, seed=7)
    for epoch in range(2):  # and the second epoch is a new permutation on both
        got, want = list(dali.epoch(epoch)), list(ref.epoch(epoch))
        assert len(got) == len(want) == len(dali) == len(ts) // 4 >= 2
        for g, w in zip(got, want):
            assert torch.equal(g.indices, w.indices) and torch.equal(g.partner_indices, w.partner_indices)
            assert torch.equal(g.labels, w.labels)
            assert torch.equal(g.images, w.images) and torch.equal(g.partners, w.partners)  # PNG, no resize
            assert torch.equal(g.masks, w.masks)
            assert torch.equal(g.landmarks, w.landmarks) and torch.equal(g.landmarks_valid, w.landmarks_valid)
            assert torch.equal(g.partner_landmarks, w.partner_landmarks)


@pytest.mark.parametrize("size", [64, 128])
def test_dali_resize_scales_landmarks_and_resizes_masks_as_the_torch_backend(demo_png, size):
    """96 px frames resized down and up: landmarks scaled alike, masks equal on both backends (each
    resizes the uint8 mask, rounds, then divides by 255, as SLADD's cv2.resize then /255)."""
    ts = _trainset(demo_png)
    b = next(iter(_dali(ts, size).epoch(0)))
    w = next(iter(TorchLoader(ts, size, 4, workers=0, seed=7).epoch(0)))
    assert b.images.shape == (4, 3, size, size) and b.masks.shape == (4, 1, size, size)
    assert torch.allclose(b.landmarks, w.landmarks)
    assert (b.images.float() - w.images.float()).abs().mean() < 3.0  # DALI cubic vs torch bicubic
    assert w.masks.dtype == torch.float32 and w.masks.sum() > 0 and torch.equal(b.masks, w.masks)


def test_dali_corrupt_frame_names_the_file_when_failing_fast(demo_png, tmp_path):
    root = str(tmp_path / "bad")
    shutil.copytree(demo_png, root)
    ts = _trainset(root)
    victim = os.path.join(root, ts.index.paths[0])
    data = open(victim, "rb").read()
    open(victim, "wb").write(data[: len(data) // 2])
    with pytest.raises(ValueError, match=f"truncated or corrupt PNG: .*{ts.index.paths[0]}"):
        for _ in _dali(ts, 96, batch=len(ts), bad_frames="raise").epoch(0):  # one batch holding every item
            pass


def test_dali_replaces_unreadable_frames_as_the_torch_loader_does(demo_png, tmp_path):
    """A truncated frame and a zero-byte file: DALI's source replaces them with the frames the
    PyTorch loader picks, the batch keeps its shape, and the loader reports them."""
    from sladd_fast.data.torch_loader import TorchLoader

    root = str(tmp_path / "bad")
    shutil.copytree(demo_png, root)
    ts = _trainset(root)
    for k, how in ((0, "truncate"), (5, "empty")):
        victim = os.path.join(root, ts.index.paths[k])
        data = open(victim, "rb").read()
        open(victim, "wb").write(data[: len(data) // 2] if how == "truncate" else b"")
    dali = _dali(ts, 96, batch=4)
    torch_l = TorchLoader(ts, 96, 4, workers=0, seed=7)  # the same plan as _dali
    got = [(b.indices.tolist(), b.partner_indices.tolist(), b.labels.tolist()) for b in dali.epoch(0)]
    want = [(b.indices.tolist(), b.partner_indices.tolist(), b.labels.tolist()) for b in torch_l.epoch(0)]
    assert got == want and all(len(i) == 4 for i, _, _ in got)
    assert set(dali.bad_frames_report()["files"]) == set(torch_l.bad_frames_report()["files"])
    assert dali.bad_frames_report()["files"]  # the damaged frames were in the plan


def test_pack_to_jpeg_and_read_it_back(demo_png, tmp_path):
    from sladd_fast import pack

    dst = str(tmp_path / "jpg")
    assert pack.main([demo_png, dst, "--quality", "95", "--size", "64", "--quiet"]) == 0
    assert json.load(open(os.path.join(dst, "config", "format.json")))["image_ext"] == ".jpg"
    from PIL import Image

    fake_mask = next(p for p in _trainset(dst).index.mask_paths if p)
    assert Image.open(os.path.join(dst, fake_mask)).size == (64, 64)  # masks follow the frames' size
    src_ts, dst_ts = _trainset(demo_png), _trainset(dst)
    assert len(src_ts) == len(dst_ts) and dst_ts.index.paths[0].endswith(".jpg")
    assert np.allclose(dst_ts.store.landmarks[dst_ts.rows], src_ts.store.landmarks[src_ts.rows] * 64 / 96, atol=1e-4)
    b = next(iter(_dali(dst_ts, 64).epoch(0)))
    w = next(iter(TorchLoader(src_ts, 64, 4, workers=0, seed=7).epoch(0)))
    assert (b.images.float() - w.images.float()).abs().mean() < 4.0  # JPEG q95 + resize, same frames
    assert pack.main([demo_png, demo_png, "--quiet"]) == 2


@pytest.mark.needs_cuda
def test_dali_gpu_decode_matches_cpu(demo_png, tmp_path):
    from sladd_fast import pack

    dst = str(tmp_path / "jpg")
    pack.pack(demo_png, dst, progress=False)
    ts = _trainset(dst)
    gpu = next(iter(_dali(ts, 96, device_id=0).epoch(0)))
    cpu = next(iter(_dali(ts, 96).epoch(0)))
    assert gpu.images.is_cuda and torch.equal(gpu.indices.cpu(), cpu.indices)
    assert (gpu.images.cpu().float() - cpu.images.float()).abs().mean() < 1.0  # nvJPEG vs libjpeg


def test_eval_loaders_cover_each_frame_once_in_order(demo_png):
    from pipelines.evaluation import DaliEvalLoader
    from sladd_fast.data.evaluation import TorchEvalLoader

    idx = ffpp_index(demo_png, "test", "ALL")
    for world in (1, 3):
        seen = []
        for rank in range(world):
            dali = list(DaliEvalLoader(idx, 96, 5, rank=rank, world_size=world, workers=1))
            ref = list(TorchEvalLoader(idx, 96, 5, rank=rank, world_size=world, workers=0))
            assert len(dali) == len(ref)
            for d, r in zip(dali, ref):
                assert torch.equal(d.indices, r.indices) and torch.equal(d.labels, r.labels)
                assert torch.equal(d.images, r.images) and torch.equal(d.valid, r.valid) and bool(d.valid.all())
                seen += d.indices.tolist()
        assert seen == list(range(len(idx)))


def test_dali_eval_loader_leaves_bad_frames_out_as_the_torch_one(demo_png, tmp_path):
    """A truncated frame and an empty one come as blank frames with valid False, in both evaluation
    loaders; the other frames are untouched."""
    import shutil

    from pipelines.evaluation import DaliEvalLoader
    from sladd_fast.data.evaluation import TorchEvalLoader

    root = str(tmp_path / "data")
    shutil.copytree(demo_png, root)
    idx = ffpp_index(root, "test", "ALL")
    bad = {1, len(idx) - 1}
    for i in bad:
        path = os.path.join(root, idx.paths[i])
        data = open(path, "rb").read()
        open(path, "wb").write(data[:len(data) // 3] if i == 1 else b"")  # truncated; empty
    dali = list(DaliEvalLoader(idx, 96, 5, workers=1))
    ref = list(TorchEvalLoader(idx, 96, 5, workers=0))
    assert len(dali) == len(ref)
    for d, r in zip(dali, ref):
        assert torch.equal(d.indices, r.indices) and torch.equal(d.valid, r.valid)
        assert torch.equal(d.images, r.images)
        for j, i in enumerate(d.indices.tolist()):
            assert bool(d.valid[j]) == (i not in bad)
            if i in bad:
                assert d.images[j].sum() == 0


def test_dali_epoch_left_early_does_not_shift_the_next(demo_png):
    from sladd_fast.data.plan import plan_epoch

    ts = TrainSet.build(ffpp_index(demo_png, "train", "ALL"), LandmarkStore.load(os.path.join(demo_png, "landmarks.npz")))
    loader = _dali(ts, 96, batch=2)
    assert len(loader) >= 3
    for _ in loader.epoch(0):
        break  # a training loop with a step limit
    got = [b.indices.tolist() for b in loader.epoch(1)]
    assert got == plan_epoch(ts, 1, 2, seed=7).items.tolist()


def test_dali_close_abandons_an_open_epoch_without_draining_it(demo_png):
    """After an error or Ctrl-C the loop closes the loader: the open epoch's generator then finishes
    without running the rest of the epoch (nothing more is read from the pipeline)."""
    ts = TrainSet.build(ffpp_index(demo_png, "train", "ALL"), LandmarkStore.load(os.path.join(demo_png, "landmarks.npz")))
    loader = _dali(ts, 96, batch=2)
    assert len(loader) >= 3
    batches = loader.epoch(0)
    next(batches)
    loader.close()
    pulled = []
    real_next = type(loader.iterator).__next__
    type(loader.iterator).__next__ = lambda self: pulled.append(1) or real_next(self)
    try:
        batches.close()
    finally:
        type(loader.iterator).__next__ = real_next
    assert loader.closed and pulled == []


def test_dali_start_epoch_and_empty_eval_rank(demo_png):
    from pipelines.evaluation import DaliEvalLoader
    from pipelines.ffpp import DaliLoader
    from sladd_fast.data.evaluation import eval_rows
    from sladd_fast.data.plan import plan_epoch

    ts = _trainset(demo_png)
    loader = DaliLoader(ts, 96, 4, workers=1, seed=7, start_epoch=3)
    assert [b.indices.tolist() for b in loader.epoch(3)] == plan_epoch(ts, 3, 4, seed=7).items.tolist()
    with pytest.raises(ValueError, match="expected 4"):
        next(iter(loader.epoch(0)))
    idx = ffpp_index(demo_png, "test", "FF-DF")
    assert len(eval_rows(len(idx), 0, len(idx) + 1)) == 0  # more ranks than frames: rank 0 is empty
    assert list(DaliEvalLoader(idx, 96, 4, rank=0, world_size=len(idx) + 1, workers=1)) == []


def test_pack_reports_unreadable_frames(demo_png, tmp_path, capsys):
    from sladd_fast import pack

    src = str(tmp_path / "src")
    shutil.copytree(demo_png, src)
    bad = os.path.join(src, "image", "real", "000", "0001.png")
    with open(bad, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n broken")
    dst = str(tmp_path / "dst")
    assert pack.main([src, dst, "--quiet"]) == 1  # packed the rest, reported the bad frame
    assert "real/000/0001.png" in capsys.readouterr().err
    store = LandmarkStore.load(os.path.join(dst, "landmarks.npz"))
    assert "image/real/000/0001.jpg" not in store.keys.tolist() and len(store) > 0


def test_dali_start_batch_resumes_inside_an_epoch(demo_png):
    """A loader started at (epoch 1, batch 2) yields the tail of epoch 1 that a full run yields, then epoch 2."""
    from pipelines.ffpp import DaliLoader

    ts = _trainset(demo_png)
    full = DaliLoader(ts, 96, 2, workers=1, seed=7)
    ref = {e: [b.indices.tolist() for b in full.epoch(e)] for e in range(3)}
    assert len(ref[1]) == 4
    resumed = DaliLoader(ts, 96, 2, workers=1, seed=7, start_epoch=1, start_batch=2)
    with pytest.raises(ValueError, match="starts at batch 2"):
        next(iter(resumed.epoch(1)))
    assert [b.indices.tolist() for b in resumed.epoch(1, 2)] == ref[1][2:]
    assert [b.indices.tolist() for b in resumed.epoch(2)] == ref[2]
    with pytest.raises(ValueError, match="start_batch"):  # an empty first epoch: start the next one instead
        DaliLoader(ts, 96, 2, workers=1, seed=7, start_batch=4)


def test_dali_decoder_failure_names_the_batch_files_and_the_verify_step(demo_png, tmp_path):
    """Damage only the decoder sees (intact signature and end marker, garbage inside) cannot be
    replaced per sample: the error names the batch's files and the verify command."""
    root = str(tmp_path / "bad")
    shutil.copytree(demo_png, root)
    ts = _trainset(root)
    victim = os.path.join(root, ts.index.paths[2])
    data = bytearray(open(victim, "rb").read())
    mid = len(data) // 2
    data[mid:mid + 200] = bytes(200)
    open(victim, "wb").write(bytes(data))
    with pytest.raises(RuntimeError) as err:
        for _ in _dali(ts, 96, batch=len(ts)).epoch(0):
            pass
    msg = str(err.value)
    assert ts.index.paths[2] in msg and f"python -m sladd_fast.pack --verify {root}" in msg


def test_augmentation_on_a_dali_batch(demo_png):
    """The DALI hook: a DaliLoader Batch (torch tensors on the pipeline's device) goes straight into
    the augmentation, no host copy in between."""
    from sladd_fast.augment import sladd_augment

    ts = _trainset(demo_png)
    batch = next(iter(_dali(ts, 96, batch=6).epoch(0)))
    vids = torch.as_tensor(np.unique(ts.index.videos, return_inverse=True)[1])[batch.indices.cpu()]
    out = sladd_augment(batch.images, batch.landmarks, torch.Generator().manual_seed(0),
                        video_ids=vids.to(batch.images.device))
    assert out.images.shape == batch.images.shape and out.images.device == batch.images.device
    assert out.labels.sum() > 0
