"""Evasion attacks. The gradient family shares one loop (:class:`GradientAttack`); inputs are in [0, 1].

>>> adv = PGD(model, eps=8/255, alpha=2/255, steps=10)(images, labels)
"""
from trust_core.attacks.atn import PerturbationATN, train_atn
from trust_core.attacks.bpda import BPDA, bpda
from trust_core.attacks.cw import CarliniWagnerL2
from trust_core.attacks.deepfool import DeepFool
from trust_core.attacks.eot import EOT
from trust_core.attacks.gradient import DI2FGSM, FGSM, GRADIENT_ATTACKS, IFGSM, MIFGSM, PGD, GradientAttack
from trust_core.attacks.losses import CosineDistance, CrossEntropy
from trust_core.attacks.substitute import train_substitute
from trust_core.attacks.tint import TintAttack, tint
from trust_core.attacks.uap import UniversalPerturbation, fooling_rate

BIM = IFGSM

__all__ = [
    "BIM", "BPDA", "DI2FGSM", "EOT", "FGSM", "GRADIENT_ATTACKS", "IFGSM", "MIFGSM", "PGD",
    "CarliniWagnerL2", "CosineDistance", "CrossEntropy", "DeepFool", "GradientAttack", "PerturbationATN",
    "TintAttack", "UniversalPerturbation", "bpda", "fooling_rate", "tint", "train_atn", "train_substitute",
]
