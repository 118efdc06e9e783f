"""Input-gradient distillation: the teacher's sign targets (checked by finite differences) and the alignment."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from edge_probe.gradient_match import gradient_alignment, probe_gradient, teacher_gradient_signs, unpack_signs


def _tiny_teacher() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 5, stride=4), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 39 * 39, 8)).double()


def test_teacher_signs_are_the_finite_difference_signs_through_the_bilinear_resize():
    teacher = _tiny_teacher()
    crops = torch.rand(2, 3, 160, 160, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    signs = unpack_signs(teacher_gradient_signs(teacher, crops))
    assert signs.shape == (2, 3, 112, 112) and set(signs.unique().tolist()) == {-1.0, 1.0}

    def loss(delta: torch.Tensor) -> float:  # the same mirror loss, evaluated directly
        x = crops + nn.functional.interpolate(delta, size=160, mode="bilinear", align_corners=False)
        with torch.no_grad():
            return float((1 - nn.functional.cosine_similarity(teacher(x), teacher(crops.flip(-1)))).sum())

    rng = np.random.default_rng(2)
    for n, c, i, j in zip(rng.integers(0, 2, 12), rng.integers(0, 3, 12), rng.integers(0, 112, 12), rng.integers(0, 112, 12)):
        bump = torch.zeros(2, 3, 112, 112, dtype=torch.float64)
        bump[n, c, i, j] = 1e-4
        slope = loss(bump) - loss(-bump)
        if abs(slope) > 1e-12:
            assert np.sign(slope) == signs[n, c, i, j].item()


def test_a_probe_agrees_fully_with_its_own_signs_and_by_chance_with_random_ones():
    torch.manual_seed(3)
    probe = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                          nn.Linear(128, 16))
    views = torch.rand(4, 3, 112, 112)
    grad = probe_gradient(probe, views)
    own_cos, own_agree = gradient_alignment(probe, views, torch.sign(grad))
    expected = (grad.flatten(1).abs().sum(1) / (grad.flatten(1).norm(dim=1) * grad[0].numel() ** 0.5)).mean()
    # the same quantity summed in another order: equal to float32 rounding
    assert own_agree.item() == 1.0 and own_cos.item() == pytest.approx(expected.item(), rel=1e-6)
    _, chance = gradient_alignment(probe, views, torch.sign(torch.randn_like(views)))
    assert abs(chance.item() - 0.5) < 0.01


def _small_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 5, stride=2, padding=2), nn.Tanh(), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                         nn.Tanh(), nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(128, 16))


def test_the_gradient_loss_moves_a_student_towards_another_networks_gradient_signs():
    teacher, student = _small_net(0), _small_net(1)
    views = torch.rand(8, 3, 112, 112, generator=torch.Generator().manual_seed(5))
    target = torch.sign(probe_gradient(teacher, views))
    before, chance = gradient_alignment(student, views, target)
    opt = torch.optim.Adam(student.parameters(), lr=3e-3)
    for _ in range(40):
        cosine, _ = gradient_alignment(student, views, target, create_graph=True)
        opt.zero_grad()
        (1 - cosine).backward()
        opt.step()
    after, agree = gradient_alignment(student, views, target)
    assert abs(before.item()) < 0.02 and abs(chance.item() - 0.5) < 0.01  # unrelated networks: no agreement
    assert after.item() > before.item() + 0.04 and agree.item() > 0.515  # 0.071 and 0.527 after 40 steps


def test_smoothing_the_teachers_gradient_gives_a_smoother_sign_map():
    teacher = _tiny_teacher()
    crops = torch.rand(2, 3, 160, 160, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def flips(smooth: float) -> float:  # how often the sign changes between horizontal neighbours
        signs = unpack_signs(teacher_gradient_signs(teacher, crops, smooth=smooth))
        return (signs[..., 1:] != signs[..., :-1]).float().mean().item()

    assert flips(2.0) < 0.5 * flips(0.0)
