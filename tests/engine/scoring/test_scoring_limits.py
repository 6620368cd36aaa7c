"""The limits a sandboxed scoring child runs under: the recipes' MODELWORKS_PYTHON_* settings, with
scoring's own memory and output defaults (loading a model maps more than a recipe's 2 GiB)."""

from __future__ import annotations

import pytest

from modelworks.engine.recipes.python.errors import PythonLimitsError
from modelworks.engine.recipes.python.limits import GIB, PythonLimits
from modelworks.engine.scoring.batch import scoring_limits


@pytest.mark.parametrize(
    ("environ", "memory", "output"),
    [
        ({}, 8 * GIB, 64 * GIB),
        ({"MODELWORKS_PYTHON_MEMORY": "1GiB"}, 8 * GIB, 64 * GIB),  # never below scoring's default
        ({"MODELWORKS_PYTHON_MEMORY": "12GiB"}, 12 * GIB, 64 * GIB),  # nor below the recipes' limit
        ({"MODELWORKS_SCORING_MEMORY": "3GiB"}, 3 * GIB, 64 * GIB),  # unless set for scoring itself
        ({"MODELWORKS_SCORING_OUTPUT_BYTES": "2GiB"}, 8 * GIB, 2 * GIB),
    ],
)
def test_scoring_gets_its_own_memory_and_output_defaults(
    environ: dict[str, str], memory: int, output: int
) -> None:
    limits = scoring_limits(environ)
    assert (limits.memory_bytes, limits.output_bytes) == (memory, output)


def test_the_other_recipe_limits_apply_to_scoring_too() -> None:
    limits = scoring_limits({"MODELWORKS_PYTHON_THREADS": "3", "MODELWORKS_PYTHON_CPU": "60"})
    recipes = PythonLimits.from_env({"MODELWORKS_PYTHON_THREADS": "3", "MODELWORKS_PYTHON_CPU": "60"})
    assert (limits.threads, limits.cpu_s) == (recipes.threads, recipes.cpu_s) == (3, 60.0)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MODELWORKS_SCORING_MEMORY": "lots"}, "MODELWORKS_SCORING_MEMORY"),
        ({"MODELWORKS_SCORING_MEMORY": "1MiB"}, "at least"),
        ({"MODELWORKS_SCORING_OUTPUT_BYTES": "-5"}, "MODELWORKS_SCORING_OUTPUT_BYTES"),
    ],
)
def test_bad_scoring_limits_are_refused_with_the_setting_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(PythonLimitsError, match=message):
        scoring_limits(environ)
