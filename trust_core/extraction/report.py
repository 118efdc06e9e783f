"""Print experiment results as an aligned table or JSON (shared by the ``apf lab`` extraction/privacy/federated
commands)."""
from __future__ import annotations

import json
from typing import Any

import typer


def emit(title: str, result: Any, *, as_json: bool) -> None:
    """``result`` is a list of flat dicts (a table) or a dict (key: value lines, nested tables allowed)."""
    if as_json:
        typer.echo(json.dumps({title: result}, indent=2))
        return
    typer.echo(f"== {title}")
    if isinstance(result, dict):
        for key, value in result.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                typer.echo(f"{key}:")
                _table(value)
            else:
                typer.echo(f"{key}: {value}")
    else:
        _table(result)


def _table(rows: list[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    widths = {c: max(len(c), *(len(str(row.get(c, ""))) for row in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        typer.echo("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))
