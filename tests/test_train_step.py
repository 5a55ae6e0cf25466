"""Losses (spec §4.2), the REINFORCE surrogate (spec §5), the label table (spec §3.0) and one step."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from sladd_fast.data.synthetic import synthetic_batch
from sladd_fast.models import Detector, DetectorOutput, SynthesizerPolicy, normalize, sample_actions
from sladd_fast.models.synthesizer import Actions, PolicyLogits
from sladd_fast.synthesis import BlendType, TypeLabel
from sladd_fast.train.losses import DetectorTargets, am_softmax_ce, detector_losses
from sladd_fast.train.step import StepOptions, forge, policy_loss, train_step


def test_am_softmax_on_raw_logits() -> None:
    logits = torch.tensor([[1.0, 0.2], [0.3, -0.5]])
    y = torch.tensor([0, 1])
    # by hand: CE(30 * (logits - 0.45 * onehot(y)), y)
    z = 30 * (logits - 0.45 * torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    want = -(z.log_softmax(1)[torch.arange(2), y]).mean()
    torch.testing.assert_close(am_softmax_ce(logits, y), want)


def _out(n: int, mag: torch.Tensor) -> DetectorOutput:
    g = torch.Generator().manual_seed(0)
    return DetectorOutput(torch.randn(n, 2, generator=g), torch.zeros(n, 2048), torch.rand(n, 1, 16, 16, generator=g),
                          torch.randn(n, 5, generator=g), mag)


def test_mag_loss_is_per_sample_masked_b4_fixed() -> None:
    mag = torch.tensor([0.2, 0.9, 0.5, 0.1])
    t = DetectorTargets(torch.tensor([1, 1, 0, 1]), torch.tensor([2, 0, 3, 4]), torch.zeros(4, 1, 16, 16),
                        torch.tensor([0.7, 0.3, 0.3, 0.3]), torch.tensor([1.0, 0.0, 0.0, 0.0]))
    per = detector_losses(_out(4, mag), t)
    want = torch.tensor([(0.2 - 0.7) ** 2, 0.0, 0.0, 0.0])
    torch.testing.assert_close(per["mag"], want)
    # SLADD's broadcast (B,1) x (B,) would pull every prediction toward every active label:
    buggy = ((mag[:, None] * t.mag_mask[None] - t.mag_labels[None] * t.mag_mask[None]) ** 2).mean()
    assert abs(float(per["mag"].mean()) - float(buggy)) > 1e-3
    torch.testing.assert_close(per["total"], per["cls"] + 0.1 * per["map"] + 0.05 * per["type"] + 0.1 * per["mag"])
    torch.testing.assert_close(per["map"].mean(), F.mse_loss(_out(4, mag).map, t.mask_targets))


def test_policy_gradient_sign_and_scale() -> None:
    """Minimising the surrogate raises the sampled actions' probability, more for a higher reward,
    and lowers it for a negative advantage (reward below the baseline)."""
    def prob_after(reward: float, baseline: float = 0.0) -> tuple[float, float]:
        torch.manual_seed(0)
        region = torch.zeros(1, 10, requires_grad=True)
        btype = torch.zeros(1, 4, requires_grad=True)
        z = torch.zeros(1, requires_grad=True)
        a = sample_actions(PolicyLogits(region, btype, z), torch.Generator().manual_seed(0))
        before = float(a.log_prob.detach().exp())
        loss = policy_loss(a.log_prob, a.entropy, torch.tensor([reward]), 0.0, baseline)
        loss.backward()
        with torch.no_grad():
            for p in (region, btype, z):
                p -= 0.5 * p.grad
            lp = (F.log_softmax(region, 1)[0, a.region] + F.log_softmax(btype, 1)[0, a.blend_type]
                  + F.logsigmoid(z)).sum()
        return before, float(lp.exp())

    b0, low = prob_after(0.5)
    _, high = prob_after(2.0)
    _, neg = prob_after(0.5, baseline=1.0)
    assert b0 < low < high
    assert neg < b0


def test_logprobs_and_losses_fp32_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    syn, det = SynthesizerPolicy(), Detector()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = syn(torch.randn(2, 6, 64, 64))
        out = det(torch.randn(2, 3, 64, 64))
    a = sample_actions(logits)
    assert a.log_prob.dtype == torch.float32 and a.entropy.dtype == torch.float32
    t = DetectorTargets(torch.tensor([0, 1]), torch.tensor([3, 4]), torch.zeros(2, 1, 4, 4), torch.zeros(2),
                        torch.zeros(2))
    assert all(v.dtype == torch.float32 for v in detector_losses(out, t).values())


def test_label_table_spec_3_0() -> None:
    """real + applied -> fake / its type, mag only for COPY; real + NONE -> real / 3; FF++ fake -> fake / 4
    with its own image and its FF++ mask as the map target."""
    b = synthetic_batch(4, 256, seed=1)
    b.labels[:] = torch.tensor([0, 0, 0, 1])
    b.masks[3, :, 64:192, 64:192] = 1.0
    acts = Actions(torch.tensor([9, 9, 9, 9]), torch.tensor([2, 0, 3, 1]), torch.full((4,), 0.8),
                   torch.zeros(4), torch.zeros(4))
    res, t = forge(b, acts, torch.Generator().manual_seed(0), check_values=True)
    images = res.images
    assert res.applied.tolist() == [True, True, False, False]
    assert t.labels.tolist() == [1, 1, 0, 1]
    assert t.type_labels.tolist() == [BlendType.COPY, BlendType.ALPHA, TypeLabel.REAL, TypeLabel.ORIGINAL_FAKE]
    assert t.mag_mask.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert torch.equal(images[2:], b.images[2:])
    assert not torch.equal(images[0], b.images[0])
    assert float(t.mask_targets[2].abs().sum()) == 0
    assert float(t.mask_targets[3, 0, 8, 8]) == 1.0 and float(t.mask_targets[3, 0, 0, 0]) == 0.0
    torch.testing.assert_close(t.mask_targets[0], res.mask_targets[0])
    d = t.flipped_double()
    assert torch.equal(d.mask_targets[4:], t.mask_targets.flip(-1)) and d.labels.tolist() == [1, 1, 0, 1] * 2


def test_detector_overfits_one_fixed_batch() -> None:
    """Loss at step 8 is at most half of step 0's (Adam 2e-4, 256 px, one real forged + one left real, flipped)."""
    torch.manual_seed(0)
    b = synthetic_batch(2, 256, seed=0)
    b.labels[:] = 0
    acts = Actions(torch.tensor([9, 9]), torch.tensor([BlendType.COPY, BlendType.NONE]), torch.full((2,), 0.8),
                   torch.zeros(2), torch.zeros(2))
    res, t = forge(b, acts, torch.Generator().manual_seed(0))
    images = res.images
    assert t.labels.tolist() == [1, 0]
    det = Detector().train()
    opt = torch.optim.Adam(det.parameters(), lr=2e-4, weight_decay=5e-4)
    x = normalize(images)
    x, t = torch.cat([x, x.flip(-1)]), t.flipped_double()
    losses = []
    for _ in range(9):
        loss = detector_losses(det(x), t)["total"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[8] <= 0.5 * losses[0], losses


def test_one_adversarial_step_updates_both_networks() -> None:
    torch.manual_seed(0)
    b = synthetic_batch(2, 256, seed=2)
    det, syn = Detector().train(), SynthesizerPolicy().train()
    opt_d = torch.optim.Adam(det.parameters(), lr=2e-4)
    opt_s = torch.optim.Adam(syn.parameters(), lr=5e-5)
    d0 = det.cls.weight.detach().clone()
    s0 = syn.region_fc[1].weight.detach().clone()
    r = train_step(det, syn, opt_d, opt_s, b, StepOptions(), torch.Generator().manual_seed(0))
    assert not torch.equal(det.cls.weight, d0) and not torch.equal(syn.region_fc[1].weight, s0)
    assert all(bool(torch.isfinite(v)) for v in r.stats.values())
    assert r.images.shape == b.images.shape and r.images.dtype == torch.uint8
    torch.testing.assert_close(r.stats["reward"], r.stats["loss"])  # SLADD: the batch's scalar loss


def test_sample_reward_and_moving_average_baseline() -> None:
    """Ablations: each item's own loss as its reward; the baseline starts at the first reward's mean."""
    from sladd_fast.train.config import PolicyConfig
    from sladd_fast.train.step import RewardBaseline

    torch.manual_seed(0)
    b = synthetic_batch(2, 256, seed=4)
    det, syn = Detector().train(), SynthesizerPolicy().train()
    opt_d, opt_s = torch.optim.Adam(det.parameters(), lr=2e-4), torch.optim.Adam(syn.parameters(), lr=5e-5)
    base = RewardBaseline(0.9)
    opts = StepOptions(policy=PolicyConfig(reward="sample", baseline="ema"))
    r = train_step(det, syn, opt_d, opt_s, b, opts, torch.Generator().manual_seed(0), base)
    assert int(base.count) == 1
    torch.testing.assert_close(base.value, r.stats["reward"])  # first update: the reward's mean
    first = float(base.value)
    r2 = train_step(det, syn, opt_d, opt_s, b, opts, torch.Generator().manual_seed(1), base)
    torch.testing.assert_close(base.value, torch.tensor(0.9 * first + 0.1 * float(r2.stats["reward"])))
    # The first step subtracts its own mean reward (not 0): with the batch-shared reward its advantage
    # is 0, so the policy loss is the entropy term alone.
    base = RewardBaseline(0.9)
    opts = StepOptions(policy=PolicyConfig(reward="batch", baseline="ema"))
    r = train_step(det, syn, opt_d, opt_s, b, opts, torch.Generator().manual_seed(2), base)
    torch.testing.assert_close(r.stats["policy_loss"], -1e-5 * r.stats["entropy"], rtol=1e-6, atol=1e-9)
    assert float(r.stats["reward"]) > 0  # so that b = 0 would have given a policy loss of another size


def test_heads_run_in_fp32_under_bf16_autocast() -> None:
    """Under autocast the trunk is bf16 but the heads are not: logits equal an fp32 head on the features."""
    torch.manual_seed(0)
    det = Detector().eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = det(torch.randn(2, 3, 64, 64))
    assert out.logits.dtype == out.map.dtype == out.type_logits.dtype == out.mag.dtype == torch.float32
    with torch.no_grad():
        torch.testing.assert_close(out.logits, det.cls(out.features), rtol=0, atol=0)
