"""User preferences (enhancer mode, signal privacy, output folder, EXIF policy, last strength, method and texture
masking), kept in QSettings."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from PySide6.QtCore import QSettings

MODES = ("embedded", "remote")
EXIF_POLICIES = {"strip": "Remove identifying metadata (GPS, dates, camera)", "keep": "Keep metadata (not the thumbnail)"}
#: signal privacy -> (randomised-response rate of edge_probe.randomize, label); measured effect in the README.
PRIVACY = {"off": (0.0, "Send the face signal as computed"),
           "noise": (0.5, "Replace half of the signal with noise (reveals less of the face, protects less)")}


@dataclass
class Preferences:
    """What the user chose; ``output_dir`` empty means beside each photo."""

    mode: str = "embedded"
    url: str = ""
    token: str = ""
    output_dir: str = ""
    exif: str = "strip"
    privacy: str = "off"
    strength: str = "mid"
    method: str = "di2fgsm"
    #: "on": filters under the texture mask, as apf cloak by default; QSettings keeps strings.
    masking: str = "on"

    def out_dir(self) -> Path | None:
        """Where protected copies go (None: beside each photo, as ``<name>-cloaked.<ext>``)."""
        return Path(self.output_dir).expanduser() if self.output_dir else None

    def cloak_settings(self, *, check: bool = True):  # noqa: ANN201 - pipeline.CloakSettings, imported lazily
        """The pipeline settings these preferences describe."""
        from apf_desktop.pipeline import CloakSettings

        remote = self.mode == "remote"
        return CloakSettings(strength=self.strength, method=self.method, server=self.url.rstrip("/") if remote else None,
                             token=self.token if remote else None, keep_metadata=self.exif == "keep", check=check,
                             randomize=PRIVACY[self.privacy][0], masking=self.masking == "on")


def user_store() -> QSettings:
    """The signed-in user's settings (the application never uses any other outside tests)."""
    return QSettings("APF", "APF Desktop")


def load(store: QSettings) -> Preferences:
    """Preferences from ``store``; unknown or invalid values fall back to the defaults."""
    default = Preferences()
    values = {f.name: str(store.value(f.name, getattr(default, f.name))) for f in fields(Preferences)}
    prefs = Preferences(**values)
    if prefs.mode not in MODES:
        prefs.mode = default.mode
    if prefs.exif not in EXIF_POLICIES:
        prefs.exif = default.exif
    if prefs.privacy not in PRIVACY:
        prefs.privacy = default.privacy
    if prefs.masking not in ("on", "off"):
        prefs.masking = default.masking
    return prefs


def save(store: QSettings, prefs: Preferences) -> None:
    for key, value in asdict(prefs).items():
        store.setValue(key, value)
    store.sync()
