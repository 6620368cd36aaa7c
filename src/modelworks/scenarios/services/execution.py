"""What the ``scenarios.run`` job does: each step in order, waiting for the job it starts.

A step runs or is skipped by its condition (always / if all earlier steps succeeded / if one
failed). Its result (status, times, message, the jobs it started and links to them) is written to
the run after every change, so the run's page shows progress live and a run resumed after a worker
restart carries on where it stopped: finished steps are kept, a step whose job is still going is
waited for again.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from modelworks.core.jobs import BaseJob, JobCancelled, enqueue
from modelworks.core.models import Job, JobState, User
from modelworks.datasets.models import Dataset
from modelworks.scenarios.models import RunCondition, RunStatus, ScenarioRun, StepKind
from modelworks.scenarios.services import notify
from modelworks.scenarios.services.waiting import wait_for_job

__all__ = ["FINAL_STEP_STATUSES", "RunContext", "StepFailed", "execute_steps", "run_url"]

logger = logging.getLogger("modelworks.scenarios")

FINAL_STEP_STATUSES = ("succeeded", "failed", "skipped", "cancelled")


class StepFailed(Exception):
    """A step did not succeed; the message is shown on the run's page."""


@dataclass
class RunContext:
    """What a step needs: the run, the scenario job running it, and whose permissions it uses."""

    run: ScenarioRun
    job: BaseJob
    acting: User
    cancelled: Callable[[], bool]

    def save(self) -> None:
        ScenarioRun.objects.filter(pk=self.run.pk).update(step_results=self.run.step_results)

    def wait(self, job_id: Any, result: dict[str, Any]) -> Job:
        def on_wait(job: Job) -> None:
            message = job.progress_message if job.state == JobState.RUNNING else "waiting for a worker"
            self.job.progress(self.percent(result), f"{result['name']}: {message}"[:300])

        return wait_for_job(job_id, parent=self.job, cancelled=self.cancelled, on_wait=on_wait)

    def percent(self, result: dict[str, Any]) -> float:
        steps = self.run.step_results
        done = sum(1 for r in steps if r["status"] in FINAL_STEP_STATUSES)
        return 100.0 * done / max(len(steps), 1)


def run_url(run: ScenarioRun) -> str:
    """The run page's address, absolute when MODELWORKS_PUBLIC_URL is set."""
    path = reverse("scenarios:run", args=[run.scenario.project.slug, run.scenario_id, run.number])
    return f"{getattr(settings, 'MODELWORKS_PUBLIC_URL', '')}{path}"


def _job_link(job_id: Any) -> str:
    return reverse("core:job", args=[job_id])


def _build_link(project_slug: str, build_id: int) -> str | None:
    try:
        return reverse("flows:build", args=[project_slug, build_id])
    except NoReverseMatch:
        return None


