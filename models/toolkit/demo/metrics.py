"""ROC AUC and threshold helpers (numpy only; there is no scikit-learn here)."""
from __future__ import annotations

import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half):
    the Mann-Whitney form of the area under the ROC curve."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    pos, neg = scores[labels], scores[~labels]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError('roc_auc needs both positive and negative examples')
    order = np.argsort(scores, kind='mergesort')
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = ranks[labels].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def threshold_at_fpr(genuine_scores: np.ndarray, fpr: float) -> float:
    """The smallest threshold with at most `fpr` of genuine scores strictly above it."""
    g = np.sort(np.asarray(genuine_scores, np.float64))
    k = int(np.floor(len(g) * (1 - fpr)))
    k = min(max(k, 1), len(g))
    return float(g[k - 1])


def rates(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    labels = np.asarray(labels).astype(bool)
    flagged = np.asarray(scores) > threshold
    return {
        'tpr': float(flagged[labels].mean()) if labels.any() else None,
        'fpr': float(flagged[~labels].mean()) if (~labels).any() else None,
    }
