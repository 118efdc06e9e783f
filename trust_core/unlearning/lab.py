"""Unlearning on MNIST: SISA and DeepObliviate against naive retraining, for deletions of several sizes at several
positions of the training order (DeepObliviate's table: Top-1, consistency with the retrained model, speed-up).

Speed-ups are CPU time of naive retraining (every block again without the deleted samples) over the method's
unlearning CPU time; ``work`` speed-ups count trained samples instead (immune to a busy machine).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from trust_core.data import mnist_tensors
from trust_core.defenses.models import stride_cnn
from trust_core.models.train_mnist import evaluate
from trust_core.models.wrappers import Normalized
from trust_core.unlearning.common import StepConfig, consistency, predictions
from trust_core.unlearning.deepobliviate import DeepObliviate
from trust_core.unlearning.sisa import SISA


def deletion(start: float, count: int, total: int) -> torch.Tensor:
    """``count`` consecutive training indices from the relative position ``start`` in [0, 1)."""
    first = int(start * total)
    if not 0 <= start < 1 or count < 1 or first + count > total:
        raise ValueError(f"cannot delete {count} samples from position {start} of {total}")
    return torch.arange(first, first + count)


def run(*, train: int = 60000, block_size: int = 200, epochs: int = 2, lr: float = 0.2, decay: float = 0.9,
        momentum: float = 0.9, width: int = 8, counts: Sequence[int] = (1, 100, 1000),
        positions: Sequence[float] = (0.0, 0.5), epsilons: Sequence[float] = (0.1, 0.05), shards: int = 5,
        slices: int = 4, sisa: bool = True, sisa_lr: float = 4e-3, test_limit: int | None = None,
        seed: int = 0) -> dict[str, Any]:
    """Train once (blocks with checkpoints: SGD with ``momentum`` at ``lr · (1+t)^-decay``;
    the SISA ensemble: Adam at ``sisa_lr``), then unlearn each deletion; JSON-ready ``rows``."""
    for start in positions:
        for count in counts:
            deletion(start, count, train)  # fail before any training
    x, y = mnist_tensors("train", limit=train)
    x_test, y_test = mnist_tensors("test", limit=test_limit)
    config = StepConfig(epochs=epochs, lr=lr, decay=decay)

    def build() -> torch.nn.Module:
        return Normalized(stride_cnn(width, 64), [0.1307], [0.3081])  # standardised inputs: SGD learns faster

    blocks = DeepObliviate(build, x, y, block_size=block_size, config=config, momentum=momentum, seed=seed)
    ensemble = SISA(build, x, y, shards=shards, slices=slices, config=StepConfig(epochs=1, lr=sisa_lr, decay=0.0),
                    seed=seed) if sisa else None
    original = predictions(blocks.model(), x_test)
    rows: list[dict[str, Any]] = []
    for start in positions:
        for count in counts:
            deleted = deletion(start, count, train)
            naive, naive_work, naive_seconds = blocks.retrain(deleted)
            reference = predictions(naive, x_test)
            base = {"deleted": count, "position": start}
            rows.append({**base, "method": "naive retrain", "top1": evaluate(naive, x_test, y_test),
                         "consistency": 1.0, "speedup": 1.0, "work_speedup": 1.0, "seconds": naive_seconds})
            rows.append({**base, "method": "no unlearning", "top1": evaluate(blocks.model(), x_test, y_test),
                         "consistency": consistency(original, reference)})
            for eps in epsilons:
                u = blocks.unlearn(deleted, epsilon=eps)
                rows.append({**base, "method": f"DeepObliviate ε={eps:g}", "top1": evaluate(u.model, x_test, y_test),
                             "consistency": consistency(predictions(u.model, x_test), reference),
                             "speedup": naive_seconds / max(u.seconds, 1e-9), "work_speedup": naive_work / max(u.work, 1),
                             "blocks_retrained": u.blocks_retrained, "seconds": u.seconds,
                             "residuals": [round(r, 4) for r in u.residuals[:50]], "power_law": u.fit})
            if ensemble is not None:
                unlearned, update = ensemble.unlearn(deleted)
                votes = unlearned.predict(x_test)
                rows.append({**base, "method": f"SISA {shards}x{slices}", "top1": float((votes == y_test).float().mean()),
                             "consistency": consistency(votes, reference), "speedup": naive_seconds / max(update.seconds, 1e-9),
                             "work_speedup": naive_work / max(update.work, 1), "shards_retrained": update.shards,
                             "seconds": update.seconds})
    return {"config": {"train": train, "block_size": block_size, "blocks": len(blocks.blocks), "epochs": epochs,
                       "lr": lr, "decay": decay, "momentum": momentum, "sisa_lr": sisa_lr, "width": width,
                       "shards": shards, "slices": slices, "test": len(x_test), "seed": seed, "train_seconds": blocks.seconds,
                       "original_top1": evaluate(blocks.model(), x_test, y_test)}, "rows": rows}


def format_table(result: dict[str, Any]) -> str:
    """One line per (deletion, method): Top-1, consistency with naive retraining, speed-up (CPU time, work)."""
    lines = [f"{'deleted':>7} {'pos':>4} {'method':24} {'top1':>7} {'consist':>8} {'speedup':>8} {'work x':>7} {'blocks':>6}"]
    for r in result["rows"]:
        speed = f"{r['speedup']:8.1f}" if "speedup" in r else f"{'-':>8}"
        work = f"{r['work_speedup']:7.1f}" if "work_speedup" in r else f"{'-':>7}"
        lines.append(f"{r['deleted']:7d} {r['position']:4.2f} {r['method']:24} {r['top1']:7.4f} {r['consistency']:8.4f}"
                     f" {speed} {work} {r.get('blocks_retrained', '-'):>6}")
    c = result["config"]
    lines.append(f"{c['blocks']} blocks of {c['block_size']}; original model Top-1 {c['original_top1']:.4f},"
                 f" trained in {c['train_seconds']:.1f} s CPU")
    return "\n".join(lines)
