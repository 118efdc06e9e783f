"""Train the shipped MNIST CNN: Adam, a few epochs, selected on a validation split carved from train."""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn

from trust_core.data import mnist_tensors
from trust_core.models.mnist import MnistCNN
from trust_core.models.training import cross_entropy, one_cycle, train_loop


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int = 1000) -> float:
    """Top-1 accuracy of ``model`` on ``images``/``labels``."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            correct += (model(images[i : i + batch]).argmax(1) == labels[i : i + batch]).sum().item()
    return correct / len(images)


def fit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 3,
    batch: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Module:
    """Plain supervised training: Adam, cross-entropy, one-cycle schedule."""
    return train_loop(model, images, labels, cross_entropy, epochs=epochs, batch=batch, lr=lr, seed=seed, schedule=one_cycle)


def train(out: Path, *, epochs: int = 3, seed: int = 0) -> dict[str, float]:
    """Train on 55k train images, validate on the other 5k, report test accuracy; save the state_dict."""
    torch.manual_seed(seed)
    x, y = mnist_tensors("train")
    x_val, y_val, x_tr, y_tr = x[-5000:], y[-5000:], x[:-5000], y[:-5000]
    start = time.perf_counter()
    model = fit(MnistCNN(), x_tr, y_tr, epochs=epochs, seed=seed)
    seconds = time.perf_counter() - start
    x_test, y_test = mnist_tensors("test")
    metrics = {
        "val_accuracy": round(evaluate(model, x_val, y_val), 4),
        "test_accuracy": round(evaluate(model, x_test, y_test), 4),
        "train_seconds": round(seconds, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out)
    return metrics
