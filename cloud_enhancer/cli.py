"""``apf serve``: run the cloud enhancer service."""
from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(help="Run the cloud enhancer HTTP service (FastAPI).", invoke_without_command=True)


@app.callback()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8750, help="Port."),
    token_file: Path = typer.Option(None, help="File with one accepted bearer token per line (else $APF_SERVER_TOKEN)."),
    max_batch: int = typer.Option(32, help="Largest micro-batch."),
) -> None:
    """Serve POST /v1/filter (wire format in and out), GET /healthz, GET /readyz, docs at /docs."""
    import uvicorn

    from cloud_enhancer.app import create_app
    from cloud_enhancer.enhancer import Enhancer

    tokens = token_file.read_text().split() if token_file else [os.environ.get("APF_SERVER_TOKEN", "")]
    if not any(tokens):
        raise typer.BadParameter("give --token-file or set APF_SERVER_TOKEN: the service always authenticates")
    uvicorn.run(create_app(Enhancer.load, tokens=tokens, max_batch=max_batch), host=host, port=port, access_log=False)
