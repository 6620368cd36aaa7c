"""Regression metrics and samples: RMSE, MAE, R², … and the residual and predicted-vs-actual samples the
Lab plots.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modelworks.engine.automl.evaluation.inputs import _round, _sample_indices, skm
from modelworks.engine.automl.evaluation.metrics import MAX_SAMPLE_POINTS, Evaluation, json_safe

# ---------------------------------------------------------------------------------------------------------
# Regression


def _evaluate_regression(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> Evaluation:
    values, omitted, _ = _regression_metrics(truth, predicted, only=None)
    sample = _sample_indices(len(truth), MAX_SAMPLE_POINTS)
    residuals = truth[sample] - predicted[sample]
    curves = {
        "residuals": {
            "points": _round(np.column_stack([predicted[sample], residuals])),
            "total": len(truth),
            "sampled": len(sample),
        },
        "predicted_vs_actual": {
            "points": _round(np.column_stack([truth[sample], predicted[sample]])),
            "total": len(truth),
            "sampled": len(sample),
        },
    }
    return Evaluation(
        task="regression", metrics=values, curves=json_safe(curves), omitted=omitted, rows=len(truth)
    )


def _regression_metrics(
    truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], *, only: str | None
) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    values: dict[str, float] = {}
    omitted: dict[str, str] = {}

    def wanted(name: str) -> bool:
        return only is None or only == name

    if wanted("rmse"):
        values["rmse"] = float(skm.root_mean_squared_error(truth, predicted))
    if wanted("mae"):
        values["mae"] = float(skm.mean_absolute_error(truth, predicted))
    if wanted("r2"):
        if len(truth) < 2:
            omitted["r2"] = "R² needs at least two rows."
        elif np.ptp(truth) == 0:
            omitted["r2"] = (
                f"R² is undefined when every actual value is the same ({truth[0]:g}); use MAE or RMSE."
            )
        else:
            values["r2"] = float(skm.r2_score(truth, predicted))
    if wanted("mape"):
        scale = float(np.max(np.abs(truth)))
        near_zero = np.abs(truth) <= max(1e-12, 1e-6 * scale)
        if near_zero.any():
            omitted["mape"] = (
                f"MAPE is not reported: {int(near_zero.sum())} of {len(truth)} actual values are zero or "
                "near zero, where a percentage error is meaningless; use MAE or RMSE instead."
            )
        else:
            values["mape"] = float(skm.mean_absolute_percentage_error(truth, predicted))
    return values, omitted, {}
