"""The cloak pipeline the ``apf cloak`` command and the desktop app share.

photo → MTCNN faces → each face's 160-px box crop → the probe's signal on onnxruntime (the device side,
:class:`edge_probe.runtime.ProbeRuntime`) → the wire → the enhancer (embedded in-process by default, or a remote
``apf serve``) → the filter, resized to the crop → pasted back into the full-resolution photo under a feathered
mask (:func:`trust_core.faces.align.paste_faces`) → a new file written like the original. Only the wire message
leaves the device; the photo never does.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from apf_desktop.check import ProtectionCheck, verdict
from apf_desktop.photo import Photo, output_path, read_photo, write_photo
from edge_probe import wire
from edge_probe.client import HttpEnhancer, request_filter
from edge_probe.crops import CROP_SIZE, apply_filter, gray_filter, probe_view
from edge_probe.masking import STRENGTHS
from edge_probe.randomize import check_rate, randomize
from edge_probe.runtime import METHODS
from trust_core.faces.align import AlignedFaces, Face, align_faces, central_face, detect, paste_faces
from trust_core.faces.io import FaceImageError, load_image

#: the photo is detected on a copy at most this many pixels on its long side (boxes scaled back).
DETECT_MAX_SIDE = 2048
#: faces narrower than this are still protected, with a warning that resizing may undo it.
SMALL_FACE_PX = 40
#: photo suffixes a folder contributes.
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".avif"}


class CloakError(ValueError):
    """This photo cannot be cloaked (unreadable, no face, ...); the message says why. Nothing was written."""


class CloakCancelled(RuntimeError):
    """The caller's ``cancel()`` turned true; nothing was written for the photo in progress."""


