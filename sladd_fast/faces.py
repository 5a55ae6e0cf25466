"""Synthetic faces for tests and the demo: a 68-point dlib-order template and a batched renderer.

Not a face model: a plausible frontal layout (IOD about 0.34 of the crop, eye width 0.13, mouth
width 0.28, close to the mean-face proportions the spec measures) and a simple painted face with
texture, so masks, warps, colour transfers and blends have real structure to act on.
"""
from __future__ import annotations

import math

import torch


def _arc(x0: float, x1: float, y: float, bend: float, n: int) -> list[tuple[float, float]]:
    return [(x0 + (x1 - x0) * t, y - bend * math.sin(math.pi * t)) for t in (i / (n - 1) for i in range(n))]


def _ring(cx: float, cy: float, rx: float, ry: float, angles: list[float]) -> list[tuple[float, float]]:
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def face_template() -> torch.Tensor:
    """float32 [68,2] landmarks in unit coordinates (x, y in [0,1]), dlib 68-point order."""
    pts: list[tuple[float, float]] = []
    # 0-16 jaw: from the right temple (image left) down to the chin and up to the left temple.
    for k in range(17):
        a = math.pi * (1.0 - k / 16)  # pi .. 0
        pts.append((0.5 + 0.38 * math.cos(a), 0.40 + 0.52 * math.sin(a) ** 1.2 if k not in (0, 16) else 0.40))
    pts += _arc(0.20, 0.44, 0.32, 0.03, 5)  # 17-21 right brow
    pts += _arc(0.56, 0.80, 0.32, 0.03, 5)  # 22-26 left brow
    pts += [(0.5, 0.40 + 0.06 * k) for k in range(4)]  # 27-30 nose bridge to tip
    pts += [(0.42 + 0.04 * k, 0.63 + (0.01 if k in (1, 3) else 0.0) - (0.01 if k == 2 else 0.0)) for k in range(5)]
    # dlib eye order: outer corner, two upper points, inner corner, two lower points (clockwise in image).
    eye = [math.pi, 4 * math.pi / 3, 5 * math.pi / 3, 0.0, math.pi / 3, 2 * math.pi / 3]
    pts += _ring(0.33, 0.42, 0.065, 0.025, eye)  # 36-41 subject's right eye (image left; 36 outer, 39 inner)
    pts += [(1.0 - x, y) for x, y in _ring(0.33, 0.42, 0.065, 0.025, [math.pi - a for a in eye])]  # 42-47 mirrored
    # 48-59 outer lip, 60-67 inner lip; 48 and 54 are the corners.
    outer = [math.pi + 2 * math.pi * k / 12 for k in range(12)]
    pts += _ring(0.5, 0.76, 0.14, 0.05, outer)
    inner = [math.pi + 2 * math.pi * k / 8 for k in range(8)]
    pts += _ring(0.5, 0.76, 0.10, 0.02, inner)
    t = torch.tensor(pts, dtype=torch.float32)
    assert t.shape == (68, 2)
    return t


def random_landmarks(batch: int, size: int = 256, generator: torch.Generator | None = None,
                     device: torch.device | str = "cpu", jitter: float = 0.01) -> torch.Tensor:
    """Template landmarks under a random similarity (scale 0.85-1.1, rotation +-12 deg, shift +-6%)
    plus per-point noise. float32 [B,68,2] in pixels of a size x size crop."""
    g = generator
    dev = torch.device(device)
    u = torch.rand(batch, 4, generator=g, device=dev)
    scale = 0.85 + 0.25 * u[:, 0]
    ang = (u[:, 1] - 0.5) * (2 * math.radians(12))
    shift = (u[:, 2:] - 0.5) * 0.12
    tpl = face_template().to(dev) - 0.5
    c, s = torch.cos(ang), torch.sin(ang)
    rot = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)  # [B,2,2]
    pts = torch.einsum("bij,kj->bki", rot, tpl) * scale[:, None, None] + 0.5 + shift[:, None]
    pts = pts + jitter * torch.randn(batch, 68, 2, generator=g, device=dev)
    return (pts * (size - 1)).float().contiguous()  # einsum leaves [B,2,68] strides; loaders give rows


