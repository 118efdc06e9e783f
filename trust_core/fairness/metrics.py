"""Fairness metrics for a target label ``t``, a prediction ``t̂`` and a bias (sensitive) attribute ``b``.

* :func:`bias_gap` — AEDA's bias(θ, t) = |P(t̂ = t | b = 0, t* = t) − P(t̂ = t | b = 1, t* = t)|, averaged
  over target classes (Zhang & Sang, ACM MM 2020, Eq. 1). With more than two bias groups the gap is the
  largest minus the smallest per-group recall (fairlearn's ``MetricFrame.difference``), which is the
  published formula when ``b`` is binary.
* :func:`balanced_accuracy` — mean per-class recall (bACC).
* :func:`demographic_parity` and :func:`equalized_odds` — fairlearn's differences; a multi-class target is
  scored one-vs-rest and averaged over classes.

All return fractions in [0, 1]; multiply by 100 for the percentage points the AEDA tables use.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
)
from sklearn.metrics import accuracy_score, balanced_accuracy_score


def _arrays(y_true: object, y_pred: object, bias: object | None = None) -> tuple[np.ndarray, ...]:
    arrays = [np.asarray(a).reshape(-1) for a in (y_true, y_pred, bias) if a is not None]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"y_true, y_pred and bias must have the same length, got {[len(a) for a in arrays]}")
    if len(arrays[0]) == 0:
        raise ValueError("empty input: need at least one sample")
    return tuple(arrays)


def balanced_accuracy(y_true: object, y_pred: object) -> float:
    """bACC: the mean over target classes of P(t̂ = t | t* = t)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return float(balanced_accuracy_score(y_true, y_pred))


def bias_gap(y_true: object, y_pred: object, bias: object) -> float:
    """AEDA's bias: per-class recall gap between bias groups, averaged over target classes.

    Classes seen in fewer than two bias groups are skipped (the gap is undefined there).
    """
    y_true, y_pred, bias = _arrays(y_true, y_pred, bias)
    gaps = []
    for t in np.unique(y_true):
        rows = y_true == t
        if len(np.unique(bias[rows])) < 2:
            continue
        frame = MetricFrame(metrics=accuracy_score, y_true=y_true[rows], y_pred=y_pred[rows],
                            sensitive_features=bias[rows])
        gaps.append(frame.difference(method="between_groups"))
    if not gaps:
        raise ValueError("bias_gap needs at least one target class observed in two or more bias groups")
    return float(np.mean(gaps))


def _one_vs_rest(score: Callable[..., float], y_true: np.ndarray, y_pred: np.ndarray, bias: np.ndarray) -> float:
    classes = np.unique(y_true)
    if len(classes) <= 2 and set(classes.tolist()) <= {0, 1}:
        return float(score(y_true, y_pred, sensitive_features=bias))
    return float(np.mean([score(y_true == t, y_pred == t, sensitive_features=bias) for t in classes]))


def demographic_parity(y_true: object, y_pred: object, bias: object) -> float:
    """Demographic-parity difference: max − min over bias groups of P(t̂ = 1 | b) (one-vs-rest mean)."""
    y_true, y_pred, bias = _arrays(y_true, y_pred, bias)
    return _one_vs_rest(demographic_parity_difference, y_true, y_pred, bias)


def equalized_odds(y_true: object, y_pred: object, bias: object) -> float:
    """Equalised-odds difference: the larger of the TPR and FPR gaps between bias groups (one-vs-rest mean)."""
    y_true, y_pred, bias = _arrays(y_true, y_pred, bias)
    return _one_vs_rest(equalized_odds_difference, y_true, y_pred, bias)


def fairness_report(y_true: object, y_pred: object, bias: object) -> dict[str, float]:
    """Accuracy, bACC, AEDA bias, DP and EO differences, all in percentage points."""
    y_true, y_pred, bias = _arrays(y_true, y_pred, bias)
    return {
        "accuracy": 100 * float(np.mean(y_true == y_pred)),
        "bacc": 100 * balanced_accuracy(y_true, y_pred),
        "bias": 100 * bias_gap(y_true, y_pred, bias),
        "dp": 100 * demographic_parity(y_true, y_pred, bias),
        "eo": 100 * equalized_odds(y_true, y_pred, bias),
    }
