"""Where tracking artifacts live: a small interface and its local-folder implementation.

Keys are tuples of names already validated by :func:`~.paths.split_artifact_path`
(``("3", "<run_id>", "artifacts", "plots", "roc.png")``); the store checks every name again and
never follows a symbolic link, so even a bug upstream cannot reach outside the root:

* each existing component on the way down is examined with ``lstat`` and a symbolic link is refused;
* the final real path (after any link resolution by the OS) must still lie inside the root's real path;
* files are opened with ``O_NOFOLLOW``.

Writes are atomic: bytes stream in chunks (never whole in memory) to a ``.mw-staging-*`` file in the
destination folder, are flushed to disk (``fsync``) and renamed into place; on any failure the
temporary file is removed and the previous file, if any, is untouched. Deletes first rename the
target to a ``.mw-trash-*`` name, so a reader never sees a half-deleted folder.

Multipart uploads stage numbered parts under ``<root>/.mw-multipart/<upload_id>/`` and assemble them
into the destination the same atomic way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from modelworks.tracking.artifacts.paths import RESERVED_PREFIX, check_segment

__all__ = [
    "ArtifactEntry",
    "ArtifactIncompleteError",
    "ArtifactIsDirectoryError",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "ArtifactStoreError",
    "ArtifactTooLargeError",
    "ArtifactWriteError",
    "LocalArtifactStore",
    "UploadNotFoundError",
    "read_chunks",
]

CHUNK_BYTES = 1 << 20
_STAGING = RESERVED_PREFIX + "staging-"
_TRASH = RESERVED_PREFIX + "trash-"
_MULTIPART = RESERVED_PREFIX + "multipart"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")

Key = tuple[str, ...]


class ArtifactStoreError(Exception):
    """Base of the storage errors; messages name the artifact and say what to do."""


class ArtifactNotFoundError(ArtifactStoreError):
    pass


class ArtifactIsDirectoryError(ArtifactStoreError):
    pass


class ArtifactTooLargeError(ArtifactStoreError):
    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class UploadNotFoundError(ArtifactStoreError):
    pass


class ArtifactIncompleteError(ArtifactStoreError):
    """The request body ended before the length it announced (the client went away)."""


class ArtifactWriteError(ArtifactStoreError):
    """The server could not write (disk full, permissions): not the client's fault."""


@dataclass(frozen=True)
class ArtifactEntry:
    """One item of a folder listing: its name, whether it is a folder, and a file's size."""

    name: str
    is_dir: bool
    size: int | None


class ArtifactStore(Protocol):
    """What the artifact views need from a storage backend."""

    def save_stream(
        self, key: Key, stream: BinaryIO, *, max_bytes: int, expected_bytes: int | None = None
    ) -> int: ...

    def open(self, key: Key) -> tuple[BinaryIO, int]: ...

    def list(self, key: Key) -> list[ArtifactEntry]: ...

    def delete(self, key: Key) -> bool: ...


def read_chunks(
    stream: BinaryIO, *, max_bytes: int, what: str, expected_bytes: int | None = None
) -> Iterator[bytes]:
    """Yield the stream's bytes in chunks.

    Raises:
        ArtifactTooLargeError: past ``max_bytes``.
        ArtifactIncompleteError: the stream ended before ``expected_bytes`` (when given).
    """
    total = 0
    while chunk := stream.read(CHUNK_BYTES):
        total += len(chunk)
        if total > max_bytes:
            raise ArtifactTooLargeError(
                f"{what} is larger than this instance's limit of {_human(max_bytes)}. Split it, or ask "
                "an administrator to raise MODELWORKS_MAX_ARTIFACT_BYTES.",
                limit=max_bytes,
            )
        yield chunk
    if expected_bytes is not None and total != expected_bytes:
        raise ArtifactIncompleteError(
            f"The upload of {what} stopped after {total} of {expected_bytes} bytes; nothing was stored. "
            "Upload it again."
        )


def _human(size: int) -> str:
    from modelworks.engine.errors import human_bytes

    return human_bytes(size)


def _shown(key: Key) -> str:
    return "/".join(key)