def render_faces(landmarks: torch.Tensor, size: int = 256, generator: torch.Generator | None = None) -> torch.Tensor:
    """Paints one face per landmark set. uint8 [B,3,size,size] on the landmarks' device.

    Skin ellipse fitted to the jaw, eyes, brows, nostrils and lips at their landmarks, a random skin
    tone and background per sample, smooth shading and pixel noise.
    """
    B, dev = landmarks.shape[0], landmarks.device
    g = generator
    ys, xs = torch.meshgrid(torch.arange(size, device=dev, dtype=torch.float32),
                            torch.arange(size, device=dev, dtype=torch.float32), indexing="ij")
    xs, ys = xs[None], ys[None]

    def ellipse(c: torch.Tensor, rx: torch.Tensor, ry: torch.Tensor) -> torch.Tensor:
        return ((((xs - c[:, 0, None, None]) / rx[:, None, None]) ** 2 +
                 ((ys - c[:, 1, None, None]) / ry[:, None, None]) ** 2) <= 1).float()

    L = landmarks
    jaw = L[:, 0:17]
    centre = torch.stack([jaw[:, :, 0].mean(1), (jaw[:, 0, 1] + jaw[:, 8, 1]) / 2 - 0.05 * size], -1)
    rx = (jaw[:, 16, 0] - jaw[:, 0, 0]).abs() / 2 + 2
    ry = (jaw[:, 8, 1] - centre[:, 1]).abs() + 2
    skin_rgb = torch.tensor([[224, 172, 140], [180, 120, 90], [120, 80, 60], [240, 200, 170]], device=dev,
                            dtype=torch.float32)
    pick = torch.randint(0, 4, (B,), generator=g, device=dev)
    skin = skin_rgb[pick] + 20 * (torch.rand(B, 3, generator=g, device=dev) - 0.5)
    bg = 255 * torch.rand(B, 3, generator=g, device=dev)
    face = ellipse(centre, rx, ry)
    shade = 0.75 + 0.25 * torch.cos((xs - centre[:, 0, None, None]) / rx[:, None, None] * 1.2)
    img = bg[:, :, None, None] * (1 - face[:, None]) + (skin[:, :, None, None] * shade[:, None]) * face[:, None]

    def paint(mask: torch.Tensor, rgb: tuple[float, float, float]) -> None:
        nonlocal img
        col = torch.tensor(rgb, device=dev)[None, :, None, None]
        img = img * (1 - mask[:, None]) + col * mask[:, None]

    for eye in (L[:, 36:42], L[:, 42:48]):
        c = eye.mean(1)
        w = (eye[:, 3] - eye[:, 0]).norm(dim=-1) / 2 + 1
        paint(ellipse(c, w, w * 0.45), (245, 245, 240))
        paint(ellipse(c, w * 0.4, w * 0.4), (60, 40, 30))
    for brow in (L[:, 17:22], L[:, 22:27]):
        c = brow.mean(1)
        paint(ellipse(c, (brow[:, 4] - brow[:, 0]).norm(dim=-1) / 2 + 1, torch.full((B,), 0.015 * size, device=dev)),
              (70, 50, 40))
    for k in (31, 35):
        paint(ellipse(L[:, k], torch.full((B,), 0.012 * size, device=dev), torch.full((B,), 0.008 * size, device=dev)),
              (110, 70, 60))
    lips = L[:, 48:60]
    paint(ellipse(lips.mean(1), (L[:, 54] - L[:, 48]).norm(dim=-1) / 2 + 1,
                  (lips[:, :, 1].amax(1) - lips[:, :, 1].amin(1)) / 2 + 1), (170, 60, 70))
    img = img + 8 * torch.randn(img.shape, generator=g, device=dev)
    return img.clamp(0, 255).to(torch.uint8)
