"""Attributions on the shipped MNIST CNN: IG completeness, SmoothGrad, Grad-CAM, LRP (parity with captum), figures."""
import torch
import torch.nn.functional as F

from trust_core.explain.attributions import CosineScore, grad_cam, integrated_gradients, saliency, smoothgrad
from trust_core.explain.figures import save_saliency_grid
from trust_core.explain.lrp import lrp_epsilon


def total_variation(maps: torch.Tensor) -> float:
    maps = maps / maps.flatten(1).abs().sum(1).view(-1, 1, 1, 1)
    return ((maps[..., 1:, :] - maps[..., :-1, :]).abs().sum() + (maps[..., 1:] - maps[..., :-1]).abs().sum()).item()


def test_integrated_gradients_completeness_improves_to_one_percent(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:4], mnist_test_slice[1][:4]
    _, coarse = integrated_gradients(mnist_cnn, x, y, steps=4)
    attr, fine = integrated_gradients(mnist_cnn, x, y, steps=64)
    assert fine.max() <= 0.01 < coarse.max()
    with torch.no_grad():
        gap = mnist_cnn(x).gather(1, y[:, None]).squeeze(1) - mnist_cnn(torch.zeros_like(x)).gather(1, y[:, None]).squeeze(1)
    assert torch.allclose(attr.sum((1, 2, 3)), gap, rtol=0.01)


def test_attribution_of_a_verification_score(mnist_cnn, mnist_test_slice):
    """Any scalar function of the input: here the cosine between two images' embeddings (a face-verification score)."""
    x = mnist_test_slice[0][:2]
    score = CosineScore(mnist_cnn, mnist_cnn(mnist_test_slice[0][17:18]).detach())
    attr, error = integrated_gradients(score, x, None, steps=256)
    assert attr.shape == x.shape and error.max() <= 0.01
    assert saliency(score, x).shape == x.shape


def test_smoothgrad_is_smoother_than_vanilla_gradients(mnist_cnn, mnist_test_slice):
    x, y = mnist_test_slice[0][:4], mnist_test_slice[1][:4]
    vanilla = saliency(mnist_cnn, x, y)
    smooth = smoothgrad(lambda z: saliency(mnist_cnn, z, y), x, samples=16, stdev=0.15)
    assert total_variation(smooth) < 0.8 * total_variation(vanilla)


def test_grad_cam_and_lrp_focus_on_the_digit(mnist_cnn, mnist_test_slice, tmp_path):
    x, y = mnist_test_slice[0][:4], mnist_test_slice[1][:4]
    cam = grad_cam(mnist_cnn, mnist_cnn.features[4], x, y)
    relevance = lrp_epsilon(mnist_cnn, x, y)
    stroke = F.max_pool2d(x, 3, 1, 1) > 0.3
    assert cam.shape == x.shape and cam[stroke].mean() > 2 * cam[~stroke].mean()
    assert relevance[stroke].abs().mean() > 5 * relevance[~stroke].abs().mean()
    png = save_saliency_grid(x, {"gradient": saliency(mnist_cnn, x, y), "LRP-ε": relevance, "Grad-CAM": cam}, tmp_path / "s.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_lrp_matches_captum_on_an_mlp(mnist_test_slice):
    from captum.attr import LRP

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)).eval()
    x, y = mnist_test_slice[0][:4].flatten(1), mnist_test_slice[1][:4]
    assert torch.allclose(lrp_epsilon(mlp, x, y, epsilon=1e-9), LRP(mlp).attribute(x, target=y).detach(), atol=1e-6)
