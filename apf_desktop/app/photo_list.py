"""The photo list: thumbnails (faces outlined in their verdict colours) with each photo's name and status."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from apf_desktop.app.imaging import THUMB
from apf_desktop.app.photos import Photo

_PATH = Qt.ItemDataRole.UserRole


class PhotoList(QListWidget):
    """One item per photo, keyed by its path."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 24, THUMB + 44))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QListWidget.DragDropMode.NoDragDrop)  # drops go to the tab, which adds photos

    def add(self, photo: Photo) -> None:
        item = QListWidgetItem()
        item.setData(_PATH, str(photo.path))
        self.addItem(item)
        self.update_photo(photo)
        if self.currentItem() is None:
            self.setCurrentItem(item)

    def item_for(self, path: Path) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(_PATH) == str(path):
                return self.item(row)
        return None

    def update_photo(self, photo: Photo, thumb: QImage | None = None) -> None:
        """Show the photo's status (and new thumbnail); a photo no longer listed is ignored."""
        item = self.item_for(photo.path)
        if item is None:
            return
        item.setText(f"{photo.path.name}\n{photo.status()}")
        item.setToolTip(f"{photo.path}\n{photo.error}" if photo.error else str(photo.path))
        if thumb is not None:
            item.setIcon(QIcon(QPixmap.fromImage(thumb)))
        if photo.state == "failed":
            item.setForeground(Qt.GlobalColor.red)

    def current_path(self) -> Path | None:
        item = self.currentItem()
        return Path(item.data(_PATH)) if item is not None else None

    def take_selected(self) -> list[Path]:
        """Remove the selected items; returns their paths."""
        paths = []
        for item in self.selectedItems():
            paths.append(Path(item.data(_PATH)))
            self.takeItem(self.row(item))
        return paths
