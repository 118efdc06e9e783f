from typer.testing import CliRunner

from trust_core.deepfake.cli import app


def test_too_small_a_lab_is_a_clear_cli_error():
    result = CliRunner().invoke(app, ["--train", "3"])
    assert result.exit_code != 0 and "at least 10" in result.output
