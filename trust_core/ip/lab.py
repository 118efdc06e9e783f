"""The IP lab on MNIST: an owner trains a model carrying both watermarks, a thief fine-tunes, prunes or distils it,
others train independent models of the same task; verification and fingerprints are measured on all of them.

Data: the owner trains on MNIST train[:train]; the thief holds train[50000:50000+thief]; each independent model
trains on its own random draw of ``independent_train`` images from train[train:50000] with its own seed. Test
accuracy is on the first ``test_limit`` test images; the fingerprint probes are built from test[5000:].
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from trust_core.data import mnist_tensors
from trust_core.defenses.models import stride_cnn
from trust_core.ip import thief
from trust_core.ip.fingerprint import InputPairs, copy_auc, distances
from trust_core.ip.watermark import Signature, TriggerSet, combined_loss
from trust_core.models.train_mnist import evaluate, fit
from trust_core.models.training import one_cycle, train_loop

#: The thief's derived copies: name -> (kind, how to derive it from the stolen model and the thief's data).
Derive = Callable[[nn.Module, torch.Tensor, torch.Tensor, Callable[[], nn.Module]], nn.Module]
COPIES: dict[str, tuple[str, Derive]] = {
    "stolen as is": ("copy", lambda m, x, y, build: m),
    "fine-tune 2 ep lr 5e-4": ("fine-tune", lambda m, x, y, build: thief.fine_tune(m, x, y)),
    "fine-tune 5 ep lr 1e-3": ("fine-tune", lambda m, x, y, build: thief.fine_tune(m, x, y, epochs=5, lr=1e-3)),
    "prune 30%": ("prune", lambda m, x, y, build: thief.prune(m, amount=0.3)),
    "prune 60%": ("prune", lambda m, x, y, build: thief.prune(m, amount=0.6)),
    "prune 80%": ("prune", lambda m, x, y, build: thief.prune(m, amount=0.8)),
    "prune 90%": ("degraded", lambda m, x, y, build: thief.prune(m, amount=0.9)),
    "prune 60% + fine-tune": ("prune", lambda m, x, y, build: thief.fine_tune(thief.prune(m, amount=0.6), x, y)),
    "distill T=4": ("distill", lambda m, x, y, build: thief.distill(m, x, build=build)),
}


def run(*, train: int = 20000, thief_data: int = 5000, independents: int = 10, independent_train: int = 10000,
        epochs: int = 4, width: int = 16, triggers: int = 100, bits: int = 64, strength: float = 1.0,
        pairs: int = 1000, sigma: float = 0.5, test_limit: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Train owner, copies and independents; returns a JSON-ready dict (``rows``, ``independent``, ``fingerprint``)."""
    if independents < 1 or not 0 < train <= 50000 or not 0 < independent_train <= 50000 - train:
        raise ValueError("need independents >= 1, 0 < train <= 50000 and 0 < independent_train <= 50000 - train")
    x_all, y_all = mnist_tensors("train")
    x_thief, y_thief = x_all[50000 : 50000 + thief_data], y_all[50000 : 50000 + thief_data]
    x_test, y_test = mnist_tensors("test", limit=test_limit)
    probes = InputPairs.noisy(mnist_tensors("test")[0][5000:], size=pairs, sigma=sigma, seed=seed)

    def build() -> nn.Module:
        return stride_cnn(width, 100)

    torch.manual_seed(seed)
    owner = build()
    trigger = TriggerSet.random(triggers, seed=seed)
    signature = Signature.random(owner, "2.weight", bits=bits, seed=seed)
    loss = combined_loss(trigger.loss(seed=seed), signature.loss(strength=strength))
    owner = train_loop(owner, x_all[:train], y_all[:train], loss, epochs=epochs, seed=seed, schedule=one_cycle)

    def row(name: str, kind: str, model: nn.Module) -> dict[str, Any]:
        t, s = trigger.verify(model), signature.verify(model)
        return {"model": name, "kind": kind, "accuracy": evaluate(model, x_test, y_test), "trigger_rate": t.rate,
                "trigger_verified": t.verified, "signature_rate": s.rate, "signature_verified": s.verified}

    copies = {name: derive(owner, x_thief, y_thief, build) for name, (_, derive) in COPIES.items()}
    rows = [row(name, COPIES[name][0], model) for name, model in copies.items()]
    pool = torch.randperm(50000 - train, generator=torch.Generator().manual_seed(seed + 1)) + train
    others = []
    for i in range(independents):
        pick = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed + 100 + i))[:independent_train]]
        torch.manual_seed(seed + 100 + i)
        others.append(fit(build(), x_all[pick], y_all[pick], epochs=epochs, seed=seed + 100 + i))
    independent = [row(f"independent {i}", "independent", m) for i, m in enumerate(others)]
    for r, d in zip(rows + independent, distances(owner, [*copies.values(), *others], probes)):
        r["fingerprint_distance"] = d
    stolen = [r["fingerprint_distance"] for r in rows if r["kind"] in ("fine-tune", "prune")]
    baseline = [r["fingerprint_distance"] for r in independent]
    hard = {kind: copy_auc([r["fingerprint_distance"] for r in rows if r["kind"] == kind], baseline)
            for kind in ("degraded", "distill")}
    return {
        "config": {"train": train, "thief": thief_data, "independents": independents,
                   "independent_train": independent_train, "epochs": epochs, "width": width, "triggers": triggers,
                   "bits": bits, "strength": strength, "pairs": pairs, "sigma": sigma, "test": len(x_test),
                   "seed": seed},
        "rows": rows,
        "independent": independent,
        "false_positive_rate": {"trigger": sum(r["trigger_verified"] for r in independent) / independents,
                                "signature": sum(r["signature_verified"] for r in independent) / independents},
        "fingerprint": {"auc_finetuned_pruned_vs_independent": copy_auc(stolen, baseline),
                        "auc_degraded_vs_independent": hard["degraded"],
                        "auc_distilled_vs_independent": hard["distill"]},
    }


def format_table(result: dict[str, Any]) -> str:
    """The robustness table (copies, then independents), the false-positive rates and the fingerprint AUCs."""
    lines = [f"{'model':24} {'acc':>7} {'trigger':>8} {'ok':>3} {'sig bits':>8} {'ok':>3} {'fp dist':>8}"]
    for r in result["rows"] + result["independent"]:
        lines.append(f"{r['model']:24} {r['accuracy']:7.4f} {r['trigger_rate']:8.2f} {'Y' if r['trigger_verified'] else 'n':>3}"
                     f" {r['signature_rate']:8.3f} {'Y' if r['signature_verified'] else 'n':>3} {r['fingerprint_distance']:8.3f}")
    fpr, fp = result["false_positive_rate"], result["fingerprint"]
    lines.append(f"false-positive rate on {len(result['independent'])} independent models: trigger set {fpr['trigger']:.2f},"
                 f" signature {fpr['signature']:.2f}")
    lines.append(f"fingerprint ROC AUC: fine-tuned/pruned vs independent {fp['auc_finetuned_pruned_vs_independent']:.3f},"
                 f" 90%-pruned (degraded) {fp['auc_degraded_vs_independent']:.3f},"
                 f" distilled {fp['auc_distilled_vs_independent']:.3f}")
    return "\n".join(lines)
