"""``apf lab defenses``: train the defense models, and measure defenses × attacks and the new evasion attacks."""
from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Defenses (PGD-AT, TRADES, distillation, input transforms, feature squeezing, IBP) and their breakers.",
                  add_completion=False, no_args_is_help=True)


def _emit(rows: dict, out: Path | None) -> None:
    for key, value in rows.items():
        typer.echo(f"{key:<52} {value:.4f}" if isinstance(value, float) else f"{key:<52} {value}")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2) + "\n")
        typer.echo(f"wrote {out}")


@app.command()
def train(
    name: str = typer.Argument(..., help="defenses_pgd_at | defenses_trades | defenses_ibp | defenses_distilled | atn_mnist_cnn"),
    epochs: int = typer.Option(3, help="Passes over the training slice."),
    limit: int = typer.Option(0, help="Train on this many images (0: all 55,000)."),
    offset: int = typer.Option(0, help="First training image."),
    steps: int = typer.Option(7, help="PGD steps (of 0.05) inside adversarial training."),
    resume: bool = typer.Option(False, help="Continue from the shipped weights."),
) -> None:
    """Train one model and record it in trust_core/weights/manifest.json."""
    from trust_core.defenses import weights

    if name == weights.ATN:
        typer.echo(weights.train_atn_weights(epochs=epochs, limit=limit or 10000))
    else:
        typer.echo(weights.train(name, epochs=epochs, limit=limit or None, offset=offset, steps=steps, resume=resume))


@app.command()
def evaluate(n: int = typer.Option(500, help="MNIST test images."), out: Path = typer.Option(None, help="JSON output.")) -> None:
    """Clean / PGD-40 accuracy, distillation vs FGSM and C&W, transforms vs BPDA, feature squeezing, IBP certificates."""
    from functools import partial

    import torch

    from trust_core.attacks import BPDA, FGSM, PGD, CarliniWagnerL2
    from trust_core.data import mnist_tensors
    from trust_core.defenses.adversarial import robust_accuracy
    from trust_core.defenses.ibp import certify
    from trust_core.defenses.squeeze import FeatureSqueezing, roc_auc
    from trust_core.defenses.transforms import Preprocessed, bit_depth, gaussian_smooth, jpeg, median_smooth
    from trust_core.defenses.weights import load
    from trust_core.models.mnist import load_mnist_cnn
    from trust_core.models.train_mnist import evaluate as accuracy

    x, y = mnist_tensors("test", limit=n)
    clean = load_mnist_cnn()
    rows: dict = {"test images": n}

    def success(model, adv, labels=y):
        with torch.no_grad():
            return (model(adv).argmax(1) != labels).float().mean().item()

    for name, model in [("mnist_cnn", clean), ("defenses_pgd_at", load("defenses_pgd_at")), ("defenses_trades", load("defenses_trades"))]:
        rows[f"{name}: clean accuracy"] = accuracy(model, x, y)
        rows[f"{name}: PGD-40 accuracy (eps 0.3, step 0.01)"] = robust_accuracy(model, x, y, eps=0.3, alpha=0.01, steps=40)
    distilled = load("defenses_distilled")
    rows["distilled T=100: clean accuracy"] = accuracy(distilled, x, y)
    rows["distilled: FGSM success (eps 0.3)"] = success(distilled, FGSM(distilled, eps=0.3)(x, y))
    rows["mnist_cnn: FGSM success (eps 0.3)"] = success(clean, FGSM(clean, eps=0.3)(x, y))
    k = min(n, 100)
    rows[f"distilled: C&W L2 success (first {k})"] = success(distilled, CarliniWagnerL2(distilled, c=5.0, steps=50, lr=0.05, search_steps=3)(x[:k], y[:k]), y[:k])
    transferred = PGD(clean, eps=0.2, alpha=0.02, steps=20, seed=0)(x, y)
    rows["mnist_cnn: PGD-20 success (eps 0.2)"] = success(clean, transferred)
    transforms = {"median 3x3": partial(median_smooth, size=3), "gaussian sigma 1": partial(gaussian_smooth, sigma=1.0),
                  "JPEG q20": partial(jpeg, quality=20), "bit depth 1": partial(bit_depth, bits=1)}
    for label, transform in transforms.items():
        defended = Preprocessed(clean, transform)
        rows[f"{label}: transferred PGD success"] = success(defended, transferred)
        rows[f"{label}: BPDA PGD success"] = success(defended, PGD(BPDA(clean, transform), eps=0.2, alpha=0.02, steps=20, seed=0)(x, y))
        if label.startswith(("median", "gaussian")):  # differentiable in torch: the exact gradient is the adaptive attack
            rows[f"{label}: exact-gradient PGD success"] = success(defended, PGD(defended, eps=0.2, alpha=0.02, steps=20, seed=0)(x, y))
    detector = FeatureSqueezing(clean)
    adv = PGD(clean, eps=0.3, alpha=0.03, steps=20, seed=0)(x, y)
    rows["feature squeezing ROC AUC (PGD eps 0.3)"] = roc_auc(detector.score(x), detector.score(adv))
    adv = PGD(clean, eps=0.1, alpha=0.02, steps=20, seed=0)(x, y)
    rows["feature squeezing ROC AUC (PGD eps 0.1)"] = roc_auc(detector.score(x), detector.score(adv))
    ibp = load("defenses_ibp")
    certified = certify(ibp, x, y, eps=0.1)
    rows["IBP: clean accuracy"] = accuracy(ibp, x, y)
    rows["IBP: certified accuracy (eps 0.1)"] = certified.float().mean().item()
    rows["IBP: PGD-40 accuracy (eps 0.1)"] = robust_accuracy(ibp, x, y, eps=0.1, alpha=0.01, steps=40)
    broken = PGD(ibp, eps=0.1, alpha=0.01, steps=40, seed=0)(x[certified], y[certified])
    rows["IBP: certified points broken by PGD-40"] = int(success(ibp, broken, y[certified]) * int(certified.sum()) + 0.5)
    _emit(rows, out)


