"""Where the data sets live: ``$APF_DATA``, else ``../shared/data`` beside the repository, else the user data dir."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "APF_DATA"

#: dataset name -> (what it is, how to get it)
HOW_TO_GET: dict[str, str] = {
    "mnist": "MNIST idx files (*-ubyte or *-ubyte.gz). Run `apf data download mnist`.",
    "lfw": "LFW images (one flat folder images/ or the official lfw/<person>/ tree) and pairs.txt. Run `apf data download lfw`.",
    "celeba10k": "CelebA aligned images with list_attr_celeba.txt and identity_CelebA.txt. CelebA needs a manual "
    "download (Google Drive, non-commercial terms): https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
    "att_faces": "AT&T (ORL) faces: folders s1..s40 of PGM images. Run `apf data download att_faces`.",
}


class DataMissingError(FileNotFoundError):
    """A data set is missing or incomplete; the message says what and how to get it."""

    def __init__(self, dataset: str, detail: str) -> None:
        super().__init__(
            f"{dataset}: {detail}\n  looked under: {data_root()}  (set ${ENV_VAR} to use another folder)\n"
            f"  how to get it: {HOW_TO_GET.get(dataset, 'see README')}"
        )
        self.dataset = dataset


def _repo_shared() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def data_root() -> Path:
    """The data root: ``$APF_DATA`` if set, else ``<repo>/../shared/data`` if present, else the user data dir."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    shared = _repo_shared()
    if shared.is_dir():
        return shared
    return Path(platformdirs.user_data_dir("apf")) / "data"


def dataset_dir(name: str) -> Path:
    """The folder of one data set under :func:`data_root`, or :class:`DataMissingError`."""
    path = data_root() / name
    if not path.is_dir():
        raise DataMissingError(name, f"folder {path} not found")
    return path
