"""Attacks on project bundle import (any signed-in user may import a .zip as a new project; the web
server reads it during the request).

The archive (paths, links, bombs, duplicates) and the YAML inside (tags, aliases, values JSON
cannot hold, size) are attacked through :func:`open_bundle`, the only reader of bundles; the
end-to-end refusals with nothing created are in ``flows/tests/test_bundles.py``.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from modelworks.flows.bundles import BundleError
from modelworks.flows.bundles.format import FORMAT_NAME, FORMAT_VERSION
from modelworks.flows.bundles.reader import MAX_YAML_TOTAL_BYTES, open_bundle
from modelworks.flows.bundles.yamltext import dump_yaml

MANIFEST = dump_yaml({"format": FORMAT_NAME, "version": FORMAT_VERSION, "project": {"name": "Evil"}})
RECIPE = "name: q\nkind: sql\ninputs: [a]\noutputs: [b]\n"
LIMIT = 50 * 1024 * 1024


def _zip(tmp_path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    target = tmp_path / "bundle.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("modelworks-project.yaml", MANIFEST)
        for name, content in members:
            archive.writestr(name, content)
    return target


def _read(path: Path) -> None:
    with open_bundle(path, max_bytes=LIMIT, max_total=4 * LIMIT):
        pass


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info


ARCHIVES = [
    ([("../../outside.yaml", b"x")], r"unsafe member name '../../outside.yaml'"),
    ([("recipes/../../../etc/cron.d/x", b"x")], r"unsafe member name"),
    ([("/etc/passwd", b"x")], r"unsafe member name '/etc/passwd'"),
    ([("C:/windows/x.yaml", b"x")], r"unsafe member name 'C:/windows/x.yaml'"),
    ([("recipes\\..\\..\\x.yaml", b"x")], r"unsafe member name"),
    ([("recipes/./x.yaml", b"x")], r"unsafe member name"),
    ([(_link("recipes/x.yaml"), b"/etc/passwd")], r"'recipes/x.yaml' is a symbolic link"),
    ([(_link("data"), b"/")], r"'data' is a symbolic link"),
    (
        [("recipes/q.yaml", RECIPE.encode()), ("recipes/q.yaml", b"name: other\nkind: sql\n")],
        r"holds 'recipes/q.yaml' twice",
    ),
    ([("data/a.parquet", b"1"), ("data/a.parquet", b"2")], r"holds 'data/a.parquet' twice"),
    (
        [("data/zeros.parquet", b"\0" * (5 * LIMIT))],
        r"unpacks to [\d,]+ bytes; the limit is [\d,]+ bytes \(a zip bomb\?\)",
    ),
]


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile warns when writing the duplicates
@pytest.mark.parametrize(("members", "match"), ARCHIVES)
def test_unsafe_archives_are_refused_before_anything_is_extracted(
    tmp_path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]], match: str
) -> None:
    with pytest.raises(BundleError, match=match):
        _read(_zip(tmp_path, members))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]


DOCUMENTS = [
    pytest.param(
        "name: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
        r"uses a YAML tag that is not allowed",
        id="python-object",
    ),
    pytest.param("name: !!python/name:os.system\n", r"uses a YAML tag that is not allowed", id="python-name"),
    pytest.param(
        "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", r"uses a YAML alias", id="alias-bomb"
    ),
    pytest.param(
        "name: " + "[" * 60 + "]" * 60 + "\n",
        r"nests mappings or lists more than 50 levels deep",
        id="deep-nesting",
    ),
    pytest.param(
        RECIPE + "spec: {sql: !!binary U0VMRUNUIDE=}\n",
        r"line 5: the tag 'binary' is not allowed",
        id="binary",
    ),
    pytest.param(RECIPE + "spec: {x: !!set {a, b}}\n", r"the tag 'set' is not allowed", id="set"),
    pytest.param(RECIPE + "spec: !!omap [{a: 1}]\n", r"the tag 'omap' is not allowed", id="omap"),
    pytest.param(
        RECIPE + "spec: {x: !!timestamp 2024-01-01}\n",
        r"the tag 'timestamp' is not allowed",
        id="timestamp-tag",
    ),
    pytest.param(RECIPE + "spec: {x: .nan}\n", r"the number '.nan' is not finite", id="nan"),
    pytest.param(RECIPE + "spec: {x: -.inf}\n", r"the number '-.inf' is not finite", id="inf"),
    pytest.param(
        RECIPE + "spec: {x: 0x" + "f" * 5000 + "}\n",
        r"the number starting '0xfff.*' is too large",
        id="huge-hex",
    ),
    pytest.param(
        RECIPE + "spec: {x: " + "9" * 5000 + "}\n",
        r"the number starting '999.*' is too large",
        id="huge-decimal",
    ),
    pytest.param(RECIPE + "spec: {1: x}\n", r"the key 1 is not a text; put it in quotes", id="int-key"),
    pytest.param(RECIPE + "spec: {null: x}\n", r"the key None is not a text", id="null-key"),
    pytest.param(
        RECIPE + "name: shadow\n",
        r"line 5: the key 'name' appears twice in the same mapping",
        id="duplicate-key",
    ),
]


@pytest.mark.parametrize(("document", "match"), DOCUMENTS)
def test_yaml_that_is_not_plain_data_is_refused_with_file_and_line(
    tmp_path: Path, document: str, match: str
) -> None:
    with pytest.raises(BundleError, match=r"^recipes/q\.yaml: .*" + match):
        _read(_zip(tmp_path, [("recipes/q.yaml", document.encode())]))
    assert not Path("/tmp/pwned").exists()


def test_an_unquoted_date_stays_the_text_it_is(tmp_path: Path) -> None:
    document = RECIPE + "description: 2024-01-01\nspec: {since: 2024-01-01 10:00:00}\n"
    with open_bundle(_zip(tmp_path, [("recipes/q.yaml", document.encode())]), max_bytes=LIMIT) as bundle:
        ((_, doc),) = bundle.recipes
    assert doc["description"] == "2024-01-01"
    assert doc["spec"] == {"since": "2024-01-01 10:00:00"}


def test_many_large_yaml_files_are_refused_before_they_are_parsed(tmp_path: Path) -> None:
    # Compressed, five 9 MB documents are a few kB; parsing them took minutes of the web server.
    filler = RECIPE + "description: |\n" + "  lorem ipsum dolor sit amet\n" * (9 * 1024 * 1024 // 28)
    members = [(f"recipes/q{n}.yaml", filler.encode()) for n in range(5)]
    assert len(filler) * 5 > MAX_YAML_TOTAL_BYTES
    started = time.monotonic()
    with pytest.raises(
        BundleError, match=r"recipes/q3\.yaml: takes the bundle's YAML files past 32 MiB in all"
    ):
        _read(_zip(tmp_path, members))
    assert time.monotonic() - started < 30


def _shrink_declared_size(raw: bytearray) -> None:
    entry = raw.rindex(b"PK\x01\x02")  # central directory entry: uncompressed size at offset 24
    raw[entry + 24 : entry + 28] = (10).to_bytes(4, "little")


def _mark_encrypted(raw: bytearray) -> None:
    entry = raw.rindex(b"PK\x01\x02")  # central directory entry: flags at offset 8
    raw[entry + 8] |= 0x01


@pytest.mark.parametrize(
    ("spoil", "match"),
    [
        (_shrink_declared_size, r"data/a\.parquet: cannot be read from the archive \(Bad CRC-32"),
        (_mark_encrypted, r"data/a\.parquet: cannot be read from the archive \(.*encrypted"),
    ],
)
def test_a_damaged_member_is_refused_with_its_name(
    tmp_path: Path, spoil: Callable[[bytearray], None], match: str
) -> None:
    # Was an uncaught zipfile.BadZipFile / RuntimeError: a server error instead of a message.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("modelworks-project.yaml", MANIFEST)
        archive.writestr("data/a.parquet", b"\0" * 1_000_000)
    raw = bytearray(buffer.getvalue())
    spoil(raw)
    path = tmp_path / "bundle.zip"
    path.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match=match):
        _read(path)
