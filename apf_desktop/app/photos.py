"""The photos of a session and the background work on them: finding and reading them, then protecting them.

The functions here run in worker threads and import the pipeline there (it pulls in torch): the window
never waits for it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from apf_desktop.app.imaging import load_qimage, placeholder, thumbnail, worst
from apf_desktop.app.workers import Job, readable


class BatchStopped(ValueError):
    """A failure that ends the whole batch (the enhancer is down or refuses us); the message says why."""


@dataclass
class Photo:
    """One photo in the list: what detection found, and the protection result once there is one."""

    path: Path
    state: str = "reading"  # reading, ready, queued, protecting, protected, failed
    faces: list = field(default_factory=list)  # trust_core.faces.align.Face
    result: Any = None  # pipeline.CloakResult
    error: str = ""

    def boxes(self) -> list[tuple[Any, str | None]]:
        """Face boxes with their verdicts (from the result when there is one)."""
        if self.result is not None:
            return [(face.box, face.verdict) for face in self.result.faces]
        return [(face.box, None) for face in self.faces]

    def status(self) -> str:
        if self.state == "protected":
            return worst(v for _, v in self.boxes()) or "protected (not checked)"
        return {"reading": "reading…", "ready": f"{len(self.faces)} face{'s' * (len(self.faces) != 1)}",
                "queued": "queued", "protecting": "protecting…", "failed": "error"}[self.state]


@dataclass(frozen=True)
class Found:
    """The photo files that the added paths stand for (folders expanded)."""

    paths: list[Path]


@dataclass(frozen=True)
class PhotoEvent:
    """Something that happened to one photo in the background, with its new thumbnail or its error."""

    path: Path
    thumb: QImage | None = None
    error: str = ""


@dataclass(frozen=True)
class Scanned(PhotoEvent):
    """The photo was read: its faces (empty with ``error`` when it cannot be used)."""

    faces: list = field(default_factory=list)


@dataclass(frozen=True)
class Step(PhotoEvent):
    """Progress of a protect batch: photo ``index`` ``started``, ``protected`` (with ``result``) or ``failed``."""

    index: int = 0
    kind: str = "started"
    result: Any = None


@dataclass(frozen=True)
class BatchSummary:
    protected: int
    failed: int
    cancelled: bool


def find_and_scan(job: Job, paths: list[Path]) -> None:
    """Report the photo files (:class:`Found`), then read and detect each one (:class:`Scanned`)."""
    from apf_desktop.pipeline import Cloaker, photo_files

    found = [p.resolve() for p in photo_files(paths)]
    job.report(Found(found))
    detector = Cloaker()
    for path in found:
        if job.cancelled():
            return
        try:
            image = load_qimage(path)
            faces = detector.detect(path)
            job.report(Scanned(path, thumbnail(image, [(f.box, None) for f in faces]), faces=list(faces)))
        except Exception as exc:  # noqa: BLE001 - one bad photo never stops the others
            job.report(Scanned(path, placeholder("!"), readable(exc)))


def protect(job: Job, items: list[tuple[Path, Path | None]], cloaker: Any) -> BatchSummary:
    """Cloak each ``(photo, out_dir)``, reporting a :class:`Step` per event; a failed photo never stops the rest.

    An unreachable or refusing enhancer stops the batch (:class:`BatchStopped`): every photo would fail alike.
    """
    from apf_desktop.pipeline import CloakCancelled
    from edge_probe.client import EnhancerRejected, EnhancerUnavailable

    protected = failed = 0
    for index, (path, out_dir) in enumerate(items):
        if job.cancelled():
            return BatchSummary(protected, failed, cancelled=True)
        job.report(Step(path, index=index))
        try:
            result = cloaker.cloak_file(path, out_dir=out_dir, cancel=job.cancelled, overwrite=True)
            thumb = thumbnail(load_qimage(result.output), [(f.box, f.verdict) for f in result.faces])
        except CloakCancelled:
            return BatchSummary(protected, failed, cancelled=True)
        except (EnhancerUnavailable, EnhancerRejected) as exc:
            raise BatchStopped(f"The enhancer did not help with {path.name}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - one bad photo never stops the others
            failed += 1
            job.report(Step(path, error=readable(exc), index=index, kind="failed"))
        else:
            protected += 1
            job.report(Step(path, thumb, index=index, kind="protected", result=result))
    return BatchSummary(protected, failed, cancelled=False)
