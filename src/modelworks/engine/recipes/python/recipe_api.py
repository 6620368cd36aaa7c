"""``modelworks_recipe``: what a Python recipe imports to read its inputs and write its outputs.

This file is copied into the sandbox as ``modelworks_recipe.py``; it only uses the standard library,
pyarrow, and pandas or Polars when the recipe asks for them, and never imports ``modelworks``. A
recipe looks like::

    from modelworks_recipe import inputs, outputs

    df = inputs["flights"].pandas()          # or .polars(), .arrow(), .batches(), .path
    df["delay_h"] = df["dep_delay"] / 60
    outputs["flights_prepared"].write(df)    # a pandas or Polars DataFrame, or a pyarrow Table

The runner starts ``_main()``, which reads the manifest named by ``MODELWORKS_RECIPE_MANIFEST``,
runs the recipe's code and writes a small JSON status (outcome, rows per output, the user's line on
error) that the platform reads back.
"""

from __future__ import annotations

import builtins
import difflib
import errno
import json
import os
import resource
import signal
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas
    import polars

__all__ = ["Input", "Output", "RecipeApiError", "inputs", "outputs"]

MANIFEST_ENV = "MODELWORKS_RECIPE_MANIFEST"


class RecipeApiError(Exception):
    """The recipe used ``inputs`` or ``outputs`` wrongly; the message says how to fix it.

    ``about`` is ``"input"`` or ``"output"``: which side was misused.
    """

    def __init__(self, message: str, *, about: str = "output") -> None:
        super().__init__(message)
        self.about = about


def _pyarrow() -> tuple[Any, Any]:
    import pyarrow  # type: ignore[import-untyped]
    import pyarrow.parquet  # type: ignore[import-untyped]

    return pyarrow, pyarrow.parquet


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names) or "none"


