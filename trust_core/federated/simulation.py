"""One-machine federated simulation driven by Flower strategies (Beutel et al., "Flower: A Friendly Federated
Learning Framework", 2020).

The server side is Flower's own: each round the strategy's ``configure_fit`` samples clients from a Flower
``SimpleClientManager`` and its ``aggregate_fit`` combines their ``FitRes``, exactly as in a Flower deployment;
only the transport is replaced by in-process ``ClientProxy`` objects (no Ray, no gRPC).
Strategies: FedAvg (McMahan et al., 2017), Krum (Blanchard et al., NeurIPS 2017), coordinate-wise median and
trimmed mean (Yin et al., ICML 2018).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from trust_core.federated.clients import Client, get_weights, set_weights
from trust_core.models.train_mnist import evaluate

STRATEGY_NAMES = ("fedavg", "krum", "median", "trimmed")


def make_strategy(name: str, *, malicious: int = 0, trim: float = 0.2):  # -> flwr.server.strategy.Strategy
    """A Flower strategy by name; ``malicious`` is Krum's assumed number of Byzantine clients f."""
    try:
        from flwr.server.strategy import FedAvg, FedMedian, FedTrimmedAvg, Krum
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise ImportError("federated learning needs Flower: pip install 'apf[fl]'") from exc

    common = {"fit_metrics_aggregation_fn": lambda metrics: {}, "min_fit_clients": 1, "min_available_clients": 1}
    factories = {
        "fedavg": lambda: FedAvg(**common),
        "krum": lambda: Krum(num_malicious_clients=malicious, num_clients_to_keep=0, **common),
        "median": lambda: FedMedian(**common),
        "trimmed": lambda: FedTrimmedAvg(beta=trim, **common),
    }
    if name not in factories:
        raise ValueError(f"unknown strategy {name!r}; choose from {list(factories)}")
    return factories[name]()


def _proxy(cid: str, client: Client, make_model: Callable[[], nn.Module], local_epochs: int, lr: float, seed: int):
    """A Flower ``ClientProxy`` that trains ``client`` in this process."""
    from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server.client_proxy import ClientProxy

    class InProcessProxy(ClientProxy):
        def fit(self, ins, timeout, group_id):  # noqa: ANN001, ANN202 - Flower's signature
            weights, count = client.fit(parameters_to_ndarrays(ins.parameters), make_model, epochs=local_epochs,
                                        lr=lr, seed=seed * 10_000 + int(group_id or 0) * 100 + int(self.cid))
            return FitRes(Status(Code.OK, ""), ndarrays_to_parameters(weights), count, {})

        def get_properties(self, ins, timeout, group_id):  # noqa: ANN001, ANN202
            raise NotImplementedError("in-process clients only train")

        get_parameters = evaluate = reconnect = get_properties

    return InProcessProxy(cid)


def run_federated(
    strategy,
    clients: list[Client],
    make_model: Callable[[], nn.Module],
    *,
    rounds: int,
    test: tuple[torch.Tensor, torch.Tensor],
    local_epochs: int = 1,
    lr: float = 1e-3,
    seed: int = 0,
) -> tuple[nn.Module, list[float]]:
    """Train for ``rounds`` rounds (the strategy picks the clients of each round); returns the global model and its
    test accuracy after every round."""
    import random

    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server.client_manager import SimpleClientManager

    if rounds < 1 or not clients:
        raise ValueError(f"need rounds >= 1 and at least one client, got {rounds} and {len(clients)}")
    random.seed(seed)  # SimpleClientManager samples with the random module
    torch.manual_seed(seed)
    model = make_model()
    manager = SimpleClientManager()
    for i, client in enumerate(clients):
        manager.register(_proxy(str(i), client, make_model, local_epochs, lr, seed))
    parameters = ndarrays_to_parameters(get_weights(model))
    history = []
    for r in range(1, rounds + 1):
        instructions = strategy.configure_fit(r, parameters, manager)
        results = [(proxy, proxy.fit(ins, None, r)) for proxy, ins in instructions]
        aggregated, _ = strategy.aggregate_fit(r, results, [])
        parameters = aggregated
        set_weights(model, parameters_to_ndarrays(parameters))
        history.append(evaluate(model, *test))
    return model, history
