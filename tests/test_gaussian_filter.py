"""gaussian_filter (scipy's gaussian_filter as a csrc op): CPU kernel vs the PyTorch reference bit for bit
(its exactly rounded fused multiply-adds emulated in float64), against scipy itself, the wrapper's errors.
CUDA vs CPU is in test_cuda_ops.py; the baseline (no AVX2 / FMA) loops in a second process below."""

import numpy as np
import pytest
import torch

from helpers import needs_ext, run_cpu_copy
from sladd_fast.ops import _reference
from sladd_fast.synthesis.filters import gaussian_filter, gaussian_half_taps

op = torch.ops.sladd_fast.gaussian_filter


@pytest.mark.parametrize("shape,sigma", [((2, 2, 256, 256), 7.0), ((1, 3, 37, 53), 7.0), ((1, 1, 5, 9), 7.0),
                                         ((2, 1, 1, 6), 2.0), ((1, 2, 64, 33), 1.3), ((1, 1, 8, 8), 0.1)])
def test_kernel_equals_reference(shape, sigma):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(sum(shape))) * 2 - 1
    taps = gaussian_half_taps(sigma)  # sigma 7: R = 28, larger than the 5 x 9 plane
    assert torch.equal(op(x, taps, 50.0), _reference.gaussian_filter(x, taps, 50.0))


def test_fma_emulation_is_exact_on_hard_cases():
    """The reference's float32 fma (float64 rounded to odd, then to float32) against the exact rational
    result rounded once, on sums that cancel to the product's rounding error and on ordinary ones."""
    from fractions import Fraction

    from sladd_fast.ops._reference import _fma32

    g = torch.Generator().manual_seed(4)
    a = torch.rand(2000, generator=g)
    b = torch.rand(2000, generator=g) * 2 - 1
    c = -(a.double() * b.double()).float()  # a b + c cancels to the product's rounding error
    c[::2] = torch.rand(1000, generator=g)
    got = _fma32(a, b, c)

    def round32(exact: Fraction) -> float:
        """The float32 nearest to an exact rational (ties to even), from the candidates around a guess."""
        f = np.float32(float(exact))
        cands = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
        best = min(cands, key=lambda v: (abs(Fraction(float(v)) - exact), int(np.float32(v).view(np.int32)) & 1))
        return float(best)

    for i in range(0, 2000, 3):
        exact = Fraction(float(a[i])) * Fraction(float(b[i])) + Fraction(float(c[i]))
        assert float(got[i]) == round32(exact), i


def test_close_to_scipy():
    from scipy.ndimage import gaussian_filter as scipy_gaussian

    x = torch.rand(1, 2, 96, 80, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for sigma in (7.0, 2.5):
        got = gaussian_filter(x, gaussian_half_taps(sigma), 50.0)
        for c in range(2):
            want = scipy_gaussian(x[0, c].double().numpy(), sigma) * 50
            assert np.abs(got[0, c].double().numpy() - want).max() < 1e-5, sigma


@needs_ext
def test_baseline_loops_give_the_same_values(tmp_path):
    """SLADD_FAST_NO_AVX2=1 runs the baseline copy (libm fmaf lane by lane): the same values."""
    code = ("import torch; from sladd_fast.synthesis.filters import gaussian_filter, gaussian_half_taps; "
            "x = torch.rand(2, 1, 40, 70, generator=torch.Generator().manual_seed(3)); "
            "torch.save(gaussian_filter(x, gaussian_half_taps(7.0), 50.0), __import__('sys').argv[1])")
    base = run_cpu_copy(code, str(tmp_path / "out.pt"))
    x = torch.rand(2, 1, 40, 70, generator=torch.Generator().manual_seed(3))
    assert torch.equal(base, gaussian_filter(x, gaussian_half_taps(7.0), 50.0))


@pytest.mark.parametrize("args,match", [
    ((torch.rand(1, 1, 4, 4).double(), gaussian_half_taps(1.0)), "x must"),
    ((torch.rand(1, 4, 4), gaussian_half_taps(1.0)), "x must"),
    ((torch.rand(1, 1, 4, 4), gaussian_half_taps(1.0).double()), "taps must"),
    ((torch.rand(1, 1, 4, 4), torch.zeros(0)), "taps must hold"),
    ((torch.rand(1, 1, 4, 4), torch.zeros((1 << 20) + 1)), "at most 2"),
])
def test_bad_input_names_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        gaussian_filter(*args)
