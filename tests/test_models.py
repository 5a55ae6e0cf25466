"""Detector and synthesizer policy: head shapes, active dropout, ImageNet (Cadene layout) weights."""
from __future__ import annotations

import pytest
import torch

from sladd_fast.models import (Detector, SynthesizerPolicy, load_trunk_weights, read_imagenet_weights,
                               sample_actions, xception_trunk)
from sladd_fast.train.config import load_config
from sladd_fast.train.loop import build_models


def test_head_shapes_at_256() -> None:
    torch.manual_seed(0)
    det, syn = Detector().eval(), SynthesizerPolicy().eval()
    with torch.no_grad():
        out = det(torch.randn(2, 3, 256, 256))
        logits = syn(torch.randn(2, 6, 256, 256))
    assert out.logits.shape == (2, 2) and out.type_logits.shape == (2, 5) and out.mag.shape == (2,)
    assert out.map.shape == (2, 1, 16, 16) and out.features.shape == (2, 2048)
    assert float(out.map.min()) > 0 and float(out.map.max()) < 1  # sigmoid
    assert logits.region.shape == (2, 10) and logits.blend_type.shape == (2, 4) and logits.ratio.shape == (2,)
    a = sample_actions(logits, torch.Generator().manual_seed(0))
    assert a.region.dtype == torch.int64 and a.blend_type.dtype == torch.int64
    assert bool(((a.ratio > 0) & (a.ratio < 1)).all())


def test_classifier_dropout_is_active_in_train_mode() -> None:
    """timm's legacy_xception ignores drop_rate; our Dropout(0.5) before the real/fake head must act."""
    torch.manual_seed(0)
    det = Detector()
    x = torch.randn(2, 3, 64, 64)
    det.eval()
    with torch.no_grad():
        a, b = det(x), det(x)
    assert torch.equal(a.logits, b.logits)
    det.train()
    det.trunk.eval()  # BN in eval mode: the trunk is deterministic, only the head's dropout is random
    with torch.no_grad():
        c, d = det(x), det(x)
    assert torch.equal(c.features, d.features)
    assert not torch.allclose(c.logits, d.logits)
    assert torch.equal(c.type_logits, d.type_logits)  # no dropout on the type head (spec §4.1)


def _cadene_state_dict(path: str) -> dict[str, torch.Tensor]:
    """A generated ImageNet-style file: Cadene keys, 2-D pointwise weights, a 1000-way fc."""
    torch.manual_seed(1)
    sd = {k: v.clone() for k, v in xception_trunk(3).state_dict().items()}
    for k in sd:
        if k.endswith("weight") and sd[k].dim() == 4 and "pointwise" in k:
            sd[k] = sd[k][:, :, 0, 0].contiguous()
        if sd[k].is_floating_point():
            sd[k] = torch.randn_like(sd[k])
    sd["fc.weight"], sd["fc.bias"] = torch.randn(1000, 2048), torch.randn(1000)
    torch.save(sd, path)
    return sd


def test_imagenet_weights_load_into_both_trunks(tmp_path) -> None:
    path = str(tmp_path / "xception-b5690688.pth")
    sd = _cadene_state_dict(path)
    cfg = load_config(None, [f"model.xception_weights={path}"])
    logs: list[str] = []
    det, syn = build_models(cfg, torch.device("cpu"), logs.append)
    assert any("loaded ImageNet" in m for m in logs)
    for k, v in det.trunk.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        want = sd[k].view_as(v)
        assert torch.equal(v, want), k
    syn_sd = syn.trunk.state_dict()
    for k, v in syn_sd.items():
        if k.endswith("num_batches_tracked") or k == "conv1.weight":
            continue
        assert torch.equal(v, sd[k].view_as(v)), k
    w = syn_sd["conv1.weight"]  # 6-channel conv re-initialised: xavier_normal(gain=0.02)
    assert w.shape == (32, 6, 3, 3)
    expected_std = 0.02 * (2.0 / (6 * 9 + 32 * 9)) ** 0.5
    assert 0.7 * expected_std < float(w.std()) < 1.3 * expected_std


def test_weights_with_missing_tensor_name_it(tmp_path) -> None:
    path = str(tmp_path / "x.pth")
    sd = _cadene_state_dict(path)
    del sd["block3.rep.1.conv1.weight"]
    torch.save(sd, path)
    with pytest.raises(ValueError, match="block3.rep.1.conv1.weight"):
        load_trunk_weights(xception_trunk(3), read_imagenet_weights(path), source=path)


def test_missing_weights_path_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_imagenet_weights(str(tmp_path / "nope.pth"))


def test_without_weights_a_one_line_warning() -> None:
    logs: list[str] = []
    build_models(load_config(), torch.device("cpu"), logs.append)
    assert len([m for m in logs if m.startswith("warning: no --xception-weights")]) == 1


def test_pretrained_detector_checkpoint_is_loaded(tmp_path) -> None:
    """--pretrained CKPT keeps the seed's meaning: a detector checkpoint to start from."""
    torch.manual_seed(5)
    src = Detector()
    path = str(tmp_path / "det.pt")
    torch.save({"detector": src.state_dict()}, path)
    det, _ = build_models(load_config(None, [f"model.pretrained={path}"]), torch.device("cpu"), lambda m: None)
    for k, v in src.state_dict().items():
        assert torch.equal(det.state_dict()[k], v), k


def test_corrupt_weights_or_checkpoint_file_names_it(tmp_path) -> None:
    from sladd_fast.train.checkpoint import load_checkpoint, load_detector

    bad = tmp_path / "truncated.pth"
    bad.write_bytes(b"PK\x03\x04 not really a torch file")
    with pytest.raises(ValueError, match="truncated.pth"):
        read_imagenet_weights(str(bad))
    with pytest.raises(ValueError, match="truncated.pth"):
        load_checkpoint(str(bad))
    other = tmp_path / "other.pt"
    torch.save({"detector": {"conv.weight": torch.zeros(1)}}, other)
    with pytest.raises(ValueError, match="not a sladd_fast detector"):
        load_detector(str(other))
    listing = tmp_path / "list.pth"
    torch.save([1, 2], listing)
    with pytest.raises(ValueError, match="state dict"):
        read_imagenet_weights(str(listing))
