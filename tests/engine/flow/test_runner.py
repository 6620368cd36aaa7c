"""The build runner with real threads: parallel branches, failure isolation, cancel, events."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable

import pytest

from modelworks.engine.flow import (
    BuildEvent,
    BuildPlan,
    FlowGraph,
    PlannedStep,
    QueryError,
    RecipeNode,
    StepCancelledError,
    StepResult,
    plan_build,
    run_plan,
)


def plan_of(*nodes: RecipeNode) -> BuildPlan:
    return plan_build(FlowGraph.from_recipes(nodes), targets=None, current={}, last_built={})


class Recorder:
    """An ``execute_step`` that records when each step ran (monotonic clock) and runs ``behaviour``."""

    def __init__(self, behaviour: dict[str, Callable[[], StepResult]] | None = None) -> None:
        self.behaviour = behaviour or {}
        self.times: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def __call__(self, step: PlannedStep) -> StepResult:
        start = time.monotonic()
        try:
            action = self.behaviour.get(step.recipe_id)
            return (
                action() if action else StepResult(rows={o: 3 for o in step.outputs}, log=f"ran {step.name}")
            )
        finally:
            with self.lock:
                self.times[step.recipe_id] = (start, time.monotonic())


def test_independent_branches_run_at_the_same_time() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)), RecipeNode("b", "b", ("raw",), ("y",)))
    both_started = threading.Barrier(2, timeout=10)

    def wait_for_the_other() -> StepResult:
        both_started.wait()  # raises BrokenBarrierError (a failed step) if the steps ran one by one
        return StepResult(rows={"out": 1})

    outcome = run_plan(plan, Recorder({"a": wait_for_the_other, "b": wait_for_the_other}), max_parallel=2)
    assert outcome.status == "succeeded", outcome.to_dict()
    a, b = outcome.step("a"), outcome.step("b")
    assert a.started_at and a.ended_at and b.started_at and b.ended_at
    assert a.started_at < b.ended_at and b.started_at < a.ended_at  # the intervals overlap


def test_one_at_a_time_and_dependencies_wait() -> None:
    plan = plan_of(
        RecipeNode("a", "a", ("raw",), ("x",)),
        RecipeNode("b", "b", ("raw",), ("y",)),
        RecipeNode("c", "c", ("x", "y"), ("z",)),
    )
    recorder = Recorder()
    outcome = run_plan(plan, recorder, max_parallel=1)
    assert outcome.status == "succeeded"
    intervals = sorted(recorder.times.values())
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(intervals))
    assert recorder.times["c"][0] >= max(recorder.times["a"][1], recorder.times["b"][1])
    assert outcome.step("c").rows == {"z": 3} and outcome.step("c").log == "ran c"
    assert outcome.step("c").duration_s is not None and outcome.step("c").duration_s >= 0


def test_a_step_waits_for_its_upstream_even_with_free_threads() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)), RecipeNode("b", "b", ("x",), ("y",)))
    recorder = Recorder({"a": lambda: (time.sleep(0.05), StepResult())[1]})
    outcome = run_plan(plan, recorder, max_parallel=4)
    assert outcome.status == "succeeded"
    assert recorder.times["b"][0] >= recorder.times["a"][1]


def fail(error: Exception) -> Callable[[], StepResult]:
    def run() -> StepResult:
        raise error

    return run


def test_a_failure_skips_its_downstream_and_independent_branches_go_on() -> None:
    # a → b → c fails at a; d is independent, e reads d and b.
    plan = plan_of(
        RecipeNode("a", "clean", ("raw",), ("x",)),
        RecipeNode("b", "b", ("x",), ("y",)),
        RecipeNode("c", "c", ("y",), ("z",)),
        RecipeNode("d", "d", ("raw",), ("w",)),
        RecipeNode("e", "e", ("w", "y"), ("v",)),
    )
    events: list[BuildEvent] = []
    message = "recipe 'clean' failed in DuckDB: Conversion Error: Could not convert string 'x' to INT32"
    outcome = run_plan(
        plan, Recorder({"a": fail(QueryError(message))}), max_parallel=2, on_event=events.append
    )
    assert outcome.status == "failed"
    status = {s.recipe_id: (s.status, s.error) for s in outcome.steps}
    assert status == {
        "a": ("failed", message),
        "b": ("skipped", "skipped: upstream failed (recipe 'clean')"),
        "c": ("skipped", "skipped: upstream failed (recipe 'clean')"),
        "d": ("succeeded", ""),
        "e": ("skipped", "skipped: upstream failed (recipe 'clean')"),
    }
    assert outcome.step("a").error_code == "step_query_failed"
    assert outcome.step("b").started_at is None
    kinds = sorted((e.kind, e.recipe_id) for e in events)
    assert kinds == sorted(
        [("step_started", "a"), ("step_started", "d"), ("step_failed", "a"), ("step_finished", "d")]
        + [("step_skipped", r) for r in "bce"]
    )
    assert events[-1].progress == 1.0 and events[-1].done == events[-1].total == 5
    assert [e.progress for e in events if e.kind != "step_started"] == sorted(
        e.progress for e in events if e.kind != "step_started"
    )
    assert outcome.count("skipped") == 3


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ValueError("boom"), "internal error: ValueError: boom"),
        (KeyError("col"), "internal error: KeyError: 'col'"),
    ],
)
def test_unexpected_exceptions_become_failed_steps(error: Exception, expected: str) -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)))
    outcome = run_plan(plan, Recorder({"a": fail(error)}))
    step = outcome.step("a")
    assert (step.status, step.error, step.error_code) == ("failed", expected, "internal_error")
    assert "Traceback" in step.log and type(error).__name__ in step.log


def test_a_step_that_returns_something_else_fails() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)))
    outcome = run_plan(plan, lambda step: {"rows": 1})  # type: ignore[arg-type, return-value]
    assert outcome.step("a").error == "internal error: the step returned dict, not a StepResult"


def test_cancel_stops_launching_and_reports_the_rest() -> None:
    # a → b, and c independent; one thread: a runs, is cancelled while running, b and c never start.
    plan = plan_of(
        RecipeNode("a", "a", ("raw",), ("x",)),
        RecipeNode("b", "b", ("x",), ("y",)),
        RecipeNode("c", "c", ("raw",), ("z",)),
    )
    cancel = threading.Event()

    def cancelled_while_running() -> StepResult:
        cancel.set()
        # A well-behaved step polls the same `cancelled` and stops.
        raise StepCancelledError("recipe 'a' was stopped: the build was cancelled")

    events: list[BuildEvent] = []
    recorder = Recorder({"a": cancelled_while_running})
    outcome = run_plan(plan, recorder, max_parallel=1, cancelled=cancel.is_set, on_event=events.append)
    assert outcome.status == "cancelled"
    assert {s.recipe_id: s.status for s in outcome.steps} == {
        "a": "cancelled",
        "b": "cancelled",
        "c": "cancelled",
    }
    assert set(recorder.times) == {"a"}
    assert outcome.step("a").error == "recipe 'a' was stopped: the build was cancelled"
    assert outcome.step("c").error == "the build was cancelled before this step started"
    assert outcome.step("b").error in {
        "the build was cancelled while upstream step 'a' ran",
        "the build was cancelled before this step started",
    }
    assert {e.kind for e in events} == {"step_started", "step_cancelled"}


def test_a_step_that_finishes_despite_the_cancel_keeps_its_result() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)), RecipeNode("b", "b", ("x",), ("y",)))
    cancel = threading.Event()

    def finish_anyway() -> StepResult:
        cancel.set()
        return StepResult(rows={"x": 10})

    outcome = run_plan(plan, Recorder({"a": finish_anyway}), cancelled=cancel.is_set)
    assert outcome.status == "cancelled"
    assert [(s.status, dict(s.rows)) for s in outcome.steps] == [("succeeded", {"x": 10}), ("cancelled", {})]


def test_cancelled_before_start_runs_nothing() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)))
    recorder = Recorder()
    outcome = run_plan(plan, recorder, cancelled=lambda: True)
    assert outcome.status == "cancelled" and recorder.times == {}


def test_listener_and_cancel_check_errors_do_not_break_the_build() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)))

    def broken_listener(event: BuildEvent) -> None:
        raise RuntimeError("listener bug")

    outcome = run_plan(plan, Recorder(), on_event=broken_listener)
    assert outcome.status == "succeeded"

    def broken_check() -> bool:
        raise RuntimeError("database gone")

    # A cancel check that fails counts as a cancel: better stop than run blind.
    assert run_plan(plan, Recorder(), cancelled=broken_check).status == "cancelled"


def test_run_time_fingerprint_and_extra_are_kept_and_outcome_is_json() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)), RecipeNode("b", "b", ("x",), ("y",)))
    assert plan.step("b").fingerprint is None
    outcome = run_plan(
        plan, Recorder({"b": lambda: StepResult(rows={"y": 2}, fingerprint="f" * 64, extra={"version": 9})})
    )
    assert outcome.step("b").fingerprint == "f" * 64 and outcome.step("b").extra == {"version": 9}
    data = json.loads(json.dumps(outcome.to_dict()))
    assert data["status"] == "succeeded"
    assert data["counts"] == {"succeeded": 2, "failed": 0, "skipped": 0, "cancelled": 0}
    assert data["steps"][1]["rows"] == {"y": 2} and data["steps"][1]["reason"] == "never built"


def test_an_empty_plan_succeeds() -> None:
    plan = plan_of()
    outcome = run_plan(plan, Recorder())
    assert outcome.status == "succeeded" and outcome.steps == ()


def test_idle_work_waits_for_a_step_that_runs_long_enough() -> None:
    plan = plan_of(RecipeNode("quick", "quick", ("raw",), ("x",)), RecipeNode("slow", "slow", ("x",), ("y",)))
    idle_at: list[float] = []
    slow_started: list[float] = []

    def slow() -> StepResult:
        slow_started.append(time.monotonic())
        time.sleep(0.6)
        return StepResult(rows={"y": 1})

    outcome = run_plan(
        plan,
        Recorder({"slow": slow}),
        on_idle=lambda: idle_at.append(time.monotonic()),
        idle_after=0.3,
    )
    assert outcome.status == "succeeded", outcome.to_dict()
    # Not while the quick step ran: once, while the slow one ran, after it had run 0.3 s.
    assert len(idle_at) == 1
    assert idle_at[0] - slow_started[0] >= 0.25


def test_without_a_delay_idle_work_runs_whenever_the_runner_waits() -> None:
    plan = plan_of(RecipeNode("a", "a", ("raw",), ("x",)), RecipeNode("b", "b", ("x",), ("y",)))
    calls: list[int] = []
    outcome = run_plan(plan, Recorder(), on_idle=lambda: calls.append(1))
    assert outcome.status == "succeeded" and len(calls) == 2
