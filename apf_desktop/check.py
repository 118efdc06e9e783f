"""The protection check: does each protected face still match its person, on every recognizer here, after sharing?

Each protected face is compared with the same face in the original photo (and with the user's reference photos of
the person, when given) by every recognizer available locally — FaceNet-CASIA (the standard model the filter is
trained against), dlib (a black box the filter never saw) and the probe — on the saved photo, after JPEG
quality-75 recompression and after a 0.5× resize (what social networks do). A face is *protected* when no check
matches, *not protected* when half of them or more do, and *weak* in between.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trust_core.faces.align import Face
from trust_core.faces.sharing import scaled, shared_copy

#: recognizers the check uses when they can be loaded here, strongest first.
RECOGNIZERS = ("facenet-casia", "dlib", "probe")
#: the shared copies checked (:mod:`trust_core.faces.sharing`).
CONDITIONS = ("saved", "jpeg75", "half")
VERDICTS = ("protected", "weak", "not protected")


@dataclass(frozen=True)
class Check:
    """One comparison: ``recognizer`` on the ``condition`` copy against the ``against`` embedding."""

    recognizer: str
    condition: str
    against: str
    similarity: float
    threshold: float

    @property
    def matched(self) -> bool:
        return self.similarity >= self.threshold

    def to_json(self) -> dict:
        return {"recognizer": self.recognizer, "condition": self.condition, "against": self.against,
                "similarity": round(self.similarity, 4), "threshold": self.threshold, "matched": self.matched}


def verdict(checks: Sequence[Check]) -> str:
    """protected (nothing matches) / weak / not protected (half of the checks or more match)."""
    matched = sum(c.matched for c in checks)
    if matched == 0:
        return VERDICTS[0]
    return VERDICTS[2] if matched * 2 >= len(checks) else VERDICTS[1]


class ProtectionCheck:
    """Loads the available recognizers once (lazily, thread-safe) and checks protected photos."""

    def __init__(self, names: Sequence[str] = RECOGNIZERS) -> None:
        self.names = tuple(names)
        self._recognizers: list | None = None
        self._lock = threading.Lock()
        self.unavailable: dict[str, str] = {}

    @property
    def recognizers(self) -> list:
        """The recognizers that load here; the others are listed in :attr:`unavailable` with the reason."""
        with self._lock:
            if self._recognizers is None:
                from trust_core.faces.recognizers import get_recognizer

                loaded = []
                for name in self.names:
                    try:
                        loaded.append(get_recognizer(name))
                    except (ImportError, OSError, RuntimeError, ValueError) as exc:
                        self.unavailable[name] = f"{type(exc).__name__}: {exc}"
                self._recognizers = loaded
            return self._recognizers

    def reference_embeddings(self, references: Sequence[tuple[np.ndarray, Face]]) -> dict[str, np.ndarray]:
        """Per recognizer, the normalised mean embedding of the reference faces ((photo, face) pairs)."""
        import torch

        if not references:
            raise ValueError("no reference faces")
        out = {}
        for rec in self.recognizers:
            with torch.no_grad():
                emb = torch.cat([rec.embed(rec.align(photo, [face]).crops) for photo, face in references]).mean(0)
            out[rec.name] = (emb / emb.norm().clamp_min(1e-12)).numpy()
        return out

    def run(self, original: np.ndarray, protected: np.ndarray, faces: Sequence[Face], *,
            references: dict[str, np.ndarray] | None = None) -> list[list[Check]]:
        """Per face, every check of the ``protected`` photo against the ``original`` (and the references)."""
        import torch

        per_face: list[list[Check]] = [[] for _ in faces]
        if not faces:
            return per_face
        copies = [(condition, *shared_copy(protected, condition)) for condition in CONDITIONS]
        for rec in self.recognizers:
            with torch.no_grad():
                clean = rec.embed(rec.align(original, faces).crops)
                for condition, pixels, scale in copies:
                    emb = rec.embed(rec.align(pixels, [scaled(f, scale) for f in faces]).crops)
                    against = {"original": clean}
                    if references and rec.name in references:
                        against["references"] = torch.from_numpy(references[rec.name]).expand_as(emb)
                    for label, target in against.items():
                        sims = rec.similarity(emb, target).tolist()
                        for i, sim in enumerate(sims):
                            per_face[i].append(Check(rec.name, condition, label, float(sim), float(rec.threshold)))
        return per_face
