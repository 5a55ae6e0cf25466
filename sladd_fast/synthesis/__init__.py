"""Batched SLADD forgery synthesis."""
from sladd_fast.synthesis.constants import BlendType, ColorMode, Region, TypeLabel
from sladd_fast.synthesis.color import color_transfer
from sladd_fast.synthesis.engine import SynthesisResult, mask_postprocess, mask_target, synthesize
from sladd_fast.synthesis.graph import SynthesisGraph
from sladd_fast.synthesis.params import SynthesisParams, sample_params

__all__ = ["BlendType", "ColorMode", "Region", "TypeLabel", "SynthesisGraph", "SynthesisParams", "SynthesisResult",
           "color_transfer", "mask_postprocess", "mask_target", "sample_params", "synthesize"]
