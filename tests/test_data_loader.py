"""Epoch plan (sharding, reshuffle, partners) and the PyTorch / synthetic backends."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from data_helpers import make_ffpp
from sladd_fast.data import LandmarkStore, ffpp_index
from sladd_fast.data.batch import EncodedFrames
from sladd_fast.data.plan import TrainSet, plan_epoch
from sladd_fast.data.synthetic import SyntheticLoader
from sladd_fast.data.torch_loader import TorchLoader
from sladd_fast.landmarks import find_frames

PAIRS = {"train": [["000", "001"], ["002", "003"], ["004", "005"]], "eval": [["006", "007"]],
         "test": [["008", "009"]]}


def _store(root: str, invalid: tuple[str, ...] = ()) -> LandmarkStore:
    keys = np.array(find_frames(root))
    rng = np.random.default_rng(0)
    lm = (rng.random((len(keys), 68, 2)) * 32).astype(np.float32)
    valid = np.array([k not in invalid for k in keys])
    return LandmarkStore(keys, lm, valid, np.full((len(keys), 2), 32, np.int32))


@pytest.fixture()
def trainset(tmp_path):
    root = str(tmp_path / "FF")
    make_ffpp(root, PAIRS, frames=5)
    store = _store(root, invalid=("image/real/000/0000.png", "image/FF-DF/000_001/0001.png"))
    store.save(os.path.join(root, "landmarks.npz"))
    return TrainSet.build(ffpp_index(root, "train", "FF-DF"), store)


def test_ranks_partition_with_equal_batch_counts(trainset):
    n = len(trainset)  # 3 pairs * 5 frames * 4 = 60
    plans = [plan_epoch(trainset, 0, 4, rank=r, world_size=3, seed=1) for r in range(3)]
    assert [len(p) for p in plans] == [5, 5, 5]
    seen = np.concatenate([p.items.ravel() for p in plans])
    assert len(np.unique(seen)) == len(seen) == 60 == n
    plans7 = [plan_epoch(trainset, 0, 4, rank=r, world_size=7) for r in range(7)]  # 60 // 7 = 8 -> 2 batches
    assert {len(p) for p in plans7} == {2}
    assert len(np.unique(np.concatenate([p.items.ravel() for p in plans7]))) == 56


def test_every_epoch_is_a_fresh_deterministic_permutation(trainset):
    a = plan_epoch(trainset, 0, 6, seed=3)
    b = plan_epoch(trainset, 1, 6, seed=3)
    assert not np.array_equal(a.items, b.items)
    assert np.array_equal(a.items, plan_epoch(trainset, 0, 6, seed=3).items)
    assert np.array_equal(a.partners, plan_epoch(trainset, 0, 6, seed=3).partners)
    # items far apart in the index land in the same batch: not a video-correlated buffer shuffle
    assert np.abs(np.diff(np.sort(a.items[0]))).max() > 10


def test_partners_are_valid_and_of_the_other_class(trainset):
    p = plan_epoch(trainset, 2, 4, seed=0)
    labels, valid = trainset.index.labels, trainset.valid
    items, partners = p.items.ravel(), p.partners.ravel()
    assert (labels[partners] != labels[items]).all()
    assert valid[partners].all()
    assert not valid.all()  # the invalid frames exist, and still appear as items
    assert len(items) == len(trainset)  # 60 items, 15 batches of 4: every item is used
    assert set(np.flatnonzero(~valid).tolist()) <= set(items.tolist())


def test_plan_errors(trainset):
    with pytest.raises(ValueError, match="batch_size"):
        plan_epoch(trainset, 0, 0)
    with pytest.raises(ValueError, match="rank"):
        plan_epoch(trainset, 0, 4, rank=2, world_size=2)
    with pytest.raises(ValueError, match="cannot give every one"):
        plan_epoch(trainset, 0, 61)


@pytest.mark.parametrize("workers", [0, 1])
def test_torch_loader_batches(trainset, workers):
    loader = TorchLoader(trainset, size=64, batch_size=4, workers=workers, seed=5)
    batches = list(loader.epoch(0))
    assert len(batches) == len(loader) == 15
    b = batches[0]
    assert b.images.dtype == torch.uint8 and b.images.shape == (4, 3, 64, 64)
    assert b.partners.shape == (4, 3, 64, 64) and b.masks.shape == (4, 1, 64, 64)
    plan = plan_epoch(trainset, 0, 4, seed=5)
    assert b.indices.tolist() == plan.items[0].tolist() and b.partner_indices.tolist() == plan.partners[0].tolist()
    assert b.labels.tolist() == trainset.index.labels[plan.items[0]].tolist()
    fake = b.labels == 1
    assert (b.masks[fake] > 0.99).all() and (b.masks[~fake] == 0).all()  # FF++ masks; zeros for reals
    row = trainset.rows[int(b.indices[0])]
    assert torch.allclose(b.landmarks[0], torch.from_numpy(trainset.store.landmarks[row] * 2))  # 32 -> 64 px
    assert b.landmarks_valid.tolist() == trainset.valid[plan.items[0]].tolist()


def test_torch_loader_epochs_share_workers_and_survive_early_exit(trainset):
    loader = TorchLoader(trainset, size=32, batch_size=4, workers=1, seed=5)
    first = loader.epoch(0)
    for _ in range(2):  # leave epoch 0 early, with batches still prefetched
        next(first)
    first.close()
    pids = [w.pid for w in loader.loader._iterator._workers]
    batches = list(loader.epoch(1))
    plan = plan_epoch(trainset, 1, 4, seed=5)
    assert [b.indices.tolist() for b in batches] == plan.items.tolist()
    assert [b.partner_indices.tolist() for b in batches] == plan.partners.tolist()
    assert [w.pid for w in loader.loader._iterator._workers] == pids  # the same worker processes
    assert [b.indices.tolist() for b in loader.epoch(0)] == plan_epoch(trainset, 0, 4, seed=5).items.tolist()


def test_torch_loader_two_live_epochs_is_an_error_not_mixed_batches(trainset):
    loader = TorchLoader(trainset, size=32, batch_size=4, workers=1, seed=5)
    old = loader.epoch(0)
    next(old)
    new = loader.epoch(1)
    first = next(new)
    with pytest.raises(RuntimeError, match="epoch 0 was superseded"):
        next(old)
    rest = list(new)  # nothing was taken from epoch 1 by the stale iterator
    assert [b.indices.tolist() for b in [first] + rest] == plan_epoch(trainset, 1, 4, seed=5).items.tolist()
    loader.close()
    assert loader.loader._iterator is None
    assert len(list(loader.epoch(2))) == len(loader)  # workers restart after close()


def test_corrupt_frame_is_a_clear_error_when_failing_fast(trainset):
    path = os.path.join(trainset.index.root, "image", "real", "002", "0003.png")
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n garbage")
    loader = TorchLoader(trainset, size=32, batch_size=60, workers=0, bad_frames="raise")
    with pytest.raises(ValueError, match="cannot decode image .*real/002/0003.png"):
        list(loader.epoch(0))


def test_synthetic_loader_replays_one_batch():
    loader = SyntheticLoader(4, size=64, steps=3)
    batches = list(loader.epoch(0))
    assert len(batches) == 3 and batches[0] is batches[2]
    assert batches[0].images.shape == (4, 3, 64, 64) and batches[0].labels.tolist() == [0, 1, 0, 1]


def test_eval_rows_bad_rank():
    from sladd_fast.data.evaluation import eval_rows

    with pytest.raises(ValueError, match="rank must lie"):
        eval_rows(10, rank=3, world_size=3)
    with pytest.raises(ValueError, match="rank must lie"):
        eval_rows(10, rank=0, world_size=0)


def test_demo_builder_rejects_bad_arguments(tmp_path):
    from sladd_fast.data import demo

    with pytest.raises(ValueError, match="--videos must be an even number >= 6"):
        demo.build(str(tmp_path / "x"), videos=5, landmarks=False)
    with pytest.raises(ValueError, match="--frames must be >= 1 and --size >= 64, got 0 and 256"):
        demo.build(str(tmp_path / "y"), frames=0, landmarks=False)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_torch_loader_start_batch_resumes_inside_an_epoch(trainset):
    loader = TorchLoader(trainset, size=32, batch_size=4, workers=0, seed=5)
    full = [b.indices.tolist() for b in loader.epoch(1)]
    assert [b.indices.tolist() for b in loader.epoch(1, start_batch=2)] == full[2:]
    assert list(loader.epoch(1, start_batch=len(full))) == []
    with pytest.raises(ValueError, match="start_batch"):
        next(loader.epoch(1, start_batch=len(full) + 1))


def test_missing_data_folders_give_one_line_and_exit_2(tmp_path, capsys):
    """The main job and bench_loader on a missing or empty folder: one line naming it, exit 2, and
    the main job creates no --out folder first."""
    import sys

    from sladd_fast import demo as main_job

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import bench_loader

    out = tmp_path / "out"
    assert main_job.main(["--out", str(out), "--data", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--data" in err and "nope" in err and "no such folder" in err
    assert not out.exists()
    (tmp_path / "empty").mkdir()
    assert main_job.main(["--out", str(out), "--data", str(tmp_path / "empty")]) == 2
    assert "no landmarks.npz" in capsys.readouterr().err and not out.exists()
    for flag in ("--steps", "--batch", "--eval-batches"):  # 0 is an error, not "the default"
        with pytest.raises(SystemExit) as e:
            main_job.main(["--out", str(out), flag, "0"])
        err = capsys.readouterr().err
        assert e.value.code == 2 and f"argument {flag}: must be >= 1, got 0" in err and not out.exists()
    assert bench_loader.main(["--backend", "torch", "--root", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--root" in err and "no such folder" in err


def test_bench_loader_caches_its_demo_data(tmp_path, monkeypatch):
    """Without --root the demo set is built once under the cache folder and reused."""
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import bench_loader

    built = []
    from sladd_fast.data import demo

    real_build = demo.build
    monkeypatch.setattr(demo, "build", lambda *a, **k: (built.append(1), real_build(*a, **{**k, "videos": 6,
                                                                                         "frames": 2}))[1])
    first = bench_loader._dataset(None, 64, str(tmp_path / "cache"))
    again = bench_loader._dataset(None, 64, str(tmp_path / "cache"))
    assert first == again and os.path.isfile(os.path.join(first, "landmarks.npz")) and built == [1]
    assert sorted(os.listdir(tmp_path / "cache")) == ["demo_v2_64px"]
    assert not os.path.exists(tmp_path / "cache" / "demo_v2_64px" / "png")  # only the packed copy is kept
    # Faces are found at 256 px and the frames packed at the benchmark's size (dlib finds none at 64).
    import numpy as np
    from PIL import Image

    with np.load(os.path.join(first, "landmarks.npz")) as z:
        valid, lm = z["valid"], z["landmarks"]
    assert valid.mean() > 0.5 and lm[valid].max() < 64
    frame = next(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(first, "image")) for f in fs)
    assert Image.open(frame).size == (64, 64)
    # A cached set without a single face (as the old 64-px build made) is rebuilt, not used.
    np.savez(os.path.join(first, "landmarks.npz"), **{**dict(np.load(os.path.join(first, "landmarks.npz"))),
                                                     "valid": np.zeros_like(valid)})
    assert bench_loader._dataset(None, 64, str(tmp_path / "cache")) == first and built == [1, 1]


def _break(root: str, rel: str, how: str) -> None:
    path = os.path.join(root, rel)
    if how == "truncate":
        with open(path, "rb") as f:
            head = f.read(40)
        with open(path, "wb") as f:
            f.write(head)
    elif how == "empty":
        open(path, "wb").close()
    else:  # deleted after indexing
        os.remove(path)


@pytest.mark.parametrize("workers", [0, 2])
def test_bad_frames_are_replaced_and_reported(trainset, workers, caplog):
    """A truncated PNG, a zero-byte file, a frame deleted after indexing and a fake's missing mask:
    the epoch runs through with the planned batch shapes and partition, each bad file is replaced
    by a frame of the same label, logged once and listed in the report."""
    root, idx = trainset.index.root, trainset.index
    real = [str(p) for p, l in zip(idx.paths, idx.labels) if l == 0]
    fake = [str(p) for p, l, m in zip(idx.paths, idx.labels, idx.mask_paths) if l == 1]
    _break(root, real[3], "truncate")
    _break(root, real[7], "empty")
    _break(root, fake[2], "delete")
    fake_mask = str(idx.mask_paths[list(idx.paths).index(fake[5])])
    _break(root, fake_mask, "delete")
    clean = TorchLoader(trainset, size=32, batch_size=4, workers=0, seed=2, bad_frames="raise")
    loader = TorchLoader(trainset, size=32, batch_size=4, workers=workers, seed=2)
    plan = plan_epoch(trainset, 0, 4, seed=2)
    with caplog.at_level("WARNING", logger="sladd_fast.data"):
        for _ in range(2):  # the second epoch: nothing logged again
            batches = list(loader.epoch(0))
    assert len(batches) == len(plan) and all(len(b) == 4 for b in batches)
    bad_rows = {list(idx.paths).index(p) for p in (real[3], real[7], fake[2], fake[5])}
    for b, planned_items, planned_partners in zip(batches, plan.items, plan.partners):
        rep = b.replaced
        for k in range(4):
            for col, planned, got in ((0, planned_items[k], b.indices[k]), (1, planned_partners[k], b.partner_indices[k])):
                if planned in bad_rows:
                    assert rep[k, col] == planned and got != planned
                    assert idx.labels[int(got)] == idx.labels[planned]  # same label stands in
                else:
                    assert rep[k, col] == -1 and got == planned
        assert torch.equal(b.labels, torch.from_numpy(idx.labels[b.indices.numpy()]))
    report = loader.bad_frames_report()
    hit = {str(idx.paths[r]) for r in bad_rows if r in set(plan.items.ravel()) | set(plan.partners.ravel())}
    assert set(report["files"]) == hit and report["replaced"] >= 2 * len(hit) - 0
    logged = [r.getMessage() for r in caplog.records if "unreadable frame replaced" in r.getMessage()]
    assert len(logged) == len(hit)  # once per file
    if workers == 0 and hit:
        with pytest.raises(ValueError, match="cannot decode"):
            for _ in clean.epoch(0):
                pass
    loader.close()


def test_replacement_is_deterministic_and_keeps_the_label(trainset):
    from sladd_fast.data.torch_loader import replacement_row

    for row in range(0, len(trainset), 7):
        a = [replacement_row(trainset, row, k) for k in range(4)]
        assert a == [replacement_row(trainset, row, k) for k in range(4)]
        assert all(trainset.index.labels[r] == trainset.index.labels[row] and trainset.valid[r] for r in a)
    with pytest.raises(ValueError, match="bad_frames must be one of"):
        TorchLoader(trainset, size=32, batch_size=4, workers=0, bad_frames="skip")


def test_evaluation_leaves_bad_frames_out(trainset, caplog):
    """A frame that fails to decode in evaluation is reported and not scored (not scored as zeros)."""
    import torch.nn as nn

    from sladd_fast import evaluate
    from sladd_fast.data.evaluation import TorchEvalLoader

    class Const(nn.Module):
        def forward(self, x):  # logits making every frame's fake probability its mean brightness
            m = x.mean((1, 2, 3))
            return type("Out", (), {"logits": torch.stack([-m, m], 1)})()

    idx = trainset.index
    _break(idx.root, str(idx.paths[3]), "truncate")
    _break(idx.root, str(idx.paths[10]), "empty")
    bad: list[int] = []
    with caplog.at_level("WARNING", logger="sladd_fast.data"):
        scores, labels, rows = evaluate.score_index(Const(), TorchEvalLoader(idx, 32, 8, workers=0), len(idx),
                                                    "cpu", unreadable=bad)
    assert bad == [3, 10] and 3 not in rows and 10 not in rows and len(rows) == len(idx) - 2
    assert any("left out of the metrics" in r.getMessage() for r in caplog.records)


def test_truncated_jpeg_is_detected_by_both_loaders_readers(tmp_path):
    """The replacement path is format-agnostic; what must hold for JPEG is that both readers see a
    truncated file as unreadable (PIL's full decode for PyTorch, the end marker for DALI's source)."""
    from PIL import Image

    from pipelines.source import read_encoded
    from sladd_fast.data.decode import read_image

    path = str(tmp_path / "f.jpg")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path, quality=95)
    assert read_image(path, 32).shape == (3, 32, 32)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot decode image"):
        read_image(path, 32)
    with pytest.raises(ValueError, match="truncated or corrupt JPEG"):
        read_encoded(path)


@pytest.fixture()
def jpeg_trainset(trainset, tmp_path):
    from sladd_fast import pack

    dst = str(tmp_path / "FF-jpg")
    pack.pack(trainset.index.root, dst, progress=False, workers=2)
    return TrainSet.build(ffpp_index(dst, "train", "FF-DF"), LandmarkStore.load(os.path.join(dst, "landmarks.npz")))


def test_encoded_frames_decode_in_one_batch_as_the_workers_decode_them(jpeg_trainset):
    """decode='cuda' moves frame decoding out of the workers into one batched torchvision decode;
    run here with its CPU decoder, it gives the workers' (PIL) frames and the same batch otherwise."""
    from sladd_fast.data.torch_loader import PairDataset, collate, decode_frames

    ts = jpeg_trainset
    pairs = [(0, 40), (5, 1), (33, 2), (17, 50)]
    plain = collate([PairDataset(ts, 24)[p] for p in pairs])
    enc = collate([PairDataset(ts, 24, encoded=True)[p] for p in pairs])
    assert isinstance(enc.images, EncodedFrames) and len(enc.images) == len(enc.partners) == len(pairs)
    assert enc.images.data.dtype == torch.uint8 and enc.images.data.dim() == 1
    d = (decode_frames(enc.images.frames(), 24, torch.device("cpu")).int() - plain.images.int()).abs()
    assert d.max() <= 1 and (d > 0).float().mean() < 0.01  # both libjpeg-turbo; resize identical
    assert torch.equal(enc.masks, plain.masks) and torch.equal(enc.landmarks, plain.landmarks)
    assert torch.equal(enc.indices, plain.indices) and torch.equal(enc.replaced, plain.replaced)
    copied = enc._map(lambda t: t.clone(), encoded=True)  # pin_memory's path: a new tensor for each
    assert isinstance(copied.partners, EncodedFrames) and torch.equal(copied.partners.data, enc.partners.data)
    assert copied.partners.data.data_ptr() != enc.partners.data.data_ptr()
    kept = enc._map(lambda t: t.clone(), encoded=False)  # to()'s path: the bytes stay where they are
    assert kept.images is enc.images and kept.masks.data_ptr() != enc.masks.data_ptr()


