"""``apf lab deepfake``: face swaps on CelebA-10k and their detection (spatial, spectral, fused), as a table."""
from __future__ import annotations

import typer

from trust_core.lab_cli import JSON, THREADS, run_lab

app = typer.Typer(help="Deepfakes: make face swaps on CelebA-10k and detect them, before and after JPEG.",
                  add_completion=False)


@app.command()
def run(
    train: int = typer.Option(2000, help="Real training images (as many swaps are added)."),
    test: int = typer.Option(600, help="Real test images of held-out identities (as many swaps are added)."),
    variants: bool = typer.Option(True, help="Random JPEG re-compression / resizing of every image."),
    epochs: int = typer.Option(8, help="CNN epochs."),
    width: int = typer.Option(8, help="CNN width."),
    quality: int = typer.Option(75, help="JPEG quality of the robustness test."),
    seed: int = typer.Option(0),
    threads: int = THREADS,
    as_json: bool = JSON,
) -> None:
    """Make the data, train the detectors, print AUC on held-out identities before and after JPEG."""
    run_lab("trust_core.deepfake.lab", threads=threads, as_json=as_json, train=train, test=test, variants=variants,
            epochs=epochs, width=width, quality=quality, seed=seed)
