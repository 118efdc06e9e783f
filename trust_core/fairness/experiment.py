"""Run debiasing methods over seeds and set the figures beside the published AEDA tables (bACC %, bias in % points)."""
from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trust_core.fairness.metrics import fairness_report

#: (bACC %, bias % points) from Zhang & Sang, ACM MM 2020 (CelebA: the full data set).
PUBLISHED: dict[str, dict[str, tuple[float, float]]] = {
    "cmnist": {"original": (55.62, 7.84), "adv": (89.93, 1.37), "aeda-pre": (64.53, 5.89),
               "aeda-online": (80.57, 3.20), "aeda-robust": (91.80, 0.528)},
    "celeba": {"original": (73.57, 5.48), "undersample": (66.35, 2.35), "reweight": (73.82, 4.39),
               "adv": (72.82, 4.23), "aeda-robust": (74.30, 3.27)},
}
PUBLISHED["celeba-tuned"] = PUBLISHED["celeba"]

#: per-digit accuracy (%) on digits 2, 4, 6, 8 in the published MNIST 4-way 4-shot pilot.
PUBLISHED_FEWSHOT: dict[str, tuple[float, ...]] = {"original": (46.80, 70.37, 0.00, 0.00),
                                                   "aeda-robust": (69.25, 88.88, 42.50, 25.00)}

METHODS = ("original", "undersample", "reweight", "adv", "aeda-pre", "aeda-online", "aeda-robust")

#: the reference row: Original trained on the data set rebuilt without its training bias (C-MNIST only).
UNBIASED = "unbiased"


@dataclass(frozen=True)
class Protocol:
    """Data and training settings shared by every method on one data set."""

    data: dict[str, Any]
    train: dict[str, Any]
    attack: dict[str, Any] = field(default_factory=dict)


PROTOCOLS: dict[str, Protocol] = {
    "cmnist": Protocol(data={"strength": 0.99, "n_train": 55000, "n_val": 2000, "n_test": 10000},
                       train={"epochs": 3, "batch": 128, "lr": 1e-3, "width": 16},
                       attack={"eps": 1.0, "attack_steps": 10, "norm": "tint", "robust_eps": 0.2,
                               "bias_weight": 0.1}),
    "celeba": Protocol(data={"backbone": "probe"},
                       train={"epochs": 2, "batch": 128, "lr": 3e-3, "width": 16},
                       attack={"eps": 8 / 255, "attack_steps": 1, "robust_eps": 4 / 255}),
    # the probe trained end to end at a tenth of the learning rate of the layers above it
    "celeba-tuned": Protocol(data={"backbone": "probe", "backbone_lr_scale": 0.1},
                             train={"epochs": 2, "batch": 64, "lr": 3e-3, "width": 16},
                             attack={"eps": 8 / 255, "attack_steps": 2, "robust_eps": 4 / 255, "bias_weight": 0.1}),
}


def method_fn(method: str) -> Callable[..., Any]:
    from trust_core.fairness import aeda, baselines

    table = {"original": baselines.original, "undersample": baselines.undersample, "reweight": baselines.reweight,
             "adv": baselines.adversarial_debiasing, "aeda-pre": aeda.aeda_pre, "aeda-online": aeda.aeda_online,
             "aeda-robust": aeda.aeda_robust}
    if method not in table:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return table[method]


def load(dataset: str, *, seed: int = 0, **overrides: Any) -> Any:
    """The data set under its protocol (``overrides`` replace protocol entries), named after the protocol."""
    from dataclasses import replace

    from trust_core.fairness.datasets import celeba_fairness, colored_mnist

    if dataset not in PROTOCOLS:
        raise ValueError(f"unknown data set {dataset!r}; choose from {', '.join(PROTOCOLS)}")
    build = colored_mnist if dataset == "cmnist" else celeba_fairness
    return replace(build(seed=seed, **{**PROTOCOLS[dataset].data, **overrides}), name=dataset)


def unbiased_twin(dataset: str, *, seed: int = 0, **overrides: Any) -> Any:
    """The data set rebuilt with its training bias removed and the same test split: C-MNIST whose colour is
    independent of the digit (strength 1/10). Original trained on it is the ceiling for debiasing under the
    protocol — what a model that ignored the colour perfectly in training would reach."""
    if dataset != "cmnist":
        raise ValueError(f"only C-MNIST can be rebuilt without its bias, not {dataset!r}")
    return load(dataset, seed=seed, **{**overrides, "strength": 0.1})


def run_one(data: Any, method: str, *, seed: int, attack: dict[str, Any] | None = None,
            **overrides: Any) -> dict[str, float]:
    """Train one method with one seed; validation and test figures plus the training time. ``attack`` replaces
    the protocol's attack settings; each method takes those it uses."""
    from trust_core.fairness.baselines import predict

    fn = method_fn("original" if method == UNBIASED else method)
    protocol = PROTOCOLS[data.name]
    accepted = inspect.signature(fn).parameters
    attack = {key: value for key, value in (protocol.attack if attack is None else attack).items() if key in accepted}
    kwargs = {**protocol.train, **attack, **overrides}
    start = time.perf_counter()
    net = fn(data, seed=seed, **kwargs)
    seconds = time.perf_counter() - start
    result = {f"val_{k}": v for k, v in fairness_report(data.val.y, predict(net, data.val.x), data.val.b).items()}
    result.update(fairness_report(data.test.y, predict(net, data.test.x), data.test.b))
    result["train_seconds"] = seconds
    return result


#: the entries of a results file that say what was run; files that share them can be combined.
SETUP_KEYS = ("dataset", "protocol", "train", "attack")


def check_same_setup(existing: dict[str, Any], report: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless both results share :data:`SETUP_KEYS`."""
    differing = [key for key in SETUP_KEYS if existing.get(key) != report.get(key)]
    if differing:
        raise ValueError(f"the results were made under another setup ({', '.join(differing)} differ)")


def extend_report(existing: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """``existing``'s methods with ``report``'s added (a method in both takes ``report``'s runs), so one
    results file can be filled by several runs; ``seconds`` adds up. Both must share :data:`SETUP_KEYS`."""
    check_same_setup(existing, report)
    return {**existing, **report, "methods": {**existing.get("methods", {}), **report.get("methods", {})},
            "seconds": existing.get("seconds", 0.0) + report.get("seconds", 0.0)}


def summarise(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and (sample) standard deviation of every figure over seeds."""
    return {key: {"mean": statistics.fmean(r[key] for r in runs),
                  "std": statistics.stdev(r[key] for r in runs) if len(runs) > 1 else 0.0}
            for key in runs[0]}
