"""CelebA (or the CelebA-10k subset): aligned images, the 40 binary attributes and identities."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from trust_core.data.root import DataMissingError, dataset_dir


#: the face box (x0, y0, x1, y1) in the official aligned 178×218 images (CelebA-10k ships them at half size).
ALIGNED_FACE_BOX = (44.0, 76.0, 134.0, 186.0)


def face_box(width: int) -> tuple[float, float, float, float]:
    """:data:`ALIGNED_FACE_BOX` scaled to an aligned CelebA image ``width`` pixels wide."""
    if width <= 0:
        raise ValueError(f"image width must be positive, got {width}")
    scale = width / 178
    return tuple(v * scale for v in ALIGNED_FACE_BOX)  # type: ignore[return-value]


class CelebA:
    """CelebA under ``<root>/celeba10k`` (or any folder with ``images/`` and the official text files)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else dataset_dir("celeba10k")
        self.image_dir = self.root / "images"
        if not self.image_dir.is_dir():
            self.image_dir = self.root / "img_align_celeba"
        if not self.image_dir.is_dir():
            raise DataMissingError("celeba10k", f"no images/ or img_align_celeba/ in {self.root}")

    def _text(self, name: str) -> list[str]:
        path = self.root / name
        if not path.is_file():
            raise DataMissingError("celeba10k", f"{path} not found")
        return path.read_text().splitlines()

    @cached_property
    def _attributes(self) -> tuple[list[str], list[str], np.ndarray]:
        lines = self._text("list_attr_celeba.txt")
        try:
            count = int(lines[0])
            names = lines[1].split()
            rows = [line.split() for line in lines[2 : 2 + count]]
            files = [r[0] for r in rows]
            values = np.array([[int(v) for v in r[1:]] for r in rows], dtype=np.int8)
        except (IndexError, ValueError) as exc:
            raise DataMissingError("celeba10k", f"list_attr_celeba.txt is malformed ({exc})") from exc
        if values.shape != (count, len(names)):
            raise DataMissingError("celeba10k", f"list_attr_celeba.txt: expected {count}x{len(names)} values")
        return names, files, values

    @property
    def attribute_names(self) -> list[str]:
        return self._attributes[0]

    @property
    def files(self) -> list[str]:
        """Image file names in the attribute file's order."""
        return self._attributes[1]

    def paths(self) -> list[Path]:
        return [self.image_dir / f for f in self.files]

    def attribute(self, name: str) -> np.ndarray:
        """One attribute as 0/1 int64, aligned with :attr:`files`."""
        names, _, values = self._attributes
        if name not in names:
            raise ValueError(f"unknown CelebA attribute {name!r}; known: {', '.join(names)}")
        return (values[:, names.index(name)] > 0).astype(np.int64)

    @cached_property
    def identities(self) -> np.ndarray:
        """Identity id per image, aligned with :attr:`files`."""
        mapping = {}
        for line in self._text("identity_CelebA.txt"):
            parts = line.split()
            if len(parts) == 2:
                mapping[parts[0]] = int(parts[1])
        missing = [f for f in self.files if f not in mapping]
        if missing:
            raise DataMissingError("celeba10k", f"identity_CelebA.txt lacks {len(missing)} images, e.g. {missing[0]}")
        return np.array([mapping[f] for f in self.files], dtype=np.int64)
