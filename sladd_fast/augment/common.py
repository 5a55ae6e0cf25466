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
