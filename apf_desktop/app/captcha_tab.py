"""The CAPTCHA tab: generate adversarial CAPTCHAs per level and see what the OCR breakers read."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from apf_desktop.app.dialogs import show_error
from apf_desktop.app.workers import Job, Tasks

_SCALE = 2  # CAPTCHAs are 100x32: shown twice as large


@dataclass(frozen=True)
class CaptchaBatch:
    """Answers, clean and adversarial images (uint8 (N, H, W)), and each breaker's reading of both."""

    texts: list[str]
    clean: np.ndarray
    adversarial: np.ndarray
    reads: dict[str, tuple[list[str], list[str]]]  # breaker -> (clean reads, adversarial reads)


def make_batch(level: str, n: int, seed: int, eps: float, steps: int) -> CaptchaBatch:
    """``n`` CAPTCHAs of ``level`` perturbed against the breaker ensemble, read by every shipped breaker."""
    import torch

    from captcha_gen.adversarial import make_adversarial
    from captcha_gen.breakers import ENSEMBLE, HELD_OUT, load_breaker, read
    from captcha_gen.render import generate
    from captcha_gen.train import images_tensor

    captchas = [generate(level, seed + i) for i in range(n)]
    texts = [c.text for c in captchas]
    clean = images_tensor(np.stack([c.image for c in captchas]))
    breakers = {name: load_breaker(name) for name in ENSEMBLE + HELD_OUT}
    adv = make_adversarial(clean, texts, [breakers[name] for name in ENSEMBLE], eps=eps, steps=steps, seed=seed)
    reads = {name: (read(model, clean), read(model, adv)) for name, model in breakers.items()}

    def as_uint8(x: torch.Tensor) -> np.ndarray:
        return (x[:, 0] * 255).round().to(torch.uint8).numpy()

    return CaptchaBatch(texts, as_uint8(clean), as_uint8(adv), reads)


def _pixmap(image: np.ndarray) -> QPixmap:
    gray = np.ascontiguousarray(image)
    qimage = QImage(gray.data, gray.shape[1], gray.shape[0], gray.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(gray.shape[1] * _SCALE, gray.shape[0] * _SCALE)


class CaptchaTab(QWidget):
    """Level, count, budget and steps; Generate runs in the background and fills the table."""

    message = Signal(str)

    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from captcha_gen.levels import LEVELS, SPLIT_OFFSETS

        self.tasks = tasks
        self.job: Job | None = None
        self.level = QComboBox()
        self.level.addItems(list(LEVELS))
        self.level.setCurrentText("medium")
        self.count = self._spin(1, 24, 6)
        self.seed = self._spin(0, 2**31 - 1, SPLIT_OFFSETS["test"])  # seeds the breakers never trained on
        self.eps = self._spin(1, 64, 16, suffix=" / 255")
        self.steps = self._spin(1, 200, 30)
        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(self.generate)
        self.summary = QLabel("Adversarial CAPTCHAs are perturbed against the CRNN and multi-head breakers; "
                              "the ConvCTC breaker is held out (transfer).")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        form_box = QGroupBox("Generate")
        form = QFormLayout(form_box)
        form.addRow("Level", self.level)
        form.addRow("How many", self.count)
        form.addRow("Seed", self.seed)
        form.addRow("Budget ε", self.eps)
        form.addRow("Attack steps", self.steps)
        form.addRow(self.generate_button)
        side = QVBoxLayout()
        side.addWidget(form_box)
        side.addWidget(self.summary)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(side)
        layout.addWidget(self.table, 1)

    @staticmethod
    def _spin(low: int, high: int, value: int, *, suffix: str = "") -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setSuffix(suffix)
        return spin

    def generate(self) -> Job:
        args = (self.level.currentText(), self.count.value(), self.seed.value(), self.eps.value() / 255, self.steps.value())
        self.generate_button.setEnabled(False)
        self.message.emit(f"Generating {args[1]} adversarial {args[0]} CAPTCHAs…")
        self.job = self.tasks.start(lambda job: make_batch(*args), done=self._show, failed=self._failed)
        return self.job

    def _failed(self, message: str) -> None:
        self.generate_button.setEnabled(True)
        show_error(self, "CAPTCHAs could not be generated", message)

    def _show(self, batch: CaptchaBatch) -> None:
        self.generate_button.setEnabled(True)
        names = list(batch.reads)
        self.table.clear()
        self.table.setColumnCount(3 + len(names))
        self.table.setHorizontalHeaderLabels(["Answer", "Clean", "Adversarial"] + [f"{n} reads\nclean → adv." for n in names])
        self.table.setRowCount(len(batch.texts))
        for row, text in enumerate(batch.texts):
            self.table.setItem(row, 0, QTableWidgetItem(text))
            for column, images in ((1, batch.clean), (2, batch.adversarial)):
                label = QLabel()
                label.setPixmap(_pixmap(images[row]))
                self.table.setCellWidget(row, column, label)
            for column, name in enumerate(names, 3):
                clean, adv = batch.reads[name][0][row], batch.reads[name][1][row]
                item = QTableWidgetItem(f"{clean} → {adv}")
                fooled = adv.upper() != text.upper()
                item.setForeground(QColor("#2e7d32" if fooled else "#c62828"))
                item.setToolTip("fooled" if fooled else "read correctly")
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        fooled = {name: sum(a.upper() != t.upper() for a, t in zip(batch.reads[name][1], batch.texts)) for name in names}
        self.summary.setText("Breakers fooled on the adversarial CAPTCHAs: "
                             + ", ".join(f"{name} {k}/{len(batch.texts)}" for name, k in fooled.items())
                             + " (convctc is held out: not attacked directly).")
        self.message.emit("CAPTCHAs ready")
