import pytest
import torch
from torch import nn

from trust_core.ip import Signature, TriggerSet, binomial_verification, layer_weight, prune


def _rows(ip_lab, kind):
    return [r for r in ip_lab["rows"] if r["kind"] == kind]


def test_owner_model_learns_task_and_both_watermarks(ip_lab):
    owner = ip_lab["rows"][0]
    assert owner["accuracy"] >= 0.9
    assert owner["trigger_rate"] >= 0.95 and owner["trigger_verified"]
    assert owner["signature_rate"] == 1.0 and owner["signature_verified"]


@pytest.mark.parametrize("kind", ["fine-tune", "prune"])
def test_watermarks_survive_fine_tuning_and_pruning(ip_lab, kind):
    for r in _rows(ip_lab, kind):
        assert r["trigger_verified"] and r["signature_verified"], r
        assert r["accuracy"] >= 0.85


def test_independent_models_are_not_claimed(ip_lab):
    assert len(ip_lab["independent"]) >= 10
    assert ip_lab["false_positive_rate"] == {"trigger": 0.0, "signature": 0.0}
    for r in ip_lab["independent"]:
        assert r["trigger_rate"] <= 0.2 and 0.3 <= r["signature_rate"] <= 0.7


def test_distillation_removes_both_watermarks(ip_lab):
    # a known limit of both schemes: the student learns the task from soft labels on the thief's data only
    (distilled,) = _rows(ip_lab, "distill")
    assert not distilled["trigger_verified"] and not distilled["signature_verified"]
    assert distilled["accuracy"] >= 0.8


def test_binomial_verification_threshold():
    assert binomial_verification(30, 100, chance=0.1).verified
    assert not binomial_verification(15, 100, chance=0.1).verified
    assert binomial_verification(64, 64, chance=0.5).p_value == pytest.approx(0.5 ** 64)
    with pytest.raises(ValueError, match="matches"):
        binomial_verification(5, 4, chance=0.5)


def test_signature_reads_the_bits_of_the_projected_weights():
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    sig = Signature.random(model, "0.weight", bits=16)
    assert sig.key.shape == (16, 6) and layer_weight(model, "0.weight").shape == (6,)
    forced = Signature(sig.layer, sig.key, sig.extract(model))
    assert forced.verify(model).rate == 1.0
    flipped = Signature(sig.layer, sig.key, 1 - sig.extract(model))
    assert flipped.verify(model).rate == 0.0 and not flipped.verify(model).verified
    with pytest.raises(ValueError, match="no parameter"):
        Signature.random(model, "5.weight")
    with pytest.raises(ValueError, match="weight matrix"):
        Signature.random(model, "0.bias")


def test_trigger_set_is_reproducible_and_prune_zeroes_its_share():
    a, b = TriggerSet.random(20, seed=3), TriggerSet.random(20, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    model = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 3))
    cut = prune(model, amount=0.5)
    weights = torch.cat([cut[0].weight.flatten(), cut[2].weight.flatten()])
    assert (weights == 0).sum() == round(0.5 * len(weights)) and (model[0].weight != 0).all()
    with pytest.raises(ValueError, match="amount"):
        prune(model, amount=1.0)
