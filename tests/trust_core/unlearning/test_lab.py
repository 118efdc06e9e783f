import pytest
from typer.testing import CliRunner

from trust_core.unlearning.cli import app
from trust_core.unlearning.lab import deletion


def test_deletion_positions_are_checked():
    assert deletion(0.5, 3, 10).tolist() == [5, 6, 7]
    with pytest.raises(ValueError, match="cannot delete"):
        deletion(0.9, 5, 10)
    result = CliRunner().invoke(app, ["--train", "1000", "--deleted", "5000"])
    assert result.exit_code != 0 and "cannot delete" in result.output
