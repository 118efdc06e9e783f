"""Labeled Faces in the Wild: images by identity and the pairs.txt 10-fold verification protocol."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from trust_core.data.root import DataMissingError, dataset_dir

_NAME = re.compile(r"^(?P<person>.+)_(?P<num>\d{4})\.(?:jpg|jpeg|png)$", re.IGNORECASE)


@dataclass(frozen=True)
class Pair:
    """One verification pair: two image paths, whether they show the same person, and its fold (0-based)."""

    first: Path
    second: Path
    same: bool
    fold: int


class LFW:
    """LFW under ``<root>/lfw``: a flat ``images/`` folder or the official ``lfw/<person>/`` tree, and ``pairs.txt``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else dataset_dir("lfw")
        for candidate in (self.root / "images", self.root / "lfw", self.root):
            if candidate.is_dir() and any(candidate.iterdir()):
                self.image_dir = candidate
                break
        else:  # pragma: no cover - dataset_dir already checked the folder exists
            raise DataMissingError("lfw", f"no images under {self.root}")

    def path(self, person: str, number: int) -> Path:
        """Path of ``<person>_<number:04d>.jpg`` in either layout."""
        name = f"{person}_{number:04d}.jpg"
        flat = self.image_dir / name
        return flat if flat.is_file() else self.image_dir / person / name

    @lru_cache(maxsize=1)
    def images_by_person(self) -> dict[str, list[Path]]:
        """Every image, grouped by identity (sorted)."""
        people: dict[str, list[Path]] = {}
        for path in sorted(self.image_dir.rglob("*")):
            m = _NAME.match(path.name)
            if m and path.is_file():
                people.setdefault(m["person"], []).append(path)
        if not people:
            raise DataMissingError("lfw", f"no <person>_NNNN.jpg images in {self.image_dir}")
        return people

    @lru_cache(maxsize=1)
    def pairs(self) -> list[Pair]:
        """The 6,000 pairs of ``pairs.txt`` in file order, each with its fold."""
        pairs_file = self.root / "pairs.txt"
        if not pairs_file.is_file():
            raise DataMissingError("lfw", f"{pairs_file} not found")
        lines = pairs_file.read_text().split("\n")
        header = lines[0].split()
        try:
            folds, per_fold = int(header[0]), int(header[1])
        except (IndexError, ValueError) as exc:
            raise DataMissingError("lfw", f"pairs.txt header {lines[0]!r} is not '<folds> <pairs per fold>'") from exc
        rows = [line.split() for line in lines[1:] if line.strip()]
        if len(rows) != folds * per_fold * 2:
            raise DataMissingError("lfw", f"pairs.txt has {len(rows)} rows, expected {folds * per_fold * 2}")
        out: list[Pair] = []
        for i, row in enumerate(rows):
            fold = i // (2 * per_fold)
            if len(row) == 3:
                out.append(Pair(self.path(row[0], int(row[1])), self.path(row[0], int(row[2])), True, fold))
            elif len(row) == 4:
                out.append(Pair(self.path(row[0], int(row[1])), self.path(row[2], int(row[3])), False, fold))
            else:
                raise DataMissingError("lfw", f"pairs.txt row {i + 2} is malformed: {' '.join(row)!r}")
        return out

    def pair_images(self) -> set[Path]:
        """The images used by the verification protocol (never train on these)."""
        return {p for pair in self.pairs() for p in (pair.first, pair.second)}

    def training_people(self, min_images: int = 1) -> dict[str, list[Path]]:
        """Identities and images disjoint from pairs.txt: people none of whose images appear in any pair."""
        used_people = {_NAME.match(p.name)["person"] for p in self.pair_images()}  # type: ignore[index]
        return {
            person: paths
            for person, paths in self.images_by_person().items()
            if person not in used_people and len(paths) >= min_images
        }
