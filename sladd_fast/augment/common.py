"""Input handling shared by the augmentation modes: image dtypes, 68/81-point landmarks, checks."""
from __future__ import annotations

import dataclasses
import functools
import warnings

import torch

from sladd_fast.ops import _checks


FLOAT_SLACK = 0.5 / 255  # float input may stray this far past [0, 1] (half a level: it rounds into range)


def to_u8(images: torch.Tensor, name: str = "images", check_values: bool = False) -> tuple[torch.Tensor, bool]:
    """(uint8 [B,3,H,W], was_float). Float input is read as [0,1] (kornia's convention) and rounded;
    with ``check_values`` (a host sync on GPU) float values outside it, NaN or inf are an error (0..255
    or normalised floats would otherwise be clamped into a white or black image without a word)."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} must have shape [B,3,H,W], got {list(images.shape)}")
    if images.dtype == torch.uint8:
        return images, False
    if not images.is_floating_point():
        raise ValueError(f"{name} must be uint8 or float in [0,1], got {images.dtype}")
    if check_values and images.numel():
        lo, hi = (float(v) for v in torch.aminmax(images.float()))
        if not (lo >= -FLOAT_SLACK and hi <= 1 + FLOAT_SLACK):  # NaN fails both
            raise ValueError(f"{name}: float images must lie in [0, 1], got values in [{lo:g}, {hi:g}] (0..255 floats: "
                             f"divide by 255 or pass uint8; normalised images: undo the normalisation first)")
    return (images.float() * 255 + 0.5).floor().clamp(0, 255).to(torch.uint8), True


def checked_generator(generator: object, device: torch.device) -> torch.Generator | None:
    """``generator`` if it is None or a torch.Generator on ``device``'s type, else a ValueError naming it."""
    if generator is None:
        return None
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__} (the functions "
                         f"take it third: pass video_ids=... and pool=... by keyword)")
    if generator.device.type != device.type:
        raise ValueError(f"generator is on {generator.device} but the images are on {device}")
    return generator


def checked_params(params: object, cls: type, batch: int, device: torch.device, field: str) -> None:
    """A replayed params object: the mode's own class, ``batch`` samples on ``device``."""
    if not isinstance(params, cls):
        raise ValueError(f"params must be {cls.__name__} (this mode's), got {type(params).__name__}")
    t = getattr(params, field)
    if t.shape[0] != batch or t.device != device:
        raise ValueError(f"params must hold {batch} samples on {device}, got {t.shape[0]} on {t.device}")


def check_partner_rows(partner: torch.Tensor, n: int, where: str) -> None:
    """Replayed partners (a host sync) must be rows of the batch or pool they index."""
    if partner.numel() and not bool(((partner >= 0) & (partner < n)).all()):
        raise ValueError(f"params.partner indexes rows up to {int(partner.max())}, but the {where} has {n}: replay "
                         f"with the same batch or pool the params were drawn from")


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
    # Every point checked, the forehead's too: SBI's and X-ray's hulls read points 68-80 of the input.
    if check_values and not bool(torch.isfinite(landmarks).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return landmarks[:, :68].float().contiguous()


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
    img, as_float = to_u8(images, check_values=check_values)
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
    if not isinstance(pool, FacePool):
        raise ValueError(f"pool must be a FacePool (SladdPool / XrayPool: images, landmarks, video_ids), got "
                         f"{type(pool).__name__}")
    pimg, _ = to_u8(pool.images, "pool.images", check_values)
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


@functools.lru_cache(maxsize=None)
def _warn_reference_once(device: str) -> None:
    warnings.warn(f"sladd_fast: no compiled or NVRTC kernels for {device}; the augmentation runs on the PyTorch "
                  "reference ops (correct but slow). Build the extension: pip install --no-build-isolation -e .",
                  RuntimeWarning, stacklevel=4)


def warn_if_reference(device: torch.device) -> None:
    """One warning per process and device type when the ops run on the slow reference."""
    from sladd_fast import ops

    if ops.backend_for(device) == "reference":
        _warn_reference_once(torch.device(device).type)


@dataclasses.dataclass(frozen=True)
class AugmentResult:
    """What an augmentation returns for B inputs (all on the inputs' device).

    Attributes:
        images: the augmented images, the input's dtype ([0,1] floats for float input).
        masks: float32 [B,1,H,W] in [0,1]: the blend weights, where the forgery's content came from the
            partner (or SBI's transformed copy); zeros for a sample left real. Whole-image steps (SBI's
            colour jitter of the target, Face X-ray's resize and JPEG) also change pixels outside it.
        labels: int64 [B], 1 for a forgery, 0 for an image left real.
        params: the mode's parameters; pass them back (``params=``) to replay the batch exactly.
        extras: mode-specific targets (e.g. SLADD's region and blend-type codes, mask_targets).
    """

    images: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    params: object
    extras: dict
