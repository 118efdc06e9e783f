from typer.testing import CliRunner

from trust_core.backdoor.cli import app


def test_bad_configuration_is_a_clear_cli_error():
    runner = CliRunner()
    for args, message in ((["--rate", "1.5"], "rate"), (["--target", "12"], "unknown target"),
                          (["--attack", "trojan"], "unknown attack"), (["--defense", "magic"], "unknown defense")):
        result = runner.invoke(app, args)
        assert result.exit_code != 0 and message in result.output
