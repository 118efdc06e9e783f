"""Backdoor attacks and defenses (course weeks 3–4).

Attacks (:mod:`trust_core.backdoor.attacks`): BadNets (patch trigger), Blended (image trigger) and the
label-consistent clean-label backdoor. Defenses: Neural Cleanse (:mod:`.neural_cleanse`), activation clustering
(:mod:`.activation_clustering`), spectral signatures (:mod:`.spectral`) and fine-pruning (:mod:`.fine_pruning`).
``apf lab backdoor run`` (:mod:`.lab`) runs attack × defense on MNIST and prints the table; ``apf lab backdoor
faces`` (:mod:`.faces`) is the face case, BadNets on an AT&T 40-person CNN.
Modules import torch; this package ``__init__`` does not, so ``apf --help`` stays fast.
"""
