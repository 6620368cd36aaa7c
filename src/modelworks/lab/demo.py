"""The Lab part of the demo: once the demo Flow has built ``flights_training``, a Lab analysis
"Late departures" predicts whether a flight leaves more than 15 minutes late, checked on the latest
months (time-based validation on ``flight_date``), trained with a short budget, and its best model is
registered as ``late-departures`` with the alias ``champion``.

``modelworks demo --headless`` runs it in process (:func:`run_lab_demo_headless`); the interactive demo
queues the training for the worker once the flow's build is done (:func:`start_lab_demo`) and registers
the model when it ends (:func:`finish_lab_demo`).
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import connections

from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets.models import Dataset
from modelworks.lab.models import Analysis, SessionStatus, TrainingSession
from modelworks.lab.services import create_analysis, register_model, start_training, update_design

__all__ = [
    "DEMO_ANALYSIS",
    "DEMO_BUDGET_SECONDS",
    "DEMO_MODEL",
    "complete_lab_demo_in_background",
    "finish_lab_demo",
    "run_lab_demo_headless",
    "start_lab_demo",
]

DEMO_ANALYSIS = "Late departures"
DEMO_MODEL = "late-departures"
DEMO_BUDGET_SECONDS = 30
_TRAINING_DATASET = "flights_training"


def start_lab_demo(project: Project, actor: User, out: TextIO) -> TrainingSession | None:
    """Create the demo analysis on the built training table and queue its training.

    Returns:
        The queued training; None when there is nothing to do (already registered) or it cannot start
        (the reason is written).
    """
    dataset = Dataset.objects.filter(project=project, name=_TRAINING_DATASET).first()
    if dataset is None or dataset.current_version is None:
        out.write(f"The Lab demo was skipped: '{_TRAINING_DATASET}' was not built.\n")
        return None
    analysis = Analysis.objects.filter(project=project, name=DEMO_ANALYSIS).first()
    done = (
        analysis.sessions.filter(registered_version__isnull=False).order_by("-number").first()
        if analysis is not None
        else None
    )
    if done is not None:
        out.write(
            f"Lab analysis '{DEMO_ANALYSIS}' was already trained and registered as "
            f"{done.registered_model_name} version {done.registered_version}; reusing it.\n"
        )
        return None
    try:
        if analysis is None:
            analysis = create_analysis(
                project,
                actor=actor,
                name=DEMO_ANALYSIS,
                dataset=dataset,
                target="late",
                task="binary",
                time_column="flight_date",
            )
            update_design(
                analysis,
                actor=actor,
                description=(
                    "Will this flight leave more than 15 minutes late? Trained on January to October "
                    "2013, always checked on the months after the ones it learned from."
                ),
                time_budget_s=DEMO_BUDGET_SECONDS,
                validation={"kind": "time", "folds": 3, "holdout_fraction": 0.2},
            )
        session = start_training(analysis, actor=actor)
    except ValidationError as exc:
        out.write(f"The Lab demo could not start: {' '.join(exc.messages)}\n")
        return None
    out.write(
        f"Lab: training '{DEMO_ANALYSIS}' for {DEMO_BUDGET_SECONDS} s (job {session.job_id}); "
        f"then its best model becomes '{DEMO_MODEL}@champion'.\n"
    )
    return session


def finish_lab_demo(session: TrainingSession, actor: User, out: TextIO) -> bool:
    """Register the demo training's model as ``late-departures@champion``; True when registered."""
    session.refresh_from_db()
    if session.status != SessionStatus.SUCCEEDED:
        out.write(f"Lab training {session.status}: {session.error or 'it did not end in time'}\n")
        return False
    try:
        register_model(session, actor=actor, name=DEMO_MODEL, alias="champion")
    except ValidationError as exc:
        out.write(f"The demo model could not be registered: {' '.join(exc.messages)}\n")
        return False
    session.refresh_from_db()
    best = session.best_trial or {}
    out.write(
        f"Lab: best model {best.get('algorithm', '?')} after {len(session.leaderboard or [])} trials; "
        f"registered as {DEMO_MODEL} version {session.registered_version} (alias champion).\n"
    )
    return True


def _already_registered(project: Project) -> bool:
    return TrainingSession.objects.filter(
        analysis__project=project, analysis__name=DEMO_ANALYSIS, registered_version__isnull=False
    ).exists()


def run_lab_demo_headless(project: Project, actor: User, out: TextIO, deadline: float) -> bool:
    """Train and register the demo model here, with an in-process worker. True when all succeeded."""
    from modelworks.core.jobs.worker import run_worker

    session = start_lab_demo(project, actor, out)
    if session is None:
        return _already_registered(project)
    while time.monotonic() < deadline:
        run_worker(concurrency=1, burst=True, name="demo-lab")
        job = Job.objects.filter(pk=session.job_id).first()
        if job is None or job.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
            break
        time.sleep(0.5)
    return finish_lab_demo(session, actor, out)


def complete_lab_demo_in_background(
    project: Project, actor: User, out: TextIO, *, timeout: float = 3600
) -> threading.Thread:
    """Interactive demo: once the demo flow's builds are over, queue the training for the worker, wait
    for it, and register its model (a daemon thread; everything it does is written to ``out``)."""
    from modelworks.flows.models import Build, BuildStatus

    active = (BuildStatus.QUEUED, BuildStatus.RUNNING)

    def wait_train_register() -> None:
        try:
            deadline = time.monotonic() + timeout
            # The flow demo queues its build after the imports: wait for one to exist and end.
            while time.monotonic() < deadline:
                builds = Build.objects.filter(project=project)
                if builds.exists() and not builds.filter(status__in=active).exists():
                    break
                time.sleep(2)
            session = start_lab_demo(project, actor, out)
            if session is None:
                return
            finished = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)
            while time.monotonic() < deadline:
                if Job.objects.filter(pk=session.job_id, state__in=finished).exists():
                    break
                time.sleep(2)
            if finish_lab_demo(session, actor, out):
                from modelworks.monitoring.demo import run_production_demo, wait_for_worker

                run_production_demo(project, actor, out, deadline, wait=wait_for_worker)
        except Exception as exc:  # a background thread must say why it stopped
            out.write(f"The Lab demo stopped: {type(exc).__name__}: {exc}\n")
        finally:
            out.flush()
            connections.close_all()

    thread = threading.Thread(target=wait_train_register, name="demo-lab", daemon=True)
    thread.start()
    return thread
