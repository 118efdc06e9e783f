"""The Protect tab: photos with their faces, the before/after view, strength and method, Protect, the check."""
from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget

from apf_desktop.app import settings
from apf_desktop.app.before_after import BeforeAfter
from apf_desktop.app.dialogs import show_error
from apf_desktop.app.imaging import THUMB, load_qimage
from apf_desktop.app.options import ProtectionOptions
from apf_desktop.app.photo_list import PhotoList
from apf_desktop.app.photos import BatchSummary, Found, Photo, Scanned, Step, find_and_scan, protect
from apf_desktop.app.report import FaceReportView
from apf_desktop.app.workers import Job, Tasks

_MAX_LISTED = 5


def _plural(count: int, noun: str = "photo") -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


class ProtectTab(QWidget):
    """Add photos, protect them in the background, compare and check. ``message`` feeds the status bar.

    The pipeline module is imported in the background (:meth:`load_pipeline`); until it is there, photos can be
    added and viewed but not protected. ``make_cloaker`` builds the pipeline's ``Cloaker`` from its settings.
    """

    message = Signal(str)

    def __init__(self, prefs: settings.Preferences, store: QSettings, tasks: Tasks, parent: QWidget | None = None, *,
                 make_cloaker: Callable[[Any], Any] | None = None) -> None:
        super().__init__(parent)
        self.prefs, self.store, self.tasks = prefs, store, tasks
        self.pipeline: ModuleType | None = None
        self.make_cloaker = make_cloaker
        self.photos: dict[Path, Photo] = {}
        self.batch: Job | None = None
        self._failures: list[str] = []
        self._cloaker: tuple[Any, Any] | None = None  # (CloakSettings, Cloaker)
        self._warm_up = True
        self.setAcceptDrops(True)

        self.list = PhotoList()
        self.list.currentItemChanged.connect(lambda *_: self.show_current())
        QShortcut(QKeySequence.StandardKey.Delete, self.list, self.remove_selected)
        self.add_button = self._button("Add photos…", self.add_dialog)
        self.folder_button = self._button("Add folder…", self.add_folder_dialog)
        self.remove_button = self._button("Remove", self.remove_selected)
        self.compare = BeforeAfter()
        self.options = ProtectionOptions(prefs.strength, prefs.method, prefs.masking == "on")
        self.options.changed.connect(self._remember_options)
        self.protect_button = self._button("Protect", self.start_protect)
        self.protect_button.setStyleSheet("font-weight:bold; padding:6px;")
        self.cancel_button = self._button("Cancel", self.cancel)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m photos")
        self.progress.setTextVisible(False)  # until the first batch
        self.export_button = self._button("Export protected photos…", self.export_dialog)
        self.report = FaceReportView()
        self.report.show_message("No photo selected")
        self._layout()
        self._sync_buttons()

    def _button(self, text: str, slot: Callable[[], Any]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(lambda: slot())
        return button

    def _layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        row = QHBoxLayout()
        for button in (self.add_button, self.folder_button, self.remove_button):
            row.addWidget(button)
        left_layout.addLayout(row)
        left_layout.addWidget(self.list, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.protect_button, 1)
        actions.addWidget(self.cancel_button)
        check = QGroupBox("Protection check")
        QVBoxLayout(check).addWidget(self.report)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.options)
        right_layout.addLayout(actions)
        right_layout.addWidget(self.progress)
        right_layout.addWidget(self.export_button)
        right_layout.addWidget(check, 1)
        splitter = QSplitter()
        for widget, stretch in ((left, 0), (self.compare, 1), (right, 0)):
            splitter.addWidget(widget)
            splitter.setStretchFactor(splitter.count() - 1, stretch)
        splitter.setSizes([THUMB + 60, 700, 440])
        QVBoxLayout(self).addWidget(splitter)

    # the pipeline

    def load_pipeline(self, *, warm_up: bool = True) -> Job:
        """Import the pipeline in the background; then fill the choices and (``warm_up``) load the models."""
        self.message.emit("Loading the protection pipeline…")
        self._warm_up = warm_up
        return self.tasks.start(lambda job: importlib.import_module("apf_desktop.pipeline"),
                                done=self._pipeline_loaded, failed=self._warm_up_failed)

    def _pipeline_loaded(self, module: ModuleType) -> None:
        self.pipeline = module
        self.make_cloaker = self.make_cloaker or module.Cloaker
        self.options.fill(module.STRENGTHS, module.METHODS)
        self._sync_buttons()
        cloaker = self.cloaker() if self._warm_up else None
        if cloaker is None:
            self.message.emit("Ready")
            return
        self.message.emit("Loading models…")
        self.tasks.start(lambda job: cloaker.warm_up(), done=self._warm_up_done, failed=self._warm_up_failed)

    def _warm_up_done(self, _: object) -> None:
        self.message.emit("Models ready")

    def _warm_up_failed(self, message: str) -> None:
        self.message.emit("Models could not be loaded")
        show_error(self, "Models could not be loaded", f"{message}\n\nCheck the enhancer in Settings.")

    def _remember_options(self) -> None:
        self.prefs.strength, self.prefs.method, masking = self.options.choices()
        self.prefs.masking = "on" if masking else "off"
        settings.save(self.store, self.prefs)

    def cloaker(self) -> Any:  # noqa: ANN401 - pipeline.Cloaker
        """The Cloaker for the current choices (reused while they do not change); None, with a dialog, if they are invalid."""
        try:
            wanted = self.prefs.cloak_settings(check=self.options.check.isChecked())
        except ValueError as exc:
            show_error(self, "Settings incomplete", f"{exc}\n\nFix it in Settings.")
            return None
        if self._cloaker is None or self._cloaker[0] != wanted:
            self._cloaker = (wanted, self.make_cloaker(wanted))
        return self._cloaker[1]

    # adding and removing photos

    def add_paths(self, paths: list[Path]) -> Job:
        """Add photo files and folders (the photos directly inside them); they are read in the background."""
        return self.tasks.start(lambda job: find_and_scan(job, paths), progress=self._on_scan_progress,
                                failed=self._scan_failed)

    def _scan_failed(self, message: str) -> None:
        show_error(self, "Photos could not be added", message)

    def add_dialog(self) -> None:
        suffixes = sorted(self.pipeline.PHOTO_SUFFIXES) if self.pipeline else []
        pattern = f"Photos ({' '.join('*' + s for s in suffixes)});;" if suffixes else ""
        files, _ = QFileDialog.getOpenFileNames(self, "Add photos", "", pattern + "All files (*)")
        self.add_paths([Path(f) for f in files])

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos")
        if folder:
            self.add_paths([Path(folder)])

    def remove_selected(self) -> None:
        if self.batch is not None:
            return  # the batch holds these photos
        for path in self.list.take_selected():
            del self.photos[path]
        self._sync_buttons()
        self.show_current()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    def _on_scan_progress(self, event: Found | Scanned) -> None:
        if isinstance(event, Found):
            for path in event.paths:
                if path not in self.photos:
                    self.photos[path] = Photo(path)
                    self.list.add(self.photos[path])
            self._sync_buttons()
            return
        photo = self.photos.get(event.path)
        if photo is None or photo.state != "reading":
            return  # removed meanwhile, or added twice
        photo.state = "failed" if event.error else "ready"
        photo.faces, photo.error = event.faces, event.error
        self._update(photo, event.thumb)
        if event.error:
            self.message.emit(f"Cannot use {event.path.name}")
            show_error(self, "Photo cannot be used", event.error)
        self._sync_buttons()

    def _update(self, photo: Photo, thumb: QImage | None = None) -> None:
        self.list.update_photo(photo, thumb)
        if photo.path == self.list.current_path():
            self.show_current()

    # protecting

    def pending(self) -> list[Photo]:
        """What Protect works on: the readable photos not protected yet (all of them if every one is)."""
        usable = [p for p in self.photos.values() if p.state != "failed" or p.result is not None]
        todo = [p for p in usable if p.result is None]
        return todo or usable

    def start_protect(self) -> Job | None:
        photos = self.pending()
        if self.batch is not None or not photos or self.pipeline is None:
            return None
        cloaker = self.cloaker()
        if cloaker is None:
            return None
        items = [(p.path, self.prefs.out_dir()) for p in photos]
        for photo in photos:
            photo.state, photo.error = "queued", ""
            self.list.update_photo(photo)
        self._failures = []
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.batch = self.tasks.start(lambda job: protect(job, items, cloaker), progress=self._on_step,
                                      done=self._on_batch_done, failed=self._on_batch_failed)
        self._sync_buttons()
        return self.batch

    def cancel(self) -> None:
        if self.batch is not None:
            self.batch.cancel()
            self.cancel_button.setEnabled(False)
            self.message.emit("Cancelling…")

    def _on_step(self, step: Step) -> None:
        if step.kind != "started":
            self.progress.setValue(step.index + 1)
        photo = self.photos.get(step.path)
        if photo is None:
            return
        if step.kind == "started":
            photo.state = "protecting"
            self.message.emit(f"Protecting {step.path.name} ({step.index + 1} of {self.progress.maximum()})…")
        elif step.kind == "protected":
            photo.state, photo.result = "protected", step.result
        else:
            photo.state, photo.error = "failed", step.error
            self._failures.append(step.error)
        self._update(photo, step.thumb)

    def _on_batch_done(self, summary: BatchSummary) -> None:
        self._end_batch()
        text = f"Protected {_plural(summary.protected)}" + (f", {summary.failed} failed" if summary.failed else "")
        self.message.emit(text + (" (cancelled)" if summary.cancelled else ""))
        if self._failures:
            listed = "\n".join(self._failures[:_MAX_LISTED])
            more = f"\n… and {len(self._failures) - _MAX_LISTED} more" if len(self._failures) > _MAX_LISTED else ""
            show_error(self, "Some photos were not protected",
                       f"{_plural(len(self._failures))} could not be protected; the others were.\n\n{listed}{more}",
                       "\n".join(self._failures))

    def _on_batch_failed(self, message: str) -> None:
        self._end_batch()
        self.message.emit("Protection stopped by an error")
        show_error(self, "Protection stopped", message)

    def _end_batch(self) -> None:
        self.batch = None
        for photo in self.photos.values():
            if photo.state in ("queued", "protecting"):
                photo.state = "ready"
                self.list.update_photo(photo)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        working, loaded = self.batch is not None, self.pipeline is not None
        count = len(self.pending())
        self.protect_button.setEnabled(not working and count > 0 and loaded)
        self.protect_button.setText("Loading…" if not loaded else f"Protect {_plural(count)}" if count else "Protect")
        self.options.set_choosable(not working and loaded)
        self.cancel_button.setEnabled(working)
        self.remove_button.setEnabled(not working and self.list.count() > 0)
        self.export_button.setEnabled(any(p.result is not None for p in self.photos.values()))

    # viewing and exporting

    def current(self) -> Photo | None:
        path = self.list.current_path()
        return self.photos.get(path) if path is not None else None

    def show_current(self) -> None:
        """Show the current photo (its images are decoded in the background) and its check."""
        photo = self.current()
        if photo is None:
            self.compare.view.set_photo(None)
            self.report.show_message("No photo selected")
            return
        if photo.result is not None:
            self.report.show_faces(photo.result.faces)
        else:
            self.report.show_message(photo.error or f"Not protected yet · {photo.status()}")
        output = photo.result.output if photo.result is not None else None
        self.tasks.start(lambda job: (photo.path, load_qimage(photo.path), load_qimage(output) if output else None),
                         done=self._show_images, failed=self.report.show_message)

    def _show_images(self, loaded: tuple[Path, QImage, QImage | None]) -> None:
        path, before, after = loaded
        photo = self.current()
        if photo is None or photo.path != path:
            return  # the user moved on
        view = self.compare.view
        same = view.before is not None and view.property("path") == str(path)
        view.setProperty("path", str(path))
        view.set_photo(before, after, photo.boxes(), keep_view=same)

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export protected photos to")
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> list[Path]:
        """Copy every protected photo into ``folder``; returns the copies."""
        folder.mkdir(parents=True, exist_ok=True)
        copies = [Path(shutil.copy2(p.result.output, folder / p.result.output.name))
                  for p in self.photos.values() if p.result is not None]
        self.message.emit(f"Exported {_plural(len(copies), 'protected photo')} to {folder}")
        return copies