@dataclass(frozen=True)
class CloakSettings:
    """What the user chose. ``server``/``token``: a remote enhancer; none: the embedded one."""

    strength: str = "mid"
    method: str = "di2fgsm"
    server: str | None = None
    token: str | None = None
    keep_metadata: bool = False
    check: bool = False
    references: tuple[Path, ...] = ()
    timeout: float = 30.0
    #: randomised response on the signal before it leaves the device (:mod:`edge_probe.randomize`); 0: off.
    randomize: float = 0.0
    #: apply each filter under the face's texture mask (:mod:`edge_probe.masking`), with the preset's masked budget;
    #: False: uniform, with its smaller uniform budget.
    masking: bool = True

    def __post_init__(self) -> None:
        if self.strength not in STRENGTHS:
            raise ValueError(f"strength must be one of {', '.join(STRENGTHS)}, got {self.strength!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.server is not None and not self.token:
            raise ValueError("a remote enhancer needs a token")
        check_rate(self.randomize)

    @property
    def eps(self) -> float:
        return STRENGTHS[self.strength].eps(masking=self.masking)


@dataclass
class FaceReport:
    """One face: its box in the photo, and the protection check (``verdict`` None when not checked)."""

    box: np.ndarray
    verdict: str | None = None
    checks: list[dict] = field(default_factory=list)
    warning: str | None = None

    @property
    def width(self) -> int:
        return int(round(self.box[2] - self.box[0]))

    def to_json(self) -> dict:
        return {"box": [round(float(v), 1) for v in self.box], "width": self.width, "verdict": self.verdict,
                "checks": self.checks, "warning": self.warning}


@dataclass
class CloakResult:
    """A cloaked photo: where it came from, where it went, its faces and the time it took."""

    source: Path
    output: Path
    faces: list[FaceReport]
    seconds: float
    skipped: bool = False

    def to_json(self) -> dict:
        return {"source": str(self.source), "output": str(self.output), "seconds": round(self.seconds, 3),
                "skipped": self.skipped, "faces": [f.to_json() for f in self.faces]}


def photo_files(paths: Sequence[Path | str]) -> list[Path]:
    """Files as given, and the photos directly inside each folder (sorted; earlier cloaked copies left out)."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file()
                              and not p.stem.endswith("-cloaked")))
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def detect_faces(pixels: np.ndarray) -> list[Face]:
    """Every face in the photo, detected on a copy whose long side is at most :data:`DETECT_MAX_SIDE`."""
    import cv2

    scale = min(1.0, DETECT_MAX_SIDE / max(pixels.shape[:2]))
    small = pixels if scale == 1.0 else cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return [Face(f.box / scale, f.landmarks / scale, f.score) for f in detect([small])[0]]


class Cloaker:
    """Cloaks photos with the settings; models load lazily on first use (thread-safe), or in :meth:`warm_up`."""

    def __init__(self, settings: CloakSettings | None = None, *, enhancer: object | None = None) -> None:
        self.settings = settings or CloakSettings()
        self._enhancer = enhancer
        self._probe = None
        self._references: tuple[list[np.ndarray], dict[str, np.ndarray]] | None = None
        self.checker = ProtectionCheck()
        self._lock = threading.RLock()

    # -- lazily loaded parts -------------------------------------------------------------------------------------
    @property
    def probe(self):  # noqa: ANN201 - edge_probe.runtime.ProbeRuntime
        with self._lock:
            if self._probe is None:
                from edge_probe.runtime import ProbeRuntime

                self._probe = ProbeRuntime(threads=2)
            return self._probe

    @property
    def enhancer(self) -> object:
        """The remote enhancer when a server is set, else the embedded one (the shipped weights)."""
        with self._lock:
            if self._enhancer is None:
                if self.settings.server:
                    self._enhancer = HttpEnhancer(self.settings.server, token=self.settings.token or "",
                                                  timeout=self.settings.timeout)
                else:
                    from cloud_enhancer.enhancer import Enhancer

                    self._enhancer = Enhancer.load()
            return self._enhancer

    def references(self) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """The reference photos' probe crops (for x_e) and, with ``check``, their embeddings per recognizer."""
        with self._lock:
            if self._references is None:
                photos = []
                for path in self.settings.references:
                    try:
                        photos.append(load_image(path))
                    except FaceImageError as exc:
                        raise CloakError(f"reference photo {exc}") from None
                faces = []
                for photo, found in zip(photos, detect(photos) if photos else [], strict=True):
                    face = central_face(found, photo.shape)
                    if face is None:
                        raise CloakError("no face found in a reference photo")
                    faces.append((photo, face))
                crops = [probe_view(align_faces(photo, [face], size=CROP_SIZE, method="box").crops.numpy())[0]
                         for photo, face in faces]
                embeddings = self.checker.reference_embeddings(faces) if faces and self.settings.check else {}
                self._references = (crops, embeddings)
            return self._references

    def warm_up(self) -> None:
        """Load every model now (e.g. from a background thread at start-up)."""
        self.probe, self.enhancer  # noqa: B018 - loading is the point
        if self.settings.check:
            self.checker.recognizers  # noqa: B018

    # -- the pipeline --------------------------------------------------------------------------------------------
    def detect(self, path: Path | str) -> list[Face]:
        """The faces in the photo at ``path``; ``FaceImageError`` if it cannot be read."""
        return detect_faces(load_image(path))

    def protect(self, pixels: np.ndarray, faces: Sequence[Face], *, gray: bool = False,
                cancel: Callable[[], bool] | None = None) -> tuple[np.ndarray, AlignedFaces]:
        """The photo with every face in ``faces`` protected, and the crops the filter was made for; ``gray``: the
        photo is grayscale, so the filter is too (:func:`edge_probe.crops.gray_filter`)."""
        aligned = align_faces(pixels, faces, size=CROP_SIZE, method="box")
        crops = aligned.crops.numpy()
        views = probe_view(crops)
        ref_crops = self.references()[0] or None
        rng = np.random.default_rng()  # the randomised response's draws: fresh OS entropy, one generator per call
        signals = []
        for view in views:
            if cancel and cancel():
                raise CloakCancelled("cancelled")
            signal = self.probe.signal(view, method=self.settings.method, eps=self.settings.eps,
                                       references=ref_crops)[0]
            if self.settings.randomize:
                signal = randomize(signal, method=self.settings.method, eps=self.settings.eps,
                                   rate=self.settings.randomize, rng=rng)
            signals.append(signal)
        filters = []
        for start in range(0, len(signals), wire.MAX_FACES):
            chunk = np.stack(signals[start:start + wire.MAX_FACES])
            message = wire.encode(chunk, kind="signal", method=self.settings.method, eps=self.settings.eps,
                                  encoding="sign" if self.settings.method == "fgsm" else "int8-deflate")
            filters.append(request_filter(message, self.enhancer).values)  # type: ignore[arg-type]
        import torch

        filters = np.concatenate(filters)
        if gray:
            filters = gray_filter(filters, self.settings.eps)
        protected = apply_filter(crops, filters, masking=self.settings.masking)
        return paste_faces(pixels, aligned, torch.from_numpy(protected)), aligned

    def cloak_file(self, path: Path | str, *, out_dir: Path | str | None = None,
                   cancel: Callable[[], bool] | None = None, overwrite: bool = False) -> CloakResult:
        """Cloak one photo into ``out_dir`` (default: beside it) as ``<name>-cloaked.<ext>``.

        An existing output is kept and reported as skipped (a rerun resumes a batch) unless ``overwrite``;
        with ``check`` it is checked again as it is.
        Raises :class:`CloakError` for this photo's problems, :class:`CloakCancelled` on ``cancel``,
        :class:`edge_probe.client.EnhancerUnavailable` when the remote enhancer is down.
        """
        start = time.perf_counter()
        path = Path(path)
        try:
            photo = read_photo(path)
        except FaceImageError as exc:
            raise CloakError(str(exc)) from None
        target = output_path(photo, out_dir)
        done = target.exists() and not overwrite
        if done and not self.settings.check:
            return CloakResult(path, target, [], time.perf_counter() - start, skipped=True)
        faces = detect_faces(photo.pixels)
        if not faces:
            raise CloakError(f"{path.name}: no face found; nothing to protect")
        reports = [FaceReport(f.box.copy(), warning=(f"face only {int(f.box[2] - f.box[0])} px wide: resizing the "
                                                     "photo may undo its protection")
                              if f.box[2] - f.box[0] < SMALL_FACE_PX else None) for f in faces]
        if not done:
            protected, _ = self.protect(photo.pixels, faces, gray=photo.neutral, cancel=cancel)
            if cancel and cancel():
                raise CloakCancelled("cancelled")
            write_photo(photo, protected, target, keep_metadata=self.settings.keep_metadata)
        if self.settings.check:  # an earlier output is checked again as it is
            self.check(photo, target, faces, reports)
        return CloakResult(path, target, reports, time.perf_counter() - start, skipped=done)

    def check(self, photo: Photo, written: Path, faces: Sequence[Face], reports: Sequence[FaceReport]) -> None:
        """Fill each report's checks and verdict from the file as written."""
        saved = load_image(written)
        refs = self.references()[1]
        for report, checks in zip(reports, self.checker.run(photo.pixels, saved, faces, references=refs), strict=True):
            report.checks = [c.to_json() for c in checks]
            report.verdict = verdict(checks)