def test_masks_travel_as_uint8_and_become_sladds_float_mask_on_arrival(trainset, tmp_path):
    """read_mask gives uint8 (a quarter of the float bytes to hand over and copy to the GPU);
    mask_to_float is SLADD's float32 / 255 bit for bit for every level, so PairDataset's uint8 masks
    (float_masks=False, the GPU path) become exactly its float ones; a resized mask is the uint8 mask
    resized and rounded, as cv2.resize on uint8; a float mask is refused rather than divided twice."""
    import numpy as np
    from PIL import Image

    from sladd_fast.data.decode import mask_to_float, read_mask
    from sladd_fast.data.torch_loader import PairDataset, collate

    pairs = [(i, 0) for i in range(0, len(trainset), 7)]
    f = collate([PairDataset(trainset, 48)[p] for p in pairs]).masks
    u = collate([PairDataset(trainset, 48, float_masks=False)[p] for p in pairs]).masks
    assert f.dtype == torch.float32 and u.dtype == torch.uint8 and f.sum() > 0 and torch.equal(mask_to_float(u), f)

    levels = torch.arange(256, dtype=torch.uint8)
    want = np.arange(256, dtype=np.uint8).astype(np.float32) / 255.0
    assert np.array_equal(mask_to_float(levels).numpy(), want)
    with pytest.raises(TypeError, match="uint8"):
        mask_to_float(levels.float())
    g = np.zeros((8, 8), np.uint8)
    g[:, 4:] = 255
    g[0, 0] = 101
    Image.fromarray(g).save(tmp_path / "m.png")
    same = read_mask(str(tmp_path / "m.png"), 8)
    assert same.dtype == torch.uint8 and same.shape == (1, 8, 8) and torch.equal(same[0], torch.from_numpy(g))
    up = read_mask(str(tmp_path / "m.png"), 16)
    assert up.dtype == torch.uint8 and up.shape == (1, 16, 16)
    assert set(up[0, 8].tolist()) == {0, 64, 191, 255}  # the 0 -> 255 edge, bilinear at quarter steps, rounded


