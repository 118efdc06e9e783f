"""Model IP protection: watermarks (Adi et al.'s trigger set, Uchida et al.'s weight signature) verified after a
thief fine-tunes, prunes or distils the model (:mod:`.thief`), and decision-vector fingerprints (:mod:`.fingerprint`).
``apf lab ip`` (:mod:`.cli`) runs the MNIST experiment (:mod:`.lab`).
"""
from trust_core.ip.fingerprint import InputPairs, copy_auc, decision_vector, distances, vector_distance
from trust_core.ip.thief import distill, fine_tune, prune
from trust_core.ip.verify import Verification, binomial_verification
from trust_core.ip.watermark import Signature, TriggerSet, combined_loss, layer_weight

__all__ = [
    "InputPairs", "Signature", "TriggerSet", "Verification", "binomial_verification", "combined_loss", "copy_auc",
    "decision_vector", "distances", "distill", "fine_tune", "layer_weight", "prune", "vector_distance",
]
