"""Score rows with a registered model: parse and validate request bodies, predict, explain, batch-score.

Public API:

* :class:`ScoringModel` (``load(model_dir)``, ``parse(payload, *, max_rows, content_type, id_column)``,
  ``predict(batch, *, explain)``, ``batch_from_frame(frame)``), :class:`InputBatch`,
  :class:`Predictions`
* :class:`InputSchema` / :class:`ColumnSpec`: the signature's columns
* :func:`run_batch_scoring`: score a Parquet file in a child process (``python -m
  modelworks.engine.scoring.batch``), chunked, with progress; :class:`BatchScoringResult`
* errors: :class:`ScoringError` → :class:`ModelLoadError`, :class:`ScoringInputError` (``code``,
  ``column``, ``row``), :class:`BatchScoringError`

No Django here. Loading a model may unpickle it, which runs its author's code: call
:meth:`ScoringModel.load` only inside the sandbox (:mod:`modelworks.engine.scoring.sandbox`: batch
scoring, ``score_frame``) or in the scoring service's workers.
"""

from __future__ import annotations

from modelworks.engine.scoring.batch import BatchScoringResult, run_batch_scoring
from modelworks.engine.scoring.errors import (
    INPUT_ERROR_CODES,
    BatchScoringError,
    ModelLoadError,
    ScoringError,
    ScoringInputError,
)
from modelworks.engine.scoring.model import TRUSTED_PREFIXES, InputBatch, Predictions, ScoringModel
from modelworks.engine.scoring.schema import ColumnSpec, InputSchema

__all__ = [
    "INPUT_ERROR_CODES",
    "TRUSTED_PREFIXES",
    "BatchScoringError",
    "BatchScoringResult",
    "ColumnSpec",
    "InputBatch",
    "InputSchema",
    "ModelLoadError",
    "Predictions",
    "ScoringError",
    "ScoringInputError",
    "ScoringModel",
    "run_batch_scoring",
]