def test_encoded_frames_pack_into_one_tensor_and_split_back_without_a_copy():
    """EncodedFrames.pack: the frames one after another in one byte tensor; frames() gives views of it
    (a change through a view is a change of the packed bytes), empty batches and empty frames included,
    and a worker's batch survives pickling as the DataLoader sends it."""
    import pickle

    frames = [torch.arange(5, dtype=torch.uint8), torch.empty(0, dtype=torch.uint8),
              torch.full((3,), 7, dtype=torch.uint8)]
    ef = EncodedFrames.pack(frames)
    assert ef.data.tolist() == [0, 1, 2, 3, 4, 7, 7, 7] and ef.lengths.tolist() == [5, 0, 3] and len(ef) == 3
    back = ef.frames()
    assert [f.tolist() for f in back] == [f.tolist() for f in frames]
    back[2][0] = 9
    assert ef.data[5] == 9 and back[2].data_ptr() == ef.data.data_ptr() + 5
    assert EncodedFrames.pack([]).frames() == [] and len(EncodedFrames.pack([])) == 0
    again = pickle.loads(pickle.dumps(ef))
    assert torch.equal(again.data, ef.data) and torch.equal(again.lengths, ef.lengths)
    with pytest.raises(ValueError, match="1-D uint8"):
        EncodedFrames.pack([torch.zeros(2, 2, dtype=torch.uint8)])
    with pytest.raises(ValueError, match="1-D uint8"):
        EncodedFrames.pack([torch.zeros(4)])


