"""The local store: generated IDs only, atomic writes, nothing left behind by a failure."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from modelworks.engine.io import (
    FileTooLargeError,
    InvalidObjectIdError,
    LocalStore,
    ObjectNotFoundError,
    Store,
)
from modelworks.engine.io.storage import check_object_id


def test_save_load_describe_delete(store: LocalStore) -> None:
    saved = store.save(b"hello world")
    assert len(saved.object_id) == 32 and int(saved.object_id, 16) >= 0
    assert saved.size == 11
    assert saved.sha256 == hashlib.sha256(b"hello world").hexdigest()
    assert store.exists(saved.object_id)
    assert store.load(saved.object_id) == b"hello world"
    described = store.describe(saved.object_id)
    assert described.size == 11 and described.uri.startswith("file://")
    assert store.local_path(saved.object_id).read_bytes() == b"hello world"
    store.delete(saved.object_id)
    assert not store.exists(saved.object_id)
    store.delete(saved.object_id)  # deleting twice is fine
    with pytest.raises(ObjectNotFoundError, match="does not exist"):
        store.load(saved.object_id)


@pytest.mark.parametrize(
    "data", [b"x" * 3_000_000, [b"ab", b"cd"], io.BytesIO(b"streamed")], ids=["bytes", "chunks", "file"]
)
def test_save_accepts_bytes_chunks_and_files(store: LocalStore, data: object) -> None:
    expected = data if isinstance(data, bytes) else b"abcd" if isinstance(data, list) else b"streamed"
    saved = store.save(data)  # type: ignore[arg-type]
    assert store.load(saved.object_id) == expected


def test_every_save_gets_a_new_id(store: LocalStore) -> None:
    assert store.save(b"same").object_id != store.save(b"same").object_id
    assert len(list(store.object_ids())) == 2


@pytest.mark.parametrize(
    "bad_id",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "a" * 31,
        "A" * 32,
        "g" * 32,
        "a" * 31 + "\x00",
        "",
        "ab/" + "c" * 29,
        ".." + "a" * 30,
    ],
)
def test_names_and_paths_are_never_ids(store: LocalStore, bad_id: str) -> None:
    for operation in (store.load, store.exists, store.describe, store.delete, store.local_path, store.open):
        with pytest.raises(InvalidObjectIdError, match="is not an object ID"):
            operation(bad_id)


def test_check_object_id_accepts_generated_ids(store: LocalStore) -> None:
    object_id = store.save(b"x").object_id
    assert check_object_id(object_id) == object_id


def test_over_the_limit_upload_leaves_nothing(
    store: LocalStore, files_in: Callable[[Path], list[Path]]
) -> None:
    with pytest.raises(FileTooLargeError, match=r"larger than the limit of 1\.0 KiB") as caught:
        store.save([b"x" * 600, b"y" * 600], max_bytes=1024)
    assert caught.value.details["limit"] == 1024
    assert files_in(store.root) == []


def test_a_failed_write_leaves_no_file(store: LocalStore, files_in: Callable[[Path], list[Path]]) -> None:
    with pytest.raises(RuntimeError), store.stage() as staged:
        staged.path.write_bytes(b"half written")
        raise RuntimeError("disk on fire")
    assert files_in(store.root) == []
    assert not store.exists(staged.object_id)


def test_staged_file_is_invisible_until_committed(
    store: LocalStore, files_in: Callable[[Path], list[Path]]
) -> None:
    with store.stage() as staged:
        staged.path.write_bytes(b"parquet bytes")
        assert not store.exists(staged.object_id)
        assert staged.path.name.startswith(".staging-")
        committed = staged.commit()
    assert store.load(committed.object_id) == b"parquet bytes"
    assert committed.sha256 == hashlib.sha256(b"parquet bytes").hexdigest()
    assert [p.name for p in files_in(store.root)] == [committed.object_id]


def test_leaving_without_commit_discards(store: LocalStore, files_in: Callable[[Path], list[Path]]) -> None:
    with store.stage() as staged:
        staged.path.write_bytes(b"never committed")
    assert files_in(store.root) == []


def test_scratch_folder_is_removed(store: LocalStore, files_in: Callable[[Path], list[Path]]) -> None:
    with store.scratch_dir() as scratch:
        (scratch / "tmp.txt").write_text("x")
        assert scratch.is_relative_to(store.root)
    assert files_in(store.root) == []


def test_clean_stale_removes_crash_leftovers(
    store: LocalStore, files_in: Callable[[Path], list[Path]]
) -> None:
    staged = store.stage()  # simulate a crash: never committed nor discarded
    staged.path.write_bytes(b"left by a crash")
    old = time.time() - 7200
    os.utime(staged.path, (old, old))
    kept = store.save(b"real object")
    assert store.clean_stale(older_than_seconds=3600) == 1
    assert [p.name for p in files_in(store.root)] == [kept.object_id]


def test_local_store_satisfies_the_protocol(tmp_path: Path) -> None:
    store: Store = LocalStore(tmp_path / "s")  # checked by mypy in the engine; here at runtime
    assert store.exists(store.save(b"x").object_id)
