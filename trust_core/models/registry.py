"""The weights registry: every model the project ships or derives — file, sha256, provenance, loader, cache.

Shipped weights sit in ``<package>/weights/`` next to a ``manifest.json`` that records, for each file, its
sha256, the command that trained it, the data it saw and its metrics. Derived files (e.g. a converted
third-party model) are built once into the user cache directory (``$APF_CACHE`` overrides it).
"""
from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs

#: packages whose ``weights/manifest.json`` the registry reads (data lookups: no code is imported but __init__).
WEIGHT_PACKAGES = ("trust_core", "edge_probe", "cloud_enhancer", "captcha_gen")


class WeightsError(RuntimeError):
    """A model is unknown, missing or fails its checksum."""


@dataclass(frozen=True)
class WeightsEntry:
    """One shipped weights file and its provenance."""

    name: str
    package: str
    file: str
    sha256: str
    command: str = ""
    data: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    @property
    def path(self) -> Path:
        return Path(str(importlib.resources.files(self.package) / "weights" / self.file))


def cache_dir() -> Path:
    """The user cache for derived files: ``$APF_CACHE`` or the platform's cache dir."""
    path = Path(os.environ.get("APF_CACHE") or platformdirs.user_cache_dir("apf"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(package: str) -> Path:
    return Path(str(importlib.resources.files(package) / "weights" / "manifest.json"))


def read_manifest(package: str) -> dict[str, WeightsEntry]:
    path = manifest_path(package)
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    return {name: WeightsEntry(name=name, package=package, **fields) for name, fields in raw.items()}


def entries() -> dict[str, WeightsEntry]:
    """Every shipped weights entry of every package."""
    out: dict[str, WeightsEntry] = {}
    for package in WEIGHT_PACKAGES:
        out.update(read_manifest(package))
    return out


@lru_cache(maxsize=None)
def _verified(path: Path, size: int, mtime: float, expected: str) -> bool:
    return sha256_of(path) == expected


def weights_path(name: str) -> Path:
    """The verified path of shipped weights ``name``; :class:`WeightsError` if unknown, missing or altered."""
    known = entries()
    if name not in known:
        raise WeightsError(f"unknown weights {name!r}; known: {', '.join(sorted(known)) or 'none'}")
    entry = known[name]
    path = entry.path
    if not path.is_file():
        raise WeightsError(f"weights file {path} for {name!r} is missing; retrain with: {entry.command}")
    stat = path.stat()
    if not _verified(path, stat.st_size, stat.st_mtime, entry.sha256):
        raise WeightsError(f"weights file {path} fails its sha256 check; retrain with: {entry.command}")
    return path


def record(
    package: str,
    name: str,
    file: Path,
    *,
    command: str,
    data: str,
    metrics: dict[str, Any],
    notes: str = "",
    manifest: Path | None = None,
) -> WeightsEntry:
    """Add or replace ``name`` in ``package``'s manifest (training scripts call this after saving); ``manifest``
    names another one, e.g. beside an experiment's weights, so that the shipped manifest keeps its own."""
    path = manifest or manifest_path(package)
    raw = json.loads(path.read_text()) if path.is_file() else {}
    raw[name] = {
        "file": Path(file).name,
        "sha256": sha256_of(Path(file)),
        "command": command,
        "data": data,
        "metrics": metrics,
        "notes": notes,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(sorted(raw.items())), indent=2) + "\n")
    return WeightsEntry(name=name, package=package, **raw[name])


def derived(name: str, build: Callable[[Path], None], *, suffix: str = ".pt", key: str = "") -> Path:
    """A file derived once into the cache (``build(tmp_path)`` writes it); later calls return it at once.

    ``key`` (e.g. the sha256 of the source) is part of the file name, so a new source rebuilds.
    """
    target = cache_dir() / f"{name}{'-' + key[:12] if key else ''}{suffix}"
    if target.is_file():
        return target
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    try:
        build(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
