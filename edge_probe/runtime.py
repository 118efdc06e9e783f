"""The device side: the probe's signal on onnxruntime alone (numpy + onnxruntime; no torch).

Runs the graphs :mod:`edge_probe.export` wrote — ``embed.onnx`` for the reference embedding and
``signal-step.onnx`` once per step of the method — and matches :func:`edge_probe.signal.compute_signal`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_probe.diversity import diversity_matrix

INDEX_FILE = "signal-graphs.json"
METHODS = ("fgsm", "ifgsm", "mifgsm", "di2fgsm")
#: momentum per method (MI-FGSM: μ = 1); DI²-FGSM alone uses the diversity schedule.
MOMENTUM = {"fgsm": 0.0, "ifgsm": 0.0, "mifgsm": 1.0, "di2fgsm": 0.0}


def shipped_dir() -> Path:
    """The folder of the shipped graphs (``edge_probe/weights``)."""
    return Path(__file__).resolve().parent / "weights"


class ProbeRuntime:
    """The probe's embedding and gradient signal for single aligned 112×112 RGB crops in [0, 1]."""

    def __init__(self, folder: Path | str | None = None, *, threads: int = 1) -> None:
        import onnxruntime as ort

        self.folder = Path(folder) if folder is not None else shipped_dir()
        index_file = self.folder / INDEX_FILE
        if not index_file.is_file():
            raise FileNotFoundError(f"no exported probe graphs in {self.folder} (missing {INDEX_FILE}); "
                                    "export them with edge_probe.export.export_graphs")
        self.index = json.loads(index_file.read_text())
        self.size, self.dim = int(self.index["input_size"]), int(self.index["embedding_dim"])
        self.default_eps, self.default_steps = float(self.index["eps"]), int(self.index["steps"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        files = self.index["files"]
        self._embed = ort.InferenceSession(str(self.folder / files["embed"]), options, providers=["CPUExecutionProvider"])
        self._step = ort.InferenceSession(str(self.folder / files["step"]), options, providers=["CPUExecutionProvider"])
        self._eye = np.eye(self.size, dtype=np.float32)
        self._diversity = [(self._eye, self._eye) if d is None else
                           (diversity_matrix(self.size, d[0], d[1], d[2]), diversity_matrix(self.size, d[0], d[1], d[3]))
                           for d in self.index["diversity"]["draws"]]

    def check_crop(self, crop: np.ndarray) -> np.ndarray:
        """A (3, S, S) or (1, 3, S, S) float crop in [0, 1] -> float32 (1, 3, S, S); ValueError otherwise."""
        crop = np.asarray(crop)
        if crop.ndim == 3:
            crop = crop[None]
        if crop.shape != (1, 3, self.size, self.size):
            raise ValueError(f"the probe takes one aligned (3, {self.size}, {self.size}) face crop, got shape {crop.shape}")
        if not np.issubdtype(crop.dtype, np.floating):
            raise ValueError(f"the crop must be floating point in [0, 1], got {crop.dtype}")
        if not np.isfinite(crop).all():
            raise ValueError("the crop contains NaN or inf")
        if crop.min() < 0 or crop.max() > 1:
            raise ValueError(f"the crop must lie in [0, 1], got [{crop.min():.3g}, {crop.max():.3g}]")
        return np.ascontiguousarray(crop, dtype=np.float32)

    def embed(self, crop: np.ndarray) -> np.ndarray:
        """The probe's L2-normalised embedding (1, D) of one crop."""
        return self._embed.run(None, {"crop": self.check_crop(crop)})[0]

    def reference(self, crop: np.ndarray, references: list[np.ndarray] | None = None) -> np.ndarray:
        """x_e: the normalised mean embedding of ``references`` (other photos of the person), else the mirror's."""
        if references is None:
            return self.embed(self.check_crop(crop)[..., ::-1])
        if len(references) == 0:
            raise ValueError("references is empty: give at least one other photo of the person, or None")
        mean = np.mean([self.embed(r)[0] for r in references], axis=0, keepdims=True)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)

    def signal(self, crop: np.ndarray, *, method: str = "fgsm", eps: float | None = None, steps: int | None = None,
               reference: np.ndarray | None = None, references: list[np.ndarray] | None = None) -> np.ndarray:
        """The signal g (1, 3, S, S), |g| ≤ eps, of ``method`` for one crop (see :mod:`edge_probe.signal`)."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        eps = self.default_eps if eps is None else eps
        if not isinstance(eps, (int, float)) or not np.isfinite(eps) or not 0 < eps <= 1:
            raise ValueError(f"eps must be a number in (0, 1], got {eps!r}")
        steps = 1 if method == "fgsm" else (self.default_steps if steps is None else steps)
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if method == "di2fgsm" and steps > len(self._diversity):
            raise ValueError(f"DI²-FGSM's exported schedule has {len(self._diversity)} steps, asked for {steps}")
        crop = self.check_crop(crop)
        if reference is not None and references is not None:
            raise ValueError("give either a reference embedding or reference photos, not both")
        if reference is None:
            reference = self.reference(crop, references)
        reference = np.asarray(reference, dtype=np.float32).reshape(1, -1) if np.ndim(reference) in (1, 2) else None
        if reference is None or reference.shape != (1, self.dim) or not np.isfinite(reference).all():
            raise ValueError(f"reference must be one finite {self.dim}-d embedding")
        delta = velocity = np.zeros_like(crop)
        for i in range(steps):
            delta, velocity = self.step(crop, delta, velocity, reference, method=method, index=i, eps=eps, alpha=eps / steps)
        return delta

    def step(self, crop: np.ndarray, delta: np.ndarray, velocity: np.ndarray, reference: np.ndarray, *, method: str,
             index: int, eps: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Step ``index`` of ``method`` from (delta, velocity); returns the next (delta, velocity). Unchecked inputs."""
        rows, cols = self._diversity[index] if method == "di2fgsm" else (self._eye, self._eye)
        feeds = {"crop": crop, "delta": delta, "velocity": velocity, "reference": reference, "rows": rows, "cols": cols,
                 "alpha": np.array(alpha, np.float32), "momentum": np.array(MOMENTUM[method], np.float32),
                 "eps": np.array(eps, np.float32)}
        delta, velocity = self._step.run(None, feeds)
        return delta, velocity