class LocalArtifactStore:
    """Artifacts in a local folder (``MODELWORKS_ARTIFACTS_DIR/tracking``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- resolution ---------------------------------------------------------------------------
    def _real_root(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(os.path.realpath(self.root))

    def path_of(self, key: Key, *, create_parents: bool = False) -> Path:
        """The file-system path of ``key``, checked to stay inside the root without links.

        Raises:
            ArtifactStoreError: a name is unsafe, or a component is a symbolic link or not a folder.
        """
        if not key:
            raise ArtifactStoreError("An artifact key needs at least one name.")
        for name in key:
            check_segment(name)
        root = self._real_root()
        current = root
        for index, name in enumerate(key):
            current = current / name
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                if create_parents and index < len(key) - 1:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(current, 0o750)
                    info = os.lstat(current)
                else:
                    # Nothing further down can exist; the rest of the path is plain names.
                    current = current.joinpath(*key[index + 1 :])
                    break
            if stat.S_ISLNK(info.st_mode):
                raise ArtifactStoreError(
                    f"'{_shown(key)}' goes through a symbolic link, which is never followed."
                )
            if index < len(key) - 1 and not stat.S_ISDIR(info.st_mode):
                raise ArtifactStoreError(
                    f"'{_shown(key[: index + 1])}' is a file, so '{_shown(key)}' cannot be inside it."
                )
        real = Path(os.path.realpath(current))
        if real != root and root not in real.parents:
            raise ArtifactStoreError(f"'{_shown(key)}' resolves outside the artifact store.")
        return current

    # -- reads ---------------------------------------------------------------------------------
    def open(self, key: Key) -> tuple[BinaryIO, int]:
        """Open a file for reading; returns the open binary file and its size."""
        path = self.path_of(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError as exc:
            raise ArtifactNotFoundError(f"No artifact '{_shown(key)}'.") from exc
        except IsADirectoryError as exc:  # pragma: no cover (Linux opens folders read-only)
            raise ArtifactIsDirectoryError(f"'{_shown(key)}' is a folder, not a file.") from exc
        except OSError as exc:
            raise ArtifactStoreError(f"Cannot read '{_shown(key)}': {exc.strerror}.") from exc
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            os.close(fd)
            raise ArtifactIsDirectoryError(
                f"'{_shown(key)}' is a folder, not a file: list it, or download the files inside it."
            )
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise ArtifactNotFoundError(f"No artifact '{_shown(key)}'.")
        return os.fdopen(fd, "rb"), info.st_size

    def is_dir(self, key: Key) -> bool:
        try:
            return stat.S_ISDIR(os.lstat(self.path_of(key)).st_mode)
        except FileNotFoundError:
            return False

    def list(self, key: Key) -> list[ArtifactEntry]:
        """The files and folders directly inside ``key``; empty for a file or a missing folder."""
        path = self.path_of(key)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return []
        if not stat.S_ISDIR(info.st_mode):
            return []
        entries = []
        with os.scandir(path) as found:
            for item in found:
                if item.name.startswith(RESERVED_PREFIX) or item.is_symlink():
                    continue
                if item.is_dir(follow_symlinks=False):
                    entries.append(ArtifactEntry(item.name, True, None))
                elif item.is_file(follow_symlinks=False):
                    entries.append(ArtifactEntry(item.name, False, item.stat(follow_symlinks=False).st_size))
        return sorted(entries, key=lambda e: e.name)

    def walk_files(self, key: Key) -> Iterator[tuple[Key, int]]:
        """Every file under ``key`` (recursively) as ``(key, size)``."""
        for entry in self.list(key):
            child = (*key, entry.name)
            if entry.is_dir:
                yield from self.walk_files(child)
            else:
                yield child, entry.size or 0

    # -- writes --------------------------------------------------------------------------------
    def _write_atomically(self, key: Key, chunks: Iterable[bytes]) -> int:
        target = self.path_of(key, create_parents=True)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISDIR(os.lstat(target).st_mode):
                raise ArtifactIsDirectoryError(
                    f"'{_shown(key)}' is a folder; upload the file under another name or delete the folder first."
                )
        staging = target.parent / f"{_STAGING}{uuid.uuid4().hex}"
        size = 0
        try:
            fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(staging, target)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staging)
            if isinstance(exc, OSError):
                raise _write_error(key, exc) from exc
            raise
        _fsync_dir(target.parent)
        return size

    def save_stream(
        self, key: Key, stream: BinaryIO, *, max_bytes: int, expected_bytes: int | None = None
    ) -> int:
        """Write ``stream`` to ``key`` atomically; returns the number of bytes written.

        Raises:
            ArtifactTooLargeError: the stream passed ``max_bytes`` (nothing is written).
            ArtifactIncompleteError: the stream ended before ``expected_bytes`` (nothing is written).
            ArtifactIsDirectoryError: a folder already has that name.
            ArtifactWriteError: the disk refused the write.
        """
        chunks = read_chunks(stream, max_bytes=max_bytes, what=f"'{key[-1]}'", expected_bytes=expected_bytes)
        return self._write_atomically(key, chunks)

    def delete(self, key: Key) -> bool:
        """Delete a file or a whole folder; returns False when there was nothing to delete."""
        target = self.path_of(key)
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(target)
            return True
        trash = target.parent / f"{_TRASH}{uuid.uuid4().hex}"
        os.rename(target, trash)
        shutil.rmtree(trash)
        return True

    # -- multipart uploads ----------------------------------------------------------------------
    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id or ""):
            raise UploadNotFoundError(f"{upload_id!r} is not an upload ID.")
        return self._real_root() / _MULTIPART / upload_id

    def begin_upload(self, upload_id: str, meta: dict[str, Any]) -> None:
        """Create the staging folder of a multipart upload, with its description."""
        folder = self._upload_dir(upload_id)
        folder.mkdir(parents=True, mode=0o750)
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    def upload_meta(self, upload_id: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self._upload_dir(upload_id) / "meta.json").read_text("utf-8"))
        except FileNotFoundError as exc:
            raise UploadNotFoundError(
                f"No multipart upload {upload_id!r}: it was completed, aborted or has expired. Upload the file again."
            ) from exc
        return data

    def claim_part(self, upload_id: str, part_number: int, nonce: str) -> bool:
        """Mark a part token as used; False when it was used before (tokens are single-use)."""
        if not re.fullmatch(r"[0-9a-f]{1,64}", nonce):
            return False
        marker = self._upload_dir(upload_id) / f"used-{part_number:05d}-{nonce}"
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640))
        except FileExistsError:
            return False
        except FileNotFoundError as exc:
            raise UploadNotFoundError(f"No multipart upload {upload_id!r}.") from exc
        return True

    def save_part(
        self,
        upload_id: str,
        part_number: int,
        stream: BinaryIO,
        *,
        max_bytes: int,
        expected_bytes: int | None = None,
    ) -> tuple[int, str]:
        """Stage one part; returns its size and its ETag (SHA-256 of its bytes)."""
        folder = self._upload_dir(upload_id)
        if not folder.is_dir():
            raise UploadNotFoundError(f"No multipart upload {upload_id!r}.")
        digest = hashlib.sha256()
        staging = folder / f"{_STAGING}{uuid.uuid4().hex}"
        size = 0
        try:
            with open(staging, "xb") as out:
                what = f"part {part_number}"
                for chunk in read_chunks(
                    stream, max_bytes=max_bytes, what=what, expected_bytes=expected_bytes
                ):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(staging, folder / f"part-{part_number:05d}")
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staging)
            if isinstance(exc, OSError):
                raise _write_error((upload_id, f"part {part_number}"), exc) from exc
            raise
        (folder / f"part-{part_number:05d}.etag").write_text(digest.hexdigest(), encoding="utf-8")
        return size, digest.hexdigest()

    def staged_parts(self, upload_id: str) -> dict[int, tuple[int, str]]:
        """The staged parts: ``{part_number: (size, etag)}``."""
        folder = self._upload_dir(upload_id)
        parts = {}
        for item in folder.glob("part-*.etag"):
            number = int(item.name[5:10])
            parts[number] = ((folder / f"part-{number:05d}").stat().st_size, item.read_text("utf-8"))
        return parts

    def assemble(self, upload_id: str, part_numbers: Sequence[int], key: Key) -> int:
        """Concatenate the staged parts, in order, into ``key`` atomically; then drop the staging folder."""
        folder = self._upload_dir(upload_id)

        def chunks() -> Iterator[bytes]:
            for number in part_numbers:
                with open(folder / f"part-{number:05d}", "rb") as part:
                    while chunk := part.read(CHUNK_BYTES):
                        yield chunk

        size = self._write_atomically(key, chunks())
        self.discard_upload(upload_id)
        return size

    def discard_upload(self, upload_id: str) -> bool:
        folder = self._upload_dir(upload_id)
        if not folder.exists():
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True

    def clean_stale_uploads(self, *, older_than_s: float) -> int:
        """Remove multipart uploads neither completed nor aborted for ``older_than_s``; returns how many."""
        base = self._real_root() / _MULTIPART
        if not base.is_dir():
            return 0
        removed = 0
        cutoff = time.time() - older_than_s
        for folder in base.iterdir():
            if _UPLOAD_ID.fullmatch(folder.name) and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


def _write_error(key: Key, exc: OSError) -> ArtifactWriteError:
    return ArtifactWriteError(
        f"The server could not store '{_shown(key)}': {exc.strerror or exc}. Nothing was stored; "
        "ask an administrator to check the space and permissions of MODELWORKS_ARTIFACTS_DIR."
    )


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
