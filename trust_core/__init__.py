"""trust_core: the trustworthy-ML library under APF (attacks, defenses, faces, privacy, fairness, ...).

Subpackages are imported on demand; ``import trust_core`` itself is cheap.
"""
__all__: list[str] = []
