"""The protection check per face: a badge (protected / weak / not protected) and the numbers behind it."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from apf_desktop.app.imaging import VERDICT_COLORS, worst

LEGEND = ("Each face is compared with the same face in the original by every recognizer here, on the photo as saved, "
          "after JPEG quality 75 and at half size. <b>protected</b>: no check matches; <b>weak</b>: some do; "
          "<b>not protected</b>: half of them or more. A check matches when the similarity reaches the recognizer's threshold.")
HEADERS = ("Face / check", "Similarity", "Threshold", "Match")
CONDITIONS = {"saved": "as saved", "jpeg75": "JPEG q75", "half": "half size"}


def badge_style(verdict: str | None) -> str:
    return (f"background:{VERDICT_COLORS[verdict]}; color:white; border-radius:4px; padding:3px 8px; font-weight:bold;")


class FaceReportView(QWidget):
    """A badge for the whole photo and a tree: one row per face, its checks beneath it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.badge = QLabel("No photo")
        self.badge.setObjectName("photo-verdict")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(HEADERS)
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        legend = QLabel(LEGEND)
        legend.setWordWrap(True)
        legend.setStyleSheet("color:#5f6368; font-size:11px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.badge)
        layout.addWidget(self.tree, 1)
        layout.addWidget(legend)

    def show_message(self, text: str) -> None:
        self.tree.clear()
        self.badge.setText(text)
        self.badge.setStyleSheet("")

    def show_faces(self, faces: Sequence) -> None:  # noqa: ANN001 - pipeline.FaceReport
        """Fill the tree from the pipeline's ``FaceReport`` list."""
        self.tree.clear()
        verdicts = [face.verdict for face in faces]
        overall = worst(verdicts)
        if not faces:
            self.show_message("No face found")
            return
        self.badge.setText(f"{overall or 'not checked'} · {len(faces)} face{'s' * (len(faces) > 1)}")
        self.badge.setStyleSheet(badge_style(overall))
        for index, face in enumerate(faces, 1):
            row = QTreeWidgetItem([f"Face {index}: {face.verdict or 'not checked'}"])
            row.setBackground(0, QBrush(QColor(VERDICT_COLORS[face.verdict])))
            row.setForeground(0, QBrush(QColor("white")))
            for check in face.checks:
                label = f"{check['recognizer']} · {CONDITIONS.get(check['condition'], check['condition'])}"
                if check.get("against", "original") != "original":
                    label += f" · vs {check['against']}"
                row.addChild(QTreeWidgetItem([label, f"{check['similarity']:.3f}",
                                              f"{check['threshold']:.3f}", "matched" if check["matched"] else "no"]))
            if face.warning:
                note = QTreeWidgetItem([f"⚠ {face.warning}"])
                row.addChild(note)
            self.tree.addTopLevelItem(row)
            row.setFirstColumnSpanned(True)
            if face.warning:
                note.setFirstColumnSpanned(True)
        self.tree.expandAll()
        for column in range(1, len(HEADERS)):
            self.tree.resizeColumnToContents(column)
