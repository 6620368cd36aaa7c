"""Python recipes: user code reading inputs as pandas, Polars or Arrow and writing outputs, run isolated.

Public API:

* ``run_python_recipe(code, *, inputs, outputs, workdir, limits, cancelled, python, sandbox, recipe)
  -> PythonRecipeResult``: run the code in a bubblewrap sandbox (no network, clean environment,
  only its inputs and working folder visible) within :class:`PythonLimits`.
* ``PythonLimits`` (``from_env()`` reads ``MODELWORKS_PYTHON_*``), ``parse_size``.
* ``preview_python_recipe(code, *, inputs, outputs, workdir, limit, sample_rows, limits, …)
  -> PythonPreview``: the same run on a small sample of each input, under :func:`preview_limits`,
  with the first rows of every output.
* ``check_sandbox(python=None) -> SandboxStatus``: for ``modelworks check``.
* ``recipe_template(inputs, outputs)``: the code a new Python recipe starts with.
* Errors: ``PythonRecipeError`` (a ``RecipeError``) → ``SandboxUnavailableError``,
  ``PythonLimitsError``, ``PythonSyntaxError``, ``PythonUserCodeError``, ``PythonOutputError``,
  ``PythonOutOfMemoryError``, ``PythonTimeoutError``, ``PythonOutputTooLargeError``,
  ``PythonKilledError``, ``PythonCancelledError``.

What the recipe's code imports inside the sandbox is ``modelworks_recipe`` (this package's
``recipe_api`` module, copied there): ``inputs[name].pandas() / .polars() / .arrow() / .batches() /
.path`` and ``outputs[name].write(table) / .write_batches(tables)``.
"""

from __future__ import annotations

from modelworks.engine.recipes.python.errors import (
    PythonCancelledError,
    PythonKilledError,
    PythonLimitsError,
    PythonOutOfMemoryError,
    PythonOutputError,
    PythonOutputTooLargeError,
    PythonRecipeError,
    PythonSyntaxError,
    PythonTimeoutError,
    PythonUserCodeError,
    SandboxUnavailableError,
)
from modelworks.engine.recipes.python.limits import ENV_VARIABLES, PythonLimits, parse_size
from modelworks.engine.recipes.python.preview import PythonPreview, preview_limits, preview_python_recipe
from modelworks.engine.recipes.python.runner import PythonRecipeResult, recipe_template, run_python_recipe
from modelworks.engine.recipes.python.sandbox import SandboxStatus, check_sandbox

__all__ = [
    "ENV_VARIABLES",
    "PythonCancelledError",
    "PythonKilledError",
    "PythonLimits",
    "PythonLimitsError",
    "PythonOutOfMemoryError",
    "PythonOutputError",
    "PythonOutputTooLargeError",
    "PythonPreview",
    "PythonRecipeError",
    "PythonRecipeResult",
    "PythonSyntaxError",
    "PythonTimeoutError",
    "PythonUserCodeError",
    "SandboxStatus",
    "SandboxUnavailableError",
    "check_sandbox",
    "parse_size",
    "preview_limits",
    "preview_python_recipe",
    "recipe_template",
    "run_python_recipe",
]
