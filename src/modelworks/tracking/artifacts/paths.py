"""Artifact paths from clients: validated segment by segment, never used as file paths as given.

A client names an artifact as ``<experiment_id>/<run_id>/artifacts/<path>`` or
``<experiment_id>/models/<model_id>/artifacts/<path>`` (the ``mlflow-artifacts:`` URIs the server
hands out). :func:`split_artifact_path` turns that text into a tuple of plain names or refuses it
with :class:`UnsafeArtifactPathError`, naming the offending part; only such a tuple ever reaches the
storage layer, which checks again that the resolved location stays inside its root.

The text arrives already percent-decoded once (by the WSGI server for the URL path, by Django for the
query string). A ``%`` left after that single decode means double-encoded input
(``%252e%252e%252f``) and is refused rather than decoded again.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "MAX_PATH_BYTES",
    "MAX_SEGMENTS",
    "MAX_SEGMENT_BYTES",
    "RESERVED_PREFIX",
    "UnsafeArtifactPathError",
    "check_segment",
    "split_artifact_path",
]

#: Longest single name, in UTF-8 bytes (the limit of common Linux file systems).
MAX_SEGMENT_BYTES = 255
#: Longest whole artifact path, in UTF-8 bytes.
MAX_PATH_BYTES = 1024
#: Deepest nesting of folders.
MAX_SEGMENTS = 64
#: Names the server uses for its own temporary files; refused from clients so they never collide.
RESERVED_PREFIX = ".mw-"

# Characters with a meaning to a shell, a URL or another operating system's paths: never part of a
# name we store. ``%`` left after one decode is double encoding; ``:`` covers schemes
# (``file://``) and drive letters (``C:``); ``\`` is Windows' separator (``..\``).
_FORBIDDEN_CHARACTERS = {
    "/": "a '/' (one name cannot hold a folder)",
    "\\": "a backslash",
    ":": "a colon (schemes such as file:// and drive letters are not paths here)",
    "%": "a '%' (percent-encoded text must be encoded only once)",
    ";": "a ';'",
    "#": "a '#'",
    "?": "a '?'",
}
# Unicode categories of invisible or control characters (NUL, newlines, bidi overrides…).
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class UnsafeArtifactPathError(ValueError):
    """An artifact path that is not a relative path of plain names; the message says which part."""


def _shown(text: str) -> str:
    shown = text if len(text) <= 120 else text[:117] + "..."
    return repr(shown)


def check_segment(segment: str, *, path: str | None = None) -> str:
    """Return ``segment`` if it is a plain name usable as one file or folder name, else raise.

    Args:
        segment: one name between slashes.
        path: the whole path it came from, for the message.

    Raises:
        UnsafeArtifactPathError: the name is empty, ``.``/``..``, too long, starts with ``~`` or the
            reserved ``.mw-`` prefix, or holds a forbidden or control character.
    """
    where = f" in artifact path {_shown(path)}" if path is not None else ""
    fix = "Use a relative path of plain names separated by '/', e.g. 'plots/roc.png'."
    if segment == "":
        raise UnsafeArtifactPathError(f"Empty name (two '/' in a row or a leading '/'){where}. {fix}")
    if segment in (".", ".."):
        raise UnsafeArtifactPathError(f"The name {segment!r}{where} is not allowed. {fix}")
    if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
        raise UnsafeArtifactPathError(
            f"The name {_shown(segment)}{where} is longer than {MAX_SEGMENT_BYTES} bytes. Shorten it."
        )
    if segment.startswith("~"):
        raise UnsafeArtifactPathError(
            f"The name {_shown(segment)}{where} starts with '~', which names a home folder. {fix}"
        )
    if segment.startswith(RESERVED_PREFIX):
        raise UnsafeArtifactPathError(
            f"The name {_shown(segment)}{where} starts with {RESERVED_PREFIX!r}, which is reserved for "
            "the server's temporary files. Rename it."
        )
    for character in segment:
        if character in _FORBIDDEN_CHARACTERS:
            raise UnsafeArtifactPathError(
                f"The name {_shown(segment)}{where} contains {_FORBIDDEN_CHARACTERS[character]}. {fix}"
            )
        if unicodedata.category(character) in _FORBIDDEN_CATEGORIES:
            raise UnsafeArtifactPathError(
                f"The name {_shown(segment)}{where} contains the invisible or control character "
                f"U+{ord(character):04X}. {fix}"
            )
    return segment


def split_artifact_path(path: str, *, allow_trailing_slash: bool = True) -> tuple[str, ...]:
    """Split a client's artifact path into validated names.

    Args:
        path: the path as received (decoded once), e.g. ``"1/0a1b.../artifacts/plots/roc.png"``.
        allow_trailing_slash: accept one trailing ``/`` (the client sends ``<run>/artifacts/`` to
            delete a whole run's artifacts).

    Returns:
        The names, in order; never empty.

    Raises:
        UnsafeArtifactPathError: the path is empty, absolute (``/etc``, ``//proc/self/root``),
            too long or too deep, or one of its names fails :func:`check_segment`.
    """
    if not isinstance(path, str) or path == "":
        raise UnsafeArtifactPathError(
            "The artifact path is missing. Give a path like '<experiment_id>/<run_id>/artifacts/<file>'."
        )
    if path.startswith("/"):
        raise UnsafeArtifactPathError(
            f"The artifact path {_shown(path)} is absolute; artifact paths are relative, like "
            "'<experiment_id>/<run_id>/artifacts/<file>'."
        )
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise UnsafeArtifactPathError(
            f"The artifact path {_shown(path)} is longer than {MAX_PATH_BYTES} bytes. Use shorter names."
        )
    body = path[:-1] if allow_trailing_slash and path.endswith("/") else path
    segments = tuple(body.split("/"))
    if len(segments) > MAX_SEGMENTS:
        raise UnsafeArtifactPathError(
            f"The artifact path {_shown(path)} is nested {len(segments)} folders deep; "
            f"the limit is {MAX_SEGMENTS}."
        )
    for segment in segments:
        check_segment(segment, path=path)
    return segments
