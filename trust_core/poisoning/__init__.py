"""Data poisoning (course week 3): label flipping (:mod:`.label_flip`), the adversarial training-set attack
(:mod:`.adversarial`) and clean-label feature-collision poisoning (:mod:`.feature_collision`).
``apf lab poisoning`` (:mod:`.cli`) measures them on MNIST. Modules import torch; this ``__init__`` does not.
"""
