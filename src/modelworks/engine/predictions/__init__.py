"""The prediction log: every scored row with its inputs, outputs, model version and time.

Layout ``<root>/<source>/date=YYYY-MM-DD/part-<uuid>.parquet`` (``source`` is ``deployment-<id>``
or ``recipe-<id>``), one Parquet segment per source and UTC day per flush, each written atomically.
Columns: ``row_id``, ``request_id``, ``ts`` (UTC, µs), ``model_version_id``, ``model_version``,
``role``, ``answered``, ``prediction``, ``prediction_value``, ``probabilities`` (JSON),
``latency_ms``, then ``in_<feature>`` per input feature with its own type.

Writers: :class:`PredictionLogWriter` (the scoring service, the batch-scoring recipe). Readers:
:func:`read_predictions` (monitoring, pages) or DuckDB over :func:`prediction_glob`.
"""

from modelworks.engine.predictions.compaction import compact, sweep_staging
from modelworks.engine.predictions.errors import (
    InvalidSourceError,
    PredictionLogClosedError,
    PredictionLogError,
    PredictionRowsError,
    UnknownPredictionColumnError,
)
from modelworks.engine.predictions.layout import check_source, list_days
from modelworks.engine.predictions.reader import (
    prediction_glob,
    prediction_segments,
    read_predictions,
)
from modelworks.engine.predictions.schema import (
    BASE_COLUMNS,
    BASE_SCHEMA,
    FEATURE_PREFIX,
    ROLES,
    PredictionsLike,
)
from modelworks.engine.predictions.writer import PredictionLogWriter

__all__ = [
    "BASE_COLUMNS",
    "BASE_SCHEMA",
    "FEATURE_PREFIX",
    "ROLES",
    "InvalidSourceError",
    "PredictionLogClosedError",
    "PredictionLogError",
    "PredictionLogWriter",
    "PredictionRowsError",
    "PredictionsLike",
    "UnknownPredictionColumnError",
    "check_source",
    "compact",
    "list_days",
    "prediction_glob",
    "prediction_segments",
    "read_predictions",
    "sweep_staging",
]
