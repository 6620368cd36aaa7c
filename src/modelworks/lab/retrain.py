"""The ``lab.retrain`` job: retrain a registered Lab model on fresh data, compare it with the
champion on the same recent labelled rows, then promote it or ask a named approver.

Parameters (checked by ``RetrainModelJob.clean_params``; scenarios save them in a "Run a job" step)::

    {"model": "Delay model",            # registered model name (required)
     "alias": "champion",               # the alias to replace (default champion)
     "dataset": 12,                     # training dataset id (default: the champion's, current version)
     "evaluation": {"dataset": 13, "time_column": "day", "start": "2024-11-01", "end": "2025-01-01"},
                                        # default: the most recent 20% of the training rows by the
                                        # analysis' time column
     "metric": "roc_auc",               # default: the analysis metric
     "margin": 0.01,                    # absolute; the candidate must beat the champion by more
     "policy": "approval",              # "auto" promotes by itself; "approval" asks the approver
     "approver": "alice"}               # required for "approval"

Steps: find the champion's Lab training (its registration, tracked run or logged model), train a new
``TrainingSession`` of the same analysis with the same spec on the fresh data (the Lab's own
``TrainingRun``; rows of the evaluation window are left out when they come from the training data, so
the candidate never sees them), register it with alias ``challenger``, score both models on the same
window rows in this process, and promote (``policy: auto``) or open a ``PromotionRequest``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modelworks.core.jobs import BaseJob, InvalidJobParamsError, JobCancelled, JobFailed
from modelworks.engine.automl import AutoMLError, TrainingCancelled
from modelworks.lab.models import SessionStatus, TrainingSession
from modelworks.lab.services.pipeline import TrainingRun

__all__ = ["DEFAULT_WINDOW_FRACTION", "POLICIES", "RetrainModelJob", "parse_moment"]

POLICIES = ("auto", "approval")
#: Share of the most recent training rows used as the evaluation window when none is given.
DEFAULT_WINDOW_FRACTION = 0.2
_KEYS = ("model", "alias", "dataset", "evaluation", "metric", "margin", "policy", "approver")
_WINDOW_KEYS = ("dataset", "time_column", "start", "end")
# Share of the progress bar the training takes.
_TRAIN_START, _TRAIN_END = 8.0, 75.0


def parse_moment(value: Any, name: str) -> datetime:
    """An ISO date or date-time (``2024-07-01``, ``2024-07-01T12:00:00+02:00``) as an aware UTC datetime.

    Raises:
        InvalidJobParamsError: not such a text.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidJobParamsError(
            f"evaluation.{name} must be a date such as '2024-07-01' (or a date-time); got {value!r}."
        )
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidJobParamsError(
            f"evaluation.{name} = '{value[:40]}' is not a date; write it as YYYY-MM-DD, e.g. '2024-07-01'."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _positive_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidJobParamsError(
            f"{name} must be the id of a dataset of the project (a whole number); got {value!r}."
        )
    return value


class RetrainModelJob(BaseJob):
    """Retrain a registered Lab model, compare it with its champion and promote or ask for approval."""

    kind = "lab.retrain"
    title = "Retrain a model"
    # A retraining is not retried on its own: a second run would train and register again.
    max_attempts = 1

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        from modelworks.engine.automl.evaluation import METRICS
        from modelworks.registry.errors import RegistryError
        from modelworks.registry.services import check_alias

        unknown = sorted(set(params) - set(_KEYS))
        if unknown:
            raise InvalidJobParamsError(
                f"'{cls.kind}' has no parameter '{unknown[0]}'; it takes {', '.join(_KEYS)}."
            )
        model = params.get("model")
        if not isinstance(model, str) or not model.strip():
            raise InvalidJobParamsError(
                f"'{cls.kind}' needs model, the name of a registered model of the project; got {model!r}."
            )
        alias = params.get("alias", "champion")
        try:
            alias = check_alias(alias if isinstance(alias, str) else "")
        except RegistryError as exc:
            raise InvalidJobParamsError(f"alias: {exc.message}") from exc
        if alias == "challenger":
            raise InvalidJobParamsError(
                "alias cannot be 'challenger': the retrained candidate is registered under that alias. "
                "Name the alias to replace, usually 'champion'."
            )
        dataset = params.get("dataset")
        dataset = None if dataset is None else _positive_id(dataset, "dataset")
        evaluation = cls._clean_window(params.get("evaluation"))
        metric = params.get("metric")
        if metric is not None and metric not in METRICS:
            raise InvalidJobParamsError(
                f"metric '{metric}' is unknown; use one of {', '.join(sorted(METRICS))}, or leave it out to "
                "use the analysis' metric."
            )
        margin = params.get("margin", 0.0)
        if (
            isinstance(margin, bool)
            or not isinstance(margin, int | float)
            or not math.isfinite(margin)
            or margin < 0
        ):
            raise InvalidJobParamsError(
                f"margin must be a number of 0 or more (an absolute difference of the metric, e.g. 0.01); got {margin!r}."
            )
        policy = params.get("policy", "approval")
        if policy not in POLICIES:
            raise InvalidJobParamsError(
                f"policy must be 'auto' (promote when better by the margin) or 'approval' (ask the approver); "
                f"got {policy!r}."
            )
        approver = params.get("approver")
        if policy == "approval":
            if not isinstance(approver, str) or not approver.strip():
                raise InvalidJobParamsError(
                    "policy 'approval' needs approver: the username of a contributor or admin of the project "
                    "who will approve or reject the promotion."
                )
            approver = approver.strip()
        elif approver not in (None, ""):
            raise InvalidJobParamsError(
                "approver is only used with policy 'approval'; remove it, or set policy to 'approval'."
            )
        else:
            approver = None
        return {
            "model": model.strip(),
            "alias": alias,
            "dataset": dataset,
            "evaluation": evaluation,
            "metric": metric,
            "margin": float(margin),
            "policy": policy,
            "approver": approver,
        }

    @staticmethod
    def _clean_window(window: Any) -> dict[str, Any] | None:
        if window in (None, {}):
            return None
        if not isinstance(window, dict):
            raise InvalidJobParamsError(
                "evaluation must be an object {dataset, time_column, start, end}, or left out to use the most "
                "recent 20% of the training rows."
            )
        unknown = sorted(set(window) - set(_WINDOW_KEYS))
        if unknown:
            raise InvalidJobParamsError(
                f"evaluation has no key '{unknown[0]}'; it takes {', '.join(_WINDOW_KEYS)}."
            )
        dataset = window.get("dataset")
        dataset = None if dataset is None else _positive_id(dataset, "evaluation.dataset")
        time_column = window.get("time_column") or None
        if time_column is not None and not isinstance(time_column, str):
            raise InvalidJobParamsError(f"evaluation.time_column must be a column name; got {time_column!r}.")
        start = window.get("start") or None
        end = window.get("end") or None
        if (start or end) and not time_column:
            raise InvalidJobParamsError(
                "evaluation.start and evaluation.end need evaluation.time_column: the column holding each "
                "row's date."
            )
        if dataset is None and not (start or end):
            raise InvalidJobParamsError(
                "evaluation needs a dataset, or a time_column with start and/or end to cut the window out of "
                "the training data."
            )
        begin = parse_moment(start, "start") if start else None
        finish = parse_moment(end, "end") if end else None
        if begin is not None and finish is not None and begin >= finish:
            raise InvalidJobParamsError(
                f"evaluation.start ({start}) must come before evaluation.end ({end})."
            )
        return {"dataset": dataset, "time_column": time_column, "start": start, "end": end}

    def run(self) -> dict[str, Any]:
        from modelworks.lab.services.retrain import Retraining

        return Retraining(self).run()


@dataclass
class ScaledProgress:
    """The job as the Lab's ``TrainingRun`` sees it, its 0-100% mapped into a slice of this job's bar."""

    job: BaseJob
    start: float
    end: float

    def progress(self, percent: float, message: str = "") -> None:
        self.job.progress(
            self.start + (self.end - self.start) * float(percent) / 100.0, f"Training: {message}"
        )

    def log(self, message: str, level: str = "INFO") -> None:
        self.job.log(message, level)

    def cancelled(self) -> bool:
        return self.job.cancelled()

    def check_cancelled(self) -> None:
        self.job.check_cancelled()


class CandidateTraining(TrainingRun):
    """The Lab's training, leaving out the rows of the evaluation window (``exclude`` returns a mask)."""

    def __init__(self, session: TrainingSession, *, job: Any, exclude: Any = None) -> None:
        super().__init__(session, job=job)
        self.exclude = exclude
        self.excluded_rows = 0

    def read_data(self, version: Any) -> Any:
        from modelworks.lab.services.data import TrainingFrame

        data = super().read_data(version)
        if self.exclude is None:
            return data
        mask = self.exclude(data.frame)
        self.excluded_rows = int(mask.sum())
        kept = data.frame.loc[~mask].reset_index(drop=True)
        if self.excluded_rows:
            self.job.log(
                f"Left out the {self.excluded_rows:,} rows of the evaluation window, so the candidate is "
                "compared on rows it never saw."
            )
        return TrainingFrame(frame=kept, rows_total=data.rows_total - self.excluded_rows)


def train_candidate(job: BaseJob, session: TrainingSession, *, exclude: Any = None) -> CandidateTraining:
    """Run the Lab's training of ``session`` inside ``job`` (as ``lab.train`` would), ending the session
    as failed or cancelled on error.

    Raises:
        JobCancelled, JobFailed: as ``lab.train`` does.
    """
    training = CandidateTraining(session, job=ScaledProgress(job, _TRAIN_START, _TRAIN_END), exclude=exclude)
    try:
        training.run()
    except (JobCancelled, TrainingCancelled) as exc:
        training.fail(SessionStatus.CANCELLED, "Cancelled on request: no model was kept.")
        raise JobCancelled("Cancelled on request.") from exc
    except JobFailed as exc:
        training.fail(SessionStatus.FAILED, str(exc))
        raise JobFailed(f"The retraining failed: {exc}") from exc
    except AutoMLError as exc:
        training.fail(SessionStatus.FAILED, exc.message)
        raise JobFailed(f"The retraining failed: {exc.message}") from exc
    except BaseException as exc:
        training.fail(
            SessionStatus.FAILED,
            f"The training stopped because of an internal error ({type(exc).__name__}: {exc}). "
            "Try again; if it keeps failing, send the job's log to your administrator.",
        )
        raise
    return training
