"""Artifact path validation and the local store, without HTTP (real files in ``tmp_path``)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError, split_artifact_path
from modelworks.tracking.artifacts.storage import (
    ArtifactEntry,
    ArtifactIsDirectoryError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    ArtifactTooLargeError,
    LocalArtifactStore,
    UploadNotFoundError,
)


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("1/abc/artifacts/model.pkl", ("1", "abc", "artifacts", "model.pkl")),
        ("1/abc/artifacts/", ("1", "abc", "artifacts")),
        ("1/abc/artifacts/.hidden/v1..2.txt", ("1", "abc", "artifacts", ".hidden", "v1..2.txt")),
        ("1/abc/artifacts/résumé des essais.txt", ("1", "abc", "artifacts", "résumé des essais.txt")),
        ("1/abc/artifacts/a~b/x", ("1", "abc", "artifacts", "a~b", "x")),
        ("1/abc/artifacts/" + "n" * 255, ("1", "abc", "artifacts", "n" * 255)),
    ],
)
def test_plain_paths_are_accepted(path: str, names: tuple[str, ...]) -> None:
    assert split_artifact_path(path) == names


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("", "artifact path is missing"),
        ("/etc/passwd", "is absolute"),
        ("//proc/self/root/etc/passwd", "is absolute"),
        ("1/abc/artifacts/../../../secret", r"The name '\.\.' in artifact path .* is not allowed"),
        ("1/abc/artifacts/./a", r"The name '\.' .* is not allowed"),
        ("1/abc/artifacts//a", "Empty name"),
        ("1/abc/artifacts/a//", "Empty name"),
        ("1/abc/artifacts/..\\..\\secret", "contains a backslash"),
        ("1/abc/artifacts/%2e%2e%2fsecret", "percent-encoded text must be encoded only once"),
        ("1/abc/artifacts/file:", "contains a colon"),
        ("file:///etc/passwd", "contains a colon"),
        ("C:/Windows/win.ini", "contains a colon"),
        ("1/abc/artifacts/a;b", "contains a ';'"),
        ("1/abc/artifacts/a#b", "contains a '#'"),
        ("1/abc/artifacts/a?b", "contains a '?'"),
        ("1/abc/artifacts/~root", "starts with '~'"),
        ("1/abc/artifacts/.mw-staging-1", "reserved for the server's temporary files"),
        ("1/abc/artifacts/a\x00b", "control character U\\+0000"),
        ("1/abc/artifacts/a\nb", "control character U\\+000A"),
        ("1/abc/artifacts/a\u202eb", "control character U\\+202E"),
        ("1/abc/artifacts/" + "n" * 256, "longer than 255 bytes"),
        ("1/abc/artifacts/" + "é" * 128, "longer than 255 bytes"),
        ("1/abc/artifacts/" + "/".join(["d"] * 62), "nested 65 folders deep"),
        ("1/" + "/".join(["n" * 200] * 6), "longer than 1024 bytes"),
    ],
)
def test_unsafe_paths_are_refused_with_the_reason(path: str, match: str) -> None:
    with pytest.raises(UnsafeArtifactPathError, match=match):
        split_artifact_path(path)


def test_a_trailing_slash_is_refused_when_not_allowed() -> None:
    with pytest.raises(UnsafeArtifactPathError, match="Empty name"):
        split_artifact_path("1/abc/artifacts/", allow_trailing_slash=False)


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "root")


def test_store_round_trip_and_listing(store: LocalArtifactStore) -> None:
    assert store.save_stream(("1", "r", "artifacts", "a", "b.txt"), io.BytesIO(b"bee"), max_bytes=10) == 3
    store.save_stream(("1", "r", "artifacts", "c.txt"), io.BytesIO(b""), max_bytes=10)
    assert store.list(("1", "r", "artifacts")) == [
        ArtifactEntry("a", True, None),
        ArtifactEntry("c.txt", False, 0),
    ]
    stream, size = store.open(("1", "r", "artifacts", "a", "b.txt"))
    with stream:
        assert (stream.read(), size) == (b"bee", 3)
    assert list(store.walk_files(("1",))) == [
        (("1", "r", "artifacts", "a", "b.txt"), 3),
        (("1", "r", "artifacts", "c.txt"), 0),
    ]
    assert store.delete(("1", "r", "artifacts", "a")) is True
    assert store.delete(("1", "r", "artifacts", "a")) is False
    assert store.list(("1", "r", "artifacts", "missing")) == []


@pytest.mark.parametrize(
    ("key", "error", "match"),
    [
        (("1", "missing.txt"), ArtifactNotFoundError, "No artifact '1/missing.txt'"),
        (("1",), ArtifactIsDirectoryError, "is a folder, not a file"),
        (("1", ".."), ArtifactStoreError, "is not allowed"),
        (("1", "a/b"), ArtifactStoreError, "contains a '/'"),
        ((), ArtifactStoreError, "at least one name"),
    ],
)
def test_store_read_errors(
    store: LocalArtifactStore, key: tuple[str, ...], error: type[Exception], match: str
) -> None:
    store.save_stream(("1", "present.txt"), io.BytesIO(b"x"), max_bytes=10)
    with pytest.raises((error, ValueError), match=match):
        store.open(key)


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(store: LocalArtifactStore) -> None:
    key = ("1", "model.bin")
    store.save_stream(key, io.BytesIO(b"old"), max_bytes=10)
    with pytest.raises(ArtifactTooLargeError, match="larger than this instance's limit of 10 bytes"):
        store.save_stream(key, io.BytesIO(b"x" * 11), max_bytes=10)
    assert os.listdir(store.root / "1") == ["model.bin"]
    assert (store.root / "1" / "model.bin").read_bytes() == b"old"


def test_the_store_never_follows_links(store: LocalArtifactStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    store.root.mkdir()
    (store.root / "1").symlink_to(outside)
    for action in (
        lambda: store.open(("1", "secret.txt")),
        lambda: store.list(("1",)),
        lambda: store.save_stream(("1", "new.txt"), io.BytesIO(b"x"), max_bytes=10),
        lambda: store.delete(("1", "secret.txt")),
        lambda: store.delete(("1",)),
    ):
        with pytest.raises(ArtifactStoreError, match="symbolic link, which is never followed"):
            action()
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    # A root that is itself reached through a link is fine: only what is inside it is checked.
    linked_root = tmp_path / "linked-root"
    linked_root.symlink_to(store.root)
    (store.root / "2").mkdir()
    assert LocalArtifactStore(linked_root).list(("2",)) == []


def test_multipart_staging(store: LocalArtifactStore) -> None:
    upload_id = "a" * 32
    store.begin_upload(upload_id, {"key": ["1", "big.bin"], "num_parts": 2})
    assert store.claim_part(upload_id, 1, "00ff") is True
    assert store.claim_part(upload_id, 1, "00ff") is False
    assert store.claim_part(upload_id, 1, "../x") is False
    store.save_part(upload_id, 2, io.BytesIO(b"world"), max_bytes=10)
    store.save_part(upload_id, 1, io.BytesIO(b"hello "), max_bytes=10)
    assert sorted(store.staged_parts(upload_id)) == [1, 2]
    assert store.assemble(upload_id, [1, 2], ("1", "big.bin")) == 11
    assert (store.root / "1" / "big.bin").read_bytes() == b"hello world"
    with pytest.raises(UploadNotFoundError, match="was completed, aborted or has expired"):
        store.upload_meta(upload_id)
    for bad in ("../../etc", "A" * 32, ""):
        with pytest.raises(UploadNotFoundError, match="is not an upload ID"):
            store.upload_meta(bad)

    stale = "b" * 32
    store.begin_upload(stale, {})
    os.utime(store.root / ".mw-multipart" / stale, (0, 0))
    assert store.clean_stale_uploads(older_than_s=3600) == 1
    assert list((store.root / ".mw-multipart").iterdir()) == []
