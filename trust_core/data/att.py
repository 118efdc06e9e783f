"""AT&T (ORL) faces: 40 people x 10 grey 92x112 images."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from trust_core.data.root import DataMissingError, dataset_dir


@lru_cache(maxsize=2)
def load_att_faces(root: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(images, labels)``: float ``(400, 1, 112, 92)`` in [0, 1] and identities 0..39 (folder sN -> N-1)."""
    folder = Path(root) if root is not None else dataset_dir("att_faces")
    people = sorted((p for p in folder.glob("s*") if p.is_dir() and p.name[1:].isdigit()), key=lambda p: int(p.name[1:]))
    if not people:
        raise DataMissingError("att_faces", f"no s1..s40 folders in {folder}")
    images, labels = [], []
    for person in people:
        for path in sorted(person.glob("*.pgm"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0):
            try:
                images.append(np.asarray(Image.open(path).convert("L"), dtype=np.uint8))
            except OSError as exc:
                raise DataMissingError("att_faces", f"{path} is unreadable ({exc})") from exc
            labels.append(int(person.name[1:]) - 1)
    stacked = torch.from_numpy(np.stack(images)).unsqueeze(1).float().div_(255.0)
    return stacked, torch.tensor(labels, dtype=torch.int64)
