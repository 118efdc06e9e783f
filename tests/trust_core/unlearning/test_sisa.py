import torch

from trust_core.unlearning import SISA, StepConfig

from .conftest import build


def test_sisa_unlearning_retrains_one_shard_and_equals_training_without_the_samples(ensemble, train_6k, mnist_test_slice):
    deleted = torch.arange(2500, 2520)  # shard 1 (2000..3999), slice 0 (2000..2666)
    unlearned, update = ensemble.unlearn(deleted)
    assert update.shards == [1] and 0 < update.work < ensemble.work / 2
    for s in (0, 2):  # untouched shards keep their checkpoints
        assert unlearned.checkpoints[s][-1] is ensemble.checkpoints[s][-1]
    scratch = SISA(build, *train_6k, shards=3, slices=3, config=StepConfig(epochs=1, lr=4e-3, decay=0.0), seed=0)
    scratch.deleted = deleted
    scratch.work = scratch._train(1, 0)
    for key, value in scratch.checkpoints[1][-1].items():
        assert torch.equal(value, unlearned.checkpoints[1][-1][key])
    votes = unlearned.predict(mnist_test_slice[0])
    assert (votes == mnist_test_slice[1]).float().mean() >= 0.85


def test_deleting_from_a_late_slice_retrains_only_the_last_steps(ensemble):
    late = torch.arange(5900, 5901)  # shard 2, slice 2: only its last step reruns
    _, update = ensemble.unlearn(late)
    assert update.shards == [2] and update.work == 2000 - 1
    assert ensemble.deleted.numel() == 0  # unlearning returns a copy