def _datasets(ctx: RunContext, ids: list[int]) -> list[Dataset]:
    found = {d.pk: d for d in Dataset.objects.filter(project=ctx.run.scenario.project, pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise StepFailed(f"Dataset {', '.join(missing)} was deleted; edit the step to choose other datasets.")
    return [found[i] for i in ids]


# ------------------------------------------------------------------------------------------- steps


def _build(ctx: RunContext, result: dict[str, Any]) -> str:
    params = result["params"]
    project = ctx.run.scenario.project
    build_id = result.get("build_id")
    try:
        from modelworks.flows.models import Build
        from modelworks.flows.services.builds import submit_build, sync_build_status
    except ImportError as exc:
        raise StepFailed(f"Builds are not available on this instance ({exc}).") from exc
    if build_id is None:
        targets = _datasets(ctx, params.get("datasets") or []) or None
        try:
            build = submit_build(
                project,
                actor=ctx.acting,
                targets=targets,
                force=bool(params.get("force")),
                trigger="scenario",
            )
        except ValidationError as exc:
            raise StepFailed(" ".join(exc.messages)) from exc
        result["build_id"] = build.pk
        result["jobs"] = [str(build.job_id)] if build.job_id else []
        link = _build_link(project.slug, build.pk)
        result["links"] = {f"Build {build.pk}": link} if link else {}
        if build.job_id:
            result["links"]["Job"] = _job_link(build.job_id)
        ctx.save()
    build = Build.objects.select_related("job").get(pk=result["build_id"])
    job = ctx.wait(build.job_id, result) if build.job_id else None
    build.refresh_from_db()
    build = sync_build_status(build)  # a build whose job died without it is closed as failed
    if build.status == "succeeded":
        return f"Build {build.pk} succeeded."
    reason = build.error or (job.error if job is not None else "") or "no reason given"
    if job is not None and job.state == JobState.CANCELLED:
        raise StepFailed(f"Build {build.pk} was cancelled: {reason}")
    raise StepFailed(f"Build {build.pk} {build.status}: {reason}")


def _quality(ctx: RunContext, result: dict[str, Any]) -> str:
    if not result.get("jobs"):
        jobs, links = [], {}
        for dataset in _datasets(ctx, result["params"]["datasets"]):
            version = dataset.current_version
            if version is None:
                raise StepFailed(f"'{dataset.name}' has no version to check yet.")
            job = enqueue(
                "datasets.quality",
                title=f"Check {dataset.name} v{version.number}",
                project=ctx.run.scenario.project,
                created_by=ctx.acting,
                params={"version_id": version.pk},
            )
            jobs.append(str(job.pk))
            links[f"{dataset.name} v{version.number}"] = _job_link(job.pk)
        result["jobs"], result["links"] = jobs, links
        ctx.save()
    lines, failed = [], False
    for (label, _), job_id in zip(result["links"].items(), result["jobs"], strict=True):
        job = ctx.wait(job_id, result)
        if job.state != JobState.SUCCEEDED:
            failed = True
            lines.append(f"{label}: the check could not run ({job.error or job.state}).")
            continue
        outcome = job.result or {}
        status = outcome.get("status", "not_run")
        if status == "blocked":
            failed = True
            lines.append(f"{label}: a blocking rule failed ({outcome.get('failed', 0)} rule(s) failed).")
        elif status == "warning":
            lines.append(f"{label}: {outcome.get('failed', 0)} non-blocking rule(s) failed.")
        elif status == "not_run":
            lines.append(f"{label}: no enabled rule.")
        else:
            lines.append(f"{label}: all {outcome.get('passed', 0)} rule(s) passed.")
    if failed:
        raise StepFailed(" ".join(lines))
    return " ".join(lines)


def _job(ctx: RunContext, result: dict[str, Any]) -> str:
    params = result["params"]
    kind = params["job_type"]
    if kind not in (getattr(settings, "MODELWORKS_SCENARIO_JOB_TYPES", []) or []):
        raise StepFailed(
            f"Job type '{kind}' may no longer be run by scenarios (MODELWORKS_SCENARIO_JOB_TYPES)."
        )
    if not result.get("jobs"):
        job = enqueue(
            kind,
            title=f"{ctx.run.scenario.name}: {result['name']}",
            project=ctx.run.scenario.project,
            created_by=ctx.acting,
            params=params.get("params") or {},
        )
        result["jobs"], result["links"] = [str(job.pk)], {"Job": _job_link(job.pk)}
        ctx.save()
    job = ctx.wait(result["jobs"][0], result)
    if job.state != JobState.SUCCEEDED:
        raise StepFailed(f"The job {job.state}: {job.error or 'no reason given'}")
    return f"The job succeeded ({job.progress_message})." if job.progress_message else "The job succeeded."


def _notify(ctx: RunContext, result: dict[str, Any]) -> str:
    params = result["params"]
    run = ctx.run
    failed = [r["name"] for r in run.step_results if r["status"] == "failed"]
    values = {
        "scenario": run.scenario.name,
        "project": run.scenario.project.name,
        "outcome": "failed" if failed else "succeeded",
        "url": run_url(run),
        "run": str(run.number),
        "trigger": f"{run.get_trigger_kind_display()}{': ' + run.trigger_detail if run.trigger_detail else ''}",
        "started": f"{run.started_at:%Y-%m-%d %H:%M} UTC" if run.started_at else "",
        "failed_steps": ", ".join(failed) or "none",
    }
    text = notify.render_message(params["message"], values)
    try:
        if params["channel"] == "webhook":
            payload = {
                "text": text,
                "scenario": values["scenario"],
                "project": run.scenario.project.slug,
                "run": run.number,
                "outcome": values["outcome"],
                "url": values["url"],
                "trigger": values["trigger"],
                "steps": [
                    {
                        "name": r["name"],
                        "kind": r["kind"],
                        "status": r["status"],
                        "message": r.get("message", ""),
                    }
                    for r in run.step_results
                    if r is not result
                ],
            }
            return notify.send_webhook(params["url"], payload)
        subject = notify.render_message(params.get("subject") or "[Modelworks] {scenario} {outcome}", values)
        return notify.send_email(list(params["recipients"]), subject, text)
    except notify.NotificationError as exc:
        raise StepFailed(str(exc)) from exc


EXECUTORS: dict[str, Callable[[RunContext, dict[str, Any]], str]] = {
    StepKind.BUILD: _build,
    StepKind.QUALITY: _quality,
    StepKind.JOB: _job,
    StepKind.NOTIFY: _notify,
}


def _should_run(condition: str, failed_before: bool) -> tuple[bool, str]:
    if condition == RunCondition.ON_SUCCESS and failed_before:
        return (
            False,
            "Skipped: an earlier step failed, and this step runs only if all earlier steps succeeded.",
        )
    if condition == RunCondition.ON_FAILURE and not failed_before:
        return False, "Skipped: every earlier step succeeded, and this step runs only if one failed."
    return True, ""


def _finish_step(result: dict[str, Any], status: str, message: str) -> None:
    now = timezone.now()
    result["status"], result["message"] = status, message[:4000]
    result["ended_at"] = now.isoformat()
    started = result.get("started_at")
    if started:
        result["duration_seconds"] = round((now - _parse(started)).total_seconds(), 3)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def execute_steps(ctx: RunContext) -> str:
    """Run (or resume) the steps of ``ctx.run``; return the run's outcome: succeeded or failed.

    Raises:
        JobCancelled: the run was cancelled; the current step's job was cancelled too and the
            remaining steps are marked cancelled.
    """
    results = ctx.run.step_results
    for index, result in enumerate(results):
        if result["status"] in FINAL_STEP_STATUSES:
            continue
        failed_before = any(r["status"] == "failed" for r in results[:index])
        run_it, why = _should_run(result["condition"], failed_before)
        if not run_it:
            result["status"], result["message"] = "skipped", why
            ctx.save()
            continue
        if ctx.cancelled():
            _cancel_rest(ctx, index)
            raise JobCancelled("Cancelled on request.")
        if result["status"] != "running":
            result.update(status="running", started_at=timezone.now().isoformat(), message="")
            ctx.save()
        ctx.job.log(f"Step {index + 1} ({result['kind']}): {result['name']}")
        ctx.job.progress(ctx.percent(result), f"Step {index + 1} of {len(results)}: {result['name']}")
        try:
            message = EXECUTORS[result["kind"]](ctx, result)
        except JobCancelled:
            _cancel_rest(ctx, index)
            raise
        except StepFailed as exc:
            _finish_step(result, "failed", str(exc))
            ctx.job.log(f"Step {index + 1} failed: {exc}", "WARNING")
        except Exception as exc:
            logger.exception("scenario step crashed")
            ctx.job.log(traceback.format_exc().rstrip(), "ERROR")
            _finish_step(result, "failed", f"Internal error: {type(exc).__name__}: {exc}")
        else:
            _finish_step(result, "succeeded", message)
            ctx.job.log(f"Step {index + 1} succeeded: {message}")
        ctx.save()
    return RunStatus.FAILED if any(r["status"] == "failed" for r in results) else RunStatus.SUCCEEDED


def _cancel_rest(ctx: RunContext, index: int) -> None:
    for result in ctx.run.step_results[index:]:
        if result["status"] not in FINAL_STEP_STATUSES:
            _finish_step(result, "cancelled", "Cancelled on request.")
    ctx.save()
