"""Background work of the flows app: ``flows.build``, one build of (part of) a project's flow.

The job plans the build (``build_plan``: which recipes are out of date, and a refusal naming the
recipe, dataset and rule when a step would read a blocked version), then hands the plan to the
engine's runner, which runs independent branches in parallel threads
(``MODELWORKS_FLOW_MAX_PARALLEL``, default 2). Virtual (not stored) datasets are computed inside
the steps that read them (``services.pipeline``).

Only this job's thread touches the database: the runner announces each step before it starts
(``step_started``), when the job reads the inputs' current versions; the runner thread compiles
and runs the step into staged files; when the runner announces the step finished, the job commits
the files as new versions and runs the outputs' quality rules — before any downstream step
starts, so it reads the new versions. The steps' lineage (catalog runs and OpenLineage events) is
queued (``LineageRecorder``) and written by this thread while a long step runs; what is left at
the end goes to a ``flows.lineage`` job, queued with the build's outcome. A failed or cancelled step leaves every earlier version as it was and no
file behind.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from modelworks.core.jobs import (
    BaseJob,
    InvalidJobParamsError,
    JobCancelled,
    JobFailed,
    RetryableJobError,
    enqueue,
)
from modelworks.datasets.models import Dataset
from modelworks.datasets.services import run_quality
from modelworks.datasets.storage import data_store
from modelworks.engine import duck
from modelworks.flows.models import Build, BuildStatus, BuildStep, Recipe, StepStatus
from modelworks.flows.services import pipeline
from modelworks.flows.services.builds import plan_summary
from modelworks.flows.services.execution import (
    ExecutedStep,
    PreparedStep,
    discard,
    register_outputs,
)
from modelworks.flows.services.graph import RecipeShape, flow_graph, propagate_schemas
from modelworks.flows.services.lineage import LineageRecorder, column_edges, reports_from_json
from modelworks.flows.services.pushdown import drop_tables

__all__ = ["BuildFlowJob", "DropTablesJob", "RecordLineageJob"]

# Lineage is written while a step runs only once it has run this long (see run_plan's idle_after).
LINEAGE_DELAY_SECONDS = 1.0

_STATUS = {
    "succeeded": StepStatus.SUCCEEDED,
    "failed": StepStatus.FAILED,
    "skipped": StepStatus.SKIPPED,
    "cancelled": StepStatus.CANCELLED,
}


class BuildFlowJob(BaseJob):
    """Build the recipes a ``Build`` row asks for (``params = {"build_id": …}``)."""

    kind = "flows.build"
    title = "Build the flow"
    # A build is not retried on its own: a failed step is something to fix, and a build can be
    # submitted again (up-to-date recipes are then skipped).
    max_attempts = 1
    # What every build compiles and runs with (SQLGlot alone is ~0.1 s of imports per attempt).
    preload = (
        "modelworks.engine.flow.execute",
        "modelworks.engine.flow.pipeline",
        "modelworks.engine.flow.runner",
        "modelworks.engine.recipes.api",
        "modelworks.engine.recipes.prepare",
        "modelworks.engine.recipes.schemas",
        "modelworks.engine.recipes.sql",
        "modelworks.engine.recipes.visual",
    )

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        value = params.get("build_id")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidJobParamsError(
                f"'{cls.kind}' needs build_id, a positive whole number; got {value!r}."
            )
        return {"build_id": value}

    # ---------------------------------------------------------------------------------------- run

    def run(self) -> dict[str, Any]:
        build = Build.objects.select_related("project").filter(pk=self.params["build_id"]).first()
        if build is None or self.project is None or build.project_id != self.project.pk:
            raise JobFailed("The build was deleted before it could start.")
        if build.is_finished:
            raise JobFailed(f"Build {build.pk} has already ended ({build.status}).")
        self.build = build
        self.lineage = LineageRecorder(build.project)
        duck.warm(1)  # the first step's DuckDB database opens while the build is planned
        self.profiles: list[Any] = []  # new versions whose profile job is not queued yet
        build.status, build.started_at = BuildStatus.RUNNING, timezone.now()
        build.save(update_fields=["status", "started_at", "updated_at"])
        try:
            return self._run(build)
        except JobCancelled:
            self._finish(BuildStatus.CANCELLED, "Cancelled on request.")
            raise
        except JobFailed as exc:
            self._finish(BuildStatus.FAILED, str(exc))
            raise
        except BaseException as exc:
            self._finish(BuildStatus.FAILED, f"Internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            duck.warm(0)  # a build run inside a longer-lived process leaves no spare behind

    def _finish(self, status: str, error: str = "") -> None:
        build = self.build
        build.status, build.error, build.ended_at = status, error[:5000], timezone.now()
        with transaction.atomic():
            # The lineage not written yet goes to its own job, queued with the build's outcome: the
            # build ends when its versions are committed, and a worker writes the lineage next.
            reports = self.lineage.take()
            if reports:
                enqueue(
                    RecordLineageJob.kind,
                    title=f"Record the lineage of build {build.pk}",
                    project=build.project,
                    created_by=self.job.created_by,
                    params={"build_id": build.pk, "reports": reports},
                )
            self._queue_profiles()
            build.save(update_fields=["status", "error", "ended_at", "updated_at"])
        unfinished = (StepStatus.PENDING, StepStatus.RUNNING)
        steps = getattr(self, "steps", None)
        if status == BuildStatus.SUCCEEDED and steps is not None:
            if not any(s.status in unfinished for s in steps.values()):
                return  # every step recorded its outcome: no row is left to close
        leftover = StepStatus.CANCELLED if status == BuildStatus.CANCELLED else StepStatus.FAILED
        build.steps.filter(status__in=[StepStatus.PENDING, StepStatus.RUNNING]).update(
            status=leftover, error=error[:2000] or "The build ended before this step finished."
        )

    def _run(self, build: Build) -> dict[str, Any]:
        from modelworks.engine.errors import EngineError
        from modelworks.engine.flow import run_plan

        project = build.project
        data_store().clean_stale()
        self.progress(1, "Planning the build")
        targets = list(Dataset.objects.filter(project=project, pk__in=build.targets or []))
        if len(targets) != len(set(build.targets or [])):
            raise JobFailed(
                "A dataset this build should bring up to date was deleted; submit the build again."
            )
        # Read once for the whole build: the recipes do not change while it runs (versions do).
        every_recipe = list(
            Recipe.objects.filter(project=project)
            .with_links()
            .select_related("project")
            .order_by("name", "id")
        )
        self.shapes = [RecipeShape.of(r) for r in every_recipe]  # as graph.recipe_shapes reads them
        self.virtual = pipeline.virtual_keys(project)
        try:
            graph = flow_graph(project, shapes=self.shapes)
            plan = pipeline.pipelined_build_plan(
                project,
                targets=targets,
                force=build.force,
                graph=graph,
                shapes=self.shapes,
                virtual=self.virtual,
            )
        except EngineError as exc:
            raise JobFailed(exc.message) from exc
        self.graph = graph
        labels = {key: graph.label(key) for key in graph.datasets}
        build.plan = plan_summary(plan, labels)
        build.save(update_fields=["plan", "updated_at"])
        recipes = {str(r.pk): r for r in every_recipe}
        planned_rows = [
            BuildStep(
                build=build,
                recipe=recipes[planned.recipe_id],
                recipe_name=planned.name,
                position=position,
                reason=planned.reason,
                fingerprint=planned.fingerprint or "",
            )
            for position, planned in enumerate(plan.steps)
        ]
        skipped_rows = [
            BuildStep(
                build=build,
                recipe=recipes.get(skipped.recipe_id),
                recipe_name=skipped.name,
                position=len(plan.steps) + offset,
                status=StepStatus.UP_TO_DATE,
                reason=skipped.reason,
                fingerprint=skipped.fingerprint or "",
            )
            for offset, skipped in enumerate(plan.skipped)
        ]
        # One insert for every step (the database gives back their ids: the job updates them).
        BuildStep.objects.bulk_create([*planned_rows, *skipped_rows])
        self.steps: dict[str, BuildStep] = {
            planned.recipe_id: row for planned, row in zip(plan.steps, planned_rows, strict=True)
        }
        if len(plan.steps) > 1:  # one step checks its own columns before it reads any data
            self._check_columns(plan, graph)
        if not plan.steps:
            self._finish(BuildStatus.SUCCEEDED)
            self._report(100, "Everything is up to date")
            return {"build_id": build.pk, "status": "succeeded", "ran": 0, "up_to_date": len(plan.skipped)}
        self.log(
            f"Build {build.pk}: {len(plan.steps)} step(s) to run, {len(plan.skipped)} up to date: "
            + ", ".join(f"{s.name} ({s.reason})" for s in plan.steps)
        )
        self.recipes = recipes
        self._plan_steps = plan.steps
        self.prepared: dict[str, PreparedStep] = {}
        self.executed: dict[str, ExecutedStep] = {}
        self.blocked_outputs: dict[int, str] = {}
        self.run_ids: dict[str, uuid.UUID] = {}
        self.started_at: dict[str, datetime] = {}
        self.register_errors: dict[str, str] = {}
        self.cancel_flag = threading.Event()
        self._percent = 2.0  # the overall progress last reported (a step's own progress keeps it)
        max_parallel = int(getattr(settings, "MODELWORKS_FLOW_MAX_PARALLEL", 2))
        # One database per step (and one for the schema checks): no spare nobody would take.
        duck.warm(min(max_parallel, len(plan.steps)), expected=len(plan.steps) + 1)
        outcome = run_plan(
            plan,
            self._execute,
            max_parallel=max_parallel,
            cancelled=self._cancel_requested,
            on_event=self._on_event,
            # While a step runs (a long one: a short one would only be slowed down), this thread
            # writes the lineage of the steps so far; the rest is written at the end, in one batch.
            on_idle=self._catch_up,
            idle_after=LINEAGE_DELAY_SECONDS,
        )
        for step_outcome in outcome.steps:
            self._record_outcome(step_outcome)
        # Only this build writes its steps: their rows in memory are what the database holds.
        ran = sorted(self.steps.values(), key=lambda s: s.position)
        failed = [s for s in ran if s.status == StepStatus.FAILED]
        if failed:
            first = failed[0]
            message = f"Recipe '{first.recipe_name}' failed: {first.error}"
            if len(failed) > 1:
                message += f" ({len(failed) - 1} more step(s) failed)"
            raise JobFailed(message)
        if outcome.status == "cancelled":
            raise JobCancelled("Cancelled on request.")
        self._finish(BuildStatus.SUCCEEDED)
        self._report(100, f"Built {len(plan.steps)} recipe(s)")
        return {
            "build_id": build.pk,
            "status": "succeeded",
            "ran": len(plan.steps),
            "up_to_date": len(plan.skipped),
            "rows": {s.recipe_name: s.rows for s in ran if s.status == StepStatus.SUCCEEDED},
        }

    def _check_columns(self, plan: Any, graph: Any) -> None:
        """Compile every planned step first, in flow order, from the columns the steps before it
        will write: a column lost upstream fails the build before anything runs.

        Only what the engine can tell ahead counts (a missing column, a type that does not fit…);
        a Python recipe's or a never-built dataset's columns are known once it has run.
        """
        inline = {s.recipe_id: self._inline(s.recipe_id, graph) for s in plan.steps}
        only = set(inline).union(*inline.values())
        propagation = propagate_schemas(self.build.project, graph=graph, shapes=self.shapes, only=only)
        failing = {
            str(p.recipe_id): p
            for p in propagation.problems.values()
            if p.code not in ("flow_upstream_error", "flow_unknown_schema")
        }
        if not failing:
            return
        first = next(iter(failing.values()))  # in flow order
        for recipe_id, step in self.steps.items():
            # A virtual recipe's problem fails the step that computes it inline.
            mine = [failing[r] for r in (recipe_id, *sorted(inline[recipe_id])) if r in failing]
            if mine:
                message = mine[0].message
                if str(mine[0].recipe_id) != recipe_id:  # as the step itself would say it
                    message += (
                        f" (its output is not stored: it is computed inside recipe '{step.recipe_name}')"
                    )
                step.status, step.error = StepStatus.FAILED, message[:5000]
                step.error_details = {"code": mine[0].code, **mine[0].details}
            else:
                step.status = StepStatus.SKIPPED
                step.error = f"Not run: recipe '{first.recipe}' would fail, so nothing was run."
        BuildStep.objects.bulk_update(list(self.steps.values()), ["status", "error", "error_details"])
        raise JobFailed(
            f"{first.message[:1].upper()}{first.message[1:]}. This was found before anything ran: "
            "no recipe was run and no version was written."
        )

    def _inline(self, recipe_id: str, graph: Any) -> set[str]:
        """The virtual recipes the step of ``recipe_id`` computes inline (upstream of it, through
        virtual datasets)."""
        found: set[str] = set()
        todo = [recipe_id]
        while todo:
            for key in graph.recipe(todo.pop()).inputs:
                producer = graph.producer(key)
                if key in self.virtual and producer is not None and producer not in found:
                    found.add(producer)
                    todo.append(producer)
        return found

    # ------------------------------------------------------------------- runner callbacks (job thread)

    def _catch_up(self) -> None:
        """Work a finished step leaves that no later step needs (job thread, while a long step
        runs): write the lineage so far, queue the new versions' profile jobs."""
        self.lineage.flush()
        self._queue_profiles()

    def _queue_profiles(self) -> None:
        versions, self.profiles = self.profiles, []
        for version in versions:
            enqueue(
                "datasets.profile",
                title=f"Profile {version.dataset.name} v{version.number}",
                project=self.build.project,
                created_by=self.job.created_by,
                params={"version_id": version.pk},
            )

    def _cancel_requested(self) -> bool:
        try:
            self.check_cancelled()
        except JobCancelled:
            self.cancel_flag.set()
        return self.cancel_flag.is_set()

    def _on_event(self, event: Any) -> None:
        step = self.steps[event.recipe_id]
        if event.kind == "step_started":
            self._start(event.recipe_id, step)
        elif event.kind == "step_finished":
            self._register(event.recipe_id, step)
        if not self._report(2 + 96 * event.progress, f"{event.name}: {event.kind.removeprefix('step_')}"):
            self.cancel_flag.set()

    def _report(self, percent: float, message: str) -> bool:
        """Report progress; False when cancellation was asked (the runner then stops launching)."""
        self._percent = percent
        try:
            self.progress(percent, message)
        except JobCancelled:
            return False
        return True

    def _start(self, recipe_id: str, step: BuildStep) -> None:
        recipe = self.recipes[recipe_id]
        reason = None
        for dataset in recipe.input_datasets:
            if dataset.pk in self.blocked_outputs:
                reason = self.blocked_outputs[dataset.pk]
        upstream_error = next(
            (self.register_errors[r] for r in self.register_errors if r in self._dependencies(recipe_id)),
            None,
        )
        if upstream_error:
            reason = upstream_error
        try:
            prepared = pipeline.prepare_step(
                recipe,
                blocked_reason=reason,
                graph=self.graph,
                virtual=self.virtual,
                shapes=self.shapes,
                recipes=self.recipes,
            )
        except Exception as exc:  # the recipe was deleted meanwhile…: the step fails with the reason
            prepared = PreparedStep(
                recipe.pk, recipe.name, recipe.kind, {}, [], {}, {}, {}, [], "", "duckdb", blocked=exc
            )
        self.prepared[recipe_id] = prepared
        self.run_ids[recipe_id] = uuid.uuid4()
        now = timezone.now()
        self.started_at[recipe_id] = now
        step.status, step.started_at, step.engine = StepStatus.RUNNING, now, prepared.engine
        step.fingerprint = prepared.fingerprint
        step.save(update_fields=["status", "started_at", "engine", "fingerprint"])
        self.log(f"Step '{recipe.name}' started ({step.reason}).")
        self.lineage.add(
            recipe_name=recipe.name,
            run_id=self.run_ids[recipe_id],
            state="running",
            event_time=now,
            started_at=now,
            inputs=recipe.input_datasets,
            description=recipe.description,
        )

    def _dependencies(self, recipe_id: str) -> set[str]:
        planned = {s.recipe_id: s for s in getattr(self, "_plan_steps", [])}
        return set(planned[recipe_id].depends_on) if recipe_id in planned else set()

    def _register(self, recipe_id: str, step: BuildStep) -> None:
        """Commit the outputs of a finished step as versions, check them, record lineage."""
        prepared, executed = self.prepared[recipe_id], self.executed.pop(recipe_id, None)
        if executed is None:
            return
        recipe = self.recipes[recipe_id]
        try:
            versions = register_outputs(
                prepared,
                executed,
                project=self.build.project,
                build_id=self.build.pk,
                job=self.job,
                actor=self.job.created_by,
            )
        except Exception as exc:
            message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.register_errors[recipe_id] = (
                f"the outputs of recipe '{recipe.name}' could not be saved: {message}"
            )
            self.log(f"Step '{recipe.name}': {self.register_errors[recipe_id]}", "ERROR")
            return
        step.output_versions.add(*versions)  # a new step: nothing to remove first
        for version in versions:
            # ``run_quality`` sets the verdict on this very object: nothing to read back.
            run = run_quality(version, trigger="version_created", actor=self.job.created_by, job=self.job)
            if run is not None and not version.usable:
                self.blocked_outputs[version.dataset_id] = (
                    f"input '{version.dataset.name}' is at version {version.number}, which this build wrote "
                    "and which failed a blocking quality rule; fix the recipe or the rule"
                )
                self.log(
                    f"Version {version.number} of '{version.dataset.name}' failed a blocking quality rule; "
                    "recipes reading it will not run.",
                    "WARNING",
                )
            self.profiles.append(version)
        edges = column_edges(
            executed.compiled.lineage if executed.compiled is not None else (),
            {d.name: d for d in recipe.input_datasets},
            {v.dataset.name: v.dataset for v in versions},
        )
        self.lineage.add(
            recipe_name=recipe.name,
            run_id=self.run_ids[recipe_id],
            state="completed",
            event_time=timezone.now(),
            started_at=self.started_at.get(recipe_id),
            inputs=recipe.input_datasets,
            outputs=[v.dataset for v in versions],
            edges=edges,
            sql=executed.sql,
            description=recipe.description,
        )
        pipeline.record_fused_lineage(
            self.build.project,
            prepared,
            executed,
            started_at=self.started_at.get(recipe_id),
            recorder=self.lineage,
        )
        self.log(
            f"Step '{recipe.name}' wrote "
            + ", ".join(f"{v.dataset.name} v{v.number} ({v.row_count:,} rows)" for v in versions)
            + "."
        )

    # ------------------------------------------------------------------------ runner thread

    def _execute(self, planned: Any) -> Any:
        from modelworks.engine.flow import StepResult

        prepared = self.prepared[planned.recipe_id]

        def step_progress(fraction: float, message: str) -> None:
            # From the runner thread: the job's reporter is thread-safe; the overall percent stays
            # where the step events put it, only the message tells how far this step is.
            self.report_progress(self._percent, f"{prepared.name}: {message}")

        executed = pipeline.execute_step(prepared, cancelled=self.cancel_flag.is_set, progress=step_progress)
        self.executed[planned.recipe_id] = executed
        return StepResult(
            rows=executed.rows,
            log=executed.log,
            fingerprint=prepared.fingerprint,
            extra={"details": dict(executed.details)},
        )

    # ------------------------------------------------------------------------------ outcome

    def _record_outcome(self, outcome: Any) -> None:
        step = self.steps[outcome.recipe_id]
        status = _STATUS.get(outcome.status, StepStatus.FAILED)
        error = outcome.error
        if outcome.recipe_id in self.register_errors:
            status, error = StepStatus.FAILED, self.register_errors[outcome.recipe_id]
        leftover = self.executed.pop(outcome.recipe_id, None)
        if leftover is not None:  # ran, but never registered (cancelled build): nothing may stay
            discard(leftover.staged)
            drop_tables(leftover.stored.values())  # push-down: its new database tables too
        if status == StepStatus.FAILED and error and f"'{step.recipe_name}'" not in error:
            error = f"recipe '{step.recipe_name}': {error}"
        step.status = status
        step.started_at = outcome.started_at or step.started_at
        step.ended_at = outcome.ended_at
        step.duration_seconds = outcome.duration_s
        step.rows = dict(outcome.rows) if status == StepStatus.SUCCEEDED else {}
        step.error = (error or "")[:5000]
        step.error_details = {"code": outcome.error_code} if outcome.error_code else {}
        step.details = dict(outcome.extra.get("details") or {}) if status == StepStatus.SUCCEEDED else {}
        if outcome.log:
            step.append_log(outcome.log)
        if outcome.fingerprint:
            step.fingerprint = outcome.fingerprint
        step.save()
        if status in (StepStatus.FAILED, StepStatus.CANCELLED) and outcome.recipe_id in self.run_ids:
            recipe = self.recipes[outcome.recipe_id]
            self.lineage.add(
                recipe_name=recipe.name,
                run_id=self.run_ids[outcome.recipe_id],
                state="failed" if status == StepStatus.FAILED else "aborted",
                event_time=timezone.now(),
                started_at=self.started_at.get(outcome.recipe_id),
                inputs=recipe.input_datasets,
                error=step.error,
            )
        if status == StepStatus.FAILED:
            self.log(f"Step '{step.recipe_name}' failed: {step.error}", "ERROR")


