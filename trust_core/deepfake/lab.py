"""The deepfake lab on CelebA-10k: make face swaps (and real faces) with the same post-processing, train the
spatial, spectral and fused detectors on some identities and measure ROC AUC on held-out identities — as they are,
and after JPEG re-compression at quality 75.
"""
from __future__ import annotations

from typing import Any

from sklearn.metrics import roc_auc_score

from trust_core.deepfake.dataset import celeba_faces
from trust_core.deepfake.detector import CnnDetector, FusedDetector, SpectrumDetector
from trust_core.deepfake.variants import jpeg


def run(*, train: int = 2000, test: int = 600, variants: bool = True, epochs: int = 8, width: int = 8,
        quality: int = 75, seed: int = 0) -> dict[str, Any]:
    """``train`` / ``test`` real and as many manipulated images; AUC per detector, clean and at JPEG ``quality``."""
    if train < 10 or test < 10:
        raise ValueError(f"need at least 10 real images each for training and testing, got {train}, {test}")
    train_set, test_set = celeba_faces(train_reals=train, train_fakes=train, test_reals=test, test_fakes=test,
                                       variants=variants, seed=seed)
    compressed = test_set.map(lambda image: jpeg(image, quality))
    cnn, spectral = CnnDetector(width=width, epochs=epochs, seed=seed), SpectrumDetector()
    fused = FusedDetector(cnn, spectral).fit(train_set.images, train_set.labels)
    rows = [{"detector": name, "auc": float(roc_auc_score(test_set.labels, d.score(test_set.images))),
             f"auc_jpeg{quality}": float(roc_auc_score(compressed.labels, d.score(compressed.images)))}
            for name, d in (("CNN (spatial)", cnn), ("spectrum + logistic regression", spectral), ("fused", fused))]
    return {"config": {"train": 2 * train, "test": 2 * test, "variants": variants, "epochs": epochs, "width": width,
                       "quality": quality, "seed": seed,
                       "identities": {"train": len(set(train_set.identities)), "test": len(set(test_set.identities)),
                                      "shared": len(set(train_set.identities) & set(test_set.identities))}},
            "rows": rows}


def format_table(result: dict[str, Any]) -> str:
    """One line per detector: AUC on held-out identities, as they are and re-compressed."""
    quality = result["config"]["quality"]
    lines = [f"{'detector':32} {'AUC':>7} {f'AUC JPEG q{quality}':>14}"]
    lines += [f"{r['detector']:32} {r['auc']:7.4f} {r[f'auc_jpeg{quality}']:14.4f}" for r in result["rows"]]
    ids = result["config"]["identities"]
    lines.append(f"{result['config']['train']} training / {result['config']['test']} test images (half manipulated);"
                 f" identities {ids['train']} train, {ids['test']} test, {ids['shared']} shared")
    return "\n".join(lines)
