"""``apf lab federated``: FedAvg and robust aggregation on Flower strategies, simulated in-process on MNIST."""
from __future__ import annotations

import typer

app = typer.Typer(help="Federated learning: FedAvg (IID / non-IID), malicious clients, Krum / median / trimmed mean.",
                  no_args_is_help=True)
JSON = typer.Option(False, "--json", help="print JSON")


@app.command()
def fedavg(clients: int = typer.Option(10), rounds: int = typer.Option(5),
           train_limit: int = typer.Option(0, help="0 = all 60,000 train images"), json_out: bool = JSON) -> None:
    """FedAvg accuracy per round on IID and non-IID (2 label shards per client) splits."""
    from trust_core.extraction.report import emit
    from trust_core.federated.experiment import fedavg_table

    emit("fedavg", fedavg_table(clients=clients, rounds=rounds, train_limit=train_limit or None), as_json=json_out)


@app.command()
def robust(malicious: int = typer.Option(2), clients: int = typer.Option(10), rounds: int = typer.Option(3),
           boost: float = typer.Option(10.0), train_limit: int = typer.Option(10_000, help="0 = all"),
           json_out: bool = JSON) -> None:
    """FedAvg vs Krum / median / trimmed mean under label-flipping and boosted malicious clients."""
    from trust_core.extraction.report import emit
    from trust_core.federated.experiment import robustness_table

    emit("federated robustness", robustness_table(malicious=malicious, clients=clients, rounds=rounds, boost=boost,
                                                  train_limit=train_limit or None), as_json=json_out)
