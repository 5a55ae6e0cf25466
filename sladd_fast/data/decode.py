"""CPU frame decoding for the PyTorch backend: PNG/JPEG -> uint8 CHW, resized like SLADD.

SLADD: cv2.imread -> RGB -> cv2.resize(256, INTER_CUBIC) for frames, bilinear for masks, then /255.
Here PIL decodes and F.interpolate resizes (bicubic / bilinear, no antialias, as OpenCV), rounding
back to uint8 as cv2.resize on uint8 does (cv2's fixed-point arithmetic can land one level away).
Masks stay uint8 until they reach the batch's device (mask_to_float): a float mask is 4x the bytes to
hand from a worker and to copy to the GPU.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from sladd_fast._consts import const



def decode_file(path: str, mode: str, what: str = "image") -> np.ndarray:
    """PIL decode to a numpy array in ``mode`` ("RGB", "L"); ValueError naming the file on failure."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert(mode))
    except Exception as e:  # PIL raises many types for missing, truncated or corrupt files
        raise ValueError(f"cannot decode {what} {path}: {e}") from None


def _resize_u8(x: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    """uint8 [C,H,W] -> uint8 [C,size,size] by F.interpolate (no antialiasing), rounded half up."""
    if x.shape[-2:] == (size, size):
        return x
    out = F.interpolate(x[None].float(), size=(size, size), mode=mode, align_corners=False)[0]
    return torch.floor(out + 0.5).clamp(0, 255).to(torch.uint8)


def resize_image(img: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 [3,H,W] -> uint8 [3,size,size], bicubic without antialiasing (cv2 INTER_CUBIC)."""
    return _resize_u8(img, size, "bicubic")


def resize_mask(m: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 [1,H,W] -> uint8 [1,size,size], bilinear without antialiasing (cv2's default resize of the
    uint8 mask, before SLADD's /255; the DALI pipeline resizes it the same way)."""
    return _resize_u8(m, size, "bilinear")


def mask_to_float(m: torch.Tensor) -> torch.Tensor:
    """uint8 masks (any shape) -> float32 in [0,1], /255 on their own device: exactly SLADD's float32
    / 255 on every device. The divisor is a device tensor: CUDA divides by a Python number as a
    multiplication by its reciprocal, one ulp off for about half the levels."""
    if m.dtype != torch.uint8:
        raise TypeError(f"mask_to_float takes uint8 masks, got {m.dtype}")
    return m.float() / const((255.0,), m.device)


def read_image(path: str, size: int) -> torch.Tensor:
    """uint8 [3,size,size]; ValueError naming the file if it is missing, truncated or corrupt."""
    return resize_image(torch.from_numpy(decode_file(path, "RGB", "image").copy()).permute(2, 0, 1), size)


def read_mask(path: str, size: int) -> torch.Tensor:
    """uint8 [1,size,size] (grayscale, bilinear resize); mask_to_float gives SLADD's float mask."""
    return resize_mask(torch.from_numpy(decode_file(path, "L", "mask").copy())[None], size)


# Encoded files, for decoders that take bytes (DALI, nvJPEG through torchvision): checked cheaply
# before a decoder sees them.
PNG_SIG = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"


def check_encoded(path: str, data: np.ndarray) -> None:
    """Cheap integrity check of PNG / JPEG bytes (signature and end marker)."""
    head, tail = data[:8].tobytes(), data[-12:].tobytes()
    if head.startswith(PNG_SIG):
        if PNG_END not in tail:
            raise ValueError(f"truncated or corrupt PNG: {path}")
    elif head[:2] == b"\xff\xd8":
        if b"\xff\xd9" not in tail:
            raise ValueError(f"truncated or corrupt JPEG: {path}")
    else:
        raise ValueError(f"not a PNG or JPEG image: {path}")


def read_encoded(path: str) -> np.ndarray:
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e}") from None
    if data.size < 16:
        raise ValueError(f"empty or truncated image file: {path}")
    check_encoded(path, data)
    return data
