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


def test_first_seed_adds_later_seeds_to_the_runs_the_file_holds(monkeypatch, tmp_path) -> None:
    seen = []
    monkeypatch.setattr(experiment, "load", lambda name: SimpleNamespace(protocol=f"{name} stand-in"))
    monkeypatch.setattr(experiment, "run_one", lambda data, name, *, seed, attack, **kw:
                        seen.append(seed) or {**FIGURES, "bias": 10.0 + seed})
    out = tmp_path / "r.json"
    runner = CliRunner()
    assert runner.invoke(app, ["celeba", "-m", "aeda-robust", "--seeds", "1", "--json", str(out)]).exit_code == 0
    result = runner.invoke(app, ["celeba", "-m", "aeda-robust", "--first-seed", "1", "--seeds", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert seen == [0, 1, 2]
    method = json.loads(out.read_text())["methods"]["aeda-robust"]
    assert [run["bias"] for run in method["runs"]] == [10.0, 11.0, 12.0] and method["summary"]["bias"]["mean"] == 11.0


def test_first_seed_refuses_a_file_without_the_earlier_seeds(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(experiment, "load", lambda name: SimpleNamespace(protocol=f"{name} stand-in"))
    monkeypatch.setattr(experiment, "run_one", lambda *a, **kw: dict(FIGURES))
    out = tmp_path / "r.json"
    assert CliRunner().invoke(app, ["celeba", "-m", "original", "--seeds", "2", "--json", str(out)]).exit_code == 0
    cases = ((["-m", "original"], out),  # holds seeds 0 and 1, not seed 0 alone
             (["-m", "aeda-robust"], out),  # holds no run of it
             (["-m", "original"], tmp_path / "none.json"))  # no file
    for args, file in cases:
        result = CliRunner().invoke(app, ["celeba", "--first-seed", "1", *args, "--json", str(file)])
        assert result.exit_code == 2 and "--first-seed 1 extends" in result.output, (args, result.output)
