"""Full LFW runs (minutes on CPU): opt in with ``-m slow``."""
from __future__ import annotations

import pytest

from trust_core.faces.evaluate import lfw_verification

pytestmark = pytest.mark.slow


def test_facenet_casia_lfw_fold_1(facenet):
    """TF on the same graph: 96.8% on fold 1 (MTCNN 160 px, margin 32); the issue asks >= 96.5%."""
    metrics = lfw_verification(facenet, folds=1, progress=False)
    assert metrics["pairs"] == 600 and metrics["skipped_pairs"] == 0
    assert metrics["accuracy"] >= 0.965 and metrics["roc_auc"] >= 0.99


def test_dlib_lfw_fold_1(dlib_recognizer):
    """dlib publishes 99.38% over 10 folds; fold 1 here (MTCNN box, dlib chip, flip fusion, threshold 0.914): 99.0%."""
    metrics = lfw_verification(dlib_recognizer, folds=1, progress=False)
    assert metrics["pairs"] == 600 and metrics["accuracy"] >= 0.99 and metrics["roc_auc"] >= 0.999
