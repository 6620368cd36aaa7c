"""Background work of the scenarios app.

* ``scenarios.run``: one run of a scenario: its steps in order (see
  ``modelworks.scenarios.services.execution``), then its outcome, then the scenarios waiting for it.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from modelworks.core.jobs import BaseJob, InvalidJobParamsError, JobCancelled, JobFailed
from modelworks.scenarios.models import RunStatus, ScenarioRun
from modelworks.scenarios.services.execution import RunContext, execute_steps
from modelworks.scenarios.services.runs import fire_downstream, refusal

__all__ = ["RunScenarioJob"]


class RunScenarioJob(BaseJob):
    """Run one scenario run (``run_id``)."""

    kind = "scenarios.run"
    title = "Run a scenario"
    # A second attempt only happens when the worker died: the run resumes where it stopped.
    max_attempts = 2

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        run_id = params.get("run_id")
        if isinstance(run_id, bool) or not isinstance(run_id, int) or run_id < 1:
            raise InvalidJobParamsError(
                f"'{cls.kind}' needs run_id, the id of a scenario run; got {run_id!r}."
            )
        return {"run_id": run_id}

    def run(self) -> dict[str, Any]:
        run = (
            ScenarioRun.objects.select_related("scenario__project", "acting_as")
            .filter(pk=self.params["run_id"], scenario__project=self.project)
            .first()
        )
        if run is None:
            raise JobFailed("The scenario or its run was deleted before the run could start.")
        scenario = run.scenario
        if not run.is_active:
            return {"run": run.number, "status": run.status, "message": "The run had already ended."}
        refused = refusal(scenario, run.acting_as)
        if refused:
            self._end(run, RunStatus.FAILED, refused)
            fire_downstream(run)
            raise JobFailed(refused)
        if run.status == RunStatus.QUEUED:
            run.status, run.started_at = RunStatus.RUNNING, timezone.now()
            if not run.step_results:
                run.step_results = [
                    {**step.snapshot(), "status": "pending", "message": "", "jobs": [], "links": {}}
                    for step in scenario.steps.filter(enabled=True).order_by("position", "id")
                ]
            run.save(update_fields=["status", "started_at", "step_results"])
            self.log(
                f"Run {run.number} of '{scenario.name}' ({run.get_trigger_kind_display()}"
                f"{': ' + run.trigger_detail if run.trigger_detail else ''}), as {run.acting_as}: "
                f"{len(run.step_results)} step(s)."
            )
        else:
            self.log(f"Resuming run {run.number}: finished steps are kept.", "WARNING")
        context = RunContext(run=run, job=self, acting=run.acting_as, cancelled=self.cancelled)
        try:
            outcome = execute_steps(context)
        except JobCancelled:
            self._end(run, RunStatus.CANCELLED, "Cancelled on request.")
            raise
        except BaseException as exc:
            # Anything unexpected (or a hard stop) must not leave the run blocking the scenario.
            self._end(run, RunStatus.FAILED, f"The run stopped: {type(exc).__name__}: {exc}")
            raise
        failed = [r for r in run.step_results if r["status"] == "failed"]
        reason = "; ".join(f"{r['name']}: {r['message']}" for r in failed)
        self._end(run, outcome, reason)
        started = fire_downstream(run)
        for other in started:
            self.log(f"Started '{other.scenario.name}' run {other.number} ({other.status}).")
        if outcome == RunStatus.FAILED:
            raise JobFailed(f"{len(failed)} step(s) failed: {reason}"[:2000])
        self.progress(100, f"Run {run.number} succeeded")
        return {
            "run": run.number,
            "status": outcome,
            "steps": [{"name": r["name"], "status": r["status"]} for r in run.step_results],
        }

    @staticmethod
    def _end(run: ScenarioRun, status: str, reason: str) -> None:
        run.status, run.reason, run.ended_at = status, reason[:4000], timezone.now()
        ScenarioRun.objects.filter(pk=run.pk).update(
            status=status, reason=run.reason, ended_at=run.ended_at, step_results=run.step_results
        )
