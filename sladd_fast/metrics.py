"""Detection metrics over a whole split: frame-level AUC, video-level AUC, EER, AP, ACC.

Everything is computed once over all frames of the split with scikit-learn. SLADD's own evaluation
averaged ``roc_auc_score`` over test batches (bug B8), which depends on the batch size and the
order of the frames; here AUC is one global number. A split holding a single class has no ROC curve,
so it is an error, never a nan.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve


def _check(scores: np.ndarray, labels: np.ndarray, videos: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Validated (float64 scores [N], int64 labels [N]); errors name the offending argument."""
    s = np.asarray(scores)
    y = np.asarray(labels)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D [N], got shape {s.shape}")
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D [N], got shape {y.shape}")
    if s.shape[0] != y.shape[0]:
        raise ValueError(f"scores and labels differ in length: {s.shape[0]} vs {y.shape[0]}")
    if s.shape[0] == 0:
        raise ValueError("scores is empty: no frames to evaluate")
    if not np.issubdtype(s.dtype, np.number) or np.issubdtype(s.dtype, np.complexfloating):
        raise ValueError(f"scores must be real numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    bad = ~np.isfinite(s)
    if bad.any():
        raise ValueError(f"scores holds {int(bad.sum())} NaN/inf value(s) (first at position {int(np.argmax(bad))})")
    if s.min() < 0.0 or s.max() > 1.0:
        raise ValueError(f"scores must be fake probabilities in [0, 1], got range [{s.min():g}, {s.max():g}]")
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.integer) or not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be integers 0 (real) or 1 (fake), got values {np.unique(y)[:5]}")
    if videos is not None:
        v = np.asarray(videos)
        if v.ndim != 1 or v.shape[0] != s.shape[0]:
            raise ValueError(f"videos must be 1-D with one id per score ({s.shape[0]}), got shape {v.shape}")
    return s, y.astype(np.int64)


def equal_error_rate(labels: np.ndarray, scores: np.ndarray) -> float:
    """EER: the ROC point where FPR == FNR (= 1 - TPR), linearly interpolated between ROC points.

    Args: labels int [N] in {0,1} (both present); scores float [N].
    """
    fpr, tpr, _ = roc_curve(labels, scores)
    d = (1.0 - tpr) - fpr  # FNR - FPR: +1 at (0,0), -1 at (1,1), non-increasing in between
    i = int(np.argmax(d <= 0.0))
    if d[i] == 0.0:
        return float(fpr[i])
    t = d[i - 1] / (d[i - 1] - d[i])  # where the segment (i-1, i) crosses FNR == FPR
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def video_scores(scores: np.ndarray, labels: np.ndarray, videos: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
    """Per-video mean frame score.

    Args: scores float [N]; labels int [N] in {0,1}; videos str [N] video ids.
    Returns: (ids str [V] sorted, mean scores float64 [V], labels int64 [V]).
    Raises: ValueError naming the videos whose frames mix real and fake labels.
    """
    ids, inv = np.unique(np.asarray(videos), return_inverse=True)
    counts = np.bincount(inv, minlength=len(ids))
    fakes = np.bincount(inv, weights=labels, minlength=len(ids))
    mixed = (fakes != 0) & (fakes != counts)
    if mixed.any():
        names = ", ".join(repr(str(v)) for v in ids[mixed][:5])
        raise ValueError(f"videos: {int(mixed.sum())} video(s) mix real and fake frames, e.g. {names}")
    means = np.bincount(inv, weights=scores, minlength=len(ids)) / counts
    return ids, means, (fakes > 0).astype(np.int64)


def compute_metrics(scores: np.ndarray, labels: np.ndarray, videos: np.ndarray | None = None) -> dict[str, float | int]:
    """Metrics of one split, over all of its frames at once.

    Args:
        scores: float [N], fake probability of each frame in [0, 1] (no NaN).
        labels: int [N], 0 real, 1 fake (bool accepted).
        videos: optional str [N], the video id of each frame; a video's label is its frames' label.

    Returns a dict of
        auc: frame-level ROC AUC; eer: equal error rate; ap: average precision (fake = positive);
        acc: accuracy of "fake if score > 0.5" (argmax of the two-class softmax; a tie is real);
        video_auc: ROC AUC of the per-video mean frame score (only with ``videos``);
        frames, real, fake: frame counts; videos: number of distinct videos (only with ``videos``).

    Raises ValueError for mismatched lengths, NaN/inf or out-of-range scores, labels other than 0/1,
    a split with only real or only fake frames (AUC, EER and AP are undefined), or a video mixing
    labels.
    """
    s, y = _check(scores, labels, videos)
    n_fake = int(y.sum())
    n_real = int(y.shape[0]) - n_fake
    if n_fake == 0 or n_real == 0:
        only = "real" if n_fake == 0 else "fake"
        raise ValueError(f"the split has only {only} frames ({y.shape[0]}): AUC, EER and AP are undefined "
                         "without both real and fake frames")
    out: dict[str, float | int] = {"auc": float(roc_auc_score(y, s))}
    if videos is not None:
        _, vs, vy = video_scores(s, y, np.asarray(videos))
        out["video_auc"] = float(roc_auc_score(vy, vs))  # both classes present: every video has one label
    out.update(eer=equal_error_rate(y, s), ap=float(average_precision_score(y, s)),
               acc=float(((s > 0.5).astype(np.int64) == y).mean()), frames=int(y.shape[0]))
    if videos is not None:
        out["videos"] = int(vs.shape[0])
    out.update(real=n_real, fake=n_fake)
    return out
