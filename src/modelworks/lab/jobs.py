"""Background work of the Lab.

* ``lab.train``: one training session (``session_id``): read the dataset version (sampled beyond
  ``MODELWORKS_LAB_MAX_ROWS``), check it, search models under the time budget with every trial
  tracked as a child run, explain the best model, save it as an MLflow model (a logged model of the
  parent run) and record everything on the session. Nothing is registered: registering is a separate,
  deliberate step, so a failed training never leaves a half-registered model.
"""

from __future__ import annotations

from typing import Any

from modelworks.core.jobs import BaseJob, InvalidJobParamsError, JobCancelled, JobFailed
from modelworks.engine.automl import AutoMLError, TrainingCancelled
from modelworks.lab.models import SessionStatus, TrainingSession
from modelworks.lab.services.pipeline import TrainingRun

__all__ = ["TrainModelJob"]


class TrainModelJob(BaseJob):
    """Train the models of one training session (``session_id``)."""

    kind = "lab.train"
    title = "Train a model"
    # A training is not retried on its own: a second run would repeat the whole search.
    max_attempts = 1

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        session_id = params.get("session_id")
        if isinstance(session_id, bool) or not isinstance(session_id, int) or session_id < 1:
            raise InvalidJobParamsError(
                f"'{cls.kind}' needs session_id, the id of a Lab training session; got {session_id!r}."
            )
        return {"session_id": session_id}

    def run(self) -> dict[str, Any]:
        session = (
            TrainingSession.objects.select_related(
                "analysis__project", "dataset_version__dataset", "created_by"
            )
            .filter(pk=self.params["session_id"], analysis__project=self.project)
            .first()
        )
        if session is None:
            raise JobFailed("The analysis or its training was deleted before the training could start.")
        if not session.is_active:
            return {"session": session.number, "status": session.status, "message": "It had already ended."}
        training = TrainingRun(session, job=self)
        try:
            training.run()
        except (JobCancelled, TrainingCancelled) as exc:
            training.fail(SessionStatus.CANCELLED, "Cancelled on request: no model was kept.")
            raise JobCancelled("Cancelled on request.") from exc
        except JobFailed as exc:
            training.fail(SessionStatus.FAILED, str(exc))
            raise
        except AutoMLError as exc:
            training.fail(SessionStatus.FAILED, exc.message)
            raise JobFailed(exc.message) from exc
        except BaseException as exc:
            training.fail(
                SessionStatus.FAILED,
                f"The training stopped because of an internal error ({type(exc).__name__}: {exc}). "
                "Try again; if it keeps failing, send the job's log to your administrator.",
            )
            raise
        best = session.best_trial or {}
        return {
            "session": session.number,
            "status": session.status,
            "trials": len(session.leaderboard),
            "best_algorithm": best.get("algorithm"),
            "best_score": best.get("score"),
            "model_uri": session.model_uri,
        }
