"""Errors of Python recipes: each message says what happened to the user's code and what to do.

Every error raised after the recipe started carries the captured output in ``details["log"]`` (already
truncated to the log cap), so a page can show it below the message.
"""

from __future__ import annotations

from modelworks.engine.recipes.types import RecipeError

__all__ = [
    "PythonCancelledError",
    "PythonKilledError",
    "PythonLimitsError",
    "PythonOutOfMemoryError",
    "PythonOutputError",
    "PythonOutputTooLargeError",
    "PythonRecipeError",
    "PythonSyntaxError",
    "PythonTimeoutError",
    "PythonUserCodeError",
    "SandboxUnavailableError",
]


class PythonRecipeError(RecipeError):
    """Base of the errors of ``modelworks.engine.recipes.python``."""

    code = "python_recipe_error"


class SandboxUnavailableError(PythonRecipeError):
    """The isolation Python recipes need (bubblewrap) is missing or does not work on this machine."""

    code = "python_sandbox_unavailable"


class PythonLimitsError(PythonRecipeError):
    """A resource limit is not a sensible value (negative timeout, memory below the minimum…)."""

    code = "python_limits_invalid"


class PythonSyntaxError(PythonRecipeError):
    """The recipe's code is not valid Python; ``details`` has ``line`` and ``column``."""

    code = "python_syntax_error"


class PythonUserCodeError(PythonRecipeError):
    """The recipe's code raised an exception; ``details`` has ``line``, ``exception`` and ``traceback``."""

    code = "python_user_error"


class PythonOutputError(PythonRecipeError):
    """An output was not written, written under an unknown name, or is not a usable table."""

    code = "python_output_invalid"


class PythonOutOfMemoryError(PythonRecipeError):
    """The recipe needed more memory than its limit."""

    code = "python_out_of_memory"


class PythonTimeoutError(PythonRecipeError):
    """The recipe ran longer than its wall-clock or CPU time limit."""

    code = "python_timeout"


class PythonOutputTooLargeError(PythonRecipeError):
    """The recipe wrote more data than its output-size limit."""

    code = "python_output_too_large"


class PythonKilledError(PythonRecipeError):
    """The recipe's process ended abnormally (a signal, or an exit without reporting)."""

    code = "python_killed"


class PythonCancelledError(PythonRecipeError):
    """The run was cancelled by a user while the recipe was running."""

    code = "python_cancelled"
