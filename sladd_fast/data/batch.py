"""The batch every loader backend (DALI, PyTorch, synthetic) yields."""
from __future__ import annotations

import dataclasses

import torch


@dataclasses.dataclass
class EncodedFrames:
    """A batch's encoded frames (JPEG bytes) packed into one byte tensor: what the PyTorch loader's
    workers hand over with decode="cuda".

    A DataLoader worker passes every tensor storage of a batch to the main process as its own shared
    memory file (a descriptor sent, then mapped), so a tensor per frame made the hand-over the
    loader's bottleneck (benchmarks/bench_batch_transport.py measures both ways on the demo data).
    Packed, a batch crosses as two storages and is pinned in one piece. It stays on the CPU: Batch.to
    leaves it there (the decoder reads host bytes), pin_memory pins it.

    Attributes:
        data: uint8 [total bytes], the frames one after another (CPU: the decoder reads host bytes).
        lengths: int64 [N], each frame's byte count.
    """

    data: torch.Tensor
    lengths: torch.Tensor

    @classmethod
    def pack(cls, frames: list[torch.Tensor]) -> "EncodedFrames":
        """Packs 1-D uint8 CPU tensors (one encoded frame each)."""
        if any(f.dtype != torch.uint8 or f.dim() != 1 for f in frames):
            raise ValueError("EncodedFrames.pack takes 1-D uint8 tensors (one encoded frame each)")
        data = torch.cat(frames) if frames else torch.empty(0, dtype=torch.uint8)
        return cls(data, torch.tensor([f.numel() for f in frames], dtype=torch.int64))

    def frames(self) -> list[torch.Tensor]:
        """The frames as 1-D uint8 views of ``data`` (no copy), in order."""
        return list(torch.split(self.data, self.lengths.tolist())) if len(self) else []

    def __len__(self) -> int:
        return int(self.lengths.shape[0])


@dataclasses.dataclass
class Batch:
    """One training step's data for B items, all tensors on one device.

    Attributes:
        images: uint8 [B,3,S,S], the items' frames (real or FF++ fake), resized to S. Before the
            PyTorch loader decodes them on the GPU (decode="cuda"): EncodedFrames of B frames.
        partners: uint8 [B,3,S,S], each item's partner (a fake for a real item, a real for a fake);
            EncodedFrames as images.
        landmarks, partner_landmarks: float32 [B,68,2], pixels of the S x S frames, (x, y).
        landmarks_valid, partner_valid: bool [B]; False where no face was found (never synthesize).
        masks: float32 [B,1,S,S] in [0,1], the item's FF++ mask (zeros for reals).
        labels: int64 [B], 0 real, 1 fake.
        indices, partner_indices: int64 [B], rows of the FrameIndex (of the frames delivered).
        replaced: optional int64 [B,2]: the FrameIndex rows of an item / partner frame that failed to
            decode and was replaced by another frame (-1 where nothing was replaced); None from
            backends that do not replace.
    """

    images: torch.Tensor | EncodedFrames
    partners: torch.Tensor | EncodedFrames
    landmarks: torch.Tensor
    partner_landmarks: torch.Tensor
    landmarks_valid: torch.Tensor
    partner_valid: torch.Tensor
    masks: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    partner_indices: torch.Tensor
    replaced: torch.Tensor | None = None

    def _map(self, fn, encoded: bool) -> "Batch":
        """fn over every tensor; over EncodedFrames' tensors too where ``encoded``, else they are kept."""
        def apply(v):
            if v is None:
                return None
            if isinstance(v, EncodedFrames):
                return EncodedFrames(fn(v.data), fn(v.lengths)) if encoded else v
            return fn(v)

        return Batch(**{f.name: apply(getattr(self, f.name)) for f in dataclasses.fields(self)})

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        """Every tensor on ``device``; EncodedFrames stay on the CPU, where their decoder reads them."""
        return self._map(lambda t: t.to(device, non_blocking=non_blocking), encoded=False)

    def pin_memory(self) -> "Batch":  # DataLoader(pin_memory=True) calls this, so copies can overlap
        return self._map(lambda t: t.pin_memory(), encoded=True)

    def __len__(self) -> int:
        return int(self.labels.shape[0])
