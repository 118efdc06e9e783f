"""The model-extraction experiments on MNIST: queries vs substitute accuracy and transferability (DRMI's table),
and the 1%-of-train acceptance check over seeds. The victim is the shipped ``mnist_cnn``; substitutes are LeNet-5."""
from __future__ import annotations

import time

import torch

from trust_core.data import mnist_tensors
from trust_core.extraction.drmi import DRMI
from trust_core.extraction.stealing import (
    LabelOracle, jacobian_augmentation, knockoff, train_substitute, transferability,
)
from trust_core.extraction.substitute import LeNet5
from trust_core.models.mnist import load_mnist_cnn
from trust_core.models.train_mnist import evaluate

BUDGETS = (50, 150, 200, 300, 600)


def _pool(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = mnist_tensors("train")
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:size]
    return x[pick], y[pick]


def queries_table(
    *, budgets: tuple[int, ...] = BUDGETS, pool_size: int = 3000, epochs: int = 40, eps: float = 0.3,
    test_limit: int = 10_000, seed: int = 0,
) -> list[dict[str, float]]:
    """For each query budget and method (DRMI, Knockoff random, Jacobian augmentation from a seed set of a quarter
    of the budget): substitute test accuracy and FGSM transferability to the victim (on 1,000 test images)."""
    torch.manual_seed(seed)
    victim = load_mnist_cnn()
    x_test, y_test = mnist_tensors("test", limit=test_limit)
    pool, pool_labels = _pool(pool_size, seed)
    drmi = DRMI(pool, groups=pool_labels)
    rows = []
    for budget in budgets:
        oracle = LabelOracle(victim)
        substitutes = {
            "drmi": train_substitute(oracle, pool[drmi.select(budget)], make_model=LeNet5, epochs=epochs, seed=seed),
            "knockoff": knockoff(oracle, pool, budget, make_model=LeNet5, epochs=epochs, seed=seed),
            "jacobian": jacobian_augmentation(oracle, pool[: max(10, budget // 4)], budget, make_model=LeNet5,
                                              epochs=epochs, seed=seed),
        }
        for method, model in substitutes.items():
            rows.append({
                "queries": budget, "method": method,
                "accuracy": round(evaluate(model, x_test, y_test), 4),
                "transferability": round(transferability(model, victim, x_test[:1000], y_test[:1000], eps=eps), 4),
            })
    return rows


def one_percent(*, seeds: tuple[int, ...] = (0, 1, 2), pool_size: int = 3000, epochs: int = 40) -> dict[str, object]:
    """DRMI's headline on MNIST: 600 queries (1% of the 60,000 train images) chosen by DRMI from a random pool vs
    a random 600, substitute accuracy relative to the victim's, per seed (the pool and the training seed vary)."""
    victim = load_mnist_cnn()
    x_test, y_test = mnist_tensors("test")
    victim_accuracy = evaluate(victim, x_test, y_test)
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        pool, pool_labels = _pool(pool_size, seed)
        chosen = DRMI(pool, groups=pool_labels).select(600)
        drmi_model = train_substitute(LabelOracle(victim), pool[chosen], make_model=LeNet5, epochs=epochs, seed=seed)
        random_model = knockoff(LabelOracle(victim), mnist_tensors("train")[0], 600, make_model=LeNet5, epochs=epochs,
                                seed=seed)
        runs.append({
            "seed": seed,
            "drmi": round(evaluate(drmi_model, x_test, y_test), 4),
            "random": round(evaluate(random_model, x_test, y_test), 4),
            "seconds": round(time.perf_counter() - start, 1),
        })
    mean = {k: round(sum(r[k] for r in runs) / len(runs), 4) for k in ("drmi", "random")}
    return {
        "victim_accuracy": round(victim_accuracy, 4),
        "target": round(0.95 * victim_accuracy, 4),
        "runs": runs,
        "mean": mean,
        "drmi_relative": round(mean["drmi"] / victim_accuracy, 4),
        "random_relative": round(mean["random"] / victim_accuracy, 4),
    }
