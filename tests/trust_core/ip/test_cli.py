from typer.testing import CliRunner

from trust_core.ip.cli import app


def test_bad_sizes_are_a_clear_cli_error():
    result = CliRunner().invoke(app, ["--train", "60000"])
    assert result.exit_code != 0 and "train" in result.output
