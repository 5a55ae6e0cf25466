"""One SLADD training step (spec §3.0, §5; whole_model.py:116-167), batched, on the batch's device.

1. The synthesizer policy (train mode: dropout on, batch-statistics BN, as SLADD) reads
   cat(item, partner) and samples region, blend type and ratio for every item.
2. ``sladd_fast.synthesize`` forges every real item with valid landmarks from its partner (an FF++
   fake); FF++ fakes keep their own image and mask (type label 4); blend type NONE or
   ``applied=False`` leaves an item real (type label 3; B3/B7 fixed).
3. The detector sees the batch and its horizontal flip (2B images) and takes one Adam step on
   L = L_cls + 0.1 L_map + 0.05 L_type + 0.1 L_mag (sladd_fast.train.losses).
4. REINFORCE on the synthesizer with the detector's loss, computed *before* the detector step, as
   the reward: L_syn = mean(-log_prob * (R - b)) - 1e-5 mean(entropy). SLADD's R is the batch's
   scalar total loss and b = 0 (the defaults); a per-sample R and a moving-average baseline b are
   options (PolicyConfig). Log-probs, losses and the reward are fp32, also under bf16 autocast.
No host sync: every value stays a device tensor (logging reads them every N steps).
"""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from sladd_fast.data.batch import Batch
from sladd_fast.models.detector import normalize
from sladd_fast.models.synthesizer import Actions, sample_actions
from sladd_fast.synthesis import BlendType, SynthesisResult, TypeLabel, synthesize
from sladd_fast.synthesis.constants import MASK_TARGET_SIZE
from sladd_fast.train.config import LossConfig, PolicyConfig
from sladd_fast.train.losses import DetectorTargets, detector_losses


@dataclasses.dataclass
class StepOptions:
    """What a step needs beyond the networks: loss and policy settings, precision, layout."""

    loss: LossConfig = LossConfig()
    policy: PolicyConfig = PolicyConfig()
    amp: bool = False  # bf16 autocast (CUDA)
    channels_last: bool = False
    flip: bool = True


class RewardBaseline(nn.Module):
    """Moving average of the reward (ablation ``policy.baseline=ema``); a buffer, so it is saved and
    moved with the module. ``value`` is 0 until the first update; ``advance(reward)`` gives what a step
    subtracts and then updates."""

    def __init__(self, momentum: float = 0.9) -> None:
        super().__init__()
        self.momentum = momentum
        self.register_buffer("value", torch.zeros(()))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def advance(self, reward: torch.Tensor) -> torch.Tensor:
        """The baseline for this step's ``reward``, read before the update it then makes: the average
        so far, or at the first step the reward's own mean (0 there would make the whole first reward
        the advantage: one outsized update). A device tensor; no host read."""
        r = reward.float().mean()
        first = self.count == 0
        b = torch.where(first, r, self.value)
        self.value.copy_(torch.where(first, r, self.momentum * self.value + (1 - self.momentum) * r))
        self.count += 1
        return b


@dataclasses.dataclass
class StepResult:
    """stats: detached fp32 scalars (loss, loss_cls, ..., reward, policy_loss, entropy, fake_rate).
    images: uint8 [B,3,S,S] the detector's inputs before flipping; masks: float32 [B,1,S,S] the
    forgery regions; actions: the policy's draws (detached); targets: DetectorTargets [B]."""

    stats: dict[str, torch.Tensor]
    images: torch.Tensor
    masks: torch.Tensor
    actions: Actions
    targets: DetectorTargets


def ffpp_mask_target(masks: torch.Tensor) -> torch.Tensor:
    """cv2.resize(float FF++ mask, (16,16), INTER_CUBIC) (spec §3.7): bicubic point sampling without
    antialiasing and without rounding (the float mask may overshoot [0,1] slightly, as in SLADD)."""
    return F.interpolate(masks.float(), size=(MASK_TARGET_SIZE, MASK_TARGET_SIZE), mode="bicubic",
                         align_corners=False)


