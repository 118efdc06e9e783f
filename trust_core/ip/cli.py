"""``apf lab ip``: watermark verification and fingerprints of stolen, fine-tuned, pruned and distilled MNIST models."""
from __future__ import annotations

import json

import typer

app = typer.Typer(help="Model IP: trigger-set and weight watermarks, decision-vector fingerprints (MNIST).",
                  add_completion=False)


@app.command()
def run(
    train: int = typer.Option(20000, help="Owner's training images (MNIST train[:N])."),
    thief_data: int = typer.Option(5000, "--thief", help="Thief's labelled images (train[50000:])."),
    independents: int = typer.Option(10, help="Independently trained models (false positives, ROC negatives)."),
    independent_train: int = typer.Option(10000, help="Training images per independent model."),
    epochs: int = typer.Option(4),
    width: int = typer.Option(16, help="Stride-CNN width."),
    triggers: int = typer.Option(100, help="Trigger-set size (Adi et al.)."),
    bits: int = typer.Option(64, help="Signature length (Uchida et al.)."),
    strength: float = typer.Option(1.0, help="Signature regulariser weight λ."),
    pairs: int = typer.Option(1000, help="Fingerprint input pairs N."),
    test_limit: int = typer.Option(None, help="Evaluate on the first N test images (default all)."),
    seed: int = typer.Option(0),
    threads: int = typer.Option(1, help="torch CPU threads."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
) -> None:
    """Train the owner's watermarked model, the thief's copies and independent models; print the robustness table."""
    import torch

    from trust_core.ip.lab import format_table
    from trust_core.ip.lab import run as run_lab

    torch.set_num_threads(threads)
    try:
        result = run_lab(train=train, thief_data=thief_data, independents=independents,
                         independent_train=independent_train, epochs=epochs, width=width, triggers=triggers,
                         bits=bits, strength=strength, pairs=pairs, test_limit=test_limit, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2) if as_json else format_table(result))
