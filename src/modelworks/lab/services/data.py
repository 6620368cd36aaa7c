"""Reading a dataset version into pandas for the Lab, with a row cap.

The cap (``MODELWORKS_LAB_MAX_ROWS``, default 200,000 rows) keeps training within the memory of a
worker; a larger version is sampled at random (repeatably: same version, same sample) and the pages
say so. The design page checks the data on a smaller sample (``MODELWORKS_LAB_CHECK_ROWS``, default
20,000 rows) so it opens quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from modelworks.datasets.models import DatasetVersion
from modelworks.datasets.services import version_path
from modelworks.engine.duck import connect

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CHECK_ROWS",
    "DEFAULT_MAX_ROWS",
    "TrainingFrame",
    "check_rows",
    "max_rows",
    "read_version",
]

DEFAULT_MAX_ROWS = 200_000
DEFAULT_CHECK_ROWS = 20_000
SAMPLE_SEED = 42


def max_rows() -> int:
    """Rows a training reads at most (``MODELWORKS_LAB_MAX_ROWS``)."""
    return int(getattr(settings, "MODELWORKS_LAB_MAX_ROWS", DEFAULT_MAX_ROWS))


def check_rows() -> int:
    """Rows the design page's checks read at most (``MODELWORKS_LAB_CHECK_ROWS``)."""
    return int(getattr(settings, "MODELWORKS_LAB_CHECK_ROWS", DEFAULT_CHECK_ROWS))


@dataclass(frozen=True)
class TrainingFrame:
    """A version's rows as pandas, and whether they are a sample."""

    frame: pd.DataFrame
    rows_total: int

    @property
    def rows_used(self) -> int:
        return len(self.frame)

    @property
    def sampled(self) -> bool:
        return self.rows_used < self.rows_total


def read_version(version: DatasetVersion, *, limit: int | None = None) -> TrainingFrame:
    """The rows of ``version`` (its Parquet snapshot), at most ``limit`` (default: :func:`max_rows`).

    Beyond the limit a random sample is read (reservoir sampling in DuckDB, fixed seed), so a big
    version never has to fit in memory whole.
    """
    cap = int(limit if limit is not None else max_rows())
    path = version_path(version)
    con = connect(read=[path], threads=2)
    try:
        total = int(con.execute("SELECT count(*) FROM read_parquet($1)", [str(path)]).fetchone()[0])  # type: ignore[index]
        if total > cap:
            # The sample size is an integer from the settings, never user text.
            query = (
                "SELECT * FROM read_parquet($1) "  # noqa: S608 - two integers from the settings, no user text
                f"USING SAMPLE reservoir({int(cap)} ROWS) REPEATABLE ({int(SAMPLE_SEED)})"
            )
        else:
            query = "SELECT * FROM read_parquet($1)"
        frame = con.execute(query, [str(path)]).df()
    finally:
        con.close()
    return TrainingFrame(frame=frame, rows_total=total)
