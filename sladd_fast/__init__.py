"""sladd-fast: GPU-batched SLADD forgery synthesis (and, later, training).

Public API: ``sladd_fast.synthesize`` and the ops in ``sladd_fast.ops``. Importing never fails on a
CPU-only machine; without the compiled extension the pure-PyTorch references are used.
"""
from sladd_fast import ops
from sladd_fast.synthesis import (BlendType, ColorMode, Region, SynthesisParams, SynthesisResult, TypeLabel,
                                  sample_params, synthesize)

__all__ = ["ops", "synthesize", "sample_params", "SynthesisParams", "SynthesisResult", "BlendType", "ColorMode",
           "Region", "TypeLabel"]
__version__ = "0.1.0"
