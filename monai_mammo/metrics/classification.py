"""Classification metrics: confusion matrix, accuracy, precision, recall/sensitivity, specificity, F1, ROC AUC.

Every metric is computed from case weights, so one vectorised code path gives both the point estimate (all
weights 1) and a whole batch of bootstrap resamples (weights = how often each case was drawn; see
:mod:`monai_mammo.metrics.bootstrap`): 1000 resamples of a few hundred cases take milliseconds, where calling
scikit-learn once per resample takes seconds. The formulas follow scikit-learn's conventions (rows of the
confusion matrix are the true classes; a class that is never predicted has precision 0; AUC with ties counted
one half) and the tests check them against scikit-learn.

Undefined values are ``NaN``, never a silent 0: recall and F1 of a class without cases, specificity when every
case is of that class, AUC when a class has no positive or no negative case. A macro average is ``NaN`` when
one of its classes is undefined.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from monai.utils import StrEnum, convert_to_numpy, look_up_option

__all__ = [
    "Average",
    "accuracy",
    "check_classification_inputs",
    "classification_metrics",
    "confusion_matrix",
    "f1_score",
    "metrics_from_confusion",
    "precision",
    "recall",
    "roc_auc",
    "sensitivity",
    "specificity",
    "weighted_auc",
    "weighted_confusion",
]

# memory bound for one vectorised chunk: (resamples x cases) float64 values
_CHUNK_VALUES = 2_000_000


class Average(StrEnum):
    """How per-class values are summarised into one number.

    - ``"macro"``: unweighted mean over the classes (one-vs-rest).
    - ``"binary"``: the value of the positive class (label 1); only for two classes.
    - ``"none"``: the per-class values.
    - ``"auto"``: ``"binary"`` for two classes, else ``"macro"``.
    """

    MACRO = "macro"
    BINARY = "binary"
    NONE = "none"
    AUTO = "auto"


def _resolve_average(average: Average | str, num_classes: int) -> Average:
    avg = Average(look_up_option(average, Average))
    if avg == Average.AUTO:
        return Average.BINARY if num_classes == 2 else Average.MACRO
    if avg == Average.BINARY and num_classes != 2:
        raise ValueError(f"average='binary' needs num_classes=2, got num_classes={num_classes}.")
    return avg


def check_classification_inputs(
    y_true: Any, y_score: Any, num_classes: int, threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate and normalise labels and predictions.

    Args:
        y_true: integer labels, shape ``(N,)`` or ``(N, 1)``, or one-hot ``(N, num_classes)``; numpy or torch.
        y_score: either scores ``(N, num_classes)`` (probabilities, e.g. after softmax; the prediction is the
            argmax), or for ``num_classes == 2`` the score of the positive class ``(N,)`` / ``(N, 1)`` (the
            prediction is ``score >= threshold``), or integer hard predictions ``(N,)`` (then no AUC).
        num_classes: number of classes, at least 2.
        threshold: decision threshold of a binary positive-class score.

    Returns:
        ``(labels, predictions, scores)``: int64 arrays ``(N,)`` and float64 scores ``(N, num_classes)``
        or ``None`` when only hard predictions were given.

    Raises:
        ValueError: bad ``num_classes``, empty input, shapes that do not match, labels or predictions
            outside ``[0, num_classes)``, non-finite scores.
    """
    if not isinstance(num_classes, (int, np.integer)) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
    y = np.asarray(convert_to_numpy(y_true))
    s = np.asarray(convert_to_numpy(y_score))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] == num_classes:
        if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(1) == 1):
            raise ValueError("y_true of shape (N, num_classes) must be one-hot (one 1 per row).")
        y = y.argmax(1)
    if y.ndim != 1:
        raise ValueError(f"y_true must have shape (N,), (N, 1) or (N, num_classes={num_classes}), got {y.shape}.")
    if y.shape[0] == 0:
        raise ValueError("y_true is empty: no cases to evaluate.")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"y_true must hold integer class labels, got dtype {y.dtype} with non-integer values.")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"y_true labels must lie in [0, {num_classes}), got values from {y.min()} to {y.max()}.")
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.shape[0] != y.shape[0]:
        raise ValueError(f"y_true and y_score have different numbers of cases: {y.shape[0]} and {s.shape[0]}.")
    scores: np.ndarray | None
    if s.ndim == 2:
        if s.shape[1] != num_classes:
            raise ValueError(f"y_score of shape (N, C) needs C == num_classes={num_classes}, got {s.shape}.")
        scores = s.astype(np.float64)
        pred = scores.argmax(1)
    elif s.ndim == 1 and (np.issubdtype(s.dtype, np.integer) or np.issubdtype(s.dtype, np.bool_)):
        pred = s.astype(np.int64)
        scores = None
        if pred.min() < 0 or pred.max() >= num_classes:
            raise ValueError(f"predicted labels must lie in [0, {num_classes}), got {pred.min()} to {pred.max()}.")
    elif s.ndim == 1:
        if num_classes != 2:
            raise ValueError(
                f"a float y_score of shape (N,) is a positive-class score, only for num_classes=2 "
                f"(got {num_classes}); pass scores of shape (N, {num_classes}) or integer predictions."
            )
        positive = s.astype(np.float64)
        scores = np.stack([1.0 - positive, positive], axis=1)
        pred = (positive >= threshold).astype(np.int64)
    else:
        raise ValueError(f"y_score must have shape (N,), (N, 1) or (N, num_classes), got {s.shape}.")
    if scores is not None and not np.all(np.isfinite(scores)):
        raise ValueError("y_score holds NaN or infinite values.")
    return y, pred, scores


