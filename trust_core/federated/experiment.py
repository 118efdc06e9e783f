"""The federated experiments on MNIST with LeNet-5 clients: FedAvg on IID and non-IID splits, and FedAvg vs
Krum / median / trimmed mean under label-flipping and boosted model-replacement clients."""
from __future__ import annotations

import time

from trust_core.data import mnist_tensors
from trust_core.extraction.substitute import LeNet5
from trust_core.federated.clients import Client
from trust_core.federated.simulation import STRATEGY_NAMES, make_strategy, run_federated
from trust_core.federated.splits import iid_split, shard_split


def _clients(split: str, clients: int, train_limit: int | None, seed: int) -> list[Client]:
    x, y = mnist_tensors("train", limit=train_limit)
    if split not in ("iid", "non-iid"):
        raise ValueError(f"split must be 'iid' or 'non-iid', got {split!r}")
    parts = (iid_split if split == "iid" else shard_split)(y, clients, seed=seed)
    return [Client(x[p], y[p]) for p in parts]


def fedavg_table(
    *, splits: tuple[str, ...] = ("iid", "non-iid"), clients: int = 10, rounds: int = 5, train_limit: int | None = None,
    seed: int = 0,
) -> list[dict[str, object]]:
    """FedAvg test accuracy after each round, per split."""
    test = mnist_tensors("test")
    rows = []
    for split in splits:
        start = time.perf_counter()
        _, history = run_federated(make_strategy("fedavg"), _clients(split, clients, train_limit, seed), LeNet5,
                                   rounds=rounds, test=test, seed=seed)
        rows.append({"split": split, "clients": clients, "rounds": rounds, "final_acc": round(history[-1], 4),
                     "per_round": [round(h, 4) for h in history], "seconds": round(time.perf_counter() - start, 1)})
    return rows


def robustness_table(
    *, attacks: tuple[str, ...] = ("none", "label-flip", "boosted"), malicious: int = 2, clients: int = 10,
    rounds: int = 3, boost: float = 10.0, strategies: tuple[str, ...] = STRATEGY_NAMES,
    train_limit: int | None = 10_000,
    seed: int = 0,
) -> list[dict[str, object]]:
    """Final test accuracy of every strategy with ``malicious`` of ``clients`` attacking (IID split). ``boosted`` =
    label flipping with the update scaled by ``boost`` (model replacement)."""
    test = mnist_tensors("test")
    rows = []
    for attack in attacks:
        for name in strategies:
            population = _clients("iid", clients, train_limit, seed)
            for client in population[:malicious] if attack != "none" else []:
                client.flip_labels = True
                client.boost = boost if attack == "boosted" else 1.0
            _, history = run_federated(make_strategy(name, malicious=malicious), population, LeNet5, rounds=rounds,
                                       test=test, seed=seed)
            rows.append({"attack": attack, "malicious": f"{malicious if attack != 'none' else 0}/{clients}",
                         "strategy": name, "final_acc": round(history[-1], 4)})
    return rows
