"""Attack × defense on MNIST: train a clean and a backdoored CNN, run each defense, tabulate the effects.

The defender's clean data is MNIST train[55000:] (never trained on by the attacker's model); figures are on the
MNIST test set (or its first ``test_limit`` images).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch

from trust_core.backdoor.activation_clustering import activation_clustering
from trust_core.backdoor.attacks import BadNets, Backdoor, Blended, LabelConsistent, PatchTrigger, PoisonedSet
from trust_core.backdoor.features import layer_inputs
from trust_core.backdoor.fine_pruning import fine_prune, pruning_curve
from trust_core.backdoor.neural_cleanse import neural_cleanse, unlearn
from trust_core.backdoor.spectral import spectral_signatures
from trust_core.data import mnist_tensors
from trust_core.models.mnist import MnistCNN
from trust_core.models.train_mnist import evaluate, fit

ATTACKS = ("badnets", "blended", "label-consistent")
DEFENSES = ("neural-cleanse", "activation-clustering", "spectral", "fine-pruning")


def make_attack(name: str, *, target: int, rate: float, seed: int, surrogate: torch.nn.Module | None = None,
                eps: float = 0.3) -> Backdoor:
    """The named backdoor; ``label-consistent`` needs a clean ``surrogate``."""
    if name == "badnets":
        return BadNets(target=target, rate=rate, seed=seed)
    if name == "blended":
        return Blended(target=target, rate=rate, seed=seed)
    if name == "label-consistent":
        if surrogate is None:
            raise ValueError("the label-consistent backdoor needs a surrogate model")
        return LabelConsistent(surrogate, target=target, rate=rate, eps=eps, seed=seed)
    raise ValueError(f"unknown attack {name!r}; choose from {', '.join(ATTACKS)}")


def detection_scores(suspect: torch.Tensor, data: PoisonedSet) -> dict[str, float]:
    """Recall and precision of a data-inspection defense's ``suspect`` mask on the poisoned set, and how many it removed."""
    found = (suspect & data.poisoned).sum().item()
    return {"recall": found / max(1, data.poisoned.sum().item()), "precision": found / max(1, suspect.sum().item()),
            "removed": int(suspect.sum().item())}


