"""``apf train mnist``."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("mnist")
@click.option("--epochs", default=3, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Where to save (default: the shipped weights).")
def train_mnist(epochs: int, seed: int, out: Path | None) -> None:
    """Train the MNIST CNN and record it in the weights manifest."""
    import torch

    from trust_core.models.registry import manifest_path, record
    from trust_core.models.train_mnist import train

    torch.set_num_threads(max(1, torch.get_num_threads()))
    target = out or manifest_path("trust_core").parent / "mnist_cnn.pt"
    metrics = train(target, epochs=epochs, seed=seed)
    click.echo(f"saved {target}: {metrics}")
    if out is None:
        record(
            "trust_core", "mnist_cnn", target,
            command=f"apf train mnist --epochs {epochs} --seed {seed}",
            data="MNIST train[:55000] (train), train[55000:] (validation); test reported only",
            metrics=metrics,
        )