def _did_you_mean(name: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class Input:
    """One input dataset of the recipe, stored as a Parquet file (``path``)."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path

    def __repr__(self) -> str:
        return f"<input {self.name!r}>"

    def arrow(self, columns: Sequence[str] | None = None) -> Any:
        """The whole input as a ``pyarrow.Table`` (optionally only ``columns``)."""
        _, pq = _pyarrow()
        return pq.read_table(self.path, columns=list(columns) if columns is not None else None)

    def pandas(self, columns: Sequence[str] | None = None) -> pandas.DataFrame:
        """The whole input as a pandas DataFrame (optionally only ``columns``)."""
        import pandas as pd

        frame: pd.DataFrame = self.arrow(columns).to_pandas()
        return frame

    def polars(self, columns: Sequence[str] | None = None) -> polars.DataFrame:
        """The whole input as a Polars DataFrame (optionally only ``columns``)."""
        import polars as pl

        return pl.read_parquet(self.path, columns=list(columns) if columns is not None else None)

    def batches(self, batch_size: int = 65_536, columns: Sequence[str] | None = None) -> Iterator[Any]:
        """The input in ``pyarrow.RecordBatch`` chunks of at most ``batch_size`` rows, for data
        larger than memory (convert each with ``.to_pandas()`` or ``polars.from_arrow``)."""
        _, pq = _pyarrow()
        wanted = list(columns) if columns is not None else None
        yield from pq.ParquetFile(self.path).iter_batches(batch_size=batch_size, columns=wanted)

    @property
    def num_rows(self) -> int:
        """Row count, read from the file's metadata without loading the data."""
        _, pq = _pyarrow()
        return int(pq.read_metadata(self.path).num_rows)


class Output:
    """One output dataset of the recipe; call :meth:`write` (or :meth:`write_batches`) exactly once."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        self.rows: int | None = None

    def __repr__(self) -> str:
        return f"<output {self.name!r}>"

    def write(self, table: Any) -> int:
        """Store ``table`` (a pandas or Polars DataFrame, a Polars LazyFrame, a pyarrow Table or
        RecordBatch) as this output; returns its row count."""
        self._check_not_written()
        _, pq = _pyarrow()
        arrow_table = self._to_arrow(table)
        pq.write_table(arrow_table, self.path, compression="zstd")
        self.rows = int(arrow_table.num_rows)
        return self.rows

    def write_batches(self, batches: Iterable[Any]) -> int:
        """Store the tables of ``batches`` one after the other (each like :meth:`write` accepts,
        all with the same columns) without holding them all in memory; returns the row count."""
        self._check_not_written()
        pa, pq = _pyarrow()
        writer: Any = None
        rows = 0
        try:
            for number, batch in enumerate(batches, start=1):
                part = self._to_arrow(batch)
                if writer is None:
                    writer = pq.ParquetWriter(self.path, part.schema, compression="zstd")
                elif not part.schema.equals(writer.schema):
                    try:
                        part = part.cast(writer.schema)
                    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
                        raise RecipeApiError(
                            f"batch {number} written to output {self.name!r} has columns "
                            f"{_names(part.schema.names)} with types that differ from the first batch's "
                            f"({_names(writer.schema.names)}); every batch must have the same columns"
                        ) from exc
                writer.write_table(part)
                rows += int(part.num_rows)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise RecipeApiError(f"write_batches() got no batches for output {self.name!r}")
        self.rows = rows
        return rows

    def _check_not_written(self) -> None:
        if self.rows is not None:
            raise RecipeApiError(
                f"output {self.name!r} was already written; write each output once "
                "(use write_batches() to write it in parts)"
            )

    def _to_arrow(self, value: Any) -> Any:
        pa, _ = _pyarrow()
        table: Any
        if isinstance(value, pa.Table):
            table = value
        elif isinstance(value, pa.RecordBatch):
            table = pa.Table.from_batches([value])
        elif _is_instance(value, "polars", "LazyFrame"):
            table = value.collect().to_arrow()
        elif _is_instance(value, "polars", "DataFrame"):
            table = value.to_arrow()
        elif _is_instance(value, "pandas", "DataFrame"):
            table = self._from_pandas(value)
        elif _is_instance(value, "pandas", "Series") or _is_instance(value, "polars", "Series"):
            raise RecipeApiError(
                f"output {self.name!r} got a Series; write a table instead (e.g. series.to_frame())"
            )
        else:
            raise RecipeApiError(
                f"output {self.name!r} must be written with a pandas or Polars DataFrame or a pyarrow "
                f"Table, not a {type(value).__module__}.{type(value).__qualname__}"
            )
        names = list(table.schema.names)
        if not names:
            raise RecipeApiError(f"the table written to output {self.name!r} has no columns")
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise RecipeApiError(
                    f"the table written to output {self.name!r} has two columns named {name!r}; rename one"
                )
            seen.add(name)
        return table

    def _from_pandas(self, frame: Any) -> Any:
        pa, _ = _pyarrow()
        # Named index levels are data (e.g. after groupby); the default 0..n-1 index is not.
        if any(level is not None for level in frame.index.names):
            frame = frame.reset_index()
        try:
            return pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise RecipeApiError(
                f"output {self.name!r} cannot be stored: {exc}; give each column a single type, "
                "for instance with df[column] = df[column].astype(str)"
            ) from exc


def _is_instance(value: Any, module: str, class_name: str) -> bool:
    # Only look at libraries the recipe already imported: never import pandas just to check.
    loaded = sys.modules.get(module)
    cls = getattr(loaded, class_name, None) if loaded is not None else None
    return isinstance(cls, type) and isinstance(value, cls)


class _Datasets(Mapping[str, Any]):
    def __init__(self, kind: str, items: Mapping[str, Any]) -> None:
        self._kind = kind
        self._items = dict(items)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            names = list(self._items)
            raise RecipeApiError(
                f"this recipe has no {self._kind} {name!r}; its {self._kind}s are: {_names(names)}"
                f"{_did_you_mean(str(name), names)}",
                about=self._kind,
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<{self._kind}s {_names(self._items)}>"


def _load_manifest() -> dict[str, Any]:
    path = os.environ.get(MANIFEST_ENV)
    if not path:
        return {"inputs": {}, "outputs": {}}
    with open(path, encoding="utf-8") as handle:
        manifest: dict[str, Any] = json.load(handle)
    return manifest


_MANIFEST = _load_manifest()
inputs: Mapping[str, Input] = _Datasets(
    "input", {name: Input(name, path) for name, path in _MANIFEST["inputs"].items()}
)
outputs: Mapping[str, Output] = _Datasets(
    "output", {name: Output(name, path) for name, path in _MANIFEST["outputs"].items()}
)


def _main() -> int:
    """Run the recipe named by the manifest and write its status file; the exit code is 0 or 1."""
    recipe_path: str = _MANIFEST["recipe_path"]
    # With SIGXFSZ ignored, passing RLIMIT_FSIZE is an EFBIG error we can report, not a silent death.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if _MANIFEST.get("max_processes"):
        # Set here, inside the sandbox's user namespace, so it counts the recipe's processes only.
        limit = int(_MANIFEST["max_processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    with open(recipe_path, encoding="utf-8") as handle:
        source = handle.read()
    try:
        code = compile(source, recipe_path, "exec")
    except SyntaxError as exc:
        line = exc.lineno or 0
        detail = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
        sys.stderr.write(detail + "\n")
        return _finish(
            {"status": "syntax_error", "line": line, "column": exc.offset or 0, "message": exc.msg}
        )
    sys.argv = [recipe_path]
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": recipe_path, "__builtins__": builtins}
    try:
        exec(code, namespace)  # noqa: S102 - running the user's recipe is the purpose of the sandbox
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return _finish(_failure(exc, recipe_path, "exit"))
    except MemoryError as exc:
        return _finish(_failure(exc, recipe_path, "memory"))
    except BaseException as exc:
        return _finish(_failure(exc, recipe_path, _kind_of(exc)))
    missing = [name for name, output in outputs.items() if output.rows is None]
    if missing:
        return _finish({"status": "missing_outputs", "missing": missing})
    return _finish({"status": "ok", "rows": {name: output.rows for name, output in outputs.items()}})


def _kind_of(exc: BaseException) -> str:
    if isinstance(exc, OSError) and (exc.errno == errno.EFBIG or "File too large" in str(exc)):
        return "output_too_large"
    if isinstance(exc, RecipeApiError):
        return "api"
    if "memory allocation" in str(exc) or "bad_alloc" in str(exc):
        return "memory"
    return "user"


def _failure(exc: BaseException, recipe_path: str, kind: str) -> dict[str, Any]:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == recipe_path]
    lines = ["Traceback (most recent call last; lines of your recipe only):"]
    for number, frame in enumerate(frames):
        if 20 <= number < len(frames) - 20:  # deep recursion: the first and last frames tell the story
            if number == 20:
                lines.append(f"  … {len(frames) - 40} more lines of the recipe …")
            continue
        lines.append(f"  line {frame.lineno}, in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line}")
    summary = _shorten("".join(traceback.format_exception_only(type(exc), exc)).strip())
    lines.append(summary)
    text = "\n".join(lines)
    sys.stderr.write(text + "\n")
    message = _shorten(str(exc))
    if isinstance(exc, SystemExit):
        message = f"the recipe called sys.exit({exc.code!r})"
    return {
        "status": "error",
        "kind": kind,
        "exception": type(exc).__name__,
        "about": exc.about if isinstance(exc, RecipeApiError) else None,
        "message": message,
        "line": frames[-1].lineno if frames else None,
        "traceback": text,
    }


def _shorten(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else text[:limit] + " […]"


def _finish(status: dict[str, Any]) -> int:
    usage = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    status["peak_memory_bytes"] = usage * 1024
    sys.stdout.flush()
    sys.stderr.flush()
    target = _MANIFEST["status_path"]
    staging = target + ".part"
    with open(staging, "w", encoding="utf-8") as handle:
        json.dump(status, handle)
    os.replace(staging, target)
    return 0 if status["status"] == "ok" else 1
