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
    """One file to fetch: its name, where it lives, and the md5 of its content (None: not pinned)."""

    filename: str
    base_url: str
    md5: str | None = None


SOURCES: dict[str, list[Source]] = {
    "mnist": [
        Source("train-images-idx3-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        Source("train-labels-idx1-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/", "d53e105ee54ea40749a09fcbcd1e9432"),
        Source("t10k-images-idx3-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/", "9fb629c4189551a2d022fa330f9573f3"),
        Source("t10k-labels-idx1-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/", "ec29112dd5afa0611ce80d1b7f02629c"),
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


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(source: Source, dest_dir: Path, *, base_url: str | None = None, timeout: float = 60.0) -> Path:
    """Fetch one file into ``dest_dir`` (skipped when already there with the right checksum)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / source.filename
    if dest.is_file() and (source.md5 is None or _md5(dest) == source.md5):
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
    if source.md5 is not None and (got := _md5(tmp_path)) != source.md5:
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


def gunzip(path: Path) -> Path:
    """Decompress ``x.gz`` beside itself (for tools that want raw idx files)."""
    out = path.with_suffix("")
    with gzip.open(path, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out
