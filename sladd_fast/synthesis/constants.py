"""SLADD's enumerations as named constants (src/networks/synthesizer.py uses bare integers)."""
from __future__ import annotations

import enum


class Region(enum.IntEnum):
    """Forgery regions (spec §3.1), the synthesizer's 10 region logits."""

    EYE_L = 0
    EYE_R = 1
    EYES = 2
    NOSE = 3
    MOUTH = 4
    NOSE_EYE_L = 5
    NOSE_EYE_R = 6
    NOSE_EYES = 7
    NOSE_MOUTH = 8
    EYES_NOSE_MOUTH = 9


class BlendType(enum.IntEnum):
    """Blend types (the synthesizer's 4 type logits), spec §3.6."""

    ALPHA = 0
    POISSON = 1
    COPY = 2
    NONE = 3


class TypeLabel(enum.IntEnum):
    """The detector's 5-way type labels: the 4 blend types plus original FF++ fakes (spec §3.0)."""

    ALPHA = 0
    POISSON = 1
    COPY = 2
    REAL = 3  # untouched real image (blend type NONE, or the guard fired: bug B7 fixed)
    ORIGINAL_FAKE = 4


class ColorMode(enum.IntEnum):
    """Colour transfers of the aligned source (spec §3.4), drawn uniformly."""

    RCT_M = 0
    RCT_FS = 1
    AVG_ALIGN = 2
    FACESWAP = 3


MASK_TARGET_SIZE = 16  # the detector's map head works at 16x16 (spec §3.7)
MIN_MASK_FRACTION = 0.005  # guard: mean(tgt_mask) below this leaves the sample real (spec §3.5)
MIN_INSIDE_FRACTION = 0.5  # guard: less of the aligned region than this inside the target leaves it real
LANDMARK_FRAME = 0.5  # guard: landmarks beyond this many image sides outside the image leave the sample real
