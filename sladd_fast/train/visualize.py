"""A PNG grid of synthesized training samples: item | partner | detector input | forgery mask, the
column titles on top, the policy's region and blend type and the labels written above each row."""
from __future__ import annotations

import numpy as np
import torch

from sladd_fast.synthesis import BlendType, Region, TypeLabel

HEADER = 14  # px of caption per row (and of the column titles)
COLUMNS = ("item (real or fake)", "partner", "detector input", "forgery mask")


def sample_grid(items: torch.Tensor, partners: torch.Tensor, images: torch.Tensor, masks: torch.Tensor,
                region: torch.Tensor, blend_type: torch.Tensor, labels: torch.Tensor, type_labels: torch.Tensor,
                max_rows: int = 8) -> np.ndarray:
    """uint8 HxWx3 grid. items, partners, images: uint8 [B,3,S,S]; masks: float [B,1,S,S]; region,
    blend_type, labels, type_labels: int64 [B]."""
    from PIL import Image, ImageDraw

    n = min(max_rows, items.shape[0])
    S = items.shape[-1]
    m = (masks[:n].float().clamp(0, 1) * 255).to(torch.uint8).expand(-1, 3, -1, -1)
    rows = torch.cat([items[:n], partners[:n], images[:n], m], 3).permute(0, 2, 3, 1).cpu().numpy()  # [n,S,4S,3]
    canvas = Image.new("RGB", (4 * S, HEADER + n * (S + HEADER)), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for c, title in enumerate(COLUMNS):
        draw.text((c * S + 2, 1), title, fill=(255, 255, 0))
    reg, bt = region[:n].tolist(), blend_type[:n].tolist()
    lab, tl = labels[:n].tolist(), type_labels[:n].tolist()
    for i in range(n):
        y = HEADER + i * (S + HEADER)
        canvas.paste(Image.fromarray(rows[i]), (0, y + HEADER))
        text = (f"region {Region(reg[i]).name}  type {BlendType(bt[i]).name}  ->  "
                f"{'fake' if lab[i] else 'real'} / {TypeLabel(tl[i]).name}")
        draw.text((2, y + 1), text, fill=(255, 255, 255))
    return np.asarray(canvas)


def save_png(grid: np.ndarray, path: str) -> None:
    from PIL import Image

    Image.fromarray(grid).save(path)
