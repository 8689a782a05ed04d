"""Tests of monai_mammo.metrics.classification: hand-computed values, scikit-learn where installed, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_mammo.metrics import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    f1_score,
    precision,
    recall,
    roc_auc,
    sensitivity,
    specificity,
)

# 3 classes, 8 cases; predictions: argmax of the scores
Y3 = np.array([0, 0, 0, 1, 1, 1, 2, 2])
P3 = np.array([0, 0, 1, 1, 1, 2, 2, 0])
S3 = np.eye(3)[P3] * 0.6 + 0.2  # rows sum to 1.2; only the ranking matters


def test_confusion_matrix_rows_true_columns_predicted():
    expected = np.array([[2, 1, 0], [0, 2, 1], [1, 0, 1]])
    np.testing.assert_array_equal(confusion_matrix(Y3, P3, 3), expected)


def test_per_class_values_by_hand():
    m = classification_metrics(Y3, P3, 3, average="none")
    # class 0: tp 2, fp 1, fn 1, tn 4; class 1: tp 2, fp 1, fn 1, tn 4; class 2: tp 1, fp 1, fn 1, tn 5
    np.testing.assert_allclose(m["precision"], [2 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(m["recall"], [2 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(m["specificity"], [4 / 5, 4 / 5, 5 / 6])
    np.testing.assert_allclose(m["f1"], [2 / 3, 2 / 3, 1 / 2])
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["auc"] is None  # hard predictions: no AUC


def test_macro_is_the_mean_of_the_classes():
    assert f1_score(Y3, P3, 3) == pytest.approx((2 / 3 + 2 / 3 + 1 / 2) / 3)
    assert specificity(Y3, P3, 3) == pytest.approx((4 / 5 + 4 / 5 + 5 / 6) / 3)
    assert sensitivity is recall


def test_binary_uses_the_positive_class_and_threshold():
    y = [0, 0, 1, 1, 1]
    score = [0.1, 0.7, 0.8, 0.4, 0.5]  # predictions at 0.5: 0 1 1 0 1
    assert accuracy(y, score, 2) == pytest.approx(3 / 5)
    assert precision(y, score, 2) == pytest.approx(2 / 3)
    assert recall(y, score, 2) == pytest.approx(2 / 3)
    assert specificity(y, score, 2) == pytest.approx(1 / 2)
    assert classification_metrics(y, score, 2, threshold=0.75)["recall"] == pytest.approx(1 / 3)


def test_auc_counts_ties_as_one_half():
    # positives 0.5 and 0.9 against negatives 0.1 and 0.5: wins 1 + 0.5 + 1 + 1 out of 4 pairs
    assert roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9], 2) == pytest.approx(0.875)


def test_auc_one_vs_rest_macro_by_hand():
    y = [0, 1, 2, 0]
    s = np.array([[0.8, 0.1, 0.1], [0.3, 0.4, 0.3], [0.2, 0.5, 0.3], [0.4, 0.3, 0.3]])
    # class 0: pos .8 .4 vs neg .3 .2 -> 1; class 1: pos .4 vs .1 .5 .3 -> 2/3; class 2: pos .3 vs .1 .3 .3 -> 2/3
    np.testing.assert_allclose(roc_auc(y, s, 3, average="none"), [1.0, 2 / 3, 2 / 3])
    assert roc_auc(y, s, 3) == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)


@pytest.mark.parametrize("kind", ["torch", "onehot", "column"])
def test_input_forms_agree(kind):
    ref = classification_metrics(Y3, S3, 3)
    if kind == "torch":
        got = classification_metrics(torch.as_tensor(Y3), torch.as_tensor(S3), 3)
    elif kind == "onehot":
        got = classification_metrics(np.eye(3)[Y3], S3, 3)
    else:
        got = classification_metrics(Y3[:, None], S3, 3)
    for key in ("accuracy", "precision", "recall", "specificity", "f1", "auc"):
        assert got[key] == pytest.approx(ref[key])


def test_all_correct():
    m = classification_metrics(Y3, np.eye(3)[Y3], 3)
    for key in ("accuracy", "precision", "recall", "specificity", "f1", "auc"):
        assert m[key] == pytest.approx(1.0)


def test_absent_class_is_undefined_not_zero():
    m = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], 3, average="none")
    assert np.isnan(m["recall"][2]) and np.isnan(m["f1"][2])
    assert np.isnan(classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], 3)["recall"])  # macro undefined


def test_never_predicted_class_has_precision_zero():
    assert precision([0, 1, 1], [0, 0, 0], 2, average="none")[1] == 0.0


def test_one_class_only_auc_is_nan():
    assert np.isnan(roc_auc([1, 1, 1], [0.2, 0.6, 0.9], 2))


@pytest.mark.parametrize(
    ("y", "s", "n", "match"),
    [
        ([0, 1, 1], [0.1, 0.9], 2, "different numbers of cases"),
        ([0, 1, 3], [0, 1, 1], 3, r"labels must lie in \[0, 3\)"),
        ([0, -1], [0, 1], 2, r"labels must lie"),
        ([0, 1], [0, 5], 3, "predicted labels"),
        ([0, 1], [0.1, 0.9], 1, "num_classes"),
        ([0, 1], np.ones((2, 3)), 2, "C == num_classes"),
        ([0, 1, 2], [0.1, 0.5, 0.9], 3, "only for num_classes=2"),
        ([0, 1], [0.1, np.nan], 2, "NaN"),
        ([0.5, 1], [0.1, 0.2], 2, "integer class labels"),
        ([], [], 2, "empty"),
    ],
)
def test_bad_input_raises(y, s, n, match):
    with pytest.raises(ValueError, match=match):
        classification_metrics(np.asarray(y), np.asarray(s), n)


def test_roc_auc_needs_scores():
    with pytest.raises(ValueError, match="needs scores"):
        roc_auc([0, 1], [0, 1], 2)


def test_binary_average_needs_two_classes():
    with pytest.raises(ValueError, match="num_classes=2"):
        f1_score(Y3, P3, 3, average="binary")


@pytest.mark.parametrize("num_classes", [2, 3, 4])
def test_matches_scikit_learn(num_classes):
    skm = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")
    rng = np.random.default_rng(num_classes)
    y = np.r_[np.arange(num_classes), rng.integers(0, num_classes, 60)]
    s = np.round(rng.random((y.size, num_classes)), 1) + 0.3 * np.eye(num_classes)[y]  # ties on purpose
    s /= s.sum(1, keepdims=True)
    p = s.argmax(1)
    m = classification_metrics(y, s, num_classes, average="none")
    labels = list(range(num_classes))
    np.testing.assert_allclose(m["precision"], skm.precision_score(y, p, average=None, labels=labels))
    np.testing.assert_allclose(m["recall"], skm.recall_score(y, p, average=None, labels=labels))
    np.testing.assert_allclose(m["f1"], skm.f1_score(y, p, average=None, labels=labels))
    np.testing.assert_array_equal(m["confusion_matrix"], skm.confusion_matrix(y, p, labels=labels))
    if num_classes == 2:
        assert roc_auc(y, s, 2) == pytest.approx(skm.roc_auc_score(y, s[:, 1]))
    else:
        assert roc_auc(y, s, num_classes) == pytest.approx(skm.roc_auc_score(y, s, multi_class="ovr"))


def test_weighted_path_matches_scikit_learn_sample_weight():
    """The bootstrap path (case weights) equals scikit-learn with sample_weight."""
    skm = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")
    from monai_mammo.metrics.classification import metrics_from_confusion, weighted_auc, weighted_confusion

    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 40)
    s = np.round(rng.random((40, 3)), 1)
    p = s.argmax(1)
    w = rng.integers(0, 4, (5, 40)).astype(float)
    cms = weighted_confusion(y, p, w, 3)
    f1 = metrics_from_confusion(cms)["f1"]
    auc = weighted_auc(y == 1, s[:, 1], w)
    for b in range(5):
        np.testing.assert_allclose(cms[b], skm.confusion_matrix(y, p, labels=[0, 1, 2], sample_weight=w[b]))
        np.testing.assert_allclose(f1[b], skm.f1_score(y, p, average=None, labels=[0, 1, 2], sample_weight=w[b]))
        assert auc[b] == pytest.approx(skm.roc_auc_score(y == 1, s[:, 1], sample_weight=w[b]))
