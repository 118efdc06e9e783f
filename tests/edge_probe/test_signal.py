"""Gradient signals on the shipped probe: real effect on LFW faces, DI² fidelity, and clear errors."""
import pytest
import torch
import torch.nn.functional as F

from edge_probe.signal import (DEFAULT_EPS, DIVERSITY_SCALE, METHODS, compute_signal, diversity_schedule,
                               reference_embeddings)
from edge_probe.diversity import diversity_matrix
from trust_core.attacks.diversity import input_diversity


@pytest.mark.parametrize("method", METHODS)
def test_signal_moves_the_face_away_from_its_reference(probe, lfw_crops, method):
    crops = torch.from_numpy(lfw_crops[:2])
    reference = reference_embeddings(probe, crops)
    g = compute_signal(probe, crops, method=method)
    assert g.abs().max() <= DEFAULT_EPS + 1e-6 and (g > 0).any() and (g < 0).any()
    with torch.no_grad():
        clean = F.cosine_similarity(probe(crops), reference)
        signalled = F.cosine_similarity(probe((crops + g).clamp(0, 1)), reference)
        noise = torch.where(torch.rand_like(crops) < 0.5, -DEFAULT_EPS, DEFAULT_EPS)
        noisy = F.cosine_similarity(probe((crops + noise).clamp(0, 1)), reference)
    assert (signalled < noisy - 0.05).all(), (clean, noisy, signalled)


def test_reference_photos_give_their_mean_embedding(probe, lfw_crops):
    crops = torch.from_numpy(lfw_crops)
    ref = reference_embeddings(probe, crops[:1], crops[1:])
    with torch.no_grad():
        expected = F.normalize(probe(crops[1:]).mean(0, keepdim=True), dim=1)
    torch.testing.assert_close(ref, expected)
    g = compute_signal(probe, crops[:1], method="fgsm", references=crops[1:])
    assert not torch.equal(g, compute_signal(probe, crops[:1], method="fgsm"))


def test_scheduled_diversity_equals_input_diversity():
    x = torch.rand(1, 3, 112, 112)
    for seed in range(4):
        (draw,) = diversity_schedule(1, prob=1.0, seed=seed)
        expected = input_diversity(x, prob=1.0, scale=DIVERSITY_SCALE, generator=torch.Generator().manual_seed(seed))
        rows = torch.from_numpy(diversity_matrix(112, draw.inner, draw.outer, draw.top))
        cols = torch.from_numpy(diversity_matrix(112, draw.inner, draw.outer, draw.left))
        torch.testing.assert_close(rows @ x @ cols.T, expected, atol=1e-5, rtol=0)
    assert diversity_schedule(10) == diversity_schedule(10)
    assert all(d is not None for d in diversity_schedule(10))  # the default diversifies every step
    assert sum(d is not None for d in diversity_schedule(10, prob=0.5)) not in (0, 10)


@pytest.mark.parametrize("crops, reason", [
    (torch.rand(1, 3, 100, 100), "112"), (torch.rand(1, 1, 112, 112), "112"),
    (torch.full((1, 3, 112, 112), float("nan")), "NaN"), (torch.rand(1, 3, 112, 112) * 255, r"\[0, 1\]"),
    (torch.randint(0, 2, (1, 3, 112, 112)), "floating"),
])
def test_bad_crops_are_refused(probe, crops, reason):
    with pytest.raises(ValueError, match=reason):
        compute_signal(probe, crops)


def test_bad_reference_method_and_eps_are_refused(probe, lfw_crops):
    crops = torch.from_numpy(lfw_crops[:2])
    with pytest.raises(ValueError, match="reference"):
        compute_signal(probe, crops, reference=torch.zeros(1, 512))
    with pytest.raises(ValueError, match="reference embeddings must have shape"):
        compute_signal(probe, crops, reference=torch.zeros(2, 128))
    with pytest.raises(ValueError, match="empty"):
        compute_signal(probe, crops, references=crops[:0])
    with pytest.raises(ValueError, match="not both"):
        compute_signal(probe, crops, reference=torch.zeros(2, 512), references=crops)
    with pytest.raises(ValueError, match="unknown method"):
        compute_signal(probe, crops, method="pgd-xyz")
    with pytest.raises(ValueError, match="eps"):
        compute_signal(probe, crops, eps=float("nan"))
