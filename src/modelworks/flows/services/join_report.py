"""The unmatched-rows report of join recipes: computed by a build after a join step ran (and by the
editor's preview on its sample), kept in ``BuildStep.details["join_report"]`` and shown on the build
page as "Join 1 (flights LEFT JOIN weather): 1,234 of 336,776 rows of 'flights' found no match (0.4 %)".

A step's report, as stored (JSON)::

    {"engine": "duckdb" | "postgres",      # where the counts ran ("" when not computed)
     "counts": [UnmatchedCount.to_dict(), …],
     "notes": ["Join recipe 'x' is computed on the fly …"]}   # why a report is missing

The counts are cheap aggregates (``count(*)`` and a ``NOT EXISTS`` probe on the join keys) over the
same inputs the step read: the Parquet files in DuckDB, or the input tables inside PostgreSQL for a
push-down step. A report that fails never fails the step: the log says why it is missing. Joins
computed on the fly inside another step (virtual outputs) have no report of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from modelworks.flows.models import RecipeKind

if TYPE_CHECKING:
    from modelworks.engine.flow import UnmatchedCount
    from modelworks.engine.recipes.types import Relation

__all__ = [
    "NOTHING_TO_COUNT",
    "REPORT_KEY",
    "JoinReport",
    "is_join",
    "join_report_in_duckdb",
    "join_report_in_postgres",
    "join_report_in_session",
    "not_computed",
    "step_join_report",
]

#: The key of ``BuildStep.details`` (and ``ExecutedStep.details``) that holds the report.
REPORT_KEY = "join_report"


@dataclass
class JoinReport:
    """A step's report: the counts, where they ran (``duckdb`` / ``postgres``; "" when not
    computed), and notes on what is missing."""

    counts: list[UnmatchedCount] = field(default_factory=list)
    engine: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """One line per count, then the notes (for the step's log)."""
        return [c.message for c in self.counts] + self.notes

    def log_text(self) -> str:
        """The report as a block of the step's log ("" when there is nothing to say)."""
        if not self.lines:
            return ""
        return "\n".join(["Unmatched rows:", *(f"  {line}" for line in self.lines)])

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "counts": [c.to_dict() for c in self.counts], "notes": self.notes}

    @classmethod
    def from_dict(cls, data: Any) -> JoinReport | None:
        """Read a stored report back (None for anything else)."""
        from modelworks.engine.flow import UnmatchedCount

        if not isinstance(data, Mapping):
            return None
        counts = [UnmatchedCount.from_dict(c) for c in data.get("counts") or [] if isinstance(c, Mapping)]
        notes = [str(n) for n in data.get("notes") or []]
        return cls([c for c in counts if c is not None], engine=str(data.get("engine") or ""), notes=notes)


#: The note of a join recipe none of whose joins can be counted.
NOTHING_TO_COUNT = (
    "Not computed: no join of this recipe can be counted (a cross join, or keys taken from several "
    "earlier inputs)."
)


def _counted(counts: Iterable[UnmatchedCount], engine: str) -> JoinReport:
    found = list(counts)
    return JoinReport(found, engine=engine, notes=[] if found else [NOTHING_TO_COUNT])


def not_computed(reason: str) -> JoinReport:
    """A report that only says why it is missing."""
    return JoinReport(notes=[f"Not computed: {reason}."])


def _timeout() -> float:
    return float(getattr(settings, "MODELWORKS_FLOW_STEP_TIMEOUT", 3600))


def _guarded(work: Callable[[], JoinReport]) -> JoinReport:
    """Run ``work``; an engine error (other than a cancel) becomes a note, never a failed step."""
    from modelworks.engine.errors import EngineError
    from modelworks.engine.flow import StepCancelledError

    try:
        return work()
    except StepCancelledError:
        raise
    except EngineError as exc:
        return not_computed(exc.message)


def join_report_in_duckdb(
    spec: Mapping[str, Any],
    relations: Sequence[Relation],
    input_paths: Mapping[str, Path],
    *,
    recipe: str,
    cancelled: Callable[[], bool],
    spill_dir: Path | None = None,
) -> JoinReport:
    """The report of a join step that ran in DuckDB, over the same input files (runner thread).

    Raises:
        StepCancelledError: the build was cancelled meanwhile (any other problem is a note).
    """
    from modelworks.engine.flow import count_unmatched_in_duckdb

    def work() -> JoinReport:
        counts = count_unmatched_in_duckdb(
            spec,
            relations,
            input_paths,
            recipe=recipe,
            timeout_s=_timeout(),
            cancelled=cancelled,
            threads=getattr(settings, "MODELWORKS_FLOW_THREADS", None),
            memory_limit=getattr(settings, "MODELWORKS_FLOW_MEMORY_LIMIT", None),
            spill_dir=spill_dir,
        )
        return _counted(counts, "duckdb")

    return _guarded(work)


def join_report_in_session(
    con: Any,
    spec: Mapping[str, Any],
    relations: Sequence[Relation],
    *,
    recipe: str,
    sources: Sequence[Any] | None = None,
) -> JoinReport:
    """The report of a join computed in the DuckDB connection that ran the step (runner thread):
    ``execute_in_duckdb``'s ``then``, where each input is a view (see ``count_unmatched_in_session``).

    Raises:
        Nothing of its own: any engine problem is a note (a cancel or timeout is raised by the step's
        watch right after).
    """
    from modelworks.engine.flow import count_unmatched_in_session

    def work() -> JoinReport:
        counts = count_unmatched_in_session(con, spec, relations, recipe=recipe, sources=sources)
        return _counted(counts, "duckdb")

    return _guarded(work)


def join_report_in_postgres(
    spec: Mapping[str, Any],
    relations: Sequence[Relation],
    connection: Any,
    *,
    input_tables: Mapping[str, tuple[str, str]],
    recipe: str,
    cancelled: Callable[[], bool],
) -> JoinReport:
    """The report of a join step that ran inside PostgreSQL, on its input tables (runner thread).

    Raises:
        StepCancelledError: the build was cancelled meanwhile (any other problem is a note).
    """
    from modelworks.engine.flow import count_unmatched_in_postgres

    def work() -> JoinReport:
        counts = count_unmatched_in_postgres(
            spec,
            relations,
            connection,
            input_tables=input_tables,
            recipe=recipe,
            timeout_s=_timeout(),
            cancelled=cancelled,
        )
        return _counted(counts, "postgres")

    return _guarded(work)


def step_join_report(details: Mapping[str, Any] | None) -> JoinReport | None:
    """The report stored in a build step's ``details`` (None when the step has none, or it says
    nothing)."""
    if not details or REPORT_KEY not in details:
        return None
    report = JoinReport.from_dict(details[REPORT_KEY])
    return report if report is not None and report.lines else None


def is_join(kind: str) -> bool:
    """Whether recipes of ``kind`` have an unmatched-rows report."""
    return kind == RecipeKind.JOIN
