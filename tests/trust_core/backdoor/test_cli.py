from typer.testing import CliRunner

from trust_core.backdoor.cli import app


def test_bad_configuration_is_a_clear_cli_error():
    runner = CliRunner()
    for args, message in ((["run", "--rate", "1.5"], "rate"), (["run", "--target", "12"], "unknown target"),
                          (["run", "--attack", "trojan"], "unknown attack"),
                          (["run", "--defense", "magic"], "unknown defense"),
                          (["faces", "--target", "40"], "unknown target"), (["faces", "--rate", "-0.5"], "rate"),
                          (["faces", "--trigger", "60"], "does not fit")):
        result = runner.invoke(app, args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
