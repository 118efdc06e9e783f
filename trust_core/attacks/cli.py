"""``apf lab attacks``: accuracy of a shipped classifier under each gradient attack, on the full MNIST test set."""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

app = typer.Typer(help="Robust accuracy under the gradient attacks (FGSM, I-FGSM, PGD, MI-FGSM, DI²-FGSM).")


@app.command()
def robust(
    model: str = typer.Option("mnist_cnn", help="Shipped MNIST weights (see the manifest)."),
    eps: float = typer.Option(0.3, help="L∞ budget."),
    limit: int = typer.Option(None, help="First N test images (default: all 10,000)."),
    batch: int = typer.Option(500),
    json_out: Path = typer.Option(None, "--json", help="Write the table as JSON."),
) -> None:
    """Clean accuracy and accuracy under FGSM, I-FGSM-10, PGD-40 (step 0.01, random start), MI-FGSM-10, DI²-FGSM-10."""
    import torch

    from trust_core.attacks import DI2FGSM, FGSM, IFGSM, MIFGSM, PGD
    from trust_core.data import mnist_tensors
    from trust_core.models.mnist import load_mnist_cnn

    net = load_mnist_cnn(model)
    x, y = mnist_tensors("test", limit=limit)
    attacks = {
        "clean": None,
        "FGSM": FGSM(net, eps=eps),
        "I-FGSM (10 x eps/10)": IFGSM(net, eps=eps, steps=10),
        "PGD (40 x 0.01)": PGD(net, eps=eps, alpha=0.01, steps=40, seed=0),
        "MI-FGSM (10, mu=1)": MIFGSM(net, eps=eps, steps=10),
        "DI2-FGSM (10, p=0.5)": DI2FGSM(net, eps=eps, steps=10, seed=0),
    }
    rows = {}
    for name, attack in attacks.items():
        start, correct = time.perf_counter(), 0
        for i in range(0, len(x), batch):
            xb, yb = x[i : i + batch], y[i : i + batch]
            adv = xb if attack is None else attack(xb, yb)
            with torch.no_grad():
                correct += (net(adv).argmax(1) == yb).sum().item()
        rows[name] = {"accuracy": correct / len(x), "seconds": round(time.perf_counter() - start, 1)}
        typer.echo(f"{name:22s} {100 * rows[name]['accuracy']:6.2f}%   ({rows[name]['seconds']} s)")
    if json_out:
        json_out.write_text(json.dumps({"model": model, "eps": eps, "images": len(x), "rows": rows}, indent=2))
