"""How good a model is: the metrics of a task and the curves the Lab draws, as plain JSON values.

:func:`evaluate` scores predictions against the truth once (holdout, cross-validation fold) and returns
an :class:`Evaluation`: ``metrics`` (name → float, only the metrics that could be computed),
``omitted`` (name → the plain-language reason a metric is missing, e.g. ROC AUC on a single class) and
``curves`` (confusion matrix, ROC, precision-recall and calibration curves for classifiers; residuals and
predicted-vs-actual samples for regression). Everything is JSON-serialisable: plain floats, lists,
strings; NaN becomes ``None``. Curves keep at most 200 points, samples at most 500, chosen
deterministically so that the same model gives the same charts.

:func:`score_for_search` computes one metric as a "higher is better" number (losses are negated), which is
what the hyper-parameter search maximises.

Class labels are compared as strings: ``classes`` gives the order of ``y_proba``'s columns, and for a
binary task the positive class is ``classes[1]``.

Layout: ``metrics`` (the catalogue, :class:`Evaluation`, errors; no scikit-learn at import), ``inputs``
(argument checks, lazy ``sklearn.metrics``, down-sampling), ``classification``, ``regression`` and
``scores`` (:func:`evaluate`, :func:`score_for_search`).
"""

from __future__ import annotations

from modelworks.engine.automl.evaluation.inputs import skm as skm
from modelworks.engine.automl.evaluation.metrics import CALIBRATION_BINS as CALIBRATION_BINS
from modelworks.engine.automl.evaluation.metrics import MAX_CURVE_POINTS as MAX_CURVE_POINTS
from modelworks.engine.automl.evaluation.metrics import MAX_SAMPLE_POINTS as MAX_SAMPLE_POINTS
from modelworks.engine.automl.evaluation.metrics import (
    METRICS,
    Evaluation,
    EvaluationError,
    MetricInfo,
    MetricUnavailableError,
    default_metric,
    json_safe,
)
from modelworks.engine.automl.evaluation.scores import evaluate, score_for_search

__all__ = [
    "METRICS",
    "Evaluation",
    "EvaluationError",
    "MetricInfo",
    "MetricUnavailableError",
    "default_metric",
    "evaluate",
    "json_safe",
    "score_for_search",
]
