"""``apf serve``: run the cloud enhancer service, in one process or scaled out on Ray Serve."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from cloud_enhancer.enhancer import Enhancer

app = typer.Typer(help="Run the cloud enhancer HTTP service (FastAPI).", invoke_without_command=True)


def load_enhancer(weights: Path | None = None) -> Enhancer:
    """The enhancer over an APFFilter state dict file, or the shipped weights when ``weights`` is None."""
    import torch

    from cloud_enhancer.enhancer import Enhancer
    from cloud_enhancer.model import APFFilter

    if weights is None:
        return Enhancer.load()
    filt = APFFilter()
    filt.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return Enhancer(filt, device="cuda" if torch.cuda.is_available() else "cpu")


@app.callback()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8750, help="Port (0: any free port, printed at start-up; not with --ray)."),
    token_file: Path = typer.Option(None, help="File with one accepted bearer token per line "
                                    "(else $APF_SERVER_TOKEN)."),
    max_batch: int = typer.Option(32, help="Largest micro-batch."),
    weights: Path = typer.Option(None, exists=True, dir_okay=False,
                                 help="An APFFilter state dict (default: the shipped weights)."),
    ray: bool = typer.Option(False, "--ray", help="Scale out on Ray Serve (needs the 'serve' extra); "
                             "$RAY_ADDRESS joins a running cluster."),
    replicas: int = typer.Option(2, min=1, help="Ray Serve replicas, each with its own micro-batcher."),
    replica_cpus: float = typer.Option(1.0, min=0.1, help="CPUs reserved per Ray replica (also its torch threads)."),
) -> None:
    """Serve POST /v1/filter (wire format in and out), GET /healthz, GET /readyz, docs at /docs."""
    tokens = token_file.read_text().split() if token_file else [os.environ.get("APF_SERVER_TOKEN", "")]
    if not any(tokens):
        raise typer.BadParameter("give --token-file or set APF_SERVER_TOKEN: the service always authenticates")
    factory = functools.partial(load_enhancer, weights)
    if ray:
        if port == 0:
            raise typer.BadParameter("--ray needs a fixed --port (Serve's proxy does not report an ephemeral one)")
        from cloud_enhancer.ray_deployment import deployment, start

        start(deployment(factory, tokens=tokens, replicas=replicas, replica_cpus=replica_cpus, max_batch=max_batch),
              host=host, port=port, blocking=True)
        return
    import uvicorn

    from cloud_enhancer.app import create_app

    uvicorn.run(create_app(factory, tokens=tokens, max_batch=max_batch), host=host, port=port, access_log=False)
