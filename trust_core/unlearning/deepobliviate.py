"""DeepObliviate — He, Meng, Chen, He & Hu, "DeepObliviate: a powerful charm for erasing data residual memory in
deep neural networks", arXiv 2105.06209, 2021.

Training runs over B consecutive blocks of the data, each continuing from the previous model, and every
intermediate model ``M_0 .. M_B`` is kept (``Δ_t = M_t - M_{t-1}``). To delete samples, retrain from the first
affected block k; for each retrained block measure the temporal residual memory ``r_t = ||Δ'_t - Δ_t|| / ||Δ_k||``
(how far the block's update still differs, in units of the first affected block's update),
fit the power law ``a·x^(-h) + b`` to it (x = blocks since the first affected one) and stop once the fit falls
below ``ε``; then stitch: ``M' = M'_t + (M_B - M_t)`` — the rest of the original updates, untouched.

Training is mini-batch SGD, the gradient-step update the residual-memory argument presumes, with heavy-ball
momentum whose velocity is kept next to each ``M_t``: one optimiser state runs through all blocks, and a retrain
from block k resumes it exactly. (Adam restarted per block does not fade: its first steps act like sign-SGD and
amplify tiny differences, so ``r_t`` plateaus at 0.1-0.3.) The rate decays as ``lr · (1+t)^-decay``: only once it
is small do the retrained and original trajectories contract again, which is what lets ``r_t`` fall below ε; a
deletion in the first, fast-learning blocks is amplified instead (training is chaotic there) and stops late.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import curve_fit
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from trust_core.unlearning.common import StepConfig, train_chunk


def power_law(x: np.ndarray, a: float, h: float, b: float) -> np.ndarray:
    """``a · x^(-h) + b``."""
    return a * np.power(x, -h) + b


def fit_power_law(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``(a, h, b)`` of :func:`power_law` (all >= 0: memory fades to a floor), by ``curve_fit``."""
    if len(x) < 3 or len(x) != len(y):
        raise ValueError(f"need at least 3 points (x and y of one length) to fit 3 parameters, got {len(x)}, {len(y)}")
    start = (max(float(y[0] - y[-1]), 1e-6), 1.0, max(float(y[-1]) / 2, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an undetermined covariance is fine: only the curve is used
        params, _ = curve_fit(power_law, np.asarray(x, float), np.asarray(y, float), p0=start,
                              bounds=([0, 0, 0], [np.inf, 10, np.inf]), maxfev=5000)
    return tuple(float(p) for p in params)  # type: ignore[return-value]


@dataclass(frozen=True)
class Unlearned:
    """A stitched model and the cost of making it: blocks retrained, residual memory per retrained block, work."""

    model: nn.Module
    first_block: int
    blocks_retrained: int
    residuals: list[float]
    fit: tuple[float, float, float] | None
    work: int
    seconds: float


class DeepObliviate:
    """Block-wise SGD training of ``build()`` over ``images``/``labels`` in their given order, keeping every ``M_t``
    (``config``: epochs, batch and the rate schedule per block)."""

    def __init__(self, build: Callable[[], nn.Module], images: torch.Tensor, labels: torch.Tensor, *,
                 block_size: int = 200, config: StepConfig = StepConfig(epochs=2, lr=0.2, decay=0.9),
                 momentum: float = 0.9, seed: int = 0) -> None:
        if not 1 <= block_size <= len(images):
            raise ValueError(f"block_size must lie in [1, {len(images)}], got {block_size}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        self.build, self.images, self.labels, self.config, self.seed = build, images, labels, config, seed
        self.momentum = momentum
        self.blocks = list(torch.arange(len(images)).split(block_size))
        torch.manual_seed(seed)
        self._model = build()
        self.checkpoints = [parameters_to_vector(self._model.parameters()).detach().clone()]
        #: the SGD velocity after each block (the optimiser state a retrain from that block resumes with)
        self.velocities = [torch.zeros_like(self.checkpoints[0])]
        start = time.process_time()
        self.work = self._run(0, torch.empty(0, dtype=torch.int64), lambda t, state: False)[1]
        self.seconds = time.process_time() - start

    def _run(self, first: int, deleted: torch.Tensor, stop: Callable[[int, torch.Tensor], bool]) -> tuple[int, int]:
        """Train blocks ``first ..`` from ``M_first`` without ``deleted``, recording checkpoints when ``first`` is 0
        and nothing is deleted; ``stop(t, state)`` after block ``t`` ends the run. Returns (last block, work)."""
        recording = first == 0 and len(deleted) == 0 and len(self.checkpoints) == 1
        params = list(self._model.parameters())
        vector_to_parameters(self.checkpoints[first].clone(), params)
        opt = self._optimizer(first)

        def carried(_: object, lr: float) -> torch.optim.Optimizer:  # the loop's factory: the one SGD, at rate lr
            for group in opt.param_groups:
                group["lr"] = lr
            return opt

        work, t = 0, first
        for t in range(first, len(self.blocks)):
            work += train_chunk(self._model, self.images, self.labels, self.blocks[t], deleted, config=self.config,
                                t=t, seed=self.seed + 1 + t, optimizer=carried)
            state = parameters_to_vector(params).detach().clone()
            if recording:
                self.checkpoints.append(state)
                self.velocities.append(parameters_to_vector([opt.state[p]["momentum_buffer"] for p in params]).clone())
            elif stop(t, state):
                break
        return t, work

    def _optimizer(self, first: int) -> torch.optim.SGD:
        """SGD over the model's parameters, resuming with the velocity stored with ``M_first``."""
        params = list(self._model.parameters())
        opt = torch.optim.SGD(params, lr=self.config.lr, momentum=self.momentum)
        for p, velocity in zip(params, self.velocities[first].clone().split([p.numel() for p in params])):
            opt.state[p]["momentum_buffer"] = velocity.view_as(p)
        return opt

    def _as_model(self, vector: torch.Tensor) -> nn.Module:
        model = self.build()
        vector_to_parameters(vector.clone(), model.parameters())
        return model.eval()

    def model(self) -> nn.Module:
        """The trained model ``M_B``."""
        return self._as_model(self.checkpoints[-1])

    def retrain(self, deleted: torch.Tensor) -> tuple[nn.Module, int, float]:
        """Naive retraining: every block again from ``M_0`` without ``deleted``; (model, work, seconds)."""
        start = time.process_time()
        _, work = self._run(0, deleted.long(), lambda t, state: False)
        return self._as_model(parameters_to_vector(self._model.parameters()).detach()), work, time.process_time() - start

    def unlearn(self, deleted: torch.Tensor, *, epsilon: float = 0.1) -> Unlearned:
        """Retrain from the first block holding a deleted sample until the fitted residual memory is below
        ``epsilon`` (never before the last such block), then stitch the untouched updates back on."""
        deleted = deleted.long()
        hit = [t for t, block in enumerate(self.blocks) if torch.isin(block, deleted).any()]
        if not hit:
            raise ValueError("none of the deleted indices is in the training set")
        first, last = hit[0], hit[-1]
        residuals: list[float] = []
        fitted: list[tuple[float, float, float] | None] = [None]
        previous = [self.checkpoints[first]]
        scale = (self.checkpoints[first + 1] - self.checkpoints[first]).norm().clamp_min(1e-12)

        def stop(t: int, state: torch.Tensor) -> bool:
            original = self.checkpoints[t + 1] - self.checkpoints[t]
            residuals.append(float((state - previous[0] - original).norm() / scale))
            previous[0] = state
            after = residuals[last - first + 1 :]  # the fading phase, past every affected block
            if len(after) < 3 or after[-1] >= 2 * epsilon:  # fit (costly) only once the memory nears ε
                return bool(after) and after[-1] < epsilon
            x = np.arange(last - first + 2, len(residuals) + 1, dtype=float)
            try:
                fitted[0] = fit_power_law(x, np.array(after))
            except RuntimeError:  # curve_fit did not converge: judge the measured value
                return residuals[-1] < epsilon
            value = float(power_law(x[-1:], *fitted[0])[0])
            return math.isfinite(value) and value < epsilon

        start = time.process_time()
        t, work = self._run(first, deleted, stop)
        stitched = parameters_to_vector(self._model.parameters()).detach() + (self.checkpoints[-1] - self.checkpoints[t + 1])
        return Unlearned(self._as_model(stitched), first, t - first + 1, residuals, fitted[0], work,
                         time.process_time() - start)
