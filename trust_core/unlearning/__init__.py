"""Machine unlearning: SISA (:mod:`.sisa`, Bourtoule et al. 2021) and DeepObliviate (:mod:`.deepobliviate`, He et
al. 2021), compared with naive retraining on MNIST by ``apf lab unlearning`` (:mod:`.lab`, :mod:`.cli`).
"""
from trust_core.unlearning.common import StepConfig, consistency, predictions, train_chunk
from trust_core.unlearning.deepobliviate import DeepObliviate, Unlearned, fit_power_law, power_law
from trust_core.unlearning.sisa import SISA, SisaUpdate

__all__ = ["SISA", "DeepObliviate", "SisaUpdate", "StepConfig", "Unlearned", "consistency", "fit_power_law",
           "power_law", "predictions", "train_chunk"]
