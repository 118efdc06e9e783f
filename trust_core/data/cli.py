"""``apf data``: where the data sets are, whether they are complete, and downloads."""
from __future__ import annotations

import typer

app = typer.Typer(help="Locate, verify and download the data sets.", no_args_is_help=True)


@app.command()
def where() -> None:
    """Print the data root and which data sets are usable."""
    from trust_core.data import CelebA, DataMissingError, LFW, data_root, load_att_faces, load_mnist

    typer.echo(f"data root: {data_root()}")
    checks = {
        "mnist": lambda: f"{len(load_mnist('train')[0])} train / {len(load_mnist('test')[0])} test",
        "lfw": lambda: f"{len(LFW().pairs())} pairs",
        "celeba10k": lambda: f"{len(CelebA().files)} images",
        "att_faces": lambda: f"{len(load_att_faces()[0])} images",
    }
    for name, check in checks.items():
        try:
            typer.echo(f"  {name:10s} ok   {check()}")
        except DataMissingError as exc:
            typer.echo(f"  {name:10s} MISSING  {str(exc).splitlines()[0]}")


@app.command()
def download(dataset: str = typer.Argument(..., help="mnist, lfw or att_faces"), mirror: str = typer.Option(None, help="base URL of a mirror")) -> None:
    """Download a data set from its official home into the data root."""
    from trust_core.data.download import DownloadError, download as do_download

    try:
        typer.echo(f"downloaded to {do_download(dataset, base_url=mirror)}")
    except (DownloadError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
