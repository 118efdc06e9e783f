"""What the ``apf lab`` commands with a ``run(**options)`` / ``format_table(result)`` module share: the ``--threads``
and ``--json`` options, and running the lab with its ``ValueError`` shown as a bad option."""
from __future__ import annotations

import importlib
import json
from typing import Any

import typer

THREADS = typer.Option(1, help="torch CPU threads.")
JSON = typer.Option(False, "--json", help="Print JSON instead of the table.")


def run_lab(module: str, *, threads: int, as_json: bool, **options: Any) -> None:
    """Import ``module`` (only now: ``apf --help`` stays fast), run ``module.run(**options)`` on ``threads`` torch
    threads and print its JSON or ``module.format_table`` of it."""
    import torch

    lab = importlib.import_module(module)
    torch.set_num_threads(threads)
    try:
        result = lab.run(**options)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2) if as_json else lab.format_table(result))
