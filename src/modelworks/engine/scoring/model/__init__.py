"""``ScoringModel``: load an MLflow model folder once, then parse request bodies and score them fast.

Loading picks the most specific flavor the folder has: ``lightgbm`` and ``xgboost`` (native booster
files, read by the boosting library itself), ``sklearn`` (cloudpickle/pickle through MLflow; the skops
format limited to :data:`TRUSTED_PREFIXES`), then the generic ``python_function`` through
``mlflow.pyfunc``. Pickled files can run code when loaded: only the scoring service, the worker's job
processes and their child processes load models, never the web server.

The fast path: boosters and scikit-learn estimators on purely numeric columns are scored from a
float64 NumPy matrix built straight from the parsed JSON, without pandas (MLflow's
``dataframe_split`` rows in one ``numpy.asarray`` call, records row by row); pipelines with text,
date or category columns get a typed DataFrame. Any value that is not a plain finite number sends
the body down the column-by-column path, which reports it exactly.

Layout: ``batches`` (:class:`InputBatch`, :class:`Predictions`), ``loading`` (the model folder and its
flavor's adapter) and ``scoring_model`` (:class:`ScoringModel`).
"""

from __future__ import annotations

from modelworks.engine.scoring.model.batches import Array as Array
from modelworks.engine.scoring.model.batches import InputBatch, Predictions
from modelworks.engine.scoring.model.batches import _plain_values as _plain_values
from modelworks.engine.scoring.model.loading import TRUSTED_PREFIXES
from modelworks.engine.scoring.model.scoring_model import ScoringModel

__all__ = [
    "TRUSTED_PREFIXES",
    "InputBatch",
    "Predictions",
    "ScoringModel",
]
