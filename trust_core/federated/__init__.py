"""Federated learning on Flower's Strategy API: FedAvg and robust aggregation, IID / non-IID splits, malicious
clients. Heavy imports (torch, flwr) live in the modules, not here, so ``apf --help`` stays fast."""
