"""Client data splits (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data",
AISTATS 2017): IID = a random equal partition; non-IID = sort by label, cut into ``2 * clients`` shards and give
each client two, so most clients see only two digits."""
from __future__ import annotations

import torch


def _check(n: int, clients: int) -> None:
    if not isinstance(clients, int) or clients < 1 or clients > n:
        raise ValueError(f"clients must be an integer in [1, {n}], got {clients!r}")


def iid_split(labels: torch.Tensor, clients: int, *, seed: int = 0) -> list[torch.Tensor]:
    """Index sets of a random equal partition."""
    _check(len(labels), clients)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    return list(order.tensor_split(clients))


def shard_split(labels: torch.Tensor, clients: int, *, shards_per_client: int = 2, seed: int = 0) -> list[torch.Tensor]:
    """Index sets of the label-sorted shard partition."""
    _check(len(labels), clients * shards_per_client)
    order = torch.sort(labels, stable=True).indices
    shards = order.tensor_split(clients * shards_per_client)
    assignment = torch.randperm(len(shards), generator=torch.Generator().manual_seed(seed)).view(clients, -1)
    return [torch.cat([shards[s] for s in row.tolist()]) for row in assignment]
