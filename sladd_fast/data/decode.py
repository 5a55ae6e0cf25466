"""CPU frame decoding for the PyTorch backend: PNG/JPEG -> uint8 CHW, resized like SLADD.

SLADD: cv2.imread -> RGB -> cv2.resize(256, INTER_CUBIC) for frames, bilinear for masks (/255).
Here PIL decodes and F.interpolate resizes (bicubic / bilinear, no antialias, as OpenCV).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F



def decode_file(path: str, mode: str, what: str = "image") -> np.ndarray:
    """PIL decode to a numpy array in ``mode`` ("RGB", "L"); ValueError naming the file on failure."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert(mode))
    except Exception as e:  # PIL raises many types for missing, truncated or corrupt files
        raise ValueError(f"cannot decode {what} {path}: {e}") from None


def resize_image(img: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 [3,H,W] -> uint8 [3,size,size], bicubic without antialiasing (cv2 INTER_CUBIC)."""
    if img.shape[-2:] == (size, size):
        return img
    out = F.interpolate(img[None].float(), size=(size, size), mode="bicubic", align_corners=False)[0]
    return torch.floor(out + 0.5).clamp(0, 255).to(torch.uint8)


def resize_mask(m: torch.Tensor, size: int) -> torch.Tensor:
    """float [1,H,W] -> [1,size,size], bilinear without antialiasing (cv2's default resize)."""
    if m.shape[-2:] == (size, size):
        return m
    return F.interpolate(m[None], size=(size, size), mode="bilinear", align_corners=False)[0]


def read_image(path: str, size: int) -> torch.Tensor:
    """uint8 [3,size,size]; ValueError naming the file if it is missing, truncated or corrupt."""
    return resize_image(torch.from_numpy(decode_file(path, "RGB", "image").copy()).permute(2, 0, 1), size)


def read_mask(path: str, size: int) -> torch.Tensor:
    """float32 [1,size,size] in [0,1] (grayscale / 255, bilinear resize)."""
    return resize_mask(torch.from_numpy(decode_file(path, "L", "mask").astype(np.float32) / 255.0)[None], size)


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
