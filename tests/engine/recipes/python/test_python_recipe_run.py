"""Python recipes end to end: reading inputs as pandas / Polars / Arrow, writing outputs, user mistakes."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modelworks.engine.recipes.python import (
    PythonLimits,
    PythonOutputError,
    PythonRecipeError,
    PythonRecipeResult,
    PythonSyntaxError,
    PythonUserCodeError,
    recipe_template,
)

RunRecipe = Callable[..., PythonRecipeResult]


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_pandas_round_trip_writes_the_output_with_its_rows(run: RunRecipe, tmp_path: Path) -> None:
    result = run(
        _code(
            """
            from modelworks_recipe import inputs, outputs
            df = inputs["flights"].pandas()
            df["delay_h"] = df["dep_delay"] / 60
            print("read", len(df), "rows")
            outputs["flights_prepared"].write(df)
            """
        )
    )
    path = result.outputs["flights_prepared"]
    assert path.parent == (tmp_path / "work").resolve()
    table = pq.read_table(path)
    assert table.column_names == ["carrier", "dep_delay", "delay_h"]
    assert table.column("delay_h").to_pylist() == [10 / 60, -5 / 60, 1.0, 0.0, 125 / 60]
    assert result.rows == {"flights_prepared": 5}
    assert "read 5 rows" in result.log
    assert result.duration_s > 0
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes > 10 * 1024 * 1024


def test_polars_in_and_out_with_a_named_index_kept_by_pandas(run: RunRecipe, flights: Path) -> None:
    result = run(
        _code(
            """
            import polars as pl
            from modelworks_recipe import inputs, outputs
            df = inputs["flights"].polars()
            late = df.filter(pl.col("dep_delay") > 0).with_columns((pl.col("dep_delay") * 2).alias("double"))
            outputs["late"].write(late.lazy())
            by_carrier = inputs["flights"].pandas().groupby("carrier")["dep_delay"].sum()
            outputs["by_carrier"].write(by_carrier.to_frame())
            """
        ),
        outputs=["late", "by_carrier"],
    )
    assert result.rows == {"late": 3, "by_carrier": 3}
    late = pq.read_table(result.outputs["late"])
    assert late.column("double").to_pylist() == [20, 120, 250]
    by_carrier = pq.read_table(result.outputs["by_carrier"]).to_pydict()
    assert by_carrier == {"carrier": ["AA", "DL", "UA"], "dep_delay": [5, 0, 185]}


def test_arrow_batches_and_write_batches(run: RunRecipe) -> None:
    result = run(
        _code(
            """
            import pyarrow.compute as pc
            import pyarrow.parquet as pq
            from modelworks_recipe import inputs, outputs
            flights = inputs["flights"]
            assert flights.path == "/inputs/input_0.parquet", flights.path
            assert flights.num_rows == pq.read_metadata(flights.path).num_rows == 5
            table = flights.arrow(columns=["dep_delay"])
            outputs["flights_prepared"].write(table.append_column("abs", pc.abs(table["dep_delay"])))
            parts = (batch.to_pandas().assign(part=i) for i, batch in enumerate(flights.batches(batch_size=2)))
            rows = outputs["chunked"].write_batches(parts)
            print("chunked rows", rows)
            """
        ),
        outputs=["flights_prepared", "chunked"],
    )
    assert result.rows == {"flights_prepared": 5, "chunked": 5}
    assert pq.read_table(result.outputs["flights_prepared"]).column("abs").to_pylist() == [10, 5, 60, 0, 125]
    assert pq.read_table(result.outputs["chunked"]).column("part").to_pylist() == [0, 0, 1, 1, 2]
    assert "chunked rows 5" in result.log


def test_dataset_names_are_keys_only_never_file_names(run: RunRecipe, flights: Path) -> None:
    odd = "../../etc/passwd flights; rm -rf /"
    result = run(
        _code(
            f"""
            import os
            from modelworks_recipe import inputs, outputs
            print(sorted(os.listdir("/inputs")), inputs[{odd!r}].path)
            outputs[{odd!r}].write(inputs[{odd!r}].arrow())
            """
        ),
        inputs={odd: flights},
        outputs=[odd],
    )
    assert "['input_0.parquet'] /inputs/input_0.parquet" in result.log
    assert result.outputs[odd].name == "output_0.parquet"
    assert result.rows == {odd: 5}


RECIPE_MISTAKES = [
    pytest.param(
        "from modelworks_recipe import inputs\nx = 1\ndf = = inputs\n",
        PythonSyntaxError,
        r"not valid Python at line 3, column \d+: invalid syntax",
        3,
        id="syntax-error",
    ),
    pytest.param(
        "from modelworks_recipe import inputs\n\ndf = inputs['flights'].pandas()\ndf['x'] = df['missing_column']\n",
        PythonUserCodeError,
        r"failed at line 4: KeyError: 'missing_column'",
        4,
        id="exception",
    ),
    pytest.param(
        "from modelworks_recipe import inputs\ndf = inputs['flight'].pandas()\n",
        PythonUserCodeError,
        r"line 2: this recipe has no input 'flight'; its inputs are: 'flights'; did you mean 'flights'\?",
        2,
        id="unknown-input",
    ),
    pytest.param(
        "from modelworks_recipe import inputs, outputs\noutputs['flights_prep'].write(inputs['flights'].arrow())\n",
        PythonOutputError,
        r"line 2: this recipe has no output 'flights_prep'; its outputs are: 'flights_prepared'; "
        r"did you mean 'flights_prepared'\?",
        2,
        id="unknown-output",
    ),
    pytest.param(
        "from modelworks_recipe import inputs\ndf = inputs['flights'].pandas()\n",
        PythonOutputError,
        r"finished without writing output 'flights_prepared'; call outputs\['flights_prepared'\]\.write\(df\)",
        None,
        id="missing-output",
    ),
    pytest.param(
        "from modelworks_recipe import outputs\noutputs['flights_prepared'].write([1, 2, 3])\n",
        PythonOutputError,
        r"line 2: output 'flights_prepared' must be written with a pandas or Polars DataFrame or a pyarrow "
        r"Table, not a builtins\.list",
        2,
        id="not-a-table",
    ),
    pytest.param(
        "import pandas as pd\nfrom modelworks_recipe import outputs\noutputs['flights_prepared'].write(pd.DataFrame())\n",
        PythonOutputError,
        r"line 3: the table written to output 'flights_prepared' has no columns",
        3,
        id="no-columns",
    ),
    pytest.param(
        "from modelworks_recipe import inputs, outputs\nt = inputs['flights'].arrow()\n"
        "outputs['flights_prepared'].write(t)\noutputs['flights_prepared'].write(t)\n",
        PythonOutputError,
        r"line 4: output 'flights_prepared' was already written; write each output once",
        4,
        id="written-twice",
    ),
    pytest.param(
        "import pandas as pd\nfrom modelworks_recipe import outputs\n"
        "outputs['flights_prepared'].write(pd.DataFrame({'a': [1, 'x']}))\n",
        PythonOutputError,
        r"line 3: output 'flights_prepared' cannot be stored: .*give each column a single type",
        3,
        id="mixed-types",
    ),
    pytest.param(
        "import sys\nsys.exit(3)\n",
        PythonUserCodeError,
        r"failed at line 2: SystemExit: the recipe called sys\.exit\(3\)",
        2,
        id="sys-exit",
    ),
]


@pytest.mark.parametrize(("code", "error", "message", "line"), RECIPE_MISTAKES)
def test_recipe_mistakes_name_the_users_line(
    run: RunRecipe, code: str, error: type[Exception], message: str, line: int | None
) -> None:
    with pytest.raises(error, match=message) as caught:
        run(code, recipe="prepare_flights")
    assert str(caught.value).startswith("Python recipe 'prepare_flights' ")
    assert isinstance(caught.value, PythonRecipeError)
    assert caught.value.details.get("line") == line
    assert "log" in caught.value.details


def test_traceback_keeps_only_the_recipes_own_frames(run: RunRecipe) -> None:
    code = _code(
        """
        from modelworks_recipe import inputs

        def to_hours(minutes):
            return minutes / 0

        df = inputs["flights"].pandas()
        df["h"] = df["dep_delay"].apply(lambda v: to_hours(int(v)))
        """
    )
    with pytest.raises(
        PythonUserCodeError, match=r"at line 4: ZeroDivisionError: division by zero"
    ) as caught:
        run(code)
    trace = caught.value.details["traceback"]
    assert "line 7, in <module>" in trace
    assert "line 4, in to_hours" in trace
    assert "return minutes / 0" in trace
    assert "pandas" not in trace and "modelworks_recipe.py" not in trace and "site-packages" not in trace


def test_a_long_log_keeps_head_and_tail_with_a_marker(run: RunRecipe) -> None:
    code = _code(
        """
        from modelworks_recipe import inputs, outputs
        print("FIRST LINE")
        for i in range(300):
            print(i, "noise " * 100)
        print("LAST LINE")
        outputs["flights_prepared"].write(inputs["flights"].arrow())
        """
    )
    result = run(code, limits=PythonLimits(timeout_s=30, log_bytes=8192))
    assert result.log.startswith("FIRST LINE\n")
    assert result.log.rstrip().endswith("LAST LINE")
    assert "of output omitted: the log keeps the first and last 4.0 KiB" in result.log
    assert len(result.log.encode()) < 8192 + 200


BAD_ARGUMENTS = [
    pytest.param({"code": "   "}, PythonRecipeError, r"has no code", id="empty-code"),
    pytest.param(
        {"code": "#" * (1024 * 1024 + 1)}, PythonRecipeError, r"larger than 1\.0 MiB", id="huge-code"
    ),
    pytest.param(
        {"outputs": []}, PythonOutputError, r"has no output; add an output dataset", id="no-outputs"
    ),
    pytest.param(
        {"outputs": ["a", "a"]}, PythonOutputError, r"lists output 'a' twice", id="duplicate-output"
    ),
    pytest.param(
        {"outputs": [""]}, PythonOutputError, r"an output with an empty name", id="empty-output-name"
    ),
    pytest.param(
        {"inputs": {"flights": Path("/nonexistent/flights.parquet")}},
        PythonRecipeError,
        r"input 'flights' of the Python recipe has no data file .*build the dataset first",
        id="missing-input-file",
    ),
    pytest.param(
        {"sandbox": "docker"}, PythonRecipeError, r"sandbox must be 'bwrap' or 'none'", id="bad-sandbox"
    ),
    pytest.param(
        {"python": "/nonexistent/python3"},
        PythonRecipeError,
        r"interpreter configured for recipes \(/nonexistent/python3\) does not run",
        id="bad-interpreter",
    ),
]


@pytest.mark.parametrize(("overrides", "error", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_anything_runs(
    run: RunRecipe, tmp_path: Path, overrides: dict[str, object], error: type[Exception], message: str
) -> None:
    code = overrides.pop("code", "print('never runs')")
    with pytest.raises(error, match=message):
        run(code, **overrides)
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_the_template_of_a_new_recipe_runs(run: RunRecipe) -> None:
    code = recipe_template(["flights"], ["flights_prepared"])
    assert "from modelworks_recipe import inputs, outputs" in code
    assert run(code).rows == {"flights_prepared": 5}


def test_deep_recursion_keeps_the_first_and_last_frames(run: RunRecipe) -> None:
    code = "def dig(n):\n    return dig(n + 1)\n\ndig(0)\n"
    with pytest.raises(
        PythonUserCodeError, match=r"at line 2: RecursionError: maximum recursion depth"
    ) as caught:
        run(code)
    trace = caught.value.details["traceback"]
    assert "line 4, in <module>" in trace
    assert "more lines of the recipe" in trace
    assert trace.count("line 2, in dig") == 39


def test_links_planted_in_the_working_folder_are_never_followed(run: RunRecipe, tmp_path: Path) -> None:
    forged = tmp_path / "forged-status.json"
    forged.write_text('{"status": "error", "kind": "user", "exception": "X", "message": "LEAKED"}')
    plant_status = f"import os\nos.symlink({str(forged)!r}, '/work/.modelworks-status.json')\nos._exit(0)\n"
    with pytest.raises(PythonRecipeError, match=r"stopped with exit code 0 before reporting") as caught:
        run(plant_status)
    assert "LEAKED" not in str(caught.value)
    plant_output = _code(
        """
        import os
        from modelworks_recipe import inputs, outputs
        outputs["flights_prepared"].write(inputs["flights"].arrow())
        os.remove("/work/output_0.parquet")
        os.symlink("/inputs/input_0.parquet", "/work/output_0.parquet")
        """
    )
    with pytest.raises(PythonOutputError, match=r"output 'flights_prepared' .* was replaced by a link"):
        run(plant_output)


def test_the_shipped_module_and_the_runner_agree_on_the_manifest_variable() -> None:
    from modelworks.engine.recipes.python import recipe_api, runner

    assert recipe_api.MANIFEST_ENV == runner.MANIFEST_ENV
    assert not any(
        line.startswith(("from modelworks", "import modelworks"))
        for line in Path(recipe_api.__file__).read_text().splitlines()
    )
