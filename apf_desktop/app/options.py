"""The protection choices: strength and method (their lists come with the pipeline), texture masking and the check."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QWidget

if TYPE_CHECKING:
    from edge_probe.masking import Strength

METHOD_LABELS = {"fgsm": "FGSM (one step, fastest)", "ifgsm": "I-FGSM", "mifgsm": "MI-FGSM", "di2fgsm": "DI²-FGSM"}


class ProtectionOptions(QGroupBox):
    """Strength, method, texture masking and "check the protection"; ``changed`` fires when the first three change."""

    changed = Signal()

    def __init__(self, strength: str, method: str, masking: bool = True, parent: QWidget | None = None) -> None:
        super().__init__("Protection", parent)
        self.strength = QComboBox()
        self.method = QComboBox()
        self.strength.addItem(strength, strength)  # until the pipeline brings the full lists
        self.method.addItem(method, method)
        self.masking = QCheckBox("Hide the filter in texture (texture masking: at the same look, protects more)")
        self.masking.setChecked(masking)
        self.masking.toggled.connect(self.changed)
        self.check = QCheckBox("Check the protection with face recognizers")
        self.check.setChecked(True)
        form = QFormLayout(self)
        form.addRow("Strength", self.strength)
        form.addRow("Method", self.method)
        form.addRow(self.masking)
        form.addRow(self.check)

    def fill(self, strengths: Mapping[str, Strength], methods: Sequence[str]) -> None:
        """Offer every strength (with its two ε) and method, keeping the current choices."""
        items = ((self.strength, [(f"{name}  (ε = {s.masked * 255:.0f}/255 masked, {s.uniform * 255:.0f}/255 without)",
                                   name) for name, s in strengths.items()]),
                 (self.method, [(METHOD_LABELS.get(name, name), name) for name in methods]))
        for combo, entries in items:
            wanted = combo.currentData()
            combo.clear()
            for label, name in entries:
                combo.addItem(label, name)
            combo.setCurrentIndex(max(combo.findData(wanted), 0))
            combo.currentIndexChanged.connect(self.changed)

    def choices(self) -> tuple[str, str, bool]:
        """(strength, method, masking)."""
        return self.strength.currentData(), self.method.currentData(), self.masking.isChecked()

    def set_choosable(self, enabled: bool) -> None:
        """Allow changing strength, method and masking (not while a batch runs, nor before the pipeline is loaded)."""
        for widget in (self.strength, self.method, self.masking):
            widget.setEnabled(enabled)
