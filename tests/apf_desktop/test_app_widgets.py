"""Desktop app building blocks without the cloak pipeline: before/after view, preferences, background jobs."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QImage

from apf_desktop.app import settings
from apf_desktop.app.before_after import BeforeAfter
from apf_desktop.app.workers import Tasks


def solid(color: str, width: int = 200, height: int = 100) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    return image


@pytest.fixture
def compare(qtbot):
    widget = BeforeAfter()
    qtbot.addWidget(widget)
    widget.view.setFixedSize(400, 200)  # the 200x100 photos fit exactly at 2x
    widget.show()
    widget.view.set_photo(solid("red"), solid("blue"))
    return widget.view


def colour_at(view, x: int, y: int = 100) -> str:
    return view.grab().toImage().pixelColor(x, y).name()


def test_split_shows_before_left_after_right_and_the_line_drags(compare, qtbot):
    assert (colour_at(compare, 100), colour_at(compare, 300)) == ("#ff0000", "#0000ff")
    qtbot.mousePress(compare, Qt.MouseButton.LeftButton, pos=QPoint(200, 60))
    qtbot.mouseMove(compare, QPoint(80, 60))
    qtbot.mouseRelease(compare, Qt.MouseButton.LeftButton, pos=QPoint(80, 60))
    assert compare.split == pytest.approx(0.2)
    assert (colour_at(compare, 60), colour_at(compare, 120)) == ("#ff0000", "#0000ff")


def test_modes_show_one_photo_alone(compare):
    compare.set_mode("before")
    assert {colour_at(compare, x) for x in (20, 200, 380)} == {"#ff0000"}
    compare.set_mode("after")
    assert {colour_at(compare, x) for x in (20, 200, 380)} == {"#0000ff"}
    with pytest.raises(ValueError):
        compare.set_mode("sideways")


def test_zoom_keeps_the_point_under_the_cursor_and_drag_pans(compare, qtbot):
    anchor = QPoint(300, 50)
    point = compare.to_image(anchor.toPointF())
    compare.zoom_by(4, anchor.toPointF())
    assert compare.zoom == 4
    after = compare.to_image(anchor.toPointF())
    assert (after.x(), after.y()) == pytest.approx((point.x(), point.y()))
    assert colour_at(compare, 20) == "#ff0000" and colour_at(compare, 380) == "#0000ff"
    qtbot.mousePress(compare, Qt.MouseButton.LeftButton, pos=QPoint(300, 100))
    qtbot.mouseMove(compare, QPoint(340, 100))
    qtbot.mouseRelease(compare, Qt.MouseButton.LeftButton, pos=QPoint(340, 100))
    panned = compare.to_image(QPoint(340, 100).toPointF())
    assert panned.x() == pytest.approx(compare.to_image(QPoint(300, 100).toPointF()).x() + 5)
    compare.fit()
    assert compare.zoom == 1 and colour_at(compare, 100) == "#ff0000"


def test_preferences_round_trip_through_a_temporary_store(tmp_path: Path):
    store = QSettings(str(tmp_path / "apf.ini"), QSettings.Format.IniFormat)
    assert settings.load(store) == settings.Preferences()
    prefs = settings.Preferences(mode="remote", url="http://127.0.0.1:1", token="t", output_dir=str(tmp_path),
                                 exif="keep", privacy="noise", strength="high", method="fgsm", masking="off")
    settings.save(store, prefs)
    again = QSettings(str(tmp_path / "apf.ini"), QSettings.Format.IniFormat)
    assert settings.load(again) == prefs
    again.setValue("mode", "telepathic")
    again.setValue("exif", "scramble")
    again.setValue("privacy", "telepathic")
    again.setValue("masking", "true")
    loaded = settings.load(again)
    assert (loaded.mode, loaded.exif, loaded.privacy, loaded.masking) == ("embedded", "strip", "off", "on")
    assert not prefs.cloak_settings().masking and settings.Preferences().cloak_settings().masking
    assert settings.Preferences().cloak_settings().randomize == 0.0
    assert prefs.out_dir() == tmp_path and settings.Preferences().out_dir() is None  # None: beside each photo


class Recorder(QObject):
    """Records what each slot got and whether it ran on the UI thread."""

    def __init__(self, seen: list, ui_thread: threading.Thread) -> None:
        super().__init__()
        self.seen, self.ui_thread = seen, ui_thread

    def _record(self, kind: str, value: object) -> None:
        self.seen.append((kind, value, threading.current_thread() is self.ui_thread))

    def progress(self, value: object) -> None:
        self._record("progress", value)

    def done(self, value: object) -> None:
        self._record("done", value)

    def failed(self, value: object) -> None:
        self._record("failed", value)


def test_jobs_report_progress_results_and_readable_errors_on_the_ui_thread(qtbot):
    tasks = Tasks()
    ui_thread = threading.current_thread()
    seen: list[tuple[str, object, bool]] = []

    def work(job):
        job.report("half")
        return 42

    sink = Recorder(seen, ui_thread)
    tasks.start(work, progress=sink.progress, done=sink.done)
    tasks.start(lambda job: int("x"), failed=sink.failed)
    tasks.start(lambda job: {}["k"], failed=sink.failed)
    qtbot.waitUntil(lambda: len(seen) == 4 and not tasks.busy())
    assert [s for s in seen if s[0] != "failed"] == [("progress", "half", True), ("done", 42, True)]
    failures = sorted(s for s in seen if s[0] == "failed")
    assert failures[0] == ("failed", "Unexpected error (KeyError): 'k'", True)
    assert failures[1] == ("failed", "invalid literal for int() with base 10: 'x'", True)


def test_shutdown_cancels_running_jobs_and_waits_for_them(qtbot):
    tasks = Tasks()
    started, stopped = threading.Event(), threading.Event()

    def loop(job):
        started.set()
        while not job.cancelled():
            job.report(None)
            threading.Event().wait(0.01)
        stopped.set()

    tasks.start(loop)
    assert started.wait(10)
    assert tasks.shutdown(10_000) and stopped.is_set()


def test_bench_desktop_times_a_fresh_launch():
    from click.testing import CliRunner

    from apf_desktop.app.bench import cli

    result = CliRunner().invoke(cli, ["--runs", "1"])
    assert result.exit_code == 0, result.output
    assert "run 1: interactive after" in result.output and "longest UI stall" in result.output
    assert "startup to an interactive window: median" in result.output


def test_photos_qt_cannot_read_are_shown_as_the_pipeline_reads_them(qapp, tmp_path):  # noqa: ANN001
    from PIL import Image

    from apf_desktop.app.imaging import load_qimage
    from trust_core.faces.io import register_formats

    register_formats()
    src = tmp_path / "phone.heic"
    Image.new("RGB", (48, 32), (200, 40, 40)).save(src, format="HEIF", quality=95)
    image = load_qimage(src)
    assert (image.width(), image.height()) == (48, 32)
    red, green, _, _ = image.pixelColor(24, 16).getRgb()
    assert red > 180 and green < 70
    (tmp_path / "junk.heic").write_bytes(b"not a photo")
    with pytest.raises(ValueError, match="junk.heic"):
        load_qimage(tmp_path / "junk.heic")
