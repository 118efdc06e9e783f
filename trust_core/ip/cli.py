"""``apf lab ip``: watermark verification and fingerprints of stolen, fine-tuned, pruned and distilled MNIST models."""
from __future__ import annotations

import typer

from trust_core.lab_cli import JSON, THREADS, run_lab

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
    threads: int = THREADS,
    as_json: bool = JSON,
) -> None:
    """Train the owner's watermarked model, the thief's copies and independent models; print the robustness table."""
    run_lab("trust_core.ip.lab", threads=threads, as_json=as_json, train=train, thief_data=thief_data,
            independents=independents, independent_train=independent_train, epochs=epochs, width=width,
            triggers=triggers, bits=bits, strength=strength, pairs=pairs, test_limit=test_limit, seed=seed)
