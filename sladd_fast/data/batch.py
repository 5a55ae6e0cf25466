"""The batch every loader backend (DALI, PyTorch, synthetic) yields."""
from __future__ import annotations

import dataclasses

import torch


@dataclasses.dataclass
class Batch:
    """One training step's data for B items, all tensors on one device.

    Attributes:
        images: uint8 [B,3,S,S], the items' frames (real or FF++ fake), resized to S.
        partners: uint8 [B,3,S,S], each item's partner (a fake for a real item, a real for a fake).
        landmarks, partner_landmarks: float32 [B,68,2], pixels of the S x S frames, (x, y).
        landmarks_valid, partner_valid: bool [B]; False where no face was found (never synthesize).
        masks: float32 [B,1,S,S] in [0,1], the item's FF++ mask (zeros for reals).
        labels: int64 [B], 0 real, 1 fake.
        indices, partner_indices: int64 [B], rows of the FrameIndex (of the frames delivered).
        replaced: optional int64 [B,2]: the FrameIndex rows of an item / partner frame that failed to
            decode and was replaced by another frame (-1 where nothing was replaced); None from
            backends that do not replace.
    """

    images: torch.Tensor
    partners: torch.Tensor
    landmarks: torch.Tensor
    partner_landmarks: torch.Tensor
    landmarks_valid: torch.Tensor
    partner_valid: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    partner_indices: torch.Tensor
    replaced: torch.Tensor | None = None

    def _map(self, fn) -> "Batch":
        def apply(v):
            if v is None:
                return None
            return [fn(x) for x in v] if isinstance(v, list) else fn(v)  # lists: encoded frames (decode="cuda")

        return Batch(**{f.name: apply(getattr(self, f.name)) for f in dataclasses.fields(self)})

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        return self._map(lambda t: t.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> "Batch":  # DataLoader(pin_memory=True) calls this, so copies can overlap
        return self._map(lambda t: t.pin_memory())

    def __len__(self) -> int:
        return int(self.labels.shape[0])