class DropTablesJob(BaseJob):
    """Drop the PostgreSQL tables of deleted recipe output versions (``TableDrop`` rows, pending).

    Queued when such a version is deleted; see :mod:`modelworks.flows.services.pushdown.cleanup`
    for what qualifies (never a table Modelworks did not create).
    """

    kind = "flows.drop_tables"
    title = "Drop the database tables of deleted dataset versions"
    max_attempts = 1

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        if params:
            raise InvalidJobParamsError(f"'{cls.kind}' takes no parameters; got {sorted(params)}.")
        return {}

    def run(self) -> dict[str, Any]:
        from modelworks.flows.services.pushdown.cleanup import drop_pending_tables

        counts = drop_pending_tables(log=self.log)
        self.progress(100, ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "Nothing to drop")
        return counts


class RecordLineageJob(BaseJob):
    """Write the lineage a build left (``params = {"build_id": …, "reports": […]}``).

    A build writes its steps' lineage while a long step runs; what is left when it ends (for a
    short build, everything) is queued as this job, in the transaction that records the build's
    outcome, so it is never lost and never holds up the build. The reports are
    :meth:`LineageRecorder.take`'s JSON: dataset ids, column edges, SQL, times.
    """

    kind = "flows.lineage"
    title = "Record a build's lineage"
    max_attempts = 3  # a locked or unreachable database is retried
    preload = ("modelworks.catalog.lineage.batch",)

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        build_id, reports = params.get("build_id"), params.get("reports")
        if isinstance(build_id, bool) or not isinstance(build_id, int) or build_id < 1:
            raise InvalidJobParamsError(
                f"'{cls.kind}' needs build_id, a positive whole number; got {build_id!r}."
            )
        if not isinstance(reports, list) or not reports or not all(isinstance(r, dict) for r in reports):
            raise InvalidJobParamsError(f"'{cls.kind}' needs reports, a non-empty list of step reports.")
        return {"build_id": build_id, "reports": reports}

    def run(self) -> dict[str, Any]:
        if self.project is None:
            raise JobFailed("The project of this build was deleted; its lineage went with it.")
        try:
            reports = reports_from_json(self.project, self.params["reports"])
        except (KeyError, TypeError, ValueError) as exc:
            raise JobFailed(
                f"The lineage reports of build {self.params['build_id']} are not readable: {exc}"
            ) from exc
        try:
            LineageRecorder(self.project).write(reports)
        except DatabaseError as exc:
            raise RetryableJobError(f"The lineage could not be written yet: {exc}") from exc
        runs = len({r.run_id for r in reports})
        self.progress(100, f"Recorded the lineage of {runs} step run(s) of build {self.params['build_id']}")
        return {"build_id": self.params["build_id"], "reports": len(reports), "runs": runs}
