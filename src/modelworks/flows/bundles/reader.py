"""Reading a bundle safely, from a folder or a .zip, into parsed documents and data files.

A .zip is checked before anything is extracted: its size, the number of members, every member name
(no absolute path, no drive letter, no ``..``, no backslash, no NUL, none twice), no symbolic link,
and the total uncompressed size; while extracting, the bytes actually read are counted again (a member that lies
about its size is caught). Only the layout's files are read; member names never become paths (data
files are written as ``<slug>.parquet`` in a private temporary folder, the slug checked by a strict
pattern). YAML is parsed with ``yaml.safe_load`` after refusing anchors/aliases, so neither object
construction (``!!python/...``) nor alias bombs get through; nesting deeper than
:data:`MAX_YAML_DEPTH` is refused before the document is built, and values JSON cannot hold
(``!!binary``, dates, ``.nan``…) are refused as they are built (``yamltext.load_yaml``). Parsing
YAML costs CPU in the web server (several seconds per 10 MB even with libyaml), so all YAML files of
a bundle together may hold at most :data:`MAX_YAML_TOTAL_BYTES`.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from modelworks.flows.bundles.format import (
    DATA_DIR,
    FOLDERS,
    MANIFEST,
    BundleError,
    check_dataset,
    check_manifest,
    check_recipe,
    check_scenario,
    member_kind,
)
from modelworks.flows.bundles.yamltext import SAFE_LOADER, NotPlainDataError, load_yaml

__all__ = [
    "MAX_MEMBERS",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_TOTAL_BYTES",
    "Bundle",
    "open_bundle",
]

MAX_MEMBERS = 10_000
MAX_YAML_BYTES = 10 * 1024 * 1024
#: All YAML files of one bundle together (a project of hundreds of recipes holds a few MB).
MAX_YAML_TOTAL_BYTES = 32 * 1024 * 1024
#: Deepest nesting of mappings and lists a bundle file may have (real files use fewer than 10 levels;
#: the YAML composer recurses per level, so a deeper file would exhaust the stack).
MAX_YAML_DEPTH = 50
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass
class Bundle:
    """A parsed bundle: the manifest, each document with its file name, and the data files."""

    manifest: dict[str, Any]
    datasets: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    recipes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scenarios: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    data: dict[str, Path] = field(default_factory=dict)
    """``data/<slug>.parquet`` → the file to import."""


def _default_limits() -> tuple[int, int]:
    from django.conf import settings

    upload = int(settings.MODELWORKS_MAX_UPLOAD_BYTES)
    return upload, 4 * upload


def _parse(raw: bytes, file: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"is not UTF-8 text (byte {exc.start})", file=file) from exc
    try:
        depth = 0
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise BundleError("uses a YAML alias (*name); write the values out instead", file=file)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise BundleError(
                        f"nests mappings or lists more than {MAX_YAML_DEPTH} levels deep; a bundle file "
                        "is a few levels deep",
                        file=file,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return load_yaml(text)
    except NotPlainDataError as exc:
        where = exc.problem_mark
        line = f" at line {where.line + 1}" if where is not None else ""
        raise BundleError(f"holds a value a bundle cannot{line}: {exc.problem}", file=file) from exc
    except yaml.constructor.ConstructorError as exc:
        raise BundleError(
            f"uses a YAML tag that is not allowed ({str(exc.problem)[:160]}); a bundle holds only plain "
            "mappings, lists, texts, numbers and true/false",
            file=file,
        ) from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise BundleError(
            f"is not valid YAML{line}: {getattr(exc, 'problem', None) or exc}", file=file
        ) from exc


def _read_capped(stream: BinaryIO, limit: int, file: str, what: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise BundleError(f"is larger than the {what} limit of {limit:,} bytes", file=file)
    return data


def _spend_yaml(budget: int, size: int, file: str) -> int:
    if size > budget:
        raise BundleError(
            f"takes the bundle's YAML files past {MAX_YAML_TOTAL_BYTES // (1024 * 1024)} MiB in all; a project "
            "bundle's YAML is a few MB (move data into data/*.parquet files)",
            file=file,
        )
    return budget - size


def _build(files: dict[str, Any], data: dict[str, Path]) -> Bundle:
    if MANIFEST not in files:
        raise BundleError(f"no {MANIFEST} at the top of the bundle; is this a Modelworks project export?")
    bundle = Bundle(manifest=check_manifest(_parse(files[MANIFEST], MANIFEST)))
    checks = {"datasets": check_dataset, "recipes": check_recipe, "scenarios": check_scenario}
    for relative in sorted(files):
        kind = member_kind(relative)
        if kind is None or kind[0] not in FOLDERS:
            continue
        doc = checks[kind[0]](_parse(files[relative], relative), relative)
        getattr(bundle, kind[0]).append((relative, doc))
    bundle.data = dict(sorted(data.items()))
    return bundle


def _check_member_name(name: str) -> None:
    parts = name.rstrip("/").split("/")
    if (
        not name
        or "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or _DRIVE.match(name)
        or any(part in ("", "..", ".") for part in parts)
    ):
        raise BundleError(
            f"the archive holds an unsafe member name {name[:120]!r} (absolute, '..' or odd characters)"
        )


def _read_zip(source: Path, workdir: Path, max_bytes: int, max_total: int) -> Bundle:
    size = source.stat().st_size
    if size > max_bytes:
        raise BundleError(f"the archive is {size:,} bytes; the limit is {max_bytes:,} bytes")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{source.name} is not a readable .zip archive ({exc})") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise BundleError(
                f"the archive holds {len(members):,} members; at most {MAX_MEMBERS:,} are accepted"
            )
        declared = 0
        seen: set[str] = set()
        for info in members:
            _check_member_name(info.filename)
            if info.filename.rstrip("/") in seen:
                raise BundleError(
                    f"the archive holds {info.filename[:120]!r} twice; a bundle names each file once"
                )
            seen.add(info.filename.rstrip("/"))
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise BundleError(
                    f"the archive member {info.filename[:120]!r} is a symbolic link; links are refused"
                )
            declared += info.file_size
        if declared > max_total:
            raise BundleError(
                f"the archive unpacks to {declared:,} bytes; the limit is {max_total:,} bytes (a zip bomb?)"
            )
        names = [i.filename for i in members if not i.is_dir()]
        prefix = ""
        if MANIFEST not in names:
            tops = [n[: -len(MANIFEST)] for n in names if n.endswith("/" + MANIFEST) and n.count("/") == 1]
            prefix = tops[0] if len(tops) == 1 else ""
        files: dict[str, Any] = {}
        data: dict[str, Path] = {}
        budget = max_total
        yaml_budget = MAX_YAML_TOTAL_BYTES
        for info in members:
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            relative = info.filename[len(prefix) :]
            kind = member_kind(relative)
            if kind is None:
                continue
            try:
                with archive.open(info) as stream:
                    if kind[0] != "data":
                        raw = _read_capped(stream, min(MAX_YAML_BYTES, budget), relative, "YAML file")
                        budget -= len(raw)
                        yaml_budget = _spend_yaml(yaml_budget, len(raw), relative)
                        files[relative] = raw
                        continue
                    target = workdir / f"{kind[1]}.parquet"  # the slug matched a strict pattern
                    written = 0
                    with target.open("wb") as out:
                        while chunk := stream.read(_CHUNK):
                            written += len(chunk)
                            if written > min(info.file_size, budget):
                                raise BundleError(
                                    "unpacks to more bytes than it declares or than allowed", file=relative
                                )
                            out.write(chunk)
                    budget -= written
                    data[relative] = target
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                # A damaged or encrypted member, or one whose data ends before its declared size.
                raise BundleError(
                    f"cannot be read from the archive ({exc}); export the project again", file=relative
                ) from exc
    return _build(files, data)


def _read_folder(source: Path, max_total: int) -> Bundle:
    files: dict[str, Any] = {}
    data: dict[str, Path] = {}
    total = 0
    yaml_budget = MAX_YAML_TOTAL_BYTES
    candidates = [source / MANIFEST]
    for sub in (*FOLDERS, DATA_DIR):
        folder = source / sub
        if folder.is_symlink():
            raise BundleError(f"{sub}/ is a symbolic link; links are refused")
        if folder.is_dir():
            candidates.extend(sorted(folder.iterdir()))
    for path in candidates:
        relative = path.relative_to(source).as_posix()
        if member_kind(relative) is None:
            continue
        if path.is_symlink():
            raise BundleError("is a symbolic link; links are refused", file=relative)
        if not path.is_file():
            continue
        size = path.stat().st_size
        total += size
        if total > max_total:
            raise BundleError(f"the bundle's files add up to more than {max_total:,} bytes")
        if relative.startswith(DATA_DIR + "/"):
            data[relative] = path
        else:
            with path.open("rb") as stream:
                files[relative] = _read_capped(stream, MAX_YAML_BYTES, relative, "YAML file")
            yaml_budget = _spend_yaml(yaml_budget, len(files[relative]), relative)
    return _build(files, data)


@contextmanager
def open_bundle(
    source: str | os.PathLike[str], *, max_bytes: int | None = None, max_total: int | None = None
) -> Iterator[Bundle]:
    """Read the bundle at ``source`` (a folder or a .zip file); extracted files live until the block ends.

    Args:
        source: the folder or the .zip.
        max_bytes: the largest .zip accepted (default ``MODELWORKS_MAX_UPLOAD_BYTES``).
        max_total: the most bytes the bundle may unpack to (default four times ``max_bytes``).

    Raises:
        BundleError: the bundle is unsafe, too large or malformed (the message names the file).
    """
    default_bytes, default_total = _default_limits()
    max_bytes = default_bytes if max_bytes is None else max_bytes
    max_total = default_total if max_total is None else max_total
    path = Path(source)
    if path.is_dir():
        yield _read_folder(path, max_total)
        return
    if not path.is_file():
        raise BundleError(f"{path} is neither a bundle folder nor a .zip file")
    with tempfile.TemporaryDirectory(prefix="mw-bundle-") as folder:
        yield _read_zip(path, Path(folder), max_bytes, max_total)
