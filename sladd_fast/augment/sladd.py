"""SLADD-mode augmentation: the forgery of sladd_fast.synthesize with sampled (not policy-chosen)
region, blend type and ratio, partners taken from the batch or from a pool.

    out = sladd_augment(images, landmarks, generator=g, video_ids=vids)     # function
    aug = SladdAugment(p=0.5); out = aug(images, landmarks, video_ids=vids)   # module

Partners: from the batch itself, a random permutation in which no sample is paired with its own
video (when ``video_ids`` are given; only where one video holds more than half of the batch do some
of its samples find none, and they stay real), or from a ``pool`` of images, landmarks and video ids
(drawn uniformly among entries of another video, PARTNER_TRIES draws; none found: the sample stays
real). Every
random decision is a tensor in SladdAugmentParams, drawn on the batch's device from ``generator``;
pass ``params=`` to replay a batch exactly.
"""
from __future__ import annotations

import dataclasses
import warnings

import torch
from torch import nn

from sladd_fast._consts import const
from sladd_fast.augment.common import (AugmentResult, FacePool, check_partner_rows, checked_generator,
                                       checked_pair_inputs, checked_params, from_u8, warn_if_reference)
from sladd_fast.synthesis import BlendType, Region, SynthesisParams, sample_params, synthesize

PARTNER_TRIES = 8  # pool partners: random re-draws to find one of another video (no host sync)
MIN_SIZE = 16  # synthesize's smallest image (its 16x16 mask target)


SladdPool = FacePool  # partner candidates (augment.common.FacePool)


@dataclasses.dataclass(frozen=True)
class SladdAugmentParams:
    """Every random draw of one call, [B] tensors on the batch's device.

    Attributes:
        apply: bool, the sample was chosen for a forgery (probability ``p``).
        partner: int64, the partner's row (in the batch, or in the pool).
        partner_ok: bool, a partner of another video was found.
        region, blend_type: int64 codes (sladd_fast.synthesis.Region, BlendType).
        ratio: float32, the copy-with-ratio weight.
        synthesis: SynthesisParams (colour mode, morphology, deformation, feather).
    """

    apply: torch.Tensor
    partner: torch.Tensor
    partner_ok: torch.Tensor
    region: torch.Tensor
    blend_type: torch.Tensor
    ratio: torch.Tensor
    synthesis: SynthesisParams