@app.command()
def evasion(n: int = typer.Option(256, help="MNIST test images."), out: Path = typer.Option(None, help="JSON output.")) -> None:
    """C&W L2, DeepFool, UAP, EOT, ATN and Papernot's substitute transfer against the shipped MNIST CNN."""
    import time

    import torch

    from trust_core.attacks import EOT, FGSM, PGD, CarliniWagnerL2, DeepFool, UniversalPerturbation, fooling_rate, train_substitute
    from trust_core.data import mnist_tensors
    from trust_core.defenses.weights import load_atn
    from trust_core.extraction.substitute import LeNet5
    from trust_core.models.mnist import load_mnist_cnn

    model = load_mnist_cnn()
    x, y = mnist_tensors("test", limit=n + 150)
    seeds, (x, y) = x[:150], (x[150:], y[150:])
    rows: dict = {"test images": n}

    def fooled(adv, labels=y):
        with torch.no_grad():
            return (model(adv).argmax(1) != labels).float().mean().item()

    k = min(n, 64)
    adv = CarliniWagnerL2(model, c=5.0, steps=50, lr=0.05, search_steps=3)(x[:k], y[:k])
    rows[f"C&W L2: success / mean L2 (first {k})"] = f"{fooled(adv, y[:k]):.4f} / {(adv - x[:k]).flatten(1).norm(dim=1).mean():.3f}"
    adv = DeepFool(model)(x, y)
    rows["DeepFool: success / mean L2"] = f"{fooled(adv):.4f} / {(adv - x).flatten(1).norm(dim=1).mean():.3f}"
    train_x = mnist_tensors("train", limit=500)[0]
    v = UniversalPerturbation(model, eps=0.3, epochs=2, deepfool_steps=5, candidates=3, overshoot=0.2).fit(train_x)
    rows["UAP L-inf 0.3 (fit on train[:500]): held-out fooling rate"] = fooling_rate(model, x, v)

    def shift(z):
        dx, dy = (int(s) for s in torch.randint(-2, 3, (2,)))
        return torch.roll(z, shifts=(dx, dy), dims=(2, 3))

    def under_shifts(adv):
        torch.manual_seed(1)
        return sum(fooled(shift(adv)) for _ in range(8)) / 8

    torch.manual_seed(0)
    rows["PGD eps 0.1: success under random shifts"] = under_shifts(PGD(model, eps=0.1, alpha=0.02, steps=15, seed=0)(x, y))
    rows["EOT-PGD eps 0.1: success under random shifts"] = under_shifts(
        EOT(model, transform=shift, samples=6, eps=0.1, alpha=0.02, steps=15, seed=0)(x, y))
    atn = load_atn()
    start = time.perf_counter()
    with torch.no_grad():
        adv = atn(x)
    atn_s = time.perf_counter() - start
    start = time.perf_counter()
    pgd = PGD(model, eps=0.2, alpha=0.01, steps=40, seed=0)(x, y)
    pgd_s = time.perf_counter() - start
    rows["ATN eps 0.2: success"] = fooled(adv)
    rows["PGD-40 eps 0.2: success"] = fooled(pgd)
    rows["ATN vs PGD-40 time (s) / speed-up"] = f"{atn_s:.4f} vs {pgd_s:.2f} / {pgd_s / atn_s:.0f}x"
    result = train_substitute(model, seeds, LeNet5, rounds=6, epochs=10)
    rows["substitute (150 seeds, 6 rounds): oracle queries"] = result.queries
    rows["substitute FGSM eps 0.3: transfer success"] = fooled(FGSM(result.substitute, eps=0.3)(x, y))
    _emit(rows, out)