def weighted_confusion(y: np.ndarray, pred: np.ndarray, weights: np.ndarray, num_classes: int) -> np.ndarray:
    """Confusion matrices ``(B, C, C)`` (rows: true class, columns: predicted) for case weights ``(B, N)``."""
    b = weights.shape[0]
    cells = num_classes * num_classes
    index = (np.arange(b)[:, None] * cells + (y * num_classes + pred)[None, :]).ravel()
    counts = np.bincount(index, weights=weights.ravel(), minlength=b * cells)
    return counts.reshape(b, num_classes, num_classes)


def metrics_from_confusion(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, specificity, F1 ``(B, C)``, support ``(B, C)`` and accuracy ``(B,)``.

    Args:
        cm: confusion matrices ``(C, C)`` or ``(B, C, C)``, rows true, columns predicted.
    """
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim == 2:
        cm = cm[None]
    tp = np.diagonal(cm, axis1=1, axis2=2)
    support = cm.sum(2)
    predicted = cm.sum(1)
    total = cm.sum((1, 2))
    fp = predicted - tp
    fn = support - tp
    negatives = total[:, None] - support
    tn = negatives - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        recall_ = np.where(support > 0, tp / support, np.nan)
        # scikit-learn's zero_division=0: a class with cases but never predicted has precision 0
        precision_ = np.where(predicted > 0, tp / predicted, np.where(support > 0, 0.0, np.nan))
        f1_den = 2 * tp + fp + fn
        f1_ = np.where(f1_den > 0, 2 * tp / f1_den, np.nan)
        specificity_ = np.where(negatives > 0, tn / negatives, np.nan)
        accuracy_ = np.where(total > 0, tp.sum(1) / total, np.nan)
    return {
        "accuracy": accuracy_,
        "precision": precision_,
        "recall": recall_,
        "specificity": specificity_,
        "f1": f1_,
        "support": support,
    }


def weighted_auc(positive: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of one class for case weights ``(B, N)``: the Mann-Whitney statistic with ties counted 1/2.

    AUC = P(score of a positive > score of a negative) + 0.5 P(equal), both cases drawn by the weights.
    ``NaN`` where a resample has no positive or no negative case.

    Args:
        positive: boolean ``(N,)``, the cases of the class.
        score: ``(N,)`` the score of the class.
        weights: ``(B, N)`` non-negative case weights.
    """
    _, inverse = np.unique(score, return_inverse=True)
    n_bins = int(inverse.max()) + 1
    b = weights.shape[0]
    pos_w = weights * positive[None, :]
    neg_w = weights * (~positive)[None, :]
    index = (np.arange(b)[:, None] * n_bins + inverse[None, :]).ravel()
    neg_bins = np.bincount(index, weights=neg_w.ravel(), minlength=b * n_bins).reshape(b, n_bins)
    neg_below = np.cumsum(neg_bins, axis=1) - neg_bins
    wins = (pos_w * (neg_below[:, inverse] + 0.5 * neg_bins[:, inverse])).sum(1)
    pairs = pos_w.sum(1) * neg_w.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, wins / pairs, np.nan)


def _summarise(per_class: np.ndarray, average: Average) -> np.ndarray:
    if average == Average.BINARY:
        return per_class[:, 1]
    if average == Average.MACRO:
        return per_class.mean(1)  # NaN when any class is undefined
    return per_class


def _metric_batch(
    y: np.ndarray, pred: np.ndarray, scores: np.ndarray | None, weights: np.ndarray, num_classes: int
) -> dict[str, np.ndarray]:
    """Per-class metrics and accuracy for a batch of case weights; chunked to bound memory."""
    n = y.shape[0]
    step = max(1, _CHUNK_VALUES // max(n, 1))
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, weights.shape[0], step):
        w = weights[start : start + step]
        out = metrics_from_confusion(weighted_confusion(y, pred, w, num_classes))
        if scores is not None:
            out["auc"] = np.stack([weighted_auc(y == k, scores[:, k], w) for k in range(num_classes)], axis=1)
        parts.append(out)
    return {key: np.concatenate([p[key] for p in parts], axis=0) for key in parts[0]}


