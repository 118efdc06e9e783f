"""``apf lab robustness``: corruption errors and mCE of the clean vs the adversarially trained MNIST models."""
from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Common-corruption robustness: corruption errors and mCE (Hendrycks & Dietterich 2019).",
                  add_completion=False, no_args_is_help=True)


@app.command()
def mce(n: int = typer.Option(500, help="MNIST test images."), seed: int = typer.Option(0),
        out: Path = typer.Option(None, help="JSON output.")) -> None:
    """Error per corruption (mean over severities 1-5), CE and mCE relative to the clean mnist_cnn baseline."""
    from trust_core.data import mnist_tensors
    from trust_core.defenses.weights import load
    from trust_core.models.mnist import load_mnist_cnn
    from trust_core.robustness.corruptions import corruption_names
    from trust_core.robustness.metrics import corruption_error, corruption_errors
    from trust_core.robustness.metrics import mce as mean_ce

    x, y = mnist_tensors("test", limit=n)
    models = {"mnist_cnn": load_mnist_cnn(), "defenses_pgd_at": load("defenses_pgd_at"), "defenses_trades": load("defenses_trades")}
    errors = {name: corruption_errors(model, x, y, seed=seed) for name, model in models.items()}
    base = errors["mnist_cnn"]
    typer.echo(f"{'corruption':<16}{'family':<9}" + "".join(f"{name + ' err/CE':>26}" for name in models))
    for corruption, family in corruption_names().items():
        cells = "".join(f"{e.mean(corruption):>18.4f}/{corruption_error(e, base, corruption):>7.1f}" for e in errors.values())
        typer.echo(f"{corruption:<16}{family:<9}{cells}")
    typer.echo(f"{'clean error':<25}" + "".join(f"{e.clean:>26.4f}" for e in errors.values()))
    typer.echo(f"{'mCE':<25}" + "".join(f"{mean_ce(e, base):>26.1f}" for e in errors.values()))
    if out:
        report = {name: {"clean_error": e.clean, "errors": e.errors, "mCE": mean_ce(e, base)} for name, e in errors.items()}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"baseline": "mnist_cnn", "test_images": n, "models": report}, indent=2) + "\n")
        typer.echo(f"wrote {out}")
