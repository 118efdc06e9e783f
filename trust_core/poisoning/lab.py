"""Poisoning experiments on MNIST: label flipping, the adversarial training-set attack (generalisation-gap table)
and feature-collision clean-label poisoning. Training slices come from MNIST train[:55000]; figures are on test."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from trust_core.data import mnist_tensors
from trust_core.models.mnist import MnistCNN, load_mnist_cnn
from trust_core.models.train_mnist import evaluate, fit
from trust_core.poisoning.adversarial import adversarial_poison, gap_row
from trust_core.poisoning.feature_collision import feature_collision, retrain_head
from trust_core.poisoning.label_flip import flip_labels

ATTACKS = ("label-flip", "adversarial", "feature-collision")


def _train(images: torch.Tensor, labels: torch.Tensor, *, width: int, epochs: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return fit(MnistCNN(width=width), images, labels, epochs=epochs, seed=seed)


def label_flip_rows(x, y, test, *, rates: Sequence[float], width: int, epochs: int, seed: int) -> list[dict[str, Any]]:
    """Test accuracy after random flips at each rate, and after a targeted 7 → 1 flip of the whole class 7."""
    rows = []
    for rate in rates:
        flipped, _ = flip_labels(y, rate=rate, seed=seed)
        rows.append({"attack": f"random flip {rate:g}", "test_accuracy": evaluate(_train(x, flipped, width=width, epochs=epochs, seed=seed), *test)})
    flipped, _ = flip_labels(y, rate=1.0, source=7, target=1, seed=seed)
    model = _train(x, flipped, width=width, epochs=epochs, seed=seed)
    sevens = test[1] == 7
    rows.append({"attack": "targeted flip 7->1", "test_accuracy": evaluate(model, *test),
                 "class_7_as_1": (model(test[0][sevens]).argmax(1) == 1).float().mean().item()})
    return rows


def adversarial_rows(x, y, test, *, eps_values: Sequence[float], width: int, epochs: int, steps: int,
                     seed: int) -> list[dict[str, Any]]:
    """The generalisation-gap table: clean training set vs adversarially poisoned ones (surrogate: shipped CNN)."""
    rows = [vars(gap_row(_train(x, y, width=width, epochs=epochs, seed=seed), (x, y), test, data="clean", eps=0.0))]
    surrogate = load_mnist_cnn()
    for eps in eps_values:
        poisoned = adversarial_poison(surrogate, x, y, eps=eps, steps=steps, seed=seed)
        model = _train(poisoned, y, width=width, epochs=epochs, seed=seed)
        rows.append(vars(gap_row(model, (poisoned, y), test, data="adversarial poison", eps=eps)))
    return rows


def feature_collision_rows(x, y, test, *, targets: int, poisons: int, base: int, target_class: int,
                           steps: int) -> list[dict[str, Any]]:
    """Per target test image of ``target_class``: its prediction after head retraining without and with poisons
    crafted from ``poisons`` train images of ``base`` (feature extractor: the shipped CNN)."""
    model = load_mnist_cnn()
    clean_head = retrain_head(model, x, y)
    bases = x[y == base][:poisons]
    rows = []
    for image in test[0][test[1] == target_class][:targets]:
        image = image[None]
        poison = feature_collision(model, bases, image, steps=steps)
        poisoned_head = retrain_head(model, torch.cat([x, poison]), torch.cat([y, torch.full((len(poison),), base)]))
        rows.append({"clean_prediction": int(clean_head(image).argmax()), "poisoned_prediction": int(poisoned_head(image).argmax()),
                     "poisoned_test_accuracy": evaluate(poisoned_head, *test),
                     "max_pixel_change": float((poison - bases).abs().max())})
    return rows


def run(*, attacks: Sequence[str] = ATTACKS, train_limit: int = 10000, test_limit: int | None = None,
        eps_values: Sequence[float] = (0.1, 0.2, 0.3), flip_rates: Sequence[float] = (0.1, 0.3, 0.5),
        width: int = 16, epochs: int = 3, steps: int = 10, fc_targets: int = 10, fc_poisons: int = 50,
        seed: int = 0) -> dict[str, Any]:
    unknown = set(attacks) - set(ATTACKS)
    if unknown:
        raise ValueError(f"unknown attack(s) {sorted(unknown)}; choose from {', '.join(ATTACKS)}")
    x, y = mnist_tensors("train", limit=min(train_limit, 55000))
    test = mnist_tensors("test", limit=test_limit)
    result: dict[str, Any] = {"config": {"train": len(x), "test": len(test[0]), "width": width, "epochs": epochs, "seed": seed}}
    if "label-flip" in attacks:
        result["label_flip"] = label_flip_rows(x, y, test, rates=flip_rates, width=width, epochs=epochs, seed=seed)
    if "adversarial" in attacks:
        result["adversarial"] = adversarial_rows(x, y, test, eps_values=eps_values, width=width, epochs=epochs, steps=steps, seed=seed)
    if "feature-collision" in attacks:
        rows = feature_collision_rows(x[:2000], y[:2000], test, targets=fc_targets, poisons=fc_poisons, base=3,
                                      target_class=7, steps=200)
        result["feature_collision"] = {"rows": rows, "success_rate": sum(r["poisoned_prediction"] == 3 for r in rows) / max(1, len(rows))}
    return result


def format_table(result: dict[str, Any]) -> str:
    lines = []
    for row in result.get("label_flip", []):
        extra = f", class 7 predicted 1: {row['class_7_as_1']:.3f}" if "class_7_as_1" in row else ""
        lines.append(f"{row['attack']:24} test accuracy {row['test_accuracy']:.4f}{extra}")
    if "adversarial" in result:
        lines.append(f"{'training data':20} {'eps':>5} {'train err':>9} {'test err':>9} {'gap':>7}")
        for row in result["adversarial"]:
            lines.append(f"{row['data']:20} {row['eps']:5.2f} {row['train_error']:9.4f} {row['test_error']:9.4f} "
                         f"{row['test_error'] - row['train_error']:7.4f}")
    if "feature_collision" in result:
        fc = result["feature_collision"]
        lines.append(f"feature collision (base 3, targets of class 7): success {fc['success_rate']:.2f} over {len(fc['rows'])} targets")
    return "\n".join(lines)
