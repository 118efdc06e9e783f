"""The desktop app driven through its real widgets (offscreen): add photos, protect, check, cancel, errors, remote.

The embedded enhancer is a fixed, seeded filter network (the shipped weights are not needed); the remote
tests run a real ``apf serve`` process on loopback over the same network.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox
from skimage import data

from apf_desktop.app import settings
from apf_desktop.app.main_window import MainWindow
from apf_desktop.app.report import CONDITIONS

TOKEN = "desktop-test-token"
SLOW_MS = 240_000


@pytest.fixture(scope="module")
def enhancer():
    from cloud_enhancer.enhancer import Enhancer
    from cloud_enhancer.model import APFFilter

    torch.manual_seed(0)
    filt = APFFilter()
    with torch.no_grad():
        filt.universal.raw.normal_(0, 1)
    return Enhancer(filt)


def temp_store(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "apf-desktop.ini"), QSettings.Format.IniFormat)


def open_window(qtbot, store: QSettings, enhancer) -> MainWindow:
    """A shown window whose embedded enhancer is ``enhancer``, with the pipeline loaded (models stay lazy)."""
    from apf_desktop.pipeline import Cloaker

    window = MainWindow(store, make_cloaker=lambda s: Cloaker(s, enhancer=None if s.server else enhancer))
    qtbot.addWidget(window)
    window.show()
    window.protect.load_pipeline(warm_up=False)
    qtbot.waitUntil(lambda: window.protect.pipeline is not None, timeout=60_000)
    return window


@pytest.fixture
def window(qtbot, tmp_path, enhancer) -> MainWindow:
    return open_window(qtbot, temp_store(tmp_path), enhancer)


def lfw(folder: Path, *names: str) -> list[Path]:
    """Copies of LFW photos (found by the data-root rule: $APF_DATA, ../shared/data, ...)."""
    from trust_core.data import LFW, DataMissingError

    try:
        source = LFW()
    except DataMissingError as exc:
        pytest.skip(f"LFW is not available: {exc}")
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(source.path(name, 1), folder / f"{name}.jpg")) for name in names]


def add(qtbot, window: MainWindow, paths: list[Path], count: int) -> None:
    window.protect.add_paths(paths)
    qtbot.waitUntil(lambda: len(window.protect.photos) == count
                    and all(p.state != "reading" for p in window.protect.photos.values()), timeout=SLOW_MS)


def protect(qtbot, window: MainWindow, *, method: str = "fgsm", check: bool = False) -> None:
    tab = window.protect
    tab.options.method.setCurrentIndex(tab.options.method.findData(method))
    tab.options.check.setChecked(check)
    qtbot.mouseClick(tab.protect_button, Qt.MouseButton.LeftButton)
    assert tab.batch is not None and not tab.protect_button.isEnabled() and tab.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: tab.batch is None, timeout=SLOW_MS)


def error_texts(window: MainWindow) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def use_fgsm_only(window: MainWindow) -> None:
    window.protect.options.method.setCurrentIndex(window.protect.options.method.findData("fgsm"))


def test_protect_a_photo_writes_a_copy_changed_only_around_the_face_and_shows_the_verdict(qtbot, tmp_path, enhancer):
    photo = tmp_path / "in" / "astronaut.png"
    photo.parent.mkdir()
    Image.fromarray(data.astronaut()).save(photo)
    store = temp_store(tmp_path)
    window = open_window(qtbot, store, enhancer)
    dialog = window.open_settings()
    dialog.output.setText(str(tmp_path / "out"))
    dialog.accept()
    assert store.value("output_dir") == str(tmp_path / "out")

    add(qtbot, window, [photo], 1)
    tab = window.protect
    faces = tab.photos[photo].faces
    assert len(faces) == 1 and not tab.list.item(0).icon().isNull() and "1 face" in tab.list.item(0).text()
    protect(qtbot, window, method="fgsm", check=True)
    assert store.value("method") == "fgsm"

    result = tab.photos[photo].result
    assert result.output == tmp_path / "out" / "astronaut-cloaked.png" and result.output.is_file()
    before = np.asarray(Image.open(photo), dtype=int)
    after = np.asarray(Image.open(result.output), dtype=int)
    changed = np.abs(after - before).max(axis=2)
    x0, y0, x1, y1 = faces[0].box
    pad_x, pad_y = 0.3 * (x1 - x0), 0.3 * (y1 - y0)
    near = np.zeros_like(changed, dtype=bool)
    near[int(y0 - pad_y):int(y1 + pad_y) + 1, int(x0 - pad_x):int(x1 + pad_x) + 1] = True
    assert changed[~near].max() == 0  # nothing changes away from the face
    assert changed[int(y0):int(y1), int(x0):int(x1)].mean() > 1 and changed.max() <= 12 + 1  # mid, masked: 12/255

    face = result.faces[0]
    assert face.verdict in ("protected", "weak", "not protected") and face.checks
    assert tab.report.badge.text().startswith(face.verdict) and face.verdict in tab.list.item(0).text()
    row = tab.report.tree.topLevelItem(0)
    assert tab.report.tree.topLevelItemCount() == 1 and row.text(0) == f"Face 1: {face.verdict}"
    assert row.childCount() >= len(face.checks)
    first = face.checks[0]
    assert row.child(0).text(0) == f"{first['recognizer']} · {CONDITIONS[first['condition']]}"
    assert (row.child(0).text(1), row.child(0).text(2)) == (f"{first['similarity']:.3f}", f"{first['threshold']:.3f}")

    qtbot.waitUntil(lambda: tab.compare.view.after is not None, timeout=30_000)
    shot = tmp_path / "window.png"
    assert window.grab().save(str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[0] > 500 and pixels.std() > 20  # a rendered window, not a blank one
    exported = tab.export_to(tmp_path / "export")
    assert [p.name for p in exported] == ["astronaut-cloaked.png"] and exported[0].read_bytes() == result.output.read_bytes()


def test_cancel_mid_batch_stops_before_the_remaining_photos(qtbot, window, tmp_path):
    photos = lfw(tmp_path, "AJ_Cook", "Aaron_Eckhart", "Aaron_Guiel")
    add(qtbot, window, photos, 3)
    tab = window.protect
    tab.options.check.setChecked(False)
    use_fgsm_only(window)
    qtbot.mouseClick(tab.protect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.photos[photos[1]].state == "protecting", timeout=SLOW_MS)
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.batch is None, timeout=SLOW_MS)
    outputs = sorted(p.name for p in tmp_path.glob("*-cloaked.jpg"))
    assert outputs[:1] == ["AJ_Cook-cloaked.jpg"] and "Aaron_Guiel-cloaked.jpg" not in outputs
    assert tab.photos[photos[2]].state == "ready" and tab.photos[photos[2]].result is None
    assert "cancelled" in window.statusBar().currentMessage() and tab.progress.value() < 3
    assert not list(tmp_path.glob("*.part")) and tab.protect_button.isEnabled()


def test_a_corrupt_photo_shows_an_error_and_the_others_are_protected(qtbot, window, tmp_path):
    late, good = lfw(tmp_path, "Aaron_Eckhart", "AJ_Cook")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not a photo")
    add(qtbot, window, [late, corrupt, good], 3)
    tab = window.protect
    assert tab.photos[corrupt].state == "failed" and "corrupt.jpg" in tab.list.item_for(corrupt).toolTip()
    qtbot.waitUntil(lambda: any("corrupt.jpg" in text for text in error_texts(window)))
    for box in window.findChildren(QMessageBox):
        box.done(0)
    late.write_bytes(late.read_bytes()[:300])  # broken after it was added: fails inside the batch
    protect(qtbot, window)
    assert (tmp_path / "AJ_Cook-cloaked.jpg").is_file() and tab.photos[good].state == "protected"
    assert not (tmp_path / "Aaron_Eckhart-cloaked.jpg").exists() and tab.photos[late].state == "failed"
    assert not (tmp_path / "corrupt-cloaked.jpg").exists()
    texts = error_texts(window)
    assert any("could not be protected" in t and "Aaron_Eckhart.jpg" in t for t in texts)
    assert not any("Traceback" in t for t in texts)
    assert "1 failed" in window.statusBar().currentMessage()


def test_closing_during_work_cancels_cleanly(qtbot, window, tmp_path):
    photos = lfw(tmp_path, "AJ_Cook", "Aaron_Eckhart")
    add(qtbot, window, photos, 2)
    tab = window.protect
    tab.options.check.setChecked(False)
    use_fgsm_only(window)
    tab.start_protect()
    qtbot.waitUntil(lambda: tab.photos[photos[0]].state == "protecting", timeout=SLOW_MS)
    assert window.close() and not window.isVisible()
    assert window.tasks.pool.activeThreadCount() == 0  # nothing left running
    assert not (tmp_path / "Aaron_Eckhart-cloaked.jpg").exists() and not list(tmp_path.glob("*.part"))


def test_drop_a_folder_adds_its_photos_with_faces_outlined(qtbot, window, tmp_path):
    folder = tmp_path / "drop"
    lfw(folder, "AJ_Cook", "Aaron_Eckhart")
    (folder / "notes.txt").write_text("not a photo")
    shutil.copy(folder / "AJ_Cook.jpg", folder / "AJ_Cook-cloaked.jpg")  # an earlier output is left out
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    tab = window.protect
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    tab.dropEvent(event)
    qtbot.waitUntil(lambda: len(tab.photos) == 2 and all(p.state == "ready" for p in tab.photos.values()),
                    timeout=SLOW_MS)
    assert sorted(p.name for p in tab.photos) == ["AJ_Cook.jpg", "Aaron_Eckhart.jpg"]
    assert all(len(p.faces) >= 1 for p in tab.photos.values())
    assert all(not tab.list.item(i).icon().isNull() for i in range(2))
    tab.list.setCurrentRow(0)
    tab.list.item(0).setSelected(True)
    qtbot.keyClick(tab.list, Qt.Key.Key_Delete)
    assert [p.name for p in tab.photos] == ["Aaron_Eckhart.jpg"] and tab.list.count() == 1


def test_settings_persist_across_windows(qtbot, tmp_path, enhancer):
    store = temp_store(tmp_path)
    first = open_window(qtbot, store, enhancer)
    first.protect.options.strength.setCurrentIndex(first.protect.options.strength.findData("high"))
    first.protect.options.masking.setChecked(False)
    dialog = first.open_settings()
    dialog.remote.setChecked(True)
    dialog.url.setText("http://127.0.0.1:9")
    dialog.accept()  # no token: refused, the dialog stays open
    assert dialog.isVisible() and "token" in dialog.test_result.text() and store.value("mode") == "embedded"
    dialog.token.setText("secret")
    dialog.exif.setCurrentIndex(dialog.exif.findData("keep"))
    dialog.privacy.setCurrentIndex(dialog.privacy.findData("noise"))
    dialog.accept()
    assert "remote http://127.0.0.1:9" in first.mode_label.text()
    first.close()
    second = open_window(qtbot, temp_store(tmp_path), enhancer)
    assert second.prefs == settings.Preferences(mode="remote", url="http://127.0.0.1:9", token="secret",
                                                exif="keep", privacy="noise", strength="high", method="di2fgsm",
                                                masking="off")
    assert second.protect.options.strength.currentData() == "high" and not second.protect.options.masking.isChecked()
    cloak = second.prefs.cloak_settings(check=True)
    assert (cloak.server, cloak.token, cloak.keep_metadata, cloak.eps, cloak.randomize, cloak.masking) == (
        "http://127.0.0.1:9", "secret", True, 12 / 255, 0.5, False)


def test_remote_mode_against_a_real_apf_serve(qtbot, window, tmp_path, enhancer):
    from cloud_enhancer.service_process import ServiceProcess

    weights = tmp_path / "apf_filter.pt"
    torch.save(enhancer.filter.state_dict(), weights)
    (photo,) = lfw(tmp_path / "in", "AJ_Cook")
    dialog = window.open_settings()
    dialog.remote.setChecked(True)
    dialog.url.setText("http://127.0.0.1:9")  # nothing listens there
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cannot reach" in dialog.test_result.text(), timeout=30_000)
    with ServiceProcess(token=TOKEN, weights=weights, threads=1) as service:
        dialog.url.setText(service.url)
        dialog.token.setText(TOKEN)
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.test_result.text().startswith("Connected"), timeout=30_000)
        dialog.accept()
        add(qtbot, window, [photo], 1)
        protect(qtbot, window)
        result = window.protect.photos[photo].result
        assert result is not None and result.output.is_file() and len(result.faces) == 1
        assert not error_texts(window)
        window.apply_preferences(settings.Preferences(**{**vars(window.prefs), "token": "wrong-token"}))
        protect(qtbot, window)
    assert any("401" in text for text in error_texts(window))
    assert "stopped" in window.statusBar().currentMessage()


def test_the_window_shows_before_any_model_or_torch_is_imported(tmp_path):
    code = ("import sys\nfrom PySide6.QtCore import QSettings\nfrom apf_desktop.app.main_window import launch\n"
            "app, window = launch(store=QSettings(sys.argv[1], QSettings.Format.IniFormat))\n"
            "print(window.isVisible(), sorted(m for m in ('torch', 'cv2', 'onnxruntime', 'facenet_pytorch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.ini")], capture_output=True, text=True,
                         check=True, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""}, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "True []"


def test_captcha_tab_generates_adversarial_captchas_and_shows_the_readings(qtbot, window):
    tab = window.captcha
    window.tabs.setCurrentWidget(tab)
    tab.level.setCurrentText("easy")
    tab.count.setValue(2)
    tab.steps.setValue(3)
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.table.rowCount() == 2 and tab.generate_button.isEnabled(), timeout=SLOW_MS)
    assert tab.table.columnCount() == 6 and "crnn" in tab.table.horizontalHeaderItem(3).text()
    for row in range(2):
        assert len(tab.table.item(row, 0).text()) >= 4
        assert not tab.table.cellWidget(row, 1).pixmap().isNull() and not tab.table.cellWidget(row, 2).pixmap().isNull()
        assert " → " in tab.table.item(row, 3).text()
    assert tab.summary.text().startswith("Breakers fooled")
