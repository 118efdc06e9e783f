"""The ``apf`` entry point: every subcommand described, help fast (no heavy imports)."""
from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from apf_desktop.cli import BENCHMARKS, LABS, SUBCOMMANDS, TRAINERS, main


def test_help_lists_every_subcommand():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("cloak", "eval", "serve", "desktop", "captcha", "debias", "train", "bench", "lab", "data"):
        assert name in SUBCOMMANDS and f"  {name}" in result.output


def test_help_imports_no_heavy_library():
    code = "import sys; from apf_desktop.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\nprint(sorted(m for m in ('torch', 'cv2', 'PySide6', 'dlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


def test_nested_groups_list_their_entries():
    runner = CliRunner()
    for group, table in (("train", TRAINERS), ("bench", BENCHMARKS), ("lab", LABS)):
        result = runner.invoke(main, [group, "--help"])
        assert result.exit_code == 0 and all(name in result.output for name in table)


def test_data_where_reports_the_real_data():
    result = CliRunner().invoke(main, ["data", "where"])
    assert result.exit_code == 0 and "mnist      ok" in result.output and "lfw        ok   6000 pairs" in result.output


def test_subcommand_help_exits_cleanly_through_the_installed_entry_point():
    """typer apps run behind a proxy: ``--help`` of a group must exit 0, not raise typer's own Exit."""
    for argv in (["data", "--help"], ["lab", "privacy", "--help"]):
        done = subprocess.run([sys.executable, "-m", "apf_desktop.cli", *argv], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "Usage: apf " in done.stdout and "Traceback" not in done.stderr


def test_lab_attacks_prints_the_robust_accuracy_table(tmp_path):
    out = tmp_path / "attacks.json"
    result = CliRunner().invoke(main, ["lab", "attacks", "--limit", "64", "--json", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["rows"]
    assert rows["clean"]["accuracy"] >= 0.95 and rows["PGD (40 x 0.01)"]["accuracy"] <= 0.05


def test_randomised_response_rates_outside_0_1_are_refused_before_any_work():
    runner = CliRunner()
    for args in (["eval", "channel", "--randomize", "1"], ["eval", "channel", "--randomize", "-0.1"],
                 ["eval", "apf-table", "--randomize", "1.5"],
                 ["eval", "channel", "--attack", "optimisation", "--randomize", "1"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2 and "randomi" in result.output, (args, result.output)


def test_apf_table_refuses_missing_probe_or_enhancer_weights(tmp_path):
    for args in (["eval", "apf-table", "--enhancer", str(tmp_path / "none.pt")],
                 ["eval", "apf-table", "--probe", str(tmp_path / "none")]):
        result = CliRunner().invoke(main, args)
        flat = "".join(result.output.replace("│", "").split())
        assert result.exit_code == 2 and "doesnotexist" in flat, (args, result.output)


def test_channel_probe_applies_to_the_inverter_attack_only(tmp_path):
    result = CliRunner().invoke(main, ["eval", "channel", "--attack", "optimisation", "--probe", str(tmp_path)])
    assert result.exit_code == 2 and "--probe applies to the inverter attack only" in result.output, result.output


def test_apf_table_refuses_an_unknown_signal_source_before_any_work():
    result = CliRunner().invoke(main, ["eval", "apf-table", "--signals", "gpu"])
    assert result.exit_code == 2 and "unknown signal source" in result.output, result.output
