"""sladd_fast.augment: batched forgery augmentations for any PyTorch training loop.

Modes (issue 10): SLADD (``sladd_augment`` / ``SladdAugment``), Self-Blended Images
(``sbi_augment`` / ``SbiAugment``) and Face X-ray's blended images (``xray_augment`` / ``XrayAugment``,
with the boundary target 4 M (1 - M)). Every mode takes a batch of uint8 (or [0,1] float) images with 68- or 81-point
landmarks on any device, draws its randomness from an explicit generator, returns its parameters for
an exact replay, and returns the mask and a label with each sample (``AugmentResult``). On CUDA,
``AugmentGraph`` replays any of the three modes from a captured CUDA graph.
"""
from sladd_fast.augment.common import AugmentResult
from sladd_fast.augment.graph import AugmentGraph
from sladd_fast.augment.sbi import SbiAugment, SbiParams, sample_sbi_params, sbi_augment
from sladd_fast.augment.sladd import SladdAugment, SladdAugmentParams, SladdPool, sample_sladd_params, sladd_augment
from sladd_fast.augment.xray import HULL_TYPES, XrayAugment, XrayParams, XrayPool, sample_xray_params, xray_augment

__all__ = ["AugmentGraph", "AugmentResult", "SbiAugment", "SbiParams", "sample_sbi_params", "sbi_augment", "SladdAugment", "SladdAugmentParams", "SladdPool", "sample_sladd_params", "sladd_augment",
           "HULL_TYPES", "XrayAugment", "XrayParams", "XrayPool", "sample_xray_params", "xray_augment"]
