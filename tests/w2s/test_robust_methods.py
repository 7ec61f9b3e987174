"""The maths of the noise-robust, entropy, small-loss and EM built-ins, on tiny synthetic tensors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from w2s.losses import GCE, SCE, EntropyMin, SmallLoss, entropy, kl_to_targets
from w2s.methods.builtin import em, entmin, gce, sce, smallloss
from w2s.methods.builtin.em import em_confusion, teacher_bins
from w2s.methods.params import space

LOGITS = torch.tensor([-3.0, -1.0, -0.2, 0.0, 0.4, 1.5, 2.5, 4.0])
SOFT = torch.tensor([0.1, 0.3, 0.45, 0.5, 0.6, 0.8, 0.2, 0.95])
HARD = (SOFT > 0.5).float()


def test_gce_tends_to_cross_entropy_as_q_goes_to_zero():
    xent = F.binary_cross_entropy_with_logits(LOGITS, SOFT, reduction="none")
    assert torch.allclose(GCE(q=1e-6).per_item(LOGITS, SOFT), xent, atol=1e-4)
    assert torch.allclose(GCE(q=0.0).per_item(LOGITS, SOFT), xent, atol=1e-6)
    assert not torch.allclose(GCE(q=0.5).per_item(LOGITS, SOFT), xent, atol=1e-2)


def test_gce_is_mae_at_q_one():
    p = torch.sigmoid(LOGITS)
    assert torch.allclose(GCE(q=1.0, hard=True).per_item(LOGITS, SOFT), (HARD - p).abs(), atol=1e-6)
    assert torch.allclose(GCE(q=1.0).per_item(LOGITS, SOFT), SOFT * (1 - p) + (1 - SOFT) * p, atol=1e-6)


def test_gce_gradient_downweights_items_the_student_contradicts():
    logits = torch.tensor([3.0, -3.0], requires_grad=True)  # both labelled 1: one agreed, one contradicted
    GCE(q=0.7, hard=True)(logits, torch.ones(2), 0.0).backward()
    ce_logits = logits.detach().clone().requires_grad_(True)
    F.binary_cross_entropy_with_logits(ce_logits, torch.ones(2)).backward()
    ratio = logits.grad.abs() / ce_logits.grad.abs()
    assert ratio[1] < 0.2 and ratio[0] > 0.9


def test_sce_reverse_term_is_scaled_mae_on_hard_labels_and_adds_to_cross_entropy():
    loss = SCE(alpha=0.3, beta=2.0, hard=True)
    p = torch.sigmoid(LOGITS)
    assert torch.allclose(loss.reverse(LOGITS, SOFT), 4.0 * (HARD - p).abs(), atol=1e-6)
    xent = F.binary_cross_entropy_with_logits(LOGITS, HARD)
    assert loss(LOGITS, SOFT, 0.5) == pytest.approx(float(0.3 * xent + 2.0 * 4.0 * (HARD - p).abs().mean()))
    assert torch.isfinite(SCE()(LOGITS, torch.tensor([0.0, 1.0] * 4), 0.0))


def test_entropy_term_lowers_the_student_entropy():
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    targets = torch.sigmoid(x[:, 0] * 0.5)  # unsure soft labels

    def trained(loss) -> float:
        w = torch.zeros(8, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.5)
        for step in range(200):
            opt.zero_grad()
            loss(x @ w, targets, step / 200).backward()
            opt.step()
        return float(entropy(x @ w.detach()).mean())

    plain, some, more = (trained(EntropyMin(coef=c)) for c in (0.0, 0.5, 1.0))
    assert more < some - 0.02 < plain - 0.04
    assert trained(EntropyMin(coef=0.0, temperature=0.3)) < plain - 0.1


def test_sharpening_keeps_sides_and_temperature_one_is_identity():
    assert torch.allclose(EntropyMin(temperature=1.0).sharpen(SOFT), SOFT, atol=1e-6)
    sharp = EntropyMin(temperature=0.5).sharpen(SOFT)
    assert torch.equal(sharp > 0.5, SOFT > 0.5)
    assert torch.all((sharp - 0.5).abs() >= (SOFT - 0.5).abs() - 1e-6)
    assert EntropyMin(coef=0.4, warmup_frac=0.5)(LOGITS, SOFT, 0.0) < EntropyMin(coef=0.4, warmup_frac=0.5)(
        LOGITS, SOFT, 0.5
    )


def test_small_loss_keeps_the_scheduled_fraction_of_smallest_divergence():
    loss = SmallLoss(forget_rate=0.25, warmup_frac=0.5)
    assert loss.keep_mask(LOGITS, SOFT, 0.0).all()
    assert int(loss.keep_mask(LOGITS, SOFT, 0.25).sum()) == 7  # rate 0.125 of 8
    mask = loss.keep_mask(LOGITS, SOFT, 0.9)
    assert int(mask.sum()) == 6
    kl = kl_to_targets(LOGITS, SOFT)
    assert kl[mask].max() <= kl[~mask].min()
    assert bool(~mask[6])  # logit 2.5 against label 0.2: the biggest disagreement is forgotten
    expected = F.binary_cross_entropy_with_logits(LOGITS[mask], SOFT[mask])
    assert loss(LOGITS, SOFT, 0.9) == pytest.approx(float(expected))


def test_kl_to_targets_is_zero_at_agreement():
    t = torch.tensor([0.0, 0.2, 0.5, 0.9, 1.0])
    assert torch.allclose(kl_to_targets(torch.logit(t.clamp(1e-7, 1 - 1e-7)), t), torch.zeros(5), atol=1e-5)


def test_em_recovers_a_known_flip_noise_matrix():
    rng = np.random.default_rng(0)
    n = 40_000
    student = 1 / (1 + np.exp(-rng.normal(0, 2, n)))
    y = rng.random(n) < student  # classes drawn from the student's probabilities: it is calibrated
    truth = np.array([[0.9, 0.1], [0.3, 0.7]])  # P(teacher label | class): flips 0->1 10%, 1->0 30%
    teacher = np.where(y, rng.random(n) < truth[1, 1], rng.random(n) < truth[0, 1]).astype(np.int64)
    matrix, posterior = em_confusion(student, teacher, 2, steps=300)
    assert np.allclose(matrix, truth, atol=0.03)
    assert np.mean((posterior > 0.5) == y) > np.mean((student > 0.5) == y)


def test_teacher_bins():
    weak = np.array([0.1, 0.4, 0.55, 0.9, 0.6, 0.2])
    assert teacher_bins(weak, 2).tolist() == [0, 0, 1, 1, 1, 0]
    assert teacher_bins(weak, 3).tolist() == [0, 1, 1, 2, 2, 0]


@pytest.mark.parametrize("module", [gce, sce, entmin, smallloss, em])
def test_hyper_parameters_have_defaults_and_bounds(module):
    bounds = space(module.Params)
    assert bounds and all(b.low <= b.default <= b.high for b in bounds)
    module.Params(**{b.name: b.high for b in bounds})
    numeric = next(b for b in bounds if b.kind is not bool)
    with pytest.raises(ValueError, match=numeric.name):
        module.Params(**{numeric.name: numeric.high + 1})
    with pytest.raises(ValueError, match=numeric.name):
        module.Params(**{numeric.name: "1"})
