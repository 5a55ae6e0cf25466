"""Writes a PNG grid of an augmentation mode: input | augmented | mask, with the label and codes.

    python examples/augment_grid.py docs/augment_sladd.png
"""
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw

from sladd_fast import faces
from sladd_fast.augment import sladd_augment
from sladd_fast.synthesis import BlendType, Region

g = torch.Generator().manual_seed(0)
lm = faces.random_landmarks(4, 160, g)
img = faces.render_faces(lm, 160, g)
out = sladd_augment(img, lm, torch.Generator().manual_seed(1), video_ids=torch.arange(4), p=0.85)
m = (out.masks * 255).to(torch.uint8).expand(-1, 3, -1, -1)
rows = torch.cat([img, out.images, m], 3).permute(0, 2, 3, 1).numpy()
canvas = Image.new("RGB", (3 * 160, 4 * 174), (0, 0, 0))
draw = ImageDraw.Draw(canvas)
for i, row in enumerate(rows):
    canvas.paste(Image.fromarray(np.ascontiguousarray(row)), (0, i * 174 + 14))
    label = "fake" if out.labels[i] else "real"
    draw.text((2, i * 174 + 1), f"input | SLADD mode: {label}, region {Region(int(out.extras['region'][i])).name}, "
              f"{BlendType(int(out.extras['blend_type'][i])).name} | mask", fill=(255, 255, 0))
canvas.save(sys.argv[1] if len(sys.argv) > 1 else "augment_sladd.png")