def _weights(w, n: int, name: str, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(w, dtype=torch.float32)
    if t.shape != (n,) or not bool(torch.isfinite(t).all()) or bool((t < 0).any()) or float(t.sum()) <= 0:
        raise ValueError(f"{name} must be {n} non-negative weights with a positive sum, got {list(t.shape)} {t.tolist()}")
    return const(tuple(t.tolist()), device)  # cached per device: no host->device copy per call


def _batch_partners(B: int, videos: torch.Tensor | None, g: torch.Generator | None,
                    device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(partner rows int64 [B], found bool [B]): a random permutation of the batch in which no sample
    is its own partner and, with ``videos`` (int64 [B]), none gets a frame of its own video. No host
    sync.

    The samples are put in a random order grouped by video (groups contiguous, in a random order of
    videos, random within each), and each is paired with the sample m places further round that
    cycle, m the largest group's size: a group of at most m consecutive places never reaches itself
    when m <= B / 2. Where one video holds more than half of the batch, only some of its samples can
    get another video's frame; the others stay real (found False).
    """
    if B == 0:
        return torch.zeros(0, dtype=torch.int64, device=device), torch.zeros(0, dtype=torch.bool, device=device)
    perm = torch.randperm(B, generator=g, device=device)
    if videos is None:  # every sample its own group: shift by one
        order, m = perm, torch.ones((), dtype=torch.int64, device=device)
    else:
        v = videos[perm]
        by_video = torch.sort(v, stable=True).indices  # groups contiguous, random order within each
        # A random order of the videos: a stable sort on a random hash of the id keeps each group whole.
        a, b = torch.randint(1, 1 << 30, (2,), generator=g, device=device)
        h = torch.remainder(v[by_video] * (2 * a + 1) + b, 2_147_483_647)
        order = perm[by_video[torch.sort(h, stable=True).indices]]
        vs = videos[order]
        start = torch.ones(B, dtype=torch.bool, device=device)
        start[1:] = vs[1:] != vs[:-1]
        group = torch.cumsum(start.long(), 0) - 1
        m = torch.zeros(B, dtype=torch.int64, device=device).scatter_add_(0, group, torch.ones_like(group)).amax()
    partner = torch.empty_like(order)
    partner[order] = order[(torch.arange(B, device=device) + m) % B]
    # with videos a sample's own frame is of its own video: the video test covers the fixed point too
    found = videos[partner] != videos if videos is not None else partner != torch.arange(B, device=device)
    return partner, found


def _pool_partners(B: int, N: int, own: torch.Tensor | None, cand: torch.Tensor | None, g: torch.Generator | None,
                   device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(pool rows int64 [B], found bool [B]) without a host sync: the first of PARTNER_TRIES uniform
    draws whose video differs from the sample's."""
    tries = torch.randint(0, N, (B, PARTNER_TRIES), generator=g, device=device)
    ok = torch.ones_like(tries, dtype=torch.bool)
    if own is not None and cand is not None:
        ok = ok & (cand[tries] != own[:, None])
    first = ok.float().argmax(1)
    return tries.gather(1, first[:, None])[:, 0], ok.any(1)


def sample_sladd_params(batch: int, size: int, device: torch.device | str = "cpu",
                        generator: torch.Generator | None = None, *, p: float = 1.0,
                        region_weights=None, blend_weights=None, ratio_range: tuple[float, float] = (0.0, 1.0),
                        video_ids: torch.Tensor | None = None, pool: SladdPool | None = None) -> SladdAugmentParams:
    """Draws SladdAugmentParams for ``batch`` samples (see the module docstring)."""
    dev = torch.device(device)
    g = generator
    rw = _weights(region_weights if region_weights is not None else [1.0] * len(Region), len(Region),
                  "region_weights", dev)
    bw = _weights(blend_weights if blend_weights is not None else [1.0, 1.0, 1.0, 0.0], len(BlendType),
                  "blend_weights", dev)
    lo, hi = ratio_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"ratio_range must satisfy 0 <= lo <= hi <= 1, got {ratio_range}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    apply = torch.rand(batch, generator=g, device=dev) < p
    if pool is None:
        partner, ok = _batch_partners(batch, video_ids, g, dev)
    else:
        if video_ids is not None and pool.video_ids is None:
            warnings.warn("sladd_fast: video_ids are given but the pool has none, so a partner may be a frame "
                          "of the sample's own video: give SladdPool(images, landmarks, video_ids)",
                          RuntimeWarning, stacklevel=3)
        partner, ok = _pool_partners(batch, pool.images.shape[0], video_ids, pool.video_ids, g, dev)
    region = torch.multinomial(rw.expand(batch, -1).contiguous(), 1, replacement=True, generator=g)[:, 0]
    blend = torch.multinomial(bw.expand(batch, -1).contiguous(), 1, replacement=True, generator=g)[:, 0]
    ratio = lo + (hi - lo) * torch.rand(batch, generator=g, device=dev)
    return SladdAugmentParams(apply, partner, ok, region, blend, ratio, sample_params(batch, size, dev, g))


def sladd_augment(images: torch.Tensor, landmarks: torch.Tensor, generator: torch.Generator | None = None, *,
                  video_ids: torch.Tensor | None = None, pool: SladdPool | None = None, p: float = 1.0,
                  region_weights=None, blend_weights=None, ratio_range: tuple[float, float] = (0.0, 1.0),
                  params: SladdAugmentParams | None = None, check_values: bool = True) -> AugmentResult:
    """SLADD forgeries of a batch (spec §3), as a data augmentation.

    Args:
        images: uint8 [B,3,S,S], or float [B,3,S,S] in [0,1]; square, any device.
        landmarks: float [B,68,2] or [B,81,2] (the first 68 are used), pixels, (x, y), dlib order.
        generator: torch.Generator on the images' device (None: the default one).
        video_ids: optional int64 [B]; a partner never comes from the sample's own video.
        pool: optional SladdPool of partner candidates (default: partners from the batch).
        p: probability that a sample is forged (the rest stay real, label 0).
        region_weights: 10 weights for the regions (Region codes 0-9; default uniform).
        blend_weights: 4 weights for ALPHA, POISSON, COPY, NONE (default 1, 1, 1, 0).
        ratio_range: the copy-with-ratio weight is uniform in it (default [0, 1]).
        params: SladdAugmentParams to replay instead of drawing.
        check_values: check NaN in the landmarks, float images in [0, 1] and replayed partners against
            the batch or pool (host syncs on GPU).

    Returns:
        AugmentResult: images (the input dtype), masks, labels (1 where a forgery was made), params,
        extras {"region", "blend_type", "mask_targets" (16x16, the SLADD detector's map target),
        "partner"}.
    """
    x = checked_pair_inputs(images, landmarks, video_ids, pool, check_values, "pool is empty",
                            "partners from the batch need at least 2 images, got {B}; pass a pool")
    img, lm, dev, src_img, src_lm = x.img, x.lm, x.device, x.src_img, x.src_lm
    B, S = img.shape[0], img.shape[-1]
    if S < MIN_SIZE:
        raise ValueError(f"images must be at least {MIN_SIZE}x{MIN_SIZE} for the SLADD mode, got {list(images.shape)}")
    generator = checked_generator(generator, dev)
    warn_if_reference(dev)
    if params is None:
        params = sample_sladd_params(B, S, dev, generator, p=p, region_weights=region_weights,
                                     blend_weights=blend_weights, ratio_range=ratio_range, video_ids=video_ids,
                                     pool=pool)
    else:
        checked_params(params, SladdAugmentParams, B, dev, "region")
        if check_values:
            check_partner_rows(params.partner, src_img.shape[0], "pool" if pool is not None else "batch")
    blend = torch.where(params.apply & params.partner_ok, params.blend_type, int(BlendType.NONE))
    res = synthesize(img, src_img[params.partner], lm, src_lm[params.partner], params.region, blend, params.ratio,
                     params=params.synthesis, check_values=False)
    return AugmentResult(from_u8(res.images, x.as_float, images), res.masks, res.applied.long(), params,
                         {"region": params.region, "blend_type": blend, "mask_targets": res.mask_targets,
                          "partner": params.partner})


class SladdAugment(nn.Module):
    """SLADD-mode augmentation as a module (kornia style): ``aug(images, landmarks, video_ids=...)``.

    The constructor fixes the distribution (p, region and blend weights, ratio range, an optional
    pool); ``forward`` takes the batch and an optional generator or params (see sladd_augment).
    """

    def __init__(self, p: float = 1.0, region_weights=None, blend_weights=None,
                 ratio_range: tuple[float, float] = (0.0, 1.0), pool: SladdPool | None = None,
                 check_values: bool = True) -> None:
        super().__init__()
        self.p, self.region_weights, self.blend_weights = p, region_weights, blend_weights
        self.ratio_range, self.pool, self.check_values = ratio_range, pool, check_values
        sample_sladd_params(2, 16, "cpu", torch.Generator().manual_seed(0), p=p, region_weights=region_weights,
                            blend_weights=blend_weights, ratio_range=ratio_range)  # bad settings fail here

    def forward(self, images: torch.Tensor, landmarks: torch.Tensor, video_ids: torch.Tensor | None = None,
                generator: torch.Generator | None = None, params: SladdAugmentParams | None = None) -> AugmentResult:
        return sladd_augment(images, landmarks, generator, video_ids=video_ids, pool=self.pool, p=self.p,
                             region_weights=self.region_weights, blend_weights=self.blend_weights,
                             ratio_range=self.ratio_range, params=params, check_values=self.check_values)
