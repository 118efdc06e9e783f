"""The face evaluation protocols: LFW verification, identification, and the APF protection protocol.

Huang et al., "Labeled Faces in the Wild", UMass TR 07-49, 2007 (10-fold verification by pairs.txt,
the threshold chosen on the 9 other folds). The APF protocol protects the first photo of every pair
with a ``cloak`` and counts how many genuine pairs the recognizer still matches at the clean threshold.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from trust_core.faces.align import AlignedFaces, Face, central_face, detect_files, paste_faces
from trust_core.faces.io import FaceImageError, load_image
from trust_core.faces.recognizers import Recognizer
from trust_core.models.registry import cache_dir, sha256_of

Cloak = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Embedded:
    """Embeddings by path, and the files that failed with their reasons."""

    embeddings: dict[Path, torch.Tensor] = field(default_factory=dict)
    errors: dict[Path, str] = field(default_factory=dict)
    fallbacks: list[Path] = field(default_factory=list)


def lfw_fallback_face(shape: tuple[int, ...]) -> Face:
    """The centred face LFW photos are cropped around (used where MTCNN finds none): a 110 px box."""
    cy, cx = shape[0] / 2, shape[1] / 2
    return Face.from_box([cx - 55, cy - 65, cx + 55, cy + 65])


def _crop_file(
    recognizer: Recognizer, path: Path, faces: list[Face], *, fallback: bool, several: str = "central"
) -> tuple[AlignedFaces, bool]:
    image = load_image(path)
    if several == "error" and len(faces) > 1:
        raise FaceImageError(path, f"{len(faces)} faces detected, expected one")
    face = central_face(faces, image.shape)
    if face is None and not fallback:
        raise FaceImageError(path, "no face detected")
    return recognizer.align(image, [face or lfw_fallback_face(image.shape)]), face is None


def embed_files(
    recognizer: Recognizer, paths: Sequence[Path], *, batch_size: int = 32, fallback: bool = False,
    several: str = "central", progress: bool = True,
) -> Embedded:
    """Embeddings of the face in each photo (cached on disk by file sha256 + recognizer).

    ``several="central"`` takes the largest central face of a multi-face photo, ``"error"`` rejects it;
    ``fallback`` uses LFW's centred box where no face is found. Files that fail (unreadable, no face,
    several faces) are recorded in ``errors``; the run continues.
    """
    if several not in ("central", "error"):
        raise ValueError(f"several must be 'central' or 'error', got {several!r}")
    from tqdm import tqdm

    out = Embedded()
    folder = cache_dir() / "embeddings" / recognizer.cache_key
    folder.mkdir(parents=True, exist_ok=True)
    todo: list[tuple[Path, Path]] = []
    for path in map(Path, dict.fromkeys(paths)):
        if not path.is_file():
            out.errors[path] = "no such file"
            continue
        digest = sha256_of(path)
        cached, guessed = folder / f"{digest}.npy", folder / f"{digest}.fallback.npy"
        if cached.is_file() and several == "central":
            out.embeddings[path] = torch.from_numpy(np.load(cached))
        elif guessed.is_file() and fallback:
            out.embeddings[path] = torch.from_numpy(np.load(guessed))
            out.fallbacks.append(path)
        else:
            todo.append((path, cached))
    bar = tqdm(total=len(todo), desc=f"embed {recognizer.name}", disable=not progress or not todo, unit="img")
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        detections = detect_files([p for p, _ in chunk])
        crops, kept = [], []
        for path, cached in chunk:
            found = detections[path]
            try:
                if isinstance(found, FaceImageError):
                    raise found
                aligned, used_fallback = _crop_file(recognizer, path, found, fallback=fallback, several=several)
            except FaceImageError as exc:
                out.errors[path] = exc.reason
                continue
            if used_fallback:
                out.fallbacks.append(path)
                cached = cached.with_suffix(".fallback.npy")
            crops.append(aligned.crops)
            kept.append((path, cached))
        if crops:
            with torch.no_grad():
                embeddings = recognizer.embed(torch.cat(crops)).cpu()
            for (path, cached), embedding in zip(kept, embeddings):
                np.save(cached, embedding.numpy())
                out.embeddings[path] = embedding
        bar.update(len(chunk))
    bar.close()
    return out


def best_threshold(similarities: np.ndarray, same: np.ndarray) -> float:
    """The accuracy-maximising threshold (midpoint between neighbouring similarities)."""
    order = np.sort(np.unique(similarities))
    candidates = np.concatenate([[order[0] - 1e-6], (order[1:] + order[:-1]) / 2, [order[-1] + 1e-6]])
    accuracy = [(np.equal(similarities >= t, same)).mean() for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def roc_curve(similarities: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true accept rates at every distinct threshold, from accept-nothing to accept-all."""
    order = np.argsort(-similarities, kind="mergesort")
    ranked, labels = similarities[order], same[order].astype(bool)
    last_of_tie = np.r_[np.diff(ranked) != 0, True]
    tar = np.r_[0.0, np.cumsum(labels)[last_of_tie] / max(labels.sum(), 1)]
    far = np.r_[0.0, np.cumsum(~labels)[last_of_tie] / max((~labels).sum(), 1)]
    return far, tar


