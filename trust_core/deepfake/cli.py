"""``apf lab deepfake``: face swaps on CelebA-10k and their detection (spatial, spectral, fused), as a table."""
from __future__ import annotations

import json

import typer

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
    threads: int = typer.Option(1, help="torch CPU threads."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
) -> None:
    """Make the data, train the detectors, print AUC on held-out identities before and after JPEG."""
    import torch

    from trust_core.deepfake import lab

    torch.set_num_threads(threads)
    try:
        result = lab.run(train=train, test=test, variants=variants, epochs=epochs, width=width, quality=quality,
                         seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2) if as_json else lab.format_table(result))
