"""The hyper-parameter search: Optuna's TPE sampler under a wall-clock budget.

Why Optuna rather than FLAML: define-by-run search spaces keep each algorithm's space next to its
defaults (``algorithms.py``), ``enqueue_trial`` warm-starts every algorithm with known-good settings,
per-fold intermediate scores feed its median pruner, and the ask-and-tell interface lets this module
decide before each trial whether it can still finish within the budget. FLAML is the benchmark peer.

How a search runs (:func:`run_search`):

1. The spec is checked (algorithms, metric, columns) and :func:`check_training_data` must report no
   blocking error. Rows without a target (and, for a time split, without a time) are left out.
2. A holdout is set aside: a stratified random ``holdout_fraction`` of the rows for K-fold validation,
   the latest ``holdout_fraction`` by time for time-based validation.
3. Trials run one after the other on the rest: each algorithm's defaults first, then TPE proposals.
   Each trial is scored by K-fold cross-validation (stratified for classifiers), or for time-based
   validation by expanding-window folds over the rows sorted by time (every fold trains on the past
   and validates on the following slice). Before launching a trial the search estimates its cost from
   earlier fits and skips it when it would not end in time; it keeps time aside for the final refits.
4. The best trial is refitted on the training part and evaluated on the holdout, then refitted on
   every row (training part and holdout): that last fit is the returned model.

Layout: ``splits`` (rows and the holdout/folds), ``trials`` (the running study, cost estimates, refits)
and ``runner`` (:func:`run_search`).
"""

from __future__ import annotations

from modelworks.engine.automl.search.runner import MAX_SKIPS as MAX_SKIPS
from modelworks.engine.automl.search.runner import WARM_START_ORDER as WARM_START_ORDER
from modelworks.engine.automl.search.runner import run_search
from modelworks.engine.automl.search.splits import Split, split_rows
from modelworks.engine.automl.search.splits import _parse_times as _parse_times
from modelworks.engine.automl.search.trials import FINAL_MARGIN_S as FINAL_MARGIN_S
from modelworks.engine.automl.search.trials import SAFETY as SAFETY

__all__ = [
    "Split",
    "run_search",
    "split_rows",
]
