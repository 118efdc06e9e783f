"""Train, record and load the defense experiments' small MNIST models (``apf lab defenses train``).

Data: MNIST train[offset:offset+limit] (within train[:55000]) for training, train[55000:56000] for validation;
test[:1000] figures are reported, never used for selection. ``--resume`` continues from the shipped weights
on a further slice; the manifest keeps the whole chain of commands and slices.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn

from trust_core.defenses.models import stride_cnn

#: name -> description (architecture: :func:`build`)
MODELS = {
    "defenses_pgd_at": "PGD-AT (Madry) stride CNN, width 32",
    "defenses_trades": "TRADES (Zhang, beta 6) stride CNN, width 32",
    "defenses_ibp": "IBP-trained (Gowal) stride CNN, width 16",
    "defenses_distilled": "defensively distilled (T=100) stride CNN, width 16 (the student)",
}
ATN = "atn_mnist_cnn"
_WIDTH = {"defenses_pgd_at": 32, "defenses_trades": 32, "defenses_ibp": 16, "defenses_distilled": 16}


def build(name: str) -> nn.Sequential:
    if name not in MODELS:
        raise ValueError(f"unknown defense model {name!r}; known: {', '.join(MODELS)}")
    return stride_cnn(_WIDTH[name], 128 if _WIDTH[name] == 32 else 100)


def load(name: str) -> nn.Sequential:
    """Shipped weights of ``name`` (see :data:`MODELS`), eval mode."""
    from trust_core.models.registry import weights_path

    model = build(name)
    model.load_state_dict(torch.load(weights_path(name), map_location="cpu", weights_only=True))
    return model.eval()


def _entry(name: str):
    from trust_core.models.registry import entries

    return entries().get(name)


def load_atn() -> nn.Module:
    """The shipped P-ATN (eps 0.2, untargeted) trained against the shipped ``mnist_cnn``."""
    from trust_core.attacks.atn import PerturbationATN
    from trust_core.models.registry import weights_path

    atn = PerturbationATN(eps=0.2)
    atn.load_state_dict(torch.load(weights_path(ATN), map_location="cpu", weights_only=True))
    return atn.eval()


def train_atn_weights(*, epochs: int = 4, limit: int = 10000, seed: int = 0) -> dict:
    """Train the P-ATN against ``mnist_cnn`` on train[:limit]; report its success on train[55000:56000] and test[:1000]."""
    from trust_core.attacks.atn import PerturbationATN, train_atn
    from trust_core.data import mnist_tensors
    from trust_core.models.mnist import load_mnist_cnn
    from trust_core.models.registry import record

    torch.manual_seed(seed)
    target = load_mnist_cnn()
    x, y = mnist_tensors("train")
    start = time.perf_counter()
    atn = train_atn(PerturbationATN(eps=0.2), target, x[:limit], y[:limit], epochs=epochs, seed=seed)
    seconds = time.perf_counter() - start
    x_te, y_te = mnist_tensors("test", limit=1000)

    def success(images: torch.Tensor, labels: torch.Tensor) -> float:
        with torch.no_grad():
            correct = target(images).argmax(1) == labels
            return (target(atn(images)).argmax(1) != labels)[correct].float().mean().item()

    metrics = {"train_seconds": round(seconds, 1), "val_success": round(success(x[55000:56000], y[55000:56000]), 4),
               "test_success_1000": round(success(x_te, y_te), 4)}
    path = Path(__file__).resolve().parents[1] / "weights" / f"{ATN}.pt"
    torch.save(atn.state_dict(), path)
    record("trust_core", ATN, path, command=f"apf lab defenses train {ATN} --epochs {epochs} --limit {limit}",
           data=f"MNIST train[:{limit}] (train), train[55000:56000] (validation), test[:1000] reported",
           metrics=metrics, notes="untargeted P-ATN (Baluja & Fischer), L-inf 0.2, against mnist_cnn")
    return metrics


def train(name: str, *, epochs: int, limit: int | None = None, steps: int = 7, seed: int = 0, resume: bool = False,
          offset: int = 0) -> dict:
    """Train ``name`` on train[offset:offset+limit] (from its shipped weights if ``resume``), save it in
    ``trust_core/weights/`` and record it with its validation/test metrics."""
    from trust_core.data import mnist_tensors
    from trust_core.defenses.adversarial import adversarial_fit, robust_accuracy
    from trust_core.defenses.distillation import distill
    from trust_core.defenses.ibp import certify, ibp_fit
    from trust_core.models.registry import record
    from trust_core.models.train_mnist import evaluate

    torch.manual_seed(seed)
    x, y = mnist_tensors("train")
    x_val, y_val = x[55000:56000], y[55000:56000]
    end = min(55000, offset + limit) if limit else 55000
    x_tr, y_tr = x[offset:end], y[offset:end]
    initial = load(name) if resume else build(name)
    previous = _entry(name) if resume else None
    x_te, y_te = mnist_tensors("test", limit=1000)
    start = time.perf_counter()
    if name == "defenses_ibp":
        model = ibp_fit(initial, x_tr, y_tr, eps=0.2, epochs=epochs, seed=seed)
    elif name == "defenses_distilled":
        _, model = distill(lambda: build(name), x_tr, y_tr, temperature=100.0, epochs=epochs, seed=seed)
    else:
        model = adversarial_fit(initial, x_tr, y_tr, method="trades" if name == "defenses_trades" else "pgd",
                                eps=0.3, alpha=0.05, steps=steps, epochs=epochs, seed=seed,
                                warmup=0.0 if resume else 0.2)
    seconds = time.perf_counter() - start
    metrics: dict = {"train_seconds": round(seconds, 1), "val_accuracy": round(evaluate(model, x_val, y_val), 4),
                     "test_accuracy_1000": round(evaluate(model, x_te, y_te), 4)}
    if name == "defenses_ibp":
        metrics["val_certified_eps0.1"] = round(certify(model, x_val, y_val, eps=0.1).float().mean().item(), 4)
        metrics["test_certified_eps0.1_1000"] = round(certify(model, x_te, y_te, eps=0.1).float().mean().item(), 4)
    if name in ("defenses_pgd_at", "defenses_trades"):
        metrics["val_pgd40_eps0.3"] = round(robust_accuracy(model, x_val, y_val, eps=0.3, steps=40), 4)
        metrics["test_pgd40_eps0.3_1000"] = round(robust_accuracy(model, x_te, y_te, eps=0.3, steps=40), 4)
    path = Path(__file__).resolve().parents[1] / "weights" / f"{name}.pt"
    torch.save(model.state_dict(), path)
    inner = f", {steps} PGD steps of 0.05 in training" if name in ("defenses_pgd_at", "defenses_trades") else ""
    command = f"apf lab defenses train {name} --epochs {epochs}" + (f" --limit {limit}" if limit else "") \
        + (f" --offset {offset}" if offset else "") + (f" --steps {steps}" if inner else "") + (" --resume" if resume else "")
    data = f"MNIST train[{offset}:{end}] (train), train[55000:56000] (validation), test[:1000] reported"
    record("trust_core", name, path, command=f"{previous.command} && {command}" if previous else command,
           data=f"{previous.data}; then {data}" if previous else data,
           metrics=metrics, notes=MODELS[name] + inner)
    return metrics