def test_decode_frames_stacks_same_size_frames_and_resizes_the_others():
    """decode_frames: frames already at the size come back as decoded (one stack); a frame of
    another size is resized; an empty list gives an empty batch."""
    import io

    import numpy as np
    from PIL import Image
    from torchvision.io import decode_jpeg

    from sladd_fast.data.torch_loader import decode_frames

    def jpeg(h, w, seed):
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, "JPEG")
        return torch.frombuffer(bytearray(buf.getvalue()), dtype=torch.uint8)

    a, b, c = jpeg(32, 32, 0), jpeg(32, 32, 1), jpeg(40, 48, 2)
    cpu = torch.device("cpu")
    got = decode_frames([a, b], 32, cpu)
    assert got.shape == (2, 3, 32, 32) and torch.equal(got, torch.stack([decode_jpeg(a), decode_jpeg(b)]))
    mixed = decode_frames([a, c], 32, cpu)
    assert mixed.shape == (2, 3, 32, 32) and torch.equal(mixed[0], decode_jpeg(a))
    assert decode_frames([], 32, cpu).shape == (0, 3, 32, 32)


def test_damage_only_the_batch_decoder_sees_names_the_batch_and_the_verify_step(jpeg_trainset):
    """A frame whose start and end markers are intact (the workers' check passes) but whose inside is
    damaged fails in the batched decode, where no sample can be replaced: the error names the batch's
    files and the verify step. Run with the CPU decoder (nvJPEG's failure takes the same path)."""
    from sladd_fast.data.torch_loader import PairDataset, collate

    ts = jpeg_trainset
    loader = TorchLoader(ts, 24, 2, workers=0)
    batch = collate([PairDataset(ts, 24, encoded=True)[p] for p in [(0, 40), (5, 1)]])
    batch.images.frames()[1][2:22] = 0  # the segments after SOI zeroed: libjpeg finds no marker where one must be
    with pytest.raises(RuntimeError, match="JPEG decode failed") as e:
        loader._decode(batch)
    msg = str(e.value)
    assert str(ts.index.paths[0]) in msg and str(ts.index.paths[5]) in msg
    assert f"python -m sladd_fast.pack --verify {ts.index.root}" in msg


