"""Xception trunks in the Cadene layout (spec §2.1, §4.1) and the ImageNet weight loader.

We use timm's ``legacy_xception`` as the trunk: it is the Cadene/Rössler Xception SLADD builds on
(networks/xception.py), with the same parameter names (conv1, bn1, conv2, bn2, block1..block12 with
``rep``/``skip``/``skipbn``, conv3/bn3, conv4/bn4), so the ``xception-b5690688.pth`` ImageNet file
SLADD users have loads into it after one conversion: its pointwise convolutions are stored as 2-D
[out, in] matrices (SLADD's loader unsqueezes them, xception.py:364-383). Unlike SLADD's
``strict=False`` (and DeepfakeBench's silently unloaded depthwise weights, bug B12), the loader
here requires every trunk tensor to be present with the right shape and names what is not.
"""
from __future__ import annotations

import os
import warnings

import timm
import torch
from torch import nn

FEATURES = 2048  # pooled feature width
MIDDLE_CHANNELS = 728  # block 1-11 width; block 7 feeds the map head


def xception_trunk(in_chans: int = 3) -> nn.Module:
    """timm legacy_xception without its classifier (``fc`` is Identity), randomly initialised."""
    return timm.create_model("legacy_xception", pretrained=False, num_classes=0, in_chans=in_chans)


def trunk_features(trunk: nn.Module, x: torch.Tensor, tap: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Runs the trunk on x [B,C,S,S] up to the 2048-channel map after the final ReLU.

    Returns (features [B,2048,S/32,S/32], the output of block ``tap`` or None)."""
    x = trunk.act1(trunk.bn1(trunk.conv1(x)))
    x = trunk.act2(trunk.bn2(trunk.conv2(x)))
    tapped = None
    for i in range(1, 13):
        x = getattr(trunk, f"block{i}")(x)
        if i == tap:
            tapped = x
    x = trunk.act3(trunk.bn3(trunk.conv3(x)))
    x = trunk.act4(trunk.bn4(trunk.conv4(x)))
    return x, tapped


def read_imagenet_weights(path: str) -> dict[str, torch.Tensor]:
    """Reads a Cadene-layout Xception state dict (e.g. xception-b5690688.pth) from a local path.

    Pointwise weights [out,in] become [out,in,1,1]; ``fc.*`` / ``last_linear.*`` and a ``module.``
    prefix are dropped. Raises FileNotFoundError naming the path, ValueError if it is not a state dict.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--xception-weights: no such file: {path}")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or non-torch file
        raise ValueError(f"--xception-weights: {path} is not a readable torch state dict ({e})") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"--xception-weights: {path} does not hold a state dict of tensors")
    out = {}
    for k, v in sd.items():
        k = k.removeprefix("module.")
        if k.startswith(("fc.", "last_linear.")):
            continue
        if "pointwise" in k and k.endswith("weight") and v.dim() == 2:
            v = v[:, :, None, None]
        out[k] = v
    return out


def load_trunk_weights(trunk: nn.Module, weights: dict[str, torch.Tensor], skip: tuple[str, ...] = (),
                       source: str = "weights") -> None:
    """Copies ``weights`` into ``trunk``; every trunk tensor except the ``skip`` prefixes must be there
    with the right shape (ValueError naming the first offenders otherwise)."""
    own = trunk.state_dict()
    want = {k for k in own if not k.startswith(skip) and not k.endswith("num_batches_tracked")}
    missing = sorted(want - weights.keys())
    bad = sorted(k for k in want & weights.keys() if weights[k].shape != own[k].shape)
    if missing or bad:
        raise ValueError(f"{source}: not an Xception (Cadene layout) state dict: "
                         f"{len(missing)} missing tensors {missing[:4]}, {len(bad)} of wrong shape {bad[:4]}")
    extra = sorted(k for k in weights.keys() - own.keys() if not k.startswith(skip))
    if extra:
        warnings.warn(f"{source}: {len(extra)} tensors not used, e.g. {extra[:3]}", stacklevel=2)
    with torch.no_grad():
        for k in want:
            own[k].copy_(weights[k])
