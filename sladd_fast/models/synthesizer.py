"""SLADD's synthesizer policy (spec §2; networks/xception_forsyn.py, synthesizer.py:215-236).

A 6-channel Xception (target and partner in [-1,1], concatenated) whose first conv is
re-initialised with xavier_normal(gain=0.02), and three Dropout(0.5) -> Linear heads on the pooled
2048-d feature: region (10), blend type (4), ratio logit z. Region and type are sampled from their
softmax; the ratio is deterministic sigmoid(z) with the pseudo log-prob log sigmoid(z) (bug B5,
replicated). Log-probs and entropies are computed in fp32 from fp32 logits, also under autocast.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from sladd_fast.models.xception import FEATURES, trunk_features, xception_trunk
from sladd_fast.ops.masks import NUM_REGIONS
from sladd_fast.synthesis.constants import BlendType


@dataclasses.dataclass
class PolicyLogits:
    """region [B,10], blend_type [B,4], ratio [B] (the logit z), all fp32."""

    region: torch.Tensor
    blend_type: torch.Tensor
    ratio: torch.Tensor


@dataclasses.dataclass
class Actions:
    """region, blend_type: int64 [B]; ratio: float32 [B] = sigmoid(z), detached;
    log_prob, entropy: float32 [B], differentiable w.r.t. the policy."""

    region: torch.Tensor
    blend_type: torch.Tensor
    ratio: torch.Tensor
    log_prob: torch.Tensor
    entropy: torch.Tensor


class SynthesizerPolicy(nn.Module):
    """x: float [B,6,S,S] in [-1,1] (target and partner) -> PolicyLogits."""

    def __init__(self, dropout: float = 0.5) -> None:
        super().__init__()
        self.trunk = xception_trunk(6)
        nn.init.xavier_normal_(self.trunk.conv1.weight, gain=0.02)
        self.region_fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(FEATURES, NUM_REGIONS))
        self.type_fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(FEATURES, len(BlendType)))
        self.ratio_fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(FEATURES, 1))

    def forward(self, x: torch.Tensor) -> PolicyLogits:
        fmap, _ = trunk_features(self.trunk, x)
        with torch.autocast(x.device.type, enabled=False):  # heads in fp32: the log-probs need it
            f = fmap.float().mean((2, 3))
            return PolicyLogits(self.region_fc(f), self.type_fc(f), self.ratio_fc(f).squeeze(1))


def sample_actions(logits: PolicyLogits, generator: torch.Generator | None = None) -> Actions:
    """Draws region and blend type from their softmax on the logits' device (no host sync).

    log_prob = log p(region) + log p(type) + log sigmoid(z); entropy = H(region) + H(type)
    - sigmoid(z) log sigmoid(z), as SLADD forms them (spec §2.2)."""
    lr = F.log_softmax(logits.region.float(), 1)
    lt = F.log_softmax(logits.blend_type.float(), 1)
    region = torch.multinomial(lr.detach().exp(), 1, generator=generator).squeeze(1)
    blend = torch.multinomial(lt.detach().exp(), 1, generator=generator).squeeze(1)
    z = logits.ratio.float()
    log_mag = F.logsigmoid(z)
    mag = torch.sigmoid(z)
    log_prob = lr.gather(1, region[:, None]).squeeze(1) + lt.gather(1, blend[:, None]).squeeze(1) + log_mag
    entropy = -(lr.exp() * lr).sum(1) - (lt.exp() * lt).sum(1) - mag * log_mag
    return Actions(region, blend, mag.detach(), log_prob, entropy)
