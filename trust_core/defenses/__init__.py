"""Defenses against evasion and their breakers: adversarial training (PGD-AT, TRADES), defensive distillation,
input transformations (broken by BPDA), feature-squeezing detection, and verification by interval bound
propagation (IBP). Modules import torch; this package's ``__init__`` does not.
"""
