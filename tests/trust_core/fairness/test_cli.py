"""``apf debias``: the command-line budgets reach every AEDA run and the results file records them."""
from __future__ import annotations

import json
from types import SimpleNamespace

from typer.testing import CliRunner

from trust_core.fairness import experiment
from trust_core.fairness.cli import app

FIGURES = {"bacc": 70.0, "bias": 10.0, "val_bacc": 71.0, "val_bias": 11.0, "train_seconds": 1.0}


def test_flip_budgets_override_the_protocol_and_are_recorded(monkeypatch, tmp_path) -> None:
    seen = []
    monkeypatch.setattr(experiment, "load", lambda name: SimpleNamespace(protocol=f"{name} stand-in"))
    monkeypatch.setattr(experiment, "run_one",
                        lambda data, name, *, seed, attack, **kw: seen.append((name, seed, attack)) or dict(FIGURES))
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["celeba", "-m", "aeda-robust", "--seeds", "2", "--eps", "0.0625",
                                      "--robust-eps", "0.03", "--flips", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    expected = {**experiment.PROTOCOLS["celeba"].attack, "eps": 0.0625, "robust_eps": 0.03, "flips": 2}
    assert seen == [("aeda-robust", 0, expected), ("aeda-robust", 1, expected)]
    assert json.loads(out.read_text())["attack"] == expected


def test_without_overrides_the_protocol_budget_runs(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(experiment, "load", lambda name: SimpleNamespace(protocol=name))
    monkeypatch.setattr(experiment, "run_one",
                        lambda data, name, *, seed, attack, **kw: seen.append(attack) or dict(FIGURES))
    result = CliRunner().invoke(app, ["celeba", "-m", "original", "--seeds", "1", "--reading-bias-head"])
    assert result.exit_code == 0, result.output
    assert seen == [{**experiment.PROTOCOLS["celeba"].attack, "bias_trains_features": False}]


def test_the_fewshot_pilot_refuses_budgets_it_would_ignore() -> None:
    for option in (["--eps", "0.1"], ["--flips", "2"]):
        result = CliRunner().invoke(app, ["fewshot", *option])
        assert result.exit_code == 2 and "fewshot runs the published pilot" in result.output
