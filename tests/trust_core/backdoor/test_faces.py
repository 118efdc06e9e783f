"""The face case: BadNets on an AT&T 40-person CNN, and unit fine-pruning against it."""
import pytest
import torch

from trust_core.backdoor.attacks import BadNets
from trust_core.backdoor.faces import PEOPLE, FaceCNN, att_splits
from trust_core.backdoor.fine_pruning import pruning_curve
from trust_core.models.train_mnist import evaluate, fit


@pytest.fixture
def one_thread():
    """The measured figures hold for single-threaded training (float sums differ with the thread count)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.usefixtures("one_thread")
def test_badnets_backdoors_the_face_classifier_and_unit_pruning_removes_it():
    data = att_splits()
    (x, y), (x_def, _), test = data["train"], data["defender"], data["test"]
    assert len(x) == 280 and len(x_def) == 40 and len(test[0]) == 80
    attack = BadNets(target=0, rate=0.1, size=6, num_classes=PEOPLE)
    poisoned = attack.poison(x, y)
    torch.manual_seed(0)
    model = fit(FaceCNN(), poisoned.images, poisoned.labels, epochs=40, batch=32, seed=0)
    # measured 0.975 and 0.949 on one CPU, 0.925 on another (float sums differ with the vector unit): 80 test faces
    assert evaluate(model, *test) >= 0.9 and attack.success_rate(model, *test) >= 0.9
    (step,) = pruning_curve(model, x_def, fractions=(0.4,), clean_accuracy=lambda m: evaluate(m, *test),
                            attack_success=lambda m: attack.success_rate(m, *test))
    assert step.attack_success <= 0.15 and step.clean_accuracy >= 0.88  # measured 0.038, 0.925
