"""Attacks by a Python recipe on the platform that runs it, beyond what the sandbox itself stops
(secrets, files, network and process limits are covered by ``test_python_isolation.py``): the
traps a recipe can leave in its working folder for the platform's side, and ways around the
folder's size limit.

Each recipe runs for real in the bubblewrap sandbox; each test says what the platform saw.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelworks.engine.recipes.python import (
    PythonKilledError,
    PythonLimits,
    PythonOutputError,
    PythonOutputTooLargeError,
    PythonRecipeError,
    run_python_recipe,
)
from modelworks.engine.recipes.python.process import MAX_WORK_ENTRIES
from modelworks.engine.recipes.python.sandbox import INSTALL_HINT, find_bwrap

MIB = 1024 * 1024
WRITE = "from modelworks_recipe import inputs, outputs\noutputs['out'].write(inputs['numbers'].arrow())\n"
SMALL = PythonLimits(timeout_s=60, output_bytes=16 * MIB)

pytestmark = pytest.mark.skipif(find_bwrap() is None, reason=INSTALL_HINT)


@pytest.fixture
def numbers(tmp_path: Path) -> Path:
    path = tmp_path / "store" / "numbers.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({"n": [1, 2, 3]}), path)
    return path


def _run(code: str, numbers: Path, workdir: Path, *, write: bool = True) -> dict[str, int]:
    """Run ``code`` (dedented), then the lines that write the output unless ``write`` is false."""
    result = run_python_recipe(
        textwrap.dedent(code).lstrip("\n") + (WRITE if write else ""),
        inputs={"numbers": numbers},
        outputs=["out"],
        workdir=workdir,
        limits=SMALL,
    )
    return result.rows


def test_a_deeply_nested_folder_left_behind_is_removed_with_the_run(numbers: Path, tmp_path: Path) -> None:
    # 1,500 levels: readable by the platform (under PATH_MAX), but deeper than shutil.rmtree's
    # recursion, so the caller's TemporaryDirectory failed with RecursionError and kept it all.
    code = """
        import os
        for _ in range(1500):
            os.mkdir("d")
            os.chdir("d")
        open("leftover", "w").write("x")
        os.chdir("/work")
    """
    with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
        rows = _run(code, numbers, Path(scratch) / "run")
        assert rows == {"out": 3}
        assert sorted(os.listdir(Path(scratch) / "run")) == ["output_0.parquet"]
    assert not Path(scratch).exists()


def test_an_unreadable_folder_left_behind_is_removed_too(numbers: Path, tmp_path: Path) -> None:
    code = """
        import os
        os.makedirs("locked/inner")
        open("locked/inner/data", "w").write("x")
        os.chmod("locked/inner", 0)
        os.chmod("locked", 0)
    """
    # Run as root the platform reads through the permissions (the recipe then just lacks its
    # output); otherwise it cannot, and stops the recipe as one that hides data.
    hidden = r"made a folder the platform cannot measure"
    with pytest.raises(
        (PythonOutputError, PythonOutputTooLargeError),
        match=r"finished without writing output 'out'" if os.geteuid() == 0 else hidden,
    ):
        _run(code, numbers, tmp_path / "run", write=False)
    assert os.listdir(tmp_path / "run") == []


HIDE_AND_BURST = [
    pytest.param(
        """
        import os, time
        for _ in range(2100):  # past PATH_MAX: the platform cannot even name the bottom folder
            os.mkdir("d")
            os.chdir("d")
        for i in range(3):
            open(f"f{i}", "wb").write(b"x" * (10 << 20))
        os.chdir("/work")
        time.sleep(3)
        """,
        r"made a folder the platform cannot measure \(nested too deeply, or unreadable\)",
        id="beyond-path-max",
    ),
    pytest.param(
        """
        import os
        for i in range(3):
            open(f"f{i}", "wb").write(b"x" * (10 << 20))
        """,
        r"wrote more than its output limit of 16\.0 MiB",
        id="burst-before-the-first-check",
    ),
    pytest.param(
        f"""
        import os, time
        os.mkdir("many")
        for i in range({MAX_WORK_ENTRIES + 10}):
            open(f"many/{{i}}", "w").close()
        time.sleep(2)
        """,
        rf"created more than {MAX_WORK_ENTRIES:,} files and folders",
        id="inode-bomb",
    ),
]


@pytest.mark.parametrize(("code", "match"), HIDE_AND_BURST)
def test_the_folder_limit_cannot_be_dodged(numbers: Path, tmp_path: Path, code: str, match: str) -> None:
    with pytest.raises(PythonOutputTooLargeError, match=match):
        _run(code, numbers, tmp_path / "run")
    assert os.listdir(tmp_path / "run") == []


def _with_deadline(seconds: float, work: Callable[[], None]) -> BaseException | None:
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"the platform was still waiting after {seconds} s"
    return outcome[0]


TRAPS = [
    pytest.param(
        "import os\nos.mkfifo('/work/.modelworks-status.json')\nos._exit(0)\n",
        PythonKilledError,
        r"stopped with exit code 0 before reporting its result",
        id="fifo-as-status",
    ),
    pytest.param(
        WRITE + "import os\nos.remove('/work/output_0.parquet')\nos.mkfifo('/work/output_0.parquet')\n",
        PythonOutputError,
        r"did not write output 'out'",
        id="fifo-as-output",
    ),
    pytest.param(
        WRITE + "import os\nos.remove('/work/output_0.parquet')\nos.mkdir('/work/output_0.parquet')\n",
        PythonOutputError,
        r"did not write output 'out'",
        id="folder-as-output",
    ),
    pytest.param(
        WRITE + "import os\nos.remove('/work/output_0.parquet')\nos.symlink('/proc/self/environ', "
        "'/work/output_0.parquet')\n",
        PythonOutputError,
        r"output 'out' .* was replaced by a link",
        id="link-to-the-platforms-environment",
    ),
    pytest.param(
        WRITE + "open('/work/output_0.parquet', 'wb').write(b'PAR1' + b'\\xff' * 64 + b'PAR1')\n",
        PythonOutputError,
        r"output 'out' of the Python recipe is not a readable Parquet file",
        id="forged-parquet-footer",
    ),
]


@pytest.mark.parametrize(("code", "error", "match"), TRAPS)
def test_traps_in_the_working_folder_fail_the_run_quickly(
    numbers: Path, tmp_path: Path, code: str, error: type[PythonRecipeError], match: str
) -> None:
    def work() -> None:
        _run(code, numbers, tmp_path / "run", write=False)

    raised = _with_deadline(60, work)  # a FIFO opened for reading waits for a writer forever
    assert raised is not None
    with pytest.raises(error, match=match):
        raise raised
