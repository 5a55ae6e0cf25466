"""The training step on a GPU (skipped without one): bf16 autocast and channels_last, fp32
log-probs and losses, no host sync inside the step, and CUDA vs CPU agreement of the labels."""
from __future__ import annotations

import pytest
import torch

from sladd_fast.data.synthetic import synthetic_batch
from sladd_fast.models import Detector, SynthesizerPolicy
from sladd_fast.train.step import StepOptions, train_step

pytestmark = pytest.mark.needs_cuda


def _nets(dev):
    torch.manual_seed(0)
    det = Detector().to(dev, memory_format=torch.channels_last).train()
    syn = SynthesizerPolicy().to(dev, memory_format=torch.channels_last).train()
    return det, syn, torch.optim.Adam(det.parameters(), lr=2e-4), torch.optim.Adam(syn.parameters(), lr=5e-5)


def test_cuda_step_bf16_channels_last_never_syncs() -> None:
    dev = torch.device("cuda")
    det, syn, od, os_ = _nets(dev)
    b = synthetic_batch(4, 256, dev, seed=0)
    g = torch.Generator(dev).manual_seed(0)
    opts = StepOptions(amp=True, channels_last=True)
    r = train_step(det, syn, od, os_, b, opts, g)  # warm-up: allocations, cudnn autotuning
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        r = train_step(det, syn, od, os_, b, opts, g)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(v.dtype == torch.float32 and bool(torch.isfinite(v)) for v in r.stats.values())
    assert r.actions.log_prob.dtype == torch.float32


def test_cuda_labels_follow_the_cpu_rules() -> None:
    """Same batch and actions on both devices: the rules that do not depend on random draws agree
    (FF++ fakes keep label 1 / type 4, blend type NONE stays real / type 3)."""
    from sladd_fast.models.synthesizer import Actions
    from sladd_fast.train.step import forge

    b = synthetic_batch(6, 256, seed=3)
    b.labels[:] = torch.tensor([0, 0, 0, 0, 1, 1])
    acts = Actions(torch.tensor([0, 3, 9, 4, 2, 1]), torch.tensor([0, 1, 2, 3, 0, 2]), torch.full((6,), 0.7),
                   torch.zeros(6), torch.zeros(6))
    cpu = forge(b, acts, torch.Generator().manual_seed(0))
    dev = torch.device("cuda")
    acts_d = Actions(*(t.to(dev) for t in (acts.region, acts.blend_type, acts.ratio, acts.log_prob, acts.entropy)))
    gpu = forge(b.to(dev), acts_d, torch.Generator(dev).manual_seed(0))
    for name in ("labels", "type_labels", "mag_mask"):
        assert torch.equal(getattr(cpu[1], name)[4:], getattr(gpu[1], name).cpu()[4:]), name  # FF++ fakes
    assert gpu[1].labels[3].item() == 0 and gpu[1].type_labels[3].item() == 3  # type NONE stays real
