"""Model extraction: query-based stealing (Knockoff, Jacobian augmentation) and DRMI data reduction.

Heavy modules (torch) are imported by their users, not here, so ``apf --help`` stays fast.
"""
