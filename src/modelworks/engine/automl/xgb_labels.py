"""XGBoost's classifier with the user's own labels (its own module, so importing the Lab's algorithm
list does not import XGBoost: only building an XGBoost model does)."""

from __future__ import annotations

from typing import Any

import numpy as np
from xgboost import XGBClassifier

__all__ = ["LabelledXGBClassifier"]


class LabelledXGBClassifier(XGBClassifier):
    """XGBoost's classifier taking and returning the original labels (strings, numbers…).

    ``XGBClassifier`` only learns from labels 0…k-1; this keeps the mapping so that ``predict`` gives
    the user's labels and ``classes_`` lists them, like every other sklearn classifier.
    """

    def fit(self, X: Any, y: Any, **kwargs: Any) -> LabelledXGBClassifier:
        labels, codes = np.unique(np.asarray(y), return_inverse=True)
        # XGBoost checks the codes against ``classes_`` while fitting: hide the labels until done.
        self.__dict__.pop("labels_", None)
        super().fit(X, codes, **kwargs)
        self.labels_ = labels
        return self

    def predict(
        self,
        X: Any,
        output_margin: bool = False,
        validate_features: bool = True,
        base_margin: Any | None = None,
        iteration_range: Any | None = None,
    ) -> Any:
        codes = super().predict(
            X,
            output_margin=output_margin,
            validate_features=validate_features,
            base_margin=base_margin,
            iteration_range=iteration_range,
        )
        if output_margin:
            return codes
        codes = np.asarray(codes).astype(int)
        return self.classes_[codes]

    @property
    def classes_(self) -> Any:
        labels = self.__dict__.get("labels_")
        return labels if labels is not None else np.arange(self.n_classes_)
