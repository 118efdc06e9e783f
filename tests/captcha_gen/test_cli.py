"""``apf captcha make`` writes images and a labels file; bad input fails clearly."""
from __future__ import annotations

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from captcha_gen.cli import app
from captcha_gen.render import generate


def test_make_writes_images_and_labels(tmp_path) -> None:
    result = CliRunner().invoke(app, ["make", "--level", "hard", "--n", "3", "-o", str(tmp_path), "--seed", "7"])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in (tmp_path / "labels.tsv").read_text().splitlines()]
    assert len(rows) == 3
    for i, (name, answer) in enumerate(rows):
        expected = generate("hard", 7 + i)
        assert answer == expected.text
        assert np.array_equal(np.asarray(Image.open(tmp_path / name)), expected.image)


def test_make_rejects_unknown_level(tmp_path) -> None:
    result = CliRunner().invoke(app, ["make", "--level", "nightmare", "-o", str(tmp_path)])
    assert result.exit_code != 0 and "unknown level" in result.output


def test_make_adversarial_stays_within_budget(tmp_path) -> None:
    result = CliRunner().invoke(app, ["make", "--level", "medium", "--n", "2", "-o", str(tmp_path), "--adversarial",
                                      "--eps", "8", "--steps", "3"])
    assert result.exit_code == 0, result.output
    for i, line in enumerate((tmp_path / "labels.tsv").read_text().splitlines()):
        name, _ = line.split("\t")
        diff = np.abs(np.asarray(Image.open(tmp_path / name)).astype(int) - generate("medium", i).image.astype(int))
        assert 0 < diff.max() <= 8
