"""``apf lab unlearning``: SISA and DeepObliviate against naive retraining on MNIST, as a table."""
from __future__ import annotations

import json

import typer

app = typer.Typer(help="Machine unlearning on MNIST: SISA and DeepObliviate vs naive retraining.", add_completion=False)


@app.command()
def run(
    train: int = typer.Option(60000, help="Training images (MNIST train[:N], in their file order)."),
    block_size: int = typer.Option(200, help="DeepObliviate block size."),
    epochs: int = typer.Option(2, help="Epochs per block."),
    lr: float = typer.Option(4e-3, help="Adam rate of the first block (decays as (1+t)^-decay)."),
    decay: float = typer.Option(0.5),
    width: int = typer.Option(8, help="Stride-CNN width."),
    deleted: list[int] = typer.Option([1, 100, 1000], help="Deletion sizes (repeat)."),
    position: list[float] = typer.Option([0.0, 0.5], help="Relative positions of the deleted run (repeat)."),
    epsilon: list[float] = typer.Option([0.1, 0.05], help="Residual-memory thresholds ε (repeat)."),
    shards: int = typer.Option(5, help="SISA shards."),
    slices: int = typer.Option(4, help="SISA slices per shard."),
    sisa: bool = typer.Option(True, help="Also train and unlearn the SISA ensemble."),
    test_limit: int = typer.Option(None, help="Evaluate on the first N test images (default all)."),
    seed: int = typer.Option(0),
    threads: int = typer.Option(1, help="torch CPU threads."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
) -> None:
    """Train once, unlearn each deletion with each method, print Top-1 / consistency / speed-up."""
    import torch

    from trust_core.unlearning import lab

    torch.set_num_threads(threads)
    try:
        result = lab.run(train=train, block_size=block_size, epochs=epochs, lr=lr, decay=decay, width=width,
                         counts=deleted, positions=position, epsilons=epsilon, shards=shards, slices=slices,
                         sisa=sisa, test_limit=test_limit, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2) if as_json else lab.format_table(result))