def verification_metrics(
    similarities: np.ndarray, same: np.ndarray, folds: np.ndarray, *, default_threshold: float | None = None
) -> dict:
    """Per-fold accuracy with the threshold chosen on the other folds (or ``default_threshold`` when only
    one fold is present), ROC AUC and TAR at FAR = 1e-3 over all pairs."""
    present = np.unique(folds)
    per_fold, thresholds = [], []
    for fold in present:
        test = folds == fold
        if len(present) > 1:
            threshold = best_threshold(similarities[~test], same[~test])
        elif default_threshold is not None:
            threshold = default_threshold
        else:
            raise ValueError("one fold needs default_threshold (chosen on the other folds)")
        thresholds.append(threshold)
        per_fold.append(float(np.equal(similarities[test] >= threshold, same[test]).mean()))
    far, tar = roc_curve(similarities, same)
    tar_at = float(np.interp(1e-3, far, tar))
    return {
        "folds": [int(f) + 1 for f in present],
        "accuracy_per_fold": per_fold,
        "accuracy": float(np.mean(per_fold)),
        "accuracy_std": float(np.std(per_fold)),
        "thresholds": thresholds,
        "threshold": float(np.mean(thresholds)),
        "oracle_accuracy": float(np.equal(similarities >= best_threshold(similarities, same), same).mean()),
        "roc_auc": float(np.trapezoid(tar, far)),
        "tar_at_far_1e-3": tar_at,
        "roc": {"far": far.tolist(), "tar": tar.tolist()},
    }


def lfw_verification(
    recognizer: Recognizer, *, folds: int = 10, lfw=None, progress: bool = True  # noqa: ANN001
) -> dict:
    """LFW verification on the first ``folds`` folds of pairs.txt (see :func:`verification_metrics`).

    With one fold the threshold is the recognizer's ``threshold`` (chosen on LFW folds 2-10).
    MTCNN misses fall back to LFW's centred face box (counted in ``fallbacks``).
    """
    from trust_core.data import LFW

    if not 1 <= folds <= 10:
        raise ValueError(f"folds must lie in 1..10, got {folds}")
    pairs = [p for p in (lfw or LFW()).pairs() if p.fold < folds]
    photos = [q for p in pairs for q in (p.first, p.second)]
    embedded = embed_files(recognizer, photos, fallback=True, progress=progress)
    usable = [p for p in pairs if p.first in embedded.embeddings and p.second in embedded.embeddings]
    first = torch.stack([embedded.embeddings[p.first] for p in usable])
    second = torch.stack([embedded.embeddings[p.second] for p in usable])
    similarities = recognizer.similarity(first, second).numpy()
    same = np.array([p.same for p in usable])
    metrics = verification_metrics(similarities, same, np.array([p.fold for p in usable]),
                                   default_threshold=recognizer.threshold)
    metrics.update(recognizer=recognizer.name, pairs=len(usable), skipped_pairs=len(pairs) - len(usable),
                   fallbacks=len(embedded.fallbacks), errors={str(k): v for k, v in embedded.errors.items()})
    return metrics


