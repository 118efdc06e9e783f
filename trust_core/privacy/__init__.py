"""Privacy attacks and defences: membership inference, model inversion, differential privacy, gradient leakage.

Heavy modules (torch, Opacus) are imported by their users, not here, so ``apf --help`` stays fast.
"""
