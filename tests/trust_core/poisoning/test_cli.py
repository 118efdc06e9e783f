from typer.testing import CliRunner

from trust_core.poisoning.cli import app


def test_unknown_attack_is_a_clear_cli_error():
    result = CliRunner().invoke(app, ["--attack", "gradient-matching"])
    assert result.exit_code != 0 and "unknown attack" in result.output
