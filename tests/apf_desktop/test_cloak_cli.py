"""``apf cloak`` end to end with the shipped probe and enhancer: protection, the check table, exit codes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from apf_desktop.cloak_cli import app


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:  # noqa: ANN001
    from trust_core.data import LFW, DataMissingError

    try:
        lfw = LFW()
    except DataMissingError as exc:
        pytest.skip(f"LFW is not available: {exc}")
    folder = tmp_path_factory.mktemp("photos")
    for person, number in (("Abel_Pacheco", 1), ("Akhmed_Zakayev", 1)):
        shutil.copy(lfw.path(person, number), folder)
    return folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_cloak_moves_the_face_away_from_itself_and_prints_the_check(photos, tmp_path):  # noqa: ANN001
    code, out = run(str(photos / "Abel_Pacheco_0001.jpg"), "-o", str(tmp_path), "--check", "--json",
                    str(tmp_path / "r.json"))
    assert code == 0, out
    report = json.loads((tmp_path / "r.json").read_text())
    face = report["results"][0]["faces"][0]
    saved = {c["recognizer"]: c for c in face["checks"] if c["condition"] == "saved" and c["against"] == "original"}
    # a plain JPEG re-save of the same photo stays above 0.98; the shipped filter pulls the face well away from itself
    assert saved["facenet-casia"]["similarity"] < 0.9
    assert {"facenet-casia", "dlib", "probe"} <= set(saved)
    assert "verdict" in out and face["verdict"] in out and "jpeg75" in out
    assert (tmp_path / "Abel_Pacheco_0001-cloaked.jpg").is_file()


@pytest.mark.parametrize(("flags", "masking", "eps"), [((), True, 12 / 255), (("--no-masking",), False, 8 / 255)])
def test_masking_and_its_budget_reach_the_pipeline_and_the_report(photos, tmp_path, flags, masking, eps):  # noqa: ANN001
    code, out = run(str(photos / "Abel_Pacheco_0001.jpg"), "-o", str(tmp_path), *flags, "--method", "fgsm",
                    "--json", str(tmp_path / "r.json"))
    assert code == 0, out
    settings = json.loads((tmp_path / "r.json").read_text())["settings"]
    assert (settings["strength"], settings["masking"], settings["eps"]) == ("mid", masking, eps)
    assert (tmp_path / "Abel_Pacheco_0001-cloaked.jpg").is_file()


def test_a_bad_file_in_a_folder_is_reported_and_the_rest_is_done(photos, tmp_path):  # noqa: ANN001
    folder = tmp_path / "in"
    shutil.copytree(photos, folder)
    (folder / "broken.jpg").write_bytes((photos / "Abel_Pacheco_0001.jpg").read_bytes()[:2000])
    code, out = run(str(folder), "-o", str(tmp_path / "out"), "--method", "fgsm")
    assert code == 1 and "broken.jpg" in out and "1 of 3 photo(s) failed" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Abel_Pacheco_0001-cloaked.jpg",
                                                                    "Akhmed_Zakayev_0001-cloaked.jpg"]
    code, out = run(str(folder), "-o", str(tmp_path / "out"), "--method", "fgsm")  # a rerun resumes
    assert code == 1 and out.count("already done, kept") == 2


def test_unwritable_output_folder_is_a_usage_error(photos, tmp_path):  # noqa: ANN001
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should be")
    code, out = run(str(photos), "-o", str(blocker / "out"))
    assert code == 2 and "cannot write to the output folder" in out


def test_a_randomised_response_rate_outside_0_1_is_a_usage_error(photos, tmp_path):  # noqa: ANN001
    code, out = run(str(photos), "-o", str(tmp_path / "out"), "--randomize", "1")
    assert code == 2 and "--randomize" in out and not (tmp_path / "out").exists()


def test_dead_server_exits_3_and_writes_nothing(photos, tmp_path):  # noqa: ANN001
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = run(str(photos), "-o", str(tmp_path / "out"), "--method", "fgsm",
                    "--server", f"http://127.0.0.1:{port}", "--token", "t")
    assert code == 3 and "unavailable" in out
    assert not any((tmp_path / "out").iterdir())


def test_full_disk_exits_4_and_keeps_nothing_partial(photos, tmp_path, monkeypatch):  # noqa: ANN001
    import errno

    from PIL import Image

    def no_space(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", no_space)
    code, out = run(str(photos), "-o", str(tmp_path / "out"), "--method", "fgsm")
    assert code == 4 and "no space left" in out
    assert not any((tmp_path / "out").iterdir())
