"""Input handling shared by the augmentation modes: image dtypes, 68/81-point landmarks, checks."""
from __future__ import annotations

import dataclasses
import warnings

import torch

from sladd_fast.ops import _checks


def to_u8(images: torch.Tensor, name: str = "images") -> tuple[torch.Tensor, bool]:
    """(uint8 [B,3,H,W], was_float). Float input is read as [0,1] (kornia's convention) and rounded."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} must have shape [B,3,H,W], got {list(images.shape)}")
    if images.dtype == torch.uint8:
        return images, False
    if not images.is_floating_point():
        raise ValueError(f"{name} must be uint8 or float in [0,1], got {images.dtype}")
    return (images.float() * 255 + 0.5).floor().clamp(0, 255).to(torch.uint8), True


def from_u8(images: torch.Tensor, as_float: bool, like: torch.Tensor) -> torch.Tensor:
    """Back to the caller's dtype: float in [0,1] of ``like``'s dtype, or uint8 as is."""
    return (images.float() / 255).to(like.dtype) if as_float else images


def landmarks68(landmarks: torch.Tensor, batch: int, check_values: bool, name: str = "landmarks") -> torch.Tensor:
    """float32 [B,68,2] from [B,68,2] or [B,81,2] (the 81-point layout's first 68 are dlib's)."""
    if not isinstance(landmarks, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(landmarks).__name__}")
    if landmarks.dim() != 3 or landmarks.shape[1] not in (68, 81) or landmarks.shape[2] != 2:
        raise ValueError(f"{name} must have shape [B,68,2] or [B,81,2], got {list(landmarks.shape)}")
    _checks.batch(name, landmarks, batch)
    lm = landmarks[:, :68].float().contiguous()
    if check_values and not bool(torch.isfinite(lm).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return lm


@dataclasses.dataclass(frozen=True)
class FacePool:
    """Partner candidates for the modes that blend two faces (SLADD, Face X-ray): images uint8
    [N,3,S,S] (or float [0,1]), landmarks [N,68|81,2], and optionally video ids int64 [N] (a partner is
    then never of the sample's video). Exported as SladdPool and XrayPool."""

    images: torch.Tensor
    landmarks: torch.Tensor
    video_ids: torch.Tensor | None = None


@dataclasses.dataclass(frozen=True)
class PairInputs:
    """checked_pair_inputs' result: the batch as uint8 and 68 landmarks, and the partner candidates
    (the batch itself, or the pool) likewise."""

    img: torch.Tensor
    as_float: bool
    lm: torch.Tensor
    device: torch.device
    src_img: torch.Tensor
    src_lm: torch.Tensor
    src_ids: torch.Tensor | None


def checked_pair_inputs(images: torch.Tensor, landmarks: torch.Tensor, video_ids: torch.Tensor | None,
                        pool: FacePool | None, check_values: bool, empty_pool: str, small_batch: str) -> PairInputs:
    """Checks a two-face mode's inputs (square images, 68/81 landmarks, video ids, the pool) with clear
    errors naming the argument. ``empty_pool`` / ``small_batch``: the mode's messages for an empty pool
    and for a batch of one image without a pool."""
    img, as_float = to_u8(images)
    B, _, S, W = img.shape
    if S != W:
        raise ValueError(f"images must be square [B,3,S,S], got {list(images.shape)}")
    lm = landmarks68(landmarks, B, check_values)
    dev = _checks.same_device(images=images, landmarks=landmarks)
    if video_ids is not None:
        _checks.tensor("video_ids", video_ids, torch.int64, (B,))
        _checks.same_device(images=images, video_ids=video_ids)
    if pool is None:
        if B < 2:
            raise ValueError(small_batch.format(B=B))
        return PairInputs(img, as_float, lm, dev, img, lm, video_ids)
    pimg, _ = to_u8(pool.images, "pool.images")
    if pimg.shape[1:] != img.shape[1:]:
        raise ValueError(f"pool.images must be [N,3,{S},{S}] like images, got {list(pool.images.shape)}")
    N = pimg.shape[0]
    if N == 0:
        raise ValueError(empty_pool)
    plm = landmarks68(pool.landmarks, N, check_values, "pool.landmarks")
    if pool.video_ids is not None:
        _checks.tensor("pool.video_ids", pool.video_ids, torch.int64, (N,))
        if video_ids is None:
            raise ValueError("pool.video_ids needs video_ids for the batch (to avoid the sample's own video)")
    _checks.same_device(images=images, pool_images=pool.images, pool_landmarks=pool.landmarks)
    return PairInputs(img, as_float, lm, dev, pimg, plm, pool.video_ids)


def sample_draws(params: object, k: int, skip: tuple[str, ...] = ()) -> dict:
    """Sample k's draws from a mode's params dataclass as plain numbers and numpy arrays: what the
    per-sample baselines take to replay the batched mode's draws."""
    out = {}
    for f in params.__dataclass_fields__:
        if f not in skip:
            v = getattr(params, f)[k]
            out[f] = v.cpu().numpy() if v.dim() else v.item()
    return out


def warn_if_reference(device: torch.device) -> None:
    """One warning per call site (Python's default filter) when the ops run on the slow reference."""
    from sladd_fast import ops

    if ops.backend_for(device) == "reference":
        warnings.warn(f"sladd_fast: no compiled or NVRTC kernels for {device}; the augmentation runs on the PyTorch "
                      "reference ops (correct but slow). Build the extension: pip install --no-build-isolation -e .",
                      RuntimeWarning, stacklevel=3)


@dataclasses.dataclass(frozen=True)
class AugmentResult:
    """What an augmentation returns for B inputs (all on the inputs' device).

    Attributes:
        images: the augmented images, the input's dtype ([0,1] floats for float input).
        masks: float32 [B,1,H,W] in [0,1], where the image was changed (zeros where it was not).
        labels: int64 [B], 1 for a forgery, 0 for an image left real.
        params: the mode's parameters; pass them back (``params=``) to replay the batch exactly.
        extras: mode-specific targets (e.g. SLADD's region and blend-type codes, mask_targets).
    """

    images: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    params: object
    extras: dict
