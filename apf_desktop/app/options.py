"""The protection choices: strength and method (their lists come with the pipeline) and the check."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QWidget

METHOD_LABELS = {"fgsm": "FGSM (one step, fastest)", "ifgsm": "I-FGSM", "mifgsm": "MI-FGSM", "di2fgsm": "DI²-FGSM"}


class ProtectionOptions(QGroupBox):
    """Strength, method and "check the protection"; ``changed`` fires when strength or method change."""

    changed = Signal()

    def __init__(self, strength: str, method: str, parent: QWidget | None = None) -> None:
        super().__init__("Protection", parent)
        self.strength = QComboBox()
        self.method = QComboBox()
        self.strength.addItem(strength, strength)  # until the pipeline brings the full lists
        self.method.addItem(method, method)
        self.check = QCheckBox("Check the protection with face recognizers")
        self.check.setChecked(True)
        form = QFormLayout(self)
        form.addRow("Strength", self.strength)
        form.addRow("Method", self.method)
        form.addRow(self.check)

    def fill(self, strengths: Mapping[str, float], methods: Sequence[str]) -> None:
        """Offer every strength (with its ε) and method, keeping the current choices."""
        items = ((self.strength, [(f"{name}  (ε = {eps * 255:.0f}/255)", name) for name, eps in strengths.items()]),
                 (self.method, [(METHOD_LABELS.get(name, name), name) for name in methods]))
        for combo, entries in items:
            wanted = combo.currentData()
            combo.clear()
            for label, name in entries:
                combo.addItem(label, name)
            combo.setCurrentIndex(max(combo.findData(wanted), 0))
            combo.currentIndexChanged.connect(self.changed)

    def choices(self) -> tuple[str, str]:
        """(strength, method)."""
        return self.strength.currentData(), self.method.currentData()

    def set_choosable(self, enabled: bool) -> None:
        """Allow changing strength and method (not while a batch runs, nor before the pipeline is loaded)."""
        for combo in (self.strength, self.method):
            combo.setEnabled(enabled)
