"""SLADD forgeries as a drop-in augmentation in a plain timm training loop (on the demo data).

    python -m sladd_fast.data.demo --out data/demo && python examples/train_with_augment.py data/demo 20
"""
import argparse

import numpy as np
import timm
import torch

from sladd_fast.augment import SladdAugment
from sladd_fast.data import LandmarkStore, ffpp_index
from sladd_fast.data.plan import TrainSet
from sladd_fast.data.torch_loader import TorchLoader

ap = argparse.ArgumentParser(description="SLADD forgeries as an augmentation in a timm training loop")
ap.add_argument("root", help="FF++-layout root with landmarks.npz (python -m sladd_fast.data.demo --out data/demo)")
ap.add_argument("steps", type=int, nargs="?", default=20, help="training steps (default: 20)")
root, steps = (a := ap.parse_args()).root, a.steps
index = ffpp_index(root, "train", "FF-DF")
data = TrainSet.build(index, LandmarkStore.load(f"{root}/landmarks.npz"))
video = torch.from_numpy(np.unique(index.videos, return_inverse=True)[1])  # int video ids per frame
model, aug = timm.create_model("resnet18", num_classes=2), SladdAugment(p=0.5)
opt, loader = torch.optim.Adam(model.parameters(), 1e-4), TorchLoader(data, 128, 8, workers=0)
batches = (b for epoch in range(10**6) for b in loader.epoch(epoch))
for step, b in zip(range(steps), batches):
    out = aug(b.images, b.landmarks, video_ids=video[b.indices])  # forgeries made from the batch's own frames
    labels = torch.maximum(b.labels, out.labels)  # FF++ fakes stay fakes; forged reals become fakes
    loss = torch.nn.functional.cross_entropy(model(out.images.float() / 127.5 - 1), labels)
    opt.zero_grad(), loss.backward(), opt.step()
    print(f"step {step}: loss {loss.item():.3f}, forged {int(out.labels.sum())}/{len(labels)}")