def forge(batch: Batch, actions: Actions, generator: torch.Generator | None,
          check_values: bool = False) -> tuple[SynthesisResult, DetectorTargets]:
    """Synthesizes the batch's real items and builds the detector's labels (spec §3.0 table).

    Returns (the SynthesisResult, whose ``images`` uint8 [B,3,S,S] are the detector's inputs: the
    item itself where nothing was applied, FF++ fakes included; DetectorTargets [B])."""
    real = batch.labels == 0
    valid = real & batch.landmarks_valid & batch.partner_valid
    res = synthesize(batch.images, batch.partners, batch.landmarks, batch.partner_landmarks, actions.region,
                     actions.blend_type, actions.ratio.float(), generator, valid=valid, check_values=check_values)
    fake_item = ~real
    applied = res.applied
    labels = (fake_item | applied).long()
    type_labels = torch.where(fake_item, int(TypeLabel.ORIGINAL_FAKE),
                              torch.where(applied, actions.blend_type, int(TypeLabel.REAL)))
    map_t = torch.where(fake_item.view(-1, 1, 1, 1), ffpp_mask_target(batch.masks), res.mask_targets)
    mag_mask = (applied & (actions.blend_type == BlendType.COPY)).float()
    targets = DetectorTargets(labels, type_labels, map_t, actions.ratio.float(), mag_mask)
    return res, targets


def policy_loss(log_prob: torch.Tensor, entropy: torch.Tensor, reward: torch.Tensor, entropy_coef: float = 1e-5,
                baseline: torch.Tensor | float = 0.0) -> torch.Tensor:
    """REINFORCE surrogate (spec §5): mean(-log_prob * (reward - baseline)) - entropy_coef * mean(entropy).

    log_prob, entropy: float32 [B] (differentiable); reward: float32 [B] or scalar, detached.
    Minimising it raises the probability of actions with a positive advantage."""
    advantage = (reward.float() - baseline).detach()
    return -(log_prob.float() * advantage).mean() - entropy_coef * entropy.float().mean()


def train_step(detector: nn.Module, synthesizer: nn.Module, opt_det: torch.optim.Optimizer,
               opt_syn: torch.optim.Optimizer, batch: Batch, opts: StepOptions,
               generator: torch.Generator | None = None, baseline: RewardBaseline | None = None,
               forge_fn: Callable[..., tuple[SynthesisResult, DetectorTargets]] = forge) -> StepResult:
    """One adversarial step (module docstring). Both networks must be in train mode; they may be
    DDP-wrapped (each is run forward and backward exactly once, every parameter used).
    ``forge_fn(batch, actions, generator, check_values=...)`` replaces the synthesis (benchmarks
    time the networks alone with precomputed forgeries)."""
    dev = batch.images.device
    amp = contextlib.nullcontext() if not opts.amp else torch.autocast(dev.type, dtype=torch.bfloat16)
    fmt = torch.channels_last if opts.channels_last else torch.contiguous_format

    # 1. Policy.
    pair = torch.cat([normalize(batch.images), normalize(batch.partners)], 1).contiguous(memory_format=fmt)
    with amp:
        logits = synthesizer(pair)
    actions = sample_actions(logits, generator)

    # 2. Synthesis (no gradients flow through it: REINFORCE).
    with torch.no_grad():
        res, targets = forge_fn(batch, actions, generator, check_values=dev.type == "cpu")
    images = res.images

    # 3. Detector.
    x = normalize(images)
    t = targets
    if opts.flip:
        x = torch.cat([x, x.flip(-1)])
        t = targets.flipped_double()
    x = x.contiguous(memory_format=fmt)
    with amp:
        out = detector(x)
    lc = opts.loss
    per = detector_losses(out, t, lc.margin, lc.scale, lc.map, lc.type, lc.mag)
    loss = per["total"].mean()
    opt_det.zero_grad(set_to_none=True)
    opt_syn.zero_grad(set_to_none=True)
    loss.backward()
    opt_det.step()

    # 4. REINFORCE (reward computed before the detector step, from the same forward pass).
    B = len(batch)
    if opts.policy.reward == "sample":
        reward = per["total"].detach().view(-1, B).mean(0)  # each item's loss, with its flip
    else:
        reward = loss.detach().expand(B)
    b = 0.0
    if baseline is not None:
        b = baseline.advance(reward)
    p_loss = policy_loss(actions.log_prob, actions.entropy, reward, opts.policy.entropy, b)
    p_loss.backward()
    opt_syn.step()

    with torch.no_grad():
        stats = {"loss": loss.detach(), **{f"loss_{k}": v.detach().mean() for k, v in per.items() if k != "total"},
                 "reward": reward.mean(), "policy_loss": p_loss.detach(), "entropy": actions.entropy.detach().mean(),
                 "fake_rate": targets.labels.float().mean(), "applied_rate": res.applied.float().mean(),
                 "ratio": actions.ratio.mean()}
    detached = Actions(actions.region, actions.blend_type, actions.ratio, actions.log_prob.detach(),
                       actions.entropy.detach())
    return StepResult(stats, images, res.masks, detached, targets)
