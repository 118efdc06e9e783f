"""The main window: Protect and CAPTCHA tabs, menus, Settings, status bar; closing cancels running work."""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QTabWidget

from apf_desktop.app import settings
from apf_desktop.app.captcha_tab import CaptchaTab
from apf_desktop.app.protect_tab import ProtectTab
from apf_desktop.app.settings_dialog import SettingsDialog
from apf_desktop.app.workers import Tasks

TITLE = "APF — adversarial privacy filter"
ABOUT = ("APF adds a small, carefully computed change around each face so that face recognizers fail to match "
         "the protected photo with other photos of the person, while people see the same photo.\n\n"
         "In remote mode only the face's gradient signal is sent to the enhancer service: never the photo, "
         "an embedding or metadata.")


class MainWindow(QMainWindow):
    """The application window; ``store`` is where the preferences live (a temporary one in tests).

    ``make_cloaker`` (CloakSettings -> Cloaker) defaults to the pipeline's ``Cloaker``.
    """

    def __init__(self, store: QSettings, *, make_cloaker: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.store = store
        self.prefs = settings.load(store)
        self.tasks = Tasks(self)
        self.protect = ProtectTab(self.prefs, store, self.tasks, make_cloaker=make_cloaker)
        self.captcha = CaptchaTab(self.tasks)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.protect, "Protect photos")
        self.tabs.addTab(self.captcha, "Adversarial CAPTCHAs")
        self.setCentralWidget(self.tabs)
        self.mode_label = QLabel()
        self.statusBar().addPermanentWidget(self.mode_label)
        for tab in (self.protect, self.captcha):
            tab.message.connect(self.statusBar().showMessage)
        self._menus()
        self._show_mode()
        self.resize(1360, 820)

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, slot, keys in (("&Add photos…", self.protect.add_dialog, QKeySequence.StandardKey.Open),
                                 ("Add &folder…", self.protect.add_folder_dialog, None),
                                 ("&Export protected photos…", self.protect.export_dialog, QKeySequence("Ctrl+E")),
                                 ("&Quit", self.close, QKeySequence.StandardKey.Quit)):
            action = QAction(text, self)
            action.triggered.connect(slot)
            if keys is not None:
                action.setShortcut(keys)
            file_menu.addAction(action)
        settings_action = QAction("&Settings…", self)
        settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        settings_action.triggered.connect(self.open_settings)
        self.menuBar().addMenu("&Edit").addAction(settings_action)
        about = QAction("&About APF", self)
        about.triggered.connect(lambda: QMessageBox.about(self, "About APF", ABOUT))
        self.menuBar().addMenu("&Help").addAction(about)

    def _show_mode(self) -> None:
        remote = self.prefs.mode == "remote"
        self.mode_label.setText(f"Enhancer: remote {self.prefs.url}" if remote else "Enhancer: embedded")

    def open_settings(self) -> SettingsDialog:
        """Open the Settings dialog (window-modal, not blocking); OK applies and saves."""
        dialog = SettingsDialog(self.prefs, self.tasks, self)
        dialog.accepted.connect(lambda: self.apply_preferences(dialog.preferences()))
        dialog.open()
        return dialog

    def apply_preferences(self, prefs: settings.Preferences) -> None:
        vars(self.prefs).update(asdict(prefs))  # the Protect tab shares this object
        settings.save(self.store, self.prefs)
        self._show_mode()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Cancel running work and wait for it to stop, so no half-written file or thread outlives the window."""
        if self.tasks.busy():
            self.statusBar().showMessage("Stopping…")
            self.hide()
        self.tasks.shutdown()
        event.accept()


def launch(photos: Sequence[Path] = (), *, store: QSettings | None = None) -> tuple[QApplication, MainWindow]:
    """Create the application and show the window at once; the pipeline and models load in the background."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("APF Desktop")
    app.setOrganizationName("APF")
    window = MainWindow(store if store is not None else settings.user_store())
    window.show()
    QTimer.singleShot(0, window.protect.load_pipeline)
    if photos:
        QTimer.singleShot(0, lambda: window.protect.add_paths(list(photos)))
    return app, window