def identification(
    recognizer: Recognizer, *, min_images: int = 10, lfw=None, progress: bool = True  # noqa: ANN001
) -> dict:
    """Closed-set rank-1 identification on LFW people with >= ``min_images`` photos: each person's first
    photo is the gallery, the others are probes."""
    from trust_core.data import LFW

    people = {k: v for k, v in (lfw or LFW()).images_by_person().items() if len(v) >= min_images}
    embedded = embed_files(recognizer, [p for v in people.values() for p in v], fallback=True, progress=progress)
    names = [n for n, v in people.items() if v[0] in embedded.embeddings]
    gallery = torch.stack([embedded.embeddings[people[n][0]] for n in names])
    probes = [(i, embedded.embeddings[p]) for i, n in enumerate(names)
              for p in people[n][1:] if p in embedded.embeddings]
    scores = torch.stack([e for _, e in probes]) @ gallery.T
    truth = torch.tensor([i for i, _ in probes])
    rank1 = float((scores.argmax(1) == truth).float().mean())
    return {"recognizer": recognizer.name, "people": len(names), "probes": len(probes), "rank1": rank1,
            "errors": {str(k): v for k, v in embedded.errors.items()}}


def image_quality(original: torch.Tensor, protected: torch.Tensor) -> dict[str, float]:
    """Mean SSIM, PSNR (dB; over changed crops, None if none changed) and max L-infinity (on [0, 1]) of
    protected vs original crops (scikit-image)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    a = original.permute(0, 2, 3, 1).double().numpy()
    b = protected.detach().permute(0, 2, 3, 1).double().numpy()
    ssim = [structural_similarity(x, y, channel_axis=2, data_range=1.0) for x, y in zip(a, b)]
    psnr = [peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(a, b) if not np.array_equal(x, y)]
    return {"ssim": float(np.mean(ssim)), "psnr": float(np.mean(psnr)) if psnr else None,
            "linf": float(np.abs(a - b).max(initial=0))}


def protection(
    recognizer: Recognizer, cloak: Cloak | None, *, crop_with: Recognizer | None = None,
    threshold: float | None = None, folds: int = 10, batch_size: int = 16, lfw=None,  # noqa: ANN001
    progress: bool = True, share: str = "saved", impostors: bool = True,
) -> dict:
    """The APF protocol: cloak the first photo of every pair of the first ``folds`` folds and report the
    fraction of genuine pairs ``recognizer`` still matches (and of impostor pairs it matches) at
    ``threshold`` (default: the recognizer's), with SSIM/PSNR/L-inf of protected vs original crops.

    ``cloak`` maps crops of ``crop_with`` (default: ``recognizer``) to protected crops; with another
    ``crop_with``, or a ``share`` condition other than "saved" (:mod:`trust_core.faces.sharing`: JPEG q75, a 0.5×
    resize, both), the protected crop is pasted back into the photo (uint8), shared, and ``recognizer`` re-crops
    it, as a black-box service would. ``cloak=None``: no protection. ``impostors=False``: genuine pairs only.
    """
    from trust_core.faces.sharing import scaled, shared_copy

    from tqdm import tqdm

    from trust_core.data import LFW

    threshold = recognizer.threshold if threshold is None else threshold
    source = crop_with or recognizer
    pairs = [p for p in (lfw or LFW()).pairs() if p.fold < folds and (impostors or p.same)]
    reference = embed_files(recognizer, [p.second for p in pairs], fallback=True, progress=progress)
    detections = detect_files(sorted({p.first for p in pairs}))
    matched, same, quality, errors = [], [], [], {}
    for start in tqdm(range(0, len(pairs), batch_size), desc="protect", disable=not progress):
        batch = []
        for pair in pairs[start : start + batch_size]:
            found = detections[pair.first]
            try:
                if isinstance(found, FaceImageError):
                    raise found
                if pair.second not in reference.embeddings:
                    raise FaceImageError(pair.second, reference.errors.get(pair.second, "not embedded"))
                image = load_image(pair.first)
            except FaceImageError as exc:
                errors[str(exc.path)] = exc.reason
                continue
            face = central_face(found, image.shape) or lfw_fallback_face(image.shape)
            batch.append((pair, image, face, source.align(image, [face])))
        if not batch:
            continue
        crops = torch.cat([aligned.crops for *_, aligned in batch])
        cloaked = crops if cloak is None else cloak(crops).detach().clamp(0, 1)
        if source is recognizer and share == "saved":
            original, protected = crops, cloaked
            visible = protected
        else:
            photos = [paste_faces(image, aligned, c[None]) for (_, image, _, aligned), c in zip(batch, cloaked)]
            original = torch.cat([recognizer.align(image, [face]).crops for _, image, face, _ in batch])
            visible = torch.cat([recognizer.align(photo, [face]).crops for (_, _, face, _), photo in zip(batch, photos)])
            shared = [shared_copy(photo, share) for photo in photos]
            protected = visible if share == "saved" else torch.cat(
                [recognizer.align(photo, [scaled(face, scale)]).crops for (_, _, face, _), (photo, scale) in zip(batch, shared)])
        with torch.no_grad():
            embeddings = recognizer.embed(protected)
        refs = torch.stack([reference.embeddings[pair.second] for pair, *_ in batch])
        matched.extend((recognizer.similarity(embeddings, refs) >= threshold).tolist())
        same.extend(pair.same for pair, *_ in batch)
        quality.append((len(batch), image_quality(original, visible)))
    matched_arr, same_arr = np.array(matched, bool), np.array(same, bool)
    total = sum(n for n, _ in quality)
    psnrs = [q["psnr"] for _, q in quality if q["psnr"] is not None]
    return {
        "recognizer": recognizer.name,
        "crop_with": source.name,
        "share": share,
        "threshold": threshold,
        "pairs": int(len(matched_arr)),
        "genuine_still_matched": float(matched_arr[same_arr].mean()) if same_arr.any() else float("nan"),
        "impostor_matched": float(matched_arr[~same_arr].mean()) if (~same_arr).any() else float("nan"),
        "ssim": sum(n * q["ssim"] for n, q in quality) / max(total, 1),
        "psnr": float(np.mean(psnrs)) if psnrs else None,
        "linf": max((q["linf"] for _, q in quality), default=0.0),
        "errors": errors,
    }


def attack_cloak(recognizer: Recognizer, attack: str = "pgd", *, eps: float = 8 / 255, steps: int = 10) -> Cloak:
    """A plain dodging cloak: ``attack`` from :data:`trust_core.attacks.GRADIENT_ATTACKS` with the cosine
    distance to the clean embedding as loss (white-box on a differentiable ``recognizer``)."""
    from trust_core.attacks import GRADIENT_ATTACKS
    from trust_core.attacks.losses import CosineDistance

    if not recognizer.differentiable:
        raise ValueError(f"{recognizer.name} is not differentiable; craft the cloak on another recognizer")
    if attack not in GRADIENT_ATTACKS:
        raise ValueError(f"unknown attack {attack!r}; known: {', '.join(GRADIENT_ATTACKS)}")
    kwargs = {} if attack == "fgsm" else {"steps": steps}
    runner = GRADIENT_ATTACKS[attack](recognizer.module, eps=eps, loss=CosineDistance(), **kwargs)

    def cloak(crops: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            clean = recognizer.embed(crops)
        return runner(crops, clean)

    return cloak


def roc_png(metrics: dict, path: Path) -> Path:
    """Write the ROC curve (log FAR axis) of ``metrics`` to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    far = np.maximum(np.array(metrics["roc"]["far"]), 1e-4)
    ax.plot(far, metrics["roc"]["tar"], label=f"{metrics['recognizer']} (AUC {metrics['roc_auc']:.4f})")
    ax.set(xscale="log", xlabel="false accept rate", ylabel="true accept rate", title="LFW verification ROC")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
