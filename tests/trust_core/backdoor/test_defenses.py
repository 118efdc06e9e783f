import pytest
import torch

from trust_core.backdoor.activation_clustering import activation_clustering
from trust_core.backdoor.features import layer_inputs
from trust_core.backdoor.fine_pruning import fine_prune, pruning_curve
from trust_core.backdoor.neural_cleanse import anomaly_index, neural_cleanse, unlearn
from trust_core.backdoor.spectral import spectral_signatures
from trust_core.models.train_mnist import evaluate


def test_neural_cleanse_flags_target_and_unlearning_removes_backdoor(badnets_1pct, defender_clean, test_2k):
    attack, _, model = badnets_1pct
    report = neural_cleanse(model, defender_clean[0][:500], num_classes=10, steps=100)
    assert report.flagged == [0] and report.anomaly_index[0] > 2
    fixed = unlearn(model, *defender_clean, [report.triggers[0]])
    assert attack.success_rate(fixed, *test_2k) <= 0.10
    assert evaluate(fixed, *test_2k) >= evaluate(model, *test_2k) - 0.02


def test_anomaly_index_is_the_mad_score():
    index = anomaly_index(torch.tensor([10.0, 50, 52, 48, 51, 49, 50]))
    assert index[0] > 10 and index[1:].abs().max() < 2


@pytest.mark.parametrize("method", ["activation-clustering", "spectral"])
def test_data_inspection_finds_the_poisons(badnets_5pct, method):
    attack, data, model = badnets_5pct
    if method == "activation-clustering":
        suspect = activation_clustering(layer_inputs(model, data.images), data.labels)
        assert (suspect & data.poisoned).sum() >= 0.8 * data.poisoned.sum()
    else:  # on this small CNN the signature is clearer in the flattened conv features than in the last hidden layer
        suspect = spectral_signatures(layer_inputs(model, data.images, layer=model.classifier[1]), data.labels,
                                      expected_rate=0.05)
        assert (suspect & data.poisoned).sum() >= 0.7 * data.poisoned.sum()


def test_fine_pruning_curve_and_pruning_trades_accuracy(badnets_1pct, defender_clean, test_2k):
    attack, _, model = badnets_1pct
    x_test, y_test = test_2k[0][:500], test_2k[1][:500]
    curve = pruning_curve(model, defender_clean[0], fractions=(0.0, 0.5, 0.95),
                          clean_accuracy=lambda m: evaluate(m, x_test, y_test),
                          attack_success=lambda m: attack.success_rate(m, x_test, y_test))
    assert [step.fraction for step in curve] == [0.0, 0.5, 0.95]
    assert curve[0].clean_accuracy == pytest.approx(evaluate(model, x_test, y_test))
    assert curve[-1].clean_accuracy < curve[0].clean_accuracy
    pruned = fine_prune(model, *defender_clean, fraction=0.5)
    conv = pruned.features[2]
    assert (conv.weight.flatten(1).abs().sum(1) == 0).sum() == conv.out_channels // 2
    assert evaluate(pruned, x_test, y_test) >= 0.9


def test_defense_inputs_are_validated():
    with pytest.raises(ValueError, match="expected_rate"):
        spectral_signatures(torch.rand(10, 4), torch.zeros(10, dtype=torch.int64), expected_rate=0)
    with pytest.raises(ValueError, match="labels"):
        activation_clustering(torch.rand(10, 4), torch.zeros(9, dtype=torch.int64))
