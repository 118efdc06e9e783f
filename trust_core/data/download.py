"""Download the public data sets from their official homes into the data root (for users with internet).

Every source is a URL plus an expected checksum; the fetch is atomic (temporary file, verify, rename) and
any ``base_url`` can be substituted (a mirror, or a local server in tests).
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from trust_core.data.root import data_root


@dataclass(frozen=True)
class Source:
    """One file to fetch: its name, where it lives, and an md5 (None: not pinned).

    With ``md5_of_content`` the md5 is of the gunzipped content, so any re-compression of a mirror verifies.
    """

    filename: str
    base_url: str
    md5: str | None = None
    md5_of_content: bool = False

    def verify(self, path: Path) -> str | None:
        """None when ``path`` matches; else the md5 found."""
        if self.md5 is None:
            return None
        got = _md5(path, gunzip=self.md5_of_content)
        return None if got == self.md5 else got


_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
SOURCES: dict[str, list[Source]] = {
    "mnist": [  # md5 of the raw idx files (LeCun's published sums)
        Source("train-images-idx3-ubyte.gz", _MNIST, "6bbc9ace898e44ae57da46a324031adb", md5_of_content=True),
        Source("train-labels-idx1-ubyte.gz", _MNIST, "a25bea736e30d166cdddb491f175f624", md5_of_content=True),
        Source("t10k-images-idx3-ubyte.gz", _MNIST, "2646ac647ad5339dbf082846283269ea", md5_of_content=True),
        Source("t10k-labels-idx1-ubyte.gz", _MNIST, "27ae3e4e09519cfbb04c329615203637", md5_of_content=True),
    ],
    "lfw": [
        Source("lfw.tgz", "https://vis-www.cs.umass.edu/lfw/", "a17d05bd522c52d84eca14327a23d494"),
        Source("pairs.txt", "https://vis-www.cs.umass.edu/lfw/", "9f1ba174e4e1c508ff7cdf10ac338a7d"),
    ],
    "att_faces": [
        Source("att_faces.zip", "https://www.cl.cam.ac.uk/research/dtg/attarchive/pub/data/", None),
    ],
}


class DownloadError(RuntimeError):
    """A download failed or its checksum did not match."""


def _md5(path: Path, *, gunzip: bool = False) -> str:
    digest = hashlib.md5()
    with (gzip.open if gunzip else open)(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(source: Source, dest_dir: Path, *, base_url: str | None = None, timeout: float = 60.0) -> Path:
    """Fetch one file into ``dest_dir`` (skipped when already there with the right checksum)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / source.filename
    if dest.is_file() and source.verify(dest) is None:
        return dest
    url = (base_url or source.base_url).rstrip("/") + "/" + source.filename
    with tempfile.NamedTemporaryFile(dir=dest_dir, delete=False, suffix=".part") as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - https or a chosen mirror
                shutil.copyfileobj(response, tmp)
        except OSError as exc:
            tmp_path.unlink(missing_ok=True)
            raise DownloadError(f"could not download {url}: {exc}") from exc
    try:
        got = source.verify(tmp_path)
    except OSError as exc:  # e.g. not gzip at all
        got = f"unreadable ({exc})"
    if got is not None:
        tmp_path.unlink(missing_ok=True)
        raise DownloadError(f"{url}: md5 {got} does not match the expected {source.md5}")
    tmp_path.replace(dest)
    return dest


def _unpack(archive: Path, dest_dir: Path) -> None:
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest_dir)
    elif archive.name.endswith((".tgz", ".tar.gz")):
        with tarfile.open(archive) as tf:
            tf.extractall(dest_dir, filter="data")
    elif archive.suffix == ".gz":
        return  # MNIST idx.gz files are read as they are


def download(dataset: str, *, root: Path | None = None, base_url: str | None = None) -> Path:
    """Download and unpack ``dataset`` into ``<root>/<dataset>``; returns that folder."""
    if dataset not in SOURCES:
        raise ValueError(f"no download source for {dataset!r}; downloadable: {', '.join(SOURCES)}")
    target = (root or data_root()) / dataset
    for source in SOURCES[dataset]:
        path = fetch(source, target, base_url=base_url)
        _unpack(path, target)
    if dataset == "att_faces" and (target / "att_faces").is_dir():  # some mirrors nest the folders
        for child in (target / "att_faces").iterdir():
            child.rename(target / child.name)
    return target

