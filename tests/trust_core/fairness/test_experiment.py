"""The experiment layer: the unbiased reference row is C-MNIST without its colour bias, on the same test set;
the tuned CelebA protocol trains a copy of the probe."""
from __future__ import annotations

import dataclasses
import functools

import pytest
import torch
from typer.testing import CliRunner

from trust_core.fairness.experiment import load, unbiased_twin


def test_unbiased_twin_removes_the_training_bias_and_keeps_the_test_set() -> None:
    sizes = {"n_train": 5000, "n_val": 100, "n_test": 50}
    biased, twin = load("cmnist", **sizes), unbiased_twin("cmnist", **sizes)
    assert (biased.train.b == biased.train.y).float().mean() > 0.98
    assert abs((twin.train.b == twin.train.y).float().mean().item() - 0.1) < 0.02  # colour independent of digit
    assert torch.equal(twin.train.y, biased.train.y)  # the same digits, only their colours redrawn
    assert torch.equal(twin.test.x, biased.test.x) and torch.equal(twin.test.y, biased.test.y)


def test_only_cmnist_has_an_unbiased_twin() -> None:
    with pytest.raises(ValueError, match="only C-MNIST"):
        unbiased_twin("celeba")
    from trust_core.fairness.cli import app

    result = CliRunner().invoke(app, ["celeba", "--method", "unbiased", "--seeds", "1"])
    assert result.exit_code != 0 and "unknown method" in result.output


def _results(protocol: str, methods: dict[str, object], seconds: float) -> dict[str, object]:
    return {"dataset": "cmnist", "protocol": protocol, "train": {"epochs": 3}, "attack": {"eps": 1.0},
            "methods": methods, "seconds": seconds}


def test_results_of_one_setup_extend_each_other() -> None:
    from trust_core.fairness.experiment import extend_report

    earlier = _results("p", {"original": {"runs": [1]}, "adv": {"runs": [2]}}, 10.0)
    merged = extend_report(earlier, _results("p", {"adv": {"runs": [3]}, "reweight": {"runs": [4]}}, 5.0))
    assert merged["methods"] == {"original": {"runs": [1]}, "adv": {"runs": [3]}, "reweight": {"runs": [4]}}
    assert merged["seconds"] == 15.0
    with pytest.raises(ValueError, match="protocol differ"):
        extend_report(earlier, _results("another split", {}, 1.0))


@pytest.mark.parametrize("content", ['{"dataset": "cmnist", "protocol": "an older split", "methods": {}}', "{not json"])
def test_cli_refuses_a_results_file_of_another_setup_before_training(tmp_path, content: str) -> None:
    from trust_core.fairness.cli import app

    out = tmp_path / "results.json"
    out.write_text(content)
    result = CliRunner().invoke(app, ["cmnist", "--method", "original", "--seeds", "1", "--json", str(out)])
    assert result.exit_code != 0 and "holds other results" in result.output
    assert out.read_text() == content  # nothing lost


def test_the_tuned_protocol_fine_tunes_a_copy_of_the_probe_and_leaves_the_shared_one() -> None:
    from trust_core.faces.recognizers import get_recognizer
    from trust_core.fairness.baselines import new_net
    from trust_core.fairness.experiment import run_one
    from trust_core.fairness.models import TunedBackbone

    torch.set_num_threads(1)
    shared = get_recognizer("probe").module
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    data = load("celeba-tuned", limit=48)
    assert data.name == "celeba-tuned" and "fine-tuned at 0.1x" in data.protocol
    result = run_one(data, "aeda-robust", seed=0, epochs=1, batch=16)
    assert 0 <= result["bacc"] <= 100 and result["train_seconds"] > 0
    assert all(torch.equal(before[k], v) for k, v in shared.state_dict().items())
    assert isinstance(new_net(data, seed=0).features[0], TunedBackbone)


def test_attack_settings_reach_only_the_methods_that_take_them(small_cmnist, monkeypatch) -> None:
    from trust_core.fairness import aeda, baselines
    from trust_core.fairness.experiment import PROTOCOLS, run_one

    seen = {}

    def recorder(name, real):
        @functools.wraps(real)  # the same signature: run_one passes what the real method takes
        def fit(data, **kwargs):
            seen[name] = kwargs
            return baselines.new_net(data, seed=0)
        return fit

    monkeypatch.setattr(aeda, "aeda_online", recorder("online", aeda.aeda_online))
    monkeypatch.setattr(baselines, "original", recorder("original", baselines.original))
    attack = {**PROTOCOLS["cmnist"].attack, "bias_trains_features": False}
    data = dataclasses.replace(small_cmnist, name="cmnist")
    for method in ("aeda-online", "original"):
        run_one(data, method, seed=0, attack=attack)
    assert seen["online"]["bias_trains_features"] is False and seen["online"]["bias_weight"] == 0.1
    assert "bias_trains_features" not in seen["original"] and "eps" not in seen["original"]