def test_gpu_decode_option_checks_its_inputs(trainset, jpeg_trainset):
    with pytest.raises(ValueError, match="decode must be one of"):
        TorchLoader(trainset, 32, 4, workers=0, decode="nvjpeg")
    with pytest.raises(ValueError, match="pass device='cuda'"):
        TorchLoader(jpeg_trainset, 32, 4, workers=0, decode="cuda")
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="needs JPEG frames.*pack"):
            TorchLoader(trainset, 32, 4, workers=0, decode="cuda", device="cuda")


@pytest.mark.needs_cuda
@pytest.mark.parametrize("workers", [0, 2])
def test_gpu_decode_matches_cpu_decode(jpeg_trainset, workers):
    """decode="cuda" against the CPU loader: the same rows, frames within nvJPEG's IDCT differences,
    and masks equal bit for bit (uint8 through the workers and the pinned copy, /255 on the GPU);
    with workers, the packed frames cross processes and are pinned before the decode."""
    cpu = [b for b in TorchLoader(jpeg_trainset, 32, 4, workers=0, seed=1).epoch(0)]
    gpu = [b for b in TorchLoader(jpeg_trainset, 32, 4, workers=workers, seed=1, decode="cuda",
                                  device="cuda").epoch(0)]
    assert len(cpu) == len(gpu)
    for a, b in zip(cpu, gpu):
        assert b.images.is_cuda and torch.equal(a.indices, b.indices.cpu())
        d = (a.images.int() - b.images.cpu().int()).abs()
        assert d.max() <= 3 and (d > 1).float().mean() < 0.01  # nvJPEG's IDCT vs libjpeg-turbo's
        assert b.masks.is_cuda and b.masks.dtype == torch.float32 and torch.equal(a.masks, b.masks.cpu())
    assert any(bool(b.masks.any()) for b in gpu)  # fakes' FF++ masks among them