def classification_metrics(
    y_true: Any, y_score: Any, num_classes: int, average: Average | str = Average.AUTO, threshold: float = 0.5
) -> dict[str, Any]:
    """Point estimates of every metric.

    Args:
        y_true: labels (see :func:`check_classification_inputs`).
        y_score: scores ``(N, C)``, a binary positive-class score ``(N,)``, or integer predictions ``(N,)``.
        num_classes: number of classes.
        average: summary of the per-class values (:class:`Average`); ``"auto"``: the positive class for two
            classes, the macro mean otherwise.
        threshold: decision threshold of a binary positive-class score.

    Returns:
        ``accuracy``, ``precision``, ``recall``, ``sensitivity`` (= recall), ``specificity``, ``f1``, ``auc``
        (``None`` without scores) as floats summarised by ``average``, the same per class under
        ``per_class`` (arrays of length C, with ``support``), and the ``confusion_matrix`` (C, C) of counts.

    Example:
        >>> classification_metrics([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.1], num_classes=2)["accuracy"]
        0.75
    """
    y, pred, scores = check_classification_inputs(y_true, y_score, num_classes, threshold)
    avg = _resolve_average(average, num_classes)
    ones = np.ones((1, y.shape[0]))
    batch = _metric_batch(y, pred, scores, ones, num_classes)
    names = ("precision", "recall", "specificity", "f1") + (("auc",) if scores is not None else ())
    out: dict[str, Any] = {"accuracy": float(batch["accuracy"][0]), "average": str(avg)}
    for name in names:
        value = _summarise(batch[name], avg)[0]
        out[name] = value if avg == Average.NONE else float(value)
    if scores is None:
        out["auc"] = None
    out["sensitivity"] = out["recall"]
    out["per_class"] = {name: batch[name][0] for name in (*names, "support")}
    out["confusion_matrix"] = weighted_confusion(y, pred, ones, num_classes)[0].astype(np.int64)
    return out


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """Confusion matrix of counts, ``(C, C)``, rows true class, columns predicted class (scikit-learn's layout).

    ``y_pred`` may be integer predictions or scores (argmax / threshold, see :func:`check_classification_inputs`).
    """
    y, pred, _ = check_classification_inputs(y_true, y_pred, num_classes)
    return weighted_confusion(y, pred, np.ones((1, y.shape[0])), num_classes)[0].astype(np.int64)


def _single(name: str, y_true: Any, y_pred: Any, num_classes: int, average: Average | str) -> Any:
    value = classification_metrics(y_true, y_pred, num_classes, average)[name]
    if value is None:
        raise ValueError(f"{name} needs scores, but y_pred holds integer predictions.")
    return value


def accuracy(y_true: Any, y_pred: Any, num_classes: int) -> float:
    """Fraction of correctly classified cases."""
    return float(_single("accuracy", y_true, y_pred, num_classes, Average.AUTO))


def precision(y_true: Any, y_pred: Any, num_classes: int, average: Average | str = Average.AUTO) -> Any:
    """Precision (positive predictive value), per class or summarised by ``average``."""
    return _single("precision", y_true, y_pred, num_classes, average)


def recall(y_true: Any, y_pred: Any, num_classes: int, average: Average | str = Average.AUTO) -> Any:
    """Recall (sensitivity, true-positive rate), per class or summarised by ``average``."""
    return _single("recall", y_true, y_pred, num_classes, average)


sensitivity = recall


def specificity(y_true: Any, y_pred: Any, num_classes: int, average: Average | str = Average.AUTO) -> Any:
    """Specificity (true-negative rate, one-vs-rest), per class or summarised by ``average``."""
    return _single("specificity", y_true, y_pred, num_classes, average)


def f1_score(y_true: Any, y_pred: Any, num_classes: int, average: Average | str = Average.AUTO) -> Any:
    """F1 score, per class or summarised by ``average`` (macro F1 = mean of the per-class F1)."""
    return _single("f1", y_true, y_pred, num_classes, average)


def roc_auc(y_true: Any, y_score: Any, num_classes: int, average: Average | str = Average.AUTO) -> Any:
    """ROC AUC: binary (score of class 1) or one-vs-rest per class / macro for several classes.

    Computed with the Mann-Whitney rank formula, ties counting one half (equal to the trapezoidal area
    under the empirical ROC curve, as in scikit-learn's ``roc_auc_score``).
    """
    return _single("auc", y_true, y_score, num_classes, average)
