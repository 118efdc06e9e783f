"""The Settings dialog: enhancer mode (embedded or remote URL + token, with a connection test), output folder, EXIF."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from apf_desktop.app.settings import EXIF_POLICIES, PRIVACY, Preferences
from apf_desktop.app.workers import Tasks

READY_TIMEOUT_S = 5.0


def check_ready(url: str) -> str:
    """GET ``{url}/readyz``: a short description when the enhancer is ready, else ValueError with the reason."""
    import httpx

    if not url.startswith(("http://", "https://")):
        raise ValueError("the server URL must start with http:// or https://")
    try:
        response = httpx.get(url.rstrip("/") + "/readyz", timeout=READY_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise ValueError(f"cannot reach {url}: {exc}") from None
    if response.status_code != 200:
        raise ValueError(f"{url} answered HTTP {response.status_code}: not ready")
    return f"Connected: {url} is ready"


class SettingsDialog(QDialog):
    """Edits a copy of the preferences; ``preferences()`` returns the edited copy."""

    def __init__(self, prefs: Preferences, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self._prefs = prefs
        self._tasks = tasks
        self.embedded = QRadioButton("Embedded (everything runs on this computer)")
        self.remote = QRadioButton("Remote enhancer service (only the face signal is sent)")
        group = QButtonGroup(self)
        group.addButton(self.embedded)
        group.addButton(self.remote)
        (self.remote if prefs.mode == "remote" else self.embedded).setChecked(True)
        self.url = QLineEdit(prefs.url, placeholderText="http://127.0.0.1:8750")
        self.token = QLineEdit(prefs.token, placeholderText="bearer token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setToolTip("Kept in your user settings file, in plain text.")
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        self.privacy = QComboBox()
        for key, (_, label) in PRIVACY.items():
            self.privacy.addItem(label, key)
        self.privacy.setCurrentIndex(list(PRIVACY).index(prefs.privacy))
        self.output = QLineEdit(prefs.output_dir, placeholderText="beside each photo (name-cloaked.jpg)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.exif = QComboBox()
        for key, label in EXIF_POLICIES.items():
            self.exif.addItem(label, key)
        self.exif.setCurrentIndex(list(EXIF_POLICIES).index(prefs.exif))

        enhancer = QGroupBox("Enhancer")
        form = QFormLayout(enhancer)
        form.addRow(self.embedded)
        form.addRow(self.remote)
        form.addRow("Server URL", self.url)
        form.addRow("Token", self.token)
        form.addRow(self.test_button, self.test_result)
        form.addRow("Signal privacy", self.privacy)
        output = QGroupBox("Output")
        out_form = QFormLayout(output)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.output, 1)
        folder_row.addWidget(browse)
        out_form.addRow("Folder", folder_row)
        out_form.addRow("Metadata", self.exif)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(enhancer)
        layout.addWidget(output)
        layout.addWidget(buttons)
        self.remote.toggled.connect(self._sync_enabled)
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        for widget in (self.url, self.token, self.test_button):
            widget.setEnabled(self.remote.isChecked())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output.text())
        if folder:
            self.output.setText(folder)

    def test_connection(self) -> None:
        """Probe ``{url}/readyz`` in the background; the answer appears beside the button."""
        url = self.url.text().strip()
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        self.test_result.setStyleSheet("")
        self._tasks.start(lambda job: check_ready(url), done=self._tested_ok, failed=self._tested_bad)

    def _tested_ok(self, message: str) -> None:
        self._show_test(message, "#2e7d32")

    def _tested_bad(self, message: str) -> None:
        self._show_test(message, "#c62828")

    def _show_test(self, message: str, color: str) -> None:
        self.test_result.setText(message)
        self.test_result.setStyleSheet(f"color:{color};")
        self.test_button.setEnabled(self.remote.isChecked())

    def accept(self) -> None:
        """Close with OK, unless a remote enhancer lacks its URL or token."""
        if self.remote.isChecked() and not (self.url.text().strip() and self.token.text().strip()):
            self._show_test("A remote enhancer needs its URL and a token.", "#c62828")
            return
        super().accept()

    def preferences(self) -> Preferences:
        return replace(self._prefs, mode="remote" if self.remote.isChecked() else "embedded",
                       url=self.url.text().strip(), token=self.token.text().strip(),
                       output_dir=self.output.text().strip(), exif=self.exif.currentData(),
                       privacy=self.privacy.currentData())
