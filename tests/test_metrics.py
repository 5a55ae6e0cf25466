"""sladd_fast.metrics: global AUC / video AUC / EER / AP / ACC and their input errors."""
from __future__ import annotations

import numpy as np
import pytest

from sladd_fast.metrics import compute_metrics, equal_error_rate


def test_hand_computed_example():
    # Pairs (fake, real) ranked right: (0.35>0.1), (0.8>0.1), (0.8>0.4); wrong: (0.35<0.4) -> AUC 3/4.
    s = np.array([0.1, 0.4, 0.35, 0.8])
    y = np.array([0, 0, 1, 1])
    m = compute_metrics(s, y)
    assert m["auc"] == pytest.approx(0.75)
    # ROC (FPR, TPR): (0,0) (0,.5) (.5,.5) (.5,1) (1,1): FNR == FPR == 0.5 at (.5,.5).
    assert m["eer"] == pytest.approx(0.5)
    # Ranked 0.8(F) 0.4(R) 0.35(F) 0.1(R): AP = (1/1 + 2/3) / 2.
    assert m["ap"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["acc"] == pytest.approx(0.75)  # only 0.35 (fake) falls on the wrong side of 0.5
    assert (m["frames"], m["real"], m["fake"]) == (4, 2, 2)
    assert "video_auc" not in m and "videos" not in m


def test_perfect_separator():
    s = np.array([0.05, 0.2, 0.45, 0.55, 0.7, 0.99], np.float32)
    y = np.array([0, 0, 0, 1, 1, 1])
    m = compute_metrics(s, y, np.array(["a", "b", "c", "d", "e", "f"]))
    assert m["auc"] == 1.0 and m["video_auc"] == 1.0 and m["ap"] == 1.0 and m["acc"] == 1.0
    assert m["eer"] == 0.0
    inverted = compute_metrics(1 - s, y)
    assert inverted["auc"] == 0.0 and inverted["eer"] == 1.0


def test_eer_interpolates_between_roc_points():
    # ROC (0,0) (0,.5) (1,.5) (1,1): FNR - FPR goes +.5 -> -.5 on the flat segment, crossing at FPR .5.
    y = np.array([0, 0, 1, 1])
    s = np.array([0.3, 0.3, 0.9, 0.1])
    assert equal_error_rate(y, s) == pytest.approx(0.5)


def test_video_level_differs_from_frame_level():
    # Real video r1 has one very high frame; per frame that outlier outranks every fake frame, but its
    # mean (0.35) is below both fake videos' means, so video AUC is perfect while frame AUC is not.
    videos = np.array(["r1", "r1", "r1", "r2", "r2", "f1", "f1", "f2", "f2"])
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    s = np.array([0.95, 0.05, 0.05, 0.2, 0.3, 0.6, 0.7, 0.5, 0.65])
    m = compute_metrics(s, y, videos)
    assert m["video_auc"] == 1.0
    assert m["auc"] == pytest.approx(1 - 4 / 20)  # the outlier beats all 4 fake frames: 4 of 20 pairs wrong
    assert (m["videos"], m["frames"], m["real"], m["fake"]) == (4, 9, 5, 4)


def test_video_mixing_labels_raises():
    with pytest.raises(ValueError, match="'v1'"):
        compute_metrics(np.array([0.1, 0.9, 0.5]), np.array([0, 1, 1]), np.array(["v1", "v1", "v2"]))


@pytest.mark.parametrize("label,kind", [(0, "real"), (1, "fake")])
def test_one_class_split_raises(label, kind):
    with pytest.raises(ValueError, match=f"only {kind} frames.*undefined"):
        compute_metrics(np.array([0.2, 0.7, 0.4]), np.full(3, label))


def test_nan_scores_raise():
    with pytest.raises(ValueError, match="scores.*NaN"):
        compute_metrics(np.array([0.2, np.nan, 0.4, 0.9]), np.array([0, 0, 1, 1]))


def test_bad_inputs_name_the_argument():
    s, y = np.array([0.2, 0.3, 0.4, 0.9]), np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="scores and labels differ in length: 4 vs 3"):
        compute_metrics(s, y[:3])
    with pytest.raises(ValueError, match="videos"):
        compute_metrics(s, y, np.array(["a", "b"]))
    with pytest.raises(ValueError, match="labels"):
        compute_metrics(s, np.array([0, 2, 1, 1]))
    with pytest.raises(ValueError, match="scores must be fake probabilities"):
        compute_metrics(s * 3, y)
    with pytest.raises(ValueError, match="scores is empty"):
        compute_metrics(np.zeros(0), np.zeros(0, np.int64))
