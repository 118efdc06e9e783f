"""Differential privacy: randomized response, the Laplace mechanism and DP-SGD.

- Randomized response (Warner, JASA 1965; the coin survey of Dwork & Roth, "The Algorithmic Foundations of
  Differential Privacy", 2014, §3.2): flip a coin; on heads answer truthfully, on tails flip again and answer "yes"
  on heads. P(yes) = p' = p/2 + 1/4, so p = 2p' − 1/2, with Var = 4 p'(1 − p')/n over random respondents;
  the scheme is (ln 3)-DP.
- Laplace mechanism (Dwork et al., TCC 2006): F(x) + Lap(b) with b = S(F)/ε, S(F) the L1 sensitivity;
  E|noise| = b, Var = 2b².
- DP-SGD (Abadi et al., CCS 2016) through Opacus (Yousefpour et al., 2021) with its RDP accountant.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

RANDOMIZED_RESPONSE_EPSILON = math.log(3)


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def randomized_response(truth: np.ndarray, *, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Each respondent's answer under the two-coin protocol (booleans in, booleans out)."""
    truth = np.asarray(truth)
    if truth.dtype != bool:
        raise ValueError(f"truth must be a boolean array, got dtype {truth.dtype}")
    rng = _rng(seed)
    first, second = rng.random(truth.shape) < 0.5, rng.random(truth.shape) < 0.5
    return np.where(first, truth, second)


def estimate_proportion(answers: np.ndarray) -> float:
    """Unbiased estimate of the true "yes" rate from randomized answers: p = 2p' − 1/2."""
    answers = np.asarray(answers)
    if answers.dtype != bool or not answers.size:
        raise ValueError("answers must be a non-empty boolean array")
    return 2 * float(answers.mean()) - 0.5


def randomized_response_std(p: float, n: int, *, fixed_population: bool = False) -> float:
    """Theoretical standard deviation of :func:`estimate_proportion` for true rate ``p`` and ``n`` respondents drawn
    at random: 2 sqrt(p'(1 − p')/n). For a fixed set of respondents only the coins vary: every answer is a
    Bernoulli(3/4 or 1/4), variance 3/16 each, so the estimate's standard deviation is sqrt(3 / (4n))."""
    if not 0 <= p <= 1 or n < 1:
        raise ValueError(f"need p in [0, 1] and n >= 1, got {p} and {n}")
    if fixed_population:
        return math.sqrt(3 / (4 * n))
    observed = p / 2 + 0.25
    return 2 * math.sqrt(observed * (1 - observed) / n)


def laplace_scale(*, sensitivity: float, epsilon: float) -> float:
    """b = S(F)/ε."""
    if not sensitivity > 0 or not epsilon > 0:
        raise ValueError(f"sensitivity and epsilon must be > 0, got {sensitivity} and {epsilon}")
    return sensitivity / epsilon


def laplace_mechanism(
    value: float | np.ndarray, *, sensitivity: float, epsilon: float, seed: int | np.random.Generator | None = None,
) -> float | np.ndarray:
    """``value`` + Laplace noise of scale S(F)/ε (ε-DP for a query of L1 sensitivity ``sensitivity``)."""
    noise = _rng(seed).laplace(0.0, laplace_scale(sensitivity=sensitivity, epsilon=epsilon), np.shape(value))
    return value + noise if np.ndim(value) else float(value + noise)


def private_count(data: np.ndarray, *, epsilon: float, seed: int | np.random.Generator | None = None) -> float:
    """ε-DP count of true entries (sensitivity 1)."""
    return laplace_mechanism(float(np.count_nonzero(data)), sensitivity=1.0, epsilon=epsilon, seed=seed)


def private_mean(
    data: np.ndarray, *, low: float, high: float, epsilon: float, seed: int | np.random.Generator | None = None,
) -> float:
    """ε-DP mean of values clipped to [low, high] (sensitivity (high − low)/n for a fixed n)."""
    data = np.clip(np.asarray(data, float), low, high)
    if not len(data) or not high > low:
        raise ValueError("need a non-empty array and high > low")
    return laplace_mechanism(float(data.mean()), sensitivity=(high - low) / len(data), epsilon=epsilon, seed=seed)


class SampleConvNet(nn.Module):
    """The small CNN of Opacus's MNIST example (its published figures use it); inputs in [0, 1].

    ``activation="tanh"``: the tempered sigmoid of Papernot et al. ("Tempered Sigmoid Activations for Deep Learning
    with Differential Privacy", AAAI 2021), whose bounded activations keep clipped gradients informative."""

    def __init__(self, *, activation: str = "relu") -> None:
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        self.act = torch.tanh if activation == "tanh" else F.relu
        self.conv1 = nn.Conv2d(1, 16, 8, 2, padding=3)
        self.conv2 = nn.Conv2d(16, 32, 4, 2)
        self.fc1 = nn.Linear(32 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(self.act(self.conv1((x - 0.1307) / 0.3081)), 2, 1)
        x = F.max_pool2d(self.act(self.conv2(x)), 2, 1)
        return self.fc2(self.act(self.fc1(x.flatten(1))))


def dp_sgd_fit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    target_epsilon: float | None,
    delta: float = 1e-5,
    epochs: int = 1,
    batch: int = 64,
    lr: float = 0.25,
    momentum: float = 0.0,
    max_grad_norm: float = 1.0,
    seed: int = 0,
) -> tuple[nn.Module, float]:
    """Train with DP-SGD (Opacus, Poisson sampling, RDP accountant) to ``target_epsilon`` at ``delta`` after
    ``epochs``; ``target_epsilon=None`` is the non-private baseline, the project's standard recipe
    (:func:`trust_core.models.train_mnist.fit`, Adam) for the same epochs (ε = inf).
    Returns the trained model (the module passed in, eval mode) and the accountant's ε."""
    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    if target_epsilon is not None and not target_epsilon > 0:
        raise ValueError(f"target_epsilon must be > 0 or None, got {target_epsilon}")
    if target_epsilon is None:
        from trust_core.models.train_mnist import fit

        torch.manual_seed(seed)
        return fit(model, images, labels, epochs=epochs, batch=batch, seed=seed), math.inf
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    engine = PrivacyEngine(accountant="rdp")
    trained, optimizer, loader = engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=loader, target_epsilon=target_epsilon,
        target_delta=delta, epochs=epochs, max_grad_norm=max_grad_norm,
    )
    trained.train()
    for _ in range(epochs):
        for x, y in loader:
            if not len(x):
                continue
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(trained(x), y).backward()
            optimizer.step()
    model = trained.to_standard_module()  # the module passed in, without Opacus's hooks and per-sample buffers
    return model.eval(), float(engine.get_epsilon(delta))
