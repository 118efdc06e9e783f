"""``apf lab backdoor``: a backdoor attack against the backdoor defenses on MNIST, as a table."""
from __future__ import annotations

import typer

from trust_core.lab_cli import JSON, THREADS, run_lab

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
    nc_steps: int = typer.Option(300, help="Neural Cleanse optimisation steps per label."),
    seed: int = typer.Option(0),
    threads: int = THREADS,
    as_json: bool = JSON,
) -> None:
    """Train a clean and a backdoored CNN, run each defense, print clean accuracy / attack success per model."""
    run_lab("trust_core.backdoor.lab", threads=threads, as_json=as_json, attack=attack, defenses=defense, target=target,
            rate=rate, train_limit=train_limit, test_limit=test_limit, epochs=epochs, width=width, nc_steps=nc_steps,
            seed=seed)


@app.command()
def faces(
    target: int = typer.Option(0, help="Target identity (0..39)."),
    rate: float = typer.Option(0.1, help="Poisoned share of the 280 training faces."),
    trigger: int = typer.Option(6, help="Side of the white square trigger, in pixels of the 56x46 faces."),
    epochs: int = typer.Option(40),
    nc_steps: int = typer.Option(100, help="Neural Cleanse optimisation steps per label."),
    seed: int = typer.Option(0),
    threads: int = THREADS,
    as_json: bool = JSON,
) -> None:
    """The face case: BadNets on an AT&T 40-person CNN against Neural Cleanse, fine-pruning and data inspection."""
    run_lab("trust_core.backdoor.faces", threads=threads, as_json=as_json, target=target, rate=rate, trigger=trigger,
            epochs=epochs, nc_steps=nc_steps, seed=seed)
