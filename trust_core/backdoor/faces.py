"""The face case: BadNets on an AT&T (ORL) 40-person classifier, against Neural Cleanse, fine-pruning, spectral
signatures and activation clustering.

Images are average-pooled 2× to 56×46. Per person, shots 0–6 train the classifier, shot 7 is the defender's clean
data (Neural Cleanse reverse-engineers on it) and shots 8–9 are the test set.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from trust_core.backdoor.activation_clustering import activation_clustering
from trust_core.backdoor.attacks import BadNets
from trust_core.backdoor.features import layer_inputs
from trust_core.backdoor.fine_pruning import fine_prune, pruning_curve
from trust_core.backdoor.lab import detection_scores
from trust_core.backdoor.lab import format_table as format_lab_table
from trust_core.backdoor.neural_cleanse import neural_cleanse, unlearn
from trust_core.backdoor.spectral import spectral_signatures
from trust_core.models.train_mnist import evaluate, fit

PEOPLE = 40


class FaceCNN(nn.Module):
    """Two strided conv layers and two linear layers for 56×46 grey faces."""

    def __init__(self, *, width: int = 16, classes: int = PEOPLE) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 5, stride=2, padding=2), nn.ReLU(),
                                      nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU())
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 14 * 12, 128), nn.ReLU(),
                                        nn.Linear(128, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x - 0.5))


def att_splits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``train`` (7 shots a person), ``defender`` (1) and ``test`` (2) from the AT&T faces, pooled to 56×46."""
    from trust_core.data import load_att_faces

    x, y = load_att_faces()
    x = F.avg_pool2d(x, 2)
    shot = torch.arange(len(y)) % 10
    pick = {"train": shot < 7, "defender": shot == 7, "test": shot >= 8}
    return {name: (x[m], y[m]) for name, m in pick.items()}


def run(*, target: int = 0, rate: float = 0.1, trigger: int = 6, epochs: int = 40, nc_steps: int = 100,
        unlearn_epochs: int = 20, prune: float = 0.4, seed: int = 0) -> dict[str, Any]:
    """BadNets (``trigger``-pixel white square) at ``rate`` on the AT&T classifier; Neural Cleanse on the defender's
    shots flags labels and unlearns their reversed triggers, fine-pruning masks the ``prune`` least active units of
    the last conv layer (both fine-tune ``unlearn_epochs`` on the defender's 40 faces); spectral signatures and activation clustering are
    scored on the poisoned training set (no retraining: with 7 shots a person every poisoned class is mostly
    poisons, so the per-class outlier tests have little to stand on)."""
    attack = BadNets(target=target, rate=rate, size=trigger, num_classes=PEOPLE, seed=seed)
    data = att_splits()
    (x, y), (x_def, y_def), (x_test, y_test) = data["train"], data["defender"], data["test"]
    poisoned = attack.poison(x, y)

    def train(images: torch.Tensor, labels: torch.Tensor) -> nn.Module:
        torch.manual_seed(seed)
        return fit(FaceCNN(), images, labels, epochs=epochs, batch=32, seed=seed)

    def row(name: str, net: nn.Module, **extra: Any) -> dict[str, Any]:
        return {"model": name, "clean_accuracy": evaluate(net, x_test, y_test),
                "attack_success": attack.success_rate(net, x_test, y_test), **extra}

    model = train(poisoned.images, poisoned.labels)
    rows = [row("clean (no attack)", train(x, y)), row(f"badnets {rate:g}", model)]
    report = neural_cleanse(model, x_def, num_classes=PEOPLE, steps=nc_steps, batch=8, seed=seed)
    if report.flagged:
        fixed = unlearn(model, x_def, y_def, [report.triggers[i] for i in report.flagged], epochs=unlearn_epochs,
                        seed=seed)
        rows.append(row("neural-cleanse unlearning", fixed, flagged=report.flagged))
    measure = dict(clean_accuracy=lambda m: evaluate(m, x_test, y_test),
                   attack_success=lambda m: attack.success_rate(m, x_test, y_test))
    curve = pruning_curve(model, x_def, granularity="unit", fractions=(0.0, 0.2, 0.4, 0.6, 0.8), **measure)
    tuned = fine_prune(model, x_def, y_def, fraction=prune, granularity="unit", epochs=unlearn_epochs, seed=seed)
    rows.append(row(f"fine-pruning unit {prune:g} + tune", tuned))
    features = layer_inputs(model, poisoned.images)
    detection = {}
    for name, suspect in (
            ("spectral (whitened)", spectral_signatures(features, poisoned.labels, expected_rate=rate, whiten=True,
                                                        components=5)),
            ("activation-clustering", activation_clustering(features, poisoned.labels, components=3, seed=seed))):
        detection[name] = detection_scores(suspect, poisoned)
    config = {"data": "AT&T faces 56x46", "train": len(x), "defender": len(x_def), "test": len(x_test),
              "target": target, "rate": rate, "poisoned": int(poisoned.poisoned.sum()),
              "trigger": f"{trigger}x{trigger} white", "epochs": epochs}
    return {"config": config, "rows": rows, "detection": detection,
            "fine_pruning_curve": {"unit": [vars(step) for step in curve]},
            "neural_cleanse": {"norms": [round(n, 2) for n in report.norms.tolist()],
                               "anomaly_index": [round(a, 2) for a in report.anomaly_index.tolist()],
                               "flagged": report.flagged}}


def format_table(result: dict[str, Any]) -> str:
    """The MNIST lab's table, then the detection scores of the data-inspection defenses."""
    lines = [format_lab_table(result)]
    lines += [f"{name}: recall {d['recall']:.3f}, precision {d['precision']:.3f}, removed {d['removed']}"
              for name, d in result.get("detection", {}).items()]
    return "\n".join(lines)
