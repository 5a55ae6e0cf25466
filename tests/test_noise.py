"""uniform_noise (ops/noise.py, csrc common/noise_math.h): the kernel against the PyTorch reference,
replay from seeds, and the field's distribution."""
from __future__ import annotations

import pytest
import torch

from helpers import needs_ext
from sladd_fast.ops import _reference
from sladd_fast.ops.noise import SEED_HIGH, draw_seeds, uniform_noise

SEEDS = torch.tensor([0, 1, -1, 7, SEED_HIGH - 1, 2 ** 63 - 1, -2 ** 63, 123456789012345])


@needs_ext
def test_kernel_equals_reference_bit_for_bit():
    for shape in ((2, 37, 53), (1, 1, 1), (3, 0, 5), (2, 256, 256), (3, 100, 100)):  # 16384-value blocks
        got = uniform_noise(SEEDS, *shape)
        assert got.shape == (len(SEEDS),) + shape and got.dtype == torch.float32
        assert torch.equal(got, _reference.uniform_noise(SEEDS, *shape)), shape


def test_values_are_24_bit_uniforms_in_minus_one_one():
    v = uniform_noise(draw_seeds(16, generator=torch.Generator().manual_seed(0)), 2, 128, 128)
    assert v.min() >= -1 and v.max() < 1
    assert torch.equal(v * 2 ** 23, torch.round(v * 2 ** 23))  # multiples of 2^-23
    n = v.numel()
    assert abs(v.mean().item()) < 4 / (3 * n) ** 0.5  # 4 standard errors (the variance of U(-1,1) is 1/3)
    assert abs(v.var().item() - 1 / 3) < 0.005
    hist = torch.histc(v, bins=64, min=-1, max=1)
    chi2 = ((hist - n / 64) ** 2 / (n / 64)).sum().item()
    assert chi2 < 120  # 63 degrees of freedom: p < 1e-5 above this


def test_no_correlation_between_neighbours_or_seeds():
    v = uniform_noise(torch.arange(8), 1, 128, 128)[:, 0]  # consecutive seeds: the weakest case for a hash
    def corr(a, b):
        a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
        return (a @ b / (a.norm() * b.norm())).item()

    bound = 5 / v[0].numel() ** 0.5
    for k in range(8):
        assert abs(corr(v[k, :, 1:], v[k, :, :-1])) < bound and abs(corr(v[k, 1:], v[k, :-1])) < bound
    for k in range(7):
        assert abs(corr(v[k], v[k + 1])) < bound


def test_a_seed_replays_its_field_whatever_the_batch_around_it():
    a = uniform_noise(torch.tensor([5, 6, 7]), 2, 9, 11)
    b = uniform_noise(torch.tensor([7]), 2, 9, 11)
    assert torch.equal(a[2], b[0]) and not torch.equal(a[0], a[1])
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(draw_seeds(4, generator=g1), draw_seeds(4, generator=g2))
    assert draw_seeds(1000).min() >= 0 and draw_seeds(1000).max() < SEED_HIGH


@pytest.mark.parametrize("call, match", [
    (lambda: uniform_noise(torch.zeros(2, dtype=torch.int32), 1, 2, 2), "seeds must have dtype"),
    (lambda: uniform_noise(torch.zeros(2, 1, dtype=torch.int64), 1, 2, 2), "seeds must have shape"),
    (lambda: uniform_noise(torch.zeros(2, dtype=torch.int64), -1, 2, 2), "channels must be an int >= 0"),
    (lambda: uniform_noise(torch.zeros(2, dtype=torch.int64), 1, 2.0, 2), "height must be an int >= 0"),
    (lambda: uniform_noise(torch.zeros(2, dtype=torch.int64), 2, 1 << 16, 1 << 16), "at most 2\\^32 values"),
    (lambda: uniform_noise(torch.zeros(2, dtype=torch.int64), 1, 1, 1 << 31), "width must fit in int32"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
