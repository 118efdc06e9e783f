import pytest
import torch

from trust_core.ip import InputPairs, copy_auc, vector_distance


def test_fingerprint_tells_copies_from_independent_models(ip_lab):
    assert ip_lab["fingerprint"]["auc_finetuned_pruned_vs_independent"] >= 0.95
    copies = [r["fingerprint_distance"] for r in ip_lab["rows"] if r["kind"] in ("fine-tune", "prune")]
    others = [r["fingerprint_distance"] for r in ip_lab["independent"]]
    assert ip_lab["rows"][0]["fingerprint_distance"] == pytest.approx(0.0, abs=1e-9)
    assert sorted(copies)[len(copies) // 2] < min(others)  # the median copy is closer than every independent model


def test_distance_and_auc_basics():
    u = torch.linspace(0, 1, 50)
    assert vector_distance(u, 2 * u + 1) == pytest.approx(0.0, abs=1e-9)
    assert vector_distance(u, -u) == pytest.approx(2.0)
    assert copy_auc([0.1, 0.2], [0.5, 0.6]) == 1.0 and copy_auc([0.5], [0.1]) == 0.0
    with pytest.raises(ValueError, match="same length"):
        vector_distance(u, u[:10])


def test_noisy_pairs_stay_in_range():
    pairs = InputPairs.noisy(torch.rand(10, 1, 4, 4), size=30, sigma=0.5, seed=1)
    assert pairs.a.shape == pairs.b.shape == (30, 1, 4, 4)
    assert pairs.b.min() >= 0 and pairs.b.max() <= 1 and not torch.equal(pairs.a, pairs.b)
