"""Face recognizers behind one interface, and their registry.

A recognizer maps aligned RGB face crops ``(N, 3, S, S)`` in ``[0, 1]`` (``S = input_size``) to
L2-normalised embeddings; two faces are the same person iff the cosine similarity of their
embeddings is ``>= threshold``. Differentiable recognizers expose ``module`` (an ``nn.Module`` with
the fixed input standardisation inside), so attacks from :mod:`trust_core.attacks` run on them.

>>> rec = get_recognizer("facenet-casia")
>>> emb = rec.embed(crops)                   # (N, 512), crops from trust_core.faces.align
>>> same = rec.similarity(emb[0], emb[1]) >= rec.threshold
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

    from trust_core.faces.align import AlignedFaces, Face

#: modules that register the built-in recognizers (imported on first registry lookup).
BUILTIN_MODULES = ("trust_core.faces.facenet_casia", "trust_core.faces.dlib_recognizer")
#: entry-point group of modules from other packages that register recognizers (edge_probe's ``probe``).
ENTRY_POINT_GROUP = "apf.recognizers"

_REGISTRY: dict[str, Callable[[], Recognizer]] = {}
R = TypeVar("R", bound="type[Recognizer]")


class Recognizer:
    """Base class: subclasses set the four attributes and implement :meth:`_embed`."""

    name: str = ""
    input_size: int = 160
    differentiable: bool = False
    threshold: float = 0.5
    #: how :meth:`align` crops faces: "landmarks" (ArcFace template) or "box" (box + ``align_margin`` px).
    align_method: str = "landmarks"
    align_margin: int = 32
    #: changes whenever the embeddings of the same crops change (part of the on-disk embedding cache key).
    cache_tag: str = ""

    @property
    def cache_key(self) -> str:
        return f"{self.name}-{self.cache_tag}" if self.cache_tag else self.name

    def align(self, image: np.ndarray, faces: Sequence[Face]) -> AlignedFaces:
        """This recognizer's crops of ``faces`` in the uint8 RGB ``image`` (with their crop -> photo affines)."""
        from trust_core.faces.align import align_faces

        return align_faces(image, faces, size=self.input_size, method=self.align_method, margin=self.align_margin)

    def embed(self, faces: torch.Tensor) -> torch.Tensor:
        """L2-normalised embeddings ``(N, D)`` of aligned crops ``(N, 3, input_size, input_size)`` in [0, 1]."""
        import torch

        if not isinstance(faces, torch.Tensor) or faces.ndim != 4 or faces.shape[1] != 3:
            raise ValueError(f"{self.name}: expected faces of shape (N, 3, {self.input_size}, {self.input_size})")
        if tuple(faces.shape[2:]) != (self.input_size, self.input_size):
            raise ValueError(
                f"{self.name}: expected {self.input_size}x{self.input_size} crops, got "
                f"{faces.shape[2]}x{faces.shape[3]} (align with trust_core.faces.align.align_faces(size=...))"
            )
        if faces.numel() and (faces.min() < 0 or faces.max() > 1):
            raise ValueError(f"{self.name}: face pixels must lie in [0, 1]")
        return self._embed(faces.float())

    def _embed(self, faces: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @staticmethod
    def similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Cosine similarity along the last dimension."""
        import torch.nn.functional as F

        return F.cosine_similarity(a, b, dim=-1)

    def same_person(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The recognizer's decision: ``similarity(a, b) >= threshold``."""
        return self.similarity(a, b) >= self.threshold

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, input_size={self.input_size}, "
            f"differentiable={self.differentiable}, threshold={self.threshold})"
        )


class TorchRecognizer(Recognizer):
    """A differentiable recognizer wrapping ``module`` ([0, 1] crops -> normalised embeddings)."""

    differentiable = True

    def __init__(self, module: nn.Module) -> None:
        self.module = module.eval()

    def _embed(self, faces: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        param = next(self.module.parameters())
        return F.normalize(self.module(faces.to(param.device)), dim=-1)


def register_recognizer(name: str) -> Callable[[R], R]:
    """Class decorator: make ``get_recognizer(name)`` build an instance of the class (no arguments)."""

    def decorate(cls: R) -> R:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtin() -> None:
    from importlib.metadata import entry_points

    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()


def available_recognizers() -> list[str]:
    """Names of every registered recognizer."""
    _load_builtin()
    return sorted(_REGISTRY)


@lru_cache(maxsize=None)
def get_recognizer(name: str) -> Recognizer:
    """The (cached) recognizer registered as ``name``; ``ValueError`` if unknown."""
    _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"unknown recognizer {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]()
