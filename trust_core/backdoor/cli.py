"""``apf lab backdoor``: a backdoor attack against the backdoor defenses on MNIST, as a table."""
from __future__ import annotations

import json

import typer

app = typer.Typer(help="Backdoor attacks × defenses on MNIST (BadNets, Blended, label-consistent).", add_completion=False)


@app.command()
def run(
    attack: str = typer.Option("badnets", help="badnets | blended | label-consistent"),
    defense: list[str] = typer.Option(
        ["neural-cleanse", "activation-clustering", "spectral", "fine-pruning"], help="Repeat to pick defenses."),
    target: int = typer.Option(0, help="Target label."),
    rate: float = typer.Option(0.01, help="Poisoned share of the training set."),
    train_limit: int = typer.Option(None, help="Train on the first N MNIST train images (default 55,000)."),
    test_limit: int = typer.Option(None, help="Evaluate on the first N test images (default all 10,000)."),
    epochs: int = typer.Option(3),
    width: int = typer.Option(16, help="MnistCNN width."),
    nc_steps: int = typer.Option(150, help="Neural Cleanse optimisation steps per label."),
    seed: int = typer.Option(0),
    threads: int = typer.Option(1, help="torch CPU threads."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
) -> None:
    """Train a clean and a backdoored CNN, run each defense, print clean accuracy / attack success per model."""
    import torch

    from trust_core.backdoor.lab import format_table
    from trust_core.backdoor.lab import run as run_lab

    torch.set_num_threads(threads)
    try:
        result = run_lab(attack=attack, defenses=defense, target=target, rate=rate, train_limit=train_limit,
                         test_limit=test_limit, epochs=epochs, width=width, nc_steps=nc_steps, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2) if as_json else format_table(result))