def run(*, attack: str = "badnets", defenses: Sequence[str] = DEFENSES, target: int = 0, rate: float = 0.01,
        train_limit: int | None = None, test_limit: int | None = None, epochs: int = 3, width: int = 16,
        eps: float = 0.3, nc_steps: int = 300, seed: int = 0) -> dict[str, Any]:
    """Run one attack against the chosen defenses; returns a JSON-ready dict (``rows``: one per model)."""
    unknown = set(defenses) - set(DEFENSES)
    if unknown:
        raise ValueError(f"unknown defense(s) {sorted(unknown)}; choose from {', '.join(DEFENSES)}")
    if attack not in ATTACKS:
        raise ValueError(f"unknown attack {attack!r}; choose from {', '.join(ATTACKS)}")
    Backdoor(PatchTrigger(), target=target, rate=rate)  # validate target and rate before any training
    x_all, y_all = mnist_tensors("train")
    x, y = x_all[: min(train_limit or 55000, 55000)], y_all[: min(train_limit or 55000, 55000)]
    x_def, y_def = x_all[55000:], y_all[55000:]
    x_test, y_test = mnist_tensors("test", limit=test_limit)

    def train(images: torch.Tensor, labels: torch.Tensor) -> torch.nn.Module:
        torch.manual_seed(seed)
        return fit(MnistCNN(width=width), images, labels, epochs=epochs, seed=seed)

    clean = train(x, y)
    backdoor = make_attack(attack, target=target, rate=rate, seed=seed, surrogate=clean, eps=eps)
    data = backdoor.poison(x, y)
    model = train(data.images, data.labels)

    def row(name: str, net: torch.nn.Module, **extra: Any) -> dict[str, Any]:
        return {"model": name, "clean_accuracy": evaluate(net, x_test, y_test),
                "attack_success": backdoor.success_rate(net, x_test, y_test), **extra}

    rows = [row("clean (no attack)", clean), row(f"{attack} {rate:g}", model)]
    share = float(data.poisoned.sum() / (data.labels == target).sum())  # poisons per target-class training image
    result: dict[str, Any] = {"config": {"attack": attack, "target": target, "rate": rate, "train": len(x),
                                         "test": len(x_test), "epochs": epochs, "width": width, "seed": seed,
                                         "poisoned": int(data.poisoned.sum()),
                                         "target_class_share": round(share, 4)}, "rows": rows}
    if "neural-cleanse" in defenses:
        report = neural_cleanse(model, x_def[:1000], num_classes=10, steps=nc_steps, seed=seed)
        result["neural_cleanse"] = {"norms": [round(n, 2) for n in report.norms.tolist()],
                                    "anomaly_index": [round(a, 2) for a in report.anomaly_index.tolist()],
                                    "flagged": report.flagged}
        if report.flagged:
            fixed = unlearn(model, x_def, y_def, [report.triggers[i] for i in report.flagged], seed=seed)
            rows.append(row("neural-cleanse unlearning", fixed, flagged=report.flagged))
    detectors: list[tuple[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = []
    if "activation-clustering" in defenses:
        detectors.append(("activation-clustering", partial(activation_clustering, seed=seed)))
    if "spectral" in defenses:
        detectors += [(f"spectral ({kind})", partial(spectral_signatures, expected_rate=max(rate, 1e-3), whiten=whiten))
                      for kind, whiten in (("Tran", False), ("whitened", True))]
    features = layer_inputs(model, data.images) if detectors else None  # the last hidden layer, as in both papers
    for name, detect in detectors:
        suspect = detect(features, data.labels)
        retrained = train(data.images[~suspect], data.labels[~suspect])
        rows.append(row(f"{name} + retrain", retrained, **detection_scores(suspect, data)))
    if "fine-pruning" in defenses:
        result["fine_pruning_curve"] = {}
        for granularity, fraction in (("channel", 0.8), ("unit", 0.4)):
            curve = pruning_curve(model, x_def, granularity=granularity,
                                  clean_accuracy=lambda m: evaluate(m, x_test, y_test),
                                  attack_success=lambda m: backdoor.success_rate(m, x_test, y_test))
            result["fine_pruning_curve"][granularity] = [vars(step) for step in curve]
            tuned = fine_prune(model, x_def, y_def, fraction=fraction, granularity=granularity, seed=seed)
            rows.append(row(f"fine-pruning {granularity} {fraction:g} + tune", tuned))
    return result


def format_table(result: dict[str, Any]) -> str:
    """The rows as an aligned text table, then the Neural Cleanse indices and the fine-pruning curve."""
    header = f"{'model':32} {'clean acc':>9} {'ASR':>7} {'recall':>7} {'precision':>9}"
    lines = [f"config: {result['config']}", header]
    for r in result["rows"]:
        recall = f"{r['recall']:.3f}" if "recall" in r else "-"
        precision = f"{r['precision']:.3f}" if "precision" in r else "-"
        lines.append(f"{r['model']:32} {r['clean_accuracy']:9.4f} {r['attack_success']:7.4f} {recall:>7} {precision:>9}")
    if "neural_cleanse" in result:
        nc = result["neural_cleanse"]
        lines.append(f"neural cleanse: mask L1 {nc['norms']}, anomaly index {nc['anomaly_index']}, flagged {nc['flagged']}")
    for granularity, curve in result.get("fine_pruning_curve", {}).items():
        lines.append(f"pruning curve ({granularity}s of the last conv layer, no fine-tuning):")
        lines.extend(f"  pruned {p['fraction']:.1f}: clean acc {p['clean_accuracy']:.4f}, "
                     f"ASR {p['attack_success']:.4f}" for p in curve)
    return "\n".join(lines)
