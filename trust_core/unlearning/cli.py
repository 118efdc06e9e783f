"""``apf lab unlearning``: SISA and DeepObliviate against naive retraining on MNIST, as a table."""
from __future__ import annotations

import typer

from trust_core.lab_cli import JSON, THREADS, run_lab

app = typer.Typer(help="Machine unlearning on MNIST: SISA and DeepObliviate vs naive retraining.", add_completion=False)


@app.command()
def run(
    train: int = typer.Option(60000, help="Training images (MNIST train[:N], in their file order)."),
    block_size: int = typer.Option(200, help="DeepObliviate block size."),
    epochs: int = typer.Option(2, help="Epochs per block."),
    lr: float = typer.Option(0.2, help="DeepObliviate's SGD rate of the first block (block t: lr·(1+t)^-decay)."),
    decay: float = typer.Option(0.9),
    momentum: float = typer.Option(0.9, help="DeepObliviate's SGD momentum (its velocity carried across blocks)."),
    width: int = typer.Option(8, help="Stride-CNN width."),
    deleted: list[int] = typer.Option([1, 100, 1000], help="Deletion sizes (repeat)."),
    position: list[float] = typer.Option([0.0, 0.5], help="Relative positions of the deleted run (repeat)."),
    epsilon: list[float] = typer.Option([0.1, 0.05], help="Residual-memory thresholds ε (repeat)."),
    shards: int = typer.Option(5, help="SISA shards."),
    slices: int = typer.Option(4, help="SISA slices per shard."),
    sisa: bool = typer.Option(True, help="Also train and unlearn the SISA ensemble."),
    sisa_lr: float = typer.Option(4e-3, help="SISA's Adam rate."),
    test_limit: int = typer.Option(None, help="Evaluate on the first N test images (default all)."),
    seed: int = typer.Option(0),
    threads: int = THREADS,
    as_json: bool = JSON,
) -> None:
    """Train once, unlearn each deletion with each method, print Top-1 / consistency / speed-up."""
    run_lab("trust_core.unlearning.lab", threads=threads, as_json=as_json, train=train, block_size=block_size,
            epochs=epochs, lr=lr, decay=decay, momentum=momentum, width=width, counts=deleted,
            positions=position, epsilons=epsilon, shards=shards, slices=slices, sisa=sisa, sisa_lr=sisa_lr,
            test_limit=test_limit, seed=seed)
