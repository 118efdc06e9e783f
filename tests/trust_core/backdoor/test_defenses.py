import pytest
import torch

from trust_core.backdoor.activation_clustering import activation_clustering
from trust_core.backdoor.features import layer_inputs
from trust_core.backdoor.fine_pruning import MaskedConv, activity, fine_prune, pruning_curve
from trust_core.backdoor.neural_cleanse import anomaly_index, neural_cleanse, unlearn
from trust_core.backdoor.spectral import spectral_signatures
from trust_core.models.train_mnist import evaluate


def test_neural_cleanse_flags_target_and_unlearning_removes_backdoor(badnets_1pct, defender_clean, test_2k):
    attack, _, model = badnets_1pct
    report = neural_cleanse(model, defender_clean[0][:500], num_classes=10)
    assert report.flagged == [0] and report.anomaly_index[0] > 2
    fixed = unlearn(model, *defender_clean, [report.triggers[0]])
    assert attack.success_rate(fixed, *test_2k) <= 0.10
    assert evaluate(fixed, *test_2k) >= evaluate(model, *test_2k) - 0.02


def test_anomaly_index_is_the_mad_score():
    index = anomaly_index(torch.tensor([10.0, 50, 52, 48, 51, 49, 50]))
    assert index[0] > 10 and index[1:].abs().max() < 2


@pytest.fixture(scope="module")
def hidden_1pct(badnets_1pct) -> torch.Tensor:
    """Last-hidden-layer features of the 1% BadNets training set."""
    _, data, model = badnets_1pct
    return layer_inputs(model, data.images)


def test_activation_clustering_finds_the_poisons_at_one_percent(badnets_1pct, hidden_1pct):
    _, data, _ = badnets_1pct  # 100 poisons, about 9% of the target class
    classes = torch.isin(data.labels, torch.tensor([0, 1, 7]))  # the target and two clean classes, to stay quick
    suspect = activation_clustering(hidden_1pct[classes], data.labels[classes])
    poisoned = data.poisoned[classes]
    assert (suspect & poisoned).sum() >= 0.8 * data.poisoned.sum()
    assert suspect.sum() <= 0.2 * len(suspect)  # a clean class may split, not most of the data


def test_whitened_spectral_signatures_find_the_poisons_where_the_top_direction_does_not(badnets_1pct, hidden_1pct):
    _, data, _ = badnets_1pct
    features = hidden_1pct
    plain = spectral_signatures(features, data.labels, expected_rate=0.01)
    whitened = spectral_signatures(features, data.labels, expected_rate=0.01, whiten=True)
    assert whitened.sum() == plain.sum() == 1500  # the 1.5 × ε budget: 150 per class
    assert (whitened & data.poisoned).sum() >= 0.8 * data.poisoned.sum()
    assert (plain & data.poisoned).sum() < 0.5 * data.poisoned.sum()  # Tran et al.'s score alone misses them here


def test_unit_pruning_removes_the_backdoor_where_channel_pruning_does_not(badnets_1pct, defender_clean, test_2k):
    attack, _, model = badnets_1pct
    x_test, y_test = test_2k[0][:1000], test_2k[1][:1000]
    measure = dict(clean_accuracy=lambda m: evaluate(m, x_test, y_test),
                   attack_success=lambda m: attack.success_rate(m, x_test, y_test))
    clean = defender_clean[0][:2000]
    channels = pruning_curve(model, clean, granularity="channel", fractions=(0.0, 0.5), **measure)
    units = pruning_curve(model, clean, granularity="unit", fractions=(0.4,), **measure)
    assert channels[0].clean_accuracy == pytest.approx(evaluate(model, x_test, y_test))
    assert channels[0].attack_success >= 0.9 and channels[1].attack_success >= 0.5
    assert units[0].attack_success <= 0.1 and units[0].clean_accuracy >= channels[0].clean_accuracy - 0.015


def test_fine_pruning_keeps_its_mask_through_fine_tuning(badnets_1pct, defender_clean, test_2k):
    attack, _, model = badnets_1pct
    tuned = fine_prune(model, defender_clean[0][:2000], defender_clean[1][:2000], fraction=0.4)
    masked = tuned.features[2]
    assert isinstance(masked, MaskedConv) and masked.mask.shape == activity(model, defender_clean[0][:10]).shape
    assert (masked.mask == 0).sum() == round(0.4 * masked.mask.numel())
    assert attack.success_rate(tuned, *test_2k) <= 0.1 and evaluate(tuned, *test_2k) >= 0.95


def test_defense_inputs_are_validated(badnets_1pct):
    with pytest.raises(ValueError, match="expected_rate"):
        spectral_signatures(torch.rand(10, 4), torch.zeros(10, dtype=torch.int64), expected_rate=0)
    with pytest.raises(ValueError, match="labels"):
        activation_clustering(torch.rand(10, 4), torch.zeros(9, dtype=torch.int64))
    with pytest.raises(ValueError, match="granularity"):
        activity(badnets_1pct[2], torch.rand(2, 1, 28, 28), granularity="layer")
