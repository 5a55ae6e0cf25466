"""Writes a PNG grid of the augmentation modes: input | augmented | mask, with the label and codes.

    python examples/augment_grid.py docs/augment_modes.png
"""
import argparse

import numpy as np
import torch
from PIL import Image, ImageDraw

from sladd_fast import faces
from sladd_fast.augment import HULL_TYPES, sbi_augment, sladd_augment, xray_augment
from sladd_fast.synthesis import BlendType, Region

ap = argparse.ArgumentParser(description="PNG grid of the augmentation modes (input | augmented | mask)")
ap.add_argument("out", nargs="?", default="augment_modes.png", help="the PNG to write (default: augment_modes.png)")
out_path = ap.parse_args().out
g = torch.Generator().manual_seed(0)
lm = faces.random_landmarks(4, 128, g)
img = faces.render_faces(lm, 128, g)
out = sladd_augment(img, lm, torch.Generator().manual_seed(1), video_ids=torch.arange(4), p=0.85)
sbi = sbi_augment(img, lm, torch.Generator().manual_seed(2))
xray = xray_augment(img, lm, torch.Generator().manual_seed(3), video_ids=torch.arange(4))
texts = [f"SLADD: {'fake' if out.labels[i] else 'real'}, {Region(int(out.extras['region'][i])).name}, "
         f"{BlendType(int(out.extras['blend_type'][i])).name}" for i in range(4)]
texts += [f"SBI: {'fake' if sbi.labels[i] else 'real'}, ratio {float(sbi.params.ratio[i]):.2f}" for i in range(4)]
texts += [f"X-ray: {'fake' if xray.labels[i] else 'real'}, {HULL_TYPES[int(xray.params.hull_type[i])]}, "
          f"boundary" for i in range(4)]
boundary = xray.extras["boundary"].clamp(0, 1)
imgs, masks = torch.cat([out.images, sbi.images, xray.images]), torch.cat([out.masks, sbi.masks, boundary])
m = (masks * 255).to(torch.uint8).expand(-1, 3, -1, -1)
rows = torch.cat([torch.cat([img, img, img]), imgs, m], 3).permute(0, 2, 3, 1).numpy()
canvas = Image.new("RGB", (3 * 128, len(rows) * 142), (0, 0, 0))
draw = ImageDraw.Draw(canvas)
for i, row in enumerate(rows):
    canvas.paste(Image.fromarray(np.ascontiguousarray(row)), (0, i * 142 + 14))
    draw.text((2, i * 142 + 1), f"input | {texts[i]} | mask", fill=(255, 255, 0))
canvas.save(out_path)
