"""Run the steps of a build plan, independent branches in parallel.

The runner knows nothing of recipes or storage: it calls ``execute_step(step)`` for each planned
step, in worker threads, and records what happened. A step starts as soon as every step of the plan
it depends on has succeeded; when a step fails, the steps below it are skipped while independent
branches go on; once ``cancelled()`` answers true no new step starts, and the steps that never
started are reported as cancelled (running steps should poll the same ``cancelled`` and stop).

``execute_step`` may raise anything: an :class:`~modelworks.engine.errors.EngineError` becomes the
step's error message as is, any other exception "internal error: …" with its traceback in the
step's log. Nothing a step does can stop the runner.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from modelworks.engine.errors import EngineError
from modelworks.engine.flow.errors import StepCancelledError
from modelworks.engine.flow.plan import BuildPlan, PlannedStep

__all__ = [
    "BuildEvent",
    "BuildOutcome",
    "StepOutcome",
    "StepResult",
    "run_plan",
]

logger = logging.getLogger(__name__)

SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class StepResult:
    """What ``execute_step`` returns for a step that worked.

    Attributes:
        rows: output dataset → rows written.
        log: text for the step's log.
        fingerprint: the fingerprint computed at run time (for steps planned without one).
        extra: anything else the caller wants back in the outcome (e.g. the created version ids).
    """

    rows: Mapping[str, int] = field(default_factory=dict)
    log: str = ""
    fingerprint: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepOutcome:
    """What happened to one step of the plan.

    Attributes:
        recipe_id, name: the recipe.
        status: ``succeeded``, ``failed``, ``skipped`` (an upstream step failed) or ``cancelled``.
        reason: why the plan ran it (``never built``…).
        started_at, ended_at: UTC times (``None`` for a step that never started).
        duration_s: seconds it ran.
        rows: output → rows written.
        log: its log text.
        error: the message for the user (failed, skipped and cancelled steps).
        error_code: the error's stable code (``internal_error`` for a bug).
        fingerprint: the planned or run-time fingerprint.
        extra: what ``execute_step`` returned in :attr:`StepResult.extra`.
    """

    recipe_id: str
    name: str
    status: str
    reason: str
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_s: float | None = None
    rows: Mapping[str, int] = field(default_factory=dict)
    log: str = ""
    error: str = ""
    error_code: str = ""
    fingerprint: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe_id": self.recipe_id,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_s": self.duration_s,
            "rows": dict(self.rows),
            "log": self.log,
            "error": self.error,
            "error_code": self.error_code,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class BuildOutcome:
    """The result of a build: ``succeeded``, ``failed`` (a step failed) or ``cancelled``."""

    status: str
    steps: tuple[StepOutcome, ...]
    started_at: dt.datetime
    ended_at: dt.datetime

    def step(self, recipe_id: str) -> StepOutcome:
        for step in self.steps:
            if step.recipe_id == recipe_id:
                return step
        raise KeyError(recipe_id)

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "steps": [s.to_dict() for s in self.steps],
            "counts": {s: self.count(s) for s in (SUCCEEDED, FAILED, SKIPPED, CANCELLED)},
        }


@dataclass(frozen=True)
class BuildEvent:
    """A change a progress bar shows.

    Attributes:
        kind: ``step_started``, ``step_finished``, ``step_failed``, ``step_skipped`` or
            ``step_cancelled``.
        recipe_id, name: the step.
        done, total: steps settled so far, steps in the plan.
        message: the error for failed/skipped/cancelled steps.
    """

    kind: str
    recipe_id: str
    name: str
    done: int
    total: int
    message: str = ""

    @property
    def progress(self) -> float:
        """Fraction of the steps settled, from 0 to 1."""
        return self.done / self.total if self.total else 1.0


def _ignore(event: BuildEvent) -> None:
    return None


def _never() -> bool:
    return False


def run_plan(
    plan: BuildPlan,
    execute_step: Callable[[PlannedStep], StepResult],
    *,
    max_parallel: int = 2,
    cancelled: Callable[[], bool] = _never,
    on_event: Callable[[BuildEvent], None] = _ignore,
    on_idle: Callable[[], None] | None = None,
    idle_after: float = 0.0,
) -> BuildOutcome:
    """Run every step of ``plan`` with ``execute_step``.

    Args:
        plan: the build plan.
        execute_step: runs one step; returns a :class:`StepResult` or raises.
        max_parallel: steps that may run at the same time (at least 1).
        cancelled: asked before starting a step; once true, no new step starts. Running steps
            should poll it too (pass it on to :func:`~modelworks.engine.flow.run_in_duckdb`).
        on_event: called (from the runner's thread) for every step that starts or settles; an
            exception it raises is logged and ignored.
        on_idle: called (from the runner's thread) each time it is about to wait for running
            steps, to do deferred work meanwhile (e.g. write the lineage of finished steps); it
            should be short, since a step that finishes meanwhile waits for it. An exception it
            raises is logged and ignored.
        idle_after: seconds the running steps must have run before ``on_idle`` is called: work a
            step that ends sooner would only have slowed down is left for a later call (or the
            caller's own end), where it is done once for several steps.

    Returns:
        One outcome per step, in plan order.
    """
    return _Run(plan, execute_step, max(1, max_parallel), cancelled, on_event, on_idle, idle_after).run()


class _Run:
    def __init__(
        self,
        plan: BuildPlan,
        execute_step: Callable[[PlannedStep], StepResult],
        max_parallel: int,
        cancelled: Callable[[], bool],
        on_event: Callable[[BuildEvent], None],
        on_idle: Callable[[], None] | None = None,
        idle_after: float = 0.0,
    ) -> None:
        self.plan = plan
        self.on_idle = on_idle
        self.idle_after = max(0.0, idle_after)
        self.execute_step = execute_step
        self.max_parallel = max_parallel
        self.cancelled = cancelled
        self.on_event = on_event
        self.outcomes: dict[str, StepOutcome] = {}
        self.children: dict[str, list[str]] = {s.recipe_id: [] for s in plan.steps}
        for step in plan.steps:
            for parent in step.depends_on:
                self.children[parent].append(step.recipe_id)

    def run(self) -> BuildOutcome:
        started = _now()
        pending = list(self.plan.steps)  # not started, in plan order
        running: dict[Future[StepOutcome], PlannedStep] = {}
        stop = False
        with ThreadPoolExecutor(self.max_parallel, thread_name_prefix="flow-step") as pool:
            while pending or running:
                ready = [] if stop else self._ready(pending, len(running))
                # Asked only when a step could start: `cancelled` may well be a database query.
                if ready and self._poll_cancelled():
                    stop, ready = True, []
                if stop and pending:
                    for step in pending:
                        self._settle(step, CANCELLED, "the build was cancelled before this step started")
                    pending = []
                for step in ready:
                    pending.remove(step)
                    self._emit("step_started", step)
                    running[pool.submit(self._execute, step)] = step
                if not running:
                    # Nothing runs and nothing can start (a plan whose steps are not in dependency
                    # order): never wait forever.
                    for step in pending:
                        self._settle(step, SKIPPED, "skipped: its upstream steps did not succeed")
                    pending = []
                    continue
                done: set[Future[StepOutcome]] = set()
                if self.idle_after > 0:
                    done, _ = wait(running, timeout=self.idle_after, return_when=FIRST_COMPLETED)
                if not done:
                    self._idle()
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: self._index(running[f])):
                    step = running.pop(future)
                    outcome = self._collect(future, step)
                    self.outcomes[step.recipe_id] = outcome
                    kind = {SUCCEEDED: "step_finished", CANCELLED: "step_cancelled"}.get(
                        outcome.status, "step_failed"
                    )
                    self._emit(kind, step, outcome.error)
                    if outcome.status != SUCCEEDED:
                        pending = self._skip_below(step, pending, outcome.status)
        steps = tuple(self.outcomes[s.recipe_id] for s in self.plan.steps)
        if any(s.status == FAILED for s in steps):
            status = FAILED
        elif any(s.status == CANCELLED for s in steps):
            status = CANCELLED
        else:
            status = SUCCEEDED
        return BuildOutcome(status, steps, started, _now())

    # -- scheduling -----------------------------------------------------------------------------

    def _ready(self, pending: list[PlannedStep], busy: int) -> list[PlannedStep]:
        free = self.max_parallel - busy
        ready: list[PlannedStep] = []
        for step in pending:
            if len(ready) >= free:
                break
            parents = [self.outcomes.get(p) for p in step.depends_on]
            if all(o is not None and o.status == SUCCEEDED for o in parents):
                ready.append(step)
        return ready

    def _skip_below(self, failed: PlannedStep, pending: list[PlannedStep], status: str) -> list[PlannedStep]:
        below: set[str] = set()
        stack = list(self.children[failed.recipe_id])
        while stack:
            rid = stack.pop()
            if rid not in below:
                below.add(rid)
                stack.extend(self.children[rid])
        if status == CANCELLED:
            why = f"the build was cancelled while upstream step {failed.name!r} ran"
            settle_as = CANCELLED
        else:
            why = f"skipped: upstream failed (recipe {failed.name!r})"
            settle_as = SKIPPED
        for step in pending:
            if step.recipe_id in below:
                self._settle(step, settle_as, why)
        return [s for s in pending if s.recipe_id not in below]

    def _index(self, step: PlannedStep) -> int:
        return self.plan.steps.index(step)

    def _poll_cancelled(self) -> bool:
        try:
            return bool(self.cancelled())
        except Exception:
            logger.exception("the build's cancel check failed; treating the build as cancelled")
            return True

    # -- one step -------------------------------------------------------------------------------

    def _execute(self, step: PlannedStep) -> StepOutcome:
        started_at, clock = _now(), time.monotonic()

        def ended(status: str, **values: Any) -> StepOutcome:
            return StepOutcome(
                step.recipe_id,
                step.name,
                status,
                step.reason,
                started_at=started_at,
                ended_at=_now(),
                duration_s=time.monotonic() - clock,
                **values,
            )

        try:
            result = self.execute_step(step)
        except StepCancelledError as exc:
            return ended(CANCELLED, error=exc.message, error_code=exc.code, fingerprint=step.fingerprint)
        except EngineError as exc:
            return ended(FAILED, error=exc.message, error_code=exc.code, fingerprint=step.fingerprint)
        except Exception as exc:
            logger.exception("step %r of a build failed with an unexpected error", step.name)
            return ended(
                FAILED,
                error=f"internal error: {type(exc).__name__}: {exc}",
                error_code="internal_error",
                log=traceback.format_exc(),
                fingerprint=step.fingerprint,
            )
        if not isinstance(result, StepResult):
            return ended(
                FAILED,
                error=f"internal error: the step returned {type(result).__name__}, not a StepResult",
                error_code="internal_error",
                fingerprint=step.fingerprint,
            )
        return ended(
            SUCCEEDED,
            rows=dict(result.rows),
            log=result.log,
            fingerprint=result.fingerprint or step.fingerprint,
            extra=dict(result.extra),
        )

    def _collect(self, future: Future[StepOutcome], step: PlannedStep) -> StepOutcome:
        error = future.exception()
        if error is None:
            return future.result()
        # Only a BaseException that is not an Exception (e.g. SystemExit) gets here.
        return StepOutcome(
            step.recipe_id,
            step.name,
            FAILED,
            step.reason,
            error=f"internal error: {type(error).__name__}: {error}",
            error_code="internal_error",
            fingerprint=step.fingerprint,
        )

    def _settle(self, step: PlannedStep, status: str, why: str) -> None:
        self.outcomes[step.recipe_id] = StepOutcome(
            step.recipe_id, step.name, status, step.reason, error=why, fingerprint=step.fingerprint
        )
        self._emit("step_skipped" if status == SKIPPED else "step_cancelled", step, why)

    def _idle(self) -> None:
        if self.on_idle is None:
            return
        try:
            self.on_idle()
        except Exception:
            logger.exception("a build's idle work failed")

    def _emit(self, kind: str, step: PlannedStep, message: str = "") -> None:
        event = BuildEvent(kind, step.recipe_id, step.name, len(self.outcomes), len(self.plan.steps), message)
        try:
            self.on_event(event)
        except Exception:
            logger.exception("a build event listener failed on %s", kind)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
