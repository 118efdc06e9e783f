"""Evasion attacks. The gradient family shares one loop (:class:`GradientAttack`); inputs are in [0, 1].

>>> adv = PGD(model, eps=8/255, alpha=2/255, steps=10)(images, labels)
"""
from trust_core.attacks.gradient import DI2FGSM, FGSM, GRADIENT_ATTACKS, IFGSM, MIFGSM, PGD, GradientAttack
from trust_core.attacks.losses import CosineDistance, CrossEntropy

BIM = IFGSM

__all__ = [
    "BIM", "DI2FGSM", "FGSM", "GRADIENT_ATTACKS", "IFGSM", "MIFGSM", "PGD",
    "CosineDistance", "CrossEntropy", "GradientAttack",
]
